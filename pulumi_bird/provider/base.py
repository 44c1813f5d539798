"""What every pulumi-bird provider shares: the lifecycle, implemented once from the resource's declared
:class:`~pulumi_bird.provider.schema.Schema` (README.md, "One declaration per fact", says what a resource supplies)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Iterable, Iterator, Mapping, Optional, Sequence

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from typing_extensions import Self

from ..api import errors
from . import config, workers
from .checks import Checker, is_unknown
from .schema import Property, Schema, shown


@dataclass(frozen=True)
class Plan:
    """What a diff finds: the inputs that change (schema order), those of them that replace the object, and
    whether the replacement deletes the old object first."""

    changed: tuple[str, ...]
    replaces: tuple[str, ...]
    delete_before_replace: bool


# The scope inputs (every resource has a workspace; a webhook subscription an organization too), as a resource's
# Args declare them.
WorkspaceId = Annotated[Optional[pulumi.Input[str]], Property(
    "the Bird workspace (UUID); defaults to ``bird:workspaceId`` / ``BIRD_WORKSPACE_ID``.", read_from=("workspaceId",),
    filled=True)]
OrganizationId = Annotated[Optional[pulumi.Input[str]], Property(
    "the Bird organization (UUID); defaults to ``bird:organizationId`` / ``BIRD_ORGANIZATION_ID``.",
    read_from=("organizationId",), filled=True)]


class BirdProvider(ResourceProvider):
    """Base of the providers. It holds nothing: the object is pickled into every resource's state, so the
    configuration stays in the host's memory (:mod:`pulumi_bird.provider.config`) and a client is built per call."""

    serialize_as_secret_always = False  # nothing secret is held on the object

    schema: ClassVar[Schema]
    # What the object is called in messages ("connector", "webhook subscription").
    what: ClassVar[str] = "object"
    # The inputs that locate the object on Bird, outermost first; each defaults from stack config.
    scope: ClassVar[tuple[str, ...]] = ("workspace_id",)
    # Whether a create first looks for an identical object that exists already (an interrupted run's leftover)
    # and refuses to make a second one beside it unless allow_identical.
    guard_existing: ClassVar[bool] = True
    # Whether a replacement deletes the old object before creating the new one (Bird refuses two alike).
    delete_before_replace: ClassVar[bool] = False

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

    # -- what a resource supplies --

    def validate(self, checker: Checker) -> None:
        """Checks of the resource's own inputs (the schema's fixed values and flags are checked already)."""

    def find(self, client: Any, scope: Sequence[str], id_: str) -> Any:
        """Bird's object, or None when Bird says there is none."""
        raise NotImplementedError

    def post(self, client: Any, scope: Sequence[str], inputs: dict[str, Any], resource: Optional[str]) -> Any:
        """Create the object (exactly once) and return Bird's object; ``resource``: the resource's Pulumi name,
        when it registered one (:data:`RESOURCE_NAME_KEY`)."""
        raise NotImplementedError

    def patch(self, client: Any, scope: Sequence[str], id_: str, changes: dict[str, Any]) -> Any:
        """Send ``changes`` (wire names) with PATCH; Bird's object after it."""
        raise NotImplementedError(f"a {self.what} cannot be updated")

    def remove(self, client: Any, scope: Sequence[str], id_: str) -> None:
        """Delete the object; one that is gone already counts as deleted."""
        raise NotImplementedError

    def find_for_read(self, client: Any, scope: Sequence[str], id_: str) -> Any:
        """What a refresh (or ``get()``) reads: by default what ``find`` returns."""
        return self.find(client, scope, id_)

    def deleted(self, scope: Sequence[str], id_: str, props: Mapping[str, Any]) -> None:
        """What to remember once the object is gone (a connector's phone number, which Bird releases late)."""

    def echo_of(self, found: Any) -> Any:
        """The part of what ``find`` returns that the schema's read paths are read from."""
        return found

    def check_found(self, client: Any, id_: str, found: Any, adopting: bool = False) -> None:
        """Refuse an object that is not of this resource's kind (what Bird shows quoted through ``client.redact``)."""

    def outputs(self, found: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The computed outputs: what Bird's object shows of each computed property."""
        return {p.name: shown(p, self.echo_of(found)) for p in self.schema.computed}

    def ready(self, client: Any, scope: Sequence[str], found: Any, inputs: Mapping[str, Any]) -> Any:
        """Wait until an adopted object can be used; what ``find`` would return then."""
        return found

    # -- check and diff --

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate offline; never raises, never calls Bird. Fills in the scope from config, and defaults; refuses
        a replacement of the object ``adopt_id`` still names (:func:`adopt_id_problem`)."""
        inputs = dict(news) if isinstance(news, dict) else {}
        checker = Checker(inputs, self.schema.names)
        try:
            # Each configuration mistake that can be judged offline fails check (so preview fails), naming its key.
            checker.failures += [CheckFailure(key, message) for key, message in config.config_problems()]
            for p in self.schema:
                if p.values:
                    checker.one_of(p.name, p.values, required=p.required)
                elif p.type is bool:
                    checker.boolean(p.name)
            if "adopt_id" in self.schema.names:
                checker.uuid("adopt_id")
            self.validate(checker)
            for name in self.scope:  # left out: from stack config or the environment
                key = config.SCOPE_KEYS[name]
                if inputs.get(name) is None:
                    inputs[name] = config.current_settings_value(key)
                    if inputs[name] is None:
                        checker.fail(name, f"is required: set {name} on the resource, {key[0]} in stack config, or "
                                           f"{key[1]}")
                    continue  # config_problems names a malformed key
                checker.uuid(name)
            for p in self.schema:
                if p.default is not None and inputs.get(p.name) is None:
                    inputs[p.name] = p.default
            problem = adopt_id_problem(self, olds, inputs)
            if problem:
                checker.failures.append(CheckFailure("adopt_id", problem))
        except Exception as exc:  # check must answer with failures, whatever the input
            checker.failures.append(CheckFailure("", f"could not validate the inputs ({type(exc).__name__})"))
        return CheckResult(inputs, checker.failures)

    def plan(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Plan:
        """What changes from ``olds`` to ``news``, property by property, from the declared schema alone (no call
        to Bird, no state of this process): the one comparison behind ``diff`` and the plugin's detailed diff."""
        changed = tuple(p.name for p in self.schema if _changed(p, olds.get(p.name), news.get(p.name)))
        replaces = tuple(name for name in changed if _replaces(self.schema[name], olds.get(name), news.get(name)))
        # A replacement creates the new object first, so nothing is missed in between, unless Bird refuses two
        # alike: always (delete_before_replace), or when only inputs Bird never shows change (the new object
        # would then look exactly like the old one, which a guarded create refuses to make beside it).
        unseen = all(self.schema[name].reading == "never" for name in replaces) and self.guard_existing
        first = bool(replaces) and (self.delete_before_replace or unseen)
        return Plan(changed, replaces, first)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """The change :meth:`plan` finds. It fails only as :func:`adopt_id_problem` says, which a refresh's diff
        (the stored adopt_id on both sides) never meets: the engine runs it to show a refresh's drift too."""
        refuse_adopting_itself(self, id_, olds, news)
        plan = self.plan(olds, news)
        return DiffResult(changes=bool(plan.changed), replaces=list(plan.replaces),
                          delete_before_replace=plan.delete_before_replace or None)

    # -- create, read, update, delete --

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = self._inputs(props)
        scope = [inputs[name] for name in self.scope]
        with config.make_client() as client:
            if inputs.get("adopt_id"):
                found = self._adopt(client, scope, inputs)
            else:
                found = self.post(client, scope, inputs, props.get(RESOURCE_NAME_KEY))
                changes = self._changes(found, inputs, [p for p in self.schema.patchable if not p.create])
                if changes:  # what only PATCH can set (the create request has no field for it)
                    found = self._finish_create(client, scope, self.id_of(found), changes)
        return CreateResult(self.id_of(found), {**inputs, **self.outputs(found, inputs)})

    def _finish_create(self, client: Any, scope: Sequence[str], created_id: str, changes: dict[str, Any]) -> Any:
        """The PATCH of what the create request cannot set (a subscription's status), on the object just made.

        It never leaves an orphan: a failed create is not in the state, so nothing could finish the job later, and
        a leftover would make the next up fail as an identical object. A 404 is retried until Bird's lists have
        settled; if the PATCH still fails, the object (ours: our own POST named it) is deleted again."""
        from ..api.create import MAX_SETTLE_LOOKS, SETTLE_INTERVAL, list_settle_seconds

        settled = client.now() + list_settle_seconds()
        for _ in range(MAX_SETTLE_LOOKS):
            try:
                return self.patch(client, scope, created_id, changes)
            except errors.NotFoundError as missing:
                if client.now() >= settled:
                    cause: Exception = missing
                    break
                client.pause(SETTLE_INTERVAL)
            except Exception as failure:  # whatever stopped the PATCH, the new object must not be left behind
                cause = failure
                break
        else:
            cause = errors.BirdError(f"the PATCH kept answering 404 for {MAX_SETTLE_LOOKS} tries")
        fields = ", ".join(changes)
        what = f"{self.what} {created_id} was created, but setting {fields} on it with PATCH failed ({cause})"
        try:
            self.remove(client, scope, created_id)
        except errors.BirdError as failure:
            raise errors.BirdError(client.redact(
                f"{what}, and deleting it failed too ({failure}): it is still on Bird, perhaps without {fields} "
                f"set. Adopt it with adopt_id={created_id!r}, or delete it")) from None
        raise errors.BirdError(client.redact(f"{what}; it was deleted again, so nothing is left on Bird: run "
                                             "`pulumi up` again")) from None

    @contextmanager
    def _stored_client(self, id_: str, props: Mapping[str, Any], doing: str) -> Iterator[tuple[Any, list[str]]]:
        """A client and the scope for a read or delete of the object in the state. A refused key (401/403) says why:
        `pulumi refresh` and `pulumi destroy` use the stack config of the last `pulumi up` (docs/known-limits.md,
        "Stale stored config"; pkg/engine/refresh.go, destroy.go; pulumi/pulumi#18756 reverted using today's)."""
        settings = config.current_settings()
        # From the state, else from config: a missing id is an error, never a request to /workspaces/None.
        scope = [props.get(name) or getattr(settings, name) for name in self.scope]
        missing = [f"{n} ({config.SCOPE_KEYS[n][0]} / {config.SCOPE_KEYS[n][1]})" for n, v in zip(self.scope, scope) if not v]
        if missing:
            raise errors.ConfigError(f"cannot locate {self.what} {id_}: no {', '.join(missing)}")
        with config.make_client(settings, self.held_secrets(props)) as client:
            try:
                yield client, scope
            except errors.AuthenticationError as exc:
                raise exc.with_summary(
                    f"Bird refused the access key ({exc.status}) {doing} {self.what} {id_}, so nothing was changed. "
                    f"`pulumi refresh` and `pulumi destroy` use the configuration stored by the last `pulumi up`: if "
                    f"bird:accessKey was rotated since, run `pulumi up` first, or `pulumi destroy --run-program` / "
                    f"`pulumi refresh --run-program`; otherwise check bird:accessKey / BIRD_ACCESS_KEY"
                ) from None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        lookup = props.get(LOOKUP_MARKER) is True  # a get(), not a refresh
        with self._stored_client(id_, props, "reading") as (client, scope):
            found = self.find_for_read(client, scope, id_)
        if found is None:
            if lookup:  # get(): the engine would hand the program a resource with every output empty
                raise ValueError(f"get: there is no {self.what} {id_!r} in workspace {scope[-1]}")
            return ReadResult("", {})  # refresh: gone, so the engine drops it from the stack
        self.check_found(client, id_, found)
        inputs = self.inputs_from_bird(found, props, scope, lookup=lookup)
        return ReadResult(id_, {**inputs, **self.outputs(found, inputs)}, inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = self._inputs(news)
        changes: dict[str, Any] = {
            str(p.bird): news.get(p.name) if news.get(p.name) is not None else p.cleared
            for p in self.schema.patchable
            if _changed(p, olds.get(p.name), news.get(p.name))
        }
        if not changes:  # only inputs Bird never sees changed
            return UpdateResult({**olds, **inputs})
        scope = [news[name] for name in self.scope]
        with config.make_client(secrets=[*self.held_secrets(olds), *self.held_secrets(news)]) as client:
            found = self.patch(client, scope, id_, changes)
        return UpdateResult({**inputs, **self.outputs(found, inputs)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with self._stored_client(id_, props, "deleting") as (client, scope):
            self.remove(client, scope, id_)
        self.deleted(scope, id_, props)

    # -- reading back, adopting --

    def held_secrets(self, props: Mapping[str, Any]) -> list[Any]:
        """The secret inputs a call holds from state, sent or not: its client redacts them from errors like the key."""
        return [props.get(name) for name in self.schema.secrets]

    def id_of(self, found: Any) -> str:
        return str(self.echo_of(found).id)

    def inputs_from_bird(
        self, found: Any, props: Mapping[str, Any], scope: Sequence[str], *, lookup: bool = False
    ) -> dict[str, Any]:
        """The inputs as Bird shows them, each read as its schema declares (:data:`~.schema.Echo`); the scope
        from Bird where it shows it, else the one the object was found in."""
        echo = self.echo_of(found)
        inputs: dict[str, Any] = {}
        for p in self.schema:
            value = read_back(p, echo, props.get(p.name), lookup=lookup)
            if p.name in self.scope:
                value = shown(p, echo) or scope[self.scope.index(p.name)]
            if value is None and p.default is not None:
                value = p.default
            if value is not None or p.change != "none":
                inputs[p.name] = value
        return inputs

    def _changes(self, found: Any, inputs: Mapping[str, Any], props: Iterable[Property]) -> dict[str, Any]:
        """PATCH fields (wire names) that bring Bird's object to ``inputs`` for ``props``. An input Bird never
        shows is always sent when set: the program's value is then the one in use."""
        echo, changes = self.echo_of(found), {}
        for p in props:
            mine, field = inputs.get(p.name), str(p.bird)
            if p.reading == "never":
                if mine is not None:
                    changes[field] = mine
            elif not _same(p, read_back(p, echo, mine), mine) and (mine is not None or p.reading != "declared"):
                changes[field] = mine if mine is not None else p.cleared
        return changes

    def _adopt(self, client: Any, scope: Sequence[str], inputs: dict[str, Any]) -> Any:
        """Take over the object ``adopt_id`` names instead of creating one (no POST): what PATCH can set is
        brought to what the program declares; anything else that differs fails, and then nothing is written."""
        from ..api.create import remember_owned

        adopt_id = inputs["adopt_id"]
        found = self.find(client, scope, adopt_id)
        if found is None:
            raise ValueError(f"adopt_id {adopt_id!r}: there is no {self.what} with this id in workspace {scope[-1]}")
        self.check_found(client, adopt_id, found, adopting=True)
        # (property, declared, Bird's) for what differs and PATCH cannot change (or cannot unset)
        birds, differences = self.inputs_from_bird(found, inputs, scope), []
        for p in self.schema:
            mine, bird = inputs.get(p.name), birds.get(p.name)
            unsets = not p.removable and mine is None and bird is not None
            if p.change != "none" and p.reading != "never" and (unsets or not (p.patchable or _same(p, bird, mine))):
                differences.append((p.name, mine, bird))
        if differences:
            from ..api.evidence import quotable  # no argument value or URL query in a message: keys suffice

            lines = "\n".join(f"  {prop}: declared {quotable(mine)}, Bird has {quotable(theirs)}"
                               for prop, mine, theirs in differences)
            what = "in what cannot be updated" if self.schema.patchable else f"and {self.what}s cannot be updated"
            raise ValueError(client.redact(  # it quotes what Bird has: no secret may ride along
                f"adopt_id {adopt_id!r}: {self.what} {adopt_id} differs from the program {what}, so nothing was "
                f"changed. Make the program say what Bird has:\n{lines}"
            ))
        changes = self._changes(found, inputs, self.schema.patchable)
        if changes:
            found = self.patch(client, scope, adopt_id, changes)
        found = self.ready(client, scope, found, inputs)
        remember_owned(adopt_id)
        return found

    def _inputs(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props.get(k) for k in self.schema.names}


def read_back(p: Property, echo: Any, declared: Any, *, lookup: bool = False) -> Any:
    """One input as Bird's object shows it, read the way its schema declares (:data:`~.schema.Echo`)."""
    reading = p.reading
    if reading == "never":
        return declared
    value = shown(p, echo)
    if reading == "fallback":
        return declared if value is None else value
    if reading == "declared":
        return None if declared is None else value
    if reading == "keys":
        if lookup or not isinstance(declared, dict) or value is None:
            return value if lookup else declared
        return {key: value.get(key, mine) for key, mine in declared.items()}
    return None if declared is None and not value else value  # exact


def _same(p: Property, old: Any, new: Any) -> bool:
    return p.comparable(old) == p.comparable(new)


def _changed(p: Property, old: Any, new: Any) -> bool:
    """Whether a diff sees a change of ``p`` (an unknown always counts)."""
    if p.change == "none":
        return False
    if is_unknown(new):
        return True
    if new is None and p.reading == "declared":  # left unset, the program has no opinion of it
        return False
    if old is None and p.secret and p.reading == "never" and p.change == "replace":
        # A secret Bird never shows (an invitation token): a state without it (an import, which can only return
        # what Bird shows) is no evidence of a change, and replacing a live channel for it would delete the
        # channel. A value changed from one to another still replaces; `pulumi up --replace` forces it.
        return False
    return not _same(p, old, new)


def _replaces(p: Property, old: Any, new: Any) -> bool:
    return p.change == "replace" or (not p.removable and old is not None and new is None)


def adopt_id_problem(provider: BirdProvider, olds: Mapping[str, Any], news: Mapping[str, Any], id_: str = "") -> str:
    """Why ``check`` (or, given the resource's id, ``diff``) refuses an up, or "": a replacement while ``adopt_id``
    still names the object being replaced would adopt (or find deleted) the very object it replaces, so the up stops
    before anything is deleted, as the engine stops a leftover ``import``. ``olds`` holding the same ``adopt_id``
    means the object was adopted, so it is the one replaced; check cannot see the id, so ``diff`` judges an
    ``adopt_id`` newly set to the resource's own id. Values unknown in a preview are not judged (the up's own check
    judges them)."""
    adopt_id = news.get("adopt_id")
    if not isinstance(olds, Mapping) or not isinstance(adopt_id, str):
        return ""
    adopted = olds.get("adopt_id") == adopt_id  # the object was adopted with it (a refresh's diff has it both sides)
    if id_:  # diff: adopt_id newly set to the resource's own id; an adopted one is check's to judge
        names_replaced = adopt_id == id_ and not adopted
    else:  # check: the adopted object is the one replaced
        names_replaced = adopted
    if not names_replaced:
        return ""
    replaces = [n for n in provider.plan(olds, news).replaces if not is_unknown(news.get(n))]
    if not replaces:
        return ""
    hidden = set(provider.schema.secrets)
    changes = ", ".join(n if n in hidden else f"{n} {olds.get(n)!r} -> {news.get(n)!r}" for n in replaces)
    fate = "take over the very object the up deletes" if id_ else "delete it and then find nothing to adopt"
    return (f"{provider.what} {adopt_id} must be replaced ({changes}), but adopt_id still names it: the replacement "
            f"would {fate}. To keep it, declare its current values in the program; "
            f"to replace it, remove adopt_id (it is only needed for the first deployment)")


def refuse_adopting_itself(provider: BirdProvider, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> None:
    """Diff's share of :func:`adopt_id_problem`: raised before any call to Bird, so preview and up fail."""
    problem = adopt_id_problem(provider, olds, news, id_)
    if problem:
        raise ValueError(problem)


# --- get() and the resource base --------------------------------------------------------------------------

# Registered by ``get()`` beside the all-empty properties: the engine hands a get's registered properties to
# ``read`` (ReadStep), so this tells a get, which must fail on a missing id, from a refresh, where "gone" is an
# answer. It is never returned as an output.
LOOKUP_MARKER = "__bird_lookup"


# Registered by a resource beside its inputs: its own Pulumi name. The SDK's dynamic host hands a provider only the
# properties, not the URN (pulumi/dynamic/__main__.py Create), so a 409 on a phone number could not otherwise name
# the sibling resource that holds it. Keys starting with "__" are internal: the engine leaves them out of every
# diff it shows (sdk/go/common/resource/properties.go IsInternalPropertyKey), and our diffs compare only inputs.
RESOURCE_NAME_KEY = "__bird_resource"


def _secret_options(schema: Schema, opts: Optional[pulumi.ResourceOptions], **more: Any) -> pulumi.ResourceOptions:
    """``opts``, with the secret inputs kept secret in the outputs too."""
    secrets = pulumi.ResourceOptions(additional_secret_outputs=list(schema.secrets) or None, **more)
    return pulumi.ResourceOptions.merge(opts, secrets)


class BirdResource(pulumi.dynamic.Resource):
    """Base of the resource classes: registration and ``get()`` from the provider's schema. A resource class names
    its provider in ``bird_provider``."""

    bird_provider: ClassVar[type[BirdProvider]]
    # For pyright and mypy: the Output of the inputs every resource has.
    workspace_id: pulumi.Output[str]
    adopt_id: pulumi.Output[Optional[str]]

    def _register(self, resource_name: str, values: Mapping[str, Any], opts: Optional[pulumi.ResourceOptions]) -> None:
        """Register the schema's inputs out of ``values`` (the ``__init__``'s keyword arguments) beside the computed
        outputs, secrets wrapped."""
        warn_unknown_program_keys()
        provider = self.bird_provider()
        schema = provider.schema
        props: dict[str, Any] = {**dict.fromkeys(schema.outputs), **schema.collect(values)}
        for key in schema.secrets:
            if props.get(key) is not None:
                props[key] = pulumi.Output.secret(props[key])
        self._fill(props, resource_name)
        super().__init__(provider, resource_name, props, _secret_options(schema, opts))

    def _fill(self, props: dict[str, Any], resource_name: str) -> None:
        """Defaults that depend on the resource name."""

    @classmethod
    def get(cls, resource_name: str, id: pulumi.Input[str], opts: Optional[pulumi.ResourceOptions] = None) -> Self:
        """Read an existing object into the stack by its Bird id (its scope from the stack config); every property
        is left to the provider's ``read``, and the stack never deletes it."""
        warn_unknown_program_keys()
        provider = cls.bird_provider()
        schema = provider.schema
        props = {**dict.fromkeys((*schema.names, *schema.outputs)), LOOKUP_MARKER: True}
        resource = object.__new__(cls)
        pulumi.dynamic.Resource.__init__(resource, provider, resource_name, props, _secret_options(schema, opts, id=id))
        return resource


# The config object of the program run last warned about (the language host sets one per program run, so each
# run warns once), guarded by its lock.
_warned_config: list[Any] = []
_warned_config_lock = threading.Lock()


def program_config() -> tuple[dict[str, Optional[str]], list[str]]:
    """The program's ``bird:*`` settings, and the name of every key of its stack config (as the language host
    hands them to the program: ``pulumi.runtime.config``, then ``PULUMI_CONFIG``)."""
    from pulumi.runtime import config as runtime_config

    bird = pulumi.Config("bird")
    values = {name: bird.get(name.split(":", 1)[1]) for name, _ in config.ALL_KEYS}
    return values, sorted({*runtime_config.CONFIG.get(), *runtime_config.get_config_env()})


def warn_unknown_program_keys() -> None:
    """Warn once per program run about each ``bird:*`` key of the stack config that nothing reads (a warning of
    ``pulumi preview`` and ``up``, beside the key it most likely misspells), as a resource or lookup is declared."""
    from pulumi.runtime import config as runtime_config

    current = runtime_config.CONFIG.get()
    with _warned_config_lock:
        if _warned_config and _warned_config[0] is current:
            return
        _warned_config[:] = [current]
    _, names = program_config()
    for warning in config.key_warnings(config.unknown_bird_keys(names)):
        pulumi.log.warn(warning)

