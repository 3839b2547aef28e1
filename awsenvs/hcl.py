"""Terraform JSON (what CDK Terrain synthesizes) to HCL, for review and VCS-driven runs.

The JSON syntax does not say which keys are nested blocks and which are attributes holding
lists of objects; HCL does, so the conversion reads the provider's schema
(`terraform providers schema -json`).  Strings that are a single interpolation become bare
expressions (`parent_id = aws_organizations_organizational_unit.shop.id`); the output is
then passed through `terraform fmt`.
"""

from __future__ import annotations

import json
import re
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Meta-arguments whose values are references, written bare in HCL.
_REFERENCE_LISTS = {"depends_on", "ignore_changes", "replace_triggered_by"}
_META_BLOCKS = {"lifecycle", "provisioner", "connection"}
# Blocks nested in meta blocks: `lifecycle { postcondition { ... } }`.
_META_SCHEMAS = {"lifecycle": {"block_types": {"precondition": {}, "postcondition": {}}}}


class Expression(str):
    """HCL to write as it is (`[for g in keys(var.groups) : g]`), never quoted as a string."""


def expression(value: Any) -> str:
    """A Python value (dicts, lists, strings, Expressions) as one HCL expression.

    For `"${jsonencode(...)}"` attributes of the exported modules: string literals keep
    their templates (`${data.x.id}`, the `$${aws:username}` escape), Expressions stay bare.
    """
    return _value(value, 0)


class Schemas:
    """Which keys are nested blocks, per provider / resource / data source (from the schema JSON)."""

    def __init__(self, providers_schema: dict) -> None:
        self._blocks: dict[tuple[str, str], dict] = {}
        for source, schema in providers_schema.get("provider_schemas", {}).items():
            name = source.rsplit("/", 1)[-1]
            self._blocks[("provider", name)] = schema.get("provider", {}).get("block", {})
            for kind, key in (("resource", "resource_schemas"), ("data", "data_source_schemas")):
                for type_, item in schema.get(key, {}).items():
                    self._blocks[(kind, type_)] = item.get("block", {})

    def block(self, kind: str, type_: str) -> dict:
        return self._blocks.get((kind, type_), {})


def to_hcl(document: dict, schemas: Schemas) -> str:
    out: list[str] = []
    for key, value in document.items():
        if key == "//":
            continue
        if key == "terraform":
            out.append(_block(["terraform"], value, _terraform_schema(value)))
        elif key == "provider":
            for name, configs in value.items():
                for config in configs if isinstance(configs, list) else [configs]:
                    out.append(_block(["provider", _quote(name)], config, schemas.block("provider", name)))
        elif key in ("resource", "data"):
            for type_, items in value.items():
                for name, body in items.items():
                    out.append(_block([key, _quote(type_), _quote(name)], body, schemas.block(key, type_)))
        elif key == "variable":
            for name, body in value.items():
                body = dict(body)
                if "type" in body:  # a type constraint is an expression, not a string
                    body["type"] = "${" + body["type"] + "}"
                out.append(_block(["variable", _quote(name)], body, {"block_types": {"validation": {}}}))
        elif key == "locals":
            out.append(_block(["locals"], value, {}))
        elif key in ("output", "module"):
            for name, body in value.items():
                out.append(_block([key, _quote(name)], body, {}))
        elif key in ("import", "moved"):
            for body in value:
                body = {k: ("${" + v + "}" if k in ("to", "from") else v) for k, v in body.items()}
                out.append(_block([key], body, {}))
        else:
            raise ValueError(f"cannot convert top-level {key!r} to HCL")
    return "\n".join(out)


def _terraform_schema(value: dict) -> dict:
    blocks = {"required_providers": {}, "backend": {"labelled": True}, "cloud": {"block": {"block_types": {"workspaces": {}}}}}
    return {"block_types": blocks}


def _block(labels: list[str], body: dict, schema: dict, indent: int = 0) -> str:
    pad = "  " * indent
    lines = [f"{pad}{' '.join(labels)} {{"]
    block_types = schema.get("block_types", {})
    for key, value in body.items():
        if key == "//":
            continue
        if key in block_types or key in _META_BLOCKS:
            nested = block_types.get(key) or {"block": _META_SCHEMAS.get(key, {})}
            if nested.get("labelled"):  # backend "local" { ... }
                for label, inner in value.items():
                    lines.append(_block([key, _quote(label)], inner, {}, indent + 1))
            elif key == "required_providers":
                lines.append(_block([key], value, {}, indent + 1))
            else:
                for item in value if isinstance(value, list) else [value]:
                    lines.append(_block([key], item, nested.get("block", {}), indent + 1))
        elif key in _REFERENCE_LISTS:
            refs = ", ".join(v[2:-1] if v.startswith("${") else v for v in value)
            lines.append(f"{pad}  {key} = [{refs}]")
        else:
            lines.append(f"{pad}  {_key(key)} = {_value(value, indent + 1)}")
    lines.append(f"{pad}}}")
    return "\n".join(lines) + "\n"


def _value(value: Any, indent: int) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, Expression):
        return str(value)
    if isinstance(value, str):
        if value.startswith("${") and _interpolation_end(value, 0) == len(value):
            return value[2:-1]
        return _quote(value)
    pad = "  " * indent
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "".join(f"{pad}  {_value(v, indent + 1)},\n" for v in value) + f"{pad}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{\n" + "".join(f"{pad}  {_key(k)} = {_value(v, indent + 1)}\n" for k, v in value.items()) + f"{pad}}}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _key(key: str) -> str:
    return key if _IDENT.match(key) else _quote(key)


def _quote(text: str) -> str:
    # JSON string escapes are valid HCL string escapes; ${ and %{ keep their template meaning
    # in both syntaxes, so they pass through unchanged.
    return json.dumps(text, ensure_ascii=False)


def _interpolation_end(text: str, start: int) -> int:
    """The index just after the `}` closing the `${` at `start` (-1 if it never closes).

    Braces inside the expression's own string literals (and their templates) do not count,
    so `${jsonencode({"a" = "${var.x}"})}` is one interpolation and becomes a bare expression.
    """
    depth, i = 1, start + 2
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _string_end(text, i)
            if i < 0:
                return -1
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _string_end(text: str, start: int) -> int:
    """The index just after the `"` closing the string literal opened at `start` (-1 if none)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        elif text.startswith("$${", i):  # an escaped, literal ${
            i += 3
        elif text.startswith("${", i):
            i = _interpolation_end(text, i)
            if i < 0:
                return -1
        else:
            i += 1
    return -1
