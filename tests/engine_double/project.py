"""Pulumi projects as the CLI reads them: Pulumi.yaml validation, stack config, and where the host runs.

Each rule cites the file of pulumi/pulumi it follows:

- :func:`validate_project`: ``sdk/go/common/workspace/loaders.go`` (load order), ``project.go``
  ``ValidateProject`` (the JSON schema of ``project.json``), ``RewriteShorthandConfigValues`` and
  ``Project.Validate``.
- :func:`stack_config`: ``pkg/workspace/config.go`` ``mergeConfig`` (Pulumi.yaml ``config:`` merged under
  the stack's values, missing project keys, ``validateStackConfigValue``: type and the secret rule).
- :meth:`Project.provider_launch`: ``pkg/engine/project.go`` ``getPwdMain`` (the plugin's working
  directory is the *main* directory) and ``sdk/go/common/resource/plugin/provider_plugin.go``
  ``NewProvider`` (runtime options become ``PULUMI_RUNTIME_<OPTION>``; ``PULUMI_PROJECT``,
  ``PULUMI_CONFIG``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union

from .errors import ProgramError
from .values import Secret, secret

__all__ = [
    "Project",
    "ProjectError",
    "Secret",
    "load_project",
    "secret",
    "stack_config",
    "validate_project",
]

# The Python dynamic provider's package (pkg/resource/deploy/target.go pythonDynamicProviderPackage).
DYNAMIC_PACKAGE = "pulumi-python"

# project.json: the attributes of a config type declaration and the type names it allows.
_CONFIG_TYPE_ATTRIBUTES = ("type", "items", "description", "secret", "default", "value")
_CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")


class ProjectError(ProgramError):
    """A Pulumi.yaml or stack config the CLI would refuse; the message is the CLI's reason."""


@dataclass
class Project:
    """A loaded, validated Pulumi.yaml.

    :ivar root: the directory holding Pulumi.yaml.
    :ivar main_dir: the program's directory: the working directory of the language host *and* of
        every provider plugin the engine starts (getPwdMain).
    :ivar entry: the program file run as ``__main__``.
    """

    name: str
    root: str
    main_dir: str
    entry: str
    runtime: str
    runtime_options: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # key -> declaration (after shorthand rewriting)
    raw: dict[str, Any] = field(default_factory=dict)

    def full_key(self, key: str) -> str:
        # pkg/workspace/config.go parseConfigKey: a key without a namespace belongs to the project.
        return key if ":" in key else f"{self.name}:{key}"

    def provider_launch(self, config: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
        """``(cwd, environment additions)`` of a dynamic provider host the engine starts for this project.

        provider_plugin.go NewProvider: each runtime option ``k`` becomes ``PULUMI_RUNTIME_<K>``
        (``%v`` formatting), the project name ``PULUMI_PROJECT``, and the config of the plugin's own
        package (``pulumi-python``: normally none) ``PULUMI_CONFIG`` as JSON (pkg/host/host.go).
        The plugin runs in ``ctx.Pwd``, the main directory (pkg/engine/project.go getPwdMain).
        """
        env = {f"PULUMI_RUNTIME_{k.upper()}": _go_format(v) for k, v in self.runtime_options.items()}
        env["PULUMI_PROJECT"] = self.name
        own = {
            k.split(":", 1)[1]: (v.value if isinstance(v, Secret) else v)
            for k, v in config.items()
            if k.split(":", 1)[0] == DYNAMIC_PACKAGE
        }
        env["PULUMI_CONFIG"] = json.dumps(own, separators=(",", ":"))
        return self.main_dir, env


def _go_format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- Pulumi.yaml ------------------------------------------------------------------------------


def _is_primitive(value: Any) -> bool:
    # project.go isPrimitiveValue: string, int or bool (YAML floats are not primitives there).
    return isinstance(value, (str, bool, int)) and not isinstance(value, float)


def _schema_errors(raw: Any) -> list[str]:
    """The checks of project.go ValidateProject: a non-empty ``name``, then project.json's schema for
    the attributes this package's projects use (runtime, main, config)."""
    if not isinstance(raw, dict):
        return ["project is missing a 'name' attribute"]
    if "name" not in raw:
        return ["project is missing a 'name' attribute"]
    if not isinstance(raw["name"], str) or not raw["name"]:
        return ["project is missing a non-empty string 'name' attribute"]
    errors = []
    runtime = raw.get("runtime")
    if runtime is None:
        errors.append("#: missing properties: 'runtime'")
    elif isinstance(runtime, str):
        if not runtime:
            errors.append("#/runtime: length must be >= 1")
    elif isinstance(runtime, dict):
        for key in runtime:
            if key not in ("name", "options"):
                errors.append(f"#/runtime: additionalProperties '{key}' not allowed")
        if not isinstance(runtime.get("name"), str) or not runtime.get("name"):
            errors.append("#/runtime/name: expected a non-empty string")
        if "options" in runtime and not isinstance(runtime["options"], dict):
            errors.append("#/runtime/options: expected object")
    else:
        errors.append("#/runtime: expected string or object")
    if "main" in raw and raw["main"] is not None and not isinstance(raw["main"], str):
        errors.append("#/main: expected string or null")
    config = raw.get("config")
    if config is None or isinstance(config, str):
        return errors
    if not isinstance(config, dict):
        return errors + ["#/config: expected object, string or null"]
    for key, decl in config.items():
        where = f"#/config/{key}"
        if key == "secret" and not isinstance(decl, bool):
            errors.append(f"{where}: expected boolean")
            continue
        if _is_primitive(decl) or isinstance(decl, list):
            continue
        if not isinstance(decl, dict):
            errors.append(f"{where}: expected a string, integer, boolean, array or config type declaration")
            continue
        for attr in decl:
            if attr not in _CONFIG_TYPE_ATTRIBUTES:
                errors.append(f"{where}: additionalProperties '{attr}' not allowed")
        if "type" in decl and decl["type"] not in _CONFIG_TYPES:
            errors.append(f"{where}/type: value must be one of {', '.join(map(repr, _CONFIG_TYPES))}")
        if "description" in decl and not isinstance(decl["description"], str):
            errors.append(f"{where}/description: expected string")
        if "secret" in decl and not isinstance(decl["secret"], bool):
            errors.append(f"{where}/secret: expected boolean")
        items = decl.get("items")
        if items is not None and (not isinstance(items, dict) or "type" not in items):
            errors.append(f"{where}/items: missing properties: 'type'")
    return errors


def _rewrite_shorthand(name: str, config: Mapping[str, Any]) -> dict:
    """project.go RewriteShorthandConfigValues: a bare value is a ``default`` of a project key and a
    ``value`` of another namespace's key."""
    result = {}
    for key, decl in config.items():
        if _is_primitive(decl) or isinstance(decl, list):
            decl = {"default": decl} if _namespaced_by_project(name, key) else {"value": decl}
        result[key] = dict(decl)
    return result


def _namespaced_by_project(name: str, key: str) -> bool:
    # project.go configKeyIsNamespacedByProject
    return ":" not in key or key.startswith(name + ":")


def _valid_value(type_name: str, items: Optional[Mapping[str, Any]], value: Any) -> bool:
    """project.go ValidateConfigValue."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return math.isfinite(value) and value == math.trunc(value)
        if isinstance(value, str):
            try:
                int(value, 10)
            except ValueError:
                return False
            return True
        return False
    if type_name == "boolean":
        return value in ("true", "false") or isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(_valid_value(items.get("type", ""), items.get("items"), item) for item in value)


def _validate_declarations(name: str, config: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """project.go Project.Validate, on the rewritten config."""
    errors = []
    for key, decl in config.items():
        has_default, has_value = decl.get("default") is not None, decl.get("value") is not None
        typed = decl.get("type") is not None
        if has_default and has_value:
            errors.append(f"project config '{key}' cannot have both a 'default' and 'value' attribute")
            continue
        if _namespaced_by_project(name, key):
            if typed and decl["type"] == "array" and decl.get("items") is None:
                errors.append(
                    f"The configuration key '{key}' declares an array but does not specify the underlying "
                    "type via the 'items' attribute"
                )
            elif typed and has_default and not _valid_value(decl["type"], decl.get("items"), decl["default"]):
                errors.append(
                    f"The default value specified for configuration key '{key}' is not of the expected "
                    f"type '{_full_type_name(decl['type'], decl.get('items'))}'"
                )
        elif typed:
            errors.append(f"Configuration key '{key}' is not namespaced by the project and should not define a type")
        elif has_default:
            errors.append(
                f"Configuration key '{key}' is not namespaced by the project and should not define a default "
                "value. Did you mean to use the 'value' attribute instead of 'default'?"
            )
        elif not has_value:
            errors.append(f"Configuration key '{key}' is namespaced and must provide an attribute 'value'")
    return errors


def _full_type_name(type_name: str, items: Optional[Mapping[str, Any]]) -> str:
    # project.go InferFullTypeName
    if items is not None:
        return f"array<{_full_type_name(items.get('type', ''), items.get('items'))}>"
    return type_name


def validate_project(raw: Any) -> list[str]:
    """Every reason the Pulumi CLI would refuse this parsed Pulumi.yaml (empty when it is valid).

    The order is loaders.go's: the schema (ValidateProject) on the file as written, then the shorthand
    rewriting, then Project.Validate on the declarations; and one rule the CLI applies to every stack
    (pkg/workspace/config.go validateStackConfigValue): a typed ``secret: true`` key whose project
    ``default``/``value`` would be merged into the stack as plaintext fails every ``pulumi up``.
    """
    errors = _schema_errors(raw)
    if errors:
        return errors
    config = raw.get("config")
    if not isinstance(config, dict):
        return []
    declarations = _rewrite_shorthand(raw["name"], config)
    errors = _validate_declarations(raw["name"], declarations)
    for key, decl in declarations.items():
        if decl.get("type") is not None and decl.get("secret") and (
            decl.get("default") is not None or decl.get("value") is not None
        ):
            errors.append(
                f"configuration key '{key}' is secret but declares a plaintext "
                f"{'default' if decl.get('default') is not None else 'value'}: every stack would fail with "
                f"\"Stack '<stack>' with configuration key '{key}' must be encrypted as it's secret\""
            )
    return errors


def load_project(directory: Union[str, os.PathLike[str]]) -> Project:
    """Read and validate ``directory/Pulumi.yaml``; :class:`ProjectError` lists what the CLI would refuse."""
    import yaml

    root = os.path.abspath(os.fspath(directory))
    manifest = os.path.join(root, "Pulumi.yaml")
    if not os.path.isfile(manifest):
        raise ProjectError(f"{root} has no Pulumi.yaml")
    with open(manifest, encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    errors = validate_project(raw)
    if errors:
        raise ProjectError(f"{manifest} is not a valid Pulumi project:\n" + "\n".join(f"  {e}" for e in errors))
    runtime = raw["runtime"]
    runtime_name = runtime if isinstance(runtime, str) else runtime["name"]
    options = {} if isinstance(runtime, str) else dict(runtime.get("options") or {})
    if runtime_name != "python":
        raise ProjectError(f"{manifest}: runtime {runtime_name!r}: the runner runs Python programs only")
    # pkg/engine/project.go getPwdMain: main is relative to the project root; a directory becomes
    # the working directory, a file's directory likewise.
    main = raw.get("main") or ""
    main_path = os.path.normpath(os.path.join(root, main)) if main else root
    if not os.path.exists(main_path):
        raise ProjectError(f"project 'main' could not be read: {main_path} does not exist")
    if os.path.isdir(main_path):
        main_dir, entry = main_path, os.path.join(main_path, "__main__.py")
    else:
        main_dir, entry = os.path.dirname(main_path), main_path
    if not os.path.isfile(entry):
        raise ProjectError(f"program entry point {entry} does not exist")
    config = raw.get("config")
    return Project(
        name=raw["name"],
        root=root,
        main_dir=main_dir,
        entry=entry,
        runtime=runtime_name,
        runtime_options=options,
        config=_rewrite_shorthand(raw["name"], config) if isinstance(config, dict) else {},
        raw=raw,
    )


# --- stack config -----------------------------------------------------------------------------


def _config_string(value: Any) -> str:
    """A value as the CLI stores it: primitives as text (``%v``), the rest as a JSON object value
    (pkg/workspace/config.go createConfigValue)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return json.dumps(value)


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def stack_config(
    project: Optional[Project],
    stack: str,
    overrides: Optional[Mapping[str, Any]] = None,
    *,
    project_name: Optional[str] = None,
) -> tuple[dict[str, str], set[str]]:
    """The config of a ``pulumi up`` of ``stack``: ``(key -> text, secret keys)``.

    Built as pkg/workspace/config.go mergeConfig does with validation on: ``Pulumi.<stack>.yaml``'s
    values, with ``overrides`` applied as ``pulumi config set`` would (a :class:`Secret` as
    ``--secret``), then every Pulumi.yaml key the stack lacks that has a ``value`` or ``default``;
    project keys with neither are missing; typed keys are checked for their type and, if ``secret``,
    for being encrypted. ``project=None`` (a program given as a function) has only ``overrides``.
    """
    name = project.name if project else (project_name or "test")
    values = _stack_file_values(project, stack, name)
    for key, value in (overrides or {}).items():
        values[_namespaced(key, name)] = value
    result, secure = _encoded(values, stack)
    if project is None:
        return result, secure
    _merge_project_values(project, result, stack)
    _validate_typed_values(project, result, secure, stack)
    return result, secure


def _stack_file_values(project: Optional[Project], stack: str, name: str) -> dict[str, Any]:
    """``Pulumi.<stack>.yaml``'s ``config:``, keys namespaced (config.go parseConfigKey)."""
    values: dict[str, Any] = {}
    if project is None:
        return values
    import yaml

    stack_file = os.path.join(project.root, f"Pulumi.{stack}.yaml")
    if os.path.isfile(stack_file):
        with open(stack_file, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        for key, value in (data.get("config") or {}).items():
            values[_namespaced(key, name)] = value
    return values


def _encoded(values: Mapping[str, Any], stack: str) -> tuple[dict[str, str], set[str]]:
    """Each value as the CLI stores it, and the keys set with ``--secret``."""
    result: dict[str, str] = {}
    secure: set[str] = set()
    for key, value in values.items():
        if isinstance(value, Secret):
            result[key] = _config_string(value.value)
            secure.add(key)
        elif isinstance(value, dict) and set(value) == {"secure"}:
            raise ProjectError(
                f"config {key!r} of stack {stack!r} is encrypted (secure:); the runner cannot decrypt it: "
                f"pass it in config= as secret(...)"
            )
        else:
            result[key] = _config_string(value)
    return result, secure


def _merge_project_values(project: Project, result: dict[str, str], stack: str) -> None:
    """config.go mergeConfig: Pulumi.yaml's ``value``/``default`` for keys the stack lacks; a project key
    with neither is missing."""
    missing = []
    for decl_key in sorted(project.config):
        decl = project.config[decl_key]
        key = project.full_key(decl_key)
        if key in result:
            continue
        value = decl.get("value") if decl.get("value") is not None else decl.get("default")
        if value is None:
            if key.split(":", 1)[0] == project.name:
                missing.append(decl_key)
            continue
        result[key] = _config_string(value)
    if missing:
        listed = (
            f"'{missing[0]}'"
            if len(missing) == 1
            else ", ".join(f"'{k}'" for k in missing[:-1]) + f" and '{missing[-1]}'"
        )
        raise ProjectError(
            f"Stack '{stack}' is missing configuration value{'s' if len(missing) > 1 else ''} {listed}"
        )


def _validate_typed_values(project: Project, result: Mapping[str, str], secure: set[str], stack: str) -> None:
    """config.go validateStackConfigValue: a typed key's type, and the secret rule."""
    for decl_key in sorted(project.config):
        decl = project.config[decl_key]
        key = project.full_key(decl_key)
        if decl.get("type") is None or key not in result:
            continue
        if decl.get("secret") and key not in secure:
            raise ProjectError(
                f"Stack '{stack}' with configuration key '{decl_key}' must be encrypted as it's secret"
            )
        text = result[key]
        content: Any = text
        if decl["type"] in ("object", "array"):
            try:
                content = json.loads(text)
            except ValueError:
                content = text
        if not _valid_value(decl["type"], decl.get("items"), content):
            raise ProjectError(
                f"Stack '{stack}' with configuration key '{decl_key}' must be of type "
                f"'{_full_type_name(decl['type'], decl.get('items'))}'"
            )
