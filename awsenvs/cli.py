"""The CLI: one thin command per verb, wiring options to small helpers.

Exit codes scripts can rely on: 0 ok (for `plan`: no changes), 1 a failure (terraform,
AWS, a refused confirmation or a failed audit check), 2 bad input (org.yaml, options),
and for `plan` 2 also means "there are changes" (like `terraform plan -detailed-exitcode`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from awsenvs.config import ConfigError, Org, load

# Ours, and of no interest to an operator (jsii warns about Node 20's end of life).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Off a terminal (a pipe, CI logs) rich would wrap and crop at 80 columns: print wide.
_WIDTH = None if sys.stdout.isatty() else 200
out = Console(soft_wrap=True, width=_WIDTH)
err = Console(stderr=True, soft_wrap=True, width=_WIDTH)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class Fail(click.ClickException):
    """A one-line error with our exit code (click's own usage errors also exit 2)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:  # noqa: ARG002 - click's signature
        err.print(f"[bold red]error:[/] {self.message}", highlight=False, soft_wrap=True)


def _org(ctx: click.Context) -> Org:
    try:
        return load(ctx.obj["config"])
    except ConfigError as exc:
        raise Fail(str(exc), EXIT_BAD_INPUT) from None


def _outdir() -> Path:
    # The CDK CLI passes its output folder in CDKTF_OUTDIR.
    return Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "-c", default="org.yaml", show_default=True, metavar="PATH", envvar="AWSENVS_CONFIG",
    help="The organization file (make: ORG=PATH).",
)
@click.pass_context
def cli(ctx: click.Context, config: str) -> None:
    """awsenvs: AWS accounts for a product's environments, as code.

    Reads org.yaml (an AWS Organization with one OU per product and one account per
    environment), synthesizes Terraform with CDK Terrain, and runs it safely.

    \b
    Typical flow:
      python main.py validate      check org.yaml
      python main.py tree          look at the organization it describes
      python main.py synth         write cdktf.out/stacks/<stack>/
    Without a command, synthesizes (so cdktf.json's app works with the CDK CLI).
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    if ctx.invoked_subcommand is None:
        ctx.invoke(synth)


@cli.command()
@click.option("--hcl", is_flag=True, help="Write terraform-fmt formatted HCL (cdk.tf) instead of JSON, for review or VCS-driven runs.")
@click.option("--force", is_flag=True, help="Synthesize even when org.yaml and the code are unchanged since the last synth.")
@click.pass_context
def synth(ctx: click.Context, hcl: bool = False, force: bool = False) -> None:
    """Write the Terraform of every stack into cdktf.out/stacks/<stack>/.

    One stack `management` (organization, OUs, accounts) and one per environment
    (alias, password policy, IAM). An unchanged org.yaml reuses the previous output.
    """
    from awsenvs.synth import synthesize
    from awsenvs.terraform import TerraformError

    org = _org(ctx)
    outdir = _outdir()
    try:
        with err.status("Synthesizing (loading the AWS bindings takes a few seconds)…"):
            written = synthesize(org, outdir, hcl=hcl, force=force)
    except TerraformError as exc:
        raise Fail(f"terraform fmt: {exc}") from None
    note = "" if written else " (unchanged, reused)"
    err.print(f"Synthesized {len(org.stacks)} stacks into {outdir}/stacks{note}: {', '.join(org.stacks)}", highlight=False)


@cli.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Check org.yaml: schema, AWS naming rules and collisions of derived names. Writes nothing."""
    org = _org(ctx)
    accounts = len(org.environments)
    users = len({u.name for env in org.environments for u in env.users})
    out.print(
        f"{org.source}: ok: {len(org.products)} product(s), {accounts} account(s), {users} user(s), stacks: {', '.join(org.stacks)}",
        highlight=False,
    )


@cli.command()
@click.pass_context
def tree(ctx: click.Context) -> None:
    """Show the organization as a tree: management, OUs, accounts, groups, users, MFA."""
    from awsenvs.tree import org_tree

    out.print(org_tree(_org(ctx)))


def _selection(f):
    for decorator in reversed([
        click.option("--stack", "stacks", multiple=True, metavar="STACK", help="Only this stack (repeatable): management, <product>-<env>."),
        click.option("--product", "products", multiple=True, metavar="P", help="Only this product's stacks (repeatable); management comes along."),
        click.option("--env", "envs", multiple=True, metavar="E", help="Only this environment in every product (repeatable)."),
        click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 16), help="Account stacks run in parallel, at most this many at once."),
    ]):
        f = decorator(f)
    return f


def _session(ctx: click.Context, stacks, products, envs, workers):
    from awsenvs import aws
    from awsenvs.terraform import Terraform, TerraformError
    from awsenvs.workflow import Session

    org = _org(ctx)
    try:
        selected = list(org.select(tuple(stacks), tuple(products), tuple(envs)))
    except ConfigError as exc:
        raise Fail(str(exc), EXIT_BAD_INPUT) from None

    def guard(member_ids: dict[str, str]) -> str:
        result = aws.guard(org, member_ids)
        if result.warning:
            err.print(f"[yellow]warning:[/] {result.warning}", highlight=False)
        return result.account_id

    ask = (lambda prompt: click.prompt(prompt, default="", show_default=False, err=True)) if sys.stdin.isatty() else None
    try:
        terraform = Terraform()
    except TerraformError as exc:
        raise Fail(str(exc)) from None
    return Session(org, selected, err, _outdir(), guard, ask, workers, terraform)


def _run(step, *args):
    """Run a workflow step; its known failures become one-line errors with exit code 1."""
    from awsenvs.aws import AwsError, GuardError
    from awsenvs.terraform import TerraformError
    from awsenvs.workflow import Refused

    try:
        return step(*args)
    except (GuardError, AwsError, TerraformError, Refused) as exc:
        raise Fail(str(exc)) from None


@cli.command()
@_selection
@click.pass_context
def plan(ctx: click.Context, stacks, products, envs, workers) -> None:
    """Synthesize, guard the account, and plan every stack to a saved plan file.

    Shows a table per stack (account, add / change / destroy / import, or "waiting for
    account" until the management stack has created it).

    \b
    Exit code: 0 no changes anywhere, 2 changes, 1 an error (the guard, a stack failed).
    """
    from awsenvs import workflow

    _, code = _run(workflow.plan, _session(ctx, stacks, products, envs, workers))
    ctx.exit(code)


@cli.command()
@_selection
@click.option("--yes", "-y", is_flag=True, help="Do not ask; needed without a terminal to apply protected (mfa: required) environments.")
@click.pass_context
def apply(ctx: click.Context, stacks, products, envs, workers, yes) -> None:
    """Apply exactly the saved plans that `plan` showed: management first, then accounts in parallel.

    If org.yaml or the code changed since the plans were made, plans again and shows the
    changes first. Before touching an `mfa: required` environment, asks you to type its
    account name (unless --yes; with no terminal and no --yes it refuses). Accounts the
    management stack creates are planned and applied right after it.

    \b
    Exit code: 0 all applied, 1 a stack failed or the apply was refused.
    """
    from awsenvs import workflow

    _, code = _run(workflow.apply, _session(ctx, stacks, products, envs, workers), yes)
    ctx.exit(code)


def main(argv: list[str] | None = None) -> int:
    try:
        code = cli.main(args=argv, prog_name="main.py", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        err.print("aborted")
        return EXIT_FAILED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return code if isinstance(code, int) else EXIT_OK
