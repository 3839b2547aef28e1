"""`apply`: apply exactly the saved plans."""

from __future__ import annotations

import click

from awsenvs.cli.common import run_for, stack_selection


@click.command()
@stack_selection
@click.option("--yes", "-y", is_flag=True, help="Do not ask; needed without a terminal to apply protected (mfa: required) environments.")
@click.pass_context
def apply(ctx: click.Context, stacks, products, envs, workers, detail, yes) -> None:
    """Apply exactly the saved plans that `plan` showed: management first, then accounts in parallel.

    If org.yaml or the code changed since the plans were made, or the last apply was
    interrupted, plans again and shows the changes first. Before touching an `mfa:
    required` environment, retiring a removed one, or changing an adopted account's alias,
    asks you to type its account name (unless --yes; with no terminal and no --yes it
    refuses). Accounts the management stack creates are waited for (their role must be
    assumable), then planned and applied right after it. A retired environment's account
    moves to the Suspended OU and leaves state; nothing is destroyed or closed.

    Lists what it is about to apply before it asks or applies.  With nothing to apply it
    applies nothing and exits 0, terminal or not.  Ctrl-C stops gracefully: no stack starts
    after it; the running terraform finishes its operations in flight and writes its state.

    \b
    Exit code: 0 all applied (or nothing to apply), 1 a stack failed or the apply was
    refused, 130 interrupted.
    """
    from awsenvs.run import workflow
    from awsenvs.runlock import run_lock

    run = run_for(ctx, stacks, products, envs, workers, detail=detail)
    with run_lock(run.org, "apply"):
        _, code = workflow.apply(run, yes)
    ctx.exit(code)
