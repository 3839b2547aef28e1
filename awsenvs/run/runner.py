"""Plan and apply the stacks: `management` first, then account stacks in parallel.

The runner knows Terraform, not AWS: the account guard is handed in by the caller.  Saved
plans live beside each stack (`awsenvs.tfplan`) with a small record of what they were made
from (`awsenvs-plan.json`: the synth fingerprint and the account id), so `apply` applies
exactly the plans that were shown and re-plans when org.yaml or the code changed since.
The record says "applying" while its plan is being applied: a record still saying so was
left by an interrupted run, and its plan (stale: the state changed under it) is discarded.

What the live look-ups found (existing objects to import, accounts to retire) reaches a
stack as `awsenvs-lifecycle.tf.json` beside the synthesized config: `import` blocks and
`removed` blocks (destroy = false), rewritten before every plan.

Plan only what changed: after a plan with no changes, or a successful apply, a stack gets
a clean record (`awsenvs-clean.json`) of what that result was made from: its synth
fingerprint, the hash of its synthesized config, its account id, its state's serial and
lineage (read from the state itself, no provider started), the provider versions locked
at init (`.terraform.lock.hcl`) and the terraform version.  A later `plan` reports a stack
whose record still matches all of these as unchanged without running terraform; any
difference, or `plan --all`, plans it.  Every other outcome deletes the record.

What the record cannot see is AWS changed behind terraform's back.  So before a stack is
reported unchanged, the caller's drift check (`drift_for`, at API speed: the comparisons
of `audit`, awsenvs.stack_drift) is asked what of its live objects differs in a way
`apply` restores; a stack with any difference is planned, its result noting each one
(`drift: <finding>`), and a check that fails plans the stack too: never unchanged unseen.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol, Sequence

from awsenvs.config import (
    ACCOUNT_ID_VARIABLE,
    ACCOUNT_IDS_OUTPUT,
    ACCOUNT_TFVARS,
    BOOTSTRAP_STACK,
    IAM_USER_RESOURCE,
    MANAGEMENT_STACK,
    Org,
)
from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError, Unreachable, shorten
from awsenvs.run.folder_backend import (
    configured_backend,
    initialized_elsewhere,
    local_state_elsewhere,
    recorded_backend,
    takes_local_backend,
)
from awsenvs.run.explain import management_notes, touched_environments
from awsenvs.private import private_dir, state_files, tighten, write_private
from awsenvs.results import StackResult, StackStatus, counts_text
from awsenvs.synth import Synthesis, code_version, stack_dir, stack_fingerprints, write_retired_stack
from awsenvs.terraform import (
    STALE_PLAN,
    AttributeChange,
    Event,
    PlanSummary,
    ResourceChange,
    Terraform,
    TerraformError,
    TerraformInterrupted,
    existing_objects,
    state_addresses,
    tainted_addresses,
)

PLAN_FILE = "awsenvs.tfplan"
PLAN_RECORD = "awsenvs-plan.json"
CLEAN_RECORD = "awsenvs-clean.json"  # what the stack's last clean plan or apply was made from
LOCK_FILE = ".terraform.lock.hcl"
LIFECYCLE_FILE = "awsenvs-lifecycle.tf.json"
INIT_STAMP = ".terraform/awsenvs-init"
APPLYING = "applying"  # a plan record's mark while its plan is applied (not a result)
PROGRESS_DETAIL = 100  # characters of an error shown on a live progress line (the summary shows it all)


class LocalStateLeft(TerraformError):
    """state.backend is remote, but stacks still have local state files: moving them is bootstrap's."""


class StateNotFound(TerraformError):
    """No state beside org.yaml, while the stack folders were run with a state elsewhere:
    --config names another org.yaml than those runs used (bad input)."""

    exit_code = EXIT_BAD_INPUT


class ImportBlock(Protocol):
    address: str
    id: str
    reason: str
    risky: bool


@dataclass(frozen=True)
class Lifecycle:
    """What a stack's plan brings in (imports) or lets go of (forget) besides its config."""

    imports: Sequence[ImportBlock] = ()
    forget: Sequence[str] = ()  # addresses leaving state without being destroyed


# (stack, account id, addresses already in its state) -> lifecycle
LifecycleFor = Callable[[str, "str | None", frozenset], Lifecycle]
# (stack, account id) -> what of its live objects differs from org.yaml and `apply` restores,
# one finding each (none: nothing to plan for); raises when it cannot tell
DriftFor = Callable[[str, str], Sequence[str]]


@dataclass(frozen=True)
class Report:
    """How the runner says what it is doing: callbacks (the CLI wires a live Progress to them)."""

    phase: Callable[[str, str, str], None] = lambda stack, phase, detail: None  # "planning", "3/12 aws_iam_user.alice"
    note: Callable[[str], None] = lambda text: None  # a one-line remark (a file mode tightened)


@dataclass(frozen=True)
class SavedPlan:
    stack: str
    account_id: str | None
    status: StackStatus
    summary: PlanSummary | None
    notes: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    touches: tuple[str, ...] = ()
    since: str | None = None
    changes: tuple[ResourceChange, ...] = ()


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
        self.state_dir = state_dir
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

    # -- preparation ------------------------------------------------------------------

    def secure(self, stack: str) -> None:
        """Owner-only: the stack folder (plans, tfvars), the local state folder and the
        stack's state files and backups; looser ones are tightened with a note."""
        self._synthesized(stack)
        directory = stack_dir(self.outdir, stack)
        notes = private_dir(directory)
        notes += [tighten(directory / name) for name in (PLAN_FILE, ACCOUNT_TFVARS, PLAN_RECORD, LIFECYCLE_FILE, CLEAN_RECORD)]
        if self.org.state.backend == "local":
            state_dir = self.state_dir or self.org.state.local_dir
            notes += private_dir(state_dir)
            notes += [tighten(path) for path in state_files(state_dir) if path.name.split(".tfstate")[0] == stack]
        for note in filter(None, notes):
            self.report.note(note)

    def init(self, stack: str) -> None:
        """terraform init once per stack, again only when its terraform block changes or its
        folder was initialized on another backend since (bootstrap's move; see folder_backend)."""
        self._synthesized(stack)
        directory = stack_dir(self.outdir, stack)
        document = json.loads((directory / "cdk.tf.json").read_text())
        wanted = hashlib.sha256(json.dumps(document.get("terraform"), sort_keys=True).encode()).hexdigest()
        stamp = directory / INIT_STAMP
        self.secure(stack)
        if stamp.exists() and stamp.read_text() == wanted and not initialized_elsewhere(directory, document):
            return
        self.report.phase(stack, "init", "")
        reconfigure = self._left_an_empty_local_backend(directory) or takes_local_backend(stack, directory, document)
        self.terraform.init(directory, reconfigure=reconfigure, cloud=configured_backend(document)[0] == "cloud")
        stamp.write_text(wanted)

    def _left_an_empty_local_backend(self, directory: Path) -> bool:
        """Whether the folder was initialized on the local backend and its state file there
        holds nothing, while the stack's backend is now remote: it can take the new backend
        as it is (`init -reconfigure`), there is nothing to move.  (A local state that holds
        something is bootstrap's to move: check_no_local_state_left refuses before this.)
        Read from terraform's own record of the folder's backend, .terraform/terraform.tfstate."""
        if self.org.state.backend == "local":
            return False
        recorded = recorded_backend(directory) or {}
        if recorded.get("type") != "local":
            return False
        state = directory / ((recorded.get("config") or {}).get("path") or "terraform.tfstate")
        try:
            held = json.loads(state.read_text() or "{}")
        except FileNotFoundError:
            return True
        except (OSError, json.JSONDecodeError):
            return False
        return not held.get("resources") and not held.get("outputs")

    def _synthesized(self, stack: str, everything: bool = False) -> None:
        """Wait for the synth running beside this run (synth.synthesize_beside), if any:
        until it is done with `stack`'s folder when it rebuilds or removes that stack, or
        (`everything`: before terraform runs) until it is all done, so that a failed synth
        plans nothing.  Raises what the synth raised."""
        synthesis = self.synthesis
        if synthesis is None or not (everything or stack in synthesis.changing):
            return
        if synthesis.running:
            self.report.phase(stack, "synthesizing" if stack in synthesis.changing else "waiting for synth", "")
        synthesis.wait()

    def management_outputs(self, state: dict | None = None) -> dict:
        """The management stack's last outputs ({} before its first apply), from its state
        (`state`: as already read)."""
        outputs = ((self.state(MANAGEMENT_STACK) if state is None else state) or {}).get("outputs") or {}
        return {name: item.get("value") for name, item in outputs.items()}

    def state(self, stack: str) -> dict | None:
        """A stack's state as terraform stores it (None: none yet).  Local state is read
        from its file: no terraform start, which with hundreds of stacks adds up; other
        backends through `terraform state pull` (no provider is started either)."""
        if self.org.state.backend == "local":
            path = self._local_state_file(stack)
            try:
                text = path.read_text()
            except FileNotFoundError:
                return None
            try:
                return json.loads(text) if text.strip() else None
            except json.JSONDecodeError:
                raise TerraformError(f"{path}: not a readable state file (restore it from its .backup)") from None
        self.init(stack)
        return self.terraform.state_pull(stack_dir(self.outdir, stack)) or None

    def _local_state_file(self, stack: str) -> Path:
        return self.state_dir / f"{stack}.tfstate" if self.state_dir else self.org.state.local_file(stack)

    def managed_account_ids(self, outputs: dict | None = None) -> dict[str, str]:
        """Stack -> account id of every account in the management stack's last outputs,
        including environments since removed from org.yaml (to retire)."""
        outputs = self.management_outputs() if outputs is None else outputs
        return dict(outputs.get(ACCOUNT_IDS_OUTPUT) or {})

    def account_ids_at_hand(self) -> dict[str, str]:
        """The account ids known without running terraform: with local state all of them (the
        management stack's state file is read), else the adopted ones (org.yaml)."""
        return self.account_ids() if self.org.state.backend == "local" else dict(self.org.adopted_account_ids)

    def account_ids(self, managed: dict[str, str] | None = None) -> dict[str, str]:
        """Known account ids by stack: adopted ones from org.yaml, the rest from management's outputs."""
        ids = dict(self.org.adopted_account_ids)
        managed = self.managed_account_ids() if managed is None else managed
        ids.update({stack: account_id for stack, account_id in managed.items() if stack in self.org.stacks})
        return ids

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
            self._forget_plan(stack)
            result = StackResult(stack, StackStatus.UNCHANGED, ids.get(stack), since=since)
            self.report.phase(stack, StackStatus.UNCHANGED, f"since {since}")
            self._record(result)
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

    def check_no_local_state_left(self, stacks: Sequence[str]) -> None:
        """With a remote backend, a stack's local state file still in the state folder means
        its state was never moved: planning against the (empty) remote state would create
        everything again, so refuse and name the command that moves it."""
        if self.org.state.backend == "local":
            return
        state_dir = self.state_dir or self.org.state.local_dir
        left = [stack for stack in stacks if stack != BOOTSTRAP_STACK and self._local_state_file(stack).is_file()]
        if left:
            from awsenvs.results import names_text

            raise LocalStateLeft(
                f"state.backend is {self.org.state.backend}, but {names_text(left)} still "
                f"{'has' if len(left) == 1 else 'have'} local state in {state_dir}: run `bootstrap`, which moves it "
                "into the new backend (planning now would start from an empty state), or set state.backend back to "
                "local to plan from it as before")

    def check_state_found(self, stacks: Sequence[str]) -> None:
        """With the local backend, refuse (exit 2) when no stack has a state file where
        org.yaml says while the stack folders were run with state files elsewhere (see
        folder_backend.local_state_elsewhere): one line, before any stack is planned."""
        if self.org.state.backend != "local":
            return
        stacks = [stack for stack in stacks if stack != BOOTSTRAP_STACK]
        elsewhere = local_state_elsewhere((stack_dir(self.outdir, stack), self._local_state_file(stack))
                                          for stack in stacks)
        if elsewhere is None:
            return
        here = self.state_dir or self.org.state.local_dir
        raise StateNotFound(
            f"no state was found beside {self.org.source} (its state.path puts the stacks' state files in {here}), but "
            f"the stacks in {self.outdir} were last run with their state in {elsewhere}, another org.yaml's (a copy in "
            "another folder, or state.path or organization.name changed): planning from here would start from an "
            "empty state and create everything again; nothing was planned: pass --config (ORG= with make) the "
            f"org.yaml those runs used, or move that state folder to {here}")

    def untaint_kept(self, stack: str, tainted: frozenset[str]) -> tuple[str, ...]:
        """Untaint the `prevent_destroy` objects among those terraform marked tainted; one
        note each.  Terraform taints an object whose create succeeded when a follow-up call
        failed (the provider creates the organization, then enables its policy types; an
        account, then moves it to its OU: a lost response or a refusal there), and plans to
        replace a tainted object, which `prevent_destroy` refuses at every plan after, for
        good.  Replacing an organization or an account is never wanted, so the mark comes
        off before planning: the plan reads the object and finishes the follow-up as an
        update (or, if the object is gone after all, creates it)."""
        untainted = []
        for address in sorted(tainted & _kept(stack_dir(self.outdir, stack))):
            self.terraform.untaint(stack_dir(self.outdir, stack), address)
            untainted.append(f"untainted {address}: a call that follows its create failed in an earlier apply; "
                             "this plan finishes it in place (it is never replaced)")
        return tuple(untainted)

    # -- the clean record -------------------------------------------------------------

    def unchanged_since(self, stack: str, account_id: str | None) -> str | None:
        """When this stack's last clean plan or apply was, if nothing it was made from has
        changed since (see the module doc); None: it must be planned."""
        if account_id is None:
            return None
        try:
            record = json.loads((stack_dir(self.outdir, stack) / CLEAN_RECORD).read_text())
            return record["since"] if record["made_from"] == self._made_from(stack, account_id) else None
        except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError, TerraformError):
            return None

    def _made_from(self, stack: str, account_id: str) -> dict:
        directory = stack_dir(self.outdir, stack)
        state = self.state(stack) or {}
        return {
            "fingerprint": self._fingerprint(stack),
            "config": _digest(directory / "cdk.tf.json"),
            "account_id": account_id,
            "tfvars": _digest(directory / ACCOUNT_TFVARS),  # as plain `terraform plan` there reads it
            "state": [state.get("serial"), state.get("lineage")],
            "providers": _digest(directory / LOCK_FILE),
            "terraform": self.terraform.version,
        }

    def _mark_clean(self, stack: str, account_id: str | None) -> None:
        if account_id is None:
            return
        try:
            made_from = self._made_from(stack, account_id)
        except (OSError, TerraformError):  # the state unreadable just now: no record, planned next time
            return
        since = datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")
        write_private(stack_dir(self.outdir, stack) / CLEAN_RECORD, json.dumps({"since": since, "made_from": made_from}) + "\n")

    def _forget_clean(self, stack: str) -> None:
        (stack_dir(self.outdir, stack) / CLEAN_RECORD).unlink(missing_ok=True)

    def _plan_stack(self, stack: str, account_id: str | None, lifecycle_for: LifecycleFor,
                    terraform_slots: threading.Semaphore | None = None, drift: tuple[str, ...] = ()) -> StackResult:
        """Plan one stack with terraform (`drift`: why a stack unchanged since its clean record
        is planned, its result's first notes)."""
        directory = stack_dir(self.outdir, stack)
        self._forget_plan(stack)
        self._forget_clean(stack)
        if stack != MANAGEMENT_STACK and account_id is None:
            self._synthesized(stack)
            created = self.config_resources(stack)
            result = StackResult(stack, StackStatus.WAITING, summary=PlanSummary(add=len(created)), changes=created)
            self.report.phase(stack, StackStatus.WAITING, "(created when the management stack is applied)")
            self._record(result)
            return result
        try:
            # An account stack looks up only what its state lacks (an import of an address
            # in state is a no-op): once converged, none at all.  The management stack's
            # say which of a retired account's settings leave state with it.
            state = self.state(stack) or {}
            held = state_addresses(state)
            self.report.phase(stack, "looking up", "")
            lifecycle = lifecycle_for(stack, account_id, held)
            self._synthesized(stack, everything=True)
            if stack != MANAGEMENT_STACK:
                write_private(directory / ACCOUNT_TFVARS, json.dumps({ACCOUNT_ID_VARIABLE: account_id}) + "\n")
            write_lifecycle(directory, lifecycle)
            with terraform_slots or contextlib.nullcontext(), self._halting_when_unreachable():
                if self.halted:  # interrupted (or AWS lost) while it waited for a slot: it never ran
                    return self._not_started(stack, account_id)
                self.init(stack)
                untainted = self.untaint_kept(stack, tainted_addresses(state))
                self.report.phase(stack, "planning", "")
                counter = _Counter(self.report, stack, "planning", "planned_change")
                planned = self.terraform.plan(directory, directory / PLAN_FILE, counter)
                summary = planned.summary
                notes, risks = self._explain_imports(stack, planned.changes, lifecycle)
                notes = untainted + notes
                access, guardrails = self._environments_touched(stack, planned.changes, state)
            notes = drift + notes
            notes += tuple(f"Identity Center access to {t} changes (account assignments)" for t in access)
            notes += tuple(f"the guardrails or account settings of {t} change (its OU's policies, its contacts or "
                           "its opt-in regions)" for t in guardrails)
            notes += self._region_notes(stack, planned.changes)
            notes += management_notes(self.org, stack, planned.changes)
            touches = tuple(dict.fromkeys((*access, *guardrails)))
        except TerraformInterrupted:
            self.report.phase(stack, StackStatus.INTERRUPTED, "")
            return StackResult(stack, StackStatus.INTERRUPTED, account_id)
        except Exception as exc:  # noqa: BLE001 - terraform or a look-up: the stack fails, the others go on
            if isinstance(exc, Unreachable):  # a look-up's (terraform's was noted within its slot)
                self.unreachable = self.unreachable or exc
            message = str(exc) if isinstance(exc, (TerraformError, Unreachable)) else f"{type(exc).__name__}: {exc}"
            self.report.phase(stack, StackStatus.FAILED, shorten(message, PROGRESS_DETAIL))
            return StackResult(stack, StackStatus.FAILED, account_id, error=message)
        status = StackStatus.CHANGES if summary.changes else StackStatus.NO_CHANGES
        result = StackResult(stack, status, account_id, summary, notes=notes, risks=risks, touches=touches,
                             changes=planned.changes)
        self.report.phase(stack, "planned", counts_text(summary))
        self._record(result)
        if status is StackStatus.NO_CHANGES:
            self._mark_clean(stack, account_id)
        return result

    def _explain_imports(self, stack: str, changes: Sequence[ResourceChange],
                         lifecycle: Lifecycle) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """One line per import the plan really makes (objects already in state are no-ops):
        the look-ups' reason, or what org.yaml says of an import block synthesized into the
        stack (an adopted account, the organization)."""
        importing = [c.address for c in changes if c.importing]
        found = {i.address: i for i in lifecycle.imports}
        declared = self.org.declared_imports(stack)
        notes, risks = [], []
        for address in importing:
            if address in found:
                (risks if found[address].risky else notes).append(f"import {address}: {found[address].reason}")
            else:
                notes.append(f"import {address}: {declared.get(address, 'an import block of the synthesized stack')}")
        return tuple(notes), tuple(risks)

    def _environments_touched(self, stack: str, changes: Sequence[ResourceChange],
                              state: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The environments this management plan changes from outside their own stacks, so
        that their protection (mfa: required) applies (plan_notes.touched_environments).
        `state`: the management stack's, whose accounts org.yaml no longer has are being retired."""
        if stack != MANAGEMENT_STACK:
            return (), ()
        return touched_environments(self.org, changes, self.managed_account_ids(self.management_outputs(state)))

    def _region_notes(self, stack: str, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
        """Opt-in regions this management plan turns on or off: AWS takes minutes to hours
        (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html), and
        the provider waits until it is done."""
        if stack != MANAGEMENT_STACK:
            return ()
        listed = {env.region_address(region): (env, region, region in env.regions)
                  for env in self.org.environments for region in (*env.regions, *env.disable_regions)}
        notes = []
        for change in changes:
            if change.address in listed and change.changes and "delete" not in change.actions:
                env, region, enabling = listed[change.address]
                notes.append(f"{'enabling' if enabling else 'disabling'} {region} in {env.stack} takes minutes to "
                             "hours on AWS: apply waits for it")
        return tuple(notes)

    def config_resources(self, stack: str) -> tuple[ResourceChange, ...]:
        """Every resource in a stack's synthesized config, as the creates of its first plan
        (a stack waiting for its new account: nothing exists there yet)."""
        document = json.loads((stack_dir(self.outdir, stack) / "cdk.tf.json").read_text())
        return tuple(ResourceChange(f"{type_}.{name}", type_, ("create",))
                     for type_, resources in (document.get("resource") or {}).items() for name in resources)

    # -- retiring an environment ------------------------------------------------------

    def plan_retirement(self, stack: str, account_id: str, account_name: str, closing: str = "",
                        enabling: Sequence[str] = (), check: Callable[[list[str]], None] | None = None) -> StackResult:
        """What leaves the state of a removed environment's account stack (nothing is destroyed);
        `closing`: what happens to the parked account next (organization.on_retire: close);
        `enabling`: the policy types enabled first; `check`: the look-ups' precondition on
        the IAM users its state holds (raises: the retirement cannot be planned)."""
        directory = stack_dir(self.outdir, stack)
        try:
            write_retired_stack(self.org, self.outdir, stack, self.state_dir)
            self._forget_plan(stack)
            self._forget_clean(stack)
            self.init(stack)
            objects = self.terraform.state_list(directory)
            users = self.state_users(stack)
            if check is not None:
                check(users)
        except AwsenvsError as exc:
            message = f"retiring {stack}: {exc}"
            self.report.phase(stack, StackStatus.FAILED, shorten(message, PROGRESS_DETAIL))
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
        self.report.phase(stack, StackStatus.RETIRE, f"{len(objects)} objects leave state")
        self._record(result)
        return result

    def state_users(self, stack: str) -> list[str]:
        """The IAM user names a stack's state holds (a retired stack's, before they leave it)."""
        return sorted(instance.get("attributes", {}).get("name")
                      for resource in (self.state(stack) or {}).get("resources", [])
                      if resource.get("mode") == "managed" and resource.get("type") == IAM_USER_RESOURCE
                      for instance in resource.get("instances", []) if instance.get("attributes", {}).get("name"))

    def forget_stack(self, stack: str) -> int:
        """Take every object of a retired stack out of its state; returns how many."""
        directory = stack_dir(self.outdir, stack)
        self.init(stack)
        objects = self.terraform.state_list(directory)
        self.terraform.state_rm(directory, objects)
        self._forget_plan(stack)
        self._forget_clean(stack)
        return len(objects)

    def _record(self, result: StackResult) -> None:
        self._synthesized(result.stack)  # its folder may be synth's to make yet
        s = result.summary
        record = {
            "fingerprint": self._fingerprint(result.stack), "account_id": result.account_id, "status": result.status,
            "summary": [s.add, s.change, s.destroy, s.imports, s.forget] if s else None,
            "notes": list(result.notes), "risks": list(result.risks), "touches": list(result.touches),
            "since": result.since,
            "changes": [[c.address, c.type, list(c.actions), c.importing, [asdict(a) for a in c.attributes]]
                        for c in result.changes],
        }
        write_private(stack_dir(self.outdir, result.stack) / PLAN_RECORD, json.dumps(record) + "\n")

    def _fingerprint(self, stack: str) -> str:
        """What a saved plan of this stack was made from: its synth fingerprint (a retired
        stack, no longer in org.yaml, has only the code's)."""
        return self.fingerprints.get(stack) or f"retired:{code_version()}"

    def _forget_plan(self, stack: str) -> None:
        for name in (PLAN_FILE, PLAN_RECORD):
            (stack_dir(self.outdir, stack) / name).unlink(missing_ok=True)

    def saved_plan(self, stack: str) -> SavedPlan | None:
        """The saved plan of a stack, if it was made from the current org.yaml and code."""
        directory = stack_dir(self.outdir, stack)
        record = self._read_record(stack)
        if record is None or record.get("fingerprint") != self._fingerprint(stack) or record.get("status") == APPLYING:
            return None
        status = StackStatus(record["status"])
        if status in (StackStatus.CHANGES, StackStatus.NO_CHANGES) and not (directory / PLAN_FILE).exists():
            return None
        if status is StackStatus.UNCHANGED and self.unchanged_since(stack, record.get("account_id")) is None:
            return None  # its state or providers changed since `plan` said so: planned anew
        summary = PlanSummary(*record["summary"]) if record.get("summary") else None
        changes = tuple(ResourceChange(address, type_, tuple(actions), importing,
                                       tuple(AttributeChange(**a) for a in (attributes[0] if attributes else ())))
                        for address, type_, actions, importing, *attributes in record.get("changes", ()))
        return SavedPlan(stack, record.get("account_id"), status, summary,
                         tuple(record.get("notes", ())), tuple(record.get("risks", ())), tuple(record.get("touches", ())),
                         record.get("since"), changes)

    def interrupted(self, stack: str) -> bool:
        """Whether the last apply of this stack was interrupted (its record still says applying)."""
        return (self._read_record(stack) or {}).get("status") == APPLYING

    def _read_record(self, stack: str) -> dict | None:
        try:
            return json.loads((stack_dir(self.outdir, stack) / PLAN_RECORD).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

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
        directory = stack_dir(self.outdir, stack)
        self.secure(stack)
        self.report.phase(stack, "applying", "")
        write_private(directory / PLAN_RECORD, json.dumps({**self._read_record(stack), "status": APPLYING}) + "\n")
        self._forget_clean(stack)
        counter = _Counter(self.report, stack, "applying", "apply_complete", total=_total(saved.summary))
        try:
            self.terraform.apply(directory, directory / PLAN_FILE, counter)
        except TerraformInterrupted:
            self.report.phase(stack, StackStatus.INTERRUPTED, "terraform stopped gracefully")
            return StackResult(stack, StackStatus.INTERRUPTED, saved.account_id, saved.summary)
        except TerraformError as exc:
            if isinstance(exc, Unreachable):
                self.unreachable = self.unreachable or exc
            message = self._explained(stack, str(exc))
            self.report.phase(stack, StackStatus.FAILED, shorten(message, PROGRESS_DETAIL))
            return StackResult(stack, StackStatus.FAILED, saved.account_id, saved.summary, message,
                               existed=existing_objects(exc.diagnostics))
        finally:
            self._forget_plan(stack)
        # Applied in full: the state now is what this config plans to (the next plan would
        # find no changes), so the stack is clean as of this state.
        self._mark_clean(stack, saved.account_id)
        self.report.phase(stack, StackStatus.APPLIED, counts_text(saved.summary))
        return StackResult(stack, StackStatus.APPLIED, saved.account_id, saved.summary)

    def _explained(self, stack: str, message: str) -> str:
        """An apply's failure in the words of what to do about it, where its diagnostic is one
        org.yaml can fix."""
        if STALE_PLAN in message:
            return "its state changed since the plan was made (another run?): run apply again to plan anew"
        if "CreateAccountAlias" in message and "EntityAlreadyExists" in message and stack != MANAGEMENT_STACK:
            # Aliases are unique across all of AWS, not per organization
            # (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccountAlias.html: EntityAlreadyExists).
            env = self.org.environment_by_stack(stack)
            return (f"the account alias {env.alias!r} belongs to another AWS account (aliases are unique across all of "
                    f"AWS): choose another with alias: under products.{env.product}.environments.{env.name} in "
                    f"{self.org.source.name}, then plan and apply again")
        return message

    def apply_many(self, stacks: list[str], apply: Callable[[str], StackResult] | None = None) -> list[StackResult]:
        """`apply`: how one stack is applied (default: its saved plan, apply_saved)."""
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(apply or self.apply_saved, stacks))


def write_lifecycle(directory: Path, lifecycle: Lifecycle) -> None:
    """The stack's `import` and `removed` blocks beside its config (none: no file)."""
    path = directory / LIFECYCLE_FILE
    document: dict = {}
    if lifecycle.imports:
        document["import"] = [{"to": i.address, "id": i.id} for i in lifecycle.imports]
    if lifecycle.forget:
        document["removed"] = [{"from": a, "lifecycle": {"destroy": False}} for a in lifecycle.forget]
    if document:
        write_private(path, json.dumps(document, indent=2) + "\n")
    else:
        path.unlink(missing_ok=True)


class _Counter:
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


def _kept(directory: Path) -> frozenset[str]:
    """The resources of a stack's synthesized config that carry `lifecycle.prevent_destroy`."""
    document = json.loads((directory / "cdk.tf.json").read_text())
    return frozenset(f"{type_}.{name}" for type_, resources in (document.get("resource") or {}).items()
                     for name, body in resources.items() if (body.get("lifecycle") or {}).get("prevent_destroy"))


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _total(summary: PlanSummary | None) -> int:
    return (summary.add + summary.change + summary.destroy + summary.imports + summary.forget) if summary else 0

