"""Property paths as the engine reads ``ignoreChanges``: ``eventFilters[0].value``, ``tags["a.b"]``, ``*``.

A copy of sdk/go/common/resource/properties_path.go: ``parsePropertyPath`` (the loose grammar) and
``PropertyPath.Reset`` (put the old value back at the path in the new inputs, or drop it when the
old inputs lack it; never create intermediate objects or change an array's length), as
pkg/resource/deploy/step_generator.go ``processIgnoreChanges`` applies them to the news before Diff.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping, Union

__all__ = ["PathError", "apply_ignore_changes", "parse_property_path", "reset_path"]

Element = Union[str, int]


class PathError(ValueError):
    """A property path that properties_path.go parsePropertyPath refuses."""


def _parse_quoted(path: str) -> tuple[str, str]:
    """``["key"]...`` -> (key, the rest after the closing bracket)."""
    key, i = [], 2
    while True:
        if i >= len(path):
            raise PathError("missing closing quote in property name")
        if path[i] == '"':
            i += 1
            break
        if path[i] == "\\" and i + 1 < len(path) and path[i + 1] == '"':
            key.append('"')
            i += 2
        else:
            key.append(path[i])
            i += 1
    if i >= len(path) or path[i] != "]":
        raise PathError("missing closing bracket in property access")
    return "".join(key), path[i + 1 :]


def _parse_index(path: str) -> tuple[Element, str]:
    end = path.find("]")
    if end == -1:
        raise PathError("missing closing bracket in array index")
    segment = path[1:end]
    if segment == "*":
        return "*", path[end + 1 :]
    try:
        return int(segment, 10), path[end + 1 :]
    except ValueError:
        raise PathError(f"invalid array index: {segment!r}") from None


def parse_property_path(path: str) -> list[Element]:
    """properties_path.go parsePropertyPath (not strict): names, ``[n]``, ``["quoted"]`` and ``*``."""
    if path.startswith("."):
        raise PathError("expected property path to start with a name or index")
    elements: list[Element] = []
    while path:
        if path[0] == ".":
            path = path[1:]
            if not path:
                raise PathError("expected property path to end with a name or index")
        elif path[0] == "[":
            element, path = _parse_quoted(path) if path[1:2] == '"' else _parse_index(path)
            elements.append(element)
        else:
            end = next((i for i, c in enumerate(path) if c in ".["), len(path))
            elements.append(path[:end])
            path = path[end:]
    return elements


def _reset_index(path: list[Element], old: Any, new: Any) -> bool:
    key = path[0]
    assert isinstance(key, int)
    if key < 0:
        return False
    old_list, new_list = isinstance(old, list), isinstance(new, list)
    if len(path) == 1:
        if not old_list and not new_list:
            return True
        if not (old_list and new_list):
            return False
        if key >= len(old) and key >= len(new):
            return True
        if key >= len(old) or key >= len(new):
            return False
        new[key] = copy.deepcopy(old[key])
        return True
    if not (old_list and new_list):
        return not old_list and not new_list
    if key >= len(old) or key >= len(new):
        return False
    return _reset(path[1:], old[key], new[key])


def _reset_star_leaf(old: Any, new: Any) -> bool:
    if isinstance(new, dict):
        if isinstance(old, dict):
            new.clear()
            new.update(copy.deepcopy(old))
        return True
    if isinstance(new, list):
        if isinstance(old, list):
            for i in range(min(len(old), len(new))):
                new[i] = copy.deepcopy(old[i])
            return len(old) == len(new)
        return True
    return False


def _reset_star(path: list[Element], old: Any, new: Any) -> bool:
    if len(path) == 1:
        return _reset_star_leaf(old, new)
    if isinstance(old, dict) and isinstance(new, dict):
        return all(k in new and _reset(path[1:], old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        ok = all(_reset(path[1:], o, n) for o, n in zip(old, new))
        return ok and len(old) == len(new)
    return False


def _reset_key(path: list[Element], old: Any, new: Any) -> bool:
    key = path[0]
    if len(path) == 1:
        if isinstance(old, dict) and key in old:
            if not isinstance(new, dict):
                return False
            new[key] = copy.deepcopy(old[key])
        elif isinstance(new, dict):
            new.pop(key, None)
        return True
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return not isinstance(old, dict) and not isinstance(new, dict)
    if key in old and key not in new:
        return False
    if key not in old and key not in new:
        return True
    return _reset(path[1:], old.get(key), new[key])


def _reset(path: list[Element], old: Any, new: Any) -> bool:
    """properties_path.go PropertyPath.reset (secrets are plain here: the state keeps their names)."""
    if not path:
        return False
    if isinstance(path[0], int):
        return _reset_index(path, old, new)
    if path[0] == "*":
        return _reset_star(path, old, new)
    return _reset_key(path, old, new)


def reset_path(path: str, old: Mapping[str, Any], new: dict[str, Any]) -> bool:
    """properties_path.go PropertyPath.Reset: ``new`` takes ``old``'s value at ``path``, in place.
    False when the path crosses an added or removed element (the engine then leaves it and says so)."""
    try:
        elements = parse_property_path(path)
    except PathError:
        return True  # processIgnoreChanges skips a path it cannot parse
    return _reset(elements, dict(old), new)


def apply_ignore_changes(news: Mapping[str, Any], olds: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """step_generator.go processIgnoreChanges: a deep copy of ``news`` with every path reset from ``olds``."""
    result = copy.deepcopy(dict(news))
    for path in paths:
        reset_path(path, olds, result)
    return result
