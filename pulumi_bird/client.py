"""The one HTTP client for Bird's Connectors and webhook-subscription endpoints.

Retries and backoff live here and nowhere else. Every failure is raised as a :class:`~pulumi_bird.errors.BirdError`
subclass naming the method and URL, never the access key.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterator, Optional, TypeVar
from urllib.parse import quote

import requests
from pydantic import BaseModel

from . import errors
from .config import DEFAULT_API_URL
from ._throttle import bucket_for
from ._retry import RetryPolicy, backoff_delay, is_retryable, parse_retry_after
from .models import (
    Connector,
    ConnectorStatus,
    CreateConnectorRequest,
    CreateWebhookSubscriptionRequest,
    Page,
    UpdateWebhookSubscriptionRequest,
    WebhookSubscription,
)

# (connect, read) seconds. Connecting to Bird takes well under a second; reads are small JSON documents.
# A request that exceeds these is treated as a connection failure (retried for idempotent methods).
DEFAULT_TIMEOUT = (5.0, 30.0)
# Bird's maximum page size for connector and subscription lists (limit <= 100).
MAX_PAGE_SIZE = 100
# A guard against a server that keeps handing out page tokens: 1000 pages of 100 is far beyond any workspace.
MAX_PAGES = 1000
USER_AGENT = "pulumi-bird/0.1"

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)


def _seg(value: str) -> str:
    """One URL path segment, escaped so that an id can never change the path."""
    return quote(str(value), safe="")


class BirdClient:
    """A thin, typed client over ``requests``.

    ``sleep`` and ``clock`` are injectable so that retry timing can be tested without waiting.
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
    ) -> None:
        if not access_key:
            raise errors.AuthenticationError("no Bird access key: set bird:accessKey or BIRD_ACCESS_KEY")
        self._access_key = access_key
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self._session = session or requests.Session()
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

    # --- transport ----------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[dict[str, Any]] = None,
        body: Optional[dict[str, Any]] = None,
        retry: Optional[RetryPolicy] = None,
        workspace_id: Optional[str] = None,
    ) -> Any:
        """Send one request (with retries as the policy allows) and return the decoded JSON body (None for 204).

        GETs that name their ``workspace_id`` are paced per workspace for the whole process (see
        :mod:`pulumi_bird._throttle`). Raises the :mod:`~pulumi_bird.errors` class chosen by the final
        answer's status, or :class:`~pulumi_bird.errors.APIConnectionError` naming how long and how often it tried.
        """
        policy = retry or self.retry
        url = self.api_url + path
        started = self._clock()
        attempt = 0
        pace = bucket_for(self.api_url, workspace_id) if method == "GET" and workspace_id else None
        while True:
            attempt += 1
            if pace is not None:
                pace.acquire(self._sleep)
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    timeout=self.timeout,
                    headers={
                        "Authorization": f"AccessKey {self._access_key}",
                        "Accept": "application/json",
                        "User-Agent": USER_AGENT,
                    },
                )
            except requests.RequestException as exc:
                failure: errors.BirdError = self._connection_error(method, url, exc, attempt, started)
                status: Optional[int] = None
                retry_after: Optional[float] = None
            else:
                log.debug("%s %s -> %s in %.2fs", method, url, response.status_code, response.elapsed.total_seconds())
                if response.status_code < 400:
                    return _decode(response) if response.status_code != 204 else None
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                failure = errors.error_from_response(
                    method=method,
                    url=url,
                    status=response.status_code,
                    body=_decode(response),
                    request_id=response.headers.get("X-Request-Id"),
                    retry_after=retry_after,
                )
                status = response.status_code
            delay = self._retry_delay(method, status, retry_after, attempt, started, policy)
            if delay is None:
                raise failure
            log.info("%s %s failed (%s); retry %d in %.2fs", method, url, status or "no answer", attempt, delay)
            self._sleep(delay)

    def _retry_delay(
        self,
        method: str,
        status: Optional[int],
        retry_after: Optional[float],
        attempt: int,
        started: float,
        policy: RetryPolicy,
    ) -> Optional[float]:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= policy.max_attempts or not is_retryable(method, status):
            return None
        if retry_after is not None:
            if retry_after > policy.max_retry_after:
                return None
            delay = retry_after
        else:
            delay = backoff_delay(attempt, policy)
        if self._clock() - started + delay > policy.total_seconds:
            return None
        return delay

    def _connection_error(
        self, method: str, url: str, exc: requests.RequestException, attempt: int, started: float
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

    def _get_model(self, path: str, model: type[M], workspace_id: str) -> M:
        return model.model_validate(self.request("GET", path, workspace_id=workspace_id))

    def _paginate(self, path: str, params: dict[str, Any], model: type[M], workspace_id: str) -> Iterator[M]:
        """Yield every item of a list endpoint, following ``nextPageToken`` until the last page."""
        query = dict(params, limit=MAX_PAGE_SIZE)
        for _ in range(MAX_PAGES):
            page = Page.model_validate(self.request("GET", path, params=query, workspace_id=workspace_id))
            for item in page.results:
                yield model.model_validate(item)
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
        data = self.request("POST", self._connectors_path(workspace_id), body=request.to_body())
        return Connector.model_validate(data)

    def get_connector(self, workspace_id: str, connector_id: str) -> Connector:
        return self._get_model(f"{self._connectors_path(workspace_id)}/{_seg(connector_id)}", Connector, workspace_id)

    def find_connector(self, workspace_id: str, connector_id: str) -> Optional[Connector]:
        """The connector, or None when Bird says 404."""
        try:
            return self.get_connector(workspace_id, connector_id)
        except errors.NotFoundError:
            return None

    def get_connector_status(self, workspace_id: str, connector_id: str) -> ConnectorStatus:
        path = f"{self._connectors_path(workspace_id)}/{_seg(connector_id)}/status"
        return self._get_model(path, ConnectorStatus, workspace_id)

    def list_connectors(self, workspace_id: str, template_ref: Optional[str] = None) -> Iterator[Connector]:
        """Every connector of the workspace (optionally of one template), across pages."""
        params = {"templateRef": template_ref} if template_ref else {}
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
        data = self.request("POST", self._webhooks_path(organization_id, workspace_id), body=request.to_body())
        return WebhookSubscription.model_validate(data)

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
        return WebhookSubscription.model_validate(self.request("PATCH", path, body=request.to_body()))

    def delete_webhook_subscription(self, organization_id: str, workspace_id: str, subscription_id: str) -> None:
        """Delete a subscription. Raises NotFoundError when it is already gone."""
        self.request("DELETE", f"{self._webhooks_path(organization_id, workspace_id)}/{_seg(subscription_id)}")


def _decode(response: requests.Response) -> Any:
    """The JSON body, or None when there is none or it is not JSON (an HTML error page from a proxy)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
