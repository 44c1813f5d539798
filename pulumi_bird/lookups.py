"""Data-source style lookups (Terraform's ``data`` blocks): read connectors that a stack does not manage, and find
a phone number's id; docs/resources.md says when each form calls Bird."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional, TypeVar, cast

import pulumi

T = TypeVar("T")


@dataclass(frozen=True)
class _Info:
    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for ``pulumi.export``)."""
        return asdict(self)


@dataclass(frozen=True)
class ConnectorInfo(_Info):
    """A connector as a lookup returns it (the same names as the resources' outputs)."""

    connector_id: str
    name: str
    connector_template_ref: Optional[str]
    channel_id: Optional[str]
    platform: Optional[str]
    channel_status: Optional[str]
    channel_stage: Optional[str]
    number_id: Optional[str]
    phone_number: Optional[str]
    region: Optional[str]
    created_at: Optional[str]
    arguments: Optional[dict[str, Any]]


@dataclass(frozen=True)
class PhoneNumberInfo(_Info):
    """A phone number of the workspace as :func:`get_phone_number` returns it."""

    id: str = field(metadata={"doc": "The number's Bird id: what ``phone_number_id`` of a channel takes."})
    number: str = field(metadata={"doc": "E.164 text, e.g. ``+3197010520000``."})
    country: Optional[str] = field(metadata={"doc": "ISO 3166-1 alpha-2 country code, e.g. ``NL``."})
    type: Optional[str] = field(metadata={"doc": "``mobile``, ``local``, ``toll-free``, ... as Bird reports it."})
    capabilities: list[str] = field(metadata={"doc": "What it can carry: ``sms``, ``voice``, ``mms``, ``whatsapp``."})


def _info(connector: Any, status: Any) -> ConnectorInfo:
    from .api.connectors import connector_outputs

    outs = connector_outputs(connector, status)
    return ConnectorInfo(name=connector.name, arguments=connector.arguments, **outs)


# --- the reads, given a client and a workspace (the Python forms below and the plugin's Invoke share them) --------


def read_connector(client: Any, workspace: str, connector_id: str, with_status: bool = True) -> ConnectorInfo:
    """:func:`get_connector` with ``client``, in ``workspace``."""
    from .api.reads import find_connector

    # lookups made together (get_connector_output over many ids) share list pages
    connector = find_connector(client, workspace, connector_id) or client.get_connector(workspace, connector_id)
    status = client.get_connector_status(workspace, connector_id) if with_status else None
    return _info(connector, status)


def read_connectors(client: Any, workspace: str, template_ref: Optional[str] = None) -> list[ConnectorInfo]:
    """:func:`list_connectors` with ``client``, in ``workspace``."""
    return [_info(c, None) for c in client.list_connectors(workspace, template_ref)]


def read_phone_number(client: Any, workspace: str, number: str) -> PhoneNumberInfo:
    """:func:`get_phone_number` with ``client``, in ``workspace``."""
    from .api.errors import NotFoundError
    from .api.numbers import find_phone_number

    found = find_phone_number(client, workspace, number)
    if found is None:
        raise NotFoundError(f"workspace {workspace} has no phone number {number}: buy it or move it there in Bird "
                            "(Numbers), or check bird:workspaceId")
    return PhoneNumberInfo(found.id, found.number, found.country, found.type, list(found.capabilities))


# Each lookup -> its read (the arguments but ``workspace_id``, by name).
READS: dict[str, Callable[..., Any]] = {
    "get_connector": read_connector,
    "list_connectors": read_connectors,
    "get_phone_number": read_phone_number,
}


# --- the lookups, in the Pulumi program ---------------------------------------------------------------------------


def _read(read: Callable[..., T], workspace_id: Optional[str], *arguments: Any) -> T:
    """``read`` in the workspace, with the program's settings judged offline first as a resource's check judges
    them (the same errors and "did you mean" hints, unknown ``bird:*`` keys as a warning), before any request."""
    from .api.values import is_uuid
    from .provider import config
    from .provider.base import program_config, warn_unknown_program_keys

    warn_unknown_program_keys()
    values, names = program_config()
    problems = config.config_problems(values, config.unknown_bird_keys(names))
    if problems:
        raise config.ConfigError("; ".join(message for _, message in problems))
    settings = config.current_settings(values)
    workspace = workspace_id or settings.workspace_id
    if not workspace:
        raise config.ConfigError("no workspace: pass workspace_id, or set bird:workspaceId / BIRD_WORKSPACE_ID")
    if not is_uuid(workspace):
        raise config.ConfigError(f"workspace_id must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, got "
                                 f"{workspace!r:.60}: pass the id Bird shows for the workspace")
    with config.make_client(settings) as client:
        return read(client, workspace, *arguments)


def get_connector(connector_id: str, workspace_id: Optional[str] = None, with_status: bool = True) -> ConnectorInfo:
    """Read one connector by id (and its channel's readiness unless ``with_status`` is False).

    Raises :class:`~pulumi_bird.api.errors.NotFoundError` when Bird does not know it.
    """
    return _read(read_connector, workspace_id, connector_id, with_status)


def list_connectors(template_ref: Optional[str] = None, workspace_id: Optional[str] = None) -> list[ConnectorInfo]:
    """Every connector of the workspace, optionally of one template (e.g. ``sms-messagebird:1``), across pages.

    Readiness fields are left empty (one status call per connector would be slow); use :func:`get_connector`.
    """
    return _read(read_connectors, workspace_id, template_ref)


def get_phone_number(number: str, workspace_id: Optional[str] = None) -> PhoneNumberInfo:
    """The workspace's phone number whose E.164 text is ``number`` (``+3197010520000``; spaces and dashes are
    ignored), found with Bird's Numbers API ("List Numbers in Workspace", every page).

    Raises :class:`ValueError` for text that is not a phone number and
    :class:`~pulumi_bird.api.errors.NotFoundError` when the workspace has no such number.
    """
    return _read(read_phone_number, workspace_id, number)


def _later(lookup: Callable[..., T], *inputs: Any) -> pulumi.Output[T]:
    """``lookup`` over Inputs, once they are known; during a preview an Output whose value is unknown (as a
    not-yet-created resource's outputs are), so that previews make no call."""
    if pulumi.runtime.is_dry_run():
        return pulumi.Output.from_input(cast(Any, pulumi.output.UNKNOWN))  # an Output holding UNKNOWN is never known
    return pulumi.Output.all(*inputs).apply(lambda values: lookup(*values))


def get_connector_output(
    connector_id: pulumi.Input[str], workspace_id: Optional[pulumi.Input[str]] = None
) -> pulumi.Output[ConnectorInfo]:
    """:func:`get_connector` over Inputs; unknown during preview."""
    return _later(get_connector, connector_id, workspace_id)


def list_connectors_output(
    template_ref: Optional[pulumi.Input[str]] = None, workspace_id: Optional[pulumi.Input[str]] = None
) -> pulumi.Output[list[ConnectorInfo]]:
    """:func:`list_connectors` over Inputs; unknown during preview."""
    return _later(list_connectors, template_ref, workspace_id)


def get_phone_number_output(
    number: pulumi.Input[str], workspace_id: Optional[pulumi.Input[str]] = None
) -> pulumi.Output[PhoneNumberInfo]:
    """:func:`get_phone_number` over Inputs; unknown during preview."""
    return _later(get_phone_number, number, workspace_id)
