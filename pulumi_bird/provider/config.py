"""Provider configuration: stack config (``bird:*``) with environment fallbacks, kept in this module's memory
(docs/installation-configuration.md: nothing is stored in the pickled provider), a client built per call."""

from __future__ import annotations

import difflib
import logging
import math
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from ..api.errors import ConfigError
from ..api.values import DEFAULT_API_URL, is_loopback_api_url, is_uuid, validate_api_url

# stack config key -> environment variable
ACCESS_KEY = ("bird:accessKey", "BIRD_ACCESS_KEY")
API_URL = ("bird:apiUrl", "BIRD_API_URL")
WORKSPACE_ID = ("bird:workspaceId", "BIRD_WORKSPACE_ID")
ORGANIZATION_ID = ("bird:organizationId", "BIRD_ORGANIZATION_ID")
# GETs per second per workspace this process may send (default: all of Bird's 50/s). Lower it for a workspace
# that other clients (the dashboard, other stacks, scripts) use at the same time.
GET_RATE_LIMIT = ("bird:getRateLimit", "BIRD_GET_RATE_LIMIT")
ALL_KEYS = (ACCESS_KEY, API_URL, WORKSPACE_ID, ORGANIZATION_ID, GET_RATE_LIMIT)
# The key each scope input of a resource defaults from.
SCOPE_KEYS: dict[str, tuple[str, str]] = {"workspace_id": WORKSPACE_ID, "organization_id": ORGANIZATION_ID}
# Bird's own GET limit per workspace; a higher setting would only earn 429s.
BIRD_GETS_PER_SECOND = 50.0


# What PULUMI_BIRD_LOG=debug logs to stderr: docs/troubleshooting.md, "Debugging" (never a header, body or key).
LOG_LEVEL_ENV = "PULUMI_BIRD_LOG"


def configure_logging() -> None:
    """Send pulumi_bird's log records to stderr at the level PULUMI_BIRD_LOG names (default: warnings)."""
    level = os.environ.get(LOG_LEVEL_ENV, "").upper()
    logger = logging.getLogger("pulumi_bird")
    if level and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("pulumi-bird %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(getattr(logging, level, logging.INFO))


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. ``access_key`` is excluded from repr so it cannot reach a log."""

    access_key: Optional[str] = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    workspace_id: Optional[str] = None
    organization_id: Optional[str] = None
    get_rate_limit: float = BIRD_GETS_PER_SECOND

    def require_access_key(self) -> str:
        """The access key without surrounding whitespace (a pasted key often ends in a newline)."""
        key = (self.access_key or "").strip()
        if not key:
            raise ConfigError(
                "no Bird access key: run `pulumi config set --secret bird:accessKey <key>` "
                "or set BIRD_ACCESS_KEY in the environment"
            )
        return key


_lock = threading.Lock()
_stack_config: dict[str, Any] = {}
# ``bird:*`` keys of the stack config that the provider does not read (typos, mostly), and whether this process
# has warned about them.
_unknown_keys: list[str] = []
_warned = False


def _remembered() -> dict[str, Any]:
    """A copy of the stack config ``configure()`` remembered."""
    with _lock:
        return dict(_stack_config)


def remember_stack_config(values: Mapping[str, Any], names: Iterable[str] = ()) -> None:
    """Keep the ``bird:*`` stack config handed to the provider's ``configure()`` (host process memory only);
    ``names`` are all the keys of the stack config, to tell the user about ``bird:*`` keys nobody reads."""
    with _lock:
        _stack_config.clear()
        _stack_config.update({k: v for k, v in values.items() if v is not None})
        _unknown_keys[:] = unknown_bird_keys(names)


def unknown_bird_keys(names: Iterable[str]) -> list[str]:
    """The ``bird:*`` keys among ``names`` (every key of a stack config) that the provider does not read."""
    known = {name for name, _ in ALL_KEYS}
    return sorted(n for n in names if isinstance(n, str) and n.startswith("bird:") and n not in known)


def closest_key(name: str) -> Optional[str]:
    """The known ``bird:*`` key that ``name`` most likely misspells (case and small typos), if any."""
    known = {key.split(":", 1)[1].lower(): key for key, _ in ALL_KEYS}
    match = difflib.get_close_matches(name.split(":", 1)[-1].lower(), list(known), n=1, cutoff=0.6)
    return known[match[0]] if match else None


def describe_unknown_key(name: str) -> str:
    """A sentence about a ``bird:*`` key the provider does not read, beside the key it most likely means."""
    near = closest_key(name)
    hint = f"did you mean {near}?" if near else "the provider reads " + ", ".join(key for key, _ in ALL_KEYS)
    return f"{name} is not a setting of the bird provider and is ignored ({hint})"


def unknown_key_warnings() -> list[str]:
    """The warnings about unknown ``bird:*`` keys, once per process, when an access key is configured (without
    one, check fails and names them in its error instead)."""
    global _warned
    with _lock:
        config = dict(_stack_config)
        if _warned or not _unknown_keys:
            return []
        _warned = True
        unknown = list(_unknown_keys)
    return key_warnings(unknown) if _lookup(ACCESS_KEY, config) is not None else []


def key_warnings(unknown: list[str]) -> list[str]:
    """The warning for each unknown ``bird:*`` key: what it most likely means, and the command that removes it."""
    return [f"pulumi-bird: {describe_unknown_key(name)}: `pulumi config rm {name}`" for name in unknown]


def config_problems(
    config: Optional[Mapping[str, Any]] = None, unknown: Optional[Iterable[str]] = None
) -> list[tuple[str, str]]:
    """Every mistake in the configuration that can be judged offline, as (key, message), each naming the key, its
    environment variable and the fix, never quoting the access key; ``unknown``: the ``bird:*`` keys nobody reads
    (default: the remembered stack config's), named in the missing-key message. The one judgement of the
    configuration: the resources' ``check``, the lookups and the plugin's ``CheckConfig`` all use it."""
    from ..api.client import header_safe_key
    from ..api.evidence import api_url_path_problem  # its form: a path Bird's routes cannot live under

    with _lock:
        unknown = list(_unknown_keys) if unknown is None else list(unknown)
    config = _remembered() if config is None else config
    problems: list[tuple[str, str]] = []
    access_key, api_url = _lookup(ACCESS_KEY, config), _lookup(API_URL, config)
    if access_key is None or not access_key.strip():
        message = (f"{ACCESS_KEY[0]} is not set: run `pulumi config set --secret {ACCESS_KEY[0]} <key>` "
                   f"or set {ACCESS_KEY[1]} in the environment")
        if api_url and is_loopback_api_url(api_url):
            message += " (the emulator wants a key too: the one it printed when it started)"
        problems.append((ACCESS_KEY[0], "; ".join([message, *map(describe_unknown_key, unknown)])))
    checks = ((ACCESS_KEY, lambda v: v and v.strip() and header_safe_key(v)),
              (API_URL, lambda v: validate_api_url(v or DEFAULT_API_URL)), (GET_RATE_LIMIT, validate_get_rate_limit))
    for key, validate in checks:
        try:
            validate(_lookup(key, config))
        except ConfigError as exc:
            problems.append((key[0], str(exc)))
    route_problem = api_url_path_problem(api_url or DEFAULT_API_URL)
    if route_problem and not any(key == API_URL[0] for key, _ in problems):
        problems.append((API_URL[0], route_problem))
    for key in (WORKSPACE_ID, ORGANIZATION_ID):
        value = _lookup(key, config)
        if value is not None and not is_uuid(value):
            problems.append((key[0], f"{key[0]} / {key[1]} must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6,"
                                     f" got {value!r:.60}: run `pulumi config set {key[0]} <UUID>` with the id Bird shows"))
    return problems


def _lookup(key: tuple[str, str], config: Mapping[str, Any]) -> Optional[str]:
    name, env = key
    value = config.get(name)
    if value in (None, ""):
        value = os.environ.get(env)
    return str(value) if value not in (None, "") else None


def validate_get_rate_limit(value: Optional[str]) -> float:
    """The GETs per second from ``bird:getRateLimit`` / ``BIRD_GET_RATE_LIMIT``: a number from 1 to Bird's 50."""
    if value is None:
        return BIRD_GETS_PER_SECOND
    try:
        rate = float(value)
    except ValueError:
        rate = math.nan
    if not 1 <= rate <= BIRD_GETS_PER_SECOND:
        raise ConfigError(
            f"bird:getRateLimit / BIRD_GET_RATE_LIMIT must be a number of GETs per second from 1 to "
            f"{BIRD_GETS_PER_SECOND:g} (Bird's limit per workspace), got {value!r:.40}: run "
            f"`pulumi config set bird:getRateLimit 20`, or `pulumi config rm bird:getRateLimit` for Bird's "
            f"{BIRD_GETS_PER_SECOND:g}"
        )
    return rate


def current_settings(config: Optional[Mapping[str, Any]] = None) -> Settings:
    """Settings from ``config`` (default: the stack config remembered by ``configure()``), then the environment."""
    config = _remembered() if config is None else config
    return Settings(
        access_key=_lookup(ACCESS_KEY, config),
        api_url=validate_api_url(_lookup(API_URL, config) or DEFAULT_API_URL),
        workspace_id=_lookup(WORKSPACE_ID, config),
        organization_id=_lookup(ORGANIZATION_ID, config),
        get_rate_limit=validate_get_rate_limit(_lookup(GET_RATE_LIMIT, config)),
    )


def current_settings_value(key: tuple[str, str]) -> Optional[str]:
    """One setting (stack config, then environment) without validating the others."""
    return _lookup(key, _remembered())


if TYPE_CHECKING:  # for annotations only: the client and its requests load on first use, keeping import cheap
    from ..api.client import BirdClient
    from ..api.pacing import GetBudget

_budgets: dict[tuple[str, float], GetBudget] = {}


def get_budget(api_url: str, per_second: float) -> GetBudget:
    """The GET budget this process shares for ``api_url`` at ``per_second``: every client the provider
    builds for the same API and limit paces its GETs (and backs off after a 429) together."""
    from ..api.pacing import GetBudget

    with _lock:
        if (api_url, per_second) not in _budgets:
            _budgets[(api_url, per_second)] = GetBudget(per_second)
        return _budgets[(api_url, per_second)]


def make_client(settings: Optional[Settings] = None, secrets: Iterable[Any] = ()) -> BirdClient:
    """A fresh client for one provider call, pacing its GETs with the process's budget for its API. ``secrets``
    (the secret inputs the call holds from state, sent or not) are redacted from its errors like the key."""
    from ..api.client import BirdClient

    settings = settings or current_settings()
    client = BirdClient(
        settings.require_access_key(), settings.api_url, get_budget=get_budget(settings.api_url, settings.get_rate_limit)
    )
    client.hide(secrets)
    return client
