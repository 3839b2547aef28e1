"""`ci drift`: the scheduled job's step.  The audit (and, with --plan-all, `plan --all`),
the result as the job summary, and the one drift issue opened, updated or closed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from awsenvs.cli.audit import audit_rows
from awsenvs.cli.common import DEFAULT_WORKERS, err, load_org, run_of
from awsenvs.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from awsenvs.config import Org
    from awsenvs.results import StackResult

COMMAND = "awsenvs ci drift"
# Why the parked accounts' rows are left out when the job reads through the CI read role.
PARKED_SKIPPED = ("parked accounts (in the Suspended OU) are not checked here: audit reads them through "
                  "OrganizationAccountAccessRole, which the plan role may not assume (it may assume only `{role}`, which "
                  "a retired account no longer has): `awsenvs audit` with the management account's credentials "
                  "checks them")
LOCAL_SKIPPED = "the local checks of `awsenvs audit` (AWS profiles, state files) are about a laptop, not this runner"


@click.command()
@click.option("--plan-all", "plan_all", is_flag=True,
              help="Also plan every stack with terraform (`plan --all`): the issue lists the stacks it would change.")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 64),
              help="Accounts audited at once (threads: the checks wait on AWS, not the CPU).")
@click.pass_context
def drift(ctx: click.Context, plan_all: bool, workers: int) -> None:
    """In the scheduled job: audit the live accounts and open, update or close the drift issue.

    Runs the checks of `awsenvs audit` (through the read-only role `ci.github` gives each
    member account, when org.yaml has it) and, with --plan-all, `plan --all`.  Writes
    the result to the job summary; when a check fails (or plan --all finds changes),
    opens the one issue labelled awsenvs-drift, or updates it; when none does, closes it
    with a comment.  Reads GitHub's environment (GITHUB_REPOSITORY, GITHUB_TOKEN,
    GITHUB_STEP_SUMMARY, ...): it runs in the workflow `awsenvs ci github` writes.

    \b
    Exit code: 0 it ran (drift or not: the issue is the report), 1 an error (a GitHub
    call, AWS, a stack plan --all could not finish), 2 bad input.
    """
    from awsenvs.ci import report
    from awsenvs.ci.github import environ_job

    job = environ_job(COMMAND)  # outside a GitHub job: one line, before any AWS call
    org = load_org(ctx, grants=True)
    notes = [LOCAL_SKIPPED]
    parked = True
    if org.github is not None:
        org = org.reading_through(org.github.read_role_name)
        parked = False
        notes.insert(0, PARKED_SKIPPED.format(role=org.github.read_role_name))
    rows = [row for row in audit_rows(org, workers, parked=parked) if row.account != "local"]
    results = plan_everything(ctx, org) if plan_all else None
    title, body = report.drift_issue(rows, results, job.run_url, notes)
    job.write_summary(body)
    found = report.drift_rows(rows) or [r for r in results or () if r.status.pending or r.failed]
    if found:
        action, issue = job.upsert_issue(report.DRIFT_LABEL, title, body)
        err.print(f"{title}: issue #{issue.get('number')} {action}", markup=False, highlight=False)
    else:
        closed = job.close_issue(report.DRIFT_LABEL, "No drift any more: every check of `awsenvs audit` passes"
                                 + (" and `plan --all` finds nothing to change" if plan_all else "")
                                 + (f" ([the run]({job.run_url}))." if job.run_url else "."))
        err.print(f"no drift; issue #{closed['number']} closed" if closed else "no drift", markup=False,
                  highlight=False)
    ctx.exit(EXIT_FAILED if any(r.failed for r in results or ()) else EXIT_OK)


def plan_everything(ctx: click.Context, org: Org) -> list[StackResult]:
    """`plan --all` of every stack of `org` (reading through CI's read role when it is set),
    as `plan --all` runs it, its results for the issue."""
    from awsenvs.run import workflow
    from awsenvs.runlock import run_lock
    from awsenvs.synth import Worker

    with Worker() as worker:
        run = run_of(org, list(org.stacks), DEFAULT_WORKERS, everything=True)
        with run_lock(run.org, "plan"):
            results, _ = workflow.plan(run, worker)
    return results
