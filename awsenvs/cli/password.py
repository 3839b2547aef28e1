"""`password`: hand over a user's initial console password."""

from __future__ import annotations

import sys

import click

from awsenvs.cli.common import account_guard, account_ids, cdktf_outdir, err, load_org
from awsenvs.config.names import MANAGEMENT_STACK
from awsenvs.errors import AwsenvsError


@click.command()
@click.argument("user")
@click.option("--stack", required=True, metavar="STACK",
              help="The environment's stack, e.g. autochart-prod (management: a break-glass user).")
@click.option("--force", is_flag=True, help="Print even when standard output is not a terminal (a pipe or a file).")
@click.pass_context
def password(ctx: click.Context, user: str, stack: str, force: bool) -> None:
    """Show USER's initial console password in STACK once, to hand it over.

    Only to a terminal (a password in a pipe or a file ends up in logs and backups; --force
    if you really mean it), with the account, sign-in URL and profile name. With a pgp_key,
    shows the ciphertext and how the user decrypts it. If the user has signed in already
    (IAM PasswordLastUsed), there is nothing to hand over. Read from the stack's state,
    never written anywhere.

    \b
    Exit code: 0 shown (or nothing to hand over), 1 refused or not found, 2 bad input.
    """
    from awsenvs import aws
    from awsenvs import password as password_
    from awsenvs.live import iam as live_iam
    from awsenvs.terraform import TerraformError
    from awsenvs.run.outputs import login_profile

    org = load_org(ctx)
    glass = stack == MANAGEMENT_STACK
    env, person = (None, password_.break_glass_user(org, user)) if glass else password_.console_user(org, stack, user)
    if not sys.stdout.isatty() and not force:
        raise AwsenvsError("refusing to write a password to a pipe or a file (standard output is not a terminal): "
                   "run it in a terminal, or pass --force")
    aws.connect(org)
    if glass:
        _break_glass(org, user)
        return
    ids = account_ids(org)
    account_id = env.account_id_from(ids)
    if account_id is None:
        raise AwsenvsError(f"{stack}: its account does not exist yet (run apply)")
    account_guard(org)(ids)
    when = password_.last_used(live_iam.read_user(aws.member_session(account_id, env.role_name, env.cli_profile), user))
    if when is not None:
        err.print(password_.already_signed_in(person, when), markup=False, highlight=False)
        return
    try:
        attributes = login_profile(org, cdktf_outdir(), stack, f"aws_iam_user_login_profile.{person.tf_name}")
    except TerraformError as exc:
        raise exc.within(f"reading the state of {stack}") from None
    handoff = password_.require_password(password_.handoff(env, person, account_id, attributes or {}))
    for line in password_.lines(handoff):
        click.echo(line)


def _break_glass(org, user: str) -> None:
    """An emergency user of the management account (organization.break_glass)."""
    from awsenvs import aws
    from awsenvs import password as password_
    from awsenvs.config import BreakGlass
    from awsenvs.live import iam as live_iam
    from awsenvs.run.outputs import login_profile
    from awsenvs.terraform import TerraformError

    account_id = account_guard(org)(account_ids(org))
    when = password_.last_used(live_iam.read_user(aws.own_session(), user))
    if when is not None:
        err.print(f"{user} signed in on {when:%Y-%m-%d %H:%M} UTC and changed the initial password then: nothing to "
                  "hand over", markup=False, highlight=False)
        return
    try:
        attributes = login_profile(org, cdktf_outdir(), MANAGEMENT_STACK, f"aws_iam_user_login_profile.{BreakGlass.tf_name(user)}")
    except TerraformError as exc:
        raise exc.within(f"reading the state of {MANAGEMENT_STACK}") from None
    for line in password_.break_glass_lines(user, account_id, attributes or {}):
        click.echo(line)
