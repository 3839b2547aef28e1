"""`audit`: check the live accounts and the local AWS config."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from awsenvs.cli.common import account_guard, account_ids, err, load_org, out
from awsenvs.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from awsenvs.audit import Finding
    from awsenvs.config import Org


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON instead of a table.")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 64),
              help="Accounts checked at once (threads: the checks wait on AWS, not the CPU).")
@click.pass_context
def audit(ctx: click.Context, as_json: bool, workers: int) -> None:
    """Check the live accounts (boto3, through the role the stacks use) and your local AWS config.

    \b
    Management account: its root user has MFA and no access keys.
    Per member account: its root user has no credentials at all (password, access keys, MFA
    device, signing certificates: with centralized root access none are needed), alias as
    configured, password policy at least the configured one, and
      iam_users: exactly the configured users, and in mfa: required accounts an MFA
        device for every console user;
      identity_center: exactly the configured account assignments (user, permission set)
        and no IAM user with a console password; Identity Center's MFA setting has no read
        API, so it is listed as a manual check with its console path.
    Locally: no [default] profile, and each managed profile with keys belongs to its
    account (STS).
    Drift: every object awsenvs manages compared with org.yaml, one `drift` row per
    difference.  A failed row says what restores it (JSON: "restore"): `make plan`, then
    `make apply` for what terraform holds; the hand work for what it does not (an extra
    user or SCP), or listing it under `unmanaged` in org.yaml.
    Exit code: 0 all pass (manual checks do not fail), 1 any check fails, 2 bad input.
    """
    import json

    from awsenvs import audit as audit_

    rows = audit_rows(load_org(ctx, grants=True), workers)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        out.print(audit_.table(rows))
    ctx.exit(EXIT_FAILED if any(r.status == audit_.FAIL for r in rows) else EXIT_OK)


def audit_rows(org: Org, workers: int, *, parked: bool = True) -> list[Finding]:
    """The audit's rows (`awsenvs audit`, and `ci drift` in the scheduled job): the account
    guard first, then every check (`parked`: also the parked accounts')."""
    from awsenvs import audit as audit_
    from awsenvs import aws
    from awsenvs.profiles import aws_config_path, aws_credentials_path

    aws.connect(org)
    ids = account_ids(org)
    account_guard(org)(ids)  # the member accounts are read through the management account's role into them
    with err.status("Auditing the accounts…"):
        return audit_.audit(org, ids, aws_config_path(), aws_credentials_path(), workers=workers, parked=parked)
