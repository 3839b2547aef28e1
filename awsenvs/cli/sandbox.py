"""`sandbox`: rehearse everything offline against a local AWS emulator."""

from __future__ import annotations

import click

from awsenvs.cli.common import err, load_org
from awsenvs.errors import AwsenvsError


@click.command()
@click.option("--keep", is_flag=True, help="Keep the scratch directory (state, cdktf.out, sandbox home) for a look afterwards.")
@click.pass_context
def sandbox(ctx: click.Context, keep: bool) -> None:
    """Rehearse everything offline against a local AWS emulator (moto).

    Starts the emulator on a free 127.0.0.1 port, creates the accounts org.yaml adopts
    inside it, applies every stack with real Terraform, plans again (must be no changes),
    prints the tree and the profiles (written into a sandbox home, never your ~/.aws),
    then stops the emulator. Your state, cdktf.out and ~/.aws stay untouched.
    """
    from awsenvs import sandbox as sandbox_

    org = load_org(ctx)
    try:
        code = sandbox_.run(org, err, keep=keep)
    except AwsenvsError as exc:
        raise exc.within("sandbox") from None
    ctx.exit(code)
