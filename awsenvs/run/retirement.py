"""Retiring an environment removed from org.yaml: its account stack's plan (every object
leaves state, nothing is destroyed) and its execution (park the account, lock its IAM users
out, let the objects leave state, close it with on_retire: close).  The live steps are
awsenvs.retire's, reached through the run's look-ups; every step is idempotent, so a
retirement that failed or was interrupted half-way is finished by the next apply."""

from __future__ import annotations

from typing import Callable, Sequence

from awsenvs.errors import AwsenvsError, shorten
from awsenvs.results import StackResult, StackStatus
from awsenvs.run.runner import PROGRESS_DETAIL, Runner
from awsenvs.run.stackdir import SavedPlan
from awsenvs.synth import write_retired_stack
from awsenvs.terraform import PlanSummary, TerraformInterrupted


def plan_retirement(runner: Runner, stack: str, account_id: str, account_name: str, closing: str = "",
                    enabling: Sequence[str] = (), check: Callable[[list[str]], None] | None = None) -> StackResult:
    """What leaves the state of a removed environment's account stack (nothing is destroyed);
    `closing`: what happens to the parked account next (organization.on_retire: close);
    `enabling`: the policy types enabled first; `check`: the look-ups' precondition on
    the IAM users its state holds (raises: the retirement cannot be planned)."""
    folder = runner.folder(stack)
    try:
        write_retired_stack(runner.org, runner.outdir, stack, runner.states.state_dir)
        folder.forget_plan()
        folder.forget_clean()
        runner.init(stack)
        objects = runner.terraform.state_list(folder.path)
        users = runner.states.read(stack).users
        if check is not None:
            check(users)
    except AwsenvsError as exc:
        message = f"retiring {stack}: {exc}"
        runner.report.phase(stack, StackStatus.FAILED, shorten(message, PROGRESS_DETAIL))
        return StackResult(stack, StackStatus.FAILED, account_id, error=message)
    first = f"; first {' and '.join(enabling)} is enabled in the organization" if enabling else ""
    locked = (f"; its {len(users)} IAM users lose their console passwords and their access keys are "
              "deactivated") if users else ""
    result = StackResult(
        stack, StackStatus.RETIRE, account_id, PlanSummary(forget=len(objects)),
        notes=(f"retire {account_name}: removed from org.yaml{first}; the account moves to the Suspended OU (a "
               f"deny-all SCP but for the managing roles){locked} and its {len(objects)} objects leave state "
               f"(nothing is destroyed{'' if closing else ' or closed'})" + (f"; {closing}" if closing else ""),),
    )
    runner.report.phase(stack, StackStatus.RETIRE, f"{len(objects)} objects leave state")
    runner.record(result)
    return result


def plan_retirements(runner: Runner, retiring: Sequence, lookups) -> list[StackResult]:
    """Each retirement's plan (`lookups`: the run's, None: none), its users checked reachable."""
    def check(retirement):
        return (lambda users: lookups.check_reachable(retirement, users)) if lookups is not None else None

    return [plan_retirement(runner, r.stack, r.account_id, r.account_name, r.closing, r.enabling, check(r))
            for r in retiring]


def forget_stack(runner: Runner, stack: str) -> int:
    """Take every object of a retired stack out of its state; returns how many."""
    folder = runner.folder(stack)
    runner.init(stack)
    objects = runner.terraform.state_list(folder.path)
    runner.terraform.state_rm(folder.path, objects)
    folder.forget_plan()
    folder.forget_clean()
    return len(objects)


def retire(runner: Runner, lookups, phase: Callable[..., None], retirement, saved: SavedPlan | None) -> StackResult:
    """Park the account (enabling the policy types it needs first), lock its IAM users out,
    let its objects leave state, then close it (on_retire: close).  The management stack,
    which lets go of the account, waits until this succeeded (order.py).  `phase`: the
    progress line's update (stack, phase, detail)."""
    if saved is None or saved.status is not StackStatus.RETIRE:
        return StackResult(retirement.stack, StackStatus.FAILED, retirement.account_id, error="no current retirement plan")
    try:
        became = None
        users = runner.states.read(retirement.stack).users
        if lookups is not None:
            lookups.check_reachable(retirement, users)  # before the first write
            phase(retirement.stack, "retiring", "moving the account to the Suspended OU")
            became = lookups.park(retirement)
        if users and became is not None:
            # Unmanaged once they leave state: first no console password and no active key.
            # (An account closed or gone has nobody left to sign in.)
            phase(retirement.stack, "retiring", f"locking out {len(users)} IAM users")
            lookups.lock_out(retirement, users)
        phase(retirement.stack, "retiring", "objects leave state")
        forgotten = forget_stack(runner, retirement.stack)
        if became is not None:
            phase(retirement.stack, "retiring", "closing the account" if retirement.closes else "parked")
            closed = lookups.close(retirement)
            became += f"; {closed}" if closed else ""
    except TerraformInterrupted:  # half done: the next apply repeats every step
        phase(retirement.stack, StackStatus.INTERRUPTED)
        return StackResult(retirement.stack, StackStatus.INTERRUPTED, retirement.account_id)
    except Exception as exc:  # noqa: BLE001 - terraform or AWS: this stack fails, reported in the table
        phase(retirement.stack, StackStatus.FAILED, shorten(str(exc), PROGRESS_DETAIL))
        return StackResult(retirement.stack, StackStatus.FAILED, retirement.account_id,
                           error=f"{exc} (the next apply finishes this retirement)")
    phase(retirement.stack, StackStatus.RETIRED)
    locked = f"; {len(users)} IAM users without console password or active access key" if users and became else ""
    if became is None and lookups is not None:
        became = f"account {retirement.account_id} had already left the organization or was closed"
    return StackResult(retirement.stack, StackStatus.RETIRED, retirement.account_id, saved.summary,
                       notes=(f"{forgotten} objects left state{locked}" + (f"; {became}" if became else ""),))
