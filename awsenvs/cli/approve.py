"""`approve`: turn a request for an eligible group into the grant, as one of its approvers."""

from __future__ import annotations

import click

from awsenvs.cli.common import change_and_apply


@click.command()
@click.argument("request_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before applying (needed without a terminal).")
@click.pass_context
def approve(ctx: click.Context, request_id, yes) -> None:
    """Approve the request ID (from `elevations`) with your own credentials, and apply the grant.

    Your credentials name you: an IAM user's name, or your Identity Center sign-in (a role
    session's name is chosen by whoever assumes the role, so it names nobody and is
    refused).  You must be one of the environment's elevation.approvers, and neither the
    user it grants nor who asked for it.  The grant begins now and lasts as long as asked.

    \b
    Exit code: 0 granted, 1 refused (not an approver, your own) or the apply failed (the
    record is then as before), 2 bad input (no such request).
    """
    from awsenvs import elevation

    def decide(org, record, name, arn, now):
        return "approved", elevation.approve(record, org, request_id, name, arn, now), True

    change_and_apply(ctx, "approve", yes, decide)
