"""Schedule terraform over the stacks: init, the plan pool, apply.

The runner knows Terraform, not AWS: the account guard is handed in by the caller, and the
live look-ups reach it as callbacks (`lifecycle_for`: the import and removed blocks a plan
needs; `drift_for`: what of a stack's live objects differs).  A stack's files are its
StackFolder's (stackdir.py), its state a StackState (state.py), what a plan means for people
explain.py's.  `apply` applies exactly the plans that were shown (their records).

Plan only what changed: a stack whose clean record still matches everything its last clean
plan or apply was made from is reported unchanged without running terraform, unless the
caller's drift check (`drift_for`, at API speed: audit's comparisons, awsenvs.stack_drift)
finds live objects that differ in a way `apply` restores: then it is planned, each finding
a note (`drift: <finding>`); a check that fails plans it too.  `plan --all` plans everything.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

from awsenvs.config import MANAGEMENT_STACK, Org
from awsenvs.errors import Unreachable, shorten
from awsenvs.progress import PROGRESS_DETAIL, EventCounter, Report, planned_total
from awsenvs.results import StackResult, StackStatus, counts_text
from awsenvs.run import explain
from awsenvs.run.stackdir import Lifecycle, SavedPlan, StackFolder
from awsenvs.run.state import States
from awsenvs.synth import Synthesis, code_version, stack_fingerprints
from awsenvs.terraform import PlanSummary, Terraform, TerraformError, TerraformInterrupted, existing_objects

# (stack, account id, addresses already in its state) -> lifecycle
LifecycleFor = Callable[[str, "str | None", frozenset], Lifecycle]
# (stack, account id) -> what of its live objects differs from org.yaml and `apply` restores,
# one finding each (none: nothing to plan for); raises when it cannot tell
DriftFor = Callable[[str, str], Sequence[str]]


class Runner:
    def __init__(
        self, org: Org, terraform: Terraform, outdir: Path, report: Report = Report(),
        state_dir: Path | None = None, workers: int = 4, synthesis: Synthesis | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.org = org
        # Set by an interrupt (Ctrl-C): no stack starts after it (see workflow.interruptible).
        self.stopping = stopping or threading.Event()
        # The first "AWS cannot be reached" of a stack: no stack starts after it either (each
        # would fail the same way, after its provider's retries); the workflow says it once.
        self.unreachable: Unreachable | None = None
        self.synthesis = synthesis  # a synth running beside this run (see _synthesized)
        self.terraform = terraform
        self.outdir = Path(outdir).resolve()
        self.report = report
        self.workers = max(1, workers)
        self.states = States(org, self.outdir, terraform, self.init, state_dir)
        self.fingerprints = stack_fingerprints(org, self.outdir, state_dir)

    @property
    def halted(self) -> bool:
        """No stack starts any more: interrupted, or AWS cannot be reached."""
        return self.stopping.is_set() or self.unreachable is not None

    @contextlib.contextmanager
    def _halting_when_unreachable(self):
        """Note the first Unreachable raised inside at once: within a terraform slot, before
        the slot goes to the next stack, which then sees it and does not start."""
        try:
            yield
        except Unreachable as exc:
            self.unreachable = self.unreachable or exc
            raise

    def folder(self, stack: str) -> StackFolder:
        return StackFolder.of(self.outdir, stack)

    # -- preparation ------------------------------------------------------------------

    def secure(self, stack: str) -> None:
        """Owner-only: the stack folder (plans, tfvars), the local state folder and the
        stack's state files and backups; looser ones are tightened with a note."""
        self._synthesized(stack)
        for note in (*self.folder(stack).secure(), *self.states.secure(stack)):
            self.report.note(note)

    def init(self, stack: str) -> None:
        """terraform init once per stack (StackFolder.init), its files made owner-only first."""
        self._synthesized(stack)
        self.secure(stack)
        self.folder(stack).init(self.terraform, self.org.state.backend != "local",
                                lambda: self.report.phase(stack, "init", ""))

    def _synthesized(self, stack: str, everything: bool = False) -> None:
        """Wait for the synth running beside this run, if any (Synthesis.wait_for)."""
        if self.synthesis is not None:
            self.synthesis.wait_for(stack, lambda waiting: self.report.phase(stack, waiting, ""), everything)

    # -- plan -------------------------------------------------------------------------

    def plan(self, stacks: list[str], management_account: str | None, account_ids: dict[str, str],
             lifecycle_for: LifecycleFor | None = None, everything: bool = False,
             drift_for: DriftFor | None = None) -> list[StackResult]:
        """Plan these stacks; those unchanged since their last clean plan or apply are only
        reported as such, unless `drift_for` finds live objects there that differ (see the
        module doc) or `everything` (plan --all)."""
        # Planning management changes no account id, so every stack whose account exists
        # is planned at once with it; management goes first into the pool.
        ids = {**account_ids, MANAGEMENT_STACK: management_account}
        lifecycle_for = lifecycle_for or (lambda stack, account_id, held: Lifecycle())
        # A stack's look-ups wait on AWS, its terraform plan on the CPU: twice as many
        # threads as terraform slots, so that the next stacks' look-ups (and unchanged
        # checks) run while `workers` terraform processes plan.
        terraform_slots = threading.BoundedSemaphore(self.workers)

        def plan_one(stack: str) -> StackResult:
            if self.halted:
                return self._not_started(stack, ids.get(stack))
            since = None if everything else self.unchanged_since(stack, ids.get(stack))
            drift = self._drift(stack, ids[stack], drift_for) if since is not None and drift_for else ()
            if since is None or drift:
                return self._plan_stack(stack, ids.get(stack), lifecycle_for, terraform_slots, drift)
            self.secure(stack)
            self.folder(stack).forget_plan()
            result = StackResult(stack, StackStatus.UNCHANGED, ids.get(stack), since=since)
            self.report.phase(stack, StackStatus.UNCHANGED, f"since {since}")
            self.record(result)
            return result

        with ThreadPoolExecutor(2 * self.workers) as pool:
            return list(pool.map(plan_one, stacks))

    def _drift(self, stack: str, account_id: str, drift_for: DriftFor) -> tuple[str, ...]:
        """The notes of the differences `drift_for` finds in a stack unchanged since its clean
        record; one saying the check failed when it does (the stack is then planned)."""
        self.report.phase(stack, "checking drift", "")
        try:
            return tuple(f"drift: {finding}" for finding in drift_for(stack, account_id))
        except Exception as exc:  # noqa: BLE001 - AWS or anything else: terraform looks instead
            return (f"drift: not checked ({type(exc).__name__}: {exc}), so planned",)

    def _not_started(self, stack: str, account_id: str | None) -> StackResult:
        self.report.phase(stack, StackStatus.NOT_STARTED, "")
        return StackResult(stack, StackStatus.NOT_STARTED, account_id)

    # -- the clean record -------------------------------------------------------------

    def unchanged_since(self, stack: str, account_id: str | None) -> str | None:
        """When this stack's last clean plan or apply was, if nothing it was made from has
        changed since (see the module doc); None: it must be planned."""
        return None if account_id is None else self.folder(stack).clean_since(lambda: self._made_from(stack, account_id))

    def _made_from(self, stack: str, account_id: str) -> dict:
        return self.folder(stack).made_from(self._fingerprint(stack), account_id, self.states.read(stack),
                                            self.terraform.version)

    def _mark_clean(self, stack: str, account_id: str | None) -> None:
        if account_id is not None:
            self.folder(stack).mark_clean(lambda: self._made_from(stack, account_id))

    def _plan_stack(self, stack: str, account_id: str | None, lifecycle_for: LifecycleFor,
                    terraform_slots: threading.Semaphore | None = None, drift: tuple[str, ...] = ()) -> StackResult:
        """Plan one stack with terraform (`drift`: why a stack unchanged since its clean record
        is planned, its result's first notes)."""
        folder = self.folder(stack)
        folder.forget_plan()
        folder.forget_clean()
        if stack != MANAGEMENT_STACK and account_id is None:
            self._synthesized(stack)
            created = folder.config_resources()
            result = StackResult(stack, StackStatus.WAITING, summary=PlanSummary(add=len(created)), changes=created)
            self.report.phase(stack, StackStatus.WAITING, "(created when the management stack is applied)")
            self.record(result)
            return result
        try:
            # An account stack looks up only what its state lacks (an import of an address
            # in state is a no-op): once converged, none at all.  The management stack's
            # say which of a retired account's settings leave state with it.
            state = self.states.read(stack)
            self.report.phase(stack, "looking up", "")
            lifecycle = lifecycle_for(stack, account_id, state.addresses)
            self._synthesized(stack, everything=True)
            if stack != MANAGEMENT_STACK:
                folder.write_account_tfvars(account_id)
            folder.write_lifecycle(lifecycle)
            with terraform_slots or contextlib.nullcontext(), self._halting_when_unreachable():
                if self.halted:  # interrupted (or AWS lost) while it waited for a slot: it never ran
                    return self._not_started(stack, account_id)
                self.init(stack)
                untainted = folder.untaint_kept(self.terraform, state.tainted)
                self.report.phase(stack, "planning", "")
                counter = EventCounter(self.report, stack, "planning", "planned_change")
                planned = self.terraform.plan(folder.path, folder.plan_file, counter)
                # The management stack's environments org.yaml no longer has are being retired.
                explained = explain.plan_notes(self.org, stack, planned.changes, lifecycle.imports,
                                               state.created_account_ids)
        except TerraformInterrupted:
            self.report.phase(stack, StackStatus.INTERRUPTED, "")
            return StackResult(stack, StackStatus.INTERRUPTED, account_id)
        except Exception as exc:  # noqa: BLE001 - terraform or a look-up: the stack fails, the others go on
            if isinstance(exc, Unreachable):  # a look-up's (terraform's was noted within its slot)
                self.unreachable = self.unreachable or exc
            message = str(exc) if isinstance(exc, (TerraformError, Unreachable)) else f"{type(exc).__name__}: {exc}"
            self.report.phase(stack, StackStatus.FAILED, shorten(message, PROGRESS_DETAIL))
            return StackResult(stack, StackStatus.FAILED, account_id, error=message)
        summary = planned.summary
        status = StackStatus.CHANGES if summary.changes else StackStatus.NO_CHANGES
        result = StackResult(stack, status, account_id, summary, notes=drift + untainted + explained.notes,
                             risks=explained.risks, touches=explained.touches, changes=planned.changes)
        self.report.phase(stack, "planned", counts_text(summary))
        self.record(result)
        if status is StackStatus.NO_CHANGES:
            self._mark_clean(stack, account_id)
        return result

    # -- saved plans ------------------------------------------------------------------

    def record(self, result: StackResult) -> None:
        """A stack's plan result, as the record of its saved plan."""
        self._synthesized(result.stack)  # its folder may be synth's to make yet
        self.folder(result.stack).write_plan_record(result, self._fingerprint(result.stack))

    def _fingerprint(self, stack: str) -> str:
        """What a saved plan of this stack was made from: its synth fingerprint (a retired
        stack, no longer in org.yaml, has only the code's)."""
        return self.fingerprints.get(stack) or f"retired:{code_version()}"

    def saved_plan(self, stack: str) -> SavedPlan | None:
        """The saved plan of a stack, if it was made from the current org.yaml and code."""
        saved = self.folder(stack).saved_plan()
        if saved is None or saved.fingerprint != self._fingerprint(stack):
            return None
        if saved.status is StackStatus.UNCHANGED and self.unchanged_since(stack, saved.account_id) is None:
            return None  # its state or providers changed since `plan` said so: planned anew
        return saved

    # -- apply ------------------------------------------------------------------------

    def apply_saved(self, stack: str) -> StackResult:
        """Apply a stack's saved plan (if it has changes); the plan file is spent either way."""
        saved = self.saved_plan(stack)
        if self.halted:
            return self._not_started(stack, saved.account_id if saved else None)
        if saved is None:
            return StackResult(stack, StackStatus.FAILED, error="no current plan (its planning failed)")
        if saved.status is StackStatus.WAITING:
            return StackResult(stack, StackStatus.WAITING)
        if saved.status in (StackStatus.NO_CHANGES, StackStatus.UNCHANGED):
            self.report.phase(stack, saved.status, "")
            return StackResult(stack, saved.status, saved.account_id, saved.summary, since=saved.since)
        folder = self.folder(stack)
        self.secure(stack)
        self.report.phase(stack, "applying", "")
        folder.mark_applying()
        folder.forget_clean()
        counter = EventCounter(self.report, stack, "applying", "apply_complete", total=planned_total(saved.summary))
        try:
            self.terraform.apply(folder.path, folder.plan_file, counter)
        except TerraformInterrupted:
            self.report.phase(stack, StackStatus.INTERRUPTED, "terraform stopped gracefully")
            return StackResult(stack, StackStatus.INTERRUPTED, saved.account_id, saved.summary)
        except TerraformError as exc:
            if isinstance(exc, Unreachable):
                self.unreachable = self.unreachable or exc
            message = explain.apply_failure(self.org, stack, str(exc))
            self.report.phase(stack, StackStatus.FAILED, shorten(message, PROGRESS_DETAIL))
            return StackResult(stack, StackStatus.FAILED, saved.account_id, saved.summary, message,
                               existed=existing_objects(exc.diagnostics))
        finally:
            folder.forget_plan()
        # Applied in full: the state now is what this config plans to (the next plan would
        # find no changes), so the stack is clean as of this state.
        self._mark_clean(stack, saved.account_id)
        self.report.phase(stack, StackStatus.APPLIED, counts_text(saved.summary))
        return StackResult(stack, StackStatus.APPLIED, saved.account_id, saved.summary)

    def apply_many(self, stacks: list[str], apply: Callable[[str], StackResult] | None = None) -> list[StackResult]:
        """`apply`: how one stack is applied (default: its saved plan, apply_saved)."""
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(apply or self.apply_saved, stacks))
