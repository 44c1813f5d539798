"""``Invoke``: the lookups of :mod:`pulumi_bird.lookups` as the package's functions ``getConnector`` and
``listConnectors``, with this provider instance's configuration (the Python forms read the program's)."""

from __future__ import annotations

from typing import Any, Mapping

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CheckFailure, InvokeResponse

from .. import lookups
from ..provider import config
from .fields import Field, camel, function_fields
from .package import FUNCTIONS
from .values import Names


def _info(connector: Any, status: Any) -> dict[str, Any]:
    """A connector as a lookup returns it, with the schema's (camelCase) keys; template arguments as Bird has them."""
    return {camel(k): v for k, v in lookups._info(connector, status).to_dict().items() if v is not None}


def _arguments(fn: Any, args: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], list[CheckFailure]]:
    declared: list[Field] = function_fields(fn, {})
    names = Names(tuple(declared))
    values, _ = names.incoming(args)
    failures = [CheckFailure(names.key(k), f"{names.key(k)} is not an argument of this function")
                for k in values if k not in names.to_key]
    failures += [CheckFailure(f.key, f"{f.key} is required") for f in declared
                 if not f.optional and values.get(f.name) in (None, "")]
    return values, failures


def invoke(token: str, args: Mapping[str, PropertyValue]) -> InvokeResponse:
    """Run the lookup ``token`` names; bad arguments come back as failures, naming the argument."""
    name = FUNCTIONS.get(token)
    if name is None:
        raise ValueError(f"the bird provider has no function {token!r}; it has {', '.join(sorted(FUNCTIONS))}")
    values, failures = _arguments(getattr(lookups, name), args)
    settings = config.current_settings()
    workspace = values.get("workspace_id") or settings.workspace_id
    if not workspace and not failures:
        failures.append(CheckFailure("workspaceId", "workspaceId is required: pass it, or configure the provider's "
                                                    "workspaceId (bird:workspaceId / BIRD_WORKSPACE_ID)"))
    if failures or not workspace:
        return InvokeResponse(failures=failures)
    with config.make_client(settings) as client:
        if name == "get_connector":
            connector = client.get_connector(workspace, values["connector_id"])
            with_status = values.get("with_status") is not False
            status = client.get_connector_status(workspace, connector.id) if with_status else None
            result: dict[str, Any] = _info(connector, status)
        else:
            result = {"connectors": [_info(c, None) for c in client.list_connectors(workspace, values.get("template_ref"))]}
    return InvokeResponse(return_value=Names(()).outgoing(result))


__all__ = ["invoke"]
