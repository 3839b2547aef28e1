"""Live progress, one line per stack, and the final summary table.

On a terminal: a rich live table redrawn as terraform's -json events arrive. Elsewhere (CI
logs, pipes): quiet, plain lines, one per phase change of a stack.
"""

from __future__ import annotations

import threading

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from awsenvs.results import StackResult, StackStatus

_DONE = (StackStatus.APPLIED, "planned", StackStatus.NO_CHANGES)
_STYLE = {StackStatus.FAILED: "bold red", StackStatus.APPLIED: "green", StackStatus.NO_CHANGES: "green",
          StackStatus.RETIRED: "green", StackStatus.CHANGES: "yellow", StackStatus.RETIRE: "bold yellow"}


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
            style = "red" if phase == StackStatus.FAILED else "green" if phase in _DONE else "yellow"
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
        style = _STYLE.get(result.status, "dim")
        outcome = f"{result.status}: {result.error}" if result.error else result.status
        table.add_row(result.stack, result.account_id or "-", *counts, f"[{style}]{escape(outcome)}[/]")
    return table
