"""A validator for the subset of JSON Schema (draft 2020-12) that models/model_card.schema.json uses:
type, const, enum, minimum, maximum, exclusiveMinimum, minLength, pattern, required, properties,
additionalProperties, items, minItems, maxItems and local `$ref`s into `$defs`. Any other keyword
is refused, so the schema cannot silently say more than this checks."""

from __future__ import annotations

import math
import re

KEYWORDS = {"$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "type", "const", "enum", "minimum",
            "maximum", "exclusiveMinimum", "minLength", "pattern", "required", "properties", "additionalProperties", "items",
            "minItems", "maxItems"}


def _is_type(v, t: str) -> bool:
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "null":
        return v is None
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)  # 1.0 is no integer here: serde refuses it for an integer field
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    raise ValueError(f"unsupported type {t!r}")


def _resolve(ref: str, root: dict) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors(instance, schema: dict, root: dict | None = None, path: str = "$") -> list[str]:
    """Every place where `instance` breaks `schema`, as 'path: reason'."""
    root = schema if root is None else root
    unknown = set(schema) - KEYWORDS
    if unknown:
        raise ValueError(f"{path}: schema keywords this validator does not implement: {sorted(unknown)}")
    if "$ref" in schema:
        return errors(instance, _resolve(schema["$ref"], root), root, path)
    out = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(instance, t) for t in types):
            return [f"{path}: expected {' or '.join(types)}, got {type(instance).__name__} {instance!r:.60}"]
    if "const" in schema and instance != schema["const"]:
        out.append(f"{path}: must be {schema['const']!r}, got {instance!r:.60}")
    if "enum" in schema and instance not in schema["enum"]:
        out.append(f"{path}: must be one of {schema['enum']!r}, got {instance!r:.60}")
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            out.append(f"{path}: must be >= {schema['minimum']}, got {instance}")
        if "maximum" in schema and instance > schema["maximum"]:
            out.append(f"{path}: must be <= {schema['maximum']}, got {instance}")
        if "exclusiveMinimum" in schema and instance <= schema["exclusiveMinimum"]:
            out.append(f"{path}: must be > {schema['exclusiveMinimum']}, got {instance}")
    if isinstance(instance, str):
        if "minLength" in schema and len(instance) < schema["minLength"]:
            out.append(f"{path}: must have at least {schema['minLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            out.append(f"{path}: must match {schema['pattern']!r}, got {instance!r:.60}")
    if isinstance(instance, dict):
        out += [f"{path}: missing required key {k!r}" for k in schema.get("required", []) if k not in instance]
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, v in instance.items():
            if k in props:
                out += errors(v, props[k], root, f"{path}.{k}")
            elif extra is False:
                out.append(f"{path}: key {k!r} is not in the schema")
            elif isinstance(extra, dict):
                out += errors(v, extra, root, f"{path}.{k}")
    if isinstance(instance, list):
        if "minItems" in schema and len(instance) < schema["minItems"]:
            out.append(f"{path}: must have at least {schema['minItems']} items, got {len(instance)}")
        if "maxItems" in schema and len(instance) > schema["maxItems"]:
            out.append(f"{path}: must have at most {schema['maxItems']} items, got {len(instance)}")
        if "items" in schema:
            for i, v in enumerate(instance):
                out += errors(v, schema["items"], root, f"{path}[{i}]")
    return out


def unsupported_keywords(schema: dict, path: str = "#") -> list[str]:
    """Keywords anywhere in `schema` that this validator does not implement (empty: all are)."""
    out = [f"{path}/{k}" for k in schema if k not in KEYWORDS]
    subs = [(f"{path}/properties/{k}", v) for k, v in schema.get("properties", {}).items()]
    subs += [(f"{path}/$defs/{k}", v) for k, v in schema.get("$defs", {}).items()]
    subs += [(f"{path}/{k}", schema[k]) for k in ("items", "additionalProperties") if isinstance(schema.get(k), dict)]
    for p, sub in subs:
        out += unsupported_keywords(sub, p)
    return out
