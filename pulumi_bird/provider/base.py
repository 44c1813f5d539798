"""What every pulumi-bird provider shares: the base provider, ``get()``, and the rules every resource applies to
its scope (workspace, organization) and to ``adopt_id``."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping, Optional, TypeVar

import pulumi
from pulumi.dynamic import CheckFailure, Resource, ResourceProvider

from ..api.values import is_uuid
from . import config, workers
from .checks import Checker
from .schema import Schema

R = TypeVar("R", bound=Resource)


class BirdProvider(ResourceProvider):
    """Base of the providers. It holds nothing: the object is pickled into every resource's state, so the
    configuration stays in the host's memory (:mod:`pulumi_bird.provider.config`) and a client is built per call."""

    serialize_as_secret_always = False  # nothing secret is held on the object

    def configure(self, req: Any) -> None:
        """Called by the provider host with the stack config, once per process."""
        # Every key of the stack config, to name unknown bird:* keys (the SDK's Config offers no public list).
        names = getattr(req.config, "_props", None) or {}
        config.remember_stack_config({name: req.config.get(name) for name, _ in config.ALL_KEYS}, names)
        config.configure_logging()
        workers.lift_host_concurrency()
        # With no engine connection, the host's pulumi.log writes to stderr, which the engine shows the user
        # (sdk/go/common/resource/plugin/plugin.go, newPlugin's runtrace: plugin stderr -> Diag.Infoerrf).
        for warning in config.unknown_key_warnings():
            pulumi.log.warn(warning)

    def check_config(self, checker: Checker) -> None:
        """Fail check (so preview fails) on each configuration mistake that can be judged offline, naming its key."""
        for key, message in config.config_problems():
            checker.failures.append(CheckFailure(key, message))


# Registered by ``get()`` beside the all-empty properties: the engine hands a get's registered properties to
# ``read`` (ReadStep), so this tells a get, which must fail on a missing id, from a refresh, where "gone" is an
# answer. It is never returned as an output.
LOOKUP_MARKER = "__bird_lookup"


# Registered by a resource beside its inputs: its own Pulumi name. The engine puts the URN in every request, but the
# SDK's dynamic host hands a provider only the properties (pulumi/dynamic/__main__.py Create), so a 409 on a phone
# number could not otherwise name the sibling resource that holds it. Keys starting with "__" are internal: the
# engine passes them to the provider and leaves them out of every diff it shows (sdk/go/common/resource/
# properties.go IsInternalPropertyKey). Our diffs compare only declared inputs, so it never causes a change.
RESOURCE_NAME_KEY = "__bird_resource"


def is_lookup(props: Any) -> bool:
    """Whether ``read`` serves a ``get()`` rather than a refresh."""
    return isinstance(props, dict) and props.get(LOOKUP_MARKER) is True


def registration(
    schema: Schema, values: Mapping[str, Any], computed: Iterable[str], opts: Optional[pulumi.ResourceOptions]
) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """What a resource registers: the schema's inputs out of ``values`` (its ``__init__``'s locals) beside its
    computed outputs, the secret inputs wrapped, and options that keep those secret in the outputs too."""
    props: dict[str, Any] = {k: None for k in computed}
    props.update(schema.collect(values))
    for key in schema.secrets:
        if props.get(key) is not None:
            props[key] = pulumi.Output.secret(props[key])
    secrets = pulumi.ResourceOptions(additional_secret_outputs=list(schema.secrets)) if schema.secrets else None
    return props, pulumi.ResourceOptions.merge(opts, secrets)


def read_existing(
    cls: type[R],
    provider: ResourceProvider,
    resource_name: str,
    id: pulumi.Input[str],
    properties: Iterable[str],
    opts: Optional[pulumi.ResourceOptions],
    secret_outputs: Iterable[str] = (),
) -> R:
    """A resource of ``cls`` read from Bird by id (the ``get`` of every resource class): every property is
    left to the provider's ``read``, and the stack never deletes it."""
    resource = cls.__new__(cls)
    secrets = list(secret_outputs) or None
    options = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id, additional_secret_outputs=secrets))
    props: dict[str, Any] = {name: None for name in properties}
    props[LOOKUP_MARKER] = True
    Resource.__init__(resource, provider, resource_name, props, options)
    return resource


def default_from_config(checker: Checker, inputs: dict[str, Any], prop: str, key: tuple[str, str]) -> None:
    """Fill ``prop`` from stack config or the environment (``key``) when the user left it out; it must be a UUID."""
    if inputs.get(prop) is None:
        inputs[prop] = config.current_settings_value(key)
        if inputs[prop] is None:
            checker.fail(prop, f"is required: set {prop} on the resource, {key[0]} in stack config, or {key[1]}")
            return
        if not is_uuid(inputs[prop]):
            return  # check_config names the malformed key
    checker.uuid(prop)


# --- telling refresh's Diff from up's ----------------------------------------------------------------------
# The engine runs our Diff in two commands, with the same shapes:
# - `pulumi up` (step_generator.go continueStepsFromRefresh, then diffResource): Check(olds = old inputs, news =
#   program inputs) first, then Diff(olds = old outputs, news = the checked inputs). An error stops the up before
#   any step runs (the preview runs the same Check and Diff).
# - `pulumi refresh` and the refresh steps of `up --refresh` (step.go RefreshStep.Apply): Read, then at once
#   Diff(olds = the outputs Read returned, news = the *old* inputs) on the same provider, only to display the
#   drift; no Check runs in between. A Diff error there fails the refresh.
# After a refresh, the up's Diff receives the same olds and, for an unchanged program, the same news as the
# refresh's Diff did, so the values cannot tell them apart; the order of the calls can. A Read of an id leaves a
# mark; the next Diff of that id finds it (a refresh's Diff); a Check for that id (an up's) wipes it first.
_refreshed: set[str] = set()
_refreshed_lock = threading.Lock()


def note_refreshed(id_: str) -> None:
    """``read`` found ``id_`` for a refresh: the Diff the engine runs next for it is the refresh's."""
    with _refreshed_lock:
        _refreshed.add(id_)


def note_checked(news: Any) -> None:
    """``check`` ran for an up: a Diff of the object ``adopt_id`` names is now the up's, not a refresh's."""
    adopt_id = news.get("adopt_id") if isinstance(news, dict) else None
    if isinstance(adopt_id, str):
        with _refreshed_lock:
            _refreshed.discard(adopt_id)


def _diff_follows_refresh(id_: str) -> bool:
    with _refreshed_lock:
        found = id_ in _refreshed
        _refreshed.discard(id_)
        return found


def refuse_adopting_the_replaced(
    id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], replaces: list[str], what: str,
    secrets: Iterable[str] = (),
) -> None:
    """A replacement while ``adopt_id`` still names the object being replaced would adopt (or find deleted) the
    very object it replaces: stop the up before anything is deleted, as the engine stops a leftover ``import_``.
    A refresh's Diff (which only shows the drift, and whose news are the old inputs) never fails for it."""
    if not replaces or news.get("adopt_id") != id_ or _diff_follows_refresh(id_):
        return
    hidden = set(secrets)
    changes = ", ".join(key if key in hidden else f"{key} {olds.get(key)!r} -> {news.get(key)!r}" for key in replaces)
    raise ValueError(
        f"{what} {id_} must be replaced ({changes}), but adopt_id still names it: the replacement would delete it "
        f"and then find nothing to adopt. To keep it, declare its current values in the program; to replace it, "
        f"remove adopt_id (it is only needed for the first deployment). Then run again"
    )


# --- an access key refused where the stored configuration is used -------------------------------------------


@contextmanager
def stored_key_explained(doing: str) -> Iterator[None]:
    """Say why Bird may refuse the key (401/403) ``doing`` a read or delete, which never succeeds then.

    `pulumi refresh` and `pulumi destroy` do not run the program: the engine configures the provider from its
    inputs stored in the state, i.e. the stack config of the last `pulumi up` (pkg/engine/refresh.go, destroy.go;
    deploy/deployment.go EnsureProvider; pulumi/pulumi#18756 reverted using today's config), so a rotated key is
    not seen until an up or a `--run-program` run."""
    from ..api.errors import AuthenticationError

    try:
        yield
    except AuthenticationError as exc:
        raise exc.with_summary(
            f"Bird refused the access key ({exc.status}) {doing}, so nothing was changed. `pulumi refresh` and "
            f"`pulumi destroy` use the configuration stored by the last `pulumi up`: if bird:accessKey was rotated "
            f"since, run `pulumi up` first, or `pulumi destroy --run-program` / `pulumi refresh --run-program`; "
            f"otherwise check bird:accessKey / BIRD_ACCESS_KEY"
        ) from None
