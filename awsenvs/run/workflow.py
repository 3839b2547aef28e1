"""plan -> show -> confirm unless --yes -> execute -> exit code, over all selected stacks.

Guard first: before any stack is planned or applied, the caller's `guard(known ids)` must
pass (it raises on the wrong account).  Then the live look-ups (`Run.lookups`, see
awsenvs.preflight and awsenvs.live): the organization must not lose a trusted service or policy type
org.yaml does not name, adopted accounts must match org.yaml, and whatever already exists
is imported rather than created twice.  Confirmation is asked before anything is
applied, never half way (confirm.py): an operator types the account name of every
`mfa: required` environment about to change, of every environment being retired, and of
every stack whose plan changes something people rely on (an adopted account's alias;
explain.protected_stacks); without a terminal that needs `--yes`.  Then `apply` launches
the stacks in the launch order (order.py: retirements, management, the accounts it
creates, the rest in parallel), one batch after the other.

What is applied is shown first: `plan` lists each stack's resource changes (the first few
per stack and a count; `--detail` all), and `apply` lists what it is about to apply before
it asks or applies, including the stacks of accounts the management stack creates (their
resources are listed from the synthesized config while the account does not exist, and
their real plan is shown again before it is applied).  An apply with nothing to apply
applies nothing and succeeds, terminal or not.

Interrupts (Ctrl-C, or SIGTERM): while stacks run, the first one stops the run gracefully
(`interruptible`): no stack starts after it, every running terraform gets one SIGINT
(terraform's graceful stop: it finishes the operations in flight and writes its state),
and the summary says which stacks finished, which were stopped in flight and which never
started (exit 130).  A second one makes terraform stop at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from concurrent import futures
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, Protocol

from rich.console import Console

from awsenvs.config import IDENTITY_USER_RESOURCE, MANAGEMENT_STACK, Org
from awsenvs.errors import EXIT_INTERRUPTED, AwsenvsError, Unreachable
from awsenvs.profiles import IDENTITY_CENTER_FIRST_SIGN_IN
from awsenvs.progress import Progress, Report, summary_table
from awsenvs.results import (
    StackResult,
    StackStatus,
    change_lines,
    changes_beyond,
    counts_text,
    exit_code_for_plan,
    interruption_line,
    listed_changes,
    names_text,
    notes_of,
)
from awsenvs.run.confirm import Approval, Confirmation, Protected, Refused, confirm, held_back
from awsenvs.run.explain import protected_stacks
from awsenvs.run.order import Batch, Step, launch_order
from awsenvs.run.retirement import plan_retirements, retire
from awsenvs.run.runner import Runner
from awsenvs.run.stackdir import Lifecycle, SavedPlan
from awsenvs.synth import Synthesis, Worker, synthesize, synthesize_beside
from awsenvs.terraform import Terraform, TerraformInterrupted

__all__ = ["Interrupted", "Lookups", "Refused", "Run", "apply", "plan", "show_changes"]


class Interrupted(AwsenvsError):
    """Ctrl-C before any stack started (during the guard, the look-ups or a wait): nothing ran."""

    exit_code = EXIT_INTERRUPTED


class Lookups(Protocol):
    """The live look-ups of a run (awsenvs.preflight.LiveChecks)."""

    def check(self, on_wait: Callable[[str], None]) -> None: ...
    def check_created(self, managed_ids: dict[str, str]) -> None: ...
    def reread(self) -> None: ...
    def retirements(self, managed_ids: dict[str, str]) -> list: ...
    def check_reachable(self, retirement, users: list[str]) -> None: ...
    def lifecycle(self, stack: str, account_id: str | None, retiring: list,
                  held: frozenset[str] = frozenset()) -> tuple[list, list[str]]: ...
    def drift(self, stack: str, account_id: str, account_ids: dict[str, str]) -> list[str]: ...
    def wait_until_ready(self, stack: str, account_id: str, on_wait: Callable[[str], None]) -> None: ...
    def lock_out(self, retirement, users: list[str]) -> int: ...
    def park(self, retirement) -> str | None: ...
    def close(self, retirement) -> str | None: ...


@dataclass
class Run:
    org: Org
    stacks: list[str]
    console: Console
    outdir: Path
    guard: Callable[[dict[str, str]], str]  # known member ids -> the caller's account id, or raises
    ask: Callable[[str], str] | None  # None: no terminal to ask on
    workers: int = 4
    terraform: Terraform = field(default_factory=Terraform)
    lookups: Lookups | None = None  # None: no live look-ups (tests of the confirmation rules)
    everything: bool = False  # plan --all: also the stacks unchanged since their last clean plan
    detail: bool = False  # list every resource change, not the first few per stack
    stopping: threading.Event = field(default_factory=threading.Event)  # set by an interrupt
    approval: Approval | None = None  # CI: the job's approval instead of an operator's confirmation
    synth_selected: bool = False  # synthesize only the selected stacks and management (a pull request's plan)

    def runner(self, progress: Progress, synthesis: Synthesis | None = None) -> Runner:
        return Runner(self.org, self.terraform, self.outdir, Report(progress.update, progress.note),
                      workers=self.workers, synthesis=synthesis, stopping=self.stopping)

    def interrupt(self) -> None:
        """Stop gracefully: nothing starts from now on, running terraform gets its SIGINT."""
        first = not self.stopping.is_set()
        self.stopping.set()
        if self.terraform is not None:
            self.terraform.interrupt()
        self.console.print("Interrupted: no more stacks start; the running terraform stops gracefully (it writes its "
                           "state)" + ("; interrupt again to stop it at once" if first else ", now at once"),
                           markup=False, highlight=False)


@contextlib.contextmanager
def interruptible(run: Run):
    """While stacks run: Ctrl-C (SIGINT) and SIGTERM stop the run gracefully (see the module
    doc) instead of raising in the middle of it.  Prompts and synth keep Python's own
    Ctrl-C.  Signal handlers live on the main thread only; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = lambda signum, frame: run.interrupt()  # noqa: E731
    # A SIGINT ignored from the start (a shell's background job) stays ignored, as Python's own.
    handled = [sig for sig in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(sig) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, handler) for sig in handled}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@dataclass
class _Prepared:
    """What plan and apply both start from: guarded ids and the live look-ups' results."""

    caller: str
    ids: dict[str, str]
    retiring: list

    def lifecycle_for(self, lookups: Lookups | None):
        if lookups is None:
            return None
        return lambda stack, account_id, held: Lifecycle(*lookups.lifecycle(stack, account_id, self.retiring, held))

    def drift_for(self, lookups: Lookups | None):
        """The drift check of the stacks a plan would skip as unchanged (none without look-ups)."""
        if lookups is None:
            return None
        return lambda stack, account_id: lookups.drift(stack, account_id, self.ids)


def _waiting(run: Run, progress: Progress, stack: str) -> Callable[[str], None]:
    """The progress line of a wait (for an account to be created, or to accept its role),
    which ends the wait when the run is interrupted."""
    def on_wait(message: str) -> None:
        if run.stopping.is_set():
            raise Interrupted(f"interrupted (Ctrl-C) while {message}: nothing more was started")
        progress.update(stack, "waiting", message)
    return on_wait


def _prepare(run: Run, runner: Runner, progress: Progress) -> _Prepared:
    """Guard before any terraform runs, look at the live organization, then guard again
    with the ids the management stack's outputs add."""
    try:
        return _prepared(run, runner, progress)
    except TerraformInterrupted:  # reading a remote state when Ctrl-C came
        raise Interrupted("interrupted (Ctrl-C) before any stack started: nothing was planned or applied") from None
    except Unreachable as exc:  # the guard's call, a look-up or a remote state's read
        raise exc.stopped("nothing was planned or applied") from None


def _prepared(run: Run, runner: Runner, progress: Progress) -> _Prepared:
    caller = run.guard(runner.states.account_ids_at_hand())
    runner.states.check_no_local_state_left([*run.stacks])
    runner.states.check_found([*run.stacks])
    if run.lookups is not None:
        run.lookups.check(_waiting(run, progress, MANAGEMENT_STACK))
    created = runner.states.created_account_ids()
    ids = runner.states.account_ids(created)
    run.guard({**created, **ids})
    if run.lookups is not None:
        run.lookups.check_created(created)
    retiring = []
    if run.lookups is not None and MANAGEMENT_STACK in run.stacks:
        retiring = run.lookups.retirements(created)
    return _Prepared(caller, ids, retiring)


def plan(run: Run, worker: Worker | None = None) -> tuple[list[StackResult], int]:
    """`worker`: a synth worker started ahead (see synth.Worker); closed here."""
    # Synth runs beside the guard and the look-ups, which need only org.yaml and the
    # states (about a second each when one product changed); the runner waits for it
    # before any terraform runs, and a failed synth fails the run before anything is planned.
    # The management stack's folder is always there: the account ids are read from its state.
    only = [MANAGEMENT_STACK, *run.stacks] if run.synth_selected else None
    synthesis = synthesize_beside(run.org, run.outdir, worker or Worker(), only=only)
    try:
        with Progress(run.console, run.stacks) as progress, interruptible(run):
            runner = run.runner(progress, synthesis)
            prepared = _prepare(run, runner, progress)
            results = runner.plan(run.stacks, prepared.caller, prepared.ids, prepared.lifecycle_for(run.lookups),
                                  everything=run.everything, drift_for=prepared.drift_for(run.lookups))
            synthesis.wait()  # a retirement writes a stack folder of its own: after synth's clean-up
            if not runner.halted:
                results += plan_retirements(runner, prepared.retiring, run.lookups)
    finally:
        futures.wait([synthesis.future])  # never exit while a worker still writes (an error above is the one reported)
    show_changes(run.console, results, run.detail)
    _print_summary(run.console, results, "Plan")
    if run.stopping.is_set():
        return results, _interrupted(run.console, results)
    if runner.unreachable:
        raise runner.unreachable.stopped("nothing was planned after it")
    return results, exit_code_for_plan(results)


def show_changes(console: Console, results, detail: bool = False, heading: str = "") -> None:
    """Each stack's resource changes under its name: what will be applied (`results`: plan
    results or saved plans)."""
    listed = [r for r in results if r.changes]
    if listed and heading:
        console.print(heading, markup=False, highlight=False)
    for result in listed:
        when = " (once its account exists)" if result.status is StackStatus.WAITING else ""
        console.print(f"[bold]{result.stack}[/] ({counts_text(result.summary)}){when}", highlight=False)
        for line in change_lines(result.changes, detail):
            console.print(line, markup=False, highlight=False)


def _interrupted(console: Console, results: list[StackResult]) -> int:
    console.print(interruption_line(results), markup=False, highlight=False)
    return EXIT_INTERRUPTED


def apply(run: Run, yes: bool) -> tuple[list[StackResult], int]:
    org, console = run.org, run.console
    with console.status("Synthesizing…"):
        synthesize(org, run.outdir)
    with Progress(console, run.stacks) as progress, interruptible(run):
        runner = run.runner(progress)
        prepared = _prepare(run, runner, progress)
        retired = [r.stack for r in prepared.retiring]
        stacks = [*run.stacks, *retired]
        for stack in stacks:
            if runner.folder(stack).interrupted():
                console.print(f"{stack}: the last apply was interrupted; its saved plan is stale and is discarded.",
                              markup=False, highlight=False)
        stale = [s for s in run.stacks if runner.saved_plan(s) is None]
        stale_retired = [r for r in prepared.retiring if runner.saved_plan(r.stack) is None]
        replanned: dict[str, StackResult] = {}
        if stale or stale_retired:
            names = names_text([*stale, *(r.stack for r in stale_retired)])
            console.print(f"No current plan for {names} (org.yaml or the code changed since, never planned, or "
                          "interrupted): planning now.", markup=False)
            results = runner.plan(stale, prepared.caller, prepared.ids, prepared.lifecycle_for(run.lookups),
                                  drift_for=prepared.drift_for(run.lookups))
            if not runner.halted:
                results += plan_retirements(runner, stale_retired, run.lookups)
            replanned = {r.stack: r for r in results}
    if run.stopping.is_set():
        _print_summary(console, list(replanned.values()), "Plan (interrupted)")
        return list(replanned.values()), _interrupted(console, list(replanned.values()))
    if runner.unreachable:
        _print_summary(console, list(replanned.values()), "Plan")
        raise runner.unreachable.stopped("nothing was planned or applied after it")
    saved = {s: runner.saved_plan(s) for s in stacks}
    pending = [saved[s] for s in stacks if saved[s] and saved[s].status.pending]
    if not pending:
        shown = [replanned.get(s) or saved[s].as_result() for s in stacks if replanned.get(s) or saved[s]]
        _print_summary(console, shown, "Apply: nothing to apply")
        failed = [r for r in shown if r.failed]
        return shown, 1 if failed else 0
    show_changes(console, pending, run.detail, "About to apply:")
    if replanned:
        shown = [replanned.get(s) or saved[s].as_result() for s in stacks if replanned.get(s) or saved[s]]
        _print_summary(console, shown, "Plan (new)")
    else:  # what `plan` said of them (imports and what stays, touched environments), again before the confirmation
        for line in notes_of([p.as_result() for p in pending]):
            console.print(f"  {line}", markup=False, highlight=False)
    held = _confirm(run, saved, replanned=bool(replanned), yes=yes, retiring=prepared.retiring)
    results: dict[str, StackResult] = {s: _held_result(s, held[s], saved.get(s)) for s in held}
    launching = [s for s in run.stacks if s not in held]
    if held:
        prepared = replace(prepared, retiring=[r for r in prepared.retiring if r.stack not in held])
        retired = [r.stack for r in prepared.retiring]

    order = launch_order(launching, saved, retired)
    with Progress(console, [s for s in stacks if s not in held]) as progress, interruptible(run):
        runner = run.runner(progress)
        launch = _Launch(run, runner, progress, prepared, saved, yes, results)
        for batch in order:
            launch.batch(batch)
    ordered = [results[s] for s in stacks if s in results]
    _print_summary(console, ordered, "Apply")
    if _created_identity_center_users(saved.get(MANAGEMENT_STACK), results.get(MANAGEMENT_STACK)):
        console.print(f"note: {IDENTITY_CENTER_FIRST_SIGN_IN}", markup=False, highlight=False)
    if run.stopping.is_set():
        return ordered, _interrupted(console, ordered)
    if runner.unreachable:
        raise runner.unreachable.stopped("nothing was applied after it")
    failed = any(r.failed or r.status is StackStatus.WAITING for r in ordered)
    return ordered, 1 if failed else 0


@dataclass
class _Launch:
    """The one loop over the launch order (order.py): each batch's step, once the batches it
    needs succeeded; the results gathered by stack."""

    run: Run
    runner: Runner
    progress: Progress
    prepared: _Prepared
    saved: Mapping[str, SavedPlan | None]
    yes: bool
    results: dict[str, StackResult]

    def batch(self, batch: Batch) -> None:
        {Step.RETIRE: self._retire, Step.MANAGEMENT: self._management, Step.CREATED: self._created,
         Step.REST: self._rest}[batch.step](batch)

    def _succeeded(self, step: Step) -> bool:
        """Retirements: none failed (one interrupted stops the run anyway).  The management
        stack: applied or nothing to apply (or not in this run)."""
        if step is Step.RETIRE:
            return not any(r.failed for r in self.results.values())
        management = self.results.get(MANAGEMENT_STACK)
        return management is None or management.status not in (
            StackStatus.FAILED, StackStatus.INTERRUPTED, StackStatus.NOT_STARTED, StackStatus.HELD)

    def _retire(self, batch: Batch) -> None:
        for retirement in self.prepared.retiring:
            if self.run.stopping.is_set():
                self.results[retirement.stack] = StackResult(retirement.stack, StackStatus.NOT_STARTED,
                                                             retirement.account_id)
                continue
            self.results[retirement.stack] = retire(self.runner, self.run.lookups, self.progress.update, retirement,
                                                    self.saved.get(retirement.stack))

    def _management(self, batch: Batch) -> None:
        run, runner, prepared = self.run, self.runner, self.prepared
        if self._succeeded(batch.needs):
            replanned = None
            if any(r.enabling for r in prepared.retiring) and self.saved[MANAGEMENT_STACK] is not None:
                replanned = _replan_management(run, runner, prepared, self.saved[MANAGEMENT_STACK])
            self.results[MANAGEMENT_STACK] = replanned or _apply_one(run, runner, self.progress, prepared,
                                                                     MANAGEMENT_STACK)
        elif not run.stopping.is_set():
            self.results[MANAGEMENT_STACK] = StackResult(
                MANAGEMENT_STACK, StackStatus.NOT_STARTED, prepared.caller,
                notes=("not applied: it lets go of the retired accounts only once their retirement succeeded; the next "
                       "apply finishes both",))

    def _created(self, batch: Batch) -> None:
        """Accounts the management stack just created can be planned now; they were confirmed
        (see _confirm) as part of creating them, with the resources their synthesized config
        holds.  Their real plan is shown before the next batch applies it, and anything in it
        beyond those creates needs its own confirmation."""
        if self._succeeded(batch.needs) and not self.run.stopping.is_set():
            _plan_new_accounts(self.run, self.runner, self.progress, self.prepared, self.saved, list(batch.stacks),
                               self.results, self.yes)

    def _rest(self, batch: Batch) -> None:
        """Every other account stack, with the created ones just planned, in parallel; without
        the management stack, only those with a plan of their own account."""
        todo = [s for s in batch.stacks if s not in self.results]
        if not self._succeeded(Step.MANAGEMENT):
            todo = [s for s in todo if self.saved.get(s) and self.saved[s].status is not StackStatus.WAITING]
        for result in self.runner.apply_many(
                todo, lambda stack: _apply_one(self.run, self.runner, self.progress, self.prepared, stack)):
            self.results[result.stack] = result


def _apply_one(run: Run, runner: Runner, progress: Progress, prepared: _Prepared, stack: str) -> StackResult:
    """Apply a stack's saved plan.  When it fails only because creates met objects that
    exist (the SDK retried a create whose response was lost, and the retry found what the
    first attempt made; or another run made them), the stack is planned again at once with
    those objects imported (the look-ups find what exists) and applied, once, and says so;
    nothing is created twice."""
    confirmed = runner.saved_plan(stack)
    result = runner.apply_saved(stack)
    if not result.existed or confirmed is None or run.lookups is None or runner.halted:
        return result
    existed = names_text(result.existed)
    progress.note(f"{stack}: {existed} existed already (a create whose answer was lost, or another run's): planning "
                  "it again with them imported")
    if stack == MANAGEMENT_STACK:
        run.lookups.reread()  # the organization's facts, as the failed apply left them
    ids = {**prepared.ids, **runner.states.account_ids()}
    [again] = runner.plan([stack], prepared.caller, ids, prepared.lifecycle_for(run.lookups), everything=True)
    if again.status not in (StackStatus.CHANGES, StackStatus.NO_CHANGES):
        return again
    imported = {c.address for c in again.changes if c.importing}
    beyond = changes_beyond(confirmed.changes, again.changes, imports_of_creates=True)
    if not set(result.existed) <= imported or beyond:
        why = (f"awsenvs cannot import {names_text(sorted(set(result.existed) - imported))}" if not beyond else
               f"planned again, it does more than was confirmed ({listed_changes(beyond)})")
        return replace(result, error=f"{result.error} ({why}: review it with `plan --stack {stack}`, then apply again)")
    applied = runner.apply_saved(stack)
    return replace(applied, notes=(f"{existed} existed already (a create whose answer was lost, or another run's): "
                                   "imported and applied again in this run",) + applied.notes)


def _replan_management(run: Run, runner: Runner, prepared: _Prepared, confirmed) -> StackResult | None:
    """The retirements enabled a policy type outside Terraform, which the management
    stack's saved plan enables as well: applied as it is, the provider would call
    EnablePolicyType again and fail (PolicyTypeAlreadyEnabledException).  So it is planned
    again, and applied only if it does nothing beyond what was confirmed; None: go ahead
    with the new saved plan, else the stack's failed result."""
    [result] = runner.plan([MANAGEMENT_STACK], prepared.caller, prepared.ids, prepared.lifecycle_for(run.lookups),
                           everything=True)
    if result.status not in (StackStatus.CHANGES, StackStatus.NO_CHANGES):
        return result
    beyond = changes_beyond(confirmed.changes, result.changes)
    if not beyond:
        return None
    return StackResult(MANAGEMENT_STACK, StackStatus.FAILED, result.account_id, result.summary,
                       error=f"planned again after the retirements enabled a policy type, its plan does more than was "
                             f"confirmed ({listed_changes(beyond)}): review it with `plan`, then apply again")


def _created_identity_center_users(saved, applied: StackResult | None) -> bool:
    """Whether this apply created Identity Center users (who cannot sign in until a person acts)."""
    return (applied is not None and applied.status is StackStatus.APPLIED and saved is not None
            and any(c.type == IDENTITY_USER_RESOURCE and c.action == "create" for c in saved.changes))


def _plan_new_accounts(run: Run, runner: Runner, progress: Progress, prepared: _Prepared, saved: dict,
                       waiting: list[str], results: dict[str, StackResult], yes: bool) -> None:
    """Plan the stacks of the accounts the management stack just created, show their plans,
    and leave in `results` those that must not be applied (failed, refused)."""
    ids = runner.states.account_ids()
    run.guard(ids)  # the accounts just created are members too
    ready = []
    for stack in waiting:
        if stack not in ids:
            continue
        try:
            if run.lookups is not None:
                run.lookups.wait_until_ready(stack, ids[stack], _waiting(run, progress, stack))
            ready.append(stack)
        except Interrupted:
            results[stack] = StackResult(stack, StackStatus.NOT_STARTED, ids[stack])
        except Exception as exc:  # noqa: BLE001 - reported as this stack's failure
            results[stack] = StackResult(stack, StackStatus.FAILED, ids[stack], error=str(exc))
    planned = runner.plan(ready, prepared.caller, ids, prepared.lifecycle_for(run.lookups))
    for result in planned:
        if result.status is not StackStatus.CHANGES:
            if result.status is not StackStatus.NO_CHANGES:
                results[result.stack] = result
            continue
        progress.note(f"{result.stack}: the new account's plan ({counts_text(result.summary)}):")
        for line in change_lines(result.changes, run.detail):
            progress.note(line)
        unexpected = changes_beyond(saved[result.stack].changes, result.changes)  # it announced creates only
        if not unexpected:
            continue
        listed = listed_changes(unexpected)
        try:
            confirm(Confirmation(f"{result.stack}: its plan does more than the creates shown before ({listed}). Apply "
                                 "it?"), run.ask, yes)
            continue
        except Refused:
            pass
        results[result.stack] = StackResult(
            result.stack, StackStatus.FAILED, result.account_id, result.summary,
            error=f"its plan does more than the creates shown before ({listed}) and was not confirmed: review it "
                  f"with `plan --stack {result.stack}`, then apply again")


def _print_summary(console: Console, results: list[StackResult], title: str) -> None:
    console.print(summary_table(results, title))
    for line in notes_of(results):
        console.print(f"  {line}", markup=False, highlight=False)


def _confirm(run: Run, saved: Mapping[str, SavedPlan | None], replanned: bool, yes: bool,
             retiring: list = ()) -> dict[str, str]:
    """apply's confirmation: the plans made just now answered `yes` first, then the account
    name of every protected stack (explain.protected_stacks).  In CI (`run.approval`) the
    merge was the review: the protected stacks are applied only by the job in the reviewed
    environment, and held back elsewhere; the stacks held back, with why."""
    protected = protected_stacks(run.org, saved, retiring)
    if run.approval is not None:
        return _holding(held_back(run.approval, protected), retiring, saved)
    confirm(Confirmation(
        question="Apply the plans above?" if replanned else None,
        unasked="the plans above were made just now and nobody confirmed them: run it interactively, run `plan` first "
                "(then `apply` applies exactly those plans), or pass --yes",
        protected=protected), run.ask, yes)
    return {}


def _holding(protected: tuple[Protected, ...], retiring: list, saved: Mapping[str, SavedPlan | None]) -> dict[str, str]:
    """Stack -> why it is held back.  Held retirements hold the management stack back too (it
    lets go of a retired account only once its retirement ran), and a held management stack
    the stacks of the accounts it is to create."""
    held = {p.stack: p.why for p in protected}
    if any(r.stack in held for r in retiring):
        held.setdefault(MANAGEMENT_STACK, "it lets go of the retired accounts, which wait for review")
    if MANAGEMENT_STACK in held:
        for stack, plan_ in saved.items():
            if plan_ is not None and plan_.status is StackStatus.WAITING:
                held.setdefault(stack, "its account is created by the management stack, which waits for review")
    return held


def _held_result(stack: str, why: str, saved: SavedPlan | None) -> StackResult:
    return StackResult(stack, StackStatus.HELD, saved.account_id if saved else None, saved.summary if saved else None,
                       notes=(f"held for review ({why}): applied by the job in the reviewed GitHub environment",))
