"""`tree`: the organization as a tree."""

from __future__ import annotations

import click
from rich.markup import escape

from awsenvs.cli.common import cdktf_outdir, check_state_access, err, load_org, out


@click.command()
@click.pass_context
def tree(ctx: click.Context) -> None:
    """Show the organization as a tree: management, OUs, accounts (with the ids state knows),
    groups, users, MFA, guardrails and budgets.

    Account ids: adopted ones from org.yaml, created ones from the management stack's state
    (a local state file is read directly; s3 or cloud state through terraform)."""
    from awsenvs.terraform import TerraformError
    from awsenvs.tree import org_tree
    from awsenvs.run.outputs import known_account_ids

    org = load_org(ctx, grants=True)
    check_state_access(org)
    try:
        with err.status("Reading the ids of created accounts (the management stack's state)…"):
            account_ids = known_account_ids(org, cdktf_outdir())
    except TerraformError as exc:
        err.print(f"[yellow]warning:[/] {escape(str(exc))}; created accounts are shown without ids", highlight=False)
        account_ids = dict(org.adopted_account_ids)
    out.print(org_tree(org, account_ids))
