"""What happened to a stack: a status (an enum, not bare strings) and the result beside it.

The runner and the workflow produce these; the progress lines and summary tables only show
them (like Sceptre's `StackStatus` next to its launch results).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from awsenvs.terraform import PlanSummary


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


def exit_code_for_plan(results: list[StackResult]) -> int:
    """terraform -detailed-exitcode style: 1 any error, 2 changes somewhere, 0 none."""
    if any(r.failed for r in results):
        return 1
    if any(r.status.pending for r in results):
        return 2
    return 0
