"""Reading a script: YAML nodes with their lines, checked against the shipped JSON Schema.

The schema (`schema.json`, next to this module) is the one description of the format: the
same file documents it for editors and checks every script here, so the two cannot drift.
Only the part of JSON Schema the file uses is implemented (type, const, pattern, minimum,
minItems, min/maxProperties, required, properties, additionalProperties, items, anyOf, $ref).
Errors name the file, the line and what was expected; they never carry a traceback.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).with_name("schema.json")

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


class ScriptError(Exception):
    """A script that cannot run as written: `file:line: what was expected`."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{shown(path)}:{line}: {message}")
        self.path = Path(path)
        self.line = line
        self.message = message


def shown(path: Path | str) -> str:
    """A path as the author wrote it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Loader(yaml.SafeLoader):
    """Safe YAML; a timestamp stays the string it was written as."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def compose(path: Path) -> yaml.Node:
    """The YAML document of `path` as nodes (which remember their lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(path, 0, f"cannot read the script: {exc}") from None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = int(mark.line) + 1 if mark is not None else 0
        raise ScriptError(path, where, f"malformed YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScriptError(path, 0, f"malformed YAML: {exc}") from None
    if node is None:
        raise ScriptError(path, 1, "the script is empty (expected `actors:` and `steps:`)")
    return node


def value(node: yaml.Node) -> Any:
    """The plain Python value of a node (dicts, lists, str, int, float, bool, None)."""
    loader = _Loader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def items(node: yaml.Node) -> list[tuple[str, yaml.Node]]:
    """A mapping node's (key, value node) pairs."""
    return [(str(value(k)), v) for k, v in node.value] if isinstance(node, yaml.MappingNode) else []


def check(path: Path, node: yaml.Node, ref: str = "", *, skip: str = "") -> None:
    """Validate `node` against the schema (or its `#/$defs/<ref>`); raise the first error.

    Parts of type `#/$defs/<skip>` are left out (the caller checks them later, one by one).
    """
    root = schema()
    rule = root["$defs"][ref] if ref else root
    error = _errors(path, node, rule, ref or "script", skip)
    if error is not None:
        raise error


def _resolve(rule: dict[str, Any]) -> dict[str, Any]:
    ref = rule.get("$ref")
    if ref is None:
        return rule
    name = ref.removeprefix("#/$defs/")
    resolved: dict[str, Any] = schema()["$defs"][name]
    return resolved


def _what(rule: dict[str, Any], fallback: str) -> str:
    rule = _resolve(rule)
    described = rule.get("description") or rule.get("title")
    return str(described) if described else fallback


def _errors(
    path: Path, node: yaml.Node, rule: dict[str, Any], where: str, skip: str = ""
) -> ScriptError | None:
    if "$ref" in rule:
        where = rule["$ref"].removeprefix("#/$defs/")
        if where == skip:
            return None
    rule = _resolve(rule)
    at = line(node)
    if "anyOf" in rule:
        return _any_of(path, node, rule, where)
    data = value(node)
    if "const" in rule and data != rule["const"]:
        return ScriptError(path, at, f"expected {rule['const']!r} in {where}, got {data!r}")
    types = rule.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        allowed = tuple(t for n in names for t in _TYPES[n])
        if not isinstance(data, allowed) or (isinstance(data, bool) and bool not in allowed):
            shown = " or ".join(names)
            return ScriptError(path, at, f"{where}: expected {shown}, got {_kind(data)} {data!r}")
    if isinstance(data, str) and "pattern" in rule and not re.search(rule["pattern"], data):
        return ScriptError(path, at, f"{where}: {data!r} is not {_what(rule, 'valid')}")
    if isinstance(data, int) and not isinstance(data, bool) and data < rule.get("minimum", data):
        return ScriptError(path, at, f"{where}: {data} is below {rule['minimum']}")
    if isinstance(node, yaml.SequenceNode):
        if len(node.value) < rule.get("minItems", 0):
            return ScriptError(path, at, f"{where}: expected at least {rule['minItems']} items")
        for child in node.value:
            if "items" in rule and (err := _errors(path, child, rule["items"], where, skip)):
                return err
    if isinstance(node, yaml.MappingNode):
        return _mapping(path, node, rule, where, skip)
    return None


def _mapping(
    path: Path, node: yaml.Node, rule: dict[str, Any], where: str, skip: str
) -> ScriptError | None:
    pairs = items(node)
    keys = [k for k, _ in pairs]
    at = line(node)
    for key in keys:
        if keys.count(key) > 1:
            return ScriptError(path, at, f"{where}: {key!r} is given twice")
    if len(pairs) < rule.get("minProperties", 0):
        return ScriptError(path, at, f"{where}: expected something in {{}}")
    if len(pairs) > rule.get("maxProperties", len(pairs)):
        return ScriptError(path, at, f"{where}: expected one of {', '.join(rule['properties'])}")
    for key in rule.get("required", []):
        if key not in keys:
            return ScriptError(path, at, f"{where}: missing {key!r}")
    known = rule.get("properties", {})
    extra = rule.get("additionalProperties", True)
    for key, child in pairs:
        sub = known.get(key)
        if sub is None and extra is False:
            expected = ", ".join(known) or "nothing"
            return ScriptError(path, line(child), f"{where}: unknown {key!r} (expected {expected})")
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is not None and (err := _errors(path, child, sub, f"{where}.{key}", skip)):
            return err
    return None


def _any_of(path: Path, node: yaml.Node, rule: dict[str, Any], where: str) -> ScriptError | None:
    found = [(b, _errors(path, node, b, where)) for b in rule["anyOf"]]
    if any(error is None for _, error in found):
        return None
    # The branch the author meant: the only one of the right type, or the one requiring a key
    # the mapping has; otherwise say which forms there are.
    data = value(node)
    fitting = [(b, e) for b, e in found if _fits(_resolve(b), data)]
    if len(fitting) == 1:
        return fitting[0][1]
    keys = {k for k, _ in items(node)}
    for branch, error in fitting:
        if keys & set(_resolve(branch).get("required", [])):
            return error
    return ScriptError(path, line(node), f"{where}: expected {_what(rule, where)}")


def _fits(rule: dict[str, Any], data: Any) -> bool:
    if "const" in rule:
        return bool(data == rule["const"])
    types = rule.get("type")
    if types is None:
        return True
    names = [types] if isinstance(types, str) else list(types)
    allowed = tuple(t for n in names for t in _TYPES[n])
    return isinstance(data, allowed) and (bool in allowed or not isinstance(data, bool))


def _kind(data: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "nothing"}.get(
        type(data), type(data).__name__
    )
