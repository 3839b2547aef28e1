"""Live progress, one line per stack, and the final summary table.

On a terminal: a rich live table redrawn as terraform's -json events arrive. Elsewhere (CI
logs, pipes): quiet, plain lines, one per phase change of a stack.

At scale (an org of 200 stacks) both show what a person must look at and count the rest:
the live table lists the running and the last failed stacks under one line of counts, the
plain lines are only the outcomes that matter, and the summary table lists the stacks with
something to do or that failed, with one line counting the quiet ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from awsenvs.results import StackResult, StackStatus, counts_text
from awsenvs.terraform import Event, PlanSummary

PROGRESS_DETAIL = 100  # characters of an error shown on a live progress line (the summary shows it all)
PROGRESS_LISTS_ALL_UP_TO = 12  # more stacks: the live table shows the running ones and counts the rest
SUMMARY_LISTS_ALL_UP_TO = 10  # more results: the summary table lists only those a person must look at
RECENT_FAILURES_SHOWN = 3  # failed stacks kept in the live table (the latest), beside the running ones

QUIET = (StackStatus.NO_CHANGES, StackStatus.UNCHANGED)  # nothing to look at: counted, not listed
_NO_CHANGE_COUNTS = counts_text(PlanSummary())  # the detail of a "planned" phase that changes nothing
# A stack in one of these phases has finished (failed is counted apart); "waiting" (for an account to
# be ready) and "retiring" are still running, "waiting for account" is a plan's outcome.
_DONE = ("planned", StackStatus.NO_CHANGES, StackStatus.UNCHANGED, StackStatus.CHANGES, StackStatus.APPLIED,
         StackStatus.WAITING, StackStatus.RETIRE, StackStatus.RETIRED, StackStatus.INTERRUPTED, StackStatus.NOT_STARTED,
         StackStatus.HELD)
_GREEN = ("planned", StackStatus.NO_CHANGES, StackStatus.UNCHANGED, StackStatus.APPLIED, StackStatus.RETIRED)
_STYLE = {StackStatus.FAILED: "bold red", StackStatus.APPLIED: "green", StackStatus.NO_CHANGES: "green",
          StackStatus.UNCHANGED: "green", StackStatus.RETIRED: "green", StackStatus.CHANGES: "yellow",
          StackStatus.RETIRE: "bold yellow", StackStatus.INTERRUPTED: "bold red", StackStatus.NOT_STARTED: "dim",
          StackStatus.HELD: "bold yellow"}


@dataclass(frozen=True)
class Report:
    """How the runner says what it is doing: callbacks (the CLI wires a live Progress to them)."""

    phase: Callable[[str, str, str], None] = lambda stack, phase, detail: None  # "planning", "3/12 aws_iam_user.alice"
    note: Callable[[str], None] = lambda text: None  # a one-line remark (a file mode tightened)


class EventCounter:
    """Turns terraform events into 'planning 3' / 'applying 4/12' progress."""

    def __init__(self, report: Report, stack: str, phase: str, counted: str, total: int = 0) -> None:
        self.report, self.stack, self.phase, self.counted, self.total = report, stack, phase, counted, total
        self.count = 0

    def __call__(self, event: Event) -> None:
        if event.type == self.counted:
            self.count += 1
            done = f"{self.count}/{self.total}" if self.total else str(self.count)
            self.report.phase(self.stack, self.phase, f"{done} {event.resource}")
        elif event.type == "apply_progress":  # every 10 s of a slow one: "<address>: Still creating... [1m0s elapsed]"
            done = f"{self.count}/{self.total}" if self.total else str(self.count)
            self.report.phase(self.stack, self.phase, f"{done} {event.message}")


def planned_total(summary: PlanSummary | None) -> int:
    return (summary.add + summary.change + summary.destroy + summary.imports + summary.forget) if summary else 0


class Progress:
    def __init__(self, console: Console, stacks: list[str]) -> None:
        self.console = console
        self._rows: dict[str, tuple[str, str]] = {stack: ("queued", "") for stack in stacks}
        self._failures: list[str] = []  # failed stacks, the latest last
        self._lock = threading.Lock()
        self._live: Live | None = None

    def __enter__(self) -> "Progress":
        if self.console.is_terminal:
            self._live = Live(self._table(), console=self.console, refresh_per_second=8, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live:
            self._live.__exit__(*exc)
            self._live = None

    def update(self, stack: str, phase: str, detail: str = "") -> None:
        with self._lock:
            previous = self._rows.get(stack, ("", ""))[0]
            self._rows[stack] = (phase, detail)
            if stack in self._failures:
                self._failures.remove(stack)
            if phase == StackStatus.FAILED:
                self._failures.append(stack)
            if self._live:
                self._live.update(self._table())
            elif phase != previous and (len(self._rows) <= PROGRESS_LISTS_ALL_UP_TO or matters(phase, detail)):
                self.console.print(f"{stack}: {phase}{' ' + detail if detail else ''}", markup=False, highlight=False)

    def note(self, text: str) -> None:
        """A one-line remark that stays above the live lines (e.g. a file mode tightened)."""
        self.console.print(text, markup=False, highlight=False)

    def _table(self) -> RenderableType:
        rows, counts = live_view(self._rows, self._failures)
        table = Table(box=None, show_header=False, pad_edge=False)
        for stack, phase, detail in rows:
            style = "red" if phase == StackStatus.FAILED else "green" if phase in _GREEN else "yellow"
            table.add_row(stack, f"[{style}]{phase}[/]", escape(detail))
        return Group(table, Text(counts, style="dim")) if counts else table


def matters(phase: str, detail: str = "") -> bool:
    """A phase change worth a plain line when there are too many stacks for one line each of
    every phase: an outcome to act on (failed, changes planned, applied, waiting, retired)."""
    if phase == "planned":
        return detail != _NO_CHANGE_COUNTS
    return phase in (StackStatus.FAILED, StackStatus.APPLIED, StackStatus.CHANGES, StackStatus.WAITING, "waiting",
                     StackStatus.RETIRE, "retiring", StackStatus.RETIRED, StackStatus.INTERRUPTED)


def live_view(rows: Mapping[str, tuple[str, str]], failures: Sequence[str] = ()
              ) -> tuple[list[tuple[str, str, str]], str | None]:
    """The live table's rows, (stack, phase, detail), and its line of counts (None: every stack
    has its row). Past `PROGRESS_LISTS_ALL_UP_TO` stacks: the running ones (neither queued nor
    done), then the latest `RECENT_FAILURES_SHOWN` of `failures` (failed stacks, the latest last),
    and `done 143/201 · failed 1 · queued 50`."""
    if len(rows) <= PROGRESS_LISTS_ALL_UP_TO:
        return [(stack, phase, detail) for stack, (phase, detail) in rows.items()], None
    phases = [phase for phase, _ in rows.values()]
    done = sum(phase in _DONE for phase in phases)
    failed = sum(phase == StackStatus.FAILED for phase in phases)
    queued = sum(phase == "queued" for phase in phases)
    running = [(stack, phase, detail) for stack, (phase, detail) in rows.items()
               if phase != "queued" and phase != StackStatus.FAILED and phase not in _DONE]
    latest = [stack for stack in failures if rows.get(stack, ("",))[0] == StackStatus.FAILED][-RECENT_FAILURES_SHOWN:]
    shown = running + [(stack, *rows[stack]) for stack in reversed(latest)]
    return shown, f"done {done}/{len(rows)} · failed {failed} · queued {queued}"


def quiet_counts_line(results: list[StackResult]) -> str | None:
    """`12 stacks with no changes, 187 unchanged since their last clean plan (...)`: the results
    a summary counts instead of listing; None when there are none."""
    no_changes = sum(r.status is StackStatus.NO_CHANGES for r in results)
    unchanged = sum(r.status is StackStatus.UNCHANGED for r in results)
    parts = [f"{no_changes} {_stacks(no_changes)} with no changes"] if no_changes else []
    if unchanged:
        noun = "" if parts else f"{_stacks(unchanged)} "
        their = "its" if unchanged == 1 else "their"
        parts.append(f"{unchanged} {noun}unchanged since {their} last clean plan"
                     " (not planned: no drift that apply restores; `plan --all` plans them too)")
    return ", ".join(parts) or None


def summary_table(results: list[StackResult], title: str) -> RenderableType:
    """The stacks a person must look at, one row each, and one line counting the quiet ones
    (no changes, unchanged). Up to `SUMMARY_LISTS_ALL_UP_TO` results every stack has its row;
    when every one is quiet: the title and that line only."""
    listed = results if len(results) <= SUMMARY_LISTS_ALL_UP_TO else [r for r in results if r.status not in QUIET]
    # Skipped stacks are always counted: the line says why, and how to plan them anyway.
    skipped = any(r.status is StackStatus.UNCHANGED for r in results)
    counted = quiet_counts_line(results) if len(listed) < len(results) or skipped else None
    if not listed and counted:
        return Text.assemble((title, "table.title"), f": {counted}")
    table = Table(title=title, title_justify="left")
    columns = ("add", "change", "destroy", "import", "forget")
    for column in ("stack", "account", *columns, "result"):
        table.add_column(column, justify="right" if column in columns else "left")
    for result in listed:
        s = result.summary
        counts = [str(n) for n in (s.add, s.change, s.destroy, s.imports, s.forget)] if s else [""] * len(columns)
        style = _STYLE.get(result.status, "dim")
        table.add_row(result.stack, result.account_id or "-", *counts, f"[{style}]{escape(_outcome(result))}[/]")
    return Group(table, Text(counted)) if counted else table


def _outcome(result: StackResult) -> str:
    if result.error:
        return f"{result.status}: {result.error}"
    if result.status is StackStatus.UNCHANGED and result.since:
        return f"unchanged since {result.since}"
    return result.status


def _stacks(count: int) -> str:
    return "stack" if count == 1 else "stacks"
