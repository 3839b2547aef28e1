"""`plan`: guard, plan the stacks that changed, show a summary."""

from __future__ import annotations

import click

from awsenvs.cli.common import run_for, stack_selection


@click.command()
@stack_selection
@click.option("--all", "everything", is_flag=True,
              help="Plan every selected stack with terraform, also those unchanged since their last clean plan "
                   "and without drift: terraform's own check of everything it manages.")
@click.pass_context
def plan(ctx: click.Context, stacks, products, envs, workers, detail, everything) -> None:
    """Synthesize, guard the account, and plan the stacks that changed to saved plan files.

    A stack whose synthesized config, account id, state (serial and lineage), locked
    provider versions and terraform version are all as at its last clean plan (no
    changes) or apply is reported as "unchanged since <time>" without running terraform,
    unless its live objects differ from org.yaml where apply restores them (drift: the
    comparisons of `audit`, at API speed): then it is planned, with one note per
    difference.  `plan --all` plans every stack with terraform, which also compares what
    audit does not (account names and tags, opt-in regions, root access).

    Before planning, looks at the live organization: refuses (exit 1) a plan that would
    disable a trusted service or policy type org.yaml does not list, refuses (exit 2) an
    adopted account whose email or name differs from org.yaml, and imports what already
    exists (accounts, OUs, IAM objects) instead of creating it twice. Shows a table per
    stack (account, add / change / destroy / import / forget, "waiting for account" until
    the management stack has created it, "retire" for an environment removed from
    org.yaml), each stack's resource changes (the first few and a count; --detail lists
    all), and one line per import saying why.

    Ctrl-C stops gracefully: no stack starts after it, running terraform finishes cleanly.

    \b
    Exit code: 0 no changes anywhere, 2 changes, 1 an error (bad input too: the guard,
    org.yaml, an option, a stack failed), 130 interrupted.  Through make: see the README.
    """
    from awsenvs.synth import Worker

    # Started first: it loads the AWS bindings while org.yaml is read (stopped if nothing is stale).
    # Bad input exits 1, not 2 ("changes"): main() maps it (bad_input_exit_code).
    with Worker() as worker:
        from awsenvs.run import workflow
        from awsenvs.runlock import run_lock

        run = run_for(ctx, stacks, products, envs, workers, everything, detail)
        # A selection synthesizes only what it plans (and management, whose state holds the
        # account ids): the others are brought up to date by the next plan or apply of them.
        run.synth_selected = bool(stacks or products or envs)
        with run_lock(run.org, "plan"):
            _, code = workflow.plan(run, worker)
    ctx.exit(code)
