"""What every pulumi-bird provider shares: the base provider, ``get()``, and the rules every resource applies to
its scope (workspace, organization) and to ``adopt_id``."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, TypeVar

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from ..api.values import is_uuid
from . import config, workers
from .checks import Checker
from .schema import Schema

R = TypeVar("R", bound=Resource)


class BirdProvider(ResourceProvider):
    """Base of the providers. It holds nothing: the object is pickled into every resource's state, so the
    configuration stays in the host's memory (:mod:`pulumi_bird.provider.config`) and a client is built per call."""

    serialize_as_secret_always = False  # nothing secret is held on the object

    def configure(self, req: Any) -> None:
        """Called by the provider host with the stack config, once per process."""
        config.remember_stack_config({name: req.config.get(name) for name, _ in config.ALL_KEYS})
        config.configure_logging()
        workers.lift_host_concurrency()


# Registered by ``get()`` beside the all-empty properties: the engine hands a get's registered properties to
# ``read`` (ReadStep), so this tells a get, which must fail on a missing id, from a refresh, where "gone" is an
# answer. It is never returned as an output.
LOOKUP_MARKER = "__bird_lookup"


def is_lookup(props: Any) -> bool:
    """Whether ``read`` serves a ``get()`` rather than a refresh."""
    return isinstance(props, dict) and props.get(LOOKUP_MARKER) is True


def registration(
    schema: Schema, values: Mapping[str, Any], computed: Iterable[str], opts: Optional[pulumi.ResourceOptions]
) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """What a resource registers: the schema's inputs out of ``values`` (its ``__init__``'s locals) beside its
    computed outputs, the secret inputs wrapped, and options that keep those secret in the outputs too."""
    props: dict[str, Any] = {k: None for k in computed}
    props.update(schema.collect(values))
    for key in schema.secrets:
        if props.get(key) is not None:
            props[key] = pulumi.Output.secret(props[key])
    secrets = pulumi.ResourceOptions(additional_secret_outputs=list(schema.secrets)) if schema.secrets else None
    return props, pulumi.ResourceOptions.merge(opts, secrets)


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


def default_from_config(checker: Checker, inputs: dict[str, Any], prop: str, key: tuple[str, str]) -> None:
    """Fill ``prop`` from stack config or the environment (``key``) when the user left it out; it must be a UUID."""
    if inputs.get(prop) is None:
        inputs[prop] = config.current_settings_value(key)
        if inputs[prop] is None:
            checker.fail(prop, f"is required: set {prop} on the resource, {key[0]} in stack config, or {key[1]}")
            return
        if not is_uuid(inputs[prop]):
            checker.fail(prop, f"(from {key[0]}) must be a UUID, got {inputs[prop]!r:.60}")
            return
    checker.uuid(prop)


def refuse_adopting_the_replaced(id_: str, news: Mapping[str, Any], replaces: list[str], what: str) -> None:
    """A replacement while ``adopt_id`` still names the object being replaced would adopt (or find deleted) the
    very object it replaces: stop, as the engine stops a leftover ``import_``."""
    if replaces and news.get("adopt_id") == id_:
        raise ValueError(
            f"{what} {id_} must be replaced (changed: {', '.join(replaces)}), but adopt_id still names it: "
            f"remove adopt_id from the program (it is only needed for the first deployment), then run again"
        )
