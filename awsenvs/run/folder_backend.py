"""The state backend a stack's folder is initialized on, against the one its config names.

Terraform records the backend it last initialized a folder on in `.terraform/terraform.tfstate`
(`backend.type` and `backend.config`), and a plan in a folder whose config names another one
stops at "Backend configuration changed".  awsenvs changes a folder's backend in two ways of
its own: `bootstrap` initializes each folder on the remote backend it moves the state into,
and an operator who gives a move up sets `state.backend` back to local.  This decides, for
the local backend, when a folder may simply take it (`terraform init -reconfigure`: nothing
migrated) and refuses in one line where that would start from an empty state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

from awsenvs.terraform import TerraformError


def recorded_backend(directory: Path) -> dict | None:
    """The backend terraform last initialized this folder on ({"type", "config"}), if any."""
    try:
        return json.loads((directory / ".terraform" / "terraform.tfstate").read_text()).get("backend") or None
    except (OSError, json.JSONDecodeError):
        return None


def configured_backend(document: dict) -> tuple[str, dict]:
    """(type, config) of the backend a synthesized stack names (`cloud` for a cloud block)."""
    terraform = document.get("terraform") or {}
    if "cloud" in terraform:
        return "cloud", terraform["cloud"]
    [(kind, config)] = (terraform.get("backend") or {"local": {}}).items()
    return kind, config


def initialized_elsewhere(directory: Path, document: dict) -> bool:
    """Whether the folder was last initialized on another backend than its config names
    (another type, or the local backend at another path): its init is out of date whatever
    the record of awsenvs' own last init says."""
    recorded = recorded_backend(directory)
    if recorded is None:
        return False
    kind, config = configured_backend(document)
    if recorded.get("type") != kind:
        return True
    return kind == "local" and _local_path(directory, recorded.get("config") or {}) != _local_path(directory, config)


def takes_local_backend(stack: str, directory: Path, document: dict) -> bool:
    """With the local backend configured, in a folder initialized on another one: True when
    the stack's local state file is there (a move given up before it finished, or never
    begun for this stack: that file is the stack's state), so the folder takes the local
    backend as it is.  Without that file the state, if any, is where the folder was (bootstrap
    moved it): refused, naming the way back (that backend is not read here: it may be the
    one that cannot be reached).  False when there is nothing to switch."""
    kind, config = configured_backend(document)
    if kind != "local" or not initialized_elsewhere(directory, document):
        return False
    state_file = _local_path(directory, config)
    if state_file.is_file():
        return True
    recorded = recorded_backend(directory) or {}
    raise TerraformError(
        f"state.backend is local, but {stack} has no state file {state_file}, and its folder was last initialized on "
        f"{_described(directory, recorded)}: its state is there, if it has one (bootstrap moves states there); "
        f"planning now would start from an empty state: set state back as it was in org.yaml, or bring the state "
        f"over with `terraform init -migrate-state` in {directory}")


def local_state_elsewhere(folders: Iterable[tuple[Path, Path]]) -> Path | None:
    """Of (stack folder, the state file org.yaml names for it) pairs, with the local backend:
    when not one of those state files exists, but a folder was last initialized on the
    local backend at another state file that does, that file's folder.  Those runs kept
    their state elsewhere (another org.yaml's: a copy of org.yaml in another folder, or
    state.path or organization.name changed since), so a plan from here would start from
    nothing."""
    folders = list(folders)
    if any(state_file.is_file() for _, state_file in folders):
        return None
    for directory, state_file in folders:
        recorded = recorded_backend(directory) or {}
        if recorded.get("type") != "local":
            continue
        used = _local_path(directory, recorded.get("config") or {})
        if used != state_file.resolve() and used.is_file():
            return used.parent
    return None


def _local_path(directory: Path, config: dict) -> Path:
    return (directory / (config.get("path") or "terraform.tfstate")).resolve()


def _described(directory: Path, recorded: dict) -> str:
    kind, config = recorded.get("type"), recorded.get("config") or {}
    if kind == "s3":
        return f"the s3 backend (s3://{config.get('bucket')}/{config.get('key')})"
    if kind == "cloud":
        return f"Terraform Cloud (organization {config.get('organization')})"
    if kind == "local":
        return f"the local backend at {_local_path(directory, config)}"
    return f"the {kind} backend"
