"""`bootstrap`: what the state backend needs before any stack can `init`, kept in Terraform.

- `s3`: the state bucket, versioned, encrypted by default, no public access, TLS only, old
  state versions expiring (modules/bootstrap.py).  Locking needs nothing else (`use_lockfile`).
- `cloud`: the OIDC provider of the Terraform Cloud host and one role per stack workspace
  in the management account, each trusted by its own workspace's runs only, and a table of
  the workspace variables that make the runs use them (dynamic provider credentials).
- `local`: nothing to do.
- with `ci.github` (s3 or cloud): GitHub Actions' OIDC provider and the plan and apply
  roles of the repository's jobs (modules/bootstrap.py); the result names them and the
  next steps (`make ci`, the two GitHub environments).

The resources are one small stack, `bootstrap`, with local state
(`<state.path>/<organization>/bootstrap.tfstate`), so it is re-run and reviewed like the
others: guard (the management account's credentials), look up what already exists
(imported, not created twice), plan, show, confirm unless --yes, apply.  A second run
with nothing changed plans no changes and applies nothing.

Then it moves what earlier runs kept in local state into the new backend (switching
`state.backend` from local to s3 or cloud after a first apply), confirming first unless
--yes: each stack's folder is initialized on the new backend (`terraform init
-reconfigure`; with a `cloud` block, which Terraform refuses it for, a plain init with the
folder's record of its last backend set aside: Terraform.init), its local state file is
pushed there (`terraform state push`) when the
backend holds nothing yet (a state already there is never pushed over: the same one is
left, another one stops the move), and read back.  Only once every stack's state reads back
holding the same resources and outputs do the local files leave the state folder, into a
private backup beside it (`<state folder>/moved-<time>/`): a move that stops half way
leaves every local state file in place, so each stack still plans from it once
`state.backend` is set back to local (the folders bootstrap initialized on the new backend
take the local one again: folder_backend), and the next bootstrap resumes the move (the
states pushed already are recognized).  Why push and not `terraform
init -migrate-state -force-copy`: Terraform refuses -migrate-state and -force-copy for HCP
Terraform (internal/command/meta_backend.go: "not applicable when using HCP Terraform"),
-force-copy answers yes to overwriting a state already in the new backend, and a
migration needs the stack folder to remember its old backend (a fresh clone with the
state folder copied over has none).  The next `plan` then finds no changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from awsenvs.config import BOOTSTRAP_STACK, TFC_PROVIDER_AUTH_VARIABLE, TFC_RUN_ROLE_VARIABLE, Org, RunRole
from awsenvs.errors import Unreachable
from awsenvs.private import private_dir
from awsenvs.results import change_lines, changes_beyond, counts_text, listed_changes, names_text
from awsenvs.run.confirm import Confirmation, Refused, confirm
from awsenvs.run.outputs import known_account_ids
from awsenvs.run.stackdir import Lifecycle, StackFolder
from awsenvs.run.state import StackState
from awsenvs.synth import stack_dir, synthesize, write_bootstrap_stack
from awsenvs.terraform import Plan, Terraform, TerraformError, existing_objects


@dataclass
class Bootstrap:
    org: Org
    outdir: Path
    console: Console
    terraform: Terraform
    guard: Callable[[dict[str, str]], str]  # known member ids -> the caller's account id, or raises
    ask: Callable[[str], str] | None  # None: no terminal to ask on
    # The look-ups of what exists but is not in the bootstrap state yet (the addresses it
    # holds: reconcile.bootstrap_imports).
    imports: Callable[[Org, tuple[RunRole, ...], frozenset[str]], list]
    # Moving into S3 state: the record of grants goes along (elevation.move_into_bucket;
    # returns the local files to back up with the states).
    move_grants: Callable[[Org], list[Path]] | None = None


def run(b: Bootstrap, yes: bool) -> int:
    """Plan, show, confirm and apply the bootstrap stack; the exit code."""
    org, console = b.org, b.console
    if org.state.backend == "local":
        console.print("state.backend is local: nothing to bootstrap (the state files live in "
                      f"{org.state.local_dir})", markup=False, highlight=False)
        return 0
    caller = b.guard(org.adopted_account_ids)
    roles: tuple[RunRole, ...] = ()
    if org.state.backend == "cloud":
        # Unreadable ids fail here: planning without them would take the permission of
        # every created account's role away.
        with console.status("Reading the ids of created accounts (the management stack's state)…"):
            ids = known_account_ids(org, b.outdir, b.terraform)
        b.guard(ids)  # the created accounts are members too: never their credentials
        roles = org.run_roles(ids)
    with console.status("Looking up what already exists…"):
        imports = b.imports(org, roles, _held_addresses(org))
    with console.status("Synthesizing the bootstrap stack (loading the AWS bindings takes a few seconds)…"):
        directory = write_bootstrap_stack(org, b.outdir, roles)
    folder = StackFolder(BOOTSTRAP_STACK, directory)
    folder.write_lifecycle(Lifecycle(imports=imports))
    planfile = folder.plan_file
    with console.status("Planning the bootstrap stack…"):
        b.terraform.init(directory)
        planned = b.terraform.plan(directory, planfile)
    summary = planned.summary
    if not summary.changes:
        planfile.unlink(missing_ok=True)
        console.print(f"{BOOTSTRAP_STACK}: no changes, everything is in place (state: {org.state.bootstrap_state})",
                      markup=False, highlight=False)
    else:
        _show(console, planned, imports)
        try:
            confirm(_confirmation("Apply the bootstrap plan above?", "the bootstrap plan above"), b.ask, yes)
        except Refused:
            planfile.unlink(missing_ok=True)  # never applied later: every run plans anew
            raise
        _apply(b, roles, folder, planned)
        console.print(f"{BOOTSTRAP_STACK}: applied ({counts_text(summary)}); state: {org.state.bootstrap_state}",
                      markup=False, highlight=False)
    _print_result(console, org, roles, caller)
    move_local_state(b, yes)
    return 0


def _apply(b: Bootstrap, roles: tuple[RunRole, ...], folder: StackFolder, confirmed: Plan) -> None:
    """Apply the confirmed plan.  When it fails only because creates met objects that exist
    (the SDK retried a create whose answer was lost, and the retry found what the first
    attempt made; or another run made them), the stack is looked up and planned again at once
    with those objects imported, and applied, once, if that plan does nothing beyond what was
    confirmed (the same way the account stacks recover: run/workflow._apply_one)."""
    with b.console.status("Applying the bootstrap stack…"):
        try:
            b.terraform.apply(folder.path, folder.plan_file)
            return
        except TerraformError as exc:
            existed = existing_objects(exc.diagnostics)
            if not existed:
                raise
            failed = exc
        finally:
            folder.plan_file.unlink(missing_ok=True)
    b.console.print(f"{BOOTSTRAP_STACK}: {names_text(existed)} existed already (a create whose answer was lost, or "
                    "another run's): planning it again with them imported", markup=False, highlight=False)
    imports = b.imports(b.org, roles, _held_addresses(b.org))
    folder.write_lifecycle(Lifecycle(imports=imports))
    with b.console.status("Planning the bootstrap stack again…"):
        again = b.terraform.plan(folder.path, folder.plan_file)
    imported = {c.address for c in again.changes if c.importing}
    beyond = changes_beyond(confirmed.changes, again.changes, imports_of_creates=True)
    if not set(existed) <= imported or beyond:
        folder.plan_file.unlink(missing_ok=True)
        why = (f"awsenvs cannot import {names_text(sorted(set(existed) - imported))}" if not beyond else
               f"planned again, it does more than was confirmed ({listed_changes(beyond)})")
        raise TerraformError(f"{failed} ({why}: run bootstrap again to review the new plan)") from None
    with b.console.status("Applying the bootstrap stack again…"):
        try:
            b.terraform.apply(folder.path, folder.plan_file)
        finally:
            folder.plan_file.unlink(missing_ok=True)
    b.console.print(f"{BOOTSTRAP_STACK}: {names_text(existed)} imported and applied again in this run",
                    markup=False, highlight=False)


def _held_addresses(org: Org) -> frozenset[str]:
    """What the bootstrap stack's (local) state holds already: only the rest is looked up,
    so a re-run neither imports nor warns about what it made itself."""
    try:
        return StackState.read_file(org.state.bootstrap_state).addresses
    except (OSError, TerraformError):
        return frozenset()  # none yet (or unreadable: terraform says so when it plans)


def local_states(org: Org) -> dict[str, Path]:
    """Stack -> its local state file, of the stacks of org.yaml that have one (what earlier
    runs with `state.backend: local` wrote; the bootstrap stack's own is always local)."""
    return {stack: org.state.local_file(stack) for stack in org.stacks if org.state.local_file(stack).is_file()}


def move_local_state(b: Bootstrap, yes: bool) -> list[str]:
    """Move each stack's local state into the remote backend (see the module doc); the
    stacks moved."""
    org, console = b.org, b.console
    found = local_states(org)
    if not found:
        return []
    cloud = org.state.backend == "cloud"
    where = f"s3://{org.state.s3.bucket}/{org.state.s3_key('<stack>')}" if not cloud else \
        (f"Terraform Cloud workspaces {org.state.workspace('<stack>')} (organization {org.state.cloud.organization}, "
         f"project {org.state.cloud_project}, on {org.state.cloud.hostname})")
    console.print(f"Local state of {len(found)} stacks ({names_text(found)}) in {org.state.local_dir}: moving it to "
                  f"{where} (once every one reads back from there, the files go to a private backup beside them).",
                  markup=False, highlight=False)
    confirm(_confirmation("Move these states?", "the state move above"), b.ask, yes)
    with console.status("Synthesizing the stacks for the new backend…"):
        synthesize(org, b.outdir)
    pushed: list[str] = []
    for stack, path in found.items():
        with console.status(f"Moving the state of {stack}…"):
            try:
                there = _push(b.terraform, stack_dir(b.outdir, stack), path, cloud)
            except TerraformError as exc:
                cause = f"moving the state of {stack}: {exc}"
                if cloud and isinstance(exc, Unreachable):
                    host = org.state.cloud.hostname
                    cause = (f"cannot reach {host} for stack {stack}: check the network (and state.cloud.hostname), "
                             f"and run `terraform login {host}` if this machine has no token for it yet ({exc})")
                raise TerraformError(
                    f"{cause} -- no local state file was moved ({len(pushed)} of {len(found)} states are in the new "
                    "backend, which the next bootstrap recognizes): run bootstrap again once that is fixed, and it "
                    "continues the move, or set state.backend back to local, where every stack plans from its local "
                    "state as before", exit_code=exc.exit_code) from None
        pushed.append(stack)
        done = "already in the new backend (an earlier move pushed it)" if there else "state pushed to the new backend"
        console.print(f"{stack}: {done}", markup=False, highlight=False)
    moved_record = b.move_grants(org) if b.move_grants and not cloud else []
    if moved_record:
        console.print(f"grants of eligible groups: their record is now {org.elevations_place}", markup=False,
                      highlight=False)
    # Every state reads back from the new backend: only now do the local files leave.
    backup = org.state.moved_dir(datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    private_dir(backup)
    for path in [*found.values(), *moved_record]:
        for file in (path, path.with_name(path.name + ".backup")):
            if file.exists():
                os.replace(file, backup / file.name)
    console.print(f"Moved the state of {len(pushed)} stacks; the local files are kept in {backup} (owner-only; delete "
                  "them once `plan` finds no changes).", markup=False, highlight=False)
    return pushed


def _push(terraform: Terraform, directory: Path, path: Path, cloud: bool = False) -> bool:
    """One stack's local state into its folder's (new) backend, verified by reading it back;
    True when the backend held it already (an earlier move that stopped half way).

    Compared by what the state holds, not by lineage and serial: a state pushed (or
    migrated) into an empty S3 backend is written there with a new lineage and serial 1
    (measured with Terraform 1.11: the backend's state manager takes the resources, not the
    file's lineage), which is also why a state already there is never pushed over.

    `cloud`: the folder has a `cloud` block: a plain init there (Terraform refuses
    -reconfigure with it: Terraform.init), which creates the workspace when it does not
    exist yet; Terraform's own migration into Terraform Cloud is interactive only."""
    local = StackState.read_file(path)
    terraform.init(directory, reconfigure=True, cloud=cloud)
    remote = StackState.pull(terraform, directory)
    if remote.holds_anything:
        if remote.held == local.held:
            return True  # already there: pushed by a move that stopped half way
        raise TerraformError(f"the new backend already holds a different state than {path}: find out whose it is "
                             "first")
    terraform.state_push(directory, path)
    if StackState.pull(terraform, directory).held != local.held:
        raise TerraformError(f"the state read back from the new backend is not the one pushed from {path}")
    return False


def _show(console: Console, planned, imports: list) -> None:
    console.print(f"[bold]{BOOTSTRAP_STACK}[/] ({counts_text(planned.summary)}), in the management account:")
    for line in change_lines(planned.changes, detail=True):
        console.print(line, markup=False, highlight=False)
    for item in imports:
        console.print(f"  {'warning: ' if item.risky else ''}import {item.address}: {item.reason}", markup=False, highlight=False)


def _confirmation(question: str, what: str) -> Confirmation:
    return Confirmation(question, f"refusing to apply {what} without a terminal to confirm on: run it interactively, "
                                  "or pass --yes")


def _print_result(console: Console, org: Org, roles: tuple[RunRole, ...], management_account: str) -> None:
    state = org.state
    if state.backend == "s3":
        console.print(f"State bucket s3://{state.s3.bucket} ({state.s3.region}): versioned, encrypted by default (KMS), no "
                      f"public access, TLS only. Each stack keeps its state at s3://{state.s3.bucket}/{state.s3_key('<stack>')}.",
                      markup=False, highlight=False)
    else:
        _print_workspaces(console, org, roles, management_account)
    if org.github is not None:
        _print_github(console, org, management_account)


def _print_github(console: Console, org: Org, management_account: str) -> None:
    """The two CI roles, and what makes the repository use them."""
    github = org.github
    for line in (
        f"GitHub Actions of {github.repository}: plan role {github.role_arn(management_account, github.plan_role_name)} "
        "(pull requests and the scheduled drift check: read-only, through the role awsenvs-github-read each account "
        "stack makes: apply them for it to exist)",
        f"apply role {github.role_arn(management_account, github.apply_role_name)} (jobs in the GitHub environments "
        f"{github.environment} and {github.protected_environment} only)",
        "Next: `make ci` writes the workflows into .github/workflows/ (commit them); then, in the repository's Settings > "
        f"Environments, create {github.environment} and {github.protected_environment}, each with Deployment branches "
        f"= Selected branches: {github.default_branch}, and give {github.protected_environment} Required reviewers "
        "(who approves production's changes)",
    ):
        console.print(line, markup=False, highlight=False)


def _print_workspaces(console: Console, org: Org, roles: tuple[RunRole, ...], management_account: str) -> None:
    state = org.state
    table = Table(title=f"Terraform Cloud workspaces ({state.cloud.organization}, project {state.cloud_project}): "
                        "set these environment variables on each", title_justify="left")
    for column in ("workspace", "working directory (VCS)", TFC_PROVIDER_AUTH_VARIABLE, TFC_RUN_ROLE_VARIABLE, "note"):
        table.add_column(column)
    for role in roles:
        note = "its account does not exist yet: run bootstrap again after applying management" if role.waiting else ""
        table.add_row(role.workspace, f"<committed folder>/{stack_dir(Path(), role.stack)}", "true",
                      role.arn(management_account), note)
    console.print(table)

