"""What every pulumi-bird resource provider shares: the base provider and ``get()``, configuration and making
a client (``config``), offline checks (``checks``), the declared property schemas (``schema``), the
connector-backed provider (``connectors``) and the host's concurrency (``host``). It builds on
:mod:`pulumi_bird.api`; nothing in ``api`` imports from here.
"""
