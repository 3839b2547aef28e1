"""What happened to a stack: a status (an enum, not bare strings) and the result beside it.

The runner and the workflow produce these; the progress lines and summary tables only show
them (like Sceptre's `StackStatus` next to its launch results).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Sequence

from awsenvs.errors import shorten
from awsenvs.terraform import AttributeChange, PlanSummary, ResourceChange


class StackStatus(StrEnum):
    """The outcome of planning or applying one stack (the value is what people read)."""

    NO_CHANGES = "no changes"
    UNCHANGED = "unchanged"  # not planned: config, account id and state as at its last clean plan
    CHANGES = "changes"
    WAITING = "waiting for account"  # the management stack has not created its account yet
    RETIRE = "retire"  # removed from org.yaml: planned to leave state, account to the Suspended OU
    RETIRED = "retired"
    APPLIED = "applied"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # in flight at Ctrl-C: terraform stopped gracefully
    NOT_STARTED = "not started"  # still queued at Ctrl-C: nothing ran
    HELD = "held for review"  # CI: protected, left to the job in the reviewed GitHub environment

    @property
    def pending(self) -> bool:
        """Something is still to do (plan exits 2, like terraform's -detailed-exitcode)."""
        return self in (StackStatus.CHANGES, StackStatus.WAITING, StackStatus.RETIRE)


@dataclass(frozen=True)
class StackResult:
    stack: str
    status: StackStatus
    account_id: str | None = None
    summary: PlanSummary | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()  # one line each: what is imported and why, what is retired
    risks: tuple[str, ...] = ()  # changes people rely on (an alias): need the typed confirmation
    touches: tuple[str, ...] = ()  # other stacks whose protection this plan's changes fall under
    since: str | None = None  # UNCHANGED: when its last clean plan ran (shown as "unchanged since <since>")
    # Each resource the plan changes (WAITING: the resources the new account's stack will create).
    changes: tuple[ResourceChange, ...] = ()
    # FAILED only because these resources' creates met objects that exist (see terraform.existing_objects).
    existed: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.status is StackStatus.FAILED


def counts_text(summary: PlanSummary | None) -> str:
    """`+1 ~2 -0 import 3 forget 1`: a plan's counts on one line."""
    if summary is None:
        return ""
    text = f"+{summary.add} ~{summary.change} -{summary.destroy}"
    text += f" import {summary.imports}" if summary.imports else ""
    return text + (f" forget {summary.forget}" if summary.forget else "")


def names_text(names, shown: int = 10) -> str:
    """`a, b, c, … (190 more)`: a list of stacks that stays one readable line."""
    names = list(names)
    text = ", ".join(names[:shown])
    return text + (f", … ({len(names) - shown} more)" if len(names) > shown else "")


def notes_of(results: list[StackResult]) -> list[str]:
    """The one-line notes and risks under a summary table, `stack: note`."""
    return [f"{r.stack}: {line}" for r in results for line in (*r.risks, *r.notes)]


CHANGE_SYMBOLS = {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "forget": ">", "import": "="}  # import: arrives as it is; forget: leaves state
_CHANGE_WORDS = {"delete": "destroy"}  # as the summary's column and terraform's own plan say it
# What to look at first: what is lost, then what changes, then what is added.
_CHANGE_ORDER = {"replace": 0, "delete": 1, "update": 2, "create": 3, "import": 4, "forget": 5}
CHANGES_SHOWN = 5  # per stack, in plan and apply output; --detail shows all


def change_lines(changes: tuple[ResourceChange, ...], detail: bool = False) -> list[str]:
    """`  + create   aws_iam_user.alice` per change, replacements and deletions first, the
    first CHANGES_SHOWN unless `detail`, then `  … and 12 more (--detail lists them)`."""
    changes = tuple(sorted(changes, key=lambda c: (_CHANGE_ORDER.get(c.action, 9), c.address)))
    shown = changes if detail else changes[:CHANGES_SHOWN]
    lines = []
    for change in shown:
        action = change.action
        word = _CHANGE_WORDS.get(action, action)
        verb = f"{word} (import)" if change.importing and action != "import" else word
        lines.append(f"  {CHANGE_SYMBOLS.get(action, '?'):>6} {verb:<16} {change.address}")
        lines += [f"{ATTRIBUTE_INDENT}{line}" for attribute in change.attributes
                  for line in attribute_lines(attribute, detail)]
    if len(changes) > len(shown):
        lines.append(f"  … and {len(changes) - len(shown)} more (--detail lists them)")
    return lines


ATTRIBUTE_INDENT = " " * 11  # under the address of its change line
VALUE_SHOWN = 80  # characters of a value on a change's attribute line, unless --detail


def attribute_lines(attribute: AttributeChange, detail: bool = False) -> list[str]:
    """What an update does to one attribute, old -> new: `session_duration: "PT8H" -> "PT4H"`;
    a set or list of plain values and a map by what they gain and lose (`+ x, - y`); a JSON
    document (a policy's text) as a diff of its lines with `detail`, else how many lines change."""
    name, before, after = attribute.name, attribute.before, attribute.after
    if attribute.sensitive:
        return [f"{name}: (sensitive) changes"]
    if attribute.unknown:
        return [f"{name}: {_value(before, detail)} -> (known after apply)"]
    documents = _document(before), _document(after)
    if documents[0] is not None and documents[1] is not None:
        diff = [line.rstrip() for line in difflib.unified_diff(documents[0], documents[1], lineterm="", n=2)][2:]
        if detail:
            return [f"{name}: the document changes:", *(f"  {line}" for line in diff)]
        added = sum(line.startswith("+") for line in diff)
        removed = sum(line.startswith("-") for line in diff)
        return [f"{name}: the document changes (+{added} -{removed} lines; --detail shows the diff)"]
    if isinstance(before, (list, type(None))) and isinstance(after, (list, type(None))) and \
            all(not isinstance(v, (dict, list)) for v in (*(before or ()), *(after or ()))) and (before or after):
        gained = [v for v in after or () if v not in (before or ())]
        lost = [v for v in before or () if v not in (after or ())]
        if gained or lost:
            return [f"{name}: " + ", ".join([*(f"+ {_value(v, detail)}" for v in gained),
                                             *(f"- {_value(v, detail)}" for v in lost)])]
    if isinstance(before, (dict, type(None))) and isinstance(after, (dict, type(None))) and (before or after):
        before, after = before or {}, after or {}
        parts = [f"+ {k}={_value(after[k], detail)}" for k in after if k not in before]
        parts += [f"- {k}={_value(before[k], detail)}" for k in before if k not in after]
        parts += [f"~ {k}: {_value(before[k], detail)} -> {_value(after[k], detail)}"
                  for k in before if k in after and before[k] != after[k]]
        return [f"{name}: {', '.join(parts)}"]
    return [f"{name}: {_value(before, detail)} -> {_value(after, detail)}"]


def _value(value, detail: bool) -> str:
    text = json.dumps(value) if value is not None else "(none)"
    return text if detail else shorten(text, VALUE_SHOWN)


def _document(value) -> list[str] | None:
    """A JSON document held in a string attribute (a policy's content), as indented lines."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.dumps(json.loads(value), indent=2, sort_keys=True).splitlines()
    except json.JSONDecodeError:
        return None


def interruption_line(results: list[StackResult]) -> str:
    """What a Ctrl-C left: which stacks finished, which were stopped in flight, which never started."""
    stopped = [r.stack for r in results if r.status is StackStatus.INTERRUPTED]
    waiting = [r.stack for r in results if r.status is StackStatus.NOT_STARTED]
    finished = [r.stack for r in results if r.status not in (StackStatus.INTERRUPTED, StackStatus.NOT_STARTED)]
    parts = [f"finished {len(finished)} ({names_text(finished)})" if finished else "finished none"]
    parts += [f"stopped in flight {len(stopped)} ({names_text(stopped)})"] if stopped else []
    parts += [f"not started {len(waiting)} ({names_text(waiting)})"] if waiting else []
    return "Interrupted (Ctrl-C): " + "; ".join(parts)


def exit_code_for_plan(results: list[StackResult]) -> int:
    """terraform -detailed-exitcode style: 1 any error, 2 changes somewhere, 0 none."""
    if any(r.failed for r in results):
        return 1
    if any(r.status.pending for r in results):
        return 2
    return 0


def changes_beyond(confirmed: Sequence[ResourceChange], planned: Sequence[ResourceChange],
                   imports_of_creates: bool = False) -> list[ResourceChange]:
    """The changes of a new plan that the plan confirmed before did not show (the same address
    and action); `imports_of_creates`: an import of what that plan was to create counts as
    shown (the object its create met)."""
    shown = {(c.address, c.action) for c in confirmed}
    created = {c.address for c in confirmed if c.action == "create"} if imports_of_creates else set()
    return [c for c in planned if (c.address, c.action) not in shown and not (c.importing and c.address in created)]


def listed_changes(changes: Sequence[ResourceChange]) -> str:
    """The first five of some changes on one line: `update aws_iam_role.x, import aws_iam_user.y`."""
    return ", ".join(f"{c.action} {c.address}" for c in changes[:5])
