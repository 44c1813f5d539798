"""The one HTTP client for Bird's Connectors and webhook-subscription endpoints.

Retries, backoff and GET pacing live here and nowhere else. Every failure is raised as a
:class:`~pulumi_bird.api.errors.BirdError` subclass naming the method and URL; the access key and the secrets of
the request (signing keys, security arguments, invitation tokens) are redacted from everything an error
carries, whatever Bird echoes.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterable, Iterator, Optional, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel, SecretStr, ValidationError

from . import errors
from .errors import ConfigError
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
from .values import DEFAULT_API_URL

# (connect, read) seconds. Connecting to Bird takes well under a second; reads are small JSON documents.
# A request that exceeds these is treated as a connection failure (retried for idempotent methods).
DEFAULT_TIMEOUT = (5.0, 30.0)
# Bird's maximum page size for connector and subscription lists (limit <= 100).
MAX_PAGE_SIZE = 100
# A guard against a server that keeps handing out page tokens: 1000 pages of 100 is far beyond any workspace.
MAX_PAGES = 1000
USER_AGENT = "pulumi-bird/0.1"
# How much of an unreadable answer an error quotes.
SNIPPET_CHARS = 80

M = TypeVar("M", bound=BaseModel)
log: logging.Logger = logging.getLogger(__name__)


def _seg(value: str) -> str:
    """One URL path segment, escaped so that an id can never change the path."""
    return quote(str(value), safe="")


def header_safe_key(access_key: Optional[str]) -> str:
    """The access key without surrounding whitespace; a ConfigError (never quoting the key) when it cannot be
    sent in an HTTP header: a line break or other control character inside, or a character outside Latin-1."""
    key = (access_key or "").strip()
    if not key:
        raise errors.AuthenticationError("no Bird access key: set bird:accessKey or BIRD_ACCESS_KEY")
    for position, char in enumerate(key, 1):
        if ord(char) < 0x20 or ord(char) == 0x7F:
            problem = f"a control character (U+{ord(char):04X}, such as a line break) at position {position}"
        elif ord(char) > 0xFF:
            problem = f"a character that cannot be sent in an HTTP header (U+{ord(char):04X}) at position {position}"
        else:
            continue
        raise ConfigError(
            f"the Bird access key contains {problem} of {len(key)}: check bird:accessKey or BIRD_ACCESS_KEY "
            "(the key itself is not shown)"
        )
    return key


def secrets_of(request: Optional[BaseModel]) -> list[str]:
    """The secret values (every ``SecretStr``, however nested) of a request model."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(request)
    return found


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
    ) -> None:
        self._access_key = header_safe_key(access_key)
        self.api_url: str = api_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self.get_budget = get_budget
        self._session = session or pooled_session(self.api_url)
        self._sleep = sleep
        self._clock = clock

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
        """Send one request (with retries as the policy allows) and return the decoded JSON body (None when
        the answer has no body). ``options``: ``params``, ``body``, ``retry`` (a RetryPolicy), ``workspace_id``,
        ``secrets``, ``priority``.

        GETs that name their ``workspace_id`` are paced by the workspace's budget; ``priority`` (a time, default
        now) orders them among the GETs waiting for it. ``secrets`` (the request body's secret values) are
        redacted from errors like the access key. Raises the :mod:`~pulumi_bird.api.errors` class chosen by the
        final answer's status, :class:`~pulumi_bird.api.errors.UnexpectedResponseError` for a 2xx that is not JSON
        or any 3xx (redirects are never followed), or :class:`~pulumi_bird.api.errors.APIConnectionError` naming
        how long and how often it tried.
        """
        return self._send(method, path, **options)[0]

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
    ) -> tuple[Any, int, str]:
        """:meth:`request`, returning (decoded body, status, URL)."""
        policy = retry or self.retry
        url = self.api_url + path
        secrets = [self._access_key, *secrets]
        started = self._clock()
        failures = throttled = 0
        pace = self.pacer(workspace_id) if method == "GET" and workspace_id else None
        while True:
            slot = pace.acquire(priority if failures + throttled == 0 else None) if pace is not None else None
            response: Optional[requests.Response] = None
            lost: Optional[requests.RequestException] = None
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    timeout=self.timeout,
                    allow_redirects=False,
                    headers={
                        "Authorization": f"AccessKey {self._access_key}",
                        "Accept": "application/json",
                        "User-Agent": USER_AGENT,
                    },
                )
            except requests.RequestException as exc:
                lost = exc
            finally:
                if slot is not None:
                    slot.done()  # Bird has counted it by now: the window of this GET starts here at the latest
            if response is None:
                failures += 1
                failure: errors.BirdError = self._connection_error(method, url, lost, failures + throttled, started)
                status: Optional[int] = None
                retry_after: Optional[float] = None
            else:
                status = response.status_code
                log.debug("%s %s -> %s in %.2fs", method, url, status, response.elapsed.total_seconds())
                if 200 <= status < 300:
                    return self._decode_ok(method, url, response, secrets), status, url
                if status < 400:
                    raise self._unexpected(
                        method, url, status, secrets,
                        f"a redirect to {response.headers.get('Location') or 'nowhere'}: the client follows no "
                        "redirect (a write must not be replayed elsewhere, nor the key sent there); "
                        "check bird:apiUrl / BIRD_API_URL",
                        cls=errors.RedirectError,
                    )
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                failure = errors.error_from_response(
                    method=method,
                    url=url,
                    status=status,
                    body=_json_or_none(response),
                    request_id=response.headers.get("X-Request-Id"),
                    retry_after=retry_after,
                    secrets=secrets,
                )
                if status == 429:
                    throttled += 1
                    if pace is not None:
                        pace.slow_down(retry_after)
                else:
                    failures += 1
            delay = self._retry_delay(method, status, retry_after, failures, throttled, started, policy)
            if delay is None:
                raise failure
            log.info("%s %s failed (%s); retry %d in %.2fs", method, url, status or "no answer",
                     failures + throttled, delay)
            self._sleep(delay)

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
        policy: Optional[RetryPolicy] = None,
    ) -> Optional[float]:
        """Seconds to wait before attempt ``attempt + 1`` of a request that failed with ``failure`` (after
        ``attempt`` attempts, the first at ``started`` on :meth:`now`), or None to give up: the same decision,
        backoff and budget :meth:`request` applies to its own retries.

        For a caller that must do something between attempts, such as the create recovery, which looks up
        whether an ambiguous POST landed before posting again: ``repeatable=True`` says that this look-up
        proved the request safe to repeat (a POST found not to have landed), so 5xx and connection failures
        are retried as for a GET.
        """
        method = "GET" if repeatable else (failure.method or "POST")
        status = None if isinstance(failure, errors.APIConnectionError) else failure.status
        if status is None and not isinstance(failure, errors.APIConnectionError):
            return None  # an answer we could not use: not a transient failure
        throttled = attempt if status == 429 else 0
        retry_after = failure.retry_after if isinstance(failure, errors.RateLimitError) else None
        return self._retry_delay(method, status, retry_after, attempt - throttled, throttled, started, policy or self.retry)

    def _retry_delay(
        self,
        method: str,
        status: Optional[int],
        retry_after: Optional[float],
        failures: int,
        throttled: int,
        started: float,
        policy: RetryPolicy,
    ) -> Optional[float]:
        """Seconds to wait before the next attempt, or None to give up.

        A 429 (Bird did not process the request) is retried until ``policy.total_seconds`` have passed,
        waiting its Retry-After or, without one, a growing backoff. A 5xx or a connection failure is retried at
        most ``policy.max_attempts`` attempts in all, and only for methods that are safe to repeat.
        """
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
        self, method: str, url: str, status: int, secrets: list[str], what: str,
        cls: type[errors.UnexpectedResponseError] = errors.UnexpectedResponseError,
    ) -> errors.UnexpectedResponseError:
        return cls(
            errors.redact(f"Bird's answer could not be used: {what}", secrets),
            method=method, url=url, status=status,
        )

    def _decode_ok(self, method: str, url: str, response: requests.Response, secrets: list[str]) -> Any:
        """The JSON body of a 2xx answer (None when there is none); an answer that is not JSON is an error."""
        if response.status_code == 204 or not response.content.strip():
            return None
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("Content-Type") or "no content type"
            text = response.content[:SNIPPET_CHARS].decode("utf-8", "replace")
            raise self._unexpected(
                method, url, response.status_code, secrets,
                f"the body is not JSON, or is cut short ({kind}, {len(response.content)} bytes, "
                f"starting {text!r})") from None

    def _typed(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        """:meth:`request`, its answer read as ``model``: one UnexpectedResponseError naming what is missing
        or wrong (never the values) when it does not fit."""
        data, status, url = self._send(method, path, **kwargs)
        secrets = [self._access_key, *kwargs.get("secrets", ())]
        if data is None:
            raise self._unexpected(method, url, status, secrets, f"no body where a {model.__name__} was expected")
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise self._unexpected(method, url, status, secrets, f"not a {model.__name__}: {_problems(exc)}") from None

    def _connection_error(
        self, method: str, url: str, exc: Optional[requests.RequestException], attempt: int, started: float
    ) -> errors.APIConnectionError:
        timed_out = isinstance(exc, requests.Timeout)
        reason = "timed out" if timed_out else "could not connect"
        elapsed = self._clock() - started
        return errors.APIConnectionError(
            f"Bird API at {self.api_url} {reason} after {attempt} attempt(s) over {elapsed:.1f}s "
            f"({type(exc).__name__}); check bird:apiUrl / BIRD_API_URL and the network",
            method=method,
            url=url,
            timed_out=timed_out,
        )

    def _get_model(self, path: str, model: type[M], workspace_id: str, priority: Optional[float] = None) -> M:
        return self._typed(model, "GET", path, workspace_id=workspace_id, priority=priority)

    def _paginate(self, path: str, params: dict[str, Any], model: type[M], workspace_id: str) -> Iterator[M]:
        """Yield every item of a list endpoint, following ``nextPageToken`` until the last page."""
        query = dict(params, limit=MAX_PAGE_SIZE)
        for _ in range(MAX_PAGES):
            page = self._typed(Page, "GET", path, params=dict(query), workspace_id=workspace_id)
            for index, item in enumerate(page.results):
                try:
                    yield model.model_validate(item)
                except ValidationError as exc:
                    raise self._unexpected(
                        "GET", self.api_url + path, 200, [self._access_key],
                        f"item {index} of a page is not a {model.__name__}: {_problems(exc)}") from None
            if not page.next_page_token:
                return
            query["pageToken"] = page.next_page_token
        raise errors.BirdError(f"gave up listing {path} after {MAX_PAGES} pages", method="GET", url=self.api_url + path)

    # --- connectors ---------------------------------------------------------------------------------------

    @staticmethod
    def _connectors_path(workspace_id: str) -> str:
        return f"/workspaces/{_seg(workspace_id)}/connectors"

    def create_connector(self, workspace_id: str, request: CreateConnectorRequest) -> Connector:
        """Install a connector. Not retried on 5xx or connection failures: the caller must find out whether
        Bird committed it (see :func:`pulumi_bird.connector.recover_connector`)."""
        return self._typed(Connector, "POST", self._connectors_path(workspace_id), body=request.to_body(),
                           secrets=secrets_of(request))

    def get_connector(self, workspace_id: str, connector_id: str) -> Connector:
        return self._get_model(f"{self._connectors_path(workspace_id)}/{_seg(connector_id)}", Connector, workspace_id)

    def find_connector(self, workspace_id: str, connector_id: str) -> Optional[Connector]:
        """The connector, or None when Bird says 404."""
        try:
            return self.get_connector(workspace_id, connector_id)
        except errors.NotFoundError:
            return None

    def get_connector_status(
        self, workspace_id: str, connector_id: str, *, priority: Optional[float] = None
    ) -> ConnectorStatus:
        """The connector's status; ``priority`` (the time the poll became due) orders it among waiting GETs."""
        path = f"{self._connectors_path(workspace_id)}/{_seg(connector_id)}/status"
        return self._get_model(path, ConnectorStatus, workspace_id, priority)

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
        """Delete a connector and its channel. Raises NotFoundError when it is already gone."""
        self.request("DELETE", f"{self._connectors_path(workspace_id)}/{_seg(connector_id)}")

    # --- webhook subscriptions ----------------------------------------------------------------------------

    @staticmethod
    def _webhooks_path(organization_id: str, workspace_id: str) -> str:
        return f"/organizations/{_seg(organization_id)}/workspaces/{_seg(workspace_id)}/webhook-subscriptions"

    def create_webhook_subscription(
        self, organization_id: str, workspace_id: str, request: CreateWebhookSubscriptionRequest
    ) -> WebhookSubscription:
        """Create a subscription. Not retried on 5xx or connection failures (see create_connector)."""
        return self._typed(WebhookSubscription, "POST", self._webhooks_path(organization_id, workspace_id),
                           body=request.to_body(), secrets=secrets_of(request))

    def get_webhook_subscription(self, organization_id: str, workspace_id: str, subscription_id: str) -> WebhookSubscription:
        path = f"{self._webhooks_path(organization_id, workspace_id)}/{_seg(subscription_id)}"
        return self._get_model(path, WebhookSubscription, workspace_id)

    def find_webhook_subscription(
        self, organization_id: str, workspace_id: str, subscription_id: str
    ) -> Optional[WebhookSubscription]:
        """The subscription, or None when Bird says 404."""
        try:
            return self.get_webhook_subscription(organization_id, workspace_id, subscription_id)
        except errors.NotFoundError:
            return None

    def list_webhook_subscriptions(self, organization_id: str, workspace_id: str) -> Iterator[WebhookSubscription]:
        return self._paginate(self._webhooks_path(organization_id, workspace_id), {}, WebhookSubscription, workspace_id)

    def update_webhook_subscription(
        self, organization_id: str, workspace_id: str, subscription_id: str, request: UpdateWebhookSubscriptionRequest
    ) -> WebhookSubscription:
        path = f"{self._webhooks_path(organization_id, workspace_id)}/{_seg(subscription_id)}"
        return self._typed(WebhookSubscription, "PATCH", path, body=request.to_body(), secrets=secrets_of(request))

    def delete_webhook_subscription(self, organization_id: str, workspace_id: str, subscription_id: str) -> None:
        """Delete a subscription. Raises NotFoundError when it is already gone."""
        self.request("DELETE", f"{self._webhooks_path(organization_id, workspace_id)}/{_seg(subscription_id)}")


def _json_or_none(response: requests.Response) -> Any:
    """The JSON body of an error answer, or None when there is none or it is not JSON (a proxy's HTML page)."""
    if not response.content:
        return None
    try:
        return response.json()
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
