"""Resource transforms as the engine runs them (``ResourceOptions(transforms=...)`` and
``pulumi.runtime.register_resource_transform``).

pkg/resource/deploy/source_eval.go ``RegisterResource``: before anything else the engine runs the resource's own
transforms, then each ancestor's, then the stack's, each through the program's callback server
(``wrapTransformCallback``: a ``TransformRequest`` with the properties and the options in, a ``TransformResponse``
out; a missing part of the answer keeps what went in). The registration then proceeds with the result.
"""

from __future__ import annotations

import threading
from typing import Any

import grpc
from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc, resource_pb2

__all__: list[str] = []


def _options(request: Any) -> Any:
    """The TransformResourceOptions of a registration (the options this double models)."""
    opts = resource_pb2.TransformResourceOptions(
        depends_on=list(request.dependencies),
        ignore_changes=list(request.ignoreChanges),
        replace_on_changes=list(request.replaceOnChanges),
        deleted_with=request.deletedWith,
        additional_secret_outputs=list(request.additionalSecretOutputs),
        aliases=list(request.aliases),
        **{"import": request.importId},
    )
    if request.HasField("protect"):
        opts.protect = request.protect
    if request.HasField("retainOnDelete"):
        opts.retain_on_delete = request.retainOnDelete
    if request.deleteBeforeReplaceDefined:
        opts.delete_before_replace = request.deleteBeforeReplace
    return opts


def _apply_options(request: Any, opts: Any) -> None:
    """Write transformed options back onto the registration."""
    del request.dependencies[:]
    request.dependencies.extend(opts.depends_on)
    for target, values in ((request.ignoreChanges, opts.ignore_changes),
                           (request.replaceOnChanges, opts.replace_on_changes),
                           (request.additionalSecretOutputs, opts.additional_secret_outputs)):
        del target[:]
        target.extend(values)
    del request.aliases[:]
    request.aliases.extend(opts.aliases)
    request.deletedWith = opts.deleted_with
    request.importId = getattr(opts, "import")
    request.ClearField("protect")
    if opts.HasField("protect"):
        request.protect = opts.protect
    request.ClearField("retainOnDelete")
    if opts.HasField("retain_on_delete"):
        request.retainOnDelete = opts.retain_on_delete
    request.deleteBeforeReplaceDefined = opts.HasField("delete_before_replace")
    request.deleteBeforeReplace = opts.delete_before_replace


class _Transforms:
    """The transforms a monitor has seen: the stack's, and each resource's (its children inherit them)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stack: list[Any] = []  # Callback messages, in registration order
        self.by_urn: dict[str, list[Any]] = {}
        self.parents: dict[str, str] = {}
        self.channels: dict[str, grpc.Channel] = {}

    def register_stack(self, callback: Any) -> None:
        """source_eval.go RegisterStackTransform."""
        with self.lock:
            self.stack.append(callback)

    def _chain(self, request: Any) -> list[Any]:
        """The resource's transforms, then its ancestors', then the stack's."""
        with self.lock:
            chain = list(request.transforms)
            current = request.parent
            while current:
                chain += self.by_urn.get(current, [])
                current = self.parents.get(current, "")
            return chain + list(self.stack)

    def _invoke(self, callback: Any, request: Any, opts: Any) -> tuple[Any, Any]:
        """source_eval.go wrapTransformCallback: one callback over the program's callback server."""
        with self.lock:
            channel = self.channels.get(callback.target)
            if channel is None:
                channel = self.channels[callback.target] = grpc.insecure_channel(callback.target)
        asked = resource_pb2.TransformRequest(name=request.name, type=request.type, parent=request.parent,
                                              custom=request.custom, properties=request.object, options=opts)
        answer = callback_pb2_grpc.CallbacksStub(channel).Invoke(
            callback_pb2.CallbackInvokeRequest(token=callback.token, request=asked.SerializeToString())
        )
        response = resource_pb2.TransformResponse.FromString(answer.response)
        return (response.properties if response.HasField("properties") else request.object,
                response.options if response.HasField("options") else opts)

    def apply(self, request: Any, urn: str) -> Any:
        """A copy of the registration with every transform applied (the request itself when there is none)."""
        with self.lock:
            self.by_urn[urn] = list(request.transforms)
            self.parents[urn] = request.parent
        chain = self._chain(request)
        if not chain:
            return request
        changed = resource_pb2.RegisterResourceRequest()
        changed.CopyFrom(request)
        opts = _options(changed)
        for callback in chain:
            props, opts = self._invoke(callback, changed, opts)
            changed.object.CopyFrom(props)
        _apply_options(changed, opts)
        return changed

    def close(self) -> None:
        with self.lock:
            channels, self.channels = list(self.channels.values()), {}
        for channel in channels:
            channel.close()
