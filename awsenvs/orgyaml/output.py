"""`import`'s file: checked before anything is read, read (snapshot.py) and rendered
(orgyaml), validated, then written atomically (a complete file or none), an existing one
backed up beside it."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError
from awsenvs.live.facts import LiveSnapshot
from awsenvs.orgyaml import Written, render
from awsenvs.orgyaml.snapshot import WORKERS, read_snapshot


class OutputExists(AwsenvsError):
    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class WrittenFile:
    """What `import` wrote: the text and its summary, and where it went."""
    written: Written
    path: Path | None  # None: printed (--output -)
    backup: Path | None


def check_output(output: str, force: bool) -> None:
    """Before anything is read: an existing file is never overwritten without --force."""
    if output != "-" and Path(output).exists() and not force:
        raise OutputExists(f"{output}: already exists; import writes a new org.yaml: choose another --output, "
                           "or pass --force to replace it (a backup is kept beside it)")


def write_output(written: Written, output: str) -> tuple[Path | None, Path | None]:
    """Write the file atomically (a complete file or none); an existing one is backed up first."""
    if output == "-":
        return None, None
    path = Path(output)
    backup = None
    if path.exists():
        backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
        shutil.copy2(path, backup)
    fd, temp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(written.text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path, backup


def _check_valid(written: Written, output: str) -> None:
    """What `import` writes must pass validate; if it does not, the draft has a bug, and
    nothing is written."""
    from awsenvs.config import ConfigError, parse

    try:
        parse(written.text, Path("org.yaml" if output == "-" else output))
    except ConfigError as exc:
        problems = str(exc).splitlines()
        more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
        raise AwsenvsError(f"import wrote an org.yaml that does not validate (a bug in awsenvs import, nothing was "
                           f"written; please report it with this line): {problems[0]}{more}") from None


def source_of(snapshot: LiveSnapshot) -> str:
    management = snapshot.organization.management
    return (f"organization {snapshot.organization.id} (management account {management.id if management else '?'}), "
            f"{time.strftime('%Y-%m-%d')}")


def write_org_yaml(region: str, role_name: str, output: str, workers: int = WORKERS, **progress) -> WrittenFile:
    """The live organization read, drafted as org.yaml, validated and written to `output` (- prints it)."""
    snapshot = read_snapshot(region, role_name, workers, **progress)
    written = render(snapshot, source_of(snapshot))
    _check_valid(written, output)
    path, backup = write_output(written, output)
    return WrittenFile(written, path, backup)
