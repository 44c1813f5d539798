"""``Connector``: a Bird connector installed from any template, and the provider behind every channel.

Bird has no update endpoint for connectors, so every change that reaches Bird replaces the connector, and
the old one is deleted first (a phone number carries one connector of a template; a second is a 409).
Create waits until the channel is active so that ``channel_id`` is known when it returns.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Optional

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, UpdateResult

from ._check import Checker, is_unknown, is_uuid
from ._provider import BirdProvider, is_lookup, read_existing

# --- schema ------------------------------------------------------------------------------------------------

# Ten minutes: Bird documents no provisioning time; SMS and voice channels are usually active in seconds, and
# a channel that takes longer than this is stuck (see the README's troubleshooting).
DEFAULT_READY_TIMEOUT = 600.0

SMS_TEMPLATE = "sms-messagebird:1"
VOICE_TEMPLATE = "voice-messagebird:1"
CHANNEL_MESSAGE_TYPES = ("promotional", "transactional", "conversational", "emergency", "2fa")

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
# Inputs that never reach Bird: changing them is an in-place update with no API call.
LOCAL_INPUTS = frozenset({"ready_timeout"})
# Inputs that only matter to a create (which object to adopt; whether an identical twin may be made): changing
# or removing them later is no change at all.
CREATE_ONLY_INPUTS = frozenset({"adopt_id", "allow_identical"})

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


def _differs(old: Any, new: Any) -> bool:
    return is_unknown(new) or old != new


def refuse_adopting_the_replaced(id_: str, news: Mapping[str, Any], replaces: list[str], what: str) -> None:
    """A replacement while ``adopt_id`` still names the object being replaced would adopt (or find deleted) the
    very object it replaces: stop, as the engine stops a leftover ``import_``."""
    if replaces and news.get("adopt_id") == id_:
        raise ValueError(
            f"{what} {id_} must be replaced (changed: {', '.join(replaces)}), but adopt_id still names it: "
            f"remove adopt_id from the program (it is only needed for the first deployment), then run again"
        )


def merge_declared(declared: Any, reported: Optional[Mapping[str, Any]]) -> Any:
    """Arguments after a refresh: only the keys the program declared, with Bird's value where Bird echoes the
    key (a change made in the dashboard shows) and the declared one where it does not. Keys Bird adds are
    ignored, so they never turn into a replacement."""
    if not isinstance(declared, dict) or reported is None:
        return declared
    return {key: reported.get(key, value) for key, value in declared.items()}


# --- provider ----------------------------------------------------------------------------------------------


class ConnectorProvider(BirdProvider):
    """Provider for connector-backed resources. Subclasses say how their inputs map to a create request."""

    # The inputs of the resource, as the user writes them.
    input_names: ClassVar[tuple[str, ...]] = (
        "connector_template_ref",
        "name",
        "arguments",
        "security_arguments",
        "channel_conversational_status_enabled",
        "invitation_token",
        "workspace_id",
        "ready_timeout",
        "adopt_id",
        "allow_identical",
    )
    # The template a subclass is fixed to (None: any, from connector_template_ref).
    template_ref: ClassVar[Optional[str]] = None

    # -- input mapping (overridden by SmsChannel and VoiceChannel) --

    def validate(self, checker: Checker) -> None:
        template = checker.string("connector_template_ref", required=True, max_length=255)
        arguments = checker.string_map("arguments")
        checker.string_map("security_arguments", depth=2)
        checker.boolean("channel_conversational_status_enabled")
        checker.string("invitation_token", secret=True)
        checker.boolean("allow_identical")
        if arguments is not None:
            names = {a: f"arguments.{a}" for a in TEMPLATE_ARGUMENTS.get(template or "", {})}
            check_template_arguments(checker, template, arguments, names)

    def request_fields(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The create request's fields (snake_case) for these inputs."""
        return {
            "name": inputs.get("name"),
            "connector_template_ref": inputs.get("connector_template_ref"),
            "arguments": inputs.get("arguments"),
            "security_arguments": inputs.get("security_arguments"),
            "channel_conversational_status_enabled": inputs.get("channel_conversational_status_enabled"),
            "invitation_token": inputs.get("invitation_token"),
        }

    def inputs_from_bird(self, connector: Any, props: Mapping[str, Any], *, lookup: bool = False) -> dict[str, Any]:
        """Inputs as Bird reports them; what Bird does not echo (secrets, flags) is kept from ``props``.
        ``lookup``: a ``get()``, which declares nothing, so Bird's arguments are taken whole."""
        arguments = connector.arguments if lookup else merge_declared(props.get("arguments"), connector.arguments)
        return {
            "connector_template_ref": connector.connector_template_ref or props.get("connector_template_ref"),
            "name": connector.name,
            "arguments": arguments,
            "security_arguments": props.get("security_arguments"),
            "channel_conversational_status_enabled": props.get("channel_conversational_status_enabled"),
            "invitation_token": props.get("invitation_token"),
        }

    def adoption_differences(self, connector: Any, inputs: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        """(property, declared, Bird's) for every echoed property where the program and Bird disagree."""
        found = []
        if connector.name != inputs.get("name"):
            found.append(("name", inputs.get("name"), connector.name))
        reported = connector.arguments or {}
        for key, value in (inputs.get("arguments") or {}).items():
            if key in reported and reported[key] != value:
                found.append((f"arguments.{key}", value, reported[key]))
        return found

    # -- lifecycle --

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate offline; never raises, never calls Bird. Fills in workspace_id and ready_timeout."""
        from . import config

        inputs = dict(news) if isinstance(news, dict) else {}
        checker = Checker(inputs, self.input_names)
        try:
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
        changed = [k for k in self.input_names if k not in CREATE_ONLY_INPUTS and _differs(olds.get(k), news.get(k))]
        replaces = [k for k in changed if k not in LOCAL_INPUTS]
        if not changed:
            return DiffResult(changes=False)
        refuse_adopting_the_replaced(id_, news, replaces, "connector")
        return DiffResult(changes=True, replaces=replaces, delete_before_replace=True if replaces else None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        from . import config
        from ._connectors import connector_outputs, create_connector_resolving, roll_back, wait_connector_ready
        from .models import CreateConnectorRequest

        inputs = self._inputs(props)
        workspace_id = inputs["workspace_id"]
        request = CreateConnectorRequest(**self.request_fields(inputs))
        with config.make_client() as client:
            if inputs.get("adopt_id"):
                return self._adopt(client, workspace_id, inputs, request)
            connector = create_connector_resolving(
                client,
                workspace_id,
                request,
                guard_existing=self.template_ref is None,  # phone number channels: Bird's 409 guards the number
                allow_identical=bool(inputs.get("allow_identical")),
            )
            try:
                status = wait_connector_ready(client, workspace_id, connector.id, float(inputs["ready_timeout"]))
            except Exception as cause:  # whatever stopped the wait, the connector must not be left behind
                raise roll_back(client, workspace_id, connector.id, cause) from None
        return CreateResult(connector.id, {**inputs, **connector_outputs(connector, status, request.connector_template_ref)})

    def _adopt(self, client: Any, workspace_id: str, inputs: dict[str, Any], request: Any) -> CreateResult:
        """Take over the connector ``adopt_id`` names instead of creating one: no POST, nothing written to Bird
        (connectors cannot be updated, so any difference from the program fails)."""
        from ._connectors import connector_outputs, wait_connector_ready
        from ._create import remember_owned

        adopt_id = inputs["adopt_id"]
        connector = client.find_connector(workspace_id, adopt_id)
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
        from . import config
        from ._connectors import connector_outputs, find_connector_status

        settings = config.current_settings()
        (workspace_id,) = config.scope_of(props, settings, f"connector {id_}", "workspace_id")
        lookup = is_lookup(props)
        with config.make_client(settings) as client:
            connector = client.find_connector(workspace_id, id_)
            status = find_connector_status(client, workspace_id, id_) if connector else None
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
            **{k: props.get(k) for k in CREATE_ONLY_INPUTS if k in self.input_names and props.get(k) is not None},
        }
        template = inputs.get("connector_template_ref") or self.template_ref
        return ReadResult(id_, {**inputs, **connector_outputs(connector, status, template)}, inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # diff sends every change that reaches Bird to replacement, so only local inputs get here.
        return UpdateResult({**olds, **self._inputs(news)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        from . import config
        from ._connectors import delete_connector_if_present

        settings = config.current_settings()
        (workspace_id,) = config.scope_of(props, settings, f"connector {id_}", "workspace_id")
        with config.make_client(settings) as client:
            delete_connector_if_present(client, workspace_id, id_)

    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props.get(k) for k in self.input_names}


def default_from_config(checker: Checker, inputs: dict[str, Any], prop: str, key: tuple[str, str]) -> None:
    """Fill ``prop`` from stack config or the environment (``key``) when the user left it out; it must be a UUID."""
    from . import config

    if inputs.get(prop) is None:
        inputs[prop] = config.current_settings_value(key)
        if inputs[prop] is None:
            checker.fail(prop, f"is required: set {prop} on the resource, {key[0]} in stack config, or {key[1]}")
            return
        if not is_uuid(inputs[prop]):
            checker.fail(prop, f"(from {key[0]}) must be a UUID, got {inputs[prop]!r:.60}")
            return
    checker.uuid(prop)


# --- resources ---------------------------------------------------------------------------------------------


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
    workspace_id: pulumi.Output[str]
    ready_timeout: pulumi.Output[float]

    _secret_inputs: ClassVar[tuple[str, ...]] = ()

    def _register(
        self,
        provider: ConnectorProvider,
        resource_name: str,
        inputs: dict[str, Any],
        opts: Optional[pulumi.ResourceOptions],
    ) -> None:
        props: dict[str, Any] = {k: None for k in COMPUTED_OUTPUTS}
        props.update(inputs)
        for key in self._secret_inputs:
            if props.get(key) is not None:
                props[key] = pulumi.Output.secret(props[key])
        secrets = pulumi.ResourceOptions(additional_secret_outputs=list(self._secret_inputs)) if self._secret_inputs else None
        super().__init__(provider, resource_name, props, pulumi.ResourceOptions.merge(opts, secrets))

    @classmethod
    def _get(cls, provider: ConnectorProvider, resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions]):
        names = (*provider.input_names, *COMPUTED_OUTPUTS)
        return read_existing(cls, provider, resource_name, id, names, opts, cls._secret_inputs)

class Connector(ConnectorResource, module="bird", name="Connector"):
    """A connector installed from any Bird template (WhatsApp, Instagram, e-mail, ...).

    Every input reaches Bird except ``ready_timeout``, so changing any other input replaces the connector
    (the old one is deleted first). ``security_arguments`` and ``invitation_token`` are secrets.
    """

    arguments: pulumi.Output[Optional[dict[str, Any]]]
    """The template's arguments, as Bird reports them."""
    security_arguments: pulumi.Output[Optional[dict[str, dict[str, str]]]]
    """The credentials given for the template's security schemes (secret; Bird never returns them)."""
    channel_conversational_status_enabled: pulumi.Output[Optional[bool]]
    invitation_token: pulumi.Output[Optional[str]]

    _secret_inputs = ("security_arguments", "invitation_token")

    def __init__(
        self,
        resource_name: str,
        *,
        connector_template_ref: pulumi.Input[str],
        name: Optional[pulumi.Input[str]] = None,
        arguments: Optional[pulumi.Input[Mapping[str, pulumi.Input[Any]]]] = None,
        security_arguments: Optional[pulumi.Input[Mapping[str, pulumi.Input[Mapping[str, pulumi.Input[str]]]]]] = None,
        channel_conversational_status_enabled: Optional[pulumi.Input[bool]] = None,
        invitation_token: Optional[pulumi.Input[str]] = None,
        workspace_id: Optional[pulumi.Input[str]] = None,
        ready_timeout: Optional[pulumi.Input[float]] = None,
        allow_identical: Optional[pulumi.Input[bool]] = None,
        adopt_id: Optional[pulumi.Input[str]] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
    ) -> None:
        """
        :param connector_template_ref: the template to install, e.g. ``whatsapp:1``.
        :param name: the connector's name in Bird; defaults to the resource name.
        :param arguments: the template's arguments (for ``sms-messagebird:1``: phoneNumberId, channelMessageType, useCaseId).
        :param security_arguments: credentials the template's security schemes need (secret).
        :param channel_conversational_status_enabled: whether inbound messages open conversations in Bird's Inbox.
        :param invitation_token: token for templates that are not generally available (secret).
        :param workspace_id: defaults to ``bird:workspaceId`` / ``BIRD_WORKSPACE_ID``.
        :param ready_timeout: seconds to wait for the channel to become active (default 600); changing it changes nothing on Bird.
        :param allow_identical: create even when a connector identical in everything Bird shows (name, template,
            arguments) already exists. Without it such a create fails naming the existing connector, which is
            usually a leftover of an interrupted run to adopt.
        :param adopt_id: the id of an existing connector to take over instead of creating one (no POST); it must
            match the declared inputs. Changing or removing it later changes nothing.
        """
        self._register(
            ConnectorProvider(),
            resource_name,
            {
                "connector_template_ref": connector_template_ref,
                "name": name if name is not None else resource_name,
                "arguments": arguments,
                "security_arguments": security_arguments,
                "channel_conversational_status_enabled": channel_conversational_status_enabled,
                "invitation_token": invitation_token,
                "workspace_id": workspace_id,
                "ready_timeout": ready_timeout,
                "allow_identical": allow_identical,
                "adopt_id": adopt_id,
            },
            opts,
        )

    @staticmethod
    def get(resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> "Connector":
        """Read an existing connector into the stack by its Bird id (its workspace: bird:workspaceId)."""
        return Connector._get(ConnectorProvider(), resource_name, id, opts)
