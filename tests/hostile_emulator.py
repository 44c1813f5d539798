"""The Bird emulator as our own tests and benchmarks need it: hostile answers and request-rate figures.

The emulator users get (``pulumi_bird.emulator``) plays Bird's behaviour. Answers a real service gives only when
something is off, and the figures a benchmark compares with Bird's limits, serve our suite: they live here and
reach the emulator through its two documented hooks, ``BirdEmulator.answer_hooks`` (see
``pulumi_bird.emulator.server.AnswerHook``) and ``BirdEmulator(wall_clock=...)``::

    with HostileEmulator(provision_seconds=0.1) as emu:
        emu.hostile.clock_offset = -3600        # Bird's clock an hour behind ours: createdAt, updatedAt and Date
        emu.hostile.created_at_offset = -300    # createdAt 5 min behind the Date header (two clocks, not one)
        emu.hostile.list_lag = 3                # lists show a new object 3 s after it was made
        emu.hostile.freeze_lists()              # lists keep showing objects as they are now (one page)
        emu.hostile.repeat_list_items = True    # every list item twice
        emu.hostile.bare_numbers = True         # the numbers list shows 3197010520000, without its +
        emu.hostile.numbers_loop = True         # every numbers page names the first page as the next one
        emu.hostile.patch_answer("POST", r"/connectors$", {"id": "not-a-uuid"})     # the 2xx says something else
        emu.hostile.patch_answer("POST", r"/connectors$", {}, drop=("createdAt",))  # or leaves a field out
        emu.hostile.trickle("GET", r"/status$", seconds_per_byte=0.5)               # the answer, a byte at a time
        emu.rate_stats()                        # GETs, POSTs, peaks in any one second, 429s of a workspace

A new hostile answer is a method of :class:`HostileAnswers` that records what to play (under its lock) and a step
of :meth:`HostileAnswers.__call__` that plays it on the answer; :meth:`HostileAnswers.clear` forgets it. Anything
that rewrites answers fits (frozen or looping lists, another body for a PATCH or GET); only a change to what Bird
*stores* needs the emulator's backend, which the hooks get as ``emulator.backend``.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import email.utils
import re
import threading
import time
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Pattern, Tuple

from pulumi_bird.emulator import BirdEmulator, urls
from pulumi_bird.emulator.backend import encode_page_token, utc_now
from pulumi_bird.emulator.responses import ApiRequest, ApiResponse

# The routes whose answers freeze_lists() replaces, and the list routes of phone numbers.
FROZEN_LISTS = ("list_connectors", "list_webhooks")
NUMBER_LISTS = ("list_numbers",)
# Bird's limits are per second; the peaks are counted over the same window.
WINDOW_SECONDS = 1.0
CREATED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclasses.dataclass
class _Rule:
    """The next ``remaining`` answers to requests matching ``method`` (or ``*``) and ``path`` (``re.search``) get
    ``play`` (``remaining=None``: every one); ``fired`` counts them."""

    method: str
    path: Pattern[str]
    play: Any
    remaining: Optional[int]
    fired: int = 0


def _take(rules: List[_Rule], request: ApiRequest) -> Optional[_Rule]:
    """The first of ``rules`` matching the request, counted down."""
    for rule in rules:
        if rule.method in ("*", request.method.upper()) and rule.path.search(request.path):
            rule.fired += 1
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
            return rule
    return None


def _created_at(item: Any) -> Optional[datetime.datetime]:
    text = item.get("createdAt") if isinstance(item, dict) else None
    if not isinstance(text, str):
        return None
    try:
        return datetime.datetime.strptime(text, CREATED_AT_FORMAT).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def _bare(item: Any) -> Any:
    """A numbers list item with its number shown without the + (digits only)."""
    if isinstance(item, dict) and isinstance(item.get("number"), str):
        return dict(item, number=item["number"].lstrip("+"))
    return item


def _list_route(request: ApiRequest) -> Optional[urls.Route]:
    """The route of a GET of a list (connectors, subscriptions, numbers), else None."""
    try:
        route = urls.resolve(request.method, request.path)
    except LookupError:
        return None
    return route if route.handler in FROZEN_LISTS + NUMBER_LISTS else None


def _one_byte_at_a_time(seconds_per_byte: float) -> Callable[[bytes], Iterator[bytes]]:
    def pieces(data: bytes) -> Iterator[bytes]:
        for index in range(len(data)):
            yield data[index:index + 1]
            time.sleep(seconds_per_byte)

    return pieces


class HostileAnswers:
    """An answer hook playing the answers a real service gives when something is off. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._patches: List[_Rule] = []
        self._trickles: List[_Rule] = []
        self._frozen: Optional[Dict[Tuple[str, str], List[Any]]] = None
        # The emulator whose lists freeze_lists() keeps (HostileEmulator sets it).
        self.emulator: Optional[BirdEmulator] = None
        self.clock_offset = 0.0
        self.created_at_offset = 0.0
        self.list_lag = 0.0
        self.repeat_list_items = self.bare_numbers = self.numbers_loop = False

    def date_now(self) -> datetime.datetime:
        """Bird's wall clock, ``clock_offset`` seconds ahead of ours (negative: behind): the Date header."""
        return utc_now() + datetime.timedelta(seconds=self.clock_offset)

    def wall_now(self) -> datetime.datetime:
        """The clock that stamps createdAt and updatedAt (the emulator's ``wall_clock``): Bird's wall clock moved
        on by ``created_at_offset`` (objects stamped by another clock than the answers' Date)."""
        return self.date_now() + datetime.timedelta(seconds=self.created_at_offset)

    @property
    def list_lag(self) -> float:
        """Seconds a new object stays out of lists (by its createdAt; GETs by id see it at once)."""
        return self._list_lag

    @list_lag.setter
    def list_lag(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("list_lag must not be negative")
        self._list_lag = float(seconds)

    def patch_answer(
        self, method: str, path_regex: str, values: Dict[str, Any], *, drop: tuple = (), times: Optional[int] = 1
    ) -> _Rule:
        """Merge ``values`` into the JSON body of the next ``times`` 2xx answers to matching requests and remove
        the ``drop`` keys (after the request was carried out): a foreign id, a malformed one, a missing field."""
        rule = _Rule(method.upper(), re.compile(path_regex), (dict(values), tuple(drop)), times)
        with self._lock:
            self._patches.append(rule)
        return rule

    def trickle(self, method: str, path_regex: str, seconds_per_byte: float, times: Optional[int] = 1) -> _Rule:
        """Write the next ``times`` answers to matching requests (status line, headers and body) one byte every
        ``seconds_per_byte`` (the server gives up when the client goes away)."""
        if seconds_per_byte < 0:
            raise ValueError("seconds_per_byte must not be negative")
        rule = _Rule(method.upper(), re.compile(path_regex), float(seconds_per_byte), times)
        with self._lock:
            self._trickles.append(rule)
        return rule

    def freeze_lists(self) -> None:
        """Connector and subscription lists of the emulator's workspaces keep showing the objects as they are now
        (in one page), whatever happens to them later, until :meth:`clear` (GETs by id stay current): a list far
        behind out-of-band changes."""
        emulator = self.emulator
        if emulator is None:
            raise RuntimeError("freeze_lists needs the emulator: set HostileAnswers.emulator")
        frozen: Dict[Tuple[str, str], List[Any]] = {}
        for workspace_id in emulator.workspace_ids:
            frozen["list_connectors", workspace_id] = emulator.backend.list_all_connectors(workspace_id)
            frozen["list_webhooks", workspace_id] = emulator.backend.list_all_webhooks(
                emulator.organization_id, workspace_id)
        with self._lock:
            self._frozen = frozen

    def clear(self) -> None:
        """Play nothing hostile any more."""
        with self._lock:
            self._patches.clear()
            self._trickles.clear()
            self._frozen = None
        self.clock_offset = self.created_at_offset = self.list_lag = 0.0
        self.repeat_list_items = self.bare_numbers = self.numbers_loop = False

    def __call__(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        """The answer hook: patches, then what lists show, on a 2xx body; the Date header; the trickle."""
        body = response.body
        with self._lock:
            patch = _take(self._patches, request) if 200 <= response.status < 300 and isinstance(body, dict) else None
            trickle = _take(self._trickles, request)
        if patch is not None:
            values, drop = patch.play
            body = {k: v for k, v in {**body, **values}.items() if k not in drop}
        route = _list_route(request) if 200 <= response.status < 300 and isinstance(body, dict) else None
        if route is not None:
            body = self._list_answer(request, route, body)
        pieces = _one_byte_at_a_time(trickle.play) if trickle is not None else response.pieces
        headers = dict(response.headers, Date=email.utils.format_datetime(self.date_now(), usegmt=True))
        return dataclasses.replace(response, body=body, headers=headers, pieces=pieces)

    def _list_answer(self, request: ApiRequest, route: urls.Route, body: Dict[str, Any]) -> Dict[str, Any]:
        """A list's page as played: frozen, lagging, repeated; numbers bare or looping."""
        with self._lock:
            frozen = None if self._frozen is None else self._frozen.get((route.handler, route.params["workspace_id"]))
        if frozen is not None:
            template = request.query.get("templateRef")
            body = {"results": [item for item in frozen if not template or item["connectorTemplateRef"] == template]}
        body = dict(body, results=self._listed(body.get("results") or [], lagging=route.handler in FROZEN_LISTS))
        if route.handler in NUMBER_LISTS and self.bare_numbers:
            body["results"] = [_bare(item) for item in body["results"]]
        if route.handler in NUMBER_LISTS and self.numbers_loop:  # a valid token, always the same: the first page
            body["nextPageToken"] = encode_page_token("numbers", 0)
        return body

    def _listed(self, items: List[Any], lagging: bool) -> List[Any]:
        if lagging and self.list_lag > 0:
            shown_until = self.wall_now() - datetime.timedelta(seconds=self.list_lag)
            items = [item for item in items if (_created_at(item) or shown_until) <= shown_until]
        if self.repeat_list_items:
            items = [item for item in items for _ in (0, 1)]
        return items


@dataclasses.dataclass(frozen=True)
class RateStats:
    """What one workspace sent: totals, peaks in any one-second window, and the 429s it got.

    ``peak_gets_per_second`` counts every GET answered (refused ones too): the rate the client sent, which is what
    a benchmark compares with Bird's 50/s. ``rate_limited_*`` count the emulator's rate-limit 429s;
    ``too_many_requests`` counts every 429 answered to the workspace, injected faults included.
    """

    gets: int = 0
    posts: int = 0
    peak_gets_per_second: int = 0
    peak_posts_per_second: int = 0
    rate_limited_gets: int = 0
    rate_limited_posts: int = 0
    too_many_requests: int = 0


@dataclasses.dataclass
class _MethodCount:
    window: Deque[float] = dataclasses.field(default_factory=collections.deque)
    total: int = 0
    peak: int = 0
    refused: int = 0


def _rate_limited(response: ApiResponse) -> bool:
    """A 429 of the emulator's limiter (its Error body names the limit), not an injected one."""
    details = response.body.get("details") if isinstance(response.body, dict) else None
    return isinstance(details, dict) and "limitPerSecond" in details


class RateCounter:
    """An answer hook counting GETs and POSTs per workspace over sliding one-second windows of ``clock``
    (the emulator's), and the 429s. Thread-safe; memory per workspace is bounded by one second's requests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: Dict[Tuple[str, str], _MethodCount] = {}
        self._too_many: Dict[str, int] = collections.Counter()

    def __call__(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        try:
            workspace_id = urls.resolve(request.method, request.path).params.get("workspace_id", "")
        except LookupError:
            return response
        if response.status == 401:  # refused before Bird looked at the workspace
            return response
        now = self._clock()
        with self._lock:
            if request.method in ("GET", "POST"):
                count = self._counts.setdefault((workspace_id, request.method), _MethodCount())
                while count.window and now - count.window[0] >= WINDOW_SECONDS:
                    count.window.popleft()
                count.window.append(now)
                count.total += 1
                count.peak = max(count.peak, len(count.window))
                count.refused += response.status == 429 and _rate_limited(response)
            if response.status == 429:
                self._too_many[workspace_id] += 1
        return response

    def stats(self, workspace_id: str) -> RateStats:
        """The figures of one workspace since the start or the last :meth:`reset`."""
        with self._lock:
            get = self._counts.get((workspace_id, "GET"), _MethodCount())
            post = self._counts.get((workspace_id, "POST"), _MethodCount())
            return RateStats(get.total, post.total, get.peak, post.peak, get.refused, post.refused,
                             self._too_many.get(workspace_id, 0))

    def reset(self) -> None:
        """Forget every total, peak and 429."""
        with self._lock:
            self._counts.clear()
            self._too_many.clear()


class HostileEmulator(BirdEmulator):
    """A :class:`BirdEmulator` (same arguments) that can play hostile answers (``hostile``) and counts request
    rates (``rate_stats``), through its answer hooks and its wall clock."""

    def __init__(self, **kwargs: Any) -> None:
        self.hostile = HostileAnswers()
        super().__init__(wall_clock=self.hostile.wall_now, **kwargs)
        self.hostile.emulator = self
        self.rates = RateCounter(kwargs.get("clock", time.monotonic))
        self.answer_hooks.extend([self.hostile, self.rates])  # the counter sees the answer as sent

    def clear_answers(self) -> None:
        """Play only Bird's own answers again: no fault, no hostile answer."""
        self.faults.clear()
        self.hostile.clear()

    def rate_stats(self, workspace_id: Optional[str] = None) -> RateStats:
        """Totals, peaks per second and 429s of one workspace (default: the emulator's own)."""
        return self.rates.stats(workspace_id or self.workspace_id)

    def reset_rate_stats(self) -> None:
        """Start the rate figures afresh."""
        self.rates.reset()
