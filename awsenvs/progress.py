"""Live progress, one line per stack, and the final summary table.

On a terminal: a rich live table redrawn as terraform's -json events arrive. Elsewhere (CI
logs, pipes): quiet, plain lines, one per phase change of a stack.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from awsenvs.terraform import PlanSummary


@dataclass(frozen=True)
class StackResult:
    stack: str
    status: str  # "no changes" | "changes" | "waiting for account" | "retire" | "retired" | "applied" | "failed"
    account_id: str | None = None
    summary: PlanSummary | None = None
    error: str | None = None
    notes: tuple[str, ...] = ()  # one line each: what is imported and why, what is retired
    risks: tuple[str, ...] = ()  # changes people rely on (an alias): need the typed confirmation

    @property
    def failed(self) -> bool:
        return self.status == "failed"


class Progress:
    def __init__(self, console: Console, stacks: list[str]) -> None:
        self.console = console
        self._rows: dict[str, tuple[str, str]] = {stack: ("queued", "") for stack in stacks}
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
            if self._live:
                self._live.update(self._table())
            elif phase != previous:
                self.console.print(f"{stack}: {phase}{' ' + detail if detail else ''}", markup=False, highlight=False)

    def note(self, text: str) -> None:
        """A one-line remark that stays above the live lines (e.g. a file mode tightened)."""
        self.console.print(text, markup=False, highlight=False)

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        for stack, (phase, detail) in self._rows.items():
            style = "red" if phase == "failed" else "green" if phase in ("applied", "planned", "no changes") else "yellow"
            table.add_row(stack, f"[{style}]{phase}[/]", escape(detail))
        return table


def summary_table(results: list[StackResult], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    counted = ("add", "change", "destroy", "import", "forget")
    for column in ("stack", "account", *counted, "result"):
        table.add_column(column, justify="right" if column in counted else "left")
    for result in results:
        s = result.summary
        counts = [str(n) for n in (s.add, s.change, s.destroy, s.imports, s.forget)] if s else [""] * len(counted)
        style = {"failed": "bold red", "applied": "green", "no changes": "green", "retired": "green",
                 "changes": "yellow", "retire": "bold yellow"}.get(result.status, "dim")
        outcome = f"{result.status}: {result.error}" if result.error else result.status
        table.add_row(result.stack, result.account_id or "-", *counts, f"[{style}]{escape(outcome)}[/]")
    return table


def counts_text(summary: PlanSummary | None) -> str:
    """`+1 ~2 -0 import 3 forget 1`: a plan's counts on one line."""
    if summary is None:
        return ""
    text = f"+{summary.add} ~{summary.change} -{summary.destroy}"
    text += f" import {summary.imports}" if summary.imports else ""
    return text + (f" forget {summary.forget}" if summary.forget else "")


def notes_of(results: list[StackResult]) -> list[str]:
    """The one-line notes and risks under a summary table, `stack: note`."""
    return [f"{r.stack}: {line}" for r in results for line in (*r.risks, *r.notes)]
