"""Plan and apply the stacks: `management` first, then account stacks in parallel.

The runner knows Terraform, not AWS: the account guard is handed in by the caller.  Saved
plans live beside each stack (`awsenvs.tfplan`) with a small record of what they were made
from (`awsenvs-plan.json`: the synth fingerprint and the account id), so `apply` applies
exactly the plans that were shown and re-plans when org.yaml or the code changed since.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from awsenvs.config import ACCOUNT_ID_VARIABLE, ACCOUNT_IDS_OUTPUT, ACCOUNT_TFVARS, MANAGEMENT_STACK, Org
from awsenvs.progress import Progress, StackResult
from awsenvs.synth import fingerprint, stack_dir
from awsenvs.terraform import Event, PlanSummary, Terraform, TerraformError

PLAN_FILE = "awsenvs.tfplan"
PLAN_RECORD = "awsenvs-plan.json"
INIT_STAMP = ".terraform/awsenvs-init"
WAITING = "waiting for account"


@dataclass(frozen=True)
class SavedPlan:
    stack: str
    account_id: str | None
    status: str
    summary: PlanSummary | None


class Runner:
    def __init__(
        self, org: Org, terraform: Terraform, outdir: Path, progress: Progress,
        state_dir: Path | None = None, workers: int = 4,
    ) -> None:
        self.org = org
        self.terraform = terraform
        self.outdir = Path(outdir).resolve()
        self.progress = progress
        self.workers = max(1, workers)
        self.fingerprint = fingerprint(org, self.outdir, state_dir, False)

    # -- preparation ------------------------------------------------------------------

    def init(self, stack: str) -> None:
        """terraform init once per stack, again only when its terraform block changes."""
        directory = stack_dir(self.outdir, stack)
        document = json.loads((directory / "cdk.tf.json").read_text())
        wanted = hashlib.sha256(json.dumps(document.get("terraform"), sort_keys=True).encode()).hexdigest()
        stamp = directory / INIT_STAMP
        if stamp.exists() and stamp.read_text() == wanted:
            return
        self.progress.update(stack, "init")
        self.terraform.init(directory)
        stamp.write_text(wanted)

    def account_ids(self) -> dict[str, str]:
        """Known account ids by stack: adopted ones from org.yaml, the rest from management's outputs."""
        ids = dict(self.org.adopted_account_ids)
        self.init(MANAGEMENT_STACK)
        created = self.terraform.outputs(stack_dir(self.outdir, MANAGEMENT_STACK)).get(ACCOUNT_IDS_OUTPUT) or {}
        ids.update({stack: account_id for stack, account_id in created.items() if stack in self.org.stacks})
        return ids

    # -- plan -------------------------------------------------------------------------

    def plan(self, stacks: list[str], management_account: str | None, account_ids: dict[str, str]) -> list[StackResult]:
        # Planning management changes no account id, so every stack whose account exists
        # is planned at once with it; management goes first into the pool.
        ids = {**account_ids, MANAGEMENT_STACK: management_account}
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(lambda s: self._plan_stack(s, ids.get(s)), stacks))

    def _plan_stack(self, stack: str, account_id: str | None) -> StackResult:
        directory = stack_dir(self.outdir, stack)
        self._forget_plan(stack)
        if stack != MANAGEMENT_STACK and account_id is None:
            result = StackResult(stack, WAITING)
            self.progress.update(stack, WAITING, "the management stack creates it")
            self._record(result)
            return result
        try:
            self.init(stack)
            if stack != MANAGEMENT_STACK:
                (directory / ACCOUNT_TFVARS).write_text(json.dumps({ACCOUNT_ID_VARIABLE: account_id}) + "\n")
            self.progress.update(stack, "planning")
            counter = _Counter(self.progress, stack, "planning", "planned_change")
            summary = self.terraform.plan(directory, directory / PLAN_FILE, counter)
        except TerraformError as exc:
            self.progress.update(stack, "failed", str(exc)[:100])
            return StackResult(stack, "failed", account_id, error=str(exc))
        result = StackResult(stack, "changes" if summary.changes else "no changes", account_id, summary)
        self.progress.update(stack, "planned", _counts(summary))
        self._record(result)
        return result

    def _record(self, result: StackResult) -> None:
        s = result.summary
        record = {
            "fingerprint": self.fingerprint, "account_id": result.account_id, "status": result.status,
            "summary": [s.add, s.change, s.destroy, s.imports] if s else None,
        }
        (stack_dir(self.outdir, result.stack) / PLAN_RECORD).write_text(json.dumps(record) + "\n")

    def _forget_plan(self, stack: str) -> None:
        for name in (PLAN_FILE, PLAN_RECORD):
            (stack_dir(self.outdir, stack) / name).unlink(missing_ok=True)

    def saved_plan(self, stack: str) -> SavedPlan | None:
        """The saved plan of a stack, if it was made from the current org.yaml and code."""
        directory = stack_dir(self.outdir, stack)
        try:
            record = json.loads((directory / PLAN_RECORD).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if record.get("fingerprint") != self.fingerprint:
            return None
        if record["status"] in ("changes", "no changes") and not (directory / PLAN_FILE).exists():
            return None
        summary = PlanSummary(*record["summary"]) if record.get("summary") else None
        return SavedPlan(stack, record.get("account_id"), record["status"], summary)

    def changed_resources(self, stack: str) -> list[tuple[str, str]]:
        """(action, address) of every change in a stack's saved plan (terraform show -json)."""
        directory = stack_dir(self.outdir, stack)
        plan = self.terraform.show_plan(directory, directory / PLAN_FILE)
        changes = []
        for change in plan.get("resource_changes", []):
            actions = change["change"]["actions"]
            imported = "importing" in change["change"]
            if actions != ["no-op"] or imported:
                action = "import" if actions == ["no-op"] else "replace" if len(actions) == 2 else actions[0]
                changes.append((action, change["address"]))
        return changes

    # -- apply ------------------------------------------------------------------------

    def apply_saved(self, stack: str) -> StackResult:
        """Apply a stack's saved plan (if it has changes); the plan file is spent either way."""
        saved = self.saved_plan(stack)
        if saved is None:
            return StackResult(stack, "failed", error="no current plan (its planning failed)")
        if saved.status == WAITING:
            return StackResult(stack, WAITING)
        if saved.status == "no changes":
            self.progress.update(stack, "no changes")
            return StackResult(stack, "no changes", saved.account_id, saved.summary)
        directory = stack_dir(self.outdir, stack)
        self.progress.update(stack, "applying")
        counter = _Counter(self.progress, stack, "applying", "apply_complete", total=_total(saved.summary))
        try:
            self.terraform.apply(directory, directory / PLAN_FILE, counter)
        except TerraformError as exc:
            self.progress.update(stack, "failed", str(exc)[:100])
            return StackResult(stack, "failed", saved.account_id, saved.summary, str(exc))
        finally:
            self._forget_plan(stack)
        self.progress.update(stack, "applied", _counts(saved.summary))
        return StackResult(stack, "applied", saved.account_id, saved.summary)

    def apply_many(self, stacks: list[str]) -> list[StackResult]:
        with ThreadPoolExecutor(self.workers) as pool:
            return list(pool.map(self.apply_saved, stacks))


class _Counter:
    """Turns terraform events into 'planning 3' / 'applying 4/12' progress."""

    def __init__(self, progress: Progress, stack: str, phase: str, counted: str, total: int = 0) -> None:
        self.progress, self.stack, self.phase, self.counted, self.total = progress, stack, phase, counted, total
        self.count = 0

    def __call__(self, event: Event) -> None:
        if event.type == self.counted:
            self.count += 1
            done = f"{self.count}/{self.total}" if self.total else str(self.count)
            self.progress.update(self.stack, self.phase, f"{done} {event.resource}")


def _counts(summary: PlanSummary | None) -> str:
    if summary is None:
        return ""
    text = f"+{summary.add} ~{summary.change} -{summary.destroy}"
    return text + (f" import {summary.imports}" if summary.imports else "")


def _total(summary: PlanSummary | None) -> int:
    return (summary.add + summary.change + summary.destroy + summary.imports) if summary else 0


def exit_code_for_plan(results: list[StackResult]) -> int:
    """terraform -detailed-exitcode style: 1 any error, 2 changes somewhere, 0 none."""
    if any(r.failed for r in results):
        return 1
    if any(r.status in ("changes", WAITING) for r in results):
        return 2
    return 0
