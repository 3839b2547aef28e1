"""`bootstrap`: what the state backend needs before any stack can `init`, kept in Terraform.

- `s3`: the state bucket, versioned, encrypted by default, no public access, TLS only, old
  state versions expiring (modules/bootstrap.py).  Locking needs nothing else (`use_lockfile`).
- `cloud`: the OIDC provider of the Terraform Cloud host and one role per stack workspace
  in the management account, each trusted by its own workspace's runs only, and a table of
  the workspace variables that make the runs use them (dynamic provider credentials).
- `local`: nothing to do.

The resources are one small stack, `bootstrap`, with local state
(`<state.path>/<organization>/bootstrap.tfstate`), so it is re-run and reviewed like the
others: guard (the management account's credentials), look up what already exists
(imported, not created twice), plan, show, confirm unless --yes, apply.  A second run
with nothing changed plans no changes and applies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from awsenvs.config import BOOTSTRAP_STACK, TFC_PROVIDER_AUTH_VARIABLE, TFC_RUN_ROLE_VARIABLE, Org, RunRole
from awsenvs.results import counts_text
from awsenvs.runner import PLAN_FILE, Lifecycle, write_lifecycle
from awsenvs.synth import stack_dir, write_bootstrap_stack
from awsenvs.terraform import Terraform
from awsenvs.workflow import Refused, known_account_ids


@dataclass
class Bootstrap:
    org: Org
    outdir: Path
    console: Console
    terraform: Terraform
    guard: Callable[[dict[str, str]], str]  # known member ids -> the caller's account id, or raises
    ask: Callable[[str], str] | None  # None: no terminal to ask on
    imports: Callable[[Org, tuple[RunRole, ...]], list]  # the look-ups (preflight.bootstrap_imports)


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
        imports = b.imports(org, roles)
    with console.status("Synthesizing the bootstrap stack (loading the AWS bindings takes a few seconds)…"):
        directory = write_bootstrap_stack(org, b.outdir, roles)
    write_lifecycle(directory, Lifecycle(imports=imports))
    planfile = directory / PLAN_FILE
    with console.status("Planning the bootstrap stack…"):
        b.terraform.init(directory)
        summary = b.terraform.plan(directory, planfile)
    if not summary.changes:
        planfile.unlink(missing_ok=True)
        console.print(f"{BOOTSTRAP_STACK}: no changes, everything is in place (state: {org.state.bootstrap_state})",
                      markup=False, highlight=False)
    else:
        _show(console, b.terraform, directory, summary, imports)
        try:
            _confirm(b.ask, yes)
        except Refused:
            planfile.unlink(missing_ok=True)  # never applied later: every run plans anew
            raise
        with console.status("Applying the bootstrap stack…"):
            try:
                b.terraform.apply(directory, planfile)
            finally:
                planfile.unlink(missing_ok=True)
        console.print(f"{BOOTSTRAP_STACK}: applied ({counts_text(summary)}); state: {org.state.bootstrap_state}",
                      markup=False, highlight=False)
    _print_result(console, org, roles, caller)
    return 0


def _show(console: Console, terraform: Terraform, directory: Path, summary, imports: list) -> None:
    console.print(f"[bold]{BOOTSTRAP_STACK}[/] ({counts_text(summary)}), in the management account:")
    for change in terraform.show_plan(directory, directory / PLAN_FILE):
        if change.changes:
            console.print(f"  {change.action:>8}  {change.address}", markup=False, highlight=False)
    for item in imports:
        console.print(f"  {'warning: ' if item.risky else ''}import {item.address}: {item.reason}", markup=False, highlight=False)


def _confirm(ask: Callable[[str], str] | None, yes: bool) -> None:
    if yes:
        return
    if ask is None:
        raise Refused("refusing to apply the bootstrap plan above without a terminal to confirm on: run it "
                      "interactively, or pass --yes")
    if ask("Apply the bootstrap plan above? Type yes").strip() != "yes":
        raise Refused("not confirmed; nothing applied")


def _print_result(console: Console, org: Org, roles: tuple[RunRole, ...], management_account: str) -> None:
    state = org.state
    if state.backend == "s3":
        console.print(f"State bucket s3://{state.s3.bucket} ({state.s3.region}): versioned, encrypted by default (KMS), no "
                      f"public access, TLS only. Each stack keeps its state at s3://{state.s3.bucket}/{state.s3_key('<stack>')}.",
                      markup=False, highlight=False)
        return
    table = Table(title=f"Terraform Cloud workspaces ({state.cloud.organization}, project {state.cloud_project}): "
                        "set these environment variables on each", title_justify="left")
    for column in ("workspace", "working directory (VCS)", TFC_PROVIDER_AUTH_VARIABLE, TFC_RUN_ROLE_VARIABLE, "note"):
        table.add_column(column)
    for role in roles:
        note = "its account does not exist yet: run bootstrap again after applying management" if role.waiting else ""
        table.add_row(role.workspace, f"<committed folder>/{stack_dir(Path(), role.stack)}", "true",
                      role.arn(management_account), note)
    console.print(table)

