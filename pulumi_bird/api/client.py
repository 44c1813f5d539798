"""The one HTTP client for Bird's Connectors and webhook-subscription endpoints.

Retries, backoff and GET pacing live here and nowhere else. Every failure is raised as a
:class:`~pulumi_bird.api.errors.BirdError` subclass naming the method and URL; the access key and the secrets of
the request (signing keys, security arguments, invitation tokens) are redacted from everything an error
carries, whatever Bird echoes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, SecretStr, ValidationError

from . import errors
from .errors import ConfigError
from .evidence import PUBLIC_ARGUMENTS, url_secrets
from .models import (
    Connector,
    ConnectorStatus,
    CreateConnectorRequest,
    CreateWebhookSubscriptionRequest,
    Page,
    UpdateWebhookSubscriptionRequest,
    WebhookSubscription,
)
from .pacing import GetBudget, GetPacer
from .pool import pooled_session
from .retry import RetryPolicy, backoff_delay, is_retryable, parse_retry_after
from .transport import MAX_ANSWER_BYTES, DeadlineExceeded, TooLarge, exchange
from .values import DEFAULT_API_URL, validate_api_url

# (connect, read) seconds. Connecting to Bird takes well under a second; reads are small JSON documents.
# A request that exceeds these is treated as a connection failure (retried for idempotent methods).
DEFAULT_TIMEOUT = (5.0, 30.0)
# The whole of one attempt, from sending to the last byte of the answer, in real time: the read timeout bounds
# each read, so an answer trickled a byte at a time would outlive it (and is as broken as a stalled read).
REQUEST_DEADLINE = 30.0
# Bird's maximum page size for connector and subscription lists (limit <= 100).
MAX_PAGE_SIZE = 100
# A guard against a server that keeps handing out page tokens: 1000 pages of 100 is far beyond any workspace.
MAX_PAGES = 1000
# And on what one listing may read in all, whatever the size of its pages (a workspace of 1000 connectors is
# well under 1 MiB), so that a server handing out huge pages cannot fill the host's memory.
MAX_LIST_BYTES = 16 * 1024 * 1024
USER_AGENT = "pulumi-bird/0.1"
# How much of an unreadable answer an error quotes.
SNIPPET_CHARS = 80

M = TypeVar("M", bound=BaseModel)
log: logging.Logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A 2xx answer: its decoded JSON body (None when empty), status, URL and size in bytes."""

    body: Any
    status: int
    url: str
    size: int


def _seg(value: str) -> str:
    """One URL path segment, escaped so that an id can never change the path (``.`` and ``..`` too, which
    requests would otherwise resolve as dot segments)."""
    segment = quote(str(value), safe="")
    return segment.replace(".", "%2E") if segment.strip(".") == "" else segment


def header_safe_key(access_key: Optional[str]) -> str:
    """The access key without surrounding whitespace; a ConfigError (never quoting the key) when it cannot be
    sent in an HTTP header: a line break or other control character inside, or a character outside Latin-1."""
    key = (access_key or "").strip()
    if not key:
        raise errors.AuthenticationError("no Bird access key: set bird:accessKey or BIRD_ACCESS_KEY")
    bad = next((at for at, char in enumerate(key, 1) if ord(char) < 0x20 or ord(char) == 0x7F or ord(char) > 0xFF), 0)
    if bad:
        code = ord(key[bad - 1])
        problem = (f"a control character (U+{code:04X}, such as a line break)" if code <= 0x7F
                   else f"a character that cannot be sent in an HTTP header (U+{code:04X})")
        raise ConfigError(f"the Bird access key contains {problem} at position {bad} of {len(key)}: check "
                          "bird:accessKey or BIRD_ACCESS_KEY (the key itself is not shown)")
    return key


def argument_secrets(arguments: Optional[Mapping[str, Any]]) -> list[str]:
    """Every string inside connector ``arguments`` but the values of documented plain ids and choices
    (:data:`~.evidence.PUBLIC_ARGUMENTS`): the dynamic host strips secret markers, so any may be a credential."""
    return _strings({k: v for k, v in (arguments or {}).items() if k not in PUBLIC_ARGUMENTS}, plain=True)


def _strings(value: Any, *, plain: bool) -> list[str]:
    """Every ``SecretStr`` value (and, when ``plain``, every non-empty string) in models, mappings and lists."""
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    if isinstance(value, BaseModel):
        value = [getattr(value, name) for name in type(value).model_fields]
    elif isinstance(value, Mapping):
        value = list(value.values())
    elif not isinstance(value, (list, tuple)):
        return [value] if plain and isinstance(value, str) and value else []
    return [found for item in value for found in _strings(item, plain=plain)]


class BirdClient:
    """A thin, typed client over ``requests``.

    ``get_budget`` paces GETs per workspace (see :mod:`pulumi_bird.api.pacing`); the provider passes the budget
    its process shares (:func:`pulumi_bird.provider.config.get_budget`), and without one GETs are not paced. ``sleep``
    and ``clock`` are injectable so that retry timing can be tested without waiting.
    """

    def __init__(
        self,
        access_key: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        session: Optional[requests.Session] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        get_budget: Optional[GetBudget] = None,
        request_deadline: float = REQUEST_DEADLINE,
    ) -> None:
        self._access_key = header_safe_key(access_key)
        self.request_deadline = request_deadline
        self.api_url: str = validate_api_url(api_url)  # the key goes to this host only: refused when unclear
        self.timeout = timeout
        self.retry = retry
        self.get_budget = get_budget
        self._session = session or pooled_session(self.api_url)
        self._sleep = sleep
        self._clock = clock
        # every secret this client has sent (redacted from whatever Bird says back, in any later answer)
        self._sent_secrets: set[str] = set()
        # the collections (paths) whose route Bird answered, so that a 404 beneath them means "no such object"
        self._answering: set[str] = set()

    def __repr__(self) -> str:  # never show the key
        return f"BirdClient(api_url={self.api_url!r})"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("BirdClient holds a secret and a live session; it must not be pickled")

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "BirdClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def pacer(self, workspace_id: str) -> Optional[GetPacer]:
        """The GET pacer of ``workspace_id`` (None when this client does not pace)."""
        return self.get_budget.for_workspace(workspace_id) if self.get_budget is not None else None

    # --- transport ----------------------------------------------------------------------------------------

    def request(self, method: str, path: str, **options: Any) -> Any:
        """Send one request (retried as the policy allows); its decoded JSON body (None when empty).

        ``options`` are :meth:`_send`'s. Raises the :mod:`~pulumi_bird.api.errors` class of the final answer's
        status, UnexpectedResponseError for a 2xx that is not JSON or any 3xx (redirects are never followed), or
        APIConnectionError naming how long and how often it tried."""
        return self._send(method, path, **options).body

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Optional[dict[str, Any]] = None,
        body: Optional[dict[str, Any]] = None,
        retry: Optional[RetryPolicy] = None,
        workspace_id: Optional[str] = None,
        secrets: Iterable[str] = (),
        priority: Optional[float] = None,
        deadline: Optional[float] = None,
        attempt_seconds: Optional[float] = None,
    ) -> Answer:
        """:meth:`request`, returning the whole :class:`Answer`. A GET naming its ``workspace_id`` is paced by the
        workspace's budget, ``priority`` (a time, default now) ordering it among the GETs waiting; no pacer wait
        or retry pause goes past ``deadline`` (on :meth:`now`; each attempt also has its own
        :data:`REQUEST_DEADLINE`). ``secrets`` are redacted from errors like the access key."""
        policy = retry or self.retry
        url = self.api_url + path
        self._sent_secrets.update(s for s in secrets if s)  # redacted from this answer and every later one
        started = self._clock()
        ends = started + policy.total_seconds if deadline is None else min(deadline, started + policy.total_seconds)
        failures = throttled = 0
        pace = self.pacer(workspace_id) if method == "GET" and workspace_id else None
        while True:
            first = failures + throttled == 0
            outcome = self._attempt(method, url, params, body, pace, priority if first else None, ends,
                                    min(self.request_deadline, attempt_seconds or self.request_deadline))
            if isinstance(outcome, Answer):
                return outcome
            failure = outcome
            if isinstance(failure, errors.RateLimitError):
                throttled += 1
            else:
                failures += 1
            if isinstance(failure, errors.APIConnectionError):
                failure = self._connection_error(method, url, failure, failures + throttled, started)
            delay = self._retry_delay(method, failure, failures, throttled, started, policy)
            if delay is None or self._clock() + delay > ends:
                raise failure
            log.info("%s %s failed (%s); retry %d in %.2fs", method, url, failure.status or "no answer",
                     failures + throttled, delay)
            self._sleep(delay)

    def _attempt(
        self, method: str, url: str, params: Optional[dict[str, Any]], body: Optional[dict[str, Any]],
        pace: Optional[GetPacer], priority: Optional[float], ends: float, seconds: float,
    ) -> "Answer | errors.BirdError":
        """One attempt within ``seconds`` of real time, status line to last byte (see :mod:`.transport`), after
        the pacer's go-ahead for a GET: an Answer, or the error it means (a RateLimitError when the go-ahead
        cannot come before ``ends``: the request was not sent)."""
        slot = pace.acquire(priority, timeout=max(0.0, ends - self._clock())) if pace is not None else None
        if pace is not None and slot is None:
            return errors.RateLimitError(
                "not sent: Bird asked this workspace to slow down (429 Retry-After) until after this request's "
                "deadline", method=method, url=url, status=429)
        try:
            response = exchange(
                self._session, method, url, seconds, params=params, json=body,
                timeout=(min(self.timeout[0], seconds), min(self.timeout[1], seconds)),
                headers={"Authorization": f"AccessKey {self._access_key}", "Accept": "application/json",
                         "User-Agent": USER_AGENT},
            )
        except requests.RequestException as exc:
            return errors.APIConnectionError(type(exc).__name__, method=method, url=url,
                                             timed_out=isinstance(exc, (requests.Timeout, DeadlineExceeded)))
        finally:
            if slot is not None:
                slot.done()  # Bird has counted it by now: the window of this GET starts here at the latest
        return self._outcome(method, url, response, pace)

    def _outcome(
        self, method: str, url: str, response: requests.Response, pace: Optional[GetPacer]
    ) -> "Answer | errors.BirdError":
        """A 2xx as an Answer; any other answer as the error it means (raised at once when it must not be
        retried: a redirect, a 2xx that cannot be read). A 429 also slows the workspace's pacer."""
        status = response.status_code
        log.debug("%s %s -> %s in %.2fs", method, url, status, response.elapsed.total_seconds())
        if 200 <= status < 300:
            return Answer(self._decode_ok(method, url, response), status, url, len(response.content))
        if status < 400:
            raise self._unexpected(
                method, url, status,
                f"a redirect to {response.headers.get('Location') or 'nowhere'}: the client follows no "
                "redirect (a write must not be replayed elsewhere, nor the key sent there); "
                "check bird:apiUrl / BIRD_API_URL",
                cls=errors.RedirectError,
            )
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429 and pace is not None:
            # capped as the client caps its own wait: one huge Retry-After must not freeze the workspace
            pace.slow_down(None if retry_after is None else min(retry_after, self.retry.max_retry_after))
        return errors.error_from_response(
            method=method, url=url, status=status, body=_json_or_none(response),
            request_id=response.headers.get("X-Request-Id"), retry_after=retry_after, secrets=self._secrets(),
        )

    def hide(self, values: Iterable[Any]) -> None:
        """Redact ``values`` (secrets a call holds from state without sending them, which Bird may still echo;
        strings however nested) from every later error, like the secrets this client sent."""
        self._sent_secrets.update(_strings(list(values), plain=True))

    def redact(self, text: str) -> str:
        """``text`` without the access key or any secret this client has sent, whole or cut."""
        return errors.redact(text, self._secrets())

    def _secrets(self) -> list[str]:
        return [self._access_key, *self._sent_secrets]

    # --- retrying around the client: for callers that must act between attempts --------------------------------

    def now(self) -> float:
        """The client's clock (injectable; monotonic seconds)."""
        return self._clock()

    def pause(self, seconds: float) -> None:
        """Sleep with the client's sleep (injectable)."""
        self._sleep(seconds)

    def retry_delay(
        self,
        failure: errors.BirdError,
        attempt: int,
        started: float,
        *,
        repeatable: bool = False,
    ) -> Optional[float]:
        """Seconds to wait before attempt ``attempt + 1`` of a request that failed with ``failure`` (the first
        attempt at ``started`` on :meth:`now`), or None to give up: :meth:`request`'s own rules and budget, for a
        caller that acts between attempts. ``repeatable=True``: the caller proved the request safe to repeat (a
        POST found not to have landed), so 5xx and connection failures are retried as for a GET."""
        method = "GET" if repeatable else (failure.method or "POST")
        if failure.status is None and not isinstance(failure, errors.APIConnectionError):
            return None  # an answer we could not use: not a transient failure
        throttled = attempt if failure.status == 429 else 0
        return self._retry_delay(method, failure, attempt - throttled, throttled, started, self.retry)

    def _retry_delay(
        self, method: str, failure: errors.BirdError, failures: int, throttled: int, started: float,
        policy: RetryPolicy,
    ) -> Optional[float]:
        """Seconds to wait before the next attempt, or None to give up. A 429 (Bird did not process the request)
        waits its Retry-After or a growing backoff; a 5xx or a connection failure is retried at most
        ``policy.max_attempts`` attempts in all, and only for methods safe to repeat."""
        status = None if isinstance(failure, errors.APIConnectionError) else failure.status
        retry_after = failure.retry_after if isinstance(failure, errors.RateLimitError) else None
        if not is_retryable(method, status):
            return None
        if status == 429:
            if throttled >= policy.max_rate_limited_attempts:
                return None
            if retry_after is not None and retry_after > policy.max_retry_after:
                return None
            delay = retry_after if retry_after is not None else backoff_delay(throttled, policy)
        else:
            if failures + throttled >= policy.max_attempts:
                return None
            delay = backoff_delay(failures, policy)
        if self._clock() - started + delay > policy.total_seconds:
            return None
        return delay

    def _unexpected(
        self, method: str, url: str, status: int, what: str,
        cls: type[errors.UnexpectedResponseError] = errors.UnexpectedResponseError,
    ) -> errors.UnexpectedResponseError:
        return cls(self.redact(f"Bird's answer could not be used: {what}"), method=method, url=url, status=status)

    def _decode_ok(self, method: str, url: str, response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type") or "no content type"
            text = response.content[:SNIPPET_CHARS].decode("utf-8", "replace")
            raise self._unexpected(
                method, url, response.status_code,
                f"the body is not JSON, or is cut short ({kind}, {len(response.content)} bytes, "
                f"starting {text!r})") from None

    def _typed(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return self._read(model, method, self._send(method, path, **kwargs))

    def _read(self, model: type[M], method: str, answer: Answer) -> M:
        """``answer`` read as ``model``: one UnexpectedResponseError naming what is missing or wrong (never the
        values) when it does not fit."""
        if answer.body is None:
            raise self._unexpected(method, answer.url, answer.status, f"no body where a {model.__name__} was expected")
        try:
            return model.model_validate(answer.body)
        except ValidationError as exc:
            raise self._unexpected(method, answer.url, answer.status,
                                   f"not a {model.__name__}: {_problems(exc)}") from None

    def _connection_error(
        self, method: str, url: str, lost: errors.APIConnectionError, attempt: int, started: float
    ) -> errors.APIConnectionError:
        """The error of an attempt that got no usable answer (``lost`` names what requests raised)."""
        if lost.timed_out:
            reason = "timed out"
        elif lost.args and lost.args[0] == TooLarge.__name__:
            reason = f"sent an answer over {MAX_ANSWER_BYTES // (1024 * 1024)} MiB (decompressed; not read further)"
        else:
            reason = "could not connect"
        elapsed = self._clock() - started
        return errors.APIConnectionError(
            f"Bird API at {self.api_url} {reason} after {attempt} attempt(s) over {elapsed:.1f}s "
            f"({lost.args[0] if lost.args else 'no answer'}); check bird:apiUrl / BIRD_API_URL and the network",
            method=method,
            url=url,
            timed_out=lost.timed_out,
        )

    def pages(
        self, path: str, workspace_id: str, params: Optional[dict[str, Any]] = None, page_size: int = MAX_PAGE_SIZE
    ) -> Iterator[tuple[Answer, Page]]:
        """Every page of a list endpoint, lazily, following ``nextPageToken`` until the last page or a token
        already followed (a server going round in circles). Bounded by :data:`MAX_PAGES` pages and
        :data:`MAX_LIST_BYTES` bytes in all."""
        query = dict(params or {}, limit=page_size)
        tokens: set[str] = set()
        size = 0
        for _ in range(MAX_PAGES):
            answer = self._send("GET", path, params=dict(query), workspace_id=workspace_id)
            size += answer.size
            if size > MAX_LIST_BYTES:
                break
            page = self._read(Page, "GET", answer)
            yield answer, page
            token = page.next_page_token
            if not token or token in tokens:
                return
            tokens.add(token)
            query["pageToken"] = token
        raise errors.BirdError(
            f"gave up listing {path} after {MAX_PAGES} pages or {MAX_LIST_BYTES // (1024 * 1024)} MiB",
            method="GET", url=self.api_url + path)

    def _paginate(self, path: str, params: dict[str, Any], model: type[M], workspace_id: str) -> Iterator[M]:
        """Every item of a list endpoint's :meth:`pages` once: an id already yielded is skipped (a server may list
        an object twice, across pages or within one), and a page of nothing but items already seen ends the
        listing (the server is going round in circles: the pages from there repeat what was read)."""
        seen: set[str] = set()
        for answer, page in self.pages(path, workspace_id, params):
            fresh = 0
            for index, raw in enumerate(page.results):
                try:
                    item = model.model_validate(raw)
                except ValidationError as exc:
                    raise self._unexpected(
                        "GET", answer.url, 200, f"item {index} of a page is not a {model.__name__}: {_problems(exc)}"
                    ) from None
                if item.id not in seen:  # type: ignore[attr-defined]
                    seen.add(item.id)  # type: ignore[attr-defined]
                    fresh += 1
                    yield item
            if page.results and not fresh:
                return

    # --- connectors ---------------------------------------------------------------------------------------

    @staticmethod
    def _connectors_path(workspace_id: str) -> str:
        return f"/workspaces/{_seg(workspace_id)}/connectors"

    def create_connector(self, workspace_id: str, request: CreateConnectorRequest) -> Connector:
        """Install a connector. Not retried on 5xx or connection failures: the caller must find out whether
        Bird committed it (see :func:`pulumi_bird.api.create.create_exactly_once`)."""
        return self._typed(Connector, "POST", self._connectors_path(workspace_id), body=request.to_body(),
                           secrets=[*_strings(request, plain=False), *argument_secrets(request.arguments)])

    def get_connector(self, workspace_id: str, connector_id: str) -> Connector:
        """The connector; a ForeignObjectError when Bird's answer is another connector (or workspace)."""
        return self._get(Connector, "connector", self._connectors_path(workspace_id), connector_id, workspace_id)

    def find_connector(self, workspace_id: str, connector_id: str) -> Optional[Connector]:
        """The connector, or None when Bird says 404 and its collection answers (:meth:`confirm_route`)."""
        return self._find(Connector, "connector", self._connectors_path(workspace_id), connector_id, workspace_id)

    def get_connector_status(
        self, workspace_id: str, connector_id: str, *, priority: Optional[float] = None,
        deadline: Optional[float] = None, attempt_seconds: Optional[float] = None,
    ) -> ConnectorStatus:
        """The connector's status; ``priority`` (the time the poll became due) orders it among waiting GETs, no
        pacing or retry wait goes past ``deadline`` (a time on :meth:`now`), and ``attempt_seconds`` shortens
        the whole-request deadline of each attempt."""
        path = f"{self._connectors_path(workspace_id)}/{_seg(connector_id)}/status"
        return self._typed(ConnectorStatus, "GET", path, workspace_id=workspace_id, priority=priority,
                           deadline=deadline, attempt_seconds=attempt_seconds)

    def list_connectors(
        self, workspace_id: str, template_ref: Optional[str] = None, *, newest_first: bool = False
    ) -> Iterator[Connector]:
        """Every connector of the workspace (optionally of one template), across pages, lazily: stop iterating
        and no further page is read. ``newest_first`` asks Bird for the reverse order (``reverse=true``)."""
        params: dict[str, Any] = {"templateRef": template_ref} if template_ref else {}
        if newest_first:
            params["reverse"] = "true"
        return self._paginate(self._connectors_path(workspace_id), params, Connector, workspace_id)

    def delete_connector(self, workspace_id: str, connector_id: str) -> None:
        """Delete a connector and its channel. Raises NotFoundError when it is already gone (and its collection
        answers: a route Bird does not serve is a ConfigError)."""
        self._delete(self._connectors_path(workspace_id), connector_id, "connector", workspace_id)

    # --- webhook subscriptions ----------------------------------------------------------------------------

    @staticmethod
    def _webhooks_path(organization_id: str, workspace_id: str) -> str:
        return f"/organizations/{_seg(organization_id)}/workspaces/{_seg(workspace_id)}/webhook-subscriptions"

    def create_webhook_subscription(
        self, organization_id: str, workspace_id: str, request: CreateWebhookSubscriptionRequest
    ) -> WebhookSubscription:
        """Create a subscription. Not retried on 5xx or connection failures (see create_connector)."""
        return self._typed(WebhookSubscription, "POST", self._webhooks_path(organization_id, workspace_id),
                           body=request.to_body(),
                           secrets=[*_strings(request, plain=False), *url_secrets(request.url)])

    def find_webhook_subscription(
        self, organization_id: str, workspace_id: str, subscription_id: str
    ) -> Optional[WebhookSubscription]:
        """The subscription, or None when Bird says 404 and its collection answers (:meth:`confirm_route`)."""
        collection = self._webhooks_path(organization_id, workspace_id)
        return self._find(WebhookSubscription, "webhook subscription", collection, subscription_id, workspace_id)

    def list_webhook_subscriptions(self, organization_id: str, workspace_id: str) -> Iterator[WebhookSubscription]:
        return self._paginate(self._webhooks_path(organization_id, workspace_id), {}, WebhookSubscription, workspace_id)

    def update_webhook_subscription(
        self, organization_id: str, workspace_id: str, subscription_id: str, request: UpdateWebhookSubscriptionRequest
    ) -> WebhookSubscription:
        """PATCH a subscription: Bird's answer, checked to be this subscription (a ForeignObjectError
        otherwise). A 404 (its collection answering) says Bird does not show it now."""
        collection = self._webhooks_path(organization_id, workspace_id)
        path = f"{collection}/{_seg(subscription_id)}"
        try:
            found = self._typed(WebhookSubscription, "PATCH", path, body=request.to_body(),
                                secrets=[*_strings(request, plain=False), *url_secrets(request.url)])
        except errors.NotFoundError as exc:
            self.confirm_route(collection, workspace_id)
            raise exc.with_summary(
                f"Bird answers 404 for webhook subscription {subscription_id}: it does not show it now (deleted "
                "outside this stack, or a write Bird does not show yet). Run `pulumi refresh`; if it is gone, "
                "refresh drops it and `pulumi up` creates it again") from None
        return self.ours(found, "webhook subscription", subscription_id, workspace_id, "PATCH", path)

    def delete_webhook_subscription(self, organization_id: str, workspace_id: str, subscription_id: str) -> None:
        """Delete a subscription. Raises NotFoundError when it is already gone (and its collection answers)."""
        self._delete(self._webhooks_path(organization_id, workspace_id), subscription_id, "webhook subscription",
                     workspace_id)

    # --- evidence: whose object an answer is, and whether a 404 means "gone" ------------------------------------

    def ours(self, found: Any, what: str, object_id: str, workspace_id: str, method: str, path: str) -> Any:
        """``found`` when it is the object asked for (same id; same workspace where the answer names one), else
        a ForeignObjectError naming both: nothing it names is stored, adopted or deleted."""
        theirs = getattr(found, "workspace_id", None)
        if found.id == object_id and theirs in (None, workspace_id):
            return found
        other = f"{found.id!r:.60}" + (f" of workspace {theirs!r:.60}" if theirs not in (None, workspace_id) else "")
        raise errors.ForeignObjectError(
            self.redact(f"{method} of {what} {object_id} was answered with {what} {other}: not taken, nothing "
                        "stored or deleted (a proxy or cache between us and Bird? check bird:apiUrl / BIRD_API_URL)"),
            method=method, url=self.api_url + path, status=200)

    def _get(self, model: type[M], what: str, collection: str, object_id: str, workspace_id: str) -> M:
        path = f"{collection}/{_seg(object_id)}"
        return self.ours(self._typed(model, "GET", path, workspace_id=workspace_id), what, object_id, workspace_id,
                         "GET", path)

    def _find(self, model: type[M], what: str, collection: str, object_id: str, workspace_id: str) -> Optional[M]:
        try:
            return self._get(model, what, collection, object_id, workspace_id)
        except errors.NotFoundError:
            self.confirm_route(collection, workspace_id)
            return None

    def confirm_route(self, collection: str, workspace_id: str) -> None:
        """Before a 404 beneath ``collection`` is taken as "no such object": check once per client that Bird
        answers the collection itself. A 404 there means the route (bird:apiUrl, or the workspace) is wrong, and
        no 404 beneath it proves anything: a ConfigError naming bird:apiUrl."""
        if collection in self._answering:
            return
        try:
            self._send("GET", collection, params={"limit": 1}, workspace_id=workspace_id)
        except errors.NotFoundError as exc:
            raise ConfigError(
                f"Bird's API at {self.api_url} answers 404 for {collection} itself, so its 404s say nothing about "
                f"objects: check bird:apiUrl / BIRD_API_URL (Bird's is {DEFAULT_API_URL}, serving paths such as "
                "/workspaces/{workspaceId}/connectors) and the workspace id. Nothing was taken as deleted",
                method="GET", url=exc.url, status=exc.status) from None
        self._answering.add(collection)

    def _delete(self, collection: str, object_id: str, what: str, workspace_id: str) -> None:
        path = f"{collection}/{_seg(object_id)}"
        try:
            body = self.request("DELETE", path)
        except errors.NotFoundError:
            self.confirm_route(collection, workspace_id)
            raise
        named = body.get("id") if isinstance(body, Mapping) else None
        if named is not None and named != object_id:
            raise errors.ForeignObjectError(self.redact(
                f"DELETE of {what} {object_id} was answered with {what} {named!r:.60}: not counted as deleted "
                "(check bird:apiUrl / BIRD_API_URL)"), method="DELETE", url=self.api_url + path, status=200)


def _json_or_none(response: requests.Response) -> Any:
    """The JSON body of an error answer, or None when there is none or it is not JSON (a proxy's HTML page)."""
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _problems(exc: ValidationError, limit: int = 5) -> str:
    """What a validation failure found missing or wrong, by field path, without the values."""
    found = []
    for problem in exc.errors(include_input=False, include_url=False)[:limit]:
        where = ".".join(str(part) for part in problem.get("loc", ())) or "the body"
        found.append(f"{where} is missing" if problem.get("type") == "missing" else f"{where}: {problem.get('msg')}")
    more = exc.error_count() - limit
    return "; ".join(found) + (f"; and {more} more" if more > 0 else "")
