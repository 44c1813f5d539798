"""What every pulumi-bird provider shares."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import ResourceProvider


class BirdProvider(ResourceProvider):
    """Base of the providers. It holds nothing: the object is pickled into every resource's state, so the
    configuration stays in the host's memory (:mod:`pulumi_bird.config`) and a client is built per call."""

    serialize_as_secret_always = False  # nothing secret is held on the object

    def configure(self, req: Any) -> None:
        """Called by the provider host with the stack config, once per process."""
        from . import _host, config

        config.remember_stack_config({name: req.config.get(name) for name, _ in config.ALL_KEYS})
        _host.lift_host_concurrency()
