"""The provider's configuration: ``CheckConfig`` judges it, ``Configure`` keeps it in this process (the engine
starts one plugin per provider instance). Keys arrive without namespace (``accessKey``); ``Configure``'s deprecated
``variables`` (``bird:config:accessKey``) are read only when ``args`` is empty (older engines).
"""

from __future__ import annotations

from typing import Any, Mapping

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CheckFailure, CheckResponse
from pulumi.runtime.rpc import UNKNOWN

from ..provider import config
from .package import SECRET_CONFIG, config_key
from .values import hide_secrets_in_logs, plain_map

KEYS = {config_key(name): name for name, _ in config.ALL_KEYS}  # accessKey -> bird:accessKey
# Keys the engine may add to a provider's inputs that are not settings of ours.
ENGINE_KEYS = frozenset({"version", "pluginDownloadURL"})


def _unknown(key: str) -> str:
    """Why ``key`` fails: not a setting, beside the one it most likely misspells (the value is never quoted)."""
    near = config.closest_key(key)
    hint = f"did you mean {near.split(':', 1)[1]}? " if near else ""
    return f"{key} is not a setting of the bird provider ({hint}the settings are {', '.join(KEYS)})"


def check_config(news: Mapping[str, PropertyValue]) -> CheckResponse:
    """One failure per bad setting, naming its key; unknown values (preview) are not judged."""
    values = {k: v for k, v in sorted(plain_map(news).items())
              if k not in ENGINE_KEYS and v is not None and v != UNKNOWN}
    failures = [CheckFailure(key, _unknown(key)) for key in values if key not in KEYS]
    given = {KEYS[key]: value for key, value in values.items() if key in KEYS}
    # The settings given are judged as the Python resources' check judges them (the same messages); one left out
    # may still come from the environment, and a resource's Check names it if it is missing there too.
    failures += [CheckFailure(config_key(name), message)
                 for name, message in config.config_problems(given, unknown=()) if name in given]
    inputs = {key: value.with_secret(value.is_secret or key in SECRET_CONFIG) for key, value in news.items()}
    return CheckResponse(inputs=inputs, failures=failures)


def apply_config(args: Mapping[str, PropertyValue], variables: Mapping[str, str]) -> None:
    """Keep this provider instance's settings (this process serves one instance) for every later call."""
    values: dict[str, Any] = plain_map(args)
    if not values:
        prefix = "bird:config:"
        values = {k[len(prefix):]: v for k, v in variables.items() if k.startswith(prefix)}
    config.remember_stack_config({name: values.get(key) for key, name in KEYS.items()})
    config.configure_logging()
    hide_secrets_in_logs()


__all__ = ["apply_config", "check_config"]
