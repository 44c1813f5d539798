"""State and rules of the Bird emulator (no HTTP here): workspaces, numbers, connectors, webhook subscriptions.

``responses.py`` hands it shape-checked bodies; :class:`BirdBackend` applies the rules that need state or several
fields (templates and their arguments, one connector per number and template, filters per service, the limit on
identical subscriptions) and renders objects as the API does.
"""

from __future__ import annotations

import base64
import collections
import copy
import dataclasses
import datetime
import hashlib
import itertools
import sys
import threading
import time
import uuid
from http import HTTPStatus
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from pulumi_bird.api.values import (
    CHANNEL_MESSAGE_TYPES,
    SERVICE_FILTER_KEYS,
    WEBHOOK_STATUSES,
    is_uuid,
)

# Fixed ids so that a stack config or a test can name the emulator's workspace before it starts.
DEFAULT_WORKSPACE_ID = "5f0e4c9e-2b7a-4d1e-9c3b-000000000001"
DEFAULT_ORGANIZATION_ID = "5f0e4c9e-2b7a-4d1e-9c3b-0000000000a1"

# Bird reports where a connector was installed; the value is only echoed, so one plausible region will do.
DEFAULT_REGION = "eu-west-1"

# Connector listing: the OpenAPI `queryLimit` parameter (default 10, maximum 100).
DEFAULT_PAGE_SIZE = 10
# Bird's Numbers API pages hold at most 99 numbers ("List Numbers in Workspace": limit 1-99).
MAX_NUMBERS_PAGE_SIZE = 99
# What a number can carry, as the Numbers API names it.
NUMBER_CAPABILITIES = ("sms", "voice", "mms", "whatsapp")
MAX_PAGE_SIZE = 100
# The OpenAPI `queryCursor` parameter: a page token has at most 8000 characters.
MAX_PAGE_TOKEN_LENGTH = 8000

# bird-api.md: Bird accepts at most five subscriptions with the same service, event and filters.
MAX_IDENTICAL_SUBSCRIPTIONS = 5


class ApiError(Exception):
    """An API error: its class's HTTP status and the text of the Error body (``code`` derives from the status)."""

    status = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.details = details


class BadRequest(ApiError):
    """400: the request could not be read (webhook endpoints: malformed JSON, a body that is no object)."""

    status = HTTPStatus.BAD_REQUEST


class NotFound(ApiError):
    status = HTTPStatus.NOT_FOUND


class Conflict(ApiError):
    status = HTTPStatus.CONFLICT


class Unprocessable(ApiError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY


def invalid_field(field: str, problem: str) -> Unprocessable:
    """A 422 naming the field at fault, in the message and in ``details.field``."""
    return Unprocessable(f"{field} {problem}", details={"field": field})


def iso_utc(moment: datetime.datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z``, as Bird writes timestamps."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def utc_now() -> datetime.datetime:
    """The wall clock, for createdAt / updatedAt (the provisioning clock is monotonic)."""
    return datetime.datetime.now(datetime.timezone.utc)


def _require_uuid_argument(arguments: Dict[str, Any], name: str = "phoneNumberId") -> None:
    value = arguments.get(name)
    if value is None:
        raise invalid_field(f"arguments.{name}", "is required by this template")
    if not is_uuid(value):
        raise invalid_field(f"arguments.{name}", "must be a UUID string")


def _check_sms_arguments(arguments: Dict[str, Any]) -> None:
    _require_uuid_argument(arguments)
    if arguments.get("channelMessageType") not in CHANNEL_MESSAGE_TYPES:
        raise invalid_field("arguments.channelMessageType", f"must be one of {', '.join(CHANNEL_MESSAGE_TYPES)}")
    if "useCaseId" in arguments and not is_uuid(arguments["useCaseId"]):
        raise invalid_field("arguments.useCaseId", "must be a UUID string")


@dataclasses.dataclass(frozen=True)
class Template:
    """A connector template: its ref, the platform of the channels it makes and its argument rules."""

    ref: str
    platform: str
    capabilities: str
    check_arguments: Callable[[Dict[str, Any]], None] = lambda arguments: None


TEMPLATES: Dict[str, Template] = {
    t.ref: t
    for t in (
        Template("sms-messagebird:1", "sms", "sms", _check_sms_arguments),
        Template("voice-messagebird:1", "voice", "voice", _require_uuid_argument),
        # Templates whose arguments Bird does not document: any arguments go, the platform is the slug.
        *(Template(ref, ref.split(":", 1)[0], "sms,voice")
          for ref in ("whatsapp:1", "instagram:1", "facebook:1", "telegram:1", "line:1", "email-messagebird:1")),
    )
}


def fake_phone_number(number_id: str) -> str:
    """A stable E.164 number for a phone-number id (Dutch 097 machine-to-machine range, 13 digits)."""
    digest = int(hashlib.sha256(number_id.encode("utf-8")).hexdigest(), 16)
    return f"+31970{digest % 10**8:08d}"


def _derived_uuid(kind: str, seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"bird-emulator:{kind}:{seed}"))


def encode_page_token(kind: str, position: int) -> str:
    """An opaque token naming the last item of a page (by creation sequence) and the kind of list."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode("ascii")).decode("ascii").rstrip("=")


@dataclasses.dataclass(frozen=True)
class PageRequest:
    """What a list call asks for: page size, an optional page token and the order."""

    limit: int = DEFAULT_PAGE_SIZE
    page_token: Optional[str] = None
    reverse: bool = False


# A page that holds a whole list (the list_all_* views for tests).
WHOLE_LIST = PageRequest(limit=sys.maxsize)


def paginate(
    kind: str, records: Iterable[Any], page: PageRequest, render: Callable[[Any], Dict[str, Any]]
) -> Dict[str, Any]:
    """One page of ``records`` (objects with a ``seq``) as ``{results, nextPageToken?}``.

    The token holds the sequence number of the page's last item, so items created or deleted between two
    calls neither repeat nor vanish from the pages still to come.
    """
    ordered = sorted(records, key=lambda r: r.seq, reverse=page.reverse)
    if page.page_token is not None:
        token = page.page_token + "=" * (-len(page.page_token) % 4)
        try:  # binascii.Error and UnicodeDecodeError are ValueErrors
            prefix, _, after = base64.urlsafe_b64decode(token).decode("ascii").partition(":")
        except ValueError:
            prefix, after = "", ""
        if prefix != kind or not after.isdigit():  # 422 for a token that this kind of list did not issue
            raise invalid_field("pageToken", "is not a token this list issued")
        ordered = [r for r in ordered if (r.seq < int(after) if page.reverse else r.seq > int(after))]
    results = ordered[: page.limit]
    body: Dict[str, Any] = {"results": [render(r) for r in results]}
    if len(ordered) > len(results) and results:
        body["nextPageToken"] = encode_page_token(kind, results[-1].seq)
    return body


@dataclasses.dataclass
class ConnectorRecord:
    """A stored connector and what its provisioning needs."""

    id: str
    seq: int
    workspace_id: str
    name: str
    template: Template
    arguments: Optional[Dict[str, Any]]
    created_at: datetime.datetime
    created_clock: float
    provision_seconds: float
    channel_id: str
    # The phoneNumberId argument when it is a string (templates without argument rules take anything): the number
    # it holds; rendered as the connector's number only when it is a UUID.
    number_id: Optional[str] = None
    # Read-driven provisioning (docs/testing.md): when set, the channel is active once status_reads reaches it.
    provision_reads: Optional[int] = None
    status_reads: int = 0
    activated_at: Optional[datetime.datetime] = None


@dataclasses.dataclass
class WebhookRecord:
    """A stored webhook subscription: its body as the API renders it (a copy), and its signing key (never rendered)."""

    seq: int
    body: Dict[str, Any]
    signing_key: Optional[str]


@dataclasses.dataclass(frozen=True)
class NumberRecord:
    """A phone number of a workspace's inventory (what the Numbers API lists)."""

    id: str
    seq: int
    number: str
    country: str
    type: str
    capabilities: Tuple[str, ...]
    created_at: datetime.datetime

    def render(self) -> Dict[str, Any]:
        return {"id": self.id, "number": self.number, "country": self.country, "type": self.type,
                "capabilities": list(self.capabilities), "status": "active", "createdAt": iso_utc(self.created_at)}

    def render_long_code(self) -> Dict[str, Any]:
        """The item as Bird's other documented page shows it (``GET .../numbers-long-code``)."""
        return {"id": self.id, "numberString": self.number, "countryCode": self.country, "type": self.type,
                "capabilities": {c: {"inbound": c in self.capabilities, "outbound": c in self.capabilities}
                                 for c in NUMBER_CAPABILITIES},
                "createdAt": iso_utc(self.created_at), "updatedAt": iso_utc(self.created_at)}


# The numbers the emulator's default workspace holds unless told otherwise: the ones `make demo`, the examples and
# the README use (E.164 text, id, capabilities). The second carries no SMS (an SMS channel on it gets Bird's 422).
DEFAULT_NUMBERS: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ("+3197010520000", "6a3f2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c", ("sms", "voice")),
    ("+3197010520001", "1c2b3a4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", ("voice",)),
    ("+3197010520002", "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", ("sms",)),
)


def seeded_workspace_id(index: int) -> str:
    """The id of the emulator's ``index``-th seeded workspace, counting from 1 (which is ``DEFAULT_WORKSPACE_ID``):
    fixed, so that a fleet's customer file can name the workspaces before the emulator starts."""
    if not 1 <= index <= 999:
        raise ValueError(f"a seeded workspace is numbered 1 to 999; got {index}")
    return f"5f0e4c9e-2b7a-4d1e-9c3b-{index:012d}"


def seeded_number(workspace_index: int, number_index: int) -> str:
    """The E.164 text of the ``number_index``-th number (from 0) seeded in the ``workspace_index``-th workspace:
    ``+3197010WWWNNNN`` (Dutch 097 machine-to-machine range), distinct from :data:`DEFAULT_NUMBERS`."""
    if not (1 <= workspace_index <= 999 and 0 <= number_index <= 9999):
        raise ValueError(f"seeded numbers exist for workspaces 1 to 999 and indexes 0 to 9999; got "
                         f"{workspace_index}, {number_index}")
    return f"+3197010{workspace_index:03d}{number_index:04d}"


def _number_country(number: str) -> str:
    # Enough for the emulator's inventory: the calling codes its seeds and tests use.
    return next((c for prefix, c in (("+31", "NL"), ("+44", "GB"), ("+49", "DE"), ("+1", "US"))
                 if number.startswith(prefix)), "NL")


class BirdBackend:
    """All emulator state, behind one re-entrant lock (the server's threads and tests share it). Public methods return
    fresh dicts shaped like the API's bodies and raise :class:`ApiError` subclasses for API errors; tests may call them
    to look at or change state.

    ``provision_seconds``, ``provision_reads`` (docs/testing.md) and ``release_seconds`` (:meth:`delete_connector`) are
    settable any time, checked when set, and apply to connectors created (deleted) after a change.
    """

    def __init__(
        self,
        provision_seconds: float = 1.0,
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
        clock: Callable[[], float] = time.monotonic,
        provision_reads: Optional[int] = None,
        release_seconds: float = 0.0,
        numbers: Iterable[Tuple[str, str, Tuple[str, ...]]] = DEFAULT_NUMBERS,
        wall_clock: Callable[[], datetime.datetime] = utc_now,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        # Bird's wall clock (aware UTC): createdAt, updatedAt and the Date header follow it.
        self.wall_now: Callable[[], datetime.datetime] = wall_clock
        self._seq = itertools.count(1)
        self._workspaces: Dict[str, str] = {}
        # Per workspace, read only once the workspace is known (require_workspace and the like).
        self._connectors: Dict[str, Dict[str, ConnectorRecord]] = collections.defaultdict(dict)
        self._webhooks: Dict[str, Dict[str, WebhookRecord]] = collections.defaultdict(dict)
        self._channel_failures: Dict[str, Optional[str]] = {}  # None: healed
        self._number_provision_seconds: Dict[str, Optional[float]] = {}  # None: the default
        # (workspace, connector id) -> a deleted connector and the clock at which Bird has deprovisioned it (see
        # delete_connector; `deprovisioning` is a stage of Bird's ChannelStatus enum).
        self._deprovisioning: Dict[Tuple[str, str], Tuple[ConnectorRecord, float]] = {}
        self._numbers: Dict[str, Dict[str, NumberRecord]] = collections.defaultdict(dict)
        self.provision_seconds: float = provision_seconds
        self.release_seconds: float = release_seconds
        self.provision_reads: Optional[int] = provision_reads
        self.add_workspace(workspace_id, organization_id)
        for number, number_id, capabilities in numbers:
            self.add_number(workspace_id, number, capabilities, number_id=number_id)

    def __setattr__(self, name: str, value: Any) -> None:
        """Check the settings (see the class) whenever they are set."""
        if name in ("provision_seconds", "release_seconds"):
            value = non_negative(value, name)
        elif name == "provision_reads" and value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError("provision_reads must be None or a non-negative integer")
        super().__setattr__(name, value)

    def add_workspace(self, workspace_id: str, organization_id: str) -> None:
        """Make a workspace (and its organization) known; requests for unknown ones get a 404."""
        with self._lock:
            self._workspaces[workspace_id] = organization_id

    # -- the numbers inventory ------------------------------------------------------------------------------

    def add_number(
        self,
        workspace_id: str,
        number: str,
        capabilities: Iterable[str] = ("sms", "voice"),
        *,
        number_id: Optional[str] = None,
        country: Optional[str] = None,
        type: str = "mobile",
    ) -> Dict[str, Any]:
        """Put a phone number (E.164 text) in the workspace's inventory, as if bought; returns it as the Numbers
        API lists it. A channel on an inventory number needs its capability (``sms``, ``voice``); a number id
        outside the inventory is taken as a number with every capability."""
        caps = tuple(dict.fromkeys(capabilities))
        unknown = [c for c in caps if c not in NUMBER_CAPABILITIES]
        if unknown or not (number.startswith("+") and number[1:].isdigit() and 8 <= len(number) <= 16):
            raise ValueError(f"a number is E.164 text (+ and 7 to 15 digits) with capabilities from "
                             f"{', '.join(NUMBER_CAPABILITIES)}; got {number!r} {list(caps)}")
        with self._lock:
            self.require_workspace(workspace_id)
            record = NumberRecord(id=number_id or str(uuid.uuid4()), seq=next(self._seq), number=number,
                                  country=country or _number_country(number), type=type, capabilities=caps,
                                  created_at=self.wall_now())
            self._numbers[workspace_id][record.id] = record
            return record.render()

    def seed_workspace(self, index: int, organization_id: str, numbers: int, workspace_id: Optional[str] = None) -> str:
        """Make the ``index``-th seeded workspace known (``workspace_id``, else :func:`seeded_workspace_id`) with
        ``numbers`` SMS and voice numbers (:func:`seeded_number`, ids derived from both); returns its id."""
        workspace_id = workspace_id or seeded_workspace_id(index)
        with self._lock:
            self.add_workspace(workspace_id, organization_id)
            for position in range(numbers):
                number = seeded_number(index, position)
                self.add_number(workspace_id, number, number_id=_derived_uuid("number", f"{workspace_id}:{number}"))
        return workspace_id

    def list_all_numbers(self, workspace_id: str) -> List[Dict[str, Any]]:
        """Every number of the workspace's inventory, oldest first (for tests)."""
        return self.list_numbers(workspace_id, WHOLE_LIST)["results"]

    def list_numbers(self, workspace_id: str, page: PageRequest, *, long_code: bool = False,
                     admits: Callable[[NumberRecord], bool] = lambda record: True) -> Dict[str, Any]:
        """One page of the workspace's numbers that ``admits``, oldest first (``reverse``: newest first);
        ``long_code``: in the shape of Bird's ``numbers-long-code`` page."""
        render = NumberRecord.render_long_code if long_code else NumberRecord.render
        with self._lock:
            self.require_workspace(workspace_id)
            return paginate("numbers", filter(admits, self._numbers[workspace_id].values()), page, render)

    def set_channel_failure(self, phone_number_id: str, error_message: Optional[str]) -> None:
        """Once provisioned, channels on this number report an error (``None`` heals them)."""
        with self._lock:
            self._channel_failures[phone_number_id] = error_message

    def set_number_provision_seconds(self, phone_number_id: str, seconds: Optional[float]) -> None:
        """Provisioning time for connectors created later on this number (``None`` removes the override)."""
        with self._lock:
            checked = None if seconds is None else non_negative(seconds, "seconds")
            self._number_provision_seconds[phone_number_id] = checked

    def clear_overrides(self) -> None:
        """Forget every channel failure, per-number provisioning time and number still being released."""
        with self._lock:
            self._channel_failures.clear()
            self._number_provision_seconds.clear()
            self._deprovisioning.clear()

    # -- lookups ------------------------------------------------------------------------------------------

    def require_workspace(self, workspace_id: str) -> None:
        """404 unless the workspace is known."""
        if workspace_id not in self._workspaces:
            raise NotFound("workspace not found")

    def require_organization_workspace(self, organization_id: str, workspace_id: str) -> None:
        """404 unless the workspace is known and belongs to the organization."""
        if self._workspaces.get(workspace_id) != organization_id:
            raise NotFound("organization or workspace not found")

    def _find_connector(self, workspace_id: str, connector_id: str) -> ConnectorRecord:
        self.require_workspace(workspace_id)
        record = self._connectors[workspace_id].get(connector_id)
        if record is None:
            raise NotFound("connector not found")
        return record

    def _find_deprovisioning(self, workspace_id: str, connector_id: str) -> Optional[ConnectorRecord]:
        """A connector deleted less than ``release_seconds`` ago: Bird still deprovisions it."""
        held = self._deprovisioning.get((workspace_id, connector_id))
        if held is not None and self._clock() < held[1]:
            return held[0]
        self._deprovisioning.pop((workspace_id, connector_id), None)  # Bird has finished
        return None

    def _find_webhook(self, organization_id: str, workspace_id: str, subscription_id: str) -> WebhookRecord:
        self.require_organization_workspace(organization_id, workspace_id)
        record = self._webhooks[workspace_id].get(subscription_id)
        if record is None:
            raise NotFound("webhook subscription not found")
        return record

    # -- connectors ---------------------------------------------------------------------------------------

    def create_connector(self, workspace_id: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """Create a connector from a shape-checked CreateConnectorReq body; provisioning starts now."""
        ref = body.get("connectorTemplateRef")
        template = TEMPLATES.get(ref or "")
        if template is None:
            problem = (f"names no known template: {ref!r}" if ref is not None
                       else "is required by the emulator (it cannot guess a template)")
            raise invalid_field("connectorTemplateRef", problem)
        arguments = copy.deepcopy(body.get("arguments"))
        template.check_arguments(arguments or {})
        number_id = (arguments or {}).get("phoneNumberId")
        number_id = number_id if isinstance(number_id, str) else None
        with self._lock:
            seconds = self._number_provision_seconds.get(number_id or "")
            self.require_workspace(workspace_id)
            held = self._numbers[workspace_id].get(number_id or "")
            # 422, as Bird answers, for an SMS or voice channel on an inventory number that lacks the capability.
            if held and template.platform in ("sms", "voice") and template.platform not in held.capabilities:
                problem = f"phone number {held.number} has no {template.platform} capability"
                raise invalid_field("arguments.phoneNumberId", problem)
            if number_id is not None and self._number_taken(workspace_id, template, number_id):
                raise Conflict(f"a {template.ref} connector already exists for this phone number")
            record = ConnectorRecord(
                id=str(uuid.uuid4()),
                seq=next(self._seq),
                workspace_id=workspace_id,
                name=body["name"],
                template=template,
                arguments=arguments,
                created_at=self.wall_now(),
                created_clock=self._clock(),
                provision_seconds=self.provision_seconds if seconds is None else seconds,
                channel_id=str(uuid.uuid4()),
                number_id=number_id,
                provision_reads=self.provision_reads,
            )
            self._connectors[workspace_id][record.id] = record
            return self._render_connector(record)

    def _number_taken(self, workspace_id: str, template: Template, number_id: str) -> bool:
        """Whether a connector of ``template`` holds the number, or held it and Bird still deprovisions it."""
        now = self._clock()
        holders = [*self._connectors[workspace_id].values(),
                   *(r for (ws, _), (r, until) in self._deprovisioning.items() if ws == workspace_id and until > now)]
        return any(r.template is template and r.number_id == number_id for r in holders)

    def get_connector(self, workspace_id: str, connector_id: str) -> Dict[str, Any]:
        """The rendered connector (one being deprovisioned without its channel); 404 when missing."""
        with self._lock:
            going = self._find_deprovisioning(workspace_id, connector_id)
            if going is not None:
                return dict(self._render_connector(going), channel=None)
            return self._render_connector(self._find_connector(workspace_id, connector_id))

    def get_connector_status(self, workspace_id: str, connector_id: str) -> Dict[str, Any]:
        """The ConnectorStatus body: the channel's provisioning state and, with a number, the number's."""
        with self._lock:
            going = self._find_deprovisioning(workspace_id, connector_id)
            if going is not None:
                return {"channel": self._channel_status(going, "deprovisioning")}
            record = self._find_connector(workspace_id, connector_id)
            body: Dict[str, Any] = {"channel": self._channel_status(record)}
            self._count_status_read(record)
            if is_uuid(record.number_id):
                body["number"] = {**self._number_ids(record.number_id), "status": "ok", "stage": "active",
                                  "errorMessage": None}
            return body

    def list_connectors(
        self, workspace_id: str, page: PageRequest, template_ref: Optional[str] = None
    ) -> Dict[str, Any]:
        """One page of the workspace's connectors, optionally only those of one template."""
        with self._lock:
            self.require_workspace(workspace_id)
            records = [r for r in self._connectors[workspace_id].values()
                       if template_ref is None or r.template.ref == template_ref]
            return paginate("connectors", records, page, self._render_connector)

    def list_all_connectors(self, workspace_id: str) -> List[Dict[str, Any]]:
        """Every connector of the workspace, oldest first (for tests)."""
        return self.list_connectors(workspace_id, WHOLE_LIST)["results"]

    def delete_connector(self, workspace_id: str, connector_id: str) -> None:
        """Delete a connector and its channel: for ``release_seconds`` Bird still deprovisions it (a GET shows its
        channel at stage ``deprovisioning``, lists leave it out, its number stays taken), then it is 404."""
        with self._lock:
            record = self._find_connector(workspace_id, connector_id)
            del self._connectors[workspace_id][record.id]
            if self.release_seconds > 0:
                self._deprovisioning[workspace_id, record.id] = (record, self._clock() + self.release_seconds)

    def _provisioned(self, record: ConnectorRecord) -> bool:
        if record.provision_reads is not None:
            return record.status_reads >= record.provision_reads
        return self._clock() - record.created_clock >= record.provision_seconds

    def _count_status_read(self, record: ConnectorRecord) -> None:
        # The read that answered "provisioning" for the last time moves the channel on.
        if record.provision_reads is not None and record.status_reads < record.provision_reads:
            record.status_reads += 1
            if record.status_reads == record.provision_reads:
                record.activated_at = self.wall_now()

    def _channel_status(self, record: ConnectorRecord, stage: str = "provisioning") -> Dict[str, Any]:
        """The ChannelStatus body: pending at ``stage`` until provisioned, then active (or in error)."""
        status: Dict[str, Any] = {
            "channelId": None,
            "platformName": record.template.platform,
            "status": "pending",
            "stage": stage,
            "errorMessage": None,
        }
        if stage != "provisioning" or not self._provisioned(record):
            return status
        failure = self._channel_failures.get(record.number_id or "")
        if failure is not None:
            status.update(status="error", stage="inactive", errorMessage=failure)
        else:
            status.update(status="ok", stage="active", channelId=record.channel_id)
        return status

    def _number_ids(self, number_id: Any) -> Dict[str, str]:
        held = next((n for ns in self._numbers.values() for n in ns.values() if n.id == number_id), None)
        return {
            "numberId": number_id,
            "profileId": _derived_uuid("profile", number_id),
            "phoneNumber": held.number if held else fake_phone_number(number_id),
        }

    def _render_connector(self, record: ConnectorRecord) -> Dict[str, Any]:
        active = self._provisioned(record) and self._channel_failures.get(record.number_id or "") is None
        updated_at = record.activated_at or record.created_at  # activated_at: set by status reads (provision_reads)
        if record.provision_reads is None and self._provisioned(record):
            updated_at += datetime.timedelta(seconds=record.provision_seconds)
        return {
            "id": record.id,
            "workspaceId": record.workspace_id,
            "name": record.name,
            "region": DEFAULT_REGION,
            "arguments": copy.deepcopy(record.arguments),
            "channel": {"channelId": record.channel_id, "platform": record.template.platform} if active else None,
            "number": {**self._number_ids(record.number_id), "capabilities": record.template.capabilities,
                       "numberType": "mobile", "endpointType": "long-code-number", "country": "NL"}
            if is_uuid(record.number_id) else None,
            "connectorTemplateSlug": record.template.ref.split(":", 1)[0],  # the ref without its version
            "connectorTemplateRef": record.template.ref,
            "createdAt": iso_utc(record.created_at),
            "updatedAt": iso_utc(updated_at),
        }

    # -- webhook subscriptions ----------------------------------------------------------------------------

    def create_webhook(self, organization_id: str, workspace_id: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """Create a subscription from a shape-checked CreateWebhookSubscription body."""
        with self._lock:
            self.require_organization_workspace(organization_id, workspace_id)
            filters = self._checked_filters(workspace_id, body["service"], body["event"], body.get("eventFilters"))
            subscription_id, now = str(uuid.uuid4()), iso_utc(self.wall_now())
            rendered = {"id": subscription_id, "organizationId": organization_id, "workspaceId": workspace_id,
                        "service": body["service"], "event": body["event"], "eventFilters": filters, "url": body["url"],
                        "status": "active", "createdAt": now, "updatedAt": now}
            if body.get("template") is not None:
                rendered["template"] = body["template"]
            record = WebhookRecord(next(self._seq), rendered, body.get("signingKey"))
            self._webhooks[workspace_id][subscription_id] = record
            return copy.deepcopy(rendered)

    def _checked_filters(
        self, workspace_id: str, service: str, event: str, filters: Any, exclude: Optional[str] = None
    ) -> List[Dict[str, str]]:
        """A copy of ``filters`` (None: none) once they pass the service's rules (allowed keys, at most one channelId,
        a UUID) and the limit on identical subscriptions (filter order ignored; ``exclude`` not counted)."""
        filters = copy.deepcopy(filters or [])
        for index, item in enumerate(filters):
            if item["key"] not in SERVICE_FILTER_KEYS[service]:
                problem = f"{item['key']!r} is not a filter of the {service} service"
                raise invalid_field(f"eventFilters[{index}].key", problem)
            if item["key"] == "channelId" and not is_uuid(item["value"]):
                raise invalid_field(f"eventFilters[{index}].value", "must be a UUID for the channelId filter")
        if sum(1 for item in filters if item["key"] == "channelId") > 1:
            raise invalid_field("eventFilters", "may hold at most one channelId filter")
        identity = (service, event, {(f["key"], f["value"]) for f in filters})
        same = [r for r in self._webhooks[workspace_id].values() if r.body["id"] != exclude and identity == (
            r.body["service"], r.body["event"], {(f["key"], f["value"]) for f in r.body["eventFilters"]})]
        if len(same) >= MAX_IDENTICAL_SUBSCRIPTIONS:
            raise Unprocessable(
                f"at most {MAX_IDENTICAL_SUBSCRIPTIONS} subscriptions may share a service, event and filters"
            )
        return filters

    def get_webhook(self, organization_id: str, workspace_id: str, subscription_id: str) -> Dict[str, Any]:
        """The rendered subscription; 404 when missing."""
        with self._lock:
            return copy.deepcopy(self._find_webhook(organization_id, workspace_id, subscription_id).body)

    def list_webhooks(self, organization_id: str, workspace_id: str, page: PageRequest) -> Dict[str, Any]:
        """One page of the workspace's subscriptions."""
        with self._lock:
            self.require_organization_workspace(organization_id, workspace_id)
            return paginate("webhooks", self._webhooks[workspace_id].values(), page, lambda r: copy.deepcopy(r.body))

    def list_all_webhooks(self, organization_id: str, workspace_id: str) -> List[Dict[str, Any]]:
        """Every subscription of the workspace, oldest first (for tests)."""
        return self.list_webhooks(organization_id, workspace_id, WHOLE_LIST)["results"]

    def update_webhook(
        self, organization_id: str, workspace_id: str, subscription_id: str, changes: Dict[str, Any]
    ) -> Dict[str, Any]:
        """Apply a shape-checked PATCH body (url, signingKey, status, eventFilters, template)."""
        with self._lock:
            record = self._find_webhook(organization_id, workspace_id, subscription_id)
            body = record.body
            if "eventFilters" in changes:
                body["eventFilters"] = self._checked_filters(workspace_id, body["service"], body["event"],
                                                             changes["eventFilters"], exclude=subscription_id)
            body["url"] = changes.get("url", body["url"])
            record.signing_key = changes.get("signingKey", record.signing_key)
            template = changes.get("template", body.pop("template", None))
            if template is not None:  # a null template clears it
                body["template"] = template
            if "status" in changes:
                body["status"] = changes["status"]
                body.pop("statusReason", None)
            body["updatedAt"] = iso_utc(self.wall_now())
            return copy.deepcopy(body)

    def delete_webhook(self, organization_id: str, workspace_id: str, subscription_id: str) -> None:
        """Delete a subscription; 404 when missing."""
        with self._lock:
            self._find_webhook(organization_id, workspace_id, subscription_id)
            del self._webhooks[workspace_id][subscription_id]

    def get_signing_key(self, organization_id: str, workspace_id: str, subscription_id: str) -> Optional[str]:
        """The write-only signing key as stored (for tests; the API never returns it)."""
        with self._lock:
            return self._find_webhook(organization_id, workspace_id, subscription_id).signing_key

    def set_webhook_status(
        self,
        organization_id: str,
        workspace_id: str,
        subscription_id: str,
        status: str,
        reason: Optional[str] = None,
    ) -> None:
        """Change a subscription's status out of band, as Bird does when it disables a failing endpoint."""
        if status not in WEBHOOK_STATUSES:
            raise ValueError(f"status must be one of {WEBHOOK_STATUSES}")
        with self._lock:  # a PATCH of the status, then Bird's reason
            self.update_webhook(organization_id, workspace_id, subscription_id, {"status": status})
            if reason is not None:
                self._find_webhook(organization_id, workspace_id, subscription_id).body["statusReason"] = reason


def non_negative(seconds: float, name: str) -> float:
    value = float(seconds)
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value
