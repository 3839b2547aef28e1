"""The GitHub Actions workflows `ci github` writes: plan on pull requests, apply on the
default branch, drift on a schedule (templates/github/*.yml.j2).

A workflow file is made of awsenvs' blocks, each between two marker comments:

    # >>> awsenvs: NAME (managed by `awsenvs ci github`; edits inside are replaced) sha256=0123456789ab
    ...
    # <<< awsenvs: NAME

and of whatever the team adds outside them (steps between or after the step blocks, keys of
`env:` or `on:` after theirs, jobs after the last).  There is a block per top-level key and
per group of steps, each ending at the indentation its YAML mapping or list goes on at, so
such additions stay valid YAML.  The opening marker records a short hash of the text awsenvs
wrote inside: rewriting the files replaces the blocks, keeps everything else, and refuses a
block whose text no longer matches its hash (edited by hand), unless forced.

`render` (org -> {path: text}) and `merge` (existing text + generated text) are pure;
`prepare` reads the files and `write` writes them (each to a temp file, then renamed).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.metadata
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import jinja2

from awsenvs import TEMPLATES
from awsenvs.config import CI_APPLY_SESSION_SECONDS, Org

WORKFLOWS_DIR = PurePosixPath(".github/workflows")
# Each file and its template (templates/github/).
WORKFLOWS = {name: f"github/{name}.j2" for name in ("awsenvs-plan.yml", "awsenvs-apply.yml", "awsenvs-drift.yml")}

# The Terraform release the jobs install: the one this release of awsenvs is tested with
# (docs/state.md), newer than every stack's required_version (awsenvs/stacks.py: the S3
# backend's lock file needs 1.10).
TERRAFORM_VERSION = "1.11.4"
PYTHON_VERSION = "3.11"
# Terraform reads a Terraform Cloud / Enterprise token for HOST from TF_TOKEN_<HOST>, dots as
# '_' and hyphens as '__' (https://developer.hashicorp.com/terraform/cli/config/config-file#environment-variable-credentials).
TF_API_TOKEN_SECRET = "TF_API_TOKEN"

BEGIN = "# >>> awsenvs: "
END = "# <<< awsenvs: "
OWNED = "(managed by `awsenvs ci github`; edits inside are replaced)"
_BEGIN_RE = re.compile(r"^[ \t]*# >>> awsenvs: (?P<name>[A-Za-z0-9_.-]+)(?P<rest>.*?)[ \t]*\r?\n?$")
_END_RE = re.compile(r"^[ \t]*# <<< awsenvs: (?P<name>[A-Za-z0-9_.-]+)[ \t]*\r?\n?$")
_DIGEST_RE = re.compile(r" sha256=(?P<digest>[0-9a-f]{12})$")


class MarkerError(ValueError):
    """The marker comments of a file do not pair up (a block opened twice, never closed, ...)."""


@dataclass(frozen=True)
class Block:
    name: str
    body: str  # the lines between the markers, each with its newline
    digest: str | None = None  # the hash its opening marker records (None: none readable)

    @property
    def edited(self) -> bool:
        """Its text is not what awsenvs wrote there (by the hash awsenvs wrote beside it)."""
        return self.digest != digest(self.body)

    def text(self) -> str:
        return f"{BEGIN}{self.name} {OWNED} sha256={digest(self.body)}\n{self.body}{END}{self.name}\n"


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:12]


def parse(text: str) -> list[str | Block]:
    """A file as its parts, in order: the text outside the blocks (str) and the blocks."""
    parts: list[str | Block] = []
    outside: list[str] = []
    opened: tuple[str, str | None, int] | None = None  # name, digest, line number
    inside: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        begin, end = _BEGIN_RE.match(line), _END_RE.match(line)
        if begin:
            name = begin["name"]
            if opened is not None:
                raise MarkerError(f"line {number}: block {name!r} opens inside block {opened[0]!r} (opened on line "
                                  f"{opened[2]}, never closed)")
            if name in seen:
                raise MarkerError(f"line {number}: block {name!r} appears twice")
            recorded = _DIGEST_RE.search(begin["rest"])
            opened, inside = (name, recorded["digest"] if recorded else None, number), []
            if outside:
                parts.append("".join(outside))
                outside = []
        elif end:
            if opened is None or end["name"] != opened[0]:
                where = f"block {opened[0]!r} is open" if opened else "no block is open"
                raise MarkerError(f"line {number}: closes block {end['name']!r} but {where}")
            parts.append(Block(opened[0], "".join(inside), opened[1]))
            seen.add(opened[0])
            opened = None
        elif opened is not None:
            inside.append(line)
        else:
            outside.append(line)
    if opened is not None:
        raise MarkerError(f"line {opened[2]}: block {opened[0]!r} is never closed ('{END}{opened[0]}')")
    if outside:
        parts.append("".join(outside))
    return parts


def blocks(parts: list[str | Block]) -> list[Block]:
    return [part for part in parts if isinstance(part, Block)]


def join(parts: list[str | Block]) -> str:
    return "".join(part.text() if isinstance(part, Block) else part for part in parts)


# --- rendering ---------------------------------------------------------------------------

def awsenvs_version() -> str:
    return importlib.metadata.version("awsenvs")


def tf_token_variable(hostname: str) -> str:
    """The environment variable Terraform reads HOST's API token from."""
    return "TF_TOKEN_" + hostname.replace("-", "__").replace(".", "_")


def _yaml(value: object) -> str:
    """A YAML scalar (JSON's double-quoted strings are YAML's)."""
    return json.dumps(value, ensure_ascii=False)


def _expression_string(value: str) -> str:
    """A string literal of a GitHub Actions expression (single quotes, a quote doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False,
    )
    environment.filters["yaml"] = _yaml
    environment.filters["sq"] = _expression_string
    return environment


def render(org: Org, config: PurePosixPath, version: str | None = None) -> dict[PurePosixPath, str]:
    """The workflow files (paths relative to the repository root) of `org`, whose org.yaml is
    at `config` in the repository.  org.github and org.management_account_id are set."""
    github = org.github
    assert github is not None and org.management_account_id is not None
    cloud = org.state.cloud if org.state.backend == "cloud" else None
    context = {
        "org": org,
        "github": github,
        "config": str(config),
        "version": version or awsenvs_version(),
        "terraform_version": TERRAFORM_VERSION,
        "python_version": PYTHON_VERSION,
        "plan_role": github.role_arn(org.management_account_id, github.plan_role_name),
        "apply_role": github.role_arn(org.management_account_id, github.apply_role_name),
        "apply_session_seconds": CI_APPLY_SESSION_SECONDS,
        "tf_token": (tf_token_variable(cloud.hostname), TF_API_TOKEN_SECRET, cloud.hostname) if cloud else None,
        "workflows_glob": str(WORKFLOWS_DIR / "awsenvs-*.yml"),
    }
    templates = _templates()
    return {WORKFLOWS_DIR / name: seal(templates.get_template(template).render(**context))
            for name, template in WORKFLOWS.items()}


def seal(text: str) -> str:
    """A rendered template with each opening marker completed: owner and hash of its block."""
    return join(parse(text))


# --- merging with what is there --------------------------------------------------------

@dataclass(frozen=True)
class Edited:
    """A block edited by hand that a write would replace (or drop): its unified diff."""

    name: str
    diff: str


@dataclass(frozen=True)
class Merged:
    text: str
    edited: tuple[Edited, ...] = ()  # blocks edited by hand that `text` replaces
    refusal: str | None = None  # why the file cannot be merged at all (no markers, broken markers)


def merge(existing: str | None, generated: str, label: str = "workflow") -> Merged:
    """`generated` (awsenvs' blocks only) merged into the `existing` file: each of its blocks
    replaced by the generated one, a block awsenvs no longer writes dropped, a new one put
    after the block it follows in `generated`; the text outside the blocks kept as it is."""
    if existing is None:
        return Merged(generated)
    new = {block.name: block for block in blocks(parse(generated))}
    order = list(new)
    try:
        parts = parse(existing)
    except MarkerError as exc:
        return Merged(generated, refusal=f"its awsenvs markers are broken ({exc})")
    if not blocks(parts):
        return Merged(generated, refusal="it has no awsenvs blocks (not written by `ci github`)")
    edited: list[Edited] = []
    merged: list[str | Block] = []
    for part in parts:
        if not isinstance(part, Block):
            merged.append(part)
            continue
        replacement = new.get(part.name)
        if part.edited and (replacement is None or replacement.body != part.body):
            edited.append(Edited(part.name, _diff(part, replacement, label)))
        if replacement is not None:
            merged.append(replacement)
    for index, name in enumerate(order):
        present = [part.name for part in blocks(merged)]
        if name in present:
            continue
        before = next((n for n in reversed(order[:index]) if n in present), None)
        if before is None:  # before every block there is
            at = merged.index(blocks(merged)[0]) if blocks(merged) else len(merged)
        else:
            at = next(i for i, part in enumerate(merged) if isinstance(part, Block) and part.name == before) + 1
        merged.insert(at, new[name])
    return Merged(join(merged), tuple(edited))


def _diff(old: Block, new: Block | None, label: str) -> str:
    return "".join(difflib.unified_diff(
        old.body.splitlines(keepends=True), (new.body if new else "").splitlines(keepends=True),
        f"{label}: block {old.name} (as edited)", f"{label}: block {old.name} (as awsenvs writes it)"))


def file_diff(existing: str | None, text: str, label: str) -> str:
    return "".join(difflib.unified_diff((existing or "").splitlines(keepends=True), text.splitlines(keepends=True),
                                        label if existing is not None else "/dev/null", label))


# --- the files -------------------------------------------------------------------------

def repository_root(config: Path) -> Path | None:
    """The git repository (work tree) org.yaml is in: the nearest folder up with a .git."""
    for folder in Path(config).resolve().parents:
        if (folder / ".git").exists():
            return folder
    return None


@dataclass(frozen=True)
class Change:
    path: Path
    existing: str | None
    merged: Merged

    @property
    def changed(self) -> bool:
        return self.merged.text != self.existing

    def diff(self, root: Path) -> str:
        return file_diff(self.existing, self.merged.text, str(self.path.relative_to(root)))


def prepare(root: Path, files: dict[PurePosixPath, str]) -> list[Change]:
    """What writing `files` under `root` would do to each file (nothing is written)."""
    changes = []
    for relative, text in files.items():
        path = root / relative
        existing = path.read_text(encoding="utf-8") if path.exists() else None
        changes.append(Change(path, existing, merge(existing, text, str(relative))))
    return changes


def refusal(changes: list[Change], root: Path) -> str | None:
    """Why writing `changes` needs --force, in one line (None: it does not): a file awsenvs did
    not write, or whose markers are broken, or blocks edited by hand (their diffs: Edited)."""
    refused = [c for c in changes if c.merged.refusal or c.merged.edited]
    if not refused:
        return None
    first = refused[0]
    more = f" (and {len(refused) - 1} more file{'s' if len(refused) > 2 else ''})" if len(refused) > 1 else ""
    if first.merged.refusal:
        why, remedy = first.merged.refusal, "move or rename it, or run again with --force to replace it"
    else:
        names = [e.name for e in first.merged.edited]
        why = f"{'blocks' if len(names) > 1 else 'block'} {', '.join(names)} edited by hand (diff above)"
        remedy = "move your edits outside awsenvs' blocks, or run again with --force to overwrite them"
    return f"{first.path.relative_to(root)}{more}: {why}; nothing was written: {remedy}"


def next_steps(org: Org) -> str:
    """What to do once the workflows are written: what GitHub needs that no file can hold."""
    github = org.github
    assert github is not None
    secret = (f"; add the repository secret {TF_API_TOKEN_SECRET} (a team token of the Terraform Cloud organization)"
              if org.state.backend == "cloud" else "")
    return (f"Next: commit .github/workflows; in {github.repository}'s Settings > Environments, create "
            f"{github.environment} and {github.protected_environment} (required reviewers), both limited to the "
            f"{github.default_branch} branch{secret} (docs/ci.md)")


def write(changes: list[Change]) -> None:
    """Each changed file written whole: to a temp file beside it, then renamed over it."""
    from awsenvs.profiles import atomic_write

    for change in changes:
        if change.changed:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(change.path, change.merged.text, mode=0o644)  # the repository's: read by all who clone it
