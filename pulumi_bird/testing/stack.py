"""A stack of your program on the real Pulumi engine, pointed at a running Bird emulator: :func:`bird_stack`
(a temporary ``file://`` backend, the emulator as the ``bird:*`` stack config; docs/testing.md says the rest)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Union

from pulumi import automation as auto

from pulumi_bird.emulator import BirdEmulator

__all__ = ["BirdStack", "ENGINE_ENV", "bird_stack", "emulator_config", "emulator_contents", "pulumi_command"]

ENGINE_ENV = "PULUMI_BIRD_ENGINE"
# Encrypts the temporary stack's secrets (the emulator's key); the stack lives only as long as the test.
PASSPHRASE = "pulumi-bird-testing"
PROJECT = "bird-test"

ConfigInput = Mapping[str, Union[str, auto.ConfigValue]]
Program = Union[Callable[[], None], str, "os.PathLike[str]"]


def pulumi_command(where: Union[auto.PulumiCommand, str, "os.PathLike[str]", None] = None) -> auto.PulumiCommand:
    """The CLI: ``where`` (a PulumiCommand, a root with ``bin/pulumi``, or that ``bin`` directory), else the
    ``PULUMI_BIRD_ENGINE`` directory, else ``pulumi`` on PATH."""
    if isinstance(where, auto.PulumiCommand):
        return where
    place = where if where is not None else os.environ.get(ENGINE_ENV) or None
    if place is None:
        if shutil.which("pulumi") is None:
            raise RuntimeError("pulumi_bird.testing: no `pulumi` on PATH; install the Pulumi CLI, or pass "
                               f"pulumi_command= or set {ENGINE_ENV} to the directory that holds `pulumi`")
        return auto.PulumiCommand()
    root = Path(place).expanduser().resolve()
    if (root / "pulumi").is_file() and not (root / "bin" / "pulumi").is_file():
        root = root.parent  # the bin directory itself: PulumiCommand wants ROOT/bin/pulumi
    if not (root / "bin" / "pulumi").is_file():
        raise RuntimeError(f"pulumi_bird.testing: no pulumi in {root}/bin; pass pulumi_command= (or set "
                           f"{ENGINE_ENV}) to a directory that holds `pulumi` or `bin/pulumi`")
    return auto.PulumiCommand(root=str(root))


_command = pulumi_command  # under another name: bird_stack's argument `pulumi_command` hides the function


def emulator_config(emulator: "BirdEmulator") -> Dict[str, auto.ConfigValue]:
    """The ``bird:*`` stack config that points the provider at ``emulator``; the access key is a secret."""
    return {
        "bird:apiUrl": auto.ConfigValue(emulator.url),
        "bird:accessKey": auto.ConfigValue(emulator.access_key, secret=True),
        "bird:workspaceId": auto.ConfigValue(emulator.workspace_id),
        "bird:organizationId": auto.ConfigValue(emulator.organization_id),
    }


def emulator_contents(emulator: "BirdEmulator") -> Dict[str, List[Dict[str, Any]]]:
    """What ``emulator`` holds in its workspace: ``connectors`` and ``webhooks`` (subscriptions), as Bird lists
    them."""
    backend = emulator.backend
    return {"connectors": backend.list_all_connectors(emulator.workspace_id),
            "webhooks": backend.list_all_webhooks(emulator.organization_id, emulator.workspace_id)}


def _environment(workdir: Path, command: auto.PulumiCommand) -> Dict[str, str]:
    """The CLI's environment over ``os.environ``: the temporary backend, offline, this Python for the providers."""
    paths = [str(Path(sys.executable).parent)]  # pulumi-resource-bird and the Python with pulumi_bird installed
    if os.path.isabs(command.command):
        paths.insert(0, str(Path(command.command).parent))  # the CLI's bundled language hosts
    no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
    return {
        "PATH": os.pathsep.join([*paths, os.environ.get("PATH", "")]),
        "PULUMI_BACKEND_URL": (workdir / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": os.environ.get("PULUMI_PYTHON_CMD", sys.executable),
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
    }


class BirdStack:
    """A stack on a temporary ``file://`` backend; :meth:`close` (or leaving its ``with`` block) destroys it."""

    def __init__(self, stack: auto.Stack, emulator: "BirdEmulator", workdir: Path) -> None:
        self.stack = stack  #: the Automation API's Stack, for anything this class does not wrap
        self.emulator = emulator
        self.workdir = workdir
        self._closed = False

    @property
    def name(self) -> str:
        return self.stack.name

    def preview(self, **kwargs: Any) -> auto.PreviewResult:
        """``pulumi preview``; ``kwargs`` go to :meth:`pulumi.automation.Stack.preview`."""
        return self.stack.preview(**kwargs)

    def up(self, **kwargs: Any) -> auto.UpResult:
        """``pulumi up``; ``result.outputs`` holds the stack outputs."""
        return self.stack.up(**kwargs)

    def refresh(self, **kwargs: Any) -> auto.RefreshResult:
        """``pulumi refresh``: reads every resource back from the emulator."""
        return self.stack.refresh(**kwargs)

    def destroy(self, **kwargs: Any) -> auto.DestroyResult:
        """``pulumi destroy``: deletes what the stack made on the emulator."""
        return self.stack.destroy(**kwargs)

    def outputs(self) -> Dict[str, Any]:
        """The stack outputs as plain values (secrets in clear: this is a test's own stack)."""
        return {name: output.value for name, output in self.stack.outputs().items()}

    def objects(self) -> Dict[str, List[Dict[str, Any]]]:
        """What the emulator holds now: ``connectors`` and ``webhooks``, as Bird lists them."""
        return emulator_contents(self.emulator)

    def close(self) -> None:
        """Destroy the stack's resources, remove the stack (and its config file) and the temporary directory."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stack.destroy()
        finally:
            try:
                self.stack.workspace.remove_stack(self.name, force=True)
            finally:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "BirdStack":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bird_stack(program: Program, emulator: "BirdEmulator", *, config: Optional[ConfigInput] = None,
               stack_name: Optional[str] = None, project_name: str = PROJECT,
               pulumi_command: Union[auto.PulumiCommand, str, "os.PathLike[str]", None] = None,
               env: Optional[Mapping[str, str]] = None) -> BirdStack:
    """A new stack of ``program`` (a function, or a directory with a Pulumi.yaml) configured for ``emulator``.

    ``config`` adds the program's own keys (a plain string, or ``pulumi.automation.ConfigValue(..., secret=True)``)
    over :func:`emulator_config`; ``env`` adds environment variables for the CLI and the providers. A directory's
    stack config file (``Pulumi.<stack>.yaml``) lives there until :meth:`BirdStack.close` removes the stack.
    """
    command = _command(pulumi_command)
    workdir = Path(tempfile.mkdtemp(prefix="pulumi-bird-stack-"))
    stack: Optional[auto.Stack] = None
    try:
        (workdir / "state").mkdir()
        (workdir / "project").mkdir()  # an inline program's Pulumi.yaml and stack config
        options = auto.LocalWorkspaceOptions(pulumi_home=str(workdir / "home"), pulumi_command=command,
                                             env_vars={**_environment(workdir, command), **(env or {})})
        name = stack_name or f"test-{uuid.uuid4().hex[:8]}"
        if callable(program):
            options.work_dir = str(workdir / "project")
            stack = auto.create_stack(name, project_name=project_name, program=program, opts=options)
        else:
            stack = auto.create_stack(name, work_dir=str(Path(program).resolve()), opts=options)
        given = {key: value if isinstance(value, auto.ConfigValue) else auto.ConfigValue(value)
                 for key, value in (config or {}).items()}
        stack.set_all_config({**emulator_config(emulator), **given})
    except BaseException:
        if stack is not None:  # a project directory keeps no Pulumi.<stack>.yaml of a stack never handed out
            with contextlib.suppress(auto.CommandError):
                stack.workspace.remove_stack(stack.name, force=True)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return BirdStack(stack, emulator, workdir)
