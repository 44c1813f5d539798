"""The engine double's commands: ``run_program`` (``pulumi up`` / ``preview``), ``refresh`` and ``destroy``.

Each command starts a fresh provider host, as the engine starts its plugins for every operation, unless the
caller passes one. ``run_program`` previews first and stops on a failed preview (pkg/backend/apply.go
PreviewThenPromptThenExecute), then runs the update; ``refresh`` and ``destroy`` do not run the program and
configure the host from the provider config recorded in the state at the last ``up``
(pkg/engine/refresh.go, destroy.go; pkg/resource/deploy/deployment.go EnsureProvider), unless
``run_program=True`` (``--run-program``), which takes today's config.

What it does not model: provider resources other than dynamic ones (non-dynamic custom resources echo their
inputs and are not kept in state), explicit providers, hooks, targets, plans, ``--continue-on-error``, and
interruptions other than a ``KeyboardInterrupt``/``SystemExit`` during a Create (which leaves a pending CREATE).
"""

from __future__ import annotations

import contextlib
import copy
import os
import runpy
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Union

from .engine import _Deployment, _Executor, delete_resource, protected_error, provider_failed, schedule_deletes
from .errors import ProgramError
from .host import ProviderError, ProviderHost
from .monitor import _execute, _Monitor
from .project import Project, ProjectError, Secret, load_project, stack_config
from .state import ProgramResult, ResourceState, State

__all__ = ["default_parallel", "destroy", "refresh", "run_program"]

Program = Union[Callable[[], Any], str, "os.PathLike[str]"]


def default_parallel() -> int:
    """pkg/cmd/pulumi/operations/up.go defaultParallel: 4 x GOMAXPROCS (the CPU count) unless
    ``PULUMI_PARALLEL`` says otherwise."""
    try:
        configured = int(os.environ.get("PULUMI_PARALLEL", "0"))
    except ValueError:
        configured = 0
    return configured if configured > 0 else 4 * (os.cpu_count() or 1)


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


class _Stack:
    """What a command needs to know about the stack: its program (if it runs), config and how a host starts."""

    def __init__(self, program: Optional[Program], project: Optional[str], stack: str,
                 config: Optional[Mapping[str, Any]], host_env: Optional[Mapping[str, str]]) -> None:
        self.loaded: Optional[Project] = None
        self.run: Optional[Callable[[], Any]] = None
        self.root: Optional[str] = None
        self.name = project or "test"
        if program is not None and callable(program):
            self.run = program
        elif program is not None:
            self.loaded = load_project(program)
            if project and project != self.loaded.name:
                raise ProjectError(f"project={project!r} but {self.loaded.root}/Pulumi.yaml names {self.loaded.name!r}")
            self.run, self.name, self.root = _project_runner(self.loaded), self.loaded.name, self.loaded.root
        self.stack = stack
        self.host_env = host_env
        self.values, self.secure = stack_config(self.loaded, stack, config, project_name=self.name)

    def host_config(self) -> dict[str, Any]:
        return _host_config(self.values, self.secure)

    def new_host(self, config: Mapping[str, Any]) -> ProviderHost:
        """A host as the engine starts one for this stack, configured with ``config``."""
        if self.loaded is not None:
            # The engine takes the host's python from the environment it runs in; this process runs the
            # program, so PULUMI_PYTHON_CMD defaults to this interpreter (used only without a virtualenv).
            env = {"PULUMI_PYTHON_CMD": os.environ.get("PULUMI_PYTHON_CMD") or sys.executable}
            env.update(self.host_env or {})
            return ProviderHost.for_project(self.loaded, config, env, stack=self.stack)
        env = dict(self.host_env) if self.host_env is not None else _default_host_env(None)
        return ProviderHost(config=config, env=env, project=self.name, stack=self.stack)


def _start(host: ProviderHost, prior: State) -> ProviderHost:
    try:
        return host.start()
    except Exception as exn:
        error = ProgramError(f"the provider host did not start as the engine starts it: {exn}")
        error.state = prior
        raise error from exn


@contextlib.contextmanager
def _lease(given: Optional[ProviderHost], make: Callable[[], ProviderHost], prior: State) -> Iterator[ProviderHost]:
    """The caller's host, or a fresh one stopped at the end (the engine starts plugins per operation)."""
    if given is not None:
        yield _start(given, prior)
        return
    host = _start(make(), prior)
    try:
        yield host
    finally:
        host.stop()


def _finish_state(state: State, prior: State, monitor: _Monitor, config: Optional[dict[str, Any]]) -> State:
    state.project, state.stack = prior.project, prior.stack
    state.outputs = dict(monitor.exports)
    state.secret_outputs = set(monitor.secret_exports)
    # The default provider's inputs as the engine records them (secrets stay Secret, sealed in to_json).
    state.provider_config = config
    return state


def _program_error(deployment: _Deployment, exn: Exception) -> ProgramError:
    """The first failed registration explains the run better than what the SDK re-raised."""
    error = deployment.error if isinstance(deployment.error, Exception) else exn
    if isinstance(error, ProgramError):
        return error
    wrapped = ProgramError(f"the program raised {type(error).__name__}: {error}")
    wrapped.__cause__ = error
    return wrapped


def _recorded(executor: _Executor, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn``; its failure, the first of the operation, cancels the steps not yet started."""
    try:
        return fn(*args, **kwargs)
    except BaseException as exn:
        executor.fail(exn)
        raise


def _delete_all(executor: _Executor, host: ProviderHost, condemned: list[ResourceState],
                replacing: Callable[[ResourceState], bool], parallel: int) -> list[ResourceState]:
    """Delete ``condemned`` antichain by antichain (step_generator.go ScheduleDeletes), each antichain in
    parallel; the first failure stops the rest (step_executor.go cancelDueToError). Returns what was deleted
    and raises the first failure with ``.deleted`` set."""
    others = {r.urn for r in condemned}
    deleted: list[ResourceState] = []
    lock = threading.Lock()

    def one(res: ResourceState) -> None:
        _recorded(executor, executor.step, delete_resource, host, res, replacing=replacing(res),
                  others=others - {res.urn})
        with lock:
            deleted.append(res)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="pulumi-delete") as pool:
        for layer in schedule_deletes(condemned):
            futures = [pool.submit(one, res) for res in layer]
            for future in futures:
                future.exception()  # wait for the whole antichain
            if executor.error is not None:
                first = executor.error
                if isinstance(first, ProgramError):
                    first.deleted = list(deleted)  # type: ignore[attr-defined]
                raise first
    return deleted


def _deploy(stack: _Stack, host: ProviderHost, prior: State, *, preview: bool,
            stack_references: Optional[Mapping[str, Any]], parallel: int) -> ProgramResult:
    """One engine operation (pkg/engine/update.go Update, or its preview): run the program against the
    step generator, then delete what it no longer has."""
    assert stack.run is not None
    deployment = _Deployment(host, prior, preview=preview, stack_references=stack_references,
                            config=stack.values, parallel=parallel)
    monitor = _Monitor(deployment)
    config = dict(host.config)
    try:
        _execute(stack.run, monitor, project=stack.name, stack=stack.stack, preview=preview, config=stack.values,
                 secret_keys=stack.secure, root_directory=stack.root)
    except Exception as exn:
        error: BaseException = deployment.interrupted or _program_error(deployment, exn)
        # An interrupted run (KeyboardInterrupt, SystemExit) raises as it was, with the checkpoint it left.
        error.state = prior if preview else _finish_state(deployment.snapshot(), prior, monitor, config)  # type: ignore[attr-defined]
        raise error from error.__cause__
    leftovers = deployment.leftovers()
    steps = dict(deployment.steps)
    condemned = [r for r in deployment.prior_list if id(r) in deployment.condemned]
    for res in leftovers + condemned:  # condemned dependents the program no longer has are gone too
        if res.urn not in steps and not res.pending_delete:
            steps[res.urn] = "delete"
    if preview:
        for res in leftovers:  # step.go DeleteStep.Apply refuses a protected resource in a preview too
            if res.protect and not (res.pending_delete or res.urn in deployment.planned):
                error = protected_error(res.urn)
                error.resource, error.state = res.name, prior
                raise error
        return ProgramResult(outputs=dict(monitor.exports), secret_outputs=set(monitor.secret_exports),
                             resources=dict(deployment.planned), state=prior, steps=steps,
                             warnings=list(monitor.warnings))
    try:
        _delete_all(deployment.executor, host, leftovers,
                    lambda r: r.pending_delete or r.urn in deployment.new, parallel)
    except ProgramError as exn:
        exn.state = _finish_state(deployment.snapshot(getattr(exn, "deleted", [])), prior, monitor, config)
        raise
    final = _finish_state(deployment.snapshot(leftovers, final=True), prior, monitor, config)
    return ProgramResult(outputs=dict(monitor.exports), secret_outputs=set(monitor.secret_exports),
                         resources={r.urn: r for r in final.resources if not r.pending_delete},
                         state=final, steps=steps, warnings=_pending_warning(prior) + monitor.warnings)


def _pending_warning(prior: State) -> list[str]:
    """deployment_executor.go printPendingOperationsWarning (an update, not a preview, prints it)."""
    if not prior.pending_operations:
        return []
    listed = "".join(f"  * {op.resource.urn}, interrupted while {op.type}\n" for op in prior.pending_operations)
    return [
        f"Attempting to deploy or update resources with {len(prior.pending_operations)} pending operations from "
        f"previous deployment.\n{listed}These resources are in an unknown state because the Pulumi CLI was "
        "interrupted while waiting for changes to these resources to complete. You should confirm whether or not "
        "the operations listed completed successfully by checking the state of the appropriate provider.\n\n"
        "Once you have confirmed the status of the interrupted operations, you can repair your stack using "
        "`pulumi refresh` which will refresh the state from the provider you are using and clear the pending "
        "operations if there are any.\n\nNote that `pulumi refresh` will need to be run interactively to clear "
        "pending CREATE operations."
    ]



def run_program(
    program: Program,
    *,
    config: Optional[Mapping[str, Any]] = None,
    host: Optional[ProviderHost] = None,
    state: Optional[State] = None,
    preview: bool = False,
    stack_references: Optional[Mapping[str, Any]] = None,
    project: Optional[str] = None,
    stack: str = "dev",
    host_env: Optional[Mapping[str, str]] = None,
    parallel: Optional[int] = None,
    skip_preview: bool = False,
) -> ProgramResult:
    """Run a Pulumi program like ``pulumi up`` (or ``pulumi preview`` with ``preview=True``).

    ``pulumi up`` previews first and stops if the preview fails, before anything is created
    (pkg/backend/apply.go PreviewThenPromptThenExecute); ``skip_preview=True`` is ``--skip-preview``. In the
    update, steps run ``parallel`` at a time (``--parallel``, default :func:`default_parallel`) and the first
    failed step cancels the steps not yet started (step_executor.go cancelDueToError).

    :param program: a callable, or a directory holding ``Pulumi.yaml``. A directory is loaded and
        validated as the CLI does (:func:`~.project.load_project`); its config is built as the CLI
        builds it (:func:`~.project.stack_config`); the program runs in its main directory, and the
        provider host is started as the engine starts it (:meth:`~.host.ProviderHost.for_project`).
    :param config: stack config, as ``pulumi config set`` would set it (bare keys get the project
        namespace; wrap a value in :func:`~.project.secret` for ``--secret``). Visible through
        ``pulumi.Config``, sent, whole, to the host's ``Configure``, and recorded in the state as the
        default provider's inputs (``state.provider_config``) for ``refresh`` and ``destroy``.
    :param host: a running :class:`~.host.ProviderHost` to use for the preview and the update (it keeps
        the config it was started with); by default each starts a fresh one, as the engine does.
    :param state: the prior state (from an earlier run's ``result.state``).
    :param preview: Check and Diff, and the reads of ``get()``; nothing is created, updated or
        deleted, and new resources' computed outputs stay unknown.
    :param stack_references: ``pulumi.StackReference(name)`` -> that stack's outputs: a dict, a
        :class:`ProgramResult` or a :class:`State` (the latter two keep secrets secret).
    :param host_env: environment for a host started here. For a project directory it is merged over
        this process's environment; for a function, the default is ``PYTHONPATH`` = ``sys.path``.
    :raises ProgramError: check failures, provider errors, refused imports, failed gets, a denied
        default provider, project and config errors (:class:`~.project.ProjectError`), and any exception
        of the program itself (as ``__cause__``); its ``state`` holds what was deployed before the
        failure, so a test can still destroy it.
    """
    target = _Stack(program, project, stack, config, host_env)
    prior = state.copy() if state is not None else State(project=target.name, stack=stack)
    workers = parallel or default_parallel()
    if preview or skip_preview:
        with _lease(host, lambda: target.new_host(target.host_config()), prior) as running:
            return _deploy(target, running, prior, preview=preview, stack_references=stack_references,
                           parallel=workers)
    with _Prestarted(host, lambda: target.new_host(target.host_config()), prior) as update_host:
        with _lease(host, lambda: target.new_host(target.host_config()), prior) as running:
            _deploy(target, running, prior, preview=True, stack_references=stack_references, parallel=workers)
        return _deploy(target, update_host.get(), prior, preview=False, stack_references=stack_references,
                       parallel=workers)


class _Prestarted:
    """The update's fresh host, started while the preview runs (it would start after it otherwise)."""

    def __init__(self, given: Optional[ProviderHost], make: Callable[[], ProviderHost], prior: State) -> None:
        self.given, self.prior = given, prior
        self.host = make() if given is None else None
        self.thread: Optional[threading.Thread] = None
        self.failure: Optional[BaseException] = None

    def _start(self) -> None:
        try:
            assert self.host is not None
            self.host.start()
        except BaseException as exn:
            self.failure = exn

    def __enter__(self) -> "_Prestarted":
        if self.host is not None:
            self.thread = threading.Thread(target=self._start, name="pulumi-update-host", daemon=True)
            self.thread.start()
        return self

    def get(self) -> ProviderHost:
        if self.given is not None:
            return _start(self.given, self.prior)
        assert self.thread is not None and self.host is not None
        self.thread.join()
        if self.failure is not None:
            error = ProgramError(f"the provider host did not start as the engine starts it: {self.failure}")
            error.state = self.prior
            raise error from self.failure
        return self.host

    def __exit__(self, *exc: object) -> None:
        if self.thread is not None:
            self.thread.join()
        if self.host is not None:
            self.host.stop()


def _state_stack(state: State, config: Optional[Mapping[str, Any]], host_env: Optional[Mapping[str, str]],
                 project: Optional[Union[str, "os.PathLike[str]"]], run_program: bool,
                 command: str) -> tuple[_Stack, dict[str, Any]]:
    """The stack of ``state`` and the config its host is configured with: the provider config the last ``up``
    recorded (deployment.go EnsureProvider -> the provider's inputs in the snapshot), or with ``run_program``
    (``--run-program``) today's config. A state without a recorded config (older than this double) takes
    today's config. Today's config is validated either way, as the CLI validates the stack's config for
    refresh and destroy too.

    Today's config is the one the last ``up`` was given (recorded in the state) with ``config`` set over it, as
    the CLI's stack config stays in ``Pulumi.<stack>.yaml`` between commands and ``pulumi config set`` changes
    only the keys it names: ``destroy(state, config=base)`` needs no program keys that the up had."""
    today = {**(state.provider_config or {}), **(config or {})}
    try:
        target = _Stack(project, None, state.stack, today, host_env)
    except ProjectError as exn:
        if "is missing configuration value" not in str(exn):
            raise
        raise ProjectError(
            f"{command}: {exn}: Pulumi.yaml declares them without a default, and `pulumi {command}` validates the "
            f"stack's config as `up` does; pass them in config= (the config the up was given), or pass the state of "
            f"an up, which records its config (state.provider_config)") from None
    if project is None:
        target.name = state.project
    if run_program or state.provider_config is None:
        return target, target.host_config()
    return target, dict(state.provider_config)


def destroy(
    state: State,
    *,
    host: Optional[ProviderHost] = None,
    config: Optional[Mapping[str, Any]] = None,
    host_env: Optional[Mapping[str, str]] = None,
    project: Optional[Union[str, "os.PathLike[str]"]] = None,
    run_program: bool = False,
    parallel: Optional[int] = None,
) -> State:
    """Delete every resource of ``state``, like ``pulumi destroy``: dependents before what they depend on
    (step_generator.go ScheduleDeletes), ``parallel`` at a time; the first failure cancels the deletes not
    yet started.

    The program does not run (pkg/engine/destroy.go: a NullSource), so the host is configured from the
    provider config the last ``up`` recorded in ``state``. ``config`` changes the stack's config today as
    ``pulumi config set`` would: it is set over the config the up was given (so the program's own keys need not
    be repeated), validated against Pulumi.yaml, and sent to the host only with ``run_program=True``
    (``pulumi destroy --run-program``). With ``project`` (a directory holding Pulumi.yaml) the host is started
    from it as :func:`run_program` starts it.

    Resources read with ``get`` and ``retainOnDelete`` ones are only dropped, as are those ``deletedWith``
    a resource this destroy deletes; a protected one stops the destroy. Returns the empty state; on failure,
    :class:`ProgramError` carries in ``.state`` every resource that was not deleted.
    """
    target, host_config = _state_stack(state, config, host_env, project, run_program, "destroy")
    with _lease(host, lambda: target.new_host(host_config), state) as running:
        executor = _Executor(parallel or default_parallel())
        try:
            _delete_all(executor, running, list(state.resources), lambda r: False, parallel or default_parallel())
        except ProgramError as exn:
            gone = {id(r) for r in getattr(exn, "deleted", [])}
            left = [r for r in state.resources if id(r) not in gone]
            exn.state = State(resources=left, outputs=dict(state.outputs), secret_outputs=set(state.secret_outputs),
                              project=state.project, stack=state.stack, provider_config=state.provider_config,
                              pending_operations=list(state.pending_operations))
            raise
        # pkg/backend/snapshot.go: pending CREATEs stay until a refresh clears them.
        return State(project=state.project, stack=state.stack, pending_operations=list(state.pending_operations))


def _refresh_one(host: ProviderHost, executor: _Executor, res: ResourceState) -> Optional[ResourceState]:
    """step.go RefreshStep.Apply: Read, then (for a managed resource) Diff of the refreshed state against the
    old inputs; a failure of either fails the refresh. ``None``: the resource is gone."""
    if res.pending_replacement:
        return res  # RefreshStep.Apply: a pending replacement does not change with a refresh
    what = f"refresh of resource '{res.name}' (id {res.id})"
    try:
        # RefreshStep.Apply -> provider_plugin.go Read: the old outputs as the state, the old inputs.
        found = executor.step(host.read, res.urn, res.id, res.outputs, res.inputs)
    except ProviderError as exn:
        raise provider_failed(what, res.name, res.urn, exn) from None
    if not found.id:
        return None  # RefreshStep.Apply: a blank id is a delete
    new = copy.deepcopy(res)
    new.id, new.outputs = found.id, found.outs
    # provider_plugin.go Read: annotateSecrets(outputs, state), annotateSecrets(inputs, inputs).
    new.secret_outputs = set(res.secret_outputs) & set(found.outs)
    if found.inputs is not None:
        # RefreshStep.Apply: inputs the provider returns replace the stored ones.
        new.inputs = found.inputs
        new.secret_inputs = set(res.secret_inputs) & set(found.inputs)
    if not res.external:
        try:
            # RefreshStep.Apply -> diffResource: the *new* inputs and outputs as the olds, the *old* inputs as
            # the news, and the old ignoreChanges (external resources diff outputs only, without the provider).
            executor.call(host.diff, res.urn, new.id, new.outputs, res.inputs, old_inputs=new.inputs,
                          ignore_changes=tuple(res.ignore_changes))
        except ProviderError as exn:
            raise provider_failed(f"{what}: diff", res.name, res.urn, exn) from None
    return new


def refresh(
    state: State,
    *,
    host: Optional[ProviderHost] = None,
    config: Optional[Mapping[str, Any]] = None,
    host_env: Optional[Mapping[str, str]] = None,
    project: Optional[Union[str, "os.PathLike[str]"]] = None,
    run_program: bool = False,
    parallel: Optional[int] = None,
    clear_pending_creates: bool = False,
) -> State:
    """Read every resource back, like ``pulumi refresh``, and return the refreshed state.

    Pending CREATE operations of an interrupted run stay (a non-interactive refresh keeps them) unless
    ``clear_pending_creates=True`` (``--clear-pending-creates``; pkg/cmd/pulumi/operations/refresh.go).

    Each resource is Read, then Diffed as step.go RefreshStep.Apply does (the refreshed inputs and outputs as
    the olds, the old inputs as the news), ``parallel`` at a time; a failed Read or Diff fails the refresh.
    A resource whose Read returns an empty id is gone and leaves the state; inputs returned by the Read
    replace the stored inputs. The host is configured as :func:`destroy` configures it: from the provider
    config the last ``up`` recorded, or with ``run_program=True`` (``--run-program``) from ``config``.
    On failure, :class:`ProgramError` carries in ``.state`` the refreshed resources and the others as they were.
    """
    target, host_config = _state_stack(state, config, host_env, project, run_program, "refresh")
    workers = parallel or default_parallel()
    with _lease(host, lambda: target.new_host(host_config), state) as running:
        executor = _Executor(workers)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pulumi-refresh") as pool:
            futures = [pool.submit(_recorded, executor, _refresh_one, running, executor, res) for res in state.resources]
            outcomes: list[tuple[ResourceState, Any]] = []
            for res, future in zip(state.resources, futures):
                error = future.exception()
                outcomes.append((res, error if error is not None else future.result()))
    refreshed = [res if isinstance(out, BaseException) else out for res, out in outcomes]
    result = State(resources=[r for r in refreshed if r is not None], outputs=dict(state.outputs),
                   secret_outputs=set(state.secret_outputs), project=state.project, stack=state.stack,
                   provider_config=host_config if run_program else state.provider_config,
                   pending_operations=[] if clear_pending_creates else list(state.pending_operations))
    if executor.error is not None:
        first = executor.error
        if isinstance(first, ProgramError):
            first.state = result
        raise first
    return result
