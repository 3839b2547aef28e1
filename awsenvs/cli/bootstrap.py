"""`bootstrap`: what state.backend needs before the first plan."""

from __future__ import annotations

import click

from awsenvs.cli.common import account_guard, cdktf_outdir, err, load_org, operator_prompt


@click.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask; needed without a terminal.")
@click.pass_context
def bootstrap(ctx: click.Context, yes: bool) -> None:
    """Create what state.backend needs before the first plan, in the management account.

    \b
    s3:    the state bucket: versioning, default encryption, public access block, a
           TLS-only bucket policy (locking uses a lock file in it: nothing else needed).
           Then each stack's local state (from runs with state.backend local) is moved
           into it, after a confirmation, and the local files into a private backup.
    cloud: the OIDC provider of the Terraform Cloud host and a role per stack workspace,
           trusted by that workspace's runs only (management: Organizations; an account
           stack: assume its account's role); then prints the workspace variables to set
           (TFC_AWS_PROVIDER_AUTH, TFC_AWS_RUN_ROLE_ARN). Run it again after the first
           apply of management: new accounts' roles then get their permission.
           Local state is moved into the stacks' workspaces the same way as for s3.
    local: nothing to do.

    Kept in Terraform as its own stack, `bootstrap`, with local state
    (<state.path>/<organization>/bootstrap.tfstate; if it is lost, the next run imports
    what exists). Guards the account, imports what already exists, shows the plan and
    asks before applying (like apply); a second run changes nothing.

    \b
    Exit code: 0 done (or nothing to do), 1 a failure or refused, 2 bad input.
    """
    from awsenvs import aws, elevation
    from awsenvs.run import bootstrap as bootstrap_
    from awsenvs.reconcile import bootstrap_imports
    from awsenvs.runlock import run_lock
    from awsenvs.terraform import Terraform

    org = load_org(ctx)
    aws.connect(org)
    b = bootstrap_.Bootstrap(org, cdktf_outdir(), err, Terraform(), account_guard(org), operator_prompt(), bootstrap_imports,
                             move_grants=elevation.move_into_bucket)
    with run_lock(org, "bootstrap"):
        code = bootstrap_.run(b, yes)
    ctx.exit(code)
