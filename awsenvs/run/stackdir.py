"""A stack's folder (`<outdir>/stacks/<stack>`) and the files awsenvs keeps there beside the
synthesized config, all owner-only (they can hold secrets: awsenvs.private):

- `awsenvs.tfplan`, the saved plan, and `awsenvs-plan.json`, its record: what it was made
  from (the synth fingerprint, the account id) and what it said (status, counts, notes, the
  changes), so `apply` applies exactly the plans that were shown.  The record says
  "applying" while its plan is being applied: one still saying so was left by an
  interrupted run, and its plan (stale: the state changed under it) is discarded.
- `awsenvs-clean.json`, the clean record: when the stack's last plan with no changes or
  successful apply was, and what that result was made from: its synth fingerprint, the
  hash of its synthesized config and tfvars, its account id, its state's serial and
  lineage (read from the state itself, no provider started), the provider versions locked
  at init (`.terraform.lock.hcl`) and the terraform version (made_from).  While all of
  these match, the stack is unchanged (runner.Runner.unchanged_since); every outcome but a
  plan with no changes or a successful apply deletes it.
- `awsenvs-lifecycle.tf.json`: what the live look-ups found, as `import` blocks and
  `removed` blocks (destroy = false), rewritten before every plan.
- `.terraform/awsenvs-init`: the digest of the terraform block the folder was last
  initialized with (init again only when it changes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol, Sequence

from awsenvs.config import ACCOUNT_ID_VARIABLE, ACCOUNT_TFVARS
from awsenvs.private import private_dir, tighten, write_private
from awsenvs.results import StackResult, StackStatus
from awsenvs.run.folder_backend import configured_backend, initialized_elsewhere, recorded_backend, takes_local_backend
from awsenvs.run.state import StackState
from awsenvs.synth import stack_dir
from awsenvs.terraform import AttributeChange, PlanSummary, ResourceChange, Terraform, TerraformError

PLAN_FILE = "awsenvs.tfplan"
PLAN_RECORD = "awsenvs-plan.json"
CLEAN_RECORD = "awsenvs-clean.json"  # what the stack's last clean plan or apply was made from
LOCK_FILE = ".terraform.lock.hcl"
LIFECYCLE_FILE = "awsenvs-lifecycle.tf.json"
INIT_STAMP = ".terraform/awsenvs-init"
CONFIG_FILE = "cdk.tf.json"
APPLYING = "applying"  # a plan record's mark while its plan is applied (not a result)


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


@dataclass(frozen=True)
class SavedPlan:
    """A stack's saved plan, as its record describes it."""

    stack: str
    account_id: str | None
    status: StackStatus
    summary: PlanSummary | None
    notes: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    touches: tuple[str, ...] = ()
    since: str | None = None
    changes: tuple[ResourceChange, ...] = ()
    fingerprint: str | None = None  # what it was made from (see runner.Runner.saved_plan)

    def as_result(self) -> StackResult:
        return StackResult(self.stack, self.status, self.account_id, self.summary, notes=self.notes, risks=self.risks,
                           touches=self.touches, since=self.since, changes=self.changes)


@dataclass(frozen=True)
class StackFolder:
    stack: str
    path: Path

    @classmethod
    def of(cls, outdir: Path, stack: str) -> StackFolder:
        return cls(stack, stack_dir(outdir, stack))

    @property
    def plan_file(self) -> Path:
        return self.path / PLAN_FILE

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_FILE

    def config(self) -> dict:
        return json.loads(self.config_file.read_text())

    def digest(self, name: str) -> str | None:
        """The sha256 of one of its files (None: not there)."""
        try:
            return hashlib.sha256((self.path / name).read_bytes()).hexdigest()
        except FileNotFoundError:
            return None

    # -- owner-only -------------------------------------------------------------------

    def secure(self) -> list[str]:
        """Owner-only: the folder and the files awsenvs writes there; a note for each looser one tightened."""
        notes = private_dir(self.path)
        return notes + [note for note in (tighten(self.path / name) for name in (
            PLAN_FILE, ACCOUNT_TFVARS, PLAN_RECORD, LIFECYCLE_FILE, CLEAN_RECORD)) if note]

    # -- init -------------------------------------------------------------------------

    def init(self, terraform: Terraform, remote: bool, on_init: Callable[[], None] = lambda: None) -> None:
        """terraform init once per config, again only when its terraform block changes or the
        folder was initialized on another backend since (bootstrap's move; see folder_backend).
        `remote`: org.yaml's backend is not local; `on_init`: called when init runs."""
        document = self.config()
        stamp = self.path / INIT_STAMP
        wanted = hashlib.sha256(json.dumps(document.get("terraform"), sort_keys=True).encode()).hexdigest()
        if stamp.exists() and stamp.read_text() == wanted and not initialized_elsewhere(self.path, document):
            return
        on_init()
        # A folder left on an empty local backend takes the remote one as it is (nothing to move).
        reconfigure = (remote and self.left_an_empty_local_backend()) or takes_local_backend(self.stack, self.path, document)
        terraform.init(self.path, reconfigure=reconfigure, cloud=configured_backend(document)[0] == "cloud")
        stamp.write_text(wanted)

    def left_an_empty_local_backend(self) -> bool:
        """Whether the folder was initialized on the local backend and its state file there
        holds nothing (init asks only when the stack's backend is now remote): it can take the
        new backend as it is (`init -reconfigure`), there is nothing to move.  (A local state
        that holds something is bootstrap's to move: States.check_no_local_state_left refuses
        before this.)  Read from terraform's own record of the folder's backend,
        .terraform/terraform.tfstate."""
        recorded = recorded_backend(self.path) or {}
        if recorded.get("type") != "local":
            return False
        state = self.path / ((recorded.get("config") or {}).get("path") or "terraform.tfstate")
        if not state.exists():
            return True
        try:
            return not StackState.read_file(state).holds_anything
        except (OSError, TerraformError):
            return False

    # -- what the plan is made from ---------------------------------------------------

    def write_account_tfvars(self, account_id: str) -> None:
        write_private(self.path / ACCOUNT_TFVARS, json.dumps({ACCOUNT_ID_VARIABLE: account_id}) + "\n")

    def write_lifecycle(self, lifecycle: Lifecycle) -> None:
        """The stack's `import` and `removed` blocks beside its config (none: no file)."""
        path = self.path / LIFECYCLE_FILE
        document: dict = {}
        if lifecycle.imports:
            document["import"] = [{"to": i.address, "id": i.id} for i in lifecycle.imports]
        if lifecycle.forget:
            document["removed"] = [{"from": a, "lifecycle": {"destroy": False}} for a in lifecycle.forget]
        if document:
            write_private(path, json.dumps(document, indent=2) + "\n")
        else:
            path.unlink(missing_ok=True)

    def config_resources(self) -> tuple[ResourceChange, ...]:
        """Every resource in the synthesized config, as the creates of its first plan (a
        stack waiting for its new account: nothing exists there yet)."""
        return tuple(ResourceChange(f"{type_}.{name}", type_, ("create",))
                     for type_, resources in (self.config().get("resource") or {}).items() for name in resources)

    def kept(self) -> frozenset[str]:
        """The resources of the synthesized config that carry `lifecycle.prevent_destroy`."""
        return frozenset(f"{type_}.{name}" for type_, resources in (self.config().get("resource") or {}).items()
                         for name, body in resources.items() if (body.get("lifecycle") or {}).get("prevent_destroy"))

    def untaint_kept(self, terraform: Terraform, tainted: frozenset[str]) -> tuple[str, ...]:
        """Untaint the `prevent_destroy` objects among those terraform marked tainted; one
        note each.  Terraform taints an object whose create succeeded when a follow-up call
        failed (the provider creates the organization, then enables its policy types; an
        account, then moves it to its OU: a lost response or a refusal there), and plans to
        replace a tainted object, which `prevent_destroy` refuses at every plan after, for
        good.  Replacing an organization or an account is never wanted, so the mark comes
        off before planning: the plan reads the object and finishes the follow-up as an
        update (or, if the object is gone after all, creates it)."""
        untainted = []
        for address in sorted(tainted & self.kept()):
            terraform.untaint(self.path, address)
            untainted.append(f"untainted {address}: a call that follows its create failed in an earlier apply; "
                             "this plan finishes it in place (it is never replaced)")
        return tuple(untainted)

    # -- the saved plan and its record ------------------------------------------------

    def write_plan_record(self, result: StackResult, fingerprint: str) -> None:
        s = result.summary
        record = {
            "fingerprint": fingerprint, "account_id": result.account_id, "status": result.status,
            "summary": [s.add, s.change, s.destroy, s.imports, s.forget] if s else None,
            "notes": list(result.notes), "risks": list(result.risks), "touches": list(result.touches),
            "since": result.since,
            "changes": [[c.address, c.type, list(c.actions), c.importing, [asdict(a) for a in c.attributes]]
                        for c in result.changes],
        }
        write_private(self.path / PLAN_RECORD, json.dumps(record) + "\n")

    def _plan_record(self) -> dict | None:
        try:
            return json.loads((self.path / PLAN_RECORD).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def saved_plan(self) -> SavedPlan | None:
        """The saved plan as its record describes it; None: no record, its apply was
        interrupted, or a plan with terraform whose plan file is gone."""
        record = self._plan_record()
        if record is None or record.get("status") == APPLYING:
            return None
        status = StackStatus(record["status"])
        if status in (StackStatus.CHANGES, StackStatus.NO_CHANGES) and not self.plan_file.exists():
            return None
        summary = PlanSummary(*record["summary"]) if record.get("summary") else None
        changes = tuple(ResourceChange(address, type_, tuple(actions), importing,
                                       tuple(AttributeChange(**a) for a in (attributes[0] if attributes else ())))
                        for address, type_, actions, importing, *attributes in record.get("changes", ()))
        return SavedPlan(self.stack, record.get("account_id"), status, summary,
                         tuple(record.get("notes", ())), tuple(record.get("risks", ())), tuple(record.get("touches", ())),
                         record.get("since"), changes, record.get("fingerprint"))

    def interrupted(self) -> bool:
        """Whether the last apply of this stack was interrupted (its record still says applying)."""
        return (self._plan_record() or {}).get("status") == APPLYING

    def mark_applying(self) -> None:
        write_private(self.path / PLAN_RECORD, json.dumps({**self._plan_record(), "status": APPLYING}) + "\n")

    def forget_plan(self) -> None:
        for name in (PLAN_FILE, PLAN_RECORD):
            (self.path / name).unlink(missing_ok=True)

    # -- the clean record -------------------------------------------------------------

    def clean_since(self, made_from: Callable[[], dict]) -> str | None:
        """When the last clean plan or apply was, if it was made from what `made_from` says
        now (asked only when there is a record: a remote state is read for it); None: no
        record, another making, or what it was made from cannot be read."""
        try:
            record = json.loads((self.path / CLEAN_RECORD).read_text())
            return record["since"] if record["made_from"] == made_from() else None
        except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError, TerraformError):
            return None

    def mark_clean(self, made_from: Callable[[], dict]) -> None:
        """A clean record as of now (none when the state cannot be read just now: the stack
        is planned next time)."""
        try:
            record = {"since": datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M"),
                      "made_from": made_from()}
        except (OSError, TerraformError):
            return
        write_private(self.path / CLEAN_RECORD, json.dumps(record) + "\n")

    def made_from(self, fingerprint: str, account_id: str, state: StackState, terraform_version: str) -> dict:
        return {
            "fingerprint": fingerprint,
            "config": self.digest(CONFIG_FILE),
            "account_id": account_id,
            "tfvars": self.digest(ACCOUNT_TFVARS),  # as plain `terraform plan` there reads it
            "state": [state.serial, state.lineage],
            "providers": self.digest(LOCK_FILE),
            "terraform": terraform_version,
        }

    def forget_clean(self) -> None:
        (self.path / CLEAN_RECORD).unlink(missing_ok=True)
