"""The provider and resource base of every connector-backed resource (Connector, SmsChannel, VoiceChannel), and
the properties they share: how a connector is found, created (and waited for until its channel is active, so that
``channel_id`` is known), deleted, and what it outputs; the rest of the lifecycle is :class:`.base.BirdProvider`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Mapping, Optional, Sequence

import pulumi

from ..api.values import CHANNEL_MESSAGE_TYPES, SMS_TEMPLATE, VOICE_TEMPLATE, is_uuid
from .base import RESOURCE_NAME_KEY, BirdProvider, BirdResource
from .checks import Checker, is_unknown
from .schema import Property

# Ten minutes: Bird documents no provisioning time; SMS and voice channels are usually active in seconds, and
# a channel that takes longer than this is stuck (see docs/troubleshooting.md).
DEFAULT_READY_TIMEOUT = 600.0

# The phone number a channel is installed on (SmsChannel, VoiceChannel); read back from the connector model's
# phone_number_id, which knows where Bird shows it.
PhoneNumberId = Annotated[pulumi.Input[str], Property(
    "the Bird id (UUID) of the phone number to install the channel on.", bird="arguments.phoneNumberId",
    read_from=("phoneNumberId",), example="3fa85f64-5717-4562-b3fc-2c963f66afa6")]
# The inputs every connector-backed resource has, after its own.
ConnectorName = Annotated[Optional[pulumi.Input[str]], Property(
    "the connector's name in Bird; defaults to the resource name.", bird="name", filled=True)]
ReadyTimeout = Annotated[Optional[pulumi.Input[float]], Property(
    "seconds to wait for the channel to become active (default 600); changing it changes nothing on Bird.",
    change="update", default=DEFAULT_READY_TIMEOUT)]
AdoptConnectorId = Annotated[Optional[pulumi.Input[str]], Property(
    "the id of an existing connector to take over instead of creating one (no POST); it must match the declared "
    "inputs. Changing or removing it later changes nothing.", change="none")]


class ConnectorOutputs:
    """The outputs Bird computes for every connector-backed resource (the resource classes inherit them)."""

    connector_id: Annotated[pulumi.Output[str], Property("Bird's id of the connector (the same as the resource id).")]
    channel_id: Annotated[pulumi.Output[str], Property(
        "the id of the channel the connector created; known once the channel is active.")]
    platform: Annotated[pulumi.Output[Optional[str]], Property("the channel's platform, e.g. ``sms`` or ``voice``.")]
    channel_status: Annotated[pulumi.Output[Optional[str]], Property(
        "readiness status: ok, pending, error or unknown.")]
    channel_stage: Annotated[pulumi.Output[Optional[str]], Property(
        "lifecycle stage: active, inactive, provisioning, deprovisioning or deprovisioned.")]
    number_id: Annotated[pulumi.Output[Optional[str]], Property(
        "the phone number's id, when the connector is installed on one.")]
    phone_number: Annotated[pulumi.Output[Optional[str]], Property(
        "the phone number in E.164 form, when Bird reports it.")]
    region: Annotated[pulumi.Output[Optional[str]], Property("the region Bird installed the connector in.")]
    created_at: Annotated[pulumi.Output[str], Property("when Bird created the connector (ISO 8601, UTC).")]


class ChannelOutputs(ConnectorOutputs):
    """The outputs of a connector of a fixed template (SmsChannel, VoiceChannel): also its template, which
    Connector has as an input."""

    connector_template_ref: Annotated[pulumi.Output[str], Property(
        "the template the connector was installed from, e.g. ``sms-messagebird:1``.")]


# Per template, the rules for its arguments: argument -> (required, kind). Only the two templates whose
# arguments Bird documents are checked; other templates' arguments go to Bird as written.
TEMPLATE_ARGUMENTS: dict[str, dict[str, tuple[bool, Any]]] = {
    SMS_TEMPLATE: {
        "phoneNumberId": (True, "uuid"),
        "channelMessageType": (True, CHANNEL_MESSAGE_TYPES),
        "useCaseId": (False, "uuid"),
    },
    VOICE_TEMPLATE: {"phoneNumberId": (True, "uuid")},
}


def phone_number_hint(value: str) -> str:
    """For a phone number typed where its id belongs: the lookup that finds the id ("" for anything else)."""
    from ..api.numbers import normalize_e164

    number = normalize_e164(value) or normalize_e164("+" + value.strip())
    if number is None:
        return ""
    return (f": that looks like the phone number {number}, not its id; find the id with "
            f"get_phone_number(\"{number}\").id (pulumi_bird.get_phone_number), or give the id Bird shows")


def check_template_arguments(
    checker: Checker, template: Optional[str], arguments: Mapping[str, Any], names: Mapping[str, str]
) -> None:
    """Check a known template's arguments. ``names`` maps an argument to the property the user wrote (arguments
    left out of it are judged elsewhere)."""
    for argument, (required, kind) in TEMPLATE_ARGUMENTS.get(template or "", {}).items():
        prop, value = names.get(argument), arguments.get(argument)
        if prop is None or is_unknown(value):
            continue
        if value is None:
            if required:
                checker.fail(prop, f"is required by the {template} template")
        elif not isinstance(value, str):
            checker.fail(prop, f"must be a string, got a {type(value).__name__}")
        elif kind == "uuid" and not is_uuid(value):
            checker.fail(prop, f"must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, got {value!r:.60}"
                         + (phone_number_hint(value) if argument == "phoneNumberId" else ""))
        elif isinstance(kind, tuple) and value not in kind:
            checker.fail(prop, f"must be one of {', '.join(kind)}; got {value!r:.60}")


# --- provider ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    """A connector as Bird returns it, with its channel's status when it was read."""

    connector: Any
    status: Any = None


class ConnectorBackedProvider(BirdProvider):
    """Provider for connector-backed resources; a subclass declares its ``schema`` (and may fix a template). Bird
    has no update endpoint for connectors, so every change that reaches Bird replaces the connector, and the old
    one is deleted first (a phone number carries one connector of a template; a second is a 409)."""

    what: ClassVar[str] = "connector"
    delete_before_replace: ClassVar[bool] = True
    # The template a subclass is fixed to (None: any, from connector_template_ref).
    template_ref: ClassVar[Optional[str]] = None

    def validate(self, checker: Checker) -> None:
        checker.string("name", required=True, max_length=255)
        checker.seconds("ready_timeout")

    def echo_of(self, found: Installed) -> Any:
        return found.connector

    def find(self, client: Any, scope: Sequence[str], id_: str) -> Optional[Installed]:
        from ..api.reads import find_connector

        connector = find_connector(client, scope[0], id_)
        return Installed(connector) if connector is not None else None

    def find_for_read(self, client: Any, scope: Sequence[str], id_: str) -> Optional[Installed]:
        from ..api.reads import read_connector

        connector, status = read_connector(client, scope[0], id_)  # from list pages shared by reads in flight
        if connector is None or (status is not None and status.channel is not None and status.channel.going_away):
            return None  # gone, or going: Bird deprovisions a deleted connector before its GET answers 404
        return Installed(connector, status)

    def post(self, client: Any, scope: Sequence[str], inputs: dict[str, Any], resource: Optional[str]) -> Installed:
        from ..api.connectors import create_connector_resolving, roll_back
        from ..api.models import CreateConnectorRequest

        (workspace_id,) = scope
        template = {"connectorTemplateRef": self.template_ref} if self.template_ref else {}
        request = CreateConnectorRequest.model_validate({**self.schema.request_body(inputs), **template})
        connector = create_connector_resolving(
            client, workspace_id, request, guard_existing=self.guard_existing,
            allow_identical=bool(inputs.get("allow_identical")), resource=resource,
            release_timeout=float(inputs["ready_timeout"]),  # a number this process released: Bird may lag
        )
        try:
            return self.ready(client, scope, Installed(connector), inputs)
        except Exception as cause:  # whatever stopped the wait, the connector must not be left behind
            raise roll_back(client, workspace_id, connector.id, cause) from None

    def ready(self, client: Any, scope: Sequence[str], found: Installed, inputs: Mapping[str, Any]) -> Installed:
        """Wait until the channel is active (a create's too), its status checked to be this connector's."""
        from ..api.connectors import status_of, wait_connector_ready

        status = wait_connector_ready(client, scope[0], found.connector.id, float(inputs["ready_timeout"]))
        return Installed(found.connector, status_of(client, found.connector, status))

    def remove(self, client: Any, scope: Sequence[str], id_: str) -> None:
        from ..api.connectors import delete_connector_if_present

        delete_connector_if_present(client, scope[0], id_)

    def deleted(self, scope: Sequence[str], id_: str, props: Mapping[str, Any]) -> None:
        from ..api.connectors import note_number_released

        template = props.get("connector_template_ref") or self.template_ref
        number = props.get("phone_number_id") or (props.get("arguments") or {}).get("phoneNumberId") or props.get("number_id")
        note_number_released(scope[0], template, number, id_)

    def check_found(self, client: Any, id_: str, found: Installed, adopting: bool = False) -> None:
        theirs = found.connector.connector_template_ref
        if self.template_ref and theirs not in (None, self.template_ref):
            raise ValueError(client.redact(f"{f'adopt_id {id_!r}: ' if adopting else ''}connector {id_} is a {theirs} "
                                           f"connector, not {self.template_ref}: use the resource class of its "
                                           "template (or Connector)"))

    def outputs(self, found: Installed, inputs: Mapping[str, Any]) -> dict[str, Any]:
        from ..api.connectors import connector_outputs

        template = self.template_ref or inputs.get("connector_template_ref")
        return connector_outputs(found.connector, found.status, template)


class PhoneNumberChannelProvider(ConnectorBackedProvider):
    """A connector of a fixed template whose arguments are inputs of their own (SmsChannel, VoiceChannel).
    A create posts without looking for a leftover first: Bird's 409 guards the number."""

    guard_existing: ClassVar[bool] = False

    def post(self, client: Any, scope: Sequence[str], inputs: dict[str, Any], resource: Optional[str]) -> Installed:
        from ..api.errors import InvalidRequestError
        from ..api.numbers import explain_missing_capability

        try:
            return super().post(client, scope, inputs, resource)
        except InvalidRequestError as refused:  # a 422 on a number without the capability: say which it has
            platform = (self.template_ref or "").split("-", 1)[0]
            raise explain_missing_capability(client, scope[0], inputs.get("phone_number_id") or "", platform,
                                             refused) from None

    def validate(self, checker: Checker) -> None:
        super().validate(checker)
        names = {arg: prop for arg, prop in self.schema.arguments.items() if not self.schema[prop].values}
        arguments = {arg: checker.news.get(prop) for arg, prop in names.items()}
        check_template_arguments(checker, self.template_ref, arguments, names)


# --- resource base -----------------------------------------------------------------------------------------


class ConnectorResource(BirdResource, ConnectorOutputs):
    """The base of every connector-backed resource: Bird's outputs (:class:`ConnectorOutputs`) and, for pyright and
    mypy, the ``Output`` of each input every one of them has (a test checks these against the declared inputs).
    The resource id is Bird's connector id."""

    name: pulumi.Output[str]
    ready_timeout: pulumi.Output[float]

    def _fill(self, props: dict[str, Any], resource_name: str) -> None:
        if props.get("name") is None:
            props["name"] = resource_name
        props[RESOURCE_NAME_KEY] = resource_name
