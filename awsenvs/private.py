"""Owner-only files for everything that can hold a secret.

Local Terraform state (and its backups) holds every initial console password that has no
`pgp_key`; saved plans and tfvars hold values of it too.  awsenvs creates them owner-only
(files 0600, folders 0700; terraform runs with umask 077, see awsenvs.terraform) and tightens ones it finds
looser, saying so in one line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE, DIR_MODE = 0o600, 0o700


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def readable_by_others(path: Path) -> bool:
    return path.exists() and bool(mode(path) & 0o077)


def tighten(path: Path) -> str | None:
    """Make an existing file or folder owner-only; a one-line note when it was looser."""
    if not readable_by_others(path):
        return None
    before = mode(path)
    wanted = DIR_MODE if path.is_dir() else FILE_MODE
    os.chmod(path, wanted)
    return f"tightened {path} from {before:04o} to {wanted:04o}: it can hold secrets"


def private_dir(path: Path) -> list[str]:
    """Create a folder owner-only (its parents as usual), or tighten it; returns notes."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    note = tighten(path)
    return [note] if note else []


def write_private(path: Path, text: str) -> None:
    """Write a file that is owner-only from its first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(text)


def state_files(directory: Path) -> list[Path]:
    """Local state files and their backups in a folder."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and ".tfstate" in p.name)
