"""`revoke`: end a grant (or withdraw a request) before its time."""

from __future__ import annotations

import click

from awsenvs.cli.common import change_and_apply


@click.command()
@click.argument("user")
@click.option("--env", "env", required=True, metavar="PRODUCT/ENV", help="The environment (or its stack's name).")
@click.option("--group", required=True, help="The granted group.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before applying (needed without a terminal).")
@click.pass_context
def revoke(ctx: click.Context, user, env, group, yes) -> None:
    """End USER's grant of a group in one environment now, and apply it.

    The trust statement goes, and every session of USER's begun before now is denied
    (aws:TokenIssueTime) until the last of them would have run out.  A request still
    waiting for approval is withdrawn without an apply.

    \b
    Exit code: 0 revoked, 1 the apply failed or was refused (the grant then stays until
    its end, which AWS enforces), 2 bad input (no such grant).
    """
    from awsenvs import elevation

    def decide(org, record, name, arn, now):
        t = elevation.target(org, user, env, group)
        entry = elevation.revoke(record, t, name or arn, now)
        return "revoked", entry, entry.approved_in(t.env)

    change_and_apply(ctx, "revoke", yes, decide)
