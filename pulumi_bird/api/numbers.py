"""Bird's Numbers API, read side: a workspace's phone numbers (``GET /workspaces/{workspaceId}/numbers``), to
find a number's id from its E.164 text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Optional
from urllib.parse import quote

from . import errors

if TYPE_CHECKING:
    from .client import BirdClient

# Bird's maximum page size for this list (limit 1-99; the connector lists allow 100).
NUMBERS_PAGE_SIZE = 99
# E.164: a +, then up to 15 digits, the first not 0. Spaces, dashes, dots and brackets people type are dropped.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_SEPARATORS = re.compile(r"[\s\-.()]")


@dataclass(frozen=True)
class PhoneNumber:
    """A number of the workspace: its Bird id, E.164 text, country (ISO 3166-1 alpha-2), type (``mobile``,
    ``local``, ``toll-free``, ...) and what it can carry (``sms``, ``voice``, ``mms``, ``whatsapp``)."""

    id: str
    number: str
    country: Optional[str]
    type: Optional[str]
    capabilities: tuple[str, ...]


def normalize_e164(text: str) -> Optional[str]:
    """``text`` in canonical E.164 (``+31 970 1052 0000``, ``0031-970-1052-0000`` and ``3197010520000`` all give
    ``+3197010520000``: Bird lists numbers in either of the last forms too), or None when it is not a number."""
    if not isinstance(text, str):
        return None
    compact = _SEPARATORS.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact[:1].isdigit():  # the country code without its + (no national number starts with one here)
        compact = "+" + compact
    return compact if _E164.fullmatch(compact) else None


def _capabilities(value: Any) -> tuple[str, ...]:
    if isinstance(value, Mapping):  # {sms: {inbound: true, outbound: false}, ...}: any direction counts
        names = [name for name, directions in value.items()
                 if directions is True or (isinstance(directions, Mapping) and any(directions.values()))]
    else:  # ["sms", "voice"]
        names = [name for name in value if isinstance(name, str)] if isinstance(value, (list, tuple)) else []
    return tuple(sorted({str(name).lower() for name in names}))


def parse_number(item: Mapping[str, Any]) -> Optional[PhoneNumber]:
    """One list item in either shape Bird documents: the current one (``number``, ``country``, ``type``,
    ``capabilities`` as names) or the long-code one (``numberString``, ``countryCode``, ``capabilities`` as
    ``{sms: {inbound, outbound}, ...}``); None when it has no id or no number."""
    number_id = item.get("id")
    text = item.get("number") or item.get("numberString") or item.get("phoneNumber")
    if not isinstance(number_id, str) or not isinstance(text, str):
        return None
    return PhoneNumber(
        id=number_id,
        number=normalize_e164(text) or text,
        country=item.get("country") or item.get("countryCode"),
        type=item.get("type") or item.get("numberType"),
        capabilities=_capabilities(item.get("capabilities")),
    )


def list_phone_numbers(client: BirdClient, workspace_id: str) -> Iterator[PhoneNumber]:
    """Every number of the workspace, across pages, lazily (stop iterating and no further page is read)."""
    path = f"/workspaces/{quote(workspace_id, safe='')}/numbers"
    for _, page in client.pages(path, workspace_id, page_size=NUMBERS_PAGE_SIZE):
        yield from (number for number in map(parse_number, page.results) if number is not None)


def find_phone_number(client: BirdClient, workspace_id: str, number: str) -> Optional[PhoneNumber]:
    """The workspace's number whose E.164 text is ``number`` (separators ignored), or None."""
    wanted = normalize_e164(number)
    if wanted is None:
        raise ValueError(f"{number!r:.40} is not an E.164 phone number such as +3197010520000")
    return next((n for n in list_phone_numbers(client, workspace_id) if n.number == wanted), None)


def explain_missing_capability(client: BirdClient, workspace_id: str, number_id: str, platform: str,
                               refused: errors.BirdError) -> errors.BirdError:
    """Bird's 422 to a channel on ``number_id``, finished: when the workspace lists the number without
    ``platform``, the error names what the number carries, the lookup that shows it, and the fix. Any other
    refusal (or a number the list does not show) is returned as it was."""
    if refused.status != 422 or not number_id:
        return refused
    try:
        found = next((n for n in list_phone_numbers(client, workspace_id) if n.id == number_id), None)
    except errors.BirdError:
        return refused  # the explanation is a courtesy: Bird's own refusal stands
    if found is None or platform in found.capabilities:
        return refused
    carries = ", ".join(found.capabilities) or "no capability"
    return refused.with_summary(client.redact(  # it quotes what Bird lists: no secret may ride along
        f"phone number {found.number} (phone_number_id {number_id}) carries {carries}, not {platform}, so Bird "
        f"refused the {platform} channel: choose a number with {platform} (get_phone_number(\"{found.number}\")"
        f".capabilities shows what a number carries), or have {platform} enabled on it in Bird (Numbers)"))
