"""The stack state the runner keeps between runs, like a stack file (``pulumi stack export``).

Secrets are plain in memory and sealed (base64 under the secret signature) in :meth:`State.to_json`:
enough to keep plaintext out of a state a test scans, not encryption.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from pulumi.runtime import rpc

from .values import Secret

__all__ = ["PendingOperation", "ProgramResult", "ResourceState", "State"]

_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_STATE_VERSION = 1


def _encrypt(value: Any) -> dict:
    # Stack files keep secrets as ciphertext under the secret signature. This is base64, not
    # encryption: enough to keep plaintext out of a state a test scans, not to protect it.
    blob = base64.b64encode(json.dumps(value, sort_keys=True).encode()).decode()
    return {_SIG: _SECRET_SIG, "ciphertext": blob}


def _decrypt(value: Any) -> Any:
    return json.loads(base64.b64decode(value["ciphertext"]))


def _is_ciphertext(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SIG) == _SECRET_SIG and "ciphertext" in value


def _seal(props: Mapping[str, Any], secret: Iterable[str]) -> dict:
    secret = set(secret)
    return {k: _encrypt(v) if k in secret else v for k, v in props.items()}


def _unseal(props: Mapping[str, Any]) -> tuple[dict, set]:
    out, secret = {}, set()
    for key, value in props.items():
        if _is_ciphertext(value):
            out[key] = _decrypt(value)
            secret.add(key)
        else:
            out[key] = value
    return out, secret


@dataclass
class ResourceState:
    """One resource as the engine records it in the stack.

    ``inputs`` are the checked inputs and ``outputs`` what the provider returned, both with
    ``__provider``; ``secret_inputs``/``secret_outputs`` name the top-level properties that are
    secret (plain in memory, ciphertext in :meth:`State.to_json`). ``external`` marks a resource
    read with ``get`` (never deleted); ``pending_delete`` an old copy of a replaced resource that
    still has to be deleted. ``dependencies`` and ``property_dependencies`` (input name -> URNs) are
    the edges the engine walks to find what a delete-before-replace condemns.
    """

    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: set[str] = field(default_factory=set)
    secret_outputs: set[str] = field(default_factory=set)
    external: bool = False
    protect: bool = False
    retain_on_delete: bool = False
    pending_delete: bool = False
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    parent: str = ""
    deleted_with: str = ""
    ignore_changes: list[str] = field(default_factory=list)
    pending_replacement: bool = False

    def edges(self) -> set[str]:
        """The URNs this resource depends on: dependencies, property dependencies, parent and
        deletedWith (pkg/resource/graph/dependency_graph.go DependenciesOf)."""
        found = set(self.dependencies) | {u for urns in self.property_dependencies.values() for u in urns}
        found |= {u for u in (self.parent, self.deleted_with) if u}
        return found

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, secrets as ciphertext."""
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "inputs": _seal(self.inputs, self.secret_inputs),
            "outputs": _seal(self.outputs, self.secret_outputs),
            "external": self.external,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "pendingDelete": self.pending_delete,
            "dependencies": list(self.dependencies),
            "propertyDependencies": {k: list(v) for k, v in self.property_dependencies.items()},
            "parent": self.parent,
            "deletedWith": self.deleted_with,
            "ignoreChanges": list(self.ignore_changes),
            "pendingReplacement": self.pending_replacement,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ResourceState":
        """Inverse of :meth:`to_dict`."""
        inputs, secret_inputs = _unseal(data.get("inputs") or {})
        outputs, secret_outputs = _unseal(data.get("outputs") or {})
        return cls(
            urn=data["urn"],
            type=data["type"],
            name=data["name"],
            id=data.get("id", ""),
            inputs=inputs,
            outputs=outputs,
            secret_inputs=secret_inputs,
            secret_outputs=secret_outputs,
            external=bool(data.get("external")),
            protect=bool(data.get("protect")),
            retain_on_delete=bool(data.get("retainOnDelete")),
            pending_delete=bool(data.get("pendingDelete")),
            dependencies=list(data.get("dependencies") or []),
            property_dependencies={k: list(v) for k, v in (data.get("propertyDependencies") or {}).items()},
            parent=data.get("parent") or "",
            deleted_with=data.get("deletedWith") or "",
            ignore_changes=list(data.get("ignoreChanges") or []),
            pending_replacement=bool(data.get("pendingReplacement")),
        )


@dataclass
class PendingOperation:
    """An operation a run started and never saw finish (the CLI was interrupted): ``type`` is ``"creating"``,
    and ``resource`` what was being created (pkg/resource/operation.go Operation)."""

    type: str
    resource: ResourceState


@dataclass
class State:
    """A stack's state: resources in creation order, plus the stack's exports.

    ``provider_config`` is the config the default ``pulumi-python`` provider was configured with at the
    last ``up`` (keys -> text, :class:`~.project.Secret` for secret values; ``None`` for a state that
    predates it): the engine records it as the provider resource's inputs, and ``refresh`` and
    ``destroy`` configure the host from it (pkg/resource/deploy/deployment.go EnsureProvider).
    """

    resources: list[ResourceState] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    project: str = "test"
    stack: str = "dev"
    provider_config: Optional[dict[str, Any]] = None
    pending_operations: list[PendingOperation] = field(default_factory=list)

    def get(self, urn: str) -> Optional[ResourceState]:
        """The live resource with this URN, or ``None``."""
        for res in self.resources:
            if res.urn == urn and not res.pending_delete:
                return res
        return None

    def find(self, name: str, type_: Optional[str] = None) -> ResourceState:
        """The live resource with this logical name (and type); ``KeyError`` if none or ambiguous."""
        hits = [
            r
            for r in self.resources
            if r.name == name and not r.pending_delete and (type_ is None or r.type == type_)
        ]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} resources named {name!r} in state")
        return hits[0]

    def to_json(self, **kwargs: Any) -> str:
        """Serialize like a stack file (secrets as ciphertext); ``kwargs`` go to ``json.dumps``."""
        data = {
            "version": _STATE_VERSION,
            "project": self.project,
            "stack": self.stack,
            "outputs": _seal(self.outputs, self.secret_outputs),
            "resources": [r.to_dict() for r in self.resources],
        }
        if self.pending_operations:
            data["pendingOperations"] = [{"type": op.type, "resource": op.resource.to_dict()}
                                         for op in self.pending_operations]
        if self.provider_config is not None:
            data["providerConfig"] = {
                k: _encrypt(v.value) if isinstance(v, Secret) else v for k, v in self.provider_config.items()
            }
        return json.dumps(data, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> "State":
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        if data.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported state version {data.get('version')!r}")
        outputs, secret_outputs = _unseal(data.get("outputs") or {})
        config = data.get("providerConfig")
        return cls(
            provider_config=None
            if config is None
            else {k: Secret(_decrypt(v)) if _is_ciphertext(v) else v for k, v in config.items()},
            resources=[ResourceState.from_dict(r) for r in data.get("resources", [])],
            pending_operations=[PendingOperation(op["type"], ResourceState.from_dict(op["resource"]))
                                for op in data.get("pendingOperations") or []],
            outputs=outputs,
            secret_outputs=secret_outputs,
            project=data.get("project", "test"),
            stack=data.get("stack", "dev"),
        )

    def copy(self) -> "State":
        """A deep copy."""
        return copy.deepcopy(self)


@dataclass
class ProgramResult:
    """What a run produced.

    :ivar outputs: the stack's exports (``pulumi.export``), secrets unwrapped, integral numbers
        as ``int`` (as ``pulumi stack output --json`` shows them).
    :ivar secret_outputs: names of exports that are secret.
    :ivar resources: URN -> :class:`ResourceState` (planned states on a preview).
    :ivar state: the new state (on a preview: the prior state, unchanged).
    :ivar steps: URN -> ``"create"``, ``"update"``, ``"replace"``, ``"same"``, ``"read"``,
        ``"import"`` or ``"delete"``.
    :ivar warnings: what the engine would print as warnings (pending operations of an interrupted run, and the
        program's own ``pulumi.log.warn``, e.g. an unknown ``bird:*`` key).
    """

    outputs: dict[str, Any]
    secret_outputs: set[str]
    resources: dict[str, ResourceState]
    state: State
    steps: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def resource(self, name: str) -> ResourceState:
        """The resource with this logical name; ``KeyError`` if none or several."""
        hits = [r for r in self.resources.values() if r.name == name]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} resources named {name!r}")
        return hits[0]
