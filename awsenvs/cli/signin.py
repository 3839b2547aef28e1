"""`signin`: console sign-in links, or one colleague's welcome message."""

from __future__ import annotations

from pathlib import Path

import click

from awsenvs.cli.common import err, load_org, managed_outputs, named_user, out
from awsenvs.errors import BadInput


@click.command()
@click.option("--html", "html_path", default=None, metavar="PATH", help="Also write a static HTML page of the links (a bookmark per account).")
@click.option("--user", "user", default=None, metavar="NAME", help="Instead: the message to send this colleague (where and as whom they sign in, their first sign-in, their AWS CLI profiles).")
@click.pass_context
def signin(ctx: click.Context, html_path: str | None, user: str | None) -> None:
    """Console sign-in links of every account.

    iam_users: https://<alias>.signin.aws.amazon.com/console per account. identity_center:
    the AWS access portal (organization.sso_start_url, else https://<identity store
    id>.awsapps.com/start) and, per account assignment, the portal's direct link into that
    account with that permission set.

    --user NAME prints the message to send that colleague instead (no secret in it: an IAM
    user's initial passwords are handed over apart, with `password`).
    """
    from awsenvs.profiles import IDENTITY_CENTER_FIRST_SIGN_IN, portal_url, render_signin_page, write_page
    from awsenvs.welcome import signin_table, welcome

    org = load_org(ctx)
    if user is not None and html_path:
        raise BadInput("--user and --html: choose one (the page is everyone's links, --user one colleague's message)")
    person = named_user(org, user) if user is not None else None
    managed = managed_outputs(org)
    ids = managed.account_ids
    if person is not None:
        message = welcome(org, ids, managed.identity_store_id, person)
        click.echo(message.message, nl=False)
        for note in message.notes:
            err.print(f"note: {note}", markup=False, highlight=False)
        return
    portal = portal_url(org, managed.identity_store_id) if org.identity_center else None
    if portal is not None:
        out.print(f"Access portal: {portal}", highlight=False)
    out.print(signin_table(org, ids, portal))
    if org.identity_center:
        err.print(f"note: {IDENTITY_CENTER_FIRST_SIGN_IN}", markup=False, highlight=False)
    if html_path:
        write_page(Path(html_path), render_signin_page(org, ids, managed.identity_store_id))
        err.print(f"Wrote {html_path}", markup=False, highlight=False)
