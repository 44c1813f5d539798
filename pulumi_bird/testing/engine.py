"""The engine double: what ``pulumi up``, ``preview``, ``refresh`` and ``destroy`` send to a dynamic provider.

Every request to the provider host below carries a comment naming the function of pulumi/pulumi it
mirrors (pkg/resource/deploy/step_generator.go, step.go, sdk/go/common/resource/plugin/
provider_plugin.go). The host strips secrets on the wire (the Python host answers ``Configure``
with ``acceptSecrets=False``) and the secretness of outputs is restored here from the inputs of the
same name and from ``additionalSecretOutputs``, as provider_plugin.go ``annotateSecrets`` and
step_executor.go do.

Where the engine fails, this fails too, with the reason and what to do instead: an ``import_`` of a
dynamic resource (the Python host cannot serve the engine's id-only ``Read``, pulumi/pulumi#16175),
a Pulumi.yaml or stack config the CLI refuses, a provider host that would not start from the
project's main directory, a replacement of a protected resource.

What it does not model: provider resources other than dynamic ones (non-dynamic custom resources
echo their inputs and are not kept in state), ``replaceOnChanges``, ``deletedWith``, aliases,
transforms, hooks, targets, plans.
"""

from __future__ import annotations

import contextlib
import copy
import os
import runpy
import sys
import threading
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Union

from .errors import ProgramError
from .host import UNKNOWN, ProviderError, ProviderHost
from .monitor import STACK_REFERENCE_TYPE, Registration, _execute, _Handler, _Monitor, _stack_reference_state
from .project import Project, ProjectError, Secret, load_project, stack_config
from .state import ProgramResult, ResourceState, State

__all__ = ["DYNAMIC_TYPE_PREFIX", "destroy", "refresh", "run_program"]

DYNAMIC_TYPE_PREFIX = "pulumi-python:dynamic"
"""Type token prefix of every ``pulumi.dynamic.Resource``."""


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


def _ignore_changes(news: Mapping[str, Any], olds: Mapping[str, Any], paths: Iterable[str]) -> dict:
    """step_generator.go processIgnoreChanges, for top-level properties."""
    result = dict(news)
    for key in paths:
        if key in olds:
            result[key] = olds[key]
        else:
            result.pop(key, None)
    return result


def _engine_diff(old_inputs: Mapping[str, Any], news: Mapping[str, Any]) -> str:
    # step_generator.go diffResource: for DIFF_UNKNOWN the engine compares old and new inputs itself.
    return "none" if dict(old_inputs) == dict(news) else "some"


def _provider_failed(what: str, name: str, urn: str, exn: ProviderError) -> ProgramError:
    """A ProgramError for a failed provider call: the provider's own last line, then its text."""
    return ProgramError(
        f"{what} failed: {exn.summary}\nprovider host said:\n{exn.message}",
        resource=name,
        urn=urn,
        provider_error=exn,
    )


def _delete_resource(host: ProviderHost, res: ResourceState, *, replacing: bool = False) -> None:
    """step.go DeleteStep.Apply: protect refuses (unless replacing, checked by the caller), external
    and retainOnDelete resources are only dropped from the state, also inside a replacement."""
    if not replacing and res.protect:
        raise ProgramError(
            f"resource '{res.name}' ({res.urn}) is protected and cannot be deleted",
            resource=res.name,
            urn=res.urn,
        )
    if res.external or res.retain_on_delete:
        return
    try:
        # step.go DeleteStep.Apply -> provider_plugin.go Delete: id, the old outputs as properties,
        # and the old inputs (the host said sends_old_inputs_to_delete).
        host.delete(res.urn, res.id, res.outputs, old_inputs=res.inputs)
    except ProviderError as exn:
        what = f"delete of resource '{res.name}' (id {res.id})"
        raise _provider_failed(what, res.name, res.urn, exn) from exn


class _Deployment(_Handler):
    """The engine's step generation and execution for one ``up`` or ``preview``."""

    def __init__(
        self,
        host: ProviderHost,
        prior: State,
        *,
        preview: bool,
        stack_references: Optional[Mapping[str, Any]],
    ) -> None:
        self.host = host
        self.preview = preview
        self.stack_references = stack_references
        self.prior_list = list(prior.resources)
        self.prior = {r.urn: r for r in prior.resources if not r.pending_delete}
        self.lock = threading.Lock()
        self.new: dict[str, ResourceState] = {}
        self.planned: dict[str, ResourceState] = {}
        self.steps: dict[str, str] = {}
        self.seen: set[str] = set()
        self.replaced: list[ResourceState] = []  # old copies to delete after the program
        self.deleted_early: set[int] = set()  # id() of old copies deleted before a replacement
        self.condemned: set[int] = set()  # id() of dependents deleted with a delete-before-replace
        self.error: Optional[BaseException] = None

    # -- helpers ----------------------------------------------------------------------------

    def _fail(self, message: str, reg: Registration, exn: Optional[ProviderError] = None) -> ProgramError:
        return ProgramError(message, resource=reg.name, urn=reg.urn, provider_error=exn)

    def _call(self, what: str, reg: Registration, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ProviderError as exn:
            what = f"{what} of resource '{reg.name}' ({reg.type})"
            raise _provider_failed(what, reg.name, reg.urn, exn) from exn

    def _claim(self, reg: Registration) -> None:
        with self.lock:
            if reg.urn in self.seen:
                raise self._fail(f"duplicate resource URN {reg.urn!r}", reg)
            self.seen.add(reg.urn)

    def _record(self, res: ResourceState, step: str) -> None:
        with self.lock:
            self.steps[res.urn] = step
            self.planned[res.urn] = res
            if not self.preview:
                self.new[res.urn] = res

    def _guard(self, fn: Callable[..., tuple], reg: Registration, request: Any) -> tuple:
        try:
            return fn(reg, request)
        except BaseException as exn:
            with self.lock:
                if self.error is None:
                    self.error = exn
            raise

    def _check(self, reg: Registration, news: Mapping[str, Any], olds: Optional[Mapping[str, Any]]) -> dict:
        checked = self._call("check", reg, self.host.check, reg.urn, news, olds=olds)
        if checked.failures:
            lines = "\n".join(f"  {prop}: {reason}" for prop, reason in checked.failures)
            raise ProgramError(
                f"resource '{reg.name}' ({reg.type}) failed check:\n{lines}",
                resource=reg.name,
                urn=reg.urn,
                failures=checked.failures,
            )
        return checked.inputs

    # -- registrations ----------------------------------------------------------------------

    def register(self, reg, request):
        return self._guard(self._register, reg, request)

    def read(self, reg, request):
        return self._guard(self._read, reg, request)

    def _register(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        self._claim(reg)
        if not reg.type.startswith(DYNAMIC_TYPE_PREFIX):
            # Components have no provider; other providers' resources are out of scope: echo.
            if not reg.custom:
                return "", {}, set()
            id_ = reg.import_id or ("" if self.preview else f"{reg.name}_id")
            return id_, reg.inputs, reg.secret_inputs

        old = self.prior.get(reg.urn)
        # step_generator.go generateSteps: an id in the goal is an import unless the old resource
        # (managed, not external) already has that id.
        if reg.import_id and (old is None or old.external or old.id != reg.import_id):
            self._import(reg)
        was_external = old is not None and old.external
        recreating = old is not None and id(old) in self.condemned
        fresh = old is None or was_external or recreating

        if old is None or fresh:
            # step_generator.go continueStepsFromImport: a new, formerly external or re-created
            # resource is checked without olds.
            inputs = self._check(reg, reg.inputs, None)
        else:
            # step_generator.go continueStepsFromImport: olds = the old *inputs*, news = the
            # program's inputs with ignoreChanges taken from the olds.
            news = _ignore_changes(reg.inputs, old.inputs, request.ignoreChanges)
            inputs = self._check(reg, news, old.inputs)

        protect = bool(request.protect) if request.HasField("protect") else False
        retain = bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False
        additional = set(request.additionalSecretOutputs)

        def state(id_: str, outputs: dict, inputs: dict, kept_secret: Iterable[str] = ()) -> ResourceState:
            secret_in = set(reg.secret_inputs) & set(inputs)
            # provider_plugin.go annotateSecrets(outs, inputs) and step_executor.go
            # additionalSecretOutputs.
            secret_out = (secret_in | additional | set(kept_secret)) & set(outputs)
            return ResourceState(
                urn=reg.urn,
                type=reg.type,
                name=reg.name,
                id=id_,
                inputs=inputs,
                outputs=outputs,
                secret_inputs=secret_in,
                secret_outputs=secret_out,
                protect=protect,
                retain_on_delete=retain,
                dependencies=list(reg.dependencies),
                property_dependencies=dict(reg.property_dependencies),
            )

        if fresh:
            res = state(*self._create(reg, inputs), inputs)
            self._record(res, "replace" if recreating else "create")
            return res.id, res.outputs, res.secret_outputs

        assert old is not None
        # step_generator.go diff -> diffResource -> provider_plugin.go Diff: olds = the old
        # *outputs*, old_inputs = the old inputs, news = the *checked* inputs; in preview too.
        diff = self._call(
            "diff",
            reg,
            self.host.diff,
            reg.urn,
            old.id,
            old.outputs,
            inputs,
            old_inputs=old.inputs,
            ignore_changes=tuple(request.ignoreChanges),
        )
        changes = diff.changes
        if changes == "unknown":
            changes = _engine_diff(old.inputs, _ignore_changes(inputs, old.inputs, request.ignoreChanges))

        if changes == "none":
            # step.go SameStep: the old outputs, the new inputs.
            res = state(old.id, old.outputs, inputs, old.secret_outputs)
            self._record(res, "same")
            return res.id, res.outputs, res.secret_outputs

        if not diff.replaces:
            if self.preview:
                # provider_plugin.go Update: the host has no preview support, so in a preview the
                # engine takes the new inputs as the outputs and makes no call.
                outputs = inputs
            else:
                # step.go UpdateStep.Apply -> provider_plugin.go Update: olds = old outputs,
                # news = checked inputs, old_inputs = old inputs.
                outputs = self._call(
                    "update", reg, self.host.update, reg.urn, old.id, old.outputs, inputs, old_inputs=old.inputs
                )
            res = state(old.id, outputs, inputs)
            self._record(res, "update")
            return res.id, res.outputs, res.secret_outputs

        # step_generator.go continueStepsFromDiff: a replacement.
        if protect and old.protect:
            raise self._fail(
                f"unable to replace resource {reg.urn!r} as it is currently marked for protection "
                f"(its change to {', '.join(diff.replaces)} requires a replacement); remove `protect` "
                "first",
                reg,
            )
        if reg.import_id and not self.preview:
            raise self._fail(
                "previously-imported resources that still specify an ID may not be replaced; please "
                f"remove the `import` declaration from resource '{reg.name}' ({', '.join(diff.replaces)})",
                reg,
            )
        # continueStepsFromDiff: defaults are recomputed for the replacement: Check without olds.
        inputs = self._check(reg, reg.inputs, None)
        delete_first = diff.delete_before_replace
        if request.deleteBeforeReplaceDefined:
            delete_first = bool(request.deleteBeforeReplace)
        if delete_first:
            # Dependents that a change of this resource would replace go first, in reverse order.
            dependents = self._dependent_replacements(old)
            for dependent in reversed(dependents):
                if dependent.protect:
                    raise self._fail(
                        f"unable to replace resource {dependent.urn!r} as part of replacing {reg.urn!r} "
                        "as it is currently marked for protection",
                        reg,
                    )
                if not self.preview:
                    _delete_resource(self.host, dependent, replacing=True)
                with self.lock:
                    self.condemned.add(id(dependent))
                    if not self.preview:
                        self.deleted_early.add(id(dependent))
            if not self.preview:
                _delete_resource(self.host, old, replacing=True)
                with self.lock:
                    self.deleted_early.add(id(old))
        else:
            with self.lock:
                self.replaced.append(old)  # step.go: deleted after every create and update
        res = state(*self._create(reg, inputs), inputs)
        self._record(res, "replace")
        return res.id, res.outputs, res.secret_outputs

    def _create(self, reg: Registration, inputs: dict) -> tuple[str, dict]:
        if self.preview:
            # provider_plugin.go Create: in a preview a provider without preview support (the
            # Python host) is not called; its inputs stand for the outputs, the id is unknown.
            return "", inputs
        # step.go CreateStep.Apply -> provider_plugin.go Create: properties = the checked inputs.
        created = self._call("create", reg, self.host.create, reg.urn, inputs)
        return created.id, created.outs

    def _import(self, reg: Registration) -> None:
        """step.go ImportStep.Apply: Read with the import id and nothing else."""
        try:
            # step.go ImportStep.Apply -> provider_plugin.go Read: ID only; no State, no Inputs.
            self.host.read(reg.urn, reg.import_id or "", None, None)
        except ProviderError as exn:
            raise self._fail(_import_refusal(reg) + f"\nprovider host said: {exn.summary}", reg, exn) from exn
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
            if res.pending_delete or res.urn in registered:
                continue  # DependingOn skips what this run already registered
            edges = set(res.dependencies) | {u for urns in res.property_dependencies.values() for u in urns}
            if not edges & depending:
                continue
            depending.add(res.urn)
            if res.external:
                continue
            inputs_for_diff, touched = {}, False
            for key, value in res.inputs.items():
                if set(res.property_dependencies.get(key, ())) & replace_set:
                    value, touched = UNKNOWN, True
                inputs_for_diff[key] = value
            if not touched:
                continue
            try:
                # step_generator.go calculateDependentReplacements -> diffResource: old inputs,
                # old outputs, and the inputs with the condemned dependencies unknown.
                diff = self.host.diff(res.urn, res.id, res.outputs, inputs_for_diff, old_inputs=res.inputs)
            except ProviderError as exn:
                what = f"diff of dependent resource '{res.name}' (id {res.id})"
                raise _provider_failed(what, res.name, res.urn, exn) from exn
            if diff.replaces:
                replace_set.add(res.urn)
                found.append(res)
        return found

    def _read(self, reg: Registration, request: Any) -> tuple[str, dict, set]:
        if reg.type == STACK_REFERENCE_TYPE:
            name = reg.resource_id or ""
            return name, _stack_reference_state(name, self.stack_references), set()
        self._claim(reg)
        if not reg.type.startswith(DYNAMIC_TYPE_PREFIX):
            return reg.resource_id or "", reg.inputs, reg.secret_inputs
        requested = reg.resource_id or ""
        additional = set(request.additionalSecretOutputs)
        if requested == UNKNOWN:
            # step.go ReadStep.Apply: only an unknown id keeps a read from running (in a preview).
            res = ResourceState(reg.urn, reg.type, reg.name, "", reg.inputs, {}, external=True)
            self._record(res, "read")
            return "", {}, set()
        # step.go ReadStep.Apply (runs in previews too) -> provider_plugin.go Read: the registered
        # properties go as both the inputs and the state.
        found = self._call("read", reg, self.host.read, reg.urn, requested, reg.inputs, reg.inputs)
        if not found.has_properties:
            # ReadStep.Apply fails only when the provider returns no properties at all.
            raise self._fail(f"resource '{requested}' does not exist", reg)
        old = self.prior.get(reg.urn)
        if old is not None and not old.external:
            with self.lock:
                self.replaced.append(old)  # ReadStep with `replacing`: the managed copy goes
        res = ResourceState(
            urn=reg.urn,
            type=reg.type,
            name=reg.name,
            id=found.id or requested,
            inputs=reg.inputs,
            outputs=found.outs,
            secret_inputs=set(reg.secret_inputs),
            secret_outputs=(set(reg.secret_inputs) | additional) & set(found.outs),
            external=True,
        )
        self._record(res, "read")
        return res.id, res.outputs, res.secret_outputs

    # -- after the program ------------------------------------------------------------------

    def leftovers(self) -> list[ResourceState]:
        """Prior resources to delete: unregistered ones, replaced copies, earlier pending deletes."""
        replaced = {id(r) for r in self.replaced}
        return [
            r
            for r in self.prior_list
            if id(r) not in self.deleted_early
            and (r.pending_delete or id(r) in replaced or r.urn not in self.seen)
        ]

    def snapshot(self, deleted: Iterable[ResourceState] = ()) -> State:
        """The stack now: this run's resources in order, then prior ones not superseded
        (untouched after a failure, or awaiting deletion), minus ``deleted``."""
        gone = {id(r) for r in deleted} | self.deleted_early
        with self.lock:
            fresh = list(self.new.values())
            replaced = {id(r) for r in self.replaced}
        keep = []
        for old in self.prior_list:
            if id(old) in gone:
                continue
            if old.pending_delete or id(old) in replaced:
                keep.append(_as_pending(old))  # an old copy that still exists
            elif old.urn not in self.new:
                keep.append(old)
        return State(resources=fresh + keep)


def _as_pending(res: ResourceState) -> ResourceState:
    clone = copy.copy(res)
    clone.pending_delete = True
    return clone


def _default_host_env(directory: Optional[str]) -> dict[str, str]:
    # For a program given as a function the host gets this process's import path (plus the
    # program directory) so dill can import provider classes defined in test modules by reference.
    paths = [directory] if directory else []
    paths += [p for p in sys.path if p and os.path.isdir(p) and p not in paths]
    return {"PYTHONPATH": os.pathsep.join(paths)}


def _project_runner(project: Project) -> Callable[[], None]:
    def run() -> None:
        # As the Python language host does: the main directory is the working directory and on
        # sys.path, and the entry point runs as __main__.
        old_cwd, old_path = os.getcwd(), list(sys.path)
        before = set(sys.modules)
        os.chdir(project.main_dir)
        sys.path.insert(0, project.main_dir)
        try:
            runpy.run_path(project.entry, run_name="__main__")
        finally:
            os.chdir(old_cwd)
            sys.path[:] = old_path
            # Forget the program's own modules so the next run imports them afresh.
            for mod in set(sys.modules) - before:
                file = getattr(sys.modules[mod], "__file__", None) or ""
                if os.path.abspath(file).startswith(project.main_dir + os.sep):
                    del sys.modules[mod]

    return run


def _host_config(values: Mapping[str, str], secure: Iterable[str]) -> dict[str, Any]:
    secure = set(secure)
    return {k: Secret(v) if k in secure else v for k, v in values.items()}


def run_program(
    program: Union[Callable[[], Any], str, os.PathLike[str]],
    *,
    config: Optional[Mapping[str, Any]] = None,
    host: Optional[ProviderHost] = None,
    state: Optional[State] = None,
    preview: bool = False,
    stack_references: Optional[Mapping[str, Any]] = None,
    project: Optional[str] = None,
    stack: str = "dev",
    host_env: Optional[Mapping[str, str]] = None,
) -> ProgramResult:
    """Run a Pulumi program like ``pulumi up`` (or ``pulumi preview`` with ``preview=True``).

    :param program: a callable, or a directory holding ``Pulumi.yaml``. A directory is loaded and
        validated as the CLI does (:func:`~.project.load_project`); its config is built as the CLI
        builds it (:func:`~.project.stack_config`: ``Pulumi.<stack>.yaml``, then ``config``, then
        Pulumi.yaml's values and defaults; missing keys, types and the secret rule checked); the
        program runs in its main directory, and the provider host is started as the engine starts
        it (:meth:`~.host.ProviderHost.for_project`: in the main directory, through the shim's
        logic, so a ``virtualenv`` option must resolve from there).
    :param config: stack config, as ``pulumi config set`` would set it (bare keys get the project
        namespace; wrap a value in :func:`~.project.secret` for ``--secret``). Visible through
        ``pulumi.Config`` and sent, whole, to the host's ``Configure``.
    :param host: a running :class:`~.host.ProviderHost` to use (it keeps the config it was
        started with); by default one is started and stopped at the end.
    :param state: the prior state (from an earlier run's ``result.state``).
    :param preview: Check and Diff, and the reads of ``get()``; nothing is created, updated or
        deleted, and new resources' computed outputs stay unknown.
    :param stack_references: ``pulumi.StackReference(name)`` -> that stack's outputs: a dict, a
        :class:`ProgramResult` or a :class:`State` (the latter two keep secrets secret).
    :param host_env: environment for a host started here. For a project directory it is merged over
        this process's environment, where the engine too takes the host's ``python`` from
        (``PULUMI_PYTHON_CMD`` defaults to this interpreter, which runs the program); for a
        function, the default is ``PYTHONPATH`` = this process's ``sys.path``.
    :raises ProgramError: check failures, provider errors, refused imports, failed gets, project
        and config errors (:class:`~.project.ProjectError`), and any exception of the program
        itself (as ``__cause__``); its ``state`` holds what was deployed before the failure, so a
        test can still destroy it.
    """
    loaded: Optional[Project] = None
    if callable(program):
        run = program
        name = project or "test"
        root = None
    else:
        loaded = load_project(program)
        if project and project != loaded.name:
            raise ProjectError(f"project={project!r} but {loaded.root}/Pulumi.yaml names {loaded.name!r}")
        run = _project_runner(loaded)
        name = loaded.name
        root = loaded.root
    values, secure = stack_config(loaded, stack, config, project_name=name)
    prior = state.copy() if state is not None else State(project=name, stack=stack)
    owned = host is None
    if host is None:
        if loaded is not None:
            host = _project_host(loaded, values, secure, host_env, stack)
        else:
            host = ProviderHost(
                config=_host_config(values, secure),
                env=host_env if host_env is not None else _default_host_env(None),
                project=name,
                stack=stack,
            )
        try:
            host.start()
        except Exception as exn:
            error = ProgramError(f"the provider host did not start as the engine starts it: {exn}")
            error.state = prior
            raise error from exn
    else:
        host.start()
    try:
        deployment = _Deployment(host, prior, preview=preview, stack_references=stack_references)
        monitor = _Monitor(deployment)
        try:
            _execute(
                run,
                monitor,
                project=name,
                stack=stack,
                preview=preview,
                config=values,
                secret_keys=secure,
                root_directory=root,
            )
        except Exception as exn:
            # The first failed registration explains the run better than what the SDK re-raised.
            error = deployment.error if isinstance(deployment.error, Exception) else exn
            if not isinstance(error, ProgramError):
                cause = error
                error = ProgramError(f"the program raised {type(cause).__name__}: {cause}")
                error.__cause__ = cause
            if preview:
                error.state = prior
            else:
                error.state = _finish_state(deployment.snapshot(), prior, monitor)
            raise error from error.__cause__

        leftovers = deployment.leftovers()
        steps = dict(deployment.steps)
        condemned = [r for r in deployment.prior_list if id(r) in deployment.condemned]
        for res in leftovers + condemned:  # condemned dependents the program no longer has are gone too
            if res.urn not in steps and not res.pending_delete:
                steps[res.urn] = "delete"
        if preview:
            return ProgramResult(
                outputs=dict(monitor.exports),
                secret_outputs=set(monitor.secret_exports),
                resources=dict(deployment.planned),
                state=prior,
                steps=steps,
            )
        deleted: list[ResourceState] = []
        for res in reversed(leftovers):
            try:
                _delete_resource(host, res, replacing=res.pending_delete or res.urn in deployment.new)
            except ProgramError as exn:
                exn.state = _finish_state(deployment.snapshot(deleted), prior, monitor)
                raise
            deleted.append(res)
        final = _finish_state(deployment.snapshot(deleted), prior, monitor)
        return ProgramResult(
            outputs=dict(monitor.exports),
            secret_outputs=set(monitor.secret_exports),
            resources={r.urn: r for r in final.resources if not r.pending_delete},
            state=final,
            steps=steps,
        )
    finally:
        if owned:
            host.stop()


def _finish_state(state: State, prior: State, monitor: _Monitor) -> State:
    state.project, state.stack = prior.project, prior.stack
    state.outputs = dict(monitor.exports)
    state.secret_outputs = set(monitor.secret_exports)
    return state


def _project_host(
    loaded: Project, values: Mapping[str, str], secure: Iterable[str], host_env: Optional[Mapping[str, str]], stack: str
) -> ProviderHost:
    # The engine takes the host's python from the environment it runs in; this process runs the program,
    # so PULUMI_PYTHON_CMD defaults to this interpreter (used only when the project names no virtualenv).
    env = {"PULUMI_PYTHON_CMD": os.environ.get("PULUMI_PYTHON_CMD") or sys.executable}
    env.update(host_env or {})
    return ProviderHost.for_project(loaded, _host_config(values, secure), env, stack=stack)


@contextlib.contextmanager
def _state_host(
    state: State,
    host: Optional[ProviderHost],
    config: Optional[Mapping[str, Any]],
    host_env: Optional[Mapping[str, str]],
    project: Optional[Union[str, os.PathLike[str]]],
) -> Iterator[ProviderHost]:
    """The given host, or one started for ``state``'s stack and stopped afterwards: as the engine starts it
    for ``project`` (its Pulumi.yaml config merged), else with ``config`` alone."""
    if host is not None:
        yield host.start()
        return
    if project is not None:
        loaded = load_project(project)
        values, secure = stack_config(loaded, state.stack, config)
        started = _project_host(loaded, values, secure, host_env, state.stack)
    else:
        values, secure = stack_config(None, state.stack, config, project_name=state.project)
        started = ProviderHost(
            config=_host_config(values, secure),
            env=host_env if host_env is not None else _default_host_env(None),
            project=state.project,
            stack=state.stack,
        )
    started.start()
    try:
        yield started
    finally:
        started.stop()


def destroy(
    state: State,
    *,
    host: Optional[ProviderHost] = None,
    config: Optional[Mapping[str, Any]] = None,
    host_env: Optional[Mapping[str, str]] = None,
    project: Optional[Union[str, os.PathLike[str]]] = None,
) -> State:
    """Delete every resource of ``state`` in reverse creation order, like ``pulumi destroy``.

    Resources read with ``get`` and ``retainOnDelete`` ones are only dropped; a protected one
    stops the destroy. Returns the empty state; on failure, :class:`ProgramError` carries the
    resources still left in ``.state``. With ``project`` (a directory holding Pulumi.yaml) the host
    is started as :func:`run_program` starts it for that project, with its config merged.
    """
    with _state_host(state, host, config, host_env, project) as running:
        remaining = list(state.resources)
        for res in reversed(list(state.resources)):
            try:
                _delete_resource(running, res)
            except ProgramError as exn:
                exn.state = State(resources=remaining, project=state.project, stack=state.stack)
                raise
            remaining.remove(res)
        return State(project=state.project, stack=state.stack)


def refresh(
    state: State,
    *,
    host: Optional[ProviderHost] = None,
    config: Optional[Mapping[str, Any]] = None,
    host_env: Optional[Mapping[str, str]] = None,
    project: Optional[Union[str, os.PathLike[str]]] = None,
) -> State:
    """Read every resource back, like ``pulumi refresh``, and return the refreshed state.

    A resource whose read returns an empty id is gone and leaves the state; inputs returned by
    the provider's ``read`` replace the stored inputs. ``project`` as for :func:`destroy`.
    """
    with _state_host(state, host, config, host_env, project) as running:
        refreshed = []
        for res in state.resources:
            try:
                # step.go RefreshStep.Apply -> provider_plugin.go Read: the old outputs as the
                # state, the old inputs as the inputs.
                found = running.read(res.urn, res.id, res.outputs, res.inputs)
            except ProviderError as exn:
                what = f"refresh of resource '{res.name}' (id {res.id})"
                raise _provider_failed(what, res.name, res.urn, exn) from exn
            if not found.id:
                continue  # RefreshStep.Apply: a blank id is a delete
            new = copy.deepcopy(res)
            new.id = found.id
            new.outputs = found.outs
            # provider_plugin.go Read: annotateSecrets(outputs, state), annotateSecrets(inputs, inputs).
            new.secret_outputs = set(res.secret_outputs) & set(found.outs)
            if found.inputs is not None:
                # RefreshStep.Apply: inputs the provider returns replace the stored ones.
                new.inputs = found.inputs
                new.secret_inputs = set(res.secret_inputs) & set(found.inputs)
            refreshed.append(new)
        return State(
            resources=refreshed,
            outputs=dict(state.outputs),
            secret_outputs=set(state.secret_outputs),
            project=state.project,
            stack=state.stack,
        )
