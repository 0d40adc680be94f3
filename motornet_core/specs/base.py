"""Common base of every pydantic spec: strict, finite numbers, errors as :class:`SpecError`."""

from __future__ import annotations

import enum
import json
import re
import types
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from motornet_core.errors import SpecError

T = TypeVar("T", bound="SpecModel")


_UNKNOWN = object()  # a location below a value the validated document does not have
TAG_FIELDS = ("kind", "type")  # the discriminators of the tagged unions (specs: kind; websocket messages: type)


def _loc_to_path(loc: tuple[Any, ...], data: Any) -> str:
    """Dotted path into the input document ``data``.

    Drops what pydantic adds to locations that is not in the document: the tag of a tagged union
    member (``muscles.2.rigid_hill.optimal_length`` -> ``muscles.2.optimal_length``), the member
    label of a plain union (``excitations.list[list[float]].0.1`` -> ``excitations.0.1``) and
    validator wrappers (``function-after[...]``). Without ``data`` (None) only the wrappers go.
    """
    parts: list[str] = []
    node: Any = _UNKNOWN if data is None else data
    for part in loc:
        if isinstance(part, str) and part.startswith("function-"):
            continue
        if isinstance(part, str) and node is not _UNKNOWN:
            if isinstance(node, dict):
                if part not in node and any(node.get(tag) == part for tag in TAG_FIELDS):
                    continue  # the discriminator tag of a tagged union member
            else:
                continue  # a union member label below a list or a scalar (no field names there)
        parts.append(str(part))
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        node = node[part] if in_dict or in_list else _UNKNOWN
    return ".".join(parts)


def spec_error_from_validation(exc: ValidationError, data: Any = None) -> SpecError:
    """Turn a pydantic :class:`ValidationError` into a :class:`SpecError` with dotted paths.

    Args:
        exc: the pydantic error.
        data: the validated document, used to drop union tags from the locations.
    """
    errors = []
    for err in exc.errors(include_url=False):
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        loc = _loc_to_path(err["loc"], data)
        value = err.get("input")
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):  # name the tag field, not the whole member
            tag = str(err.get("ctx", {}).get("discriminator", "kind")).strip("'\"")
            loc = f"{loc}.{tag}" if loc else tag
            value = value.get(tag) if isinstance(value, dict) else value
        match = _NESTED.match(msg)
        if match:  # a cross-field check that names a deeper path (see fail())
            sub, msg = match.group(1), match.group(2)
            loc = f"{loc}.{sub}" if loc else sub
            value = _at(value, sub)
        kind = RULE if err["type"] in ("value_error", "assertion_error") else err["type"]
        errors.append({"loc": loc, "msg": msg, "input": _short(value), "type": kind})
    return SpecError(errors)


RULE = "rule"
"""The ``type`` of an error from a rule that a JSON Schema cannot state: one between fields (e.g.
``freq_max >= freq_min``), against the server's limits, or of the simulation (non-finite); every
other error carries pydantic's type of the constraint it breaks (``greater_than_equal``, ...)."""

_NESTED = re.compile(r"^\[\[([^\]]*)\]\] (.*)$", re.S)


def _at(node: Any, path: str) -> Any:
    """The value at the dotted ``path`` below ``node`` (None where there is none)."""
    for key in path.split(".") if path else ():
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.lstrip("-").isdigit() and -len(node) <= int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def fail(path: str, msg: str, value: Any) -> ValueError:
    """Build the error a cross-field validator raises for the nested field ``path``.

    The message carries the path so that :func:`spec_error_from_validation` reports the full
    dotted location (pydantic itself reports model-level errors at the model's own location).
    """
    full = f"{msg}, got {value!r}"
    return ValueError(f"[[{path}]] {full}")


def validate_spec(validate: Any, data: Any) -> Any:
    """Run a pydantic ``validate`` callable on a dict or JSON text; errors become :class:`SpecError`."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise SpecError([{"loc": "", "msg": f"invalid JSON: {exc}", "input": None}]) from None
    try:
        return validate(data)
    except ValidationError as exc:
        raise spec_error_from_validation(exc, data) from None


def _short(value: Any) -> Any:
    text = repr(value)
    if len(text) > 200:
        return text[:200] + "..."
    return value


NOT_UNICODE = "string holds a lone UTF-16 surrogate (e.g. \\ud800 without its pair), which is not valid Unicode"
_SURROGATE = re.compile("[\ud800-\udfff]")


def escaped(text: str) -> str:
    """``text`` encodable as UTF-8 (lone surrogates become ``\\udXXX`` escapes)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def find_unencodable(data: Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """The dotted path and escaped text of the first string (or key) below ``data`` that is not
    valid Unicode (a lone surrogate: it cannot be encoded, stored as text or served), else None."""
    if isinstance(data, str):
        return (".".join(path), escaped(data)) if _SURROGATE.search(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            where = (*path, escaped(str(key)))
            if isinstance(key, str) and _SURROGATE.search(key):
                return ".".join(where), escaped(key)
            found = find_unencodable(value, where)
            if found:
                return found
    elif isinstance(data, (list, tuple)):
        for i, value in enumerate(data):
            found = find_unencodable(value, (*path, str(i)))
            if found:
                return found
    return None


_ALL = frozenset({"boolean", "number", "string", "null", "array", "object"})


def json_kinds(annotation: Any) -> frozenset[str]:
    """The JSON kinds (``boolean``, ``number``, ``string``, ``null``, ``array``, ``object``) that a
    field of this type is documented to take in its JSON Schema; every kind for types it does not know."""
    if annotation is bool:
        return frozenset({"boolean"})
    if annotation is type(None) or annotation is None:
        return frozenset({"null"})
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return frozenset(_kind(m.value) for m in annotation)
        if issubclass(annotation, (int, float)):
            return frozenset({"number"})
        if issubclass(annotation, str):
            return frozenset({"string"})
        if issubclass(annotation, (BaseModel, dict)):
            return frozenset({"object"})
        if issubclass(annotation, (list, tuple, set, frozenset)):
            return frozenset({"array"})
        return _ALL
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return json_kinds(args[0])
    if origin is Literal:
        return frozenset(_kind(a) for a in args)
    if origin in (Union, types.UnionType):
        return frozenset().union(*(json_kinds(a) for a in args))
    if origin in (list, tuple, set, frozenset):
        return frozenset({"array"})
    if origin is dict:
        return frozenset({"object"})
    return _ALL


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, (list, tuple)) else "object" if isinstance(value, dict) else "other"


def _items(annotation: Any) -> list[Any] | None:
    """The element types of a list/tuple annotation: [X] for list[X] and tuple[X, ...], [X, Y] for
    tuple[X, Y]; for a union, those of its sequence members ([X | Y] for list[X] | list[Y]); None
    where it has no sequence type."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _items(args[0])
    if origin in (Union, types.UnionType):  # an array is checked against the union's sequence members
        seqs = [items for items in (_items(a) for a in args) if items]
        if len(seqs) <= 1:
            return seqs[0] if seqs else None
        return [Union[tuple(items[0] for items in seqs)]]
    if origin in (list, set, frozenset) and len(args) == 1:
        return [args[0]]
    if origin is tuple and args:
        return [args[0]] if len(args) == 2 and args[1] is Ellipsis else list(args)
    return None


def _mismatch(value: Any, annotation: Any, path: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """The path below ``value`` and the expected kinds where a scalar's JSON kind is not one the
    annotation takes (objects are left to their own models)."""
    kind = _kind(value)
    kinds = json_kinds(annotation)
    if kind in ("boolean", "number", "string", "null") and kind not in kinds:
        return path, " or ".join(sorted(kinds))
    if kind == "array":
        items = _items(annotation)
        if items:
            for i, item in enumerate(value):
                found = _mismatch(item, items[min(i, len(items) - 1)], (*path, str(i)))
                if found:
                    return found
    return None


_FIELD_TYPES: dict[tuple[type, str], Any] = {}


def reject_lax_scalars(model: type[BaseModel], data: Any) -> None:
    """Raise where ``data`` (a model's input dict) has a scalar of a JSON kind its field does not take.

    pydantic's lax mode reads ``true`` as 1 in a number field, ``0`` as false in a boolean field and
    ``"1.5"`` as 1.5; JSON Schema (and so the OpenAPI document) allows none of them. Checked down
    lists (``force.0``); nested objects are checked by their own models.
    """
    if not isinstance(data, dict):
        return
    for name, value in data.items():
        if not isinstance(name, str) or isinstance(value, dict):
            continue
        key = (model, name)
        if key not in _FIELD_TYPES:
            field = model.model_fields.get(name)
            _FIELD_TYPES[key] = Any if field is None else field.annotation
        found = _mismatch(value, _FIELD_TYPES[key], (name,))
        if found is not None:
            where, expected = found
            raise PydanticCustomError(
                "json_type",
                "[[{path}]] Input should be a JSON {expected}, not a {kind}",
                {"path": ".".join(where), "expected": expected, "kind": _kind(_at(value, ".".join(where[1:])))},
            )


class SpecModel(BaseModel):
    """Base spec: unknown fields, NaN and infinities are rejected, and so is a scalar of a JSON kind
    its field does not take (true for a number, 0 for a boolean, "1.5" for a number) or a string
    (or key) that is not valid Unicode (a lone surrogate), with the path to it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=False)

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        found = find_unencodable(data) if isinstance(data, dict) else None
        if found:
            raise fail(found[0], NOT_UNICODE, found[1])
        return data

    @model_validator(mode="before")
    @classmethod
    def _strict_json_kinds(cls, data: Any) -> Any:
        reject_lax_scalars(cls, data)
        return data

    @classmethod
    def parse(cls: type[T], data: Any) -> T:
        """Validate a dict, a JSON string or an instance; raise :class:`SpecError` if invalid."""
        if isinstance(data, cls):
            return data
        return validate_spec(cls.model_validate, data)

    def to_json(self) -> str:
        """Serialise to JSON (round-trips through :meth:`parse`)."""
        return self.model_dump_json()

    def with_updates(self: T, updates: dict[str, Any]) -> T:
        """Return a validated copy with dotted-path updates applied, e.g. ``{"train.lr": 1e-3}``."""
        data = self.model_dump(mode="json")
        for path, value in updates.items():
            set_path(data, path, value)
        return type(self).parse(data)


def set_path(data: Any, path: str, value: Any) -> None:
    """Set ``data[a][b][0]...`` from the dotted path ``"a.b.0"``; raise SpecError if absent."""
    keys = path.split(".")
    node = data
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            try:
                idx = int(key)
                node[idx]
            except (ValueError, IndexError):
                raise SpecError([{"loc": path, "msg": f"no list element {key!r}", "input": value}]) from None
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if key not in node and not last:
                raise SpecError([{"loc": path, "msg": f"unknown field {key!r}", "input": value}])
            if last:
                node[key] = value
            else:
                node = node[key]
        else:
            raise SpecError([{"loc": path, "msg": f"cannot descend into {key!r}", "input": value}])
