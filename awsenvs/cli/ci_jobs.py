"""`ci plan` and `ci apply`: what the jobs of the workflows `ci github` writes run."""

from __future__ import annotations

import click

from awsenvs.cli.common import DEFAULT_WORKERS, MAX_WORKERS, load_ci_org, run_of
from awsenvs.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, AwsenvsError, BadInput

_workers = click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, MAX_WORKERS),
                        help="Stacks planned or applied at once.")
_detail = click.option("--detail", is_flag=True, help="List every resource change of each stack (default: the first "
                                                      "few and a count).")


def _no_terminal():
    return None  # a job has nobody to ask: its approval is the GitHub environment's (ci/approval.py)


@click.command()
@_workers
@_detail
@click.pass_context
def plan(ctx: click.Context, workers: int, detail: bool) -> None:
    """In a pull request's job: plan the stacks it changes, comment on it and write the job summary.

    Compares org.yaml, and awsenvs' code, with the pull request's base (GITHUB_EVENT_PATH's
    pull_request.base.sha; the job checks out the history) and plans only the stacks that
    differ, with terraform, through the read-only role awsenvs-github-read in each member
    account (state in s3).  Every stack is planned when the code changed.  Then one comment
    on the pull request, updated in place on every push, and the job summary get the same
    Markdown: each stack's changes, as `plan` prints them, and why a stack failed.

    \b
    Exit code: 0 planned (changes or not: changes are what a pull request is for), 1 a
    failure (a stack's plan, the guard, AWS, GitHub's API), 2 bad input.
    """
    from awsenvs.ci import changes, report
    from awsenvs.ci.github import environ_job
    from awsenvs.run import workflow
    from awsenvs.synth import Worker

    job = environ_job("awsenvs ci plan")
    org = load_ci_org(ctx, grants=True)
    number = job.pull_request_number
    base = ((job.event.get("pull_request") or {}).get("base") or {}).get("sha")
    if number is None or not base:
        raise BadInput(f"ci plan runs on a pull_request event (this is {job.event_name or 'no event'}): it compares "
                       "the pull request with its base")
    changed = changes.pull_request_changes(org, base)
    # A pull request's code may run with the plan role: it reaches the member accounts only
    # through their read-only role (Terraform Cloud's runs keep their workspaces' roles: stacks.py).
    planning = org.reading_through(org.github.read_role_name)
    results, code, failure = [], EXIT_OK, None
    try:
        if changed.stacks:
            with Worker() as worker:
                run = run_of(planning, list(changed.stacks), workers, everything=True, detail=detail, ask=_no_terminal)
                run.synth_selected = True  # the other stacks are neither synthesized nor planned
                results, code = workflow.plan(run, worker)
    except AwsenvsError as exc:
        failure = exc
    body = report.plan_comment(results, heading=f"awsenvs plan: {org.name}", notes=(report.text(changed.why),),
                               error=str(failure) if failure else None, run_url=job.run_url)
    job.write_summary(body)
    job.upsert_comment(number, report.PLAN_MARKER, body)
    if failure is not None:
        raise failure
    ctx.exit(code if code in (EXIT_FAILED, EXIT_INTERRUPTED) else EXIT_OK)


@click.command()
@click.option("--protected", is_flag=True,
              help="Also apply the protected stacks: only in the job of ci.github.protected_environment, whose "
                   "required reviewers approved it.")
@_workers
@_detail
@click.pass_context
def apply(ctx: click.Context, protected: bool, workers: int, detail: bool) -> None:
    """In a job on the default branch: plan and apply, protected stacks only in a reviewed GitHub environment.

    Plans every stack again and applies in the launch order (retirements, management, the
    accounts it creates, the rest), as `apply` does.  The stacks `apply` would have an
    operator type account names for (mfa: required environments, retirements, an adopted
    alias) are held back and named in the job output `protected=true`; the job in
    ci.github.protected_environment (`--protected`) applies them once a reviewer approved
    it.  `--protected` refuses at once unless the job's OIDC token says it runs in that
    environment and the environment requires a reviewer.

    \b
    Exit code: 0 applied (or held back for review), 1 a failure, 2 bad input.
    """
    from awsenvs.ci import approval, report
    from awsenvs.ci.github import environ_job
    from awsenvs.results import StackStatus
    from awsenvs.run import workflow

    job = environ_job("awsenvs ci apply")
    org = load_ci_org(ctx, grants=True)
    branch = f"refs/heads/{org.github.default_branch}"
    if job.ref != branch:
        raise BadInput(f"ci apply runs on the default branch ({branch}; ci.github.default_branch), not {job.ref or 'here'}")
    approved = approval.approval(job, org.github, protected)
    run = run_of(org, list(org.stacks), workers, detail=detail, approval=approved, ask=_no_terminal)
    results, code = workflow.apply(run, yes=False)
    held = [r.stack for r in results if r.status is StackStatus.HELD]
    job.set_output("protected", "true" if held else "false")
    notes = (report.text(f"held for review in {org.github.protected_environment}: {', '.join(held)}"),) if held else ()
    job.write_summary(report.plan_comment(results, heading=f"awsenvs apply: {org.name}", notes=notes, run_url=job.run_url,
                                          command="awsenvs ci apply --protected" if protected else "awsenvs ci apply"))
    ctx.exit(code)
