"""The record of grants of eligible groups (`elevations.json`, beside the state: awsenvs.elevation
keeps it): its text read as the model's `Grant`s, and written back whole.  The verbs that
synthesize read it (cli/common.load_org) so that every one sees the same active grants, and
an account stack is synthesized from its environment's (an expired grant leaves its inputs,
so the next plan removes it: synth.stack_inputs)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from awsenvs.config.errors import ConfigError
from awsenvs.config.model import Grant, iso_time

RECORD_VERSION = 1
_FIELDS = ("id", "stack", "user", "group", "since", "until", "requester", "reason", "approver", "revoked", "revoker")


def read_grants(path: Path) -> tuple[Grant, ...]:
    """Every grant and request the record file holds (none when there is no record yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the record of grants ({exc}): restore it from its backup "
                          f"{path.name}.bak beside it, or remove it to drop every grant") from None
    return parse_grants(text, str(path), f"restore it from its backup {path.name}.bak beside it")


def parse_grants(text: str, where: str, restore: str) -> tuple[Grant, ...]:
    """The record's text (`where`: its file or object, `restore`: how to get a good one back)."""
    try:
        return tuple(_grant(entry) for entry in json.loads(text)["grants"])
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: cannot read the record of grants ({exc}): {restore}, or remove it to drop "
                          "every grant") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: not a record of grants awsenvs wrote ({exc!r} is wrong): {restore}, or remove "
                          "it to drop every grant") from None


def grants_text(grants: tuple[Grant, ...]) -> str:
    entries = [{key: _text(getattr(grant, key)) for key in _FIELDS} for grant in grants]
    return json.dumps({"version": RECORD_VERSION, "grants": entries}, indent=2) + "\n"


def _grant(entry: dict) -> Grant:
    values = {key: entry.get(key) for key in _FIELDS}
    for key in ("since", "until", "revoked"):
        if key != "revoked" or values[key] is not None:
            values[key] = datetime.fromisoformat(values[key]).astimezone(timezone.utc)
    for key in ("id", "stack", "user", "group", "requester", "reason"):
        if not isinstance(values[key], str):
            raise ValueError(key)
    return Grant(**values)


def _text(value):
    return iso_time(value) if isinstance(value, datetime) else value
