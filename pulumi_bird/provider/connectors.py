"""The provider and resource base shared by every connector-backed resource (Connector, SmsChannel,
VoiceChannel). Each of those declares its :class:`~pulumi_bird.provider.schema.Schema`; everything here is
derived from it.

Bird has no update endpoint for connectors, so every change that reaches Bird replaces the connector, and the
old one is deleted first (a phone number carries one connector of a template; a second is a 409). Create waits
until the channel is active so that ``channel_id`` is known when it returns.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Optional, TypeVar

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from ..api.values import CHANNEL_MESSAGE_TYPES, SMS_TEMPLATE, VOICE_TEMPLATE, is_uuid
from . import config
from .base import (
    RESOURCE_NAME_KEY,
    BirdProvider,
    default_from_config,
    is_lookup,
    note_checked,
    note_refreshed,
    read_existing,
    refuse_adopting_the_replaced,
    registration,
    stored_key_explained,
)
from .checks import Checker, is_unknown
from .schema import Property, Schema

# Ten minutes: Bird documents no provisioning time; SMS and voice channels are usually active in seconds, and
# a channel that takes longer than this is stuck (see the README's troubleshooting).
DEFAULT_READY_TIMEOUT = 600.0

# The phone number a channel is installed on (SmsChannel, VoiceChannel).
PHONE_NUMBER_ID = Property("phone_number_id", "the Bird id (UUID) of the phone number to install the channel on.",
                           bird="arguments.phoneNumberId")
# The properties every connector-backed resource has, after its own.
NAME = Property("name", "the connector's name in Bird; defaults to the resource name.", bird="name")
WORKSPACE_ID = Property("workspace_id", "the Bird workspace (UUID); defaults to ``bird:workspaceId`` / "
                        "``BIRD_WORKSPACE_ID``.")
READY_TIMEOUT = Property("ready_timeout", "seconds to wait for the channel to become active (default 600); "
                         "changing it changes nothing on Bird.", change="update")
ADOPT_ID = Property("adopt_id", "the id of an existing connector to take over instead of creating one (no POST); "
                    "it must match the declared inputs. Changing or removing it later changes nothing.", change="none")

# Outputs Bird computes, on every connector-backed resource.
COMPUTED_OUTPUTS = (
    "connector_id",
    "channel_id",
    "platform",
    "channel_status",
    "channel_stage",
    "number_id",
    "phone_number",
    "region",
    "connector_template_ref",
    "created_at",
)

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


def check_template_arguments(
    checker: Checker, template: Optional[str], arguments: Mapping[str, Any], names: Mapping[str, str]
) -> None:
    """Check a known template's arguments. ``names`` maps an argument to the property the user wrote."""
    for argument, (required, kind) in TEMPLATE_ARGUMENTS.get(template or "", {}).items():
        prop = names[argument]
        value = arguments.get(argument)
        if value is None:
            if required:
                checker.fail(prop, f"is required by the {template} template")
            continue
        if is_unknown(value):
            continue
        if not isinstance(value, str):
            checker.fail(prop, f"must be a string, got a {type(value).__name__}")
        elif kind == "uuid" and not is_uuid(value):
            checker.fail(prop, f"must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6, got {value!r:.60}")
        elif isinstance(kind, tuple) and value not in kind:
            checker.fail(prop, f"must be one of {', '.join(kind)}; got {value!r:.60}")


def merge_declared(declared: Any, reported: Optional[Mapping[str, Any]]) -> Any:
    """Arguments after a refresh: only the keys the program declared, with Bird's value where Bird echoes the
    key (a change made in the dashboard shows) and the declared one where it does not. Keys Bird adds are
    ignored, so they never turn into a replacement."""
    if not isinstance(declared, dict) or reported is None:
        return declared
    return {key: reported.get(key, value) for key, value in declared.items()}


def _differs(old: Any, new: Any) -> bool:
    return is_unknown(new) or old != new


# --- provider ----------------------------------------------------------------------------------------------


class ConnectorBackedProvider(BirdProvider):
    """Provider for connector-backed resources; a subclass declares its ``schema`` (and may fix a template)."""

    schema: ClassVar[Schema]
    # The inputs of the resource, as the user writes them (from the schema).
    input_names: ClassVar[tuple[str, ...]] = ()
    # The template a subclass is fixed to (None: any, from connector_template_ref).
    template_ref: ClassVar[Optional[str]] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "schema" in cls.__dict__:  # a resource's provider, not an intermediate base
            cls.input_names = cls.schema.names

    def validate(self, checker: Checker) -> None:
        """Checks of the subclass's own inputs."""

    def reported_arguments(self, connector: Any) -> dict[str, Any]:
        """The template arguments Bird reports, by input name (for inputs that are template arguments); one Bird
        does not echo is absent, but the phone number is then taken from the connector's number."""
        reported = connector.arguments or {}
        found = {prop: reported[arg] for arg, prop in self.schema.arguments.items() if arg in reported}
        number_prop = self.schema.arguments.get("phoneNumberId")
        if number_prop and number_prop not in found and connector.number is not None and connector.number.number_id:
            found[number_prop] = connector.number.number_id
        return found

    def inputs_from_bird(self, connector: Any, props: Mapping[str, Any], *, lookup: bool = False) -> dict[str, Any]:
        """Inputs as Bird reports them. What Bird echoes wins (a change in the dashboard shows); what it does
        not echo (secrets, flags, unechoed arguments) keeps its value from state. ``lookup``: a ``get()``, which
        declares nothing, so Bird's arguments are taken whole."""
        inputs = {p.name: props.get(p.name) for p in self.schema if p.bird}
        inputs.update(self.reported_arguments(connector))
        inputs["name"] = connector.name
        if "connector_template_ref" in inputs:
            inputs["connector_template_ref"] = connector.connector_template_ref or props.get("connector_template_ref")
        if "arguments" in inputs:
            whole = connector.arguments
            inputs["arguments"] = whole if lookup else merge_declared(props.get("arguments"), whole)
        return inputs

    def adoption_differences(self, connector: Any, inputs: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        """(property, declared, Bird's) for every echoed property where the program and Bird disagree."""
        found = [("name", inputs.get("name"), connector.name)] if connector.name != inputs.get("name") else []
        for prop, theirs in self.reported_arguments(connector).items():
            if theirs != inputs.get(prop):
                found.append((prop, inputs.get(prop), theirs))
        reported = connector.arguments or {}
        if "arguments" in self.schema.names:
            for key, value in (inputs.get("arguments") or {}).items():
                if key in reported and reported[key] != value:
                    found.append((f"arguments.{key}", value, reported[key]))
        return found

    def request(self, inputs: Mapping[str, Any]) -> Any:
        """Bird's create request for these inputs."""
        from ..api.models import CreateConnectorRequest

        body = self.schema.request_body(inputs)
        if self.template_ref:
            body["connectorTemplateRef"] = self.template_ref
        return CreateConnectorRequest.model_validate(body)

    # -- lifecycle --

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate offline; never raises, never calls Bird. Fills in workspace_id and ready_timeout."""
        note_checked(news)
        inputs = dict(news) if isinstance(news, dict) else {}
        checker = Checker(inputs, self.schema.names)
        try:
            self.check_config(checker)
            checker.string("name", required=True, max_length=255)
            checker.seconds("ready_timeout")
            checker.uuid("adopt_id")
            self.validate(checker)
            default_from_config(checker, inputs, "workspace_id", config.WORKSPACE_ID)
            if inputs.get("ready_timeout") is None:
                inputs["ready_timeout"] = DEFAULT_READY_TIMEOUT
        except Exception as exc:  # check must answer with failures, whatever the input
            checker.failures.append(CheckFailure("", f"could not validate the inputs ({type(exc).__name__})"))
        return CheckResult(inputs, checker.failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        schema = self.schema
        changed = [k for k in schema.names if k not in schema.create_only and _differs(olds.get(k), news.get(k))]
        replaces = [k for k in changed if k in schema.replacing]
        if not changed:
            return DiffResult(changes=False)
        refuse_adopting_the_replaced(id_, olds, news, replaces, "connector", schema.secrets)
        return DiffResult(changes=True, replaces=replaces, delete_before_replace=True if replaces else None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        from ..api.connectors import connector_outputs, create_connector_resolving, roll_back, wait_connector_ready

        inputs = self._inputs(props)
        workspace_id = inputs["workspace_id"]
        request = self.request(inputs)
        with config.make_client() as client:
            if inputs.get("adopt_id"):
                return self._adopt(client, workspace_id, inputs, request)
            connector = create_connector_resolving(
                client,
                workspace_id,
                request,
                guard_existing=self.template_ref is None,  # phone number channels: Bird's 409 guards the number
                allow_identical=bool(inputs.get("allow_identical")),
                resource=props.get(RESOURCE_NAME_KEY),
                release_timeout=float(inputs["ready_timeout"]),  # a number this process released: Bird may lag
            )
            try:
                status = wait_connector_ready(client, workspace_id, connector.id, float(inputs["ready_timeout"]))
            except Exception as cause:  # whatever stopped the wait, the connector must not be left behind
                raise roll_back(client, workspace_id, connector.id, cause) from None
        return CreateResult(connector.id, {**inputs, **connector_outputs(connector, status, request.connector_template_ref)})

    def _adopt(self, client: Any, workspace_id: str, inputs: dict[str, Any], request: Any) -> CreateResult:
        """Take over the connector ``adopt_id`` names instead of creating one: no POST, nothing written to Bird
        (connectors cannot be updated, so any difference from the program fails)."""
        from ..api.connectors import connector_outputs, wait_connector_ready
        from ..api.create import remember_owned
        from ..api.reads import find_connector

        adopt_id = inputs["adopt_id"]
        connector = find_connector(client, workspace_id, adopt_id)
        if connector is None:
            raise ValueError(f"adopt_id {adopt_id!r}: there is no connector with this id in workspace {workspace_id}")
        template = request.connector_template_ref
        if connector.connector_template_ref not in (None, template):
            raise ValueError(
                f"adopt_id {adopt_id!r}: connector {adopt_id} is a {connector.connector_template_ref} connector, "
                f"not {template}: adopt it with the resource class of its template (or Connector)"
            )
        differences = self.adoption_differences(connector, inputs)
        if differences:
            lines = "\n".join(f"  {prop}: declared {mine!r}, Bird has {theirs!r}" for prop, mine, theirs in differences)
            raise ValueError(
                f"adopt_id {adopt_id!r}: connector {adopt_id} differs from the program, and connectors cannot be "
                f"updated, so nothing was changed. Make the program say what Bird has:\n{lines}"
            )
        status = wait_connector_ready(client, workspace_id, adopt_id, float(inputs["ready_timeout"]))
        remember_owned(adopt_id)
        return CreateResult(adopt_id, {**inputs, **connector_outputs(connector, status, template)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from ..api.connectors import connector_outputs
        from ..api.reads import read_connector

        settings = config.current_settings()
        (workspace_id,) = config.scope_of(props, settings, f"connector {id_}", "workspace_id")
        lookup = is_lookup(props)
        hidden = [props.get(name) for name in self.schema.secrets]
        with config.make_client(settings, hidden) as client, stored_key_explained(f"reading connector {id_}"):
            connector, status = read_connector(client, workspace_id, id_)  # from list pages shared by reads in flight
        if connector is None:
            if lookup:  # get(): the engine would hand the program a resource with every output empty
                raise ValueError(f"get: there is no connector {id_!r} in workspace {workspace_id}")
            return ReadResult("", {})  # refresh: gone, so the engine drops it from the stack
        if self.template_ref and connector.connector_template_ref not in (None, self.template_ref):
            raise ValueError(
                f"connector {id_} is a {connector.connector_template_ref} connector, not {self.template_ref}: "
                f"use the resource class for that template (or Connector)"
            )
        inputs = {
            **self.inputs_from_bird(connector, props, lookup=lookup),
            "workspace_id": workspace_id,
            "ready_timeout": props.get("ready_timeout") or DEFAULT_READY_TIMEOUT,
            **{k: props.get(k) for k in self.schema.create_only if props.get(k) is not None},
        }
        template = inputs.get("connector_template_ref") or self.template_ref
        if not lookup:
            note_refreshed(id_)
        return ReadResult(id_, {**inputs, **connector_outputs(connector, status, template)}, inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # diff sends every change that reaches Bird to replacement, so only local inputs get here.
        return UpdateResult({**olds, **self._inputs(news)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from ..api.connectors import delete_connector_if_present, note_number_released

        settings = config.current_settings()
        (workspace_id,) = config.scope_of(props, settings, f"connector {id_}", "workspace_id")
        hidden = [props.get(name) for name in self.schema.secrets]
        with config.make_client(settings, hidden) as client, stored_key_explained(f"deleting connector {id_}"):
            delete_connector_if_present(client, workspace_id, id_)
        template = props.get("connector_template_ref") or self.template_ref
        number = props.get("phone_number_id") or (props.get("arguments") or {}).get("phoneNumberId") or props.get("number_id")
        note_number_released(workspace_id, template, number, id_)

    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props.get(k) for k in self.schema.names}


class PhoneNumberChannelProvider(ConnectorBackedProvider):
    """A connector of a fixed template whose arguments are inputs of their own (SmsChannel, VoiceChannel)."""

    def validate(self, checker: Checker) -> None:
        arguments = {arg: checker.news.get(prop) for arg, prop in self.schema.arguments.items()}
        check_template_arguments(checker, self.template_ref, arguments, self.schema.arguments)


# --- resource base -----------------------------------------------------------------------------------------

R = TypeVar("R", bound="ConnectorResource")


class ConnectorResource(pulumi.dynamic.Resource):
    """Outputs shared by every connector-backed resource. The resource id is Bird's connector id."""

    connector_id: pulumi.Output[str]
    """Bird's id of the connector (the same as the resource id)."""
    channel_id: pulumi.Output[str]
    """The id of the channel the connector created; known once the channel is active."""
    platform: pulumi.Output[Optional[str]]
    """The channel's platform, e.g. ``sms`` or ``voice``."""
    channel_status: pulumi.Output[Optional[str]]
    """Readiness status: ok, pending, error or unknown."""
    channel_stage: pulumi.Output[Optional[str]]
    """Lifecycle stage: active, inactive, provisioning, deprovisioning or deprovisioned."""
    number_id: pulumi.Output[Optional[str]]
    """The phone number's id, when the connector is installed on one."""
    phone_number: pulumi.Output[Optional[str]]
    """The phone number in E.164 form, when Bird reports it."""
    region: pulumi.Output[Optional[str]]
    """The region Bird installed the connector in."""
    connector_template_ref: pulumi.Output[str]
    """The template the connector was installed from, e.g. ``sms-messagebird:1``."""
    created_at: pulumi.Output[str]
    """When Bird created the connector (ISO 8601, UTC)."""
    name: pulumi.Output[str]
    """The connector's name in Bird."""
    workspace_id: pulumi.Output[str]
    """The Bird workspace the connector lives in."""
    ready_timeout: pulumi.Output[float]
    """Seconds a create waits for the channel to become active."""

    def _register(
        self,
        provider: ConnectorBackedProvider,
        resource_name: str,
        values: Mapping[str, Any],
        opts: Optional[pulumi.ResourceOptions],
    ) -> None:
        """Register the schema's inputs out of ``values`` (the ``__init__``'s locals), secrets wrapped."""
        props, options = registration(provider.schema, values, COMPUTED_OUTPUTS, opts)
        if props.get("name") is None:
            props["name"] = resource_name
        props[RESOURCE_NAME_KEY] = resource_name
        super().__init__(provider, resource_name, props, options)

    @classmethod
    def _get(
        cls: type[R],
        provider: ConnectorBackedProvider,
        resource_name: str,
        id: pulumi.Input[str],
        opts: Optional[pulumi.ResourceOptions],
    ) -> R:
        names = (*provider.schema.names, *COMPUTED_OUTPUTS)
        return read_existing(cls, provider, resource_name, id, names, opts, provider.schema.secrets)
