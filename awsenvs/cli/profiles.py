"""`profiles`: AWS CLI profiles of every user of every environment."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from awsenvs.cli.common import account_guard, err, load_org, managed_outputs, named_user
from awsenvs.errors import AwsenvsError


@click.command()
@click.option("--write", is_flag=True, help="Merge the profiles into the AWS config file (between # BEGIN/END awsenvs).")
@click.option("--file", "path", default=None, metavar="PATH", help="The AWS config file. Default: $AWS_CONFIG_FILE or ~/.aws/config.")
@click.option("--dry-run", is_flag=True, help="With --write: show the unified diff, change nothing.")
@click.option("--user", "users", multiple=True, metavar="NAME", help="Only this user's profiles (repeatable): a person writes their own into their own config.")
@click.pass_context
def profiles(ctx: click.Context, write: bool, path: str | None, dry_run: bool, users: tuple[str, ...]) -> None:
    """AWS CLI profiles <product>_<env>_<user> for every user of every environment.

    Without --write, prints the block; --user NAME keeps only that person's profiles.

    \b
    iam_users: `mfa: required` environments get a role profile (role_arn, mfa_serial,
    source_profile <profile>_keys, role_session_name = the user) because the AWS CLI honours
    mfa_serial only on role profiles; mfa_serial is the serial of the user's real TOTP
    device, looked up in the account (boto3). A user with no such device yet gets only
    the key profile and a printed next step.
    identity_center: one [sso-session <organization>] (the access portal) and a profile per
    account assignment (sso_account_id, sso_role_name = the permission set); a user's
    further groups in the same environment get <profile>_<group>. Sign in with
    `aws sso login --sso-session <organization>` (AWS CLI version 2; version 1 has no
    `aws sso login`).

    Never writes a [default] profile, never a secret; the old file is backed up beside it
    and the write is atomic (mode 0600).
    """
    from awsenvs import profiles as profiles_

    org = load_org(ctx)
    for user in users:
        named_user(org, user)
    managed = managed_outputs(org)
    serials = profiles_.mfa_serials_of(org, managed.account_ids, account_guard(org), err)
    found = profiles_.profiles_for(org, managed.account_ids, serials, managed.identity_store_id, users)
    for env in found.waiting:
        err.print(f"[yellow]skipped[/] {env.stack}: its account does not exist yet (run apply)", highlight=False)
    block = profiles_.render(org, found.profiles, found.sso_session)
    if not write:
        click.echo(block, nl=False)
    else:
        target = Path(path).expanduser() if path else profiles_.aws_config_path()
        try:
            result = profiles_.write(target, block, dry_run=dry_run)
        except OSError as exc:
            raise AwsenvsError(f"{target}: {exc.strerror or exc}") from None
        if dry_run:
            click.echo(result.diff or f"{target}: no changes", nl=not result.diff)
        elif result.changed:
            backup = f" (previous file backed up as {result.backup})" if result.backup else ""
            err.print(f"Wrote {len(found.profiles)} profiles to {target}{backup}", markup=False, highlight=False)
        else:
            err.print(f"{target}: already up to date", markup=False, highlight=False)
        if result.replaced:
            err.print(f"set back to {org.source.name}'s (keys awsenvs owns in its profiles): "
                      f"{'; '.join(result.replaced)}", markup=False, highlight=False)
        if result.has_default:
            err.print("[yellow]warning:[/] " + escape(f"{target} has a [default] profile: commands without --profile may hit the wrong account"), highlight=False)
    profiles_.tell_next_steps(found, err)
