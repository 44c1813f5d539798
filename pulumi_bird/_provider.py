"""What every pulumi-bird provider shares."""

from __future__ import annotations

from typing import Any, Iterable, Optional, TypeVar

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

R = TypeVar("R", bound=Resource)


class BirdProvider(ResourceProvider):
    """Base of the providers. It holds nothing: the object is pickled into every resource's state, so the
    configuration stays in the host's memory (:mod:`pulumi_bird.config`) and a client is built per call."""

    serialize_as_secret_always = False  # nothing secret is held on the object

    def configure(self, req: Any) -> None:
        """Called by the provider host with the stack config, once per process."""
        from . import _host, config

        config.remember_stack_config({name: req.config.get(name) for name, _ in config.ALL_KEYS})
        config.configure_logging()
        _host.lift_host_concurrency()


# Registered by ``get()`` beside the all-empty properties: the engine hands a get's registered properties to
# ``read`` (ReadStep), so this tells a get, which must fail on a missing id, from a refresh, where "gone" is an
# answer. It is never returned as an output.
LOOKUP_MARKER = "__bird_lookup"


def is_lookup(props: Any) -> bool:
    """Whether ``read`` serves a ``get()`` rather than a refresh."""
    return isinstance(props, dict) and props.get(LOOKUP_MARKER) is True


def read_existing(
    cls: type[R],
    provider: ResourceProvider,
    resource_name: str,
    id: pulumi.Input[str],
    properties: Iterable[str],
    opts: Optional[pulumi.ResourceOptions],
    secret_outputs: Iterable[str] = (),
) -> R:
    """A resource of ``cls`` read from Bird by id (the ``get`` of every resource class): every property is
    left to the provider's ``read``, and the stack never deletes it."""
    resource = cls.__new__(cls)
    secrets = list(secret_outputs) or None
    options = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id, additional_secret_outputs=secrets))
    props: dict[str, Any] = {name: None for name in properties}
    props[LOOKUP_MARKER] = True
    Resource.__init__(resource, provider, resource_name, props, options)
    return resource
