"""Reading org.yaml: YAML without duplicate keys, validation, and one-line error wording."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from awsenvs.config.derive import _derive
from awsenvs.config.errors import ConfigError
from awsenvs.config.model import Org
from awsenvs.config.schema import OrgSpec


# --------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which plain YAML silently overwrites."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(path: str | Path = "org.yaml") -> Org:
    """Read, validate and derive; raises ConfigError with a one-line message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (create it, or pass --config PATH / ORG=PATH)") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse(text, path)


def parse(text: str, path: Path = Path("org.yaml")) -> Org:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{path}: YAML error at {where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML error: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with organization, groups and products at the top")
    try:
        spec = OrgSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError.of(_errors(exc, path)) from None
    return _derive(spec, path)


def _errors(exc: ValidationError, path: Path) -> list[str]:
    """Every schema problem, one line each: `org.yaml: products.x.mfa: ...`.  A field of a
    union (`users:` a map or a list) fails once per branch: its first failure is kept.  A
    misspelt key also makes its correct spelling "missing": only the typo is named."""
    lines: dict[str, str] = {}
    suggested: set[str] = set()  # locations of the keys a typo's "did you mean" names
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    for err in errors:
        parts = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "list[", "dict[", "nullable["))]
        loc = ".".join(parts)
        kind = err["type"]
        if kind == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), _known_keys(err["loc"]), n=1)
            if close:
                suggested.add(".".join([*parts[:-1], close[0]]))
            hint = f"did you mean {close[0]!r}?" if close else "check the spelling; see docs/org-yaml.md"
            message = f"unknown key ({hint})"
        elif kind == "missing":
            if loc in suggested:
                continue
            message = "required, but missing"
        elif kind == "literal_error":
            message = f"{err['input']!r} is not allowed: use {err['ctx']['expected']}"
        elif kind == "value_error":
            message = str(err["ctx"]["error"])
        else:
            message = f"{err['msg']} (got {err['input']!r})"
        lines.setdefault(loc, f"{path.name}: {loc or '<top>'}: {message}")
    return list(lines.values())


def _known_keys(loc: tuple) -> list[str]:
    """The keys org.yaml allows beside the last element of `loc` (for "did you mean")."""
    model: type[BaseModel] = OrgSpec
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        if field is not None:  # otherwise a name (product, user, ...) or a union branch
            model = _spec_in(field.annotation) or model
    return list(model.model_fields)


def _spec_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_spec_in, get_args(annotation)) if m), None)
