"""plan -> show -> confirm unless --yes -> execute -> exit code, over all selected stacks.

Guard first: before any stack is planned or applied, the caller's `guard(known ids)` must
pass (it raises on the wrong account).  Confirmation is asked before anything is applied,
never half way: an operator types the account name of every `mfa: required` environment
about to change; without a terminal that needs `--yes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Console

from awsenvs.config import MANAGEMENT_STACK, Org
from awsenvs.progress import Progress, StackResult, summary_table
from awsenvs.runner import WAITING, Runner, exit_code_for_plan
from awsenvs.synth import synthesize
from awsenvs.terraform import Terraform


class Refused(Exception):
    """The operator (or the lack of one) did not confirm; nothing was applied."""


@dataclass
class Session:
    org: Org
    stacks: list[str]
    console: Console
    outdir: Path
    guard: Callable[[dict[str, str]], str]  # known member ids -> the caller's account id, or raises

    def guarded_account_ids(self, runner: Runner) -> tuple[str, dict[str, str]]:
        """Guard before any terraform runs, then again with the ids management's outputs add."""
        caller = self.guard(self.org.adopted_account_ids)
        ids = runner.account_ids()
        self.guard(ids)
        return caller, ids
    ask: Callable[[str], str] | None  # None: no terminal to ask on
    workers: int = 4
    terraform: Terraform = field(default_factory=Terraform)

    def runner(self, progress: Progress) -> Runner:
        return Runner(self.org, self.terraform, self.outdir, progress, workers=self.workers)


def plan(session: Session) -> tuple[list[StackResult], int]:
    with session.console.status("Synthesizing…"):
        synthesize(session.org, session.outdir)
    with Progress(session.console, session.stacks) as progress:
        runner = session.runner(progress)
        caller, ids = session.guarded_account_ids(runner)
        results = runner.plan(session.stacks, caller, ids)
    session.console.print(summary_table(results, "Plan"))
    return results, exit_code_for_plan(results)


def apply(session: Session, yes: bool) -> tuple[list[StackResult], int]:
    org, console = session.org, session.console
    with console.status("Synthesizing…"):
        synthesize(org, session.outdir)
    with Progress(console, session.stacks) as progress:
        runner = session.runner(progress)
        caller, ids = session.guarded_account_ids(runner)
        stale = [s for s in session.stacks if runner.saved_plan(s) is None]
        replanned = {}
        if stale:
            console.print(f"No current plan for {', '.join(stale)} (org.yaml or the code changed since, or never planned): planning now.", markup=False)
            replanned = {r.stack: r for r in runner.plan(stale, caller, ids)}
    saved = {s: runner.saved_plan(s) for s in session.stacks}
    if stale:
        _show(console, runner, [s for s in stale if saved[s] and saved[s].status == "changes"])
        shown = [replanned.get(s) or _as_result(saved[s]) for s in session.stacks]
        console.print(summary_table(shown, "Plan (new)"))
    _confirm(session, saved, replanned=bool(stale), yes=yes)

    results: dict[str, StackResult] = {}
    with Progress(console, session.stacks) as progress:
        runner = session.runner(progress)
        if MANAGEMENT_STACK in saved:
            results[MANAGEMENT_STACK] = runner.apply_saved(MANAGEMENT_STACK)
        # Accounts the management stack just created can be planned now; they were
        # confirmed above (see _confirm) as part of creating them.
        waiting = [s for s, p in saved.items() if p and p.status == WAITING]
        if waiting:
            ids = runner.account_ids()
            session.guard(ids)  # the accounts just created are members too
            for result in runner.plan(waiting, caller, ids):
                if result.status in ("failed", WAITING):
                    results[result.stack] = result
        ready = [s for s in session.stacks if s != MANAGEMENT_STACK and s not in results]
        for result in runner.apply_many(ready):
            results[result.stack] = result
    ordered = [results[s] for s in session.stacks if s in results]
    console.print(summary_table(ordered, "Apply"))
    failed = any(r.failed or r.status == WAITING for r in ordered)
    return ordered, 1 if failed else 0


def _as_result(saved) -> StackResult:
    return StackResult(saved.stack, saved.status, saved.account_id, saved.summary)


def _show(console: Console, runner: Runner, stacks: list[str]) -> None:
    for stack in stacks:
        console.print(f"[bold]{stack}[/]")
        for action, address in runner.changed_resources(stack):
            console.print(f"  {action:>8}  {address}", markup=False, highlight=False)


def _confirm(session: Session, saved: dict, replanned: bool, yes: bool) -> None:
    if yes:
        return
    protected = [
        env for env in session.org.environments
        if env.mfa_required and env.stack in saved and saved[env.stack]
        and saved[env.stack].status in ("changes", WAITING)
    ]
    if session.ask is None:
        if protected:
            names = ", ".join(f"{e.stack} (mfa: required)" for e in protected)
            raise Refused(f"refusing to apply {names} without a terminal to confirm on: run it interactively, or pass --yes")
        if replanned:
            raise Refused("the plans above were made just now and nobody saw them: run `plan` first, or pass --yes")
        return
    if replanned and session.ask("Apply the plans above? Type yes").strip() != "yes":
        raise Refused("not confirmed; nothing applied")
    for env in protected:
        typed = session.ask(f"{env.stack} is a protected (mfa: required) environment. Type its account name ({env.account_name}) to apply")
        if typed.strip() != env.account_name:
            raise Refused(f"{env.stack}: account name not confirmed; nothing applied")


def account_ids(org: Org, console: Console, outdir: Path, terraform: Terraform | None = None) -> dict[str, str]:
    """Account ids by stack: adopted ones, and those in the management stack's outputs."""
    synthesize(org, outdir)
    with Progress(Console(quiet=True), []) as progress:
        return Runner(org, terraform or Terraform(), outdir, progress).account_ids()
