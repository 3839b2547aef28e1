"""What the verbs share: the consoles, org.yaml and the output folder, the stack selection
options, the account guard, the operator's prompt, the run of `plan` and `apply`, and the
management stack's outputs."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click
from rich.console import Console
from rich.markup import escape

from awsenvs import usable_cores
from awsenvs.errors import BadInput

# Each command imports what it uses (org.yaml's validation alone, pydantic, costs ~0.15 s):
# `--help` answers at once, and `plan` starts its synth worker before anything else.
if TYPE_CHECKING:
    from datetime import datetime

    from awsenvs.config import Grant, Org

# Off a terminal (a pipe, CI logs) rich would wrap and crop at 80 columns: print wide.
_WIDTH = None if sys.stdout.isatty() else 200
out = Console(soft_wrap=True, width=_WIDTH)
err = Console(stderr=True, soft_wrap=True, width=_WIDTH)


def load_org(ctx: click.Context, grants: bool = False) -> Org:
    """org.yaml; `grants`: with the active grants of eligible groups (the verbs whose stacks,
    trees or checks show them: their record is beside the state, in the bucket with s3 state)."""
    from awsenvs.config import load

    org = load(ctx.obj["config"])
    if not grants or not any(env.eligible_users for env in org.environments):
        return org
    from datetime import datetime, timezone

    from awsenvs import aws, elevation

    if org.state.backend == "s3":
        aws.connect(org)
    return org.granted(elevation.read(org).grants, datetime.now(timezone.utc))


def load_ci_org(ctx: click.Context, grants: bool = False) -> Org:
    """org.yaml for the `ci` commands, which need ci.github."""
    from awsenvs.config import ConfigError

    org = load_org(ctx, grants)
    if org.github is None:
        raise ConfigError(f"{org.source}: ci.github: not set: add `ci: {{github: {{repository: OWNER/NAME}}}}` (the "
                          "repository whose workflows plan and apply; docs/ci.md), run bootstrap, then ci github again")
    return org


def cdktf_outdir() -> Path:
    # The CDK CLI passes its output folder in CDKTF_OUTDIR.  It may be relative, as typed
    # (and shown): the terraform adapter makes every path it hands terraform absolute.
    return Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))


def prog_name() -> str:
    """`main.py` when run as the repository's entry point, else the console script's name."""
    return "main.py" if Path(sys.argv[0]).name == "main.py" else "awsenvs"


MAX_WORKERS = 32
DEFAULT_WORKERS = min(usable_cores(), MAX_WORKERS)


def stack_selection(f):
    for decorator in reversed([
        click.option("--stack", "stacks", multiple=True, metavar="STACK", help="Only this stack (repeatable): management, <product>-<env>."),
        click.option("--product", "products", multiple=True, metavar="P", help="Only this product's stacks (repeatable); management comes along."),
        click.option("--env", "envs", multiple=True, metavar="E", help="Only this environment in every product (repeatable)."),
        click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, MAX_WORKERS),
                     help="Stacks planned or applied at once (default: this machine's cores; terraform's provider start-up is CPU-bound)."),
        click.option("--detail", is_flag=True, help="List every resource change of each stack (default: the first few and a count)."),
    ]):
        f = decorator(f)
    return f


def account_guard(org: Org):
    """The account guard of a run: STS asked once, later calls check more member ids against it."""
    from awsenvs import aws

    caller: list[str] = []

    def guard(member_ids: dict[str, str]) -> str:
        result = aws.guard(org, member_ids, caller[0] if caller else None)
        if result.warning and not caller:
            err.print(f"[yellow]warning:[/] {escape(result.warning)}", highlight=False)
        caller[:] = [result.account_id]
        return result.account_id

    return guard


def operator_prompt():
    """How to ask the operator, or None without a terminal."""
    return (lambda prompt: click.prompt(prompt, default="", show_default=False, err=True)) if sys.stdin.isatty() else None


def run_for(ctx: click.Context, stacks, products, envs, workers, everything: bool = False, detail: bool = False):
    """The Run of `plan` or `apply`: the selected stacks, the account guard and the live look-ups."""
    org = load_org(ctx, grants=True)
    return run_of(org, list(org.select(tuple(stacks), tuple(products), tuple(envs))), workers, everything, detail)


def run_of(org: Org, selected: list[str], workers: int, everything: bool = False, detail: bool = False,
           approval=None, ask=operator_prompt):
    """The Run of these stacks of `org` (`approval`: a CI job's, see run/confirm.py)."""
    from awsenvs import aws
    from awsenvs.preflight import LiveChecks
    from awsenvs.terraform import Terraform
    from awsenvs.run.workflow import Run

    aws.connect(org)
    stopping = threading.Event()  # the run's interrupt: the runner, the waits and the look-ups see it
    guard, live = account_guard(org), LiveChecks(org, stopping)
    if org.state.backend == "cloud" and not aws.has_credentials():
        # The runs happen in Terraform Cloud with the workspaces' own credentials, and each
        # stack checks the account it runs in (awsenvs/stacks.py); nothing here can look.
        err.print("note: no local AWS credentials: the local account guard and the live look-ups (trusted services, "
                  "adopted accounts, imports, retiring removed environments, waiting for new accounts, drift of "
                  "unchanged stacks) are skipped; "
                  "each stack checks its account in its Terraform Cloud run", markup=False, highlight=False)
        guard, live = (lambda member_ids: org.management_account_id), None
    return Run(org, selected, err, cdktf_outdir(), guard, ask(), workers, Terraform(), live, everything, detail,
               stopping=stopping, approval=approval)


def named_user(org: Org, name: str):
    """The user `--user NAME` names (one of org.people), else bad input listing them."""
    person = next((u for u in org.people if u.name == name), None)
    if person is None:
        known = ", ".join(sorted(u.name for u in org.people)) or "none"
        raise BadInput(f"--user {name}: no such user in {org.source.name} (users: {known})")
    return person


def check_state_access(org: Org) -> None:
    """With state in S3, terraform reads it with the environment's AWS profile: check that
    profile first (one line naming it), as every verb that calls AWS does (aws.connect)."""
    if org.state.backend == "s3":
        from awsenvs import aws

        aws.connect(org)


def managed_outputs(org: Org):
    """The management stack's outputs (account ids, identity store id)."""
    from awsenvs.terraform import TerraformError
    from awsenvs.run.outputs import managed

    check_state_access(org)
    try:
        return managed(org, cdktf_outdir())
    except TerraformError as exc:
        raise exc.within("reading the management stack's outputs") from None


def account_ids(org: Org) -> dict[str, str]:
    return managed_outputs(org).account_ids


# --------------------------------------------------------------------------- elevate, approve, revoke
# Under the run lock, change the record of grants (awsenvs.elevation), then apply the one
# stack it changes the way `apply` does (plan, show, confirm unless --yes, apply); when that
# apply does not happen or fails, the record goes back to what AWS holds, and the log says so.

# (org, the record, the caller's name or None, the caller's ARN, now) -> (event, the entry, apply it?)
Decision = Callable[["Org", tuple, "str | None", str, "datetime"], "tuple[str, Grant, bool]"]


def change_and_apply(ctx: click.Context, verb: str, yes: bool, decide: "Decision") -> None:
    from datetime import datetime, timezone

    from awsenvs import aws, elevation
    from awsenvs.config import iso_time
    from awsenvs.run import workflow
    from awsenvs.runlock import run_lock

    org = load_org(ctx)
    aws.connect(org)
    name, arn = aws.caller_person()
    actor = name or arn
    with run_lock(org, verb):
        read = elevation.read(org)
        record = read.grants
        now = datetime.now(timezone.utc)
        event, entry, apply = decide(org, record, name, arn, now)
        changed = elevation.replaced(record, entry)
        elevation.write(org, read, changed, event, entry, actor, now)
        env = next(e for e in org.environments if e.stack == entry.stack)
        if not apply:
            told = (f"{entry.id}: the request of {entry.group} for {entry.user} in {env.key} is withdrawn"
                    if entry.revoked else
                    f"{entry.id}: {entry.user} asks for {entry.group} in {env.key} until about {iso_time(entry.until)} "
                    f"(as long as asked, from its approval): one of {', '.join(env.elevation.approvers)} approves it "
                    f"with `awsenvs approve {entry.id}`")
            err.print(told, markup=False, highlight=False)
            ctx.exit(0)
        stack = org.grant_stack(entry.stack)
        err.print(f"{entry.id}: {event} {entry.group} for {entry.user} in {env.key}"
                  f"{'' if entry.revoked else f' until {iso_time(entry.end)}'}: applying {stack}",
                  markup=False, highlight=False)
        run = run_of(org.granted(changed, now), [stack], workers=1)

        def not_applied(prefix: str) -> None:
            """The record after an apply that did not happen (refused, failed, interrupted)."""
            when = datetime.now(timezone.utc)
            if entry.revoked:  # taking access away is kept: the next apply finishes it
                elevation.write(org, elevation.read(org), changed, "revoked, not applied yet", entry, actor, when)
                err.print(f"{prefix}{entry.id}: revoked in the record, but {stack} was not applied: AWS honours the "
                          f"grant until its own end ({iso_time(entry.until)}) unless `make apply` removes it first",
                          markup=False, highlight=False)
                return
            elevation.write(org, elevation.read(org), record, f"{event} not applied", entry, actor, when)
            before = next((e for e in record if e.id == entry.id), None)
            err.print(f"{prefix}{entry.id}: {event} but {stack} was not applied, so the record is as before "
                      f"({'still a request' if before else 'nothing granted'}); run `awsenvs {verb}` again once the "
                      "apply can go ahead", markup=False, highlight=False)

        try:
            _, code = workflow.apply(run, yes)
        except BaseException:  # a refused confirmation, an error, Ctrl-C: the record follows AWS
            not_applied("note: ")
            raise
        if code != 0:
            not_applied("error: ")
    ctx.exit(code)
