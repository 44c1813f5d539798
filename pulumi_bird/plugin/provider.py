"""The ``bird`` provider: each Pulumi request handed to the dynamic provider of its resource, which keeps all the
behaviour; this module only translates names and values, secrets kept secret. The providers are synchronous, so
every call runs on the plugin's thread pool: the gRPC loop keeps serving while creates wait for their channels.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from typing import Any, Callable, TypeVar

from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    InvokeRequest,
    InvokeResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from ..provider.base import LOOKUP_MARKER, RESOURCE_NAME_KEY, refuse_adopting_itself
from .fields import BY_TOKEN, fields
from .package import schema_json
from .settings import apply_config, check_config
from .values import Names, hide

T = TypeVar("T")
R = TypeVar("R", CheckRequest, DiffRequest, CreateRequest, ReadRequest, UpdateRequest, DeleteRequest)


class PluginError(Exception):
    """An operation failed; the message (one paragraph, property names as the user writes them) is what the
    engine shows."""


def _guarded(names: Names, operation: Callable[[], T]) -> T:
    """Run a provider operation; its error comes back as one :class:`PluginError` in the user's names."""
    try:
        return operation()
    except PluginError:
        raise
    except Exception as exc:  # whatever the provider raised, the engine shows its message (no secret it received)
        raise PluginError(hide(names.message(str(exc))) or type(exc).__name__) from exc


def _named(names: Names, values: dict[str, Any], resource_name: str) -> dict[str, Any]:
    """``values`` with the connector's name defaulting to the resource's, as the Python resources register it."""
    if "name" in names.to_key and values.get("name") is None:
        return {**values, "name": resource_name}
    return values


def check(provider: Any, names: Names, request: CheckRequest) -> CheckResponse:
    old_values, _ = names.incoming(request.old_inputs)
    values, secret = names.incoming(request.new_inputs)
    result = provider.check(old_values, _named(names, values, request.name))
    failures = [CheckFailure(names.key(f.property), hide(names.message(f.reason))) for f in result.failures or []]
    return CheckResponse(inputs=names.outgoing(result.inputs or {}, secret), failures=failures)


def _diff_kind(old: Any, new: Any, replaces: bool) -> PropertyDiffKind:
    change = "ADD" if old is None else "DELETE" if new is None else "UPDATE"
    return PropertyDiffKind[f"{change}_REPLACE" if replaces else change]


def completed(provider: Any, names: Names, resource_name: str, olds: dict[str, Any]) -> dict[str, Any]:
    """``olds`` with each input it lacks set to what the provider's check fills in. Outputs carry every input, so
    this only matters for state that holds an import's inputs (:func:`declared_inputs` leaves defaults out): an
    absent input means its default, not a change."""
    declared = [f.name for f in names.fields if f.input]
    missing = [name for name in declared if olds.get(name) is None]
    if not missing:
        return olds
    given = {name: olds[name] for name in declared if olds.get(name) is not None}
    filled = provider.check({}, _named(names, given, resource_name)).inputs or {}
    return {**olds, **{name: filled[name] for name in missing if filled.get(name) is not None}}


def diff(provider: Any, names: Names, request: DiffRequest) -> DiffResponse:
    """The provider's :meth:`~pulumi_bird.provider.base.BirdProvider.plan`, computed once from the declared schema:
    each changed property, whether it replaces, and the detailed diff from the same answer. It fails only to refuse
    adopt_id naming the object it replaces, which a refresh (which runs Diff to show the drift) never meets."""
    values, _ = names.incoming(request.new_inputs)
    old_values = completed(provider, names, request.name, names.incoming(request.old_state)[0])
    refuse_adopting_itself(provider, request.resource_id, old_values, values)
    plan = provider.plan(old_values, values)
    if not plan.changed:
        return DiffResponse(changes=False)
    detailed = {names.key(name): PropertyDiff(_diff_kind(old_values.get(name), values.get(name), name in plan.replaces),
                                              input_diff=True) for name in plan.changed}
    return DiffResponse(changes=True, replaces=[names.key(n) for n in plan.replaces],
                        delete_before_replace=plan.delete_before_replace,
                        diffs=[names.key(n) for n in plan.changed], detailed_diff=detailed)


def create(provider: Any, names: Names, request: CreateRequest) -> CreateResponse:
    values, secret = names.incoming(request.properties)
    # The resource's name, as the Python resources register it, so that a 409 can name a sibling of this stack.
    values[RESOURCE_NAME_KEY] = request.urn.rsplit("::", 1)[-1]
    result = provider.create(values)
    return CreateResponse(resource_id=result.id, properties=names.outgoing(result.outs, secret))


def declared_inputs(provider: Any, names: Names, resource_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """An import's inputs as a program would declare them: without those that the provider's check gives the same
    value anyway (a default, the configured workspace, the resource's own name), so the program that
    ``pulumi import`` writes names no workspace and repeats no default."""
    kept = dict(inputs)
    for name in inputs:
        trial = {k: v for k, v in kept.items() if k != name}
        result = provider.check({}, _named(names, trial, resource_name))
        if not result.failures and (result.inputs or {}).get(name) == inputs[name]:
            kept = trial
    return kept


def read(provider: Any, names: Names, request: ReadRequest) -> ReadResponse:
    """Refresh (old outputs and inputs), ``get`` (registered properties) or import (the id alone: the workspace
    and organization then come from the provider's configuration; a missing id fails, as it must for an import,
    where the engine would otherwise record an empty resource)."""
    values, secret = names.incoming(request.properties or request.inputs)
    importing = not values
    if importing:  # nothing declared, so Bird's object is taken whole, and it must exist
        values = {LOOKUP_MARKER: True}
    result = provider.read(request.resource_id, values)
    if not result.id:
        return ReadResponse(resource_id="")  # gone: the server answers without properties
    found = result.inputs or {}
    if importing:
        found = declared_inputs(provider, names, request.name, found)
    return ReadResponse(resource_id=result.id, properties=names.outgoing(result.outs, secret),
                        inputs=names.outgoing(found, secret))


def update(provider: Any, names: Names, request: UpdateRequest) -> UpdateResponse:
    old_values, _ = names.incoming(request.olds)
    values, secret = names.incoming(request.news)
    result = provider.update(request.resource_id, old_values, values)
    return UpdateResponse(properties=names.outgoing(result.outs or {}, secret))


def delete(provider: Any, names: Names, request: DeleteRequest) -> None:
    provider.delete(request.resource_id, names.incoming(request.properties)[0])


def _on_resource(operation: Callable[[Any, Names, R], T]) -> Any:
    """The provider method that runs ``operation`` on the pool with a new dynamic provider of the request's resource
    type, its error in the user's names (:func:`_guarded`)."""

    async def method(self: BirdProvider, request: R) -> T:
        kind = BY_TOKEN.get(request.type)
        if kind is None:
            raise PluginError(f"the bird provider has no resource type {request.type!r}; it has "
                              f"{', '.join(sorted(BY_TOKEN))}")
        names = Names(fields(kind.token))
        return await self._run(_guarded, names, lambda: operation(kind.new_provider(), names, request))

    return method


class BirdProvider(Provider):
    """The ``bird`` package's provider; ``executor`` runs the synchronous operations."""

    def __init__(self, executor: Executor) -> None:
        super().__init__()
        self._executor = executor

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=await self._run(schema_json))

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        return await self._run(check_config, request.new_inputs)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        await self._run(apply_config, request.args, request.variables)
        # Secrets arrive wrapped and go back marked; the dynamic providers never supported preview of create or
        # update (they would need the outputs), so the engine does not ask for it.
        return ConfigureResponse(accept_secrets=True, supports_preview=False, accept_resources=False,
                                 accept_outputs=False)

    check = _on_resource(check)
    diff = _on_resource(diff)
    create = _on_resource(create)
    read = _on_resource(read)
    update = _on_resource(update)
    delete = _on_resource(delete)

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        from .lookups import invoke, names_of

        return await self._run(_guarded, names_of(request.tok), lambda: invoke(request.tok, request.args))


__all__ = ["BirdProvider", "PluginError"]
