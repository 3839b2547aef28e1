"""plan -> show -> confirm unless --yes -> execute -> exit code, over all selected stacks.

Guard first: before any stack is planned or applied, the caller's `guard(known ids)` must
pass (it raises on the wrong account).  Then the live look-ups (`Run.lookups`, see
awsenvs.preflight and awsenvs.live): the organization must not lose a trusted service or policy type
org.yaml does not name, adopted accounts must match org.yaml, and whatever already exists
is imported rather than created twice.  Confirmation is asked before anything is
applied, never half way: an operator types the account name of every `mfa: required`
environment about to change, of every environment being retired, and of every stack
whose plan changes something people rely on (an adopted account's alias); without a
terminal that needs `--yes`.

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
import json
import signal
import tempfile
import threading
from concurrent import futures
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol, Sequence

from rich.console import Console

from awsenvs.config import ACCOUNT_IDS_OUTPUT, IDENTITY_CENTER_OUTPUT, IDENTITY_USER_RESOURCE, MANAGEMENT_STACK, Org
from awsenvs.profiles import IDENTITY_CENTER_FIRST_SIGN_IN
from awsenvs.errors import EXIT_INTERRUPTED, AwsenvsError, Unreachable, shorten
from awsenvs.progress import Progress, summary_table
from awsenvs.results import (
    StackResult,
    StackStatus,
    change_lines,
    counts_text,
    exit_code_for_plan,
    interruption_line,
    names_text,
    notes_of,
)
from awsenvs.run.runner import PROGRESS_DETAIL, Lifecycle, Report, Runner
from awsenvs.synth import Synthesis, Worker, synthesize, synthesize_beside
from awsenvs.terraform import ResourceChange, Terraform, TerraformInterrupted


class Refused(AwsenvsError):
    """The operator (or the lack of one) did not confirm; nothing was applied."""


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
    caller = run.guard(runner.account_ids_at_hand())
    runner.check_no_local_state_left([*run.stacks])
    runner.check_state_found([*run.stacks])
    if run.lookups is not None:
        run.lookups.check(_waiting(run, progress, MANAGEMENT_STACK))
    managed = runner.managed_account_ids()
    ids = runner.account_ids(managed)
    run.guard({**managed, **ids})
    if run.lookups is not None:
        run.lookups.check_created(managed)
    retiring = []
    if run.lookups is not None and MANAGEMENT_STACK in run.stacks:
        retiring = run.lookups.retirements(managed)
    return _Prepared(caller, ids, retiring)


def _plan_retirements(run: Run, runner: Runner, retiring: list) -> list[StackResult]:
    def check(retirement):
        return (lambda users: run.lookups.check_reachable(retirement, users)) if run.lookups is not None else None

    return [runner.plan_retirement(r.stack, r.account_id, r.account_name, r.closing, r.enabling, check(r))
            for r in retiring]


def plan(run: Run, worker: Worker | None = None) -> tuple[list[StackResult], int]:
    """`worker`: a synth worker started ahead (see synth.Worker); closed here."""
    # Synth runs beside the guard and the look-ups, which need only org.yaml and the
    # states (about a second each when one product changed); the runner waits for it
    # before any terraform runs, and a failed synth fails the run before anything is planned.
    synthesis = synthesize_beside(run.org, run.outdir, worker or Worker())
    try:
        with Progress(run.console, run.stacks) as progress, interruptible(run):
            runner = run.runner(progress, synthesis)
            prepared = _prepare(run, runner, progress)
            results = runner.plan(run.stacks, prepared.caller, prepared.ids, prepared.lifecycle_for(run.lookups),
                                  everything=run.everything, drift_for=prepared.drift_for(run.lookups))
            synthesis.wait()  # a retirement writes a stack folder of its own: after synth's clean-up
            if not runner.halted:
                results += _plan_retirements(run, runner, prepared.retiring)
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
            if runner.interrupted(stack):
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
                results += _plan_retirements(run, runner, stale_retired)
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
        shown = [replanned.get(s) or _as_result(saved[s]) for s in stacks if replanned.get(s) or saved[s]]
        _print_summary(console, shown, "Apply: nothing to apply")
        failed = [r for r in shown if r.failed]
        return shown, 1 if failed else 0
    show_changes(console, pending, run.detail, "About to apply:")
    if replanned:
        shown = [replanned.get(s) or _as_result(saved[s]) for s in stacks if replanned.get(s) or saved[s]]
        _print_summary(console, shown, "Plan (new)")
    else:  # what `plan` said of them (imports and what stays, touched environments), again before the confirmation
        for line in notes_of([_as_result(p) for p in pending]):
            console.print(f"  {line}", markup=False, highlight=False)
    _confirm(run, saved, replanned=bool(replanned), yes=yes, retiring=prepared.retiring)

    results: dict[str, StackResult] = {}
    with Progress(console, stacks) as progress, interruptible(run):
        runner = run.runner(progress)
        # Retire first: its account stack's state is emptied and the account moved before
        # the management stack lets go of it, so an interruption anywhere is repeated
        # safely by the next run (both steps are idempotent).
        for retirement in prepared.retiring:
            if run.stopping.is_set():
                results[retirement.stack] = StackResult(retirement.stack, StackStatus.NOT_STARTED, retirement.account_id)
                continue
            results[retirement.stack] = _retire(run, runner, progress, retirement, saved.get(retirement.stack))
        if MANAGEMENT_STACK in saved and not any(r.failed for r in results.values()):
            replanned_management = None
            if any(r.enabling for r in prepared.retiring) and saved[MANAGEMENT_STACK] is not None:
                replanned_management = _replan_management(run, runner, prepared, saved[MANAGEMENT_STACK])
            results[MANAGEMENT_STACK] = replanned_management or _apply_one(run, runner, progress, prepared,
                                                                           MANAGEMENT_STACK)
        elif MANAGEMENT_STACK in saved and not run.stopping.is_set():
            results[MANAGEMENT_STACK] = StackResult(
                MANAGEMENT_STACK, StackStatus.NOT_STARTED, prepared.caller,
                notes=("not applied: it lets go of the retired accounts only once their retirement succeeded; the next "
                       "apply finishes both",))
        # Accounts the management stack just created can be planned now; they were
        # confirmed above (see _confirm) as part of creating them, with the resources
        # their synthesized config holds.  Their real plan is shown before it is applied,
        # and anything in it beyond those creates needs its own confirmation.
        waiting = [s for s, p in saved.items() if p and p.status is StackStatus.WAITING]
        management_failed = results.get(MANAGEMENT_STACK, StackResult("", StackStatus.NO_CHANGES)).status in (
            StackStatus.FAILED, StackStatus.INTERRUPTED, StackStatus.NOT_STARTED)
        if waiting and not management_failed and not run.stopping.is_set():
            _plan_new_accounts(run, runner, progress, prepared, saved, waiting, results, yes)
        todo = [s for s in run.stacks if s != MANAGEMENT_STACK and s not in results]
        if management_failed:
            todo = [s for s in todo if saved.get(s) and saved[s].status is not StackStatus.WAITING]
        for result in runner.apply_many(todo, lambda stack: _apply_one(run, runner, progress, prepared, stack)):
            results[result.stack] = result
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
    ids = {**prepared.ids, **runner.account_ids()}
    [again] = runner.plan([stack], prepared.caller, ids, prepared.lifecycle_for(run.lookups), everything=True)
    if again.status not in (StackStatus.CHANGES, StackStatus.NO_CHANGES):
        return again
    imported = {c.address for c in again.changes if c.importing}
    beyond = _beyond(confirmed.changes, again.changes, imports_of_creates=True)
    if not set(result.existed) <= imported or beyond:
        why = (f"awsenvs cannot import {names_text(sorted(set(result.existed) - imported))}" if not beyond else
               f"planned again, it does more than was confirmed ({_listed(beyond)})")
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
    beyond = _beyond(confirmed.changes, result.changes)
    if not beyond:
        return None
    return StackResult(MANAGEMENT_STACK, StackStatus.FAILED, result.account_id, result.summary,
                       error=f"planned again after the retirements enabled a policy type, its plan does more than was "
                             f"confirmed ({_listed(beyond)}): review it with `plan`, then apply again")


def _beyond(confirmed: Sequence[ResourceChange], planned: Sequence[ResourceChange],
            imports_of_creates: bool = False) -> list[ResourceChange]:
    """The changes of a new plan that the plan confirmed before did not show (the same address
    and action); `imports_of_creates`: an import of what that plan was to create counts as
    shown (the object its create met)."""
    shown = {(c.address, c.action) for c in confirmed}
    created = {c.address for c in confirmed if c.action == "create"} if imports_of_creates else set()
    return [c for c in planned if (c.address, c.action) not in shown and not (c.importing and c.address in created)]


def _listed(changes: Sequence[ResourceChange]) -> str:
    """The first five of some changes on one line: `update aws_iam_role.x, import aws_iam_user.y`."""
    return ", ".join(f"{c.action} {c.address}" for c in changes[:5])


def _created_identity_center_users(saved, applied: StackResult | None) -> bool:
    """Whether this apply created Identity Center users (who cannot sign in until a person acts)."""
    return (applied is not None and applied.status is StackStatus.APPLIED and saved is not None
            and any(c.type == IDENTITY_USER_RESOURCE and c.action == "create" for c in saved.changes))


def _plan_new_accounts(run: Run, runner: Runner, progress: Progress, prepared: _Prepared, saved: dict,
                       waiting: list[str], results: dict[str, StackResult], yes: bool) -> None:
    """Plan the stacks of the accounts the management stack just created, show their plans,
    and leave in `results` those that must not be applied (failed, refused)."""
    ids = runner.account_ids()
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
        unexpected = _beyond(saved[result.stack].changes, result.changes)  # it announced creates only
        if not unexpected or yes:
            continue
        listed = _listed(unexpected)
        if run.ask is not None and run.ask(
                f"{result.stack}: its plan does more than the creates shown before ({listed}). Apply it? Type yes"
        ).strip() == "yes":
            continue
        results[result.stack] = StackResult(
            result.stack, StackStatus.FAILED, result.account_id, result.summary,
            error=f"its plan does more than the creates shown before ({listed}) and was not confirmed: review it "
                  f"with `plan --stack {result.stack}`, then apply again")


def _retire(run: Run, runner: Runner, progress: Progress, retirement, saved) -> StackResult:
    """Park the account (enabling the policy types it needs first), lock its IAM users out,
    let its objects leave state, then close it (on_retire: close).  Every step is idempotent,
    so a retirement that failed or was interrupted half-way is finished by the next apply:
    the management stack, which lets go of the account, waits until it succeeded."""
    if saved is None or saved.status is not StackStatus.RETIRE:
        return StackResult(retirement.stack, StackStatus.FAILED, retirement.account_id, error="no current retirement plan")
    lookups = run.lookups
    try:
        became = None
        users = runner.state_users(retirement.stack)
        if lookups is not None:
            lookups.check_reachable(retirement, users)  # before the first write
            progress.update(retirement.stack, "retiring", "moving the account to the Suspended OU")
            became = lookups.park(retirement)
        if users and became is not None:
            # Unmanaged once they leave state: first no console password and no active key.
            # (An account closed or gone has nobody left to sign in.)
            progress.update(retirement.stack, "retiring", f"locking out {len(users)} IAM users")
            lookups.lock_out(retirement, users)
        progress.update(retirement.stack, "retiring", "objects leave state")
        forgotten = runner.forget_stack(retirement.stack)
        if became is not None:
            progress.update(retirement.stack, "retiring", "closing the account" if retirement.closes else "parked")
            closed = lookups.close(retirement)
            became += f"; {closed}" if closed else ""
    except TerraformInterrupted:  # half done: the next apply repeats every step
        progress.update(retirement.stack, StackStatus.INTERRUPTED)
        return StackResult(retirement.stack, StackStatus.INTERRUPTED, retirement.account_id)
    except Exception as exc:  # noqa: BLE001 - terraform or AWS: this stack fails, reported in the table
        progress.update(retirement.stack, StackStatus.FAILED, shorten(str(exc), PROGRESS_DETAIL))
        return StackResult(retirement.stack, StackStatus.FAILED, retirement.account_id,
                           error=f"{exc} (the next apply finishes this retirement)")
    progress.update(retirement.stack, StackStatus.RETIRED)
    locked = f"; {len(users)} IAM users without console password or active access key" if users and became else ""
    if became is None and lookups is not None:
        became = f"account {retirement.account_id} had already left the organization or was closed"
    return StackResult(retirement.stack, StackStatus.RETIRED, retirement.account_id, saved.summary,
                       notes=(f"{forgotten} objects left state{locked}" + (f"; {became}" if became else ""),))


def _print_summary(console: Console, results: list[StackResult], title: str) -> None:
    console.print(summary_table(results, title))
    for line in notes_of(results):
        console.print(f"  {line}", markup=False, highlight=False)


def _as_result(saved) -> StackResult:
    return StackResult(saved.stack, saved.status, saved.account_id, saved.summary, notes=saved.notes, risks=saved.risks,
                       touches=saved.touches, since=saved.since, changes=saved.changes)


def _confirm(run: Run, saved: dict, replanned: bool, yes: bool, retiring: list = ()) -> None:
    if yes:
        return
    # (stack, account name to type, why it is protected)
    protected = [
        (env.stack, env.account_name, "mfa: required")
        for env in run.org.environments
        if env.mfa_required and env.stack in saved and saved[env.stack]
        and saved[env.stack].status in (StackStatus.CHANGES, StackStatus.WAITING)
    ]
    # A protected environment's access (identity_center) or guardrails change in the management stack.
    management = saved.get(MANAGEMENT_STACK)
    for stack in management.touches if management else ():
        env = run.org.environment_by_stack(stack)
        if env.mfa_required and stack not in {p[0] for p in protected}:
            protected.append((MANAGEMENT_STACK, env.account_name,
                              f"it changes the access, guardrails or account settings of {env.stack}, mfa: required"))
    # With Identity Center the account stacks hold no IAM users: nobody to lock out.
    locked = "" if run.org.identity_center else ", its IAM users lose their console passwords and access keys"
    protected += [(r.stack, r.account_name, "retire: removed from org.yaml; "
                   + (f"{' and '.join(r.enabling)} is enabled in the organization first, " if r.enabling else "")
                   + "the account moves to the Suspended OU, where only the managing roles can act"
                   + locked + (f", {r.closing}" if r.closing else ""))
                  for r in retiring]
    for stack, plan_ in saved.items():
        if plan_ is None or plan_.status is StackStatus.RETIRE:
            continue
        if plan_.risks and stack not in {p[0] for p in protected}:
            env = run.org.environment_by_stack(stack)
            protected.append((stack, env.account_name, "; ".join(plan_.risks)))
    if run.ask is None:
        if protected:
            names = ", ".join(f"{stack} ({why})" for stack, _, why in protected)
            raise Refused(f"refusing to apply {names} without a terminal to confirm on: run it interactively, or pass --yes")
        if replanned:
            raise Refused("the plans above were made just now and nobody confirmed them: run it interactively, run "
                          "`plan` first (then `apply` applies exactly those plans), or pass --yes")
        return
    if replanned and run.ask("Apply the plans above? Type yes").strip() != "yes":
        raise Refused("not confirmed; nothing applied")
    for stack, name, why in protected:
        typed = run.ask(f"{stack} is protected ({why}); about to apply {_what(saved.get(stack))}. "
                            f"Type its account name ({name}) to apply")
        if typed.strip() != name:
            raise Refused(f"{stack}: account name not confirmed; nothing applied")


def login_profile(org: Org, outdir: Path, stack: str, address: str, terraform: Terraform | None = None) -> dict | None:
    """The attributes of a login profile in a stack's state (any backend), or None."""
    from awsenvs.synth import stack_dir
    from awsenvs.terraform import resource_attributes

    runner = _lookup_runner(org, outdir, terraform)
    runner.init(stack)
    return resource_attributes(runner.terraform.state_pull(stack_dir(outdir, stack)), address)


def _what(saved) -> str:
    """What a protected stack's plan does, named right in its confirmation prompt."""
    if saved is None:
        return "its plan"
    if saved.status is StackStatus.WAITING:
        created = f", {saved.summary.add} resources" if saved.summary else ""
        return f"its whole baseline (a new account, created by the management stack{created})"
    s = saved.summary
    counts = f"{s.add} to add, {s.change} to change, {s.destroy} to destroy, {s.imports} to import" if s else "changes"
    if s and s.forget:
        counts += f", {s.forget} to leave state"
    return counts + (f" ({'; '.join(saved.risks)})" if saved.risks else "")


@dataclass(frozen=True)
class Managed:
    """What the management stack's outputs tell the other commands."""

    account_ids: dict[str, str]  # by stack: adopted ones (org.yaml) and created ones
    identity_store_id: str | None  # identity_center, once applied


def managed(org: Org, outdir: Path, terraform: Terraform | None = None) -> Managed:
    runner = _lookup_runner(org, outdir, terraform)
    outputs = runner.management_outputs()
    identity_center = outputs.get(IDENTITY_CENTER_OUTPUT) or {}
    return Managed(runner.account_ids(runner.managed_account_ids(outputs)), identity_center.get("identity_store_id"))


def known_account_ids(org: Org, outdir: Path, terraform: Terraform | None = None) -> dict[str, str]:
    """The ids of the accounts that exist, by stack (`synth --hcl` and `bootstrap` write them
    into what runs without awsenvs).

    Adopted ones come from org.yaml; when org.yaml does not name them all, the created ones
    come from the management stack's outputs: its local state file, or with a remote
    backend its state, read through a folder holding only its backend (so the stacks in
    outdir, JSON or HCL, are not touched; with `cloud`, `terraform init` there creates the
    management workspace when it does not exist yet).  A state that cannot be read is an
    error, never "no accounts": what is written from these ids would lose the others."""
    from awsenvs.synth import write_retired_stack
    from awsenvs.terraform import TerraformError

    ids = dict(org.adopted_account_ids)
    if all(env.stack in ids for env in org.environments):
        return ids
    left = org.state.local_file(MANAGEMENT_STACK)
    if org.state.backend != "local" and left.is_file():
        # Not moved into the remote backend yet (bootstrap moves it, after reading these):
        # the local file is the management stack's state.
        outputs = (json.loads(left.read_text() or "{}").get("outputs") or {})
        created = (outputs.get(ACCOUNT_IDS_OUTPUT) or {}).get("value") or {}
        return {**ids, **{stack: i for stack, i in created.items() if stack in org.stacks}}
    try:
        if org.state.backend == "local":
            return Runner(org, terraform or Terraform(), outdir).account_ids()
        with tempfile.TemporaryDirectory(prefix="awsenvs-management-state-") as scratch:
            write_retired_stack(org, Path(scratch), MANAGEMENT_STACK)  # its backend alone
            return Runner(org, terraform or Terraform(), Path(scratch)).account_ids()
    except TerraformError as exc:
        login = " (Terraform Cloud: `terraform login` first)" if org.state.backend == "cloud" else ""
        raise TerraformError(f"cannot read the management stack's state{login}, which holds the ids of the accounts it "
                             f"created: {exc}") from None


def _lookup_runner(org: Org, outdir: Path, terraform: Terraform | None) -> Runner:
    """A runner over the synthesized stacks for reading state and outputs (reports nothing)."""
    synthesize(org, outdir)
    return Runner(org, terraform or Terraform(), outdir)
