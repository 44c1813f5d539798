"""Bird's HTTP API as a plain Python client: nothing here imports pulumi.

``client`` (BirdClient: requests, retries, pacing), ``errors`` (the one exception tree), ``models`` (wire
bodies), ``values`` (ids and URLs), ``retry`` and ``pacing`` (pure retry decisions, the per-workspace GET
budget), ``create`` (a create that leaves exactly one object), ``connectors`` and ``webhooks`` (finders, status,
waiters), ``readiness`` (the per-workspace poll scheduler), ``reads`` (reads by id answered from shared list
pages), ``pool`` (the process's keep-alive session per API URL, pacing POSTs) and ``signatures`` (verifying
Bird's deliveries).
Import from the submodules; this package itself loads nothing.
"""
