"""`elevate`: grant an eligible group for a while (or ask for it, where approvers decide)."""

from __future__ import annotations

import click

from awsenvs.cli.common import change_and_apply
from awsenvs.config import DURATION_RE, duration_seconds


def _duration(ctx, param, value: str) -> int:
    if not DURATION_RE.match(value):
        raise click.BadParameter(f"{value!r}: minutes or hours, e.g. 30m, 2h, 1h30m")
    return duration_seconds(value)


@click.command()
@click.argument("user")
@click.option("--env", "env", required=True, metavar="PRODUCT/ENV", help="The environment (or its stack's name).")
@click.option("--group", required=True, help="One of USER's eligible groups there.")
@click.option("--for", "seconds", required=True, metavar="DURATION", callback=_duration,
              help="How long: 30m, 2h, 1h30m (15m up to the environment's elevation.max).")
@click.option("--reason", required=True, help="Why, for the record (it also goes on the role as a tag).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before applying (needed without a terminal).")
@click.pass_context
def elevate(ctx: click.Context, user, env, group, seconds, reason, yes) -> None:
    """Grant USER one of their eligible groups in one environment until a time AWS enforces.

    The grant is a statement for USER in the group's MFA role trust, honoured only with MFA
    and only until it ends (aws:CurrentTime), and a deny that ends the sessions begun
    before; the account stack is applied at once (plan, show, confirm unless --yes, apply).
    USER then uses the profile <product>_<env>_<user>_<group> that `profiles` wrote ahead.
    Where the environment has elevation.approvers, this only records the request: an
    approver other than USER and you runs `approve ID`.  Every request, grant and revoke
    is kept in <state folder>/elevations.json and its log, elevations.log.

    \b
    Exit code: 0 granted (or requested), 1 the apply failed or was refused (the record is
    then as before), 2 bad input (not eligible, too long, no reason).
    """
    from awsenvs import elevation

    def decide(org, record, name, arn, now):
        entry = elevation.request(record, elevation.target(org, user, env, group), seconds, reason, name or arn, now)
        granted = entry.approved_in(next(e for e in org.environments if e.stack == entry.stack))
        return ("granted" if granted else "requested"), entry, granted

    change_and_apply(ctx, "elevate", yes, decide)
