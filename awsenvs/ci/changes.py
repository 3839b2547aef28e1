"""Which stacks a pull request changes: the ones a plan on the pull request needs.

A stack is synthesized from its part of org.yaml (synth.stack_inputs) and from awsenvs'
code.  So, against the base branch:

- org.yaml as the base branch has it is read from git (`git show BASE:<path>`) and parsed
  as if it were at the same path (its state folder and every derived name the same);
- a stack changes when its inputs differ, when it is new, or, for the management stack,
  when an environment left org.yaml (retiring it is the management stack's run);
- when the code changed too (CODE_FILES: awsenvs' own sources, its pin in the workflows or
  the project's requirements), every stack is planned: the same org.yaml may synthesize
  to something else.  Without a base org.yaml (the pull request adds it, or the base's does
  not load), every stack is planned as well.

The stacks a pull request does not change are neither synthesized by it nor planned; the
nightly drift check (`ci drift`) and the apply on merge look at every stack.
"""

from __future__ import annotations

import fnmatch
import subprocess
from dataclasses import dataclass
from pathlib import Path

from awsenvs.config import MANAGEMENT_STACK, ConfigError, Org, parse
from awsenvs.errors import BadInput
from awsenvs.synth import stack_inputs

# Paths (relative to the repository root, fnmatch patterns) whose change may change what
# the same org.yaml synthesizes to.
CODE_FILES = ("awsenvs/*", "main.py", "pyproject.toml", "setup.cfg", "requirements*.txt", "constraints*.txt",
              ".github/workflows/awsenvs-*.yml")


@dataclass(frozen=True)
class Changes:
    stacks: tuple[str, ...]  # in org.stacks' order
    why: str  # one line for people: why these stacks


def changed_stacks(head: Org, base: Org | None, code_files: tuple[str, ...] = (), base_problem: str = "") -> Changes:
    """The stacks of `head` that differ from `base` (pure: see the module doc)."""
    if code_files:
        shown = ", ".join(code_files[:3]) + (f" and {len(code_files) - 3} more" if len(code_files) > 3 else "")
        return Changes(head.stacks, f"the code changed ({shown}): every stack is planned")
    if base is None:
        return Changes(head.stacks, f"{base_problem or 'the base branch has no org.yaml'}: every stack is planned")
    before = {stack: stack_inputs(base, stack) for stack in base.stacks}
    changed = [stack for stack in head.stacks if before.get(stack) != stack_inputs(head, stack)]
    removed = [stack for stack in base.stacks if stack not in head.stacks]
    if removed and MANAGEMENT_STACK not in changed:
        changed.insert(0, MANAGEMENT_STACK)  # it retires them
    stacks = tuple(s for s in head.stacks if s in changed)
    if not stacks:
        return Changes((), "org.yaml changes no stack")
    unchanged = len(head.stacks) - len(stacks)
    gone = f"; retired: {', '.join(removed)}" if removed else ""
    return Changes(stacks, f"org.yaml changes {len(stacks)} of {len(head.stacks)} stacks "
                           f"({unchanged} unchanged, not planned){gone}")


def pull_request_changes(head: Org, base_sha: str) -> Changes:
    """changed_stacks against `base_sha` in the git repository that holds org.yaml."""
    config = head.source.resolve()
    root = Path(_git(config.parent, "rev-parse", "--show-toplevel").strip())
    relative = config.relative_to(root).as_posix()
    changed_files = _git(root, "diff", "--name-only", base_sha, "HEAD").splitlines()
    code = tuple(f for f in changed_files if any(fnmatch.fnmatch(f, pattern) for pattern in CODE_FILES))
    if code:
        return changed_stacks(head, None, code)
    try:
        text = _git(root, "show", f"{base_sha}:{relative}")
    except BadInput:
        return changed_stacks(head, None, base_problem=f"the base branch ({base_sha[:12]}) has no {relative}")
    try:
        base = parse(text, head.source)
    except ConfigError as exc:
        return changed_stacks(head, None, base_problem=f"the base branch's {relative} does not load "
                                                        f"({str(exc).splitlines()[0]})")
    return changed_stacks(head, base)


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BadInput(f"git {' '.join(args)}: {proc.stderr.strip() or 'failed'} (the pull request's job checks out "
                       "the repository with its history: actions/checkout with fetch-depth: 0)")
    return proc.stdout
