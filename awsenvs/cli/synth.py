"""`synth`: the Terraform of every stack (also what `python main.py` alone runs)."""

from __future__ import annotations

import click

from awsenvs.cli.common import cdktf_outdir, check_state_access, err, load_org


@click.command()
@click.option("--hcl", is_flag=True, help="Write terraform-fmt formatted HCL (cdk.tf) instead of JSON, for review or VCS-driven "
              "runs; the ids of existing accounts become the account_id defaults (read from the management stack's state).")
@click.option("--force", is_flag=True, help="Rebuild every stack, even those unchanged since the last synth.")
@click.pass_context
def synth(ctx: click.Context, hcl: bool = False, force: bool = False) -> None:
    """Write the Terraform of every stack into cdktf.out/stacks/<stack>/.

    One stack `management` (organization, OUs, accounts) and one per environment
    (alias, password policy, IAM). Only stacks whose part of org.yaml (or the code)
    changed are rebuilt; folders of stacks org.yaml no longer has are removed.
    """
    from awsenvs.synth import synthesize

    org = load_org(ctx, grants=True)
    outdir = cdktf_outdir()
    account_ids = {}
    if hcl:  # the committed files run without awsenvs: the ids it knows become the defaults
        from awsenvs.run.outputs import known_account_ids

        check_state_access(org)
        with err.status("Reading the ids of created accounts (the management stack's state)…"):
            account_ids = known_account_ids(org, outdir)
    with err.status("Synthesizing (loading the AWS bindings takes a few seconds)…"):
        done = synthesize(org, outdir, hcl=hcl, force=force, account_ids=account_ids)
    err.print(done.summary(outdir), markup=False, highlight=False)

