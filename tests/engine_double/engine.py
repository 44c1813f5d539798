"""The engine double's step generation: what one ``pulumi up`` or ``preview`` does with each registration.

Every request to the provider host below carries a comment naming the function of pulumi/pulumi it
mirrors (pkg/resource/deploy/step_generator.go, step.go, step_executor.go, default_providers.go,
sdk/go/common/resource/plugin/provider_plugin.go). The host strips secrets on the wire (the Python
host answers ``Configure`` with ``acceptSecrets=False``) and the secretness of outputs is restored here
from the inputs of the same name and from ``additionalSecretOutputs``, as provider_plugin.go
``annotateSecrets`` and step_executor.go do.

The commands themselves (``run_program``, ``refresh``, ``destroy``) live in :mod:`.commands`.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any, Callable, Iterable, Mapping, Optional

from .errors import ProgramError
from .host import UNKNOWN, ProviderError, ProviderHost
from .monitor import STACK_REFERENCE_TYPE, STACK_TYPE, Registration, _Handler, _stack_reference_state
from .paths import apply_ignore_changes, parse_property_path
from .state import PendingOperation, ResourceState, State

__all__ = [
    "DYNAMIC_TYPE_PREFIX",
    "default_provider_denial",
    "delete_resource",
    "protected_error",
    "provider_failed",
    "schedule_deletes",
]

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
"""Type token prefix of every ``pulumi.dynamic.Resource``."""

DYNAMIC_PACKAGE = "pulumi-python"


def _import_refusal(reg: Registration) -> str:
    kind = reg.type.split(":")[-1]
    return (
        f"cannot import resource '{reg.name}' ({reg.type}) with import_={reg.import_id!r}: the engine "
        "imports by sending Read with the id alone, no properties and no inputs "
        "(pkg/resource/deploy/step.go ImportStep.Apply), so the Python dynamic provider host cannot "
        "find the pickled provider and fails with KeyError: '__provider' (pulumi/pulumi#16175); "
        "`pulumi import` fails the same way. To take over the existing object, give the resource "
        f"adopt_id={reg.import_id!r} instead of import_; to only read it, use {kind}.get(name, id)."
    )


def provider_failed(what: str, name: str, urn: str, exn: ProviderError) -> ProgramError:
    """A ProgramError for a failed provider call: what failed and the provider's own message, without the
    host's traceback (kept on ``.traceback`` and on ``.provider_error.message``)."""
    error = ProgramError(
        f"{what} failed: {exn.provider_message}", resource=name, urn=urn, provider_error=exn
    )
    error.traceback = exn.message
    return error


def default_provider_denial(config: Mapping[str, str]) -> Optional[str]:
    """default_providers.go shouldDenyRequest for the ``pulumi-python`` default provider: ``None`` when it
    may be created, else why not (``pulumi:disable-default-providers`` lists ``*`` or the package)."""
    value = config.get("pulumi:disable-default-providers")
    if value is None or value == "":
        return None  # an empty list is encoded as the empty string
    try:
        barred = json.loads(value)
    except ValueError as exn:
        return f"Failed to parse {value}: {exn}"
    if not isinstance(barred, list):
        return f"Failed to parse {value}: not a list"
    for i, entry in enumerate(barred):
        if not isinstance(entry, str):
            return f"pulumi:disable-default-providers[{i}] must be a string"
        if entry.strip() in ("*", DYNAMIC_PACKAGE):
            return ""  # denied: the caller words the error for the resource
    return None


def protected_error(urn: str) -> ProgramError:
    # step.go deleteProtectedError
    return ProgramError(
        f"resource {urn!r} cannot be deleted because it is protected. To unprotect the resource, either remove "
        "the `protect` flag from the resource in your Pulumi program and run `pulumi up`, or use the command: "
        f"`pulumi state unprotect '{urn}'`",
        urn=urn,
    )


def delete_resource(
    host: ProviderHost, res: ResourceState, *, replacing: bool = False, others: Iterable[str] = ()
) -> None:
    """step.go DeleteStep.Apply: protect refuses (unless replacing, checked by the caller); external,
    retainOnDelete and deletedWith-a-resource-deleted-too (``others``: the URNs this operation deletes)
    resources are only dropped from the state, also inside a replacement."""
    if not replacing and res.protect:
        raise protected_error(res.urn)
    if res.external or res.retain_on_delete or res.pending_replacement:
        return  # a pending replacement was deleted already (step_generator.go RemovePendingReplaceStep)
    if res.deleted_with and res.deleted_with in set(others):
        return  # step.go isDeletedWith: deleting the other resource deletes this one
    try:
        # step.go DeleteStep.Apply -> provider_plugin.go Delete: id, the old outputs as properties,
        # and the old inputs (the host said sends_old_inputs_to_delete).
        host.delete(res.urn, res.id, res.outputs, old_inputs=res.inputs)
    except ProviderError as exn:
        raise provider_failed(f"delete of resource '{res.name}' (id {res.id})", res.name, res.urn, exn) from None


class Cancelled(ProgramError):
    """A step that did not start because an earlier one failed (step_executor.go cancelDueToError)."""


class _Executor:
    """step_executor.go: at most ``parallel`` steps apply at once (``--parallel``; up.go defaultParallel is
    4 x GOMAXPROCS), and once a step fails (cancelDueToError) no step that has not started starts."""

    def __init__(self, parallel: int) -> None:
        self.slots = threading.BoundedSemaphore(max(1, parallel))
        self.lock = threading.Lock()
        self.error: Optional[BaseException] = None
        self.closed = False  # a step failed; its caller is about to record the error (fail)

    def fail(self, exn: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = exn

    def check_open(self, name: str = "", urn: str = "") -> None:
        if self.error is not None or self.closed:
            raise Cancelled(
                f"resource '{name}' was not processed: an earlier step failed, which cancels the steps not yet "
                "started (pkg/resource/deploy/step_executor.go cancelDueToError)",
                resource=name or None,
                urn=urn or None,
            )

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a provider call unless the run already failed (the caller records its failure)."""
        self.check_open()
        return fn(*args, **kwargs)

    def step(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Apply a step (create, update, delete, read) in one of the ``parallel`` slots. A failed step closes the
        run before it gives its slot up, so that no step waiting for the slot starts before the failure is
        recorded."""
        self.check_open()
        with self.slots:
            try:
                return self.call(fn, *args, **kwargs)
            except BaseException:
                self.closed = True
                raise


def create_urn(name: str, type_: str, parent: str, project: str, stack: str) -> str:
    """sdk/go/common/resource/urn.go CreateURN: the parent's type chain, then this type."""
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type.split("$")[-1] != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def _alias_urns(reg: Registration, request: Any, project: str, stack: str) -> list[str]:
    """step_generator.go generateAliases -> collapseAliasToUrn: each alias spec as a URN (a missing name,
    type, project or stack is the resource's own; ``noParent`` or the root stack means no parent)."""
    found: list[str] = list(getattr(request, "aliasURNs", []))
    for alias in getattr(request, "aliases", []):
        if alias.urn:
            found.append(alias.urn)
            continue
        spec = alias.spec
        parent = "" if spec.noParent else (spec.parentUrn or reg.parent)
        found.append(
            create_urn(spec.name or reg.name, spec.type or reg.type, parent, spec.project or project, spec.stack or stack)
        )
    return list(dict.fromkeys(u for u in found if u != reg.urn))


class _Deployment(_Handler):
    """The engine's step generation and execution for one ``up`` or ``preview``."""

    def __init__(
        self,
        host: ProviderHost,
        prior: State,
        *,
        preview: bool,
        stack_references: Optional[Mapping[str, Any]],
        config: Mapping[str, str],
        parallel: int,
    ) -> None:
        self.host = host
        self.preview = preview
        self.stack_references = stack_references
        self.project, self.stack = prior.project, prior.stack
        self.prior_list = list(prior.resources)
        self.prior = {r.urn: r for r in prior.resources if not r.pending_delete}
        self.denial = default_provider_denial(config)
        self.executor = _Executor(parallel)
        self.lock = threading.Lock()
        self.new: dict[str, ResourceState] = {}
        self.planned: dict[str, ResourceState] = {}
        self.steps: dict[str, str] = {}
        self.seen: set[str] = set()
        self.aliased: dict[str, str] = {}  # old URN -> the URN that claimed it through an alias
        self.replacing: set[str] = set()  # URNs replaced in this run (for deletedWith)
        self.replaced: list[ResourceState] = []  # old copies to delete after the program
        self.deleted_early: set[int] = set()  # id() of old copies deleted before a replacement
        self.condemned: set[int] = set()  # id() of dependents deleted with a delete-before-replace
        self.pending: list[PendingOperation] = []  # creates in flight when the run was interrupted
        self.interrupted: Optional[BaseException] = None
        # pkg/backend/snapshot.go: pending CREATEs of earlier runs stay until a refresh clears them.
        self.kept_pending = [op for op in prior.pending_operations if op.type == "creating"]

    @property
    def error(self) -> Optional[BaseException]:
        return self.executor.error

    # -- helpers ----------------------------------------------------------------------------

    def _fail(self, message: str, reg: Registration, exn: Optional[ProviderError] = None) -> ProgramError:
        return ProgramError(message, resource=reg.name, urn=reg.urn, provider_error=exn)

    def _provider(self, what: str, reg: Registration, fn: Callable[..., Any], *args: Any, step: bool = False,
                  **kwargs: Any) -> Any:
        run = self.executor.step if step else self.executor.call
        try:
            return run(fn, *args, **kwargs)
        except ProviderError as exn:
            raise provider_failed(f"{what} of resource '{reg.name}' ({reg.type})", reg.name, reg.urn, exn) from None

    def _claim(self, reg: Registration) -> None:
        with self.lock:
            if reg.urn in self.seen:
                raise self._fail(f"duplicate resource URN {reg.urn!r}", reg)
            self.seen.add(reg.urn)

    def _record(self, res: ResourceState, step: str) -> None:
        with self.lock:
            self.steps[res.urn] = step
            self.planned[res.urn] = res
            if step == "replace":
                self.replacing.add(res.urn)
            if not self.preview:
                self.new[res.urn] = res

    def _guard(self, fn: Callable[..., tuple], reg: Registration, request: Any) -> tuple:
        try:
            self.executor.check_open(reg.name, reg.urn)
            return fn(reg, request)
        except BaseException as exn:
            self.executor.fail(exn)
            raise

    def _check(self, reg: Registration, news: Mapping[str, Any], olds: Optional[Mapping[str, Any]]) -> dict:
        checked = self._provider("check", reg, self.host.check, reg.urn, news, olds=olds)
        if checked.failures:
            lines = "\n".join(f"  {prop}: {reason}" for prop, reason in checked.failures)
            raise ProgramError(
                f"resource '{reg.name}' ({reg.type}) failed check:\n{lines}",
                resource=reg.name,
                urn=reg.urn,
                failures=checked.failures,
            )
        return checked.inputs

    def _deny(self, reg: Registration, verb: str = "") -> None:
        """step_generator.go loadResourceProvider (source_eval.go ReadResource for a get()): a denied
        default provider fails the resource (diag GetDefaultProviderDenied)."""
        if self.denial is None:
            return
        if self.denial:
            raise self._fail(self.denial, reg)
        target = reg.type if verb else reg.urn
        raise self._fail(
            f"Default provider for '{DYNAMIC_PACKAGE}' disabled. '{target}' must use an explicit provider "
            "(pulumi:disable-default-providers; a dynamic resource cannot name another provider, so it cannot be "
            "deployed under this setting)",
            reg,
        )

    # -- registrations ----------------------------------------------------------------------

    def register(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        return self._guard(self._register, reg, request)

    def read(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        return self._guard(self._read, reg, request)

    def _old_resource(self, reg: Registration, request: Any) -> Optional[ResourceState]:
        """step_generator.go getOldResource: by URN first, then by each alias; an alias match claims
        the old resource (it is not deleted) and may be claimed once."""
        old = self.prior.get(reg.urn)
        if old is not None:
            return old
        for alias in _alias_urns(reg, request, self.project, self.stack):
            if alias not in self.prior:
                continue
            with self.lock:
                if alias in self.seen or alias in self.aliased:
                    # diag GetDuplicateResourceAliasError
                    raise self._fail(
                        f"Duplicate resource URN '{alias}'; try giving resource '{reg.urn}' a different name or "
                        "removing the alias", reg
                    )
                self.aliased[alias] = reg.urn
            return self.prior[alias]
        return None

    def _register(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        self._claim(reg)
        if not reg.type.startswith(DYNAMIC_TYPE_PREFIX):
            # Components have no provider; other providers' resources are out of scope: echo.
            if not reg.custom:
                return "", {}, set()
            id_ = reg.import_id or ("" if self.preview else f"{reg.name}_id")
            return id_, reg.inputs, reg.secret_inputs
        self._deny(reg)
        old = self._old_resource(reg, request)
        # step_generator.go generateSteps: an id in the goal is an import unless the old resource
        # (managed, not external) already has that id.
        if reg.import_id and (old is None or old.external or old.id != reg.import_id):
            self._import(reg)
        recreating = old is not None and id(old) in self.condemned
        if old is None or old.external or recreating:
            # step_generator.go continueStepsFromImport: a new, formerly external or re-created
            # resource is checked without olds.
            inputs = self._check(reg, reg.inputs, None)
            res = self._state(reg, request, *self._create(reg, inputs), inputs)
            self._record(res, "replace" if recreating else "create")
            return res.id, res.outputs, res.secret_outputs
        # step_generator.go continueStepsFromImport: olds = the old *inputs*, news = the program's inputs
        # with ignoreChanges reset from the olds (processIgnoreChanges, PropertyPath.Reset).
        news = apply_ignore_changes(reg.inputs, old.inputs, request.ignoreChanges)
        inputs = self._check(reg, news, old.inputs)
        return self._update_or_replace(reg, request, old, inputs)

    def _state(self, reg: Registration, request: Any, id_: str, outputs: dict, inputs: dict,
               kept_secret: Iterable[str] = ()) -> ResourceState:
        secret_in = set(reg.secret_inputs) & set(inputs)
        # provider_plugin.go annotateSecrets(outs, inputs) and step_executor.go additionalSecretOutputs.
        secret_out = (secret_in | set(request.additionalSecretOutputs) | set(kept_secret)) & set(outputs)
        return ResourceState(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            id=id_,
            inputs=inputs,
            outputs=outputs,
            secret_inputs=secret_in,
            secret_outputs=secret_out,
            protect=bool(request.protect) if request.HasField("protect") else False,
            retain_on_delete=bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
            dependencies=list(reg.dependencies),
            property_dependencies=dict(reg.property_dependencies),
            parent=reg.parent if reg.parent.split("::")[2:3] != [STACK_TYPE] else "",
            deleted_with=request.deletedWith,
            ignore_changes=list(request.ignoreChanges),
        )

    def _diff(self, reg: Registration, request: Any, old: ResourceState, inputs: dict) -> tuple[str, list[str], bool]:
        """step_generator.go diff -> diffResource -> provider_plugin.go Diff: olds = the old *outputs*,
        old_inputs = the old inputs, news = the *checked* inputs; in preview too. Returns
        ``(changes, replace keys, delete before replace)``."""
        if old.deleted_with and old.deleted_with in self.replacing:
            # step_generator.go diff: replaced because its deletedWith resource is replaced.
            return "some", ["deletedWith"], False
        diff = self._provider(
            "diff", reg, self.host.diff, reg.urn, old.id, old.outputs, inputs,
            old_inputs=old.inputs, ignore_changes=tuple(request.ignoreChanges),
        )
        changes, replaces = diff.changes, list(diff.replaces)
        if old.pending_replacement:
            # continueStepsFromDiff: an old resource deleted by an earlier delete-before-replace is replaced
            # whatever the diff says, without deleting it again.
            return "some", replaces or ["(pending replacement)"], True
        changed: list[str] = []
        if changes == "unknown":
            # diffResource: for DIFF_UNKNOWN the engine compares old and new inputs itself.
            news = apply_ignore_changes(inputs, old.inputs, request.ignoreChanges)
            changed = sorted(k for k in set(old.inputs) | set(news) if old.inputs.get(k) != news.get(k))
            changes = "some" if changed else "none"
        # step_generator.go applyReplaceOnChanges: only changed keys the engine knows of (the Python
        # host reports none; the engine's own diff above does) can turn into replacements.
        for path in request.replaceOnChanges:
            head = parse_property_path(path)[:1]
            replaces += [k for k in changed if head in (["*"], [k]) and k not in replaces]
        return changes, replaces, diff.delete_before_replace

    def _update_or_replace(self, reg: Registration, request: Any, old: ResourceState, inputs: dict) -> tuple:
        changes, replaces, delete_first = self._diff(reg, request, old, inputs)
        if changes == "none":
            # step.go SameStep: the old outputs, the new inputs.
            res = self._state(reg, request, old.id, old.outputs, inputs, old.secret_outputs)
            self._record(res, "same")
        elif not replaces:
            if self.preview:
                # provider_plugin.go Update: the host has no preview support, so in a preview the
                # engine takes the new inputs as the outputs and makes no call.
                outputs = inputs
            else:
                # step.go UpdateStep.Apply -> provider_plugin.go Update: olds = old outputs,
                # news = checked inputs, old_inputs = old inputs.
                outputs = self._provider(
                    "update", reg, self.host.update, reg.urn, old.id, old.outputs, inputs,
                    old_inputs=old.inputs, step=True,
                )
            res = self._state(reg, request, old.id, outputs, inputs)
            self._record(res, "update")
        else:
            if request.deleteBeforeReplaceDefined:
                delete_first = bool(request.deleteBeforeReplace)
            res = self._replace(reg, request, old, replaces, delete_first)
        return res.id, res.outputs, res.secret_outputs

    def _replace(self, reg: Registration, request: Any, old: ResourceState, replaces: list[str],
                 delete_first: bool) -> ResourceState:
        """step_generator.go continueStepsFromDiff: a replacement."""
        protect = bool(request.protect) if request.HasField("protect") else False
        if protect and old.protect:
            # continueStepsFromDiff: new.Protect && old.Protect (unprotecting and replacing in one up is allowed).
            raise self._fail(
                f"unable to replace resource {reg.urn!r} as it is currently marked for protection (its change to "
                f"{', '.join(replaces)} requires a replacement). To unprotect the resource, remove the `protect` "
                "flag from the resource in your Pulumi program and run `pulumi up`",
                reg,
            )
        if reg.import_id and not self.preview:
            raise self._fail(
                "previously-imported resources that still specify an ID may not be replaced; please "
                f"remove the `import` declaration from resource '{reg.name}' ({', '.join(replaces)})",
                reg,
            )
        # continueStepsFromDiff: defaults are recomputed for the replacement: Check without olds.
        inputs = self._check(reg, reg.inputs, None)
        if delete_first:
            self._delete_before_replace(reg, old)
        else:
            with self.lock:
                self.replaced.append(old)  # step.go: deleted after every create and update
        res = self._state(reg, request, *self._create(reg, inputs), inputs)
        self._record(res, "replace")
        return res

    def _delete_before_replace(self, reg: Registration, old: ResourceState) -> None:
        """continueStepsFromDiff with deleteBeforeReplace: the dependents a change of this resource would
        replace go first, in reverse order, then the old resource itself."""
        if old.pending_replacement:
            with self.lock:
                self.deleted_early.add(id(old))  # deleted by an earlier run; the create completes it
            return
        dependents = self._dependent_replacements(old)
        for dependent in reversed(dependents):
            if dependent.protect:
                raise self._fail(
                    f"unable to replace resource {dependent.urn!r} as part of replacing {reg.urn!r} "
                    "as it is currently marked for protection",
                    reg,
                )
            if not self.preview:
                self.executor.step(delete_resource, self.host, dependent, replacing=True)
            with self.lock:
                self.condemned.add(id(dependent))
                if not self.preview:
                    self.deleted_early.add(id(dependent))
        if not self.preview:
            self.executor.step(delete_resource, self.host, old, replacing=True)
            with self.lock:
                self.deleted_early.add(id(old))

    def _create(self, reg: Registration, inputs: dict) -> tuple[str, dict]:
        if self.preview:
            # provider_plugin.go Create: in a preview a provider without preview support (the
            # Python host) is not called; its inputs stand for the outputs, the id is unknown.
            return "", inputs
        # step.go CreateStep.Apply -> provider_plugin.go Create: properties = the checked inputs.
        try:
            created = self._provider("create", reg, self.host.create, reg.urn, inputs, step=True)
        except (KeyboardInterrupt, SystemExit) as exn:
            # pkg/backend/snapshot.go doCreate: the checkpoint holds a pending CREATE from before the call
            # until it ends; a CLI killed meanwhile leaves it there. The program is stopped with an ordinary
            # error (the SDK would wait forever on a KeyboardInterrupt); the command re-raises `exn`.
            pending = ResourceState(reg.urn, reg.type, reg.name, "", inputs, {}, secret_inputs=set(reg.secret_inputs))
            with self.lock:
                self.pending.append(PendingOperation("creating", pending))
                self.interrupted = self.interrupted or exn
            raise self._fail(f"interrupted while creating resource '{reg.name}'", reg) from None
        return created.id, created.outs

    def _import(self, reg: Registration) -> None:
        """step.go ImportStep.Apply: Read with the import id and nothing else."""
        try:
            # step.go ImportStep.Apply -> provider_plugin.go Read: ID only; no State, no Inputs.
            self.executor.call(self.host.read, reg.urn, reg.import_id or "", None, None)
        except ProviderError as exn:
            raise self._fail(_import_refusal(reg) + f"\nprovider host said: {exn.summary}", reg, exn) from None
        raise self._fail(
            _import_refusal(reg) + "\n(the host answered the id-only Read; this runner still does not model "
            "imports of dynamic resources)",
            reg,
        )

    def _dependent_replacements(self, root: ResourceState) -> list[ResourceState]:
        """step_generator.go calculateDependentReplacements: the old resources that depend on ``root``
        and whose provider says a change of those inputs replaces them.

        Each candidate is diffed with the inputs that depend on a condemned resource set to unknown
        (``Diff(olds=outputs, old_inputs=inputs, news=inputs with unknowns)``, unknowns allowed).
        """
        with self.lock:
            registered = set(self.seen)
        replace_set = {root.urn}
        depending = {root.urn}
        found: list[ResourceState] = []
        start = next((i for i, r in enumerate(self.prior_list) if r is root), -1)
        for res in self.prior_list[start + 1 :]:
            if res.pending_delete or res.urn in registered or not res.edges() & depending:
                continue  # DependingOn skips what this run already registered
            depending.add(res.urn)
            if res.external:
                continue
            if self._replaced_with(res, replace_set):
                replace_set.add(res.urn)
                found.append(res)
        return found

    def _replaced_with(self, res: ResourceState, replace_set: set[str]) -> bool:
        if res.deleted_with in replace_set:
            return True  # calculateDependentReplacements: deletedWith a replaced resource
        inputs_for_diff, touched = {}, False
        for key, value in res.inputs.items():
            if set(res.property_dependencies.get(key, ())) & replace_set:
                value, touched = UNKNOWN, True
            inputs_for_diff[key] = value
        if not touched:
            return False
        try:
            # calculateDependentReplacements -> diffResource: old inputs, old outputs, and the inputs
            # with the condemned dependencies unknown.
            diff = self.executor.call(self.host.diff, res.urn, res.id, res.outputs, inputs_for_diff,
                                      old_inputs=res.inputs)
        except ProviderError as exn:
            raise provider_failed(f"diff of dependent resource '{res.name}' (id {res.id})", res.name, res.urn,
                                  exn) from None
        return bool(diff.replaces)

    def _read(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        if reg.type == STACK_REFERENCE_TYPE:
            name = reg.resource_id or ""
            return name, _stack_reference_state(name, self.stack_references), set()
        self._claim(reg)
        if not reg.type.startswith(DYNAMIC_TYPE_PREFIX):
            return reg.resource_id or "", reg.inputs, reg.secret_inputs
        self._deny(reg, "Read")
        requested = reg.resource_id or ""
        if requested == UNKNOWN:
            # step.go ReadStep.Apply: only an unknown id keeps a read from running (in a preview).
            res = ResourceState(reg.urn, reg.type, reg.name, "", reg.inputs, {}, external=True)
            self._record(res, "read")
            return "", {}, set()
        # step.go ReadStep.Apply (runs in previews too) -> provider_plugin.go Read: the registered
        # properties go as both the inputs and the state.
        found = self._provider("read", reg, self.host.read, reg.urn, requested, reg.inputs, reg.inputs, step=True)
        if not found.has_properties:
            # ReadStep.Apply fails only when the provider returns no properties at all.
            raise self._fail(f"resource '{requested}' does not exist", reg)
        old = self.prior.get(reg.urn)
        if old is not None and not old.external and old.id != requested:
            # step_generator.go GenerateReadSteps: a managed resource with another id is replaced by the
            # read (ReadReplacementStep) and deleted; with the same id it is only released ("relinquish").
            with self.lock:
                self.replaced.append(old)
        res = ResourceState(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            id=found.id or requested,
            inputs=reg.inputs,
            outputs=found.outs,
            secret_inputs=set(reg.secret_inputs),
            secret_outputs=(set(reg.secret_inputs) | set(request.additionalSecretOutputs)) & set(found.outs),
            external=True,
        )
        self._record(res, "read")
        return res.id, res.outputs, res.secret_outputs

    # -- after the program ------------------------------------------------------------------

    def leftovers(self) -> list[ResourceState]:
        """Prior resources to delete: unregistered (and not aliased) ones, replaced copies, earlier
        pending deletes (step_generator.go GenerateDeletes)."""
        replaced = {id(r) for r in self.replaced}
        return [
            r
            for r in self.prior_list
            if id(r) not in self.deleted_early
            and (r.pending_delete or id(r) in replaced or (r.urn not in self.seen and r.urn not in self.aliased))
        ]

    def _superseded(self, old: ResourceState) -> bool:
        if old.urn in self.new:
            return True
        return self.aliased.get(old.urn, "") in self.new  # the alias's new state replaces it

    def snapshot(self, deleted: Iterable[ResourceState] = (), *, final: bool = False) -> State:
        """The stack now: this run's resources in order, then prior ones not superseded
        (untouched after a failure, or awaiting deletion), minus ``deleted``.

        An old resource deleted by a delete-before-replace stays, marked ``pending_replacement``
        (step.go DeleteStep.Apply), until its replacement exists; a ``final`` snapshot drops those the
        program no longer has (step_generator.go GenerateDeletes: RemovePendingReplaceStep)."""
        gone = {id(r) for r in deleted}
        with self.lock:
            fresh = list(self.new.values())
            replaced = {id(r) for r in self.replaced}
            early = set(self.deleted_early)
        keep = []
        for old in self.prior_list:
            if id(old) in gone:
                continue
            if id(old) in early:
                if not (final or self._superseded(old)):
                    keep.append(_marked(old, pending_replacement=True))
            elif old.pending_delete or id(old) in replaced:
                keep.append(_marked(old, pending_delete=True))  # an old copy that still exists
            elif not self._superseded(old):
                keep.append(old)
        return State(resources=fresh + keep, project=self.project, stack=self.stack,
                     pending_operations=self.kept_pending + list(self.pending))


def _marked(res: ResourceState, **flags: bool) -> ResourceState:
    clone = copy.copy(res)
    for name, value in flags.items():
        setattr(clone, name, value)
    return clone


def schedule_deletes(condemned: list[ResourceState]) -> list[list[ResourceState]]:
    """step_generator.go ScheduleDeletes: antichains of the dependency graph (dependencies, property
    dependencies, parent, deletedWith), dependents first; the resources of one antichain may be deleted
    in parallel. Within an antichain the order is the reverse of creation."""
    remaining = list(condemned)
    rounds: list[list[ResourceState]] = []
    while remaining:
        urns = {id(r): r.urn for r in remaining}
        layer = [
            r for r in remaining
            if not r.edges() & {u for key, u in urns.items() if key != id(r) and u != r.urn}
        ]
        if not layer:  # a cycle cannot come from a program; keep going rather than loop forever
            layer = list(remaining)
        rounds.append(layer)
        taken = {id(r) for r in layer}
        remaining = [r for r in remaining if id(r) not in taken]
    rounds.reverse()
    return [list(reversed(layer)) for layer in rounds]
