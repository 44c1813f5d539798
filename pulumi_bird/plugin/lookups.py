"""``Invoke``: the lookups of :mod:`pulumi_bird.lookups` as the package's functions (``getConnector``,
``listConnectors``, ``getPhoneNumber``), with this provider instance's configuration (the Python forms read the
program's). Each runs the very read its Python form runs (:data:`pulumi_bird.lookups.READS`)."""

from __future__ import annotations

from typing import Any, Mapping

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CheckFailure, InvokeResponse

from .. import lookups
from ..provider import config
from .fields import Field, camel, function_fields
from .package import FUNCTIONS, LIST_RESULT
from .values import Names


def names_of(token: str) -> Names:
    """The arguments of the function ``token`` (messages name them as the user writes them)."""
    return Names(tuple(function_fields(getattr(lookups, FUNCTIONS[token]), {}))) if token in FUNCTIONS else Names(())


def _as_declared(field: Field, value: Any) -> Any:
    """A whole number where text is declared, as its digits: Pulumi YAML (pulumi-language-yaml 1.25) hands a config
    value that looks like a number (``+3197010520000``) to an invoke as a number, even when the config is declared
    ``type: string``; seen under the real CLI (tests/e2e/test_languages.py)."""
    if field.type is str and isinstance(value, (int, float)) and not isinstance(value, bool) and value == int(value):
        return str(int(value))
    return value


def _arguments(token: str, args: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], list[CheckFailure]]:
    names = names_of(token)
    values, _ = names.incoming(args)
    types = {f.name: f for f in names.fields}
    values = {k: _as_declared(types[k], v) if k in types else v for k, v in values.items()}
    failures = [CheckFailure(names.key(k), f"{names.key(k)} is not an argument of this function")
                for k in values if k not in names.to_key]
    failures += [CheckFailure(f.key, f"{f.key} is required") for f in names.fields
                 if not f.optional and values.get(f.name) in (None, "")]
    return values, failures


def _result(found: Any) -> dict[str, Any]:
    """A lookup's answer with the schema's (camelCase) keys; nested values (template arguments) as Bird has them."""
    if isinstance(found, list):
        return {LIST_RESULT: [_result(item) for item in found]}
    return {camel(k): v for k, v in found.to_dict().items() if v is not None}


def invoke(token: str, args: Mapping[str, PropertyValue]) -> InvokeResponse:
    """Run the lookup ``token`` names; bad arguments come back as failures, naming the argument."""
    name = FUNCTIONS.get(token)
    if name is None:
        raise ValueError(f"the bird provider has no function {token!r}; it has {', '.join(sorted(FUNCTIONS))}")
    values, failures = _arguments(token, args)
    settings = config.current_settings()
    workspace = values.pop("workspace_id", None) or settings.workspace_id
    if not workspace and not failures:
        failures.append(CheckFailure("workspaceId", "workspaceId is required: pass it, or configure the provider's "
                                                    "workspaceId (bird:workspaceId / BIRD_WORKSPACE_ID)"))
    if failures or not workspace:
        return InvokeResponse(failures=failures)
    arguments = {k: v for k, v in values.items() if v is not None}
    with config.make_client(settings) as client:
        found = lookups.READS[name](client, workspace, **arguments)
    return InvokeResponse(return_value=Names(()).outgoing(_result(found)))


__all__ = ["invoke", "names_of"]
