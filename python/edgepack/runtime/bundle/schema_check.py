"""A small JSON Schema (draft 2020-12) validator for the keywords manifest.schema.json uses. The runtime
validates every manifest on load; importing the jsonschema package costs more than a whole model load on
a small board, so the runtime carries this instead. tests/test_schema_check.py checks that it agrees with
jsonschema on valid and broken manifests, and check_schema() refuses a keyword this file does not know, so
the schema cannot silently grow beyond it."""

from __future__ import annotations

import re
from collections.abc import Iterator

ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
KEYWORDS = {"type", "const", "enum", "required", "properties", "additionalProperties", "items", "minItems",
            "maxItems", "minLength", "minimum", "maximum", "exclusiveMinimum", "pattern", "not", "anyOf", "oneOf",
            "$ref", "minProperties", "propertyNames"}
_SUBSCHEMA = {"additionalProperties", "items", "not", "propertyNames"}
_SUBSCHEMA_LIST = {"anyOf", "oneOf"}


def check_schema(schema: dict, where: str = "#") -> None:
    """Raise ValueError if the schema uses a keyword this validator does not implement."""
    if isinstance(schema, bool):
        return
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise ValueError(f"schema at {where} uses {sorted(unknown)}, which schema_check.py does not implement")
    for name, sub in schema.get("properties", {}).items():
        check_schema(sub, f"{where}/properties/{name}")
    for name, sub in schema.get("$defs", {}).items():
        check_schema(sub, f"{where}/$defs/{name}")
    for key in _SUBSCHEMA & set(schema):
        check_schema(schema[key], f"{where}/{key}")
    for key in _SUBSCHEMA_LIST & set(schema):
        for i, sub in enumerate(schema[key]):
            check_schema(sub, f"{where}/{key}/{i}")


def _is_type(value: object, t: str) -> bool:
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if t == "integer":
        return isinstance(value, int) or isinstance(value, float) and value.is_integer()
    if t == "number":
        return isinstance(value, (int, float))
    raise ValueError(f"unknown JSON type {t!r} in the schema")


def _equal(a: object, b: object) -> bool:
    """JSON equality: 1 == 1.0, but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def iter_errors(value: object, schema: dict | bool, root: dict, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Yield (path, message) for every violation of `schema` by `value`."""
    if schema is True:
        return
    if schema is False:
        yield path, "no value is allowed here"
        return
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        yield from iter_errors(value, node, root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, t) for t in types):
            yield path, f"{value!r:.80} is not of type {' or '.join(map(repr, types))}"
            return
    if "const" in schema and not _equal(value, schema["const"]):
        yield path, f"{schema['const']!r} was expected"
    if "enum" in schema and not any(_equal(value, e) for e in schema["enum"]):
        yield path, f"{value!r:.80} is not one of {schema['enum']!r}"
    if "not" in schema and _valid(value, schema["not"], root, path):
        yield path, f"{value!r:.80} should not be valid under {schema['not']!r:.120}"
    if "anyOf" in schema and not any(_valid(value, s, root, path) for s in schema["anyOf"]):
        yield path, f"{value!r:.80} is not valid under any of the given schemas"
    if "oneOf" in schema:
        ok = sum(_valid(value, s, root, path) for s in schema["oneOf"])
        if ok != 1:
            yield path, f"{value!r:.80} is valid under {ok} of the given schemas, exactly one is required"
    if isinstance(value, dict):
        yield from _object(value, schema, root, path)
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield path, f"{value!r:.80} should have at least {schema['minItems']} item(s)"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            yield path, f"{value!r:.80} has more than {schema['maxItems']} items"
        if "items" in schema:
            for i, item in enumerate(value):
                yield from iter_errors(item, schema["items"], root, (*path, i))
    elif isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield path, f"{value!r:.80} should be non-empty" if schema["minLength"] == 1 else f"{value!r} is too short"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            yield path, f"{value!r:.80} does not match {schema['pattern']!r}"
    elif _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            yield path, f"{value} is less than the minimum of {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            yield path, f"{value} is greater than the maximum of {schema['maximum']}"
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            yield path, f"{value} is less than or equal to the minimum of {schema['exclusiveMinimum']}"


def _valid(value: object, schema: dict | bool, root: dict, path: tuple) -> bool:
    """No error at all (stops at the first one)."""
    return next(iter_errors(value, schema, root, path), None) is None


def _object(value: dict, schema: dict, root: dict, path: tuple) -> Iterator[tuple[tuple, str]]:
    for key in schema.get("required", []):
        if key not in value:
            yield path, f"{key!r} is a required property"
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        yield path, f"{value!r:.80} should have at least {schema['minProperties']} properties"
    props = schema.get("properties", {})
    for key, sub in props.items():
        if key in value:
            yield from iter_errors(value[key], sub, root, (*path, key))
    if "additionalProperties" in schema:
        extra = [k for k in value if k not in props]
        if schema["additionalProperties"] is False and extra:
            yield path, f"additional properties are not allowed ({', '.join(map(repr, extra))} unexpected)"
        elif isinstance(schema["additionalProperties"], dict):
            for k in extra:
                yield from iter_errors(value[k], schema["additionalProperties"], root, (*path, k))
    if "propertyNames" in schema:
        for k in value:
            yield from iter_errors(k, schema["propertyNames"], root, path)  # at the object, as jsonschema
