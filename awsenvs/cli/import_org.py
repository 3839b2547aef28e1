"""`import`: write org.yaml from an organization made by hand (import_org.py: `import` is a keyword)."""

from __future__ import annotations

import click

from awsenvs.cli.common import err, prog_name


@click.command("import")
@click.option("--output", "-o", default=None, metavar="FILE",
              help="Where to write the org.yaml; - prints it. Default: the --config path (org.yaml).")
@click.option("--role", "role_name", default="OrganizationAccountAccessRole", show_default=True, metavar="NAME",
              help="The role each member account is read through (and its stack will use).")
@click.option("--force", is_flag=True, help="Replace an existing file (it is backed up beside it first).")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 64),
              help="Member accounts read at once.")
@click.pass_context
def import_(ctx: click.Context, output: str | None, role_name: str, force: bool, workers: int) -> None:
    """Write an org.yaml that describes the live organization as it is.

    Run it with the management account's credentials, for an organization made by hand:
    it reads the organization (OUs, accounts, policies), each member account's IAM
    through --role, and IAM Identity Center in the run's region (AWS_REGION), and writes
    a product per OU and an environment per account, adopted by id, email and name as
    they are.  Every decision is explained in a comment beside it; the summary says what
    was found, written and left out.  The first plan of the file then creates, moves and
    replaces no account, user or group: it imports them and adds awsenvs' baseline.

    \b
    Exit codes: 0 written, 1 failure (no permission to read the organization, not the
    management account), 2 the file exists (--force) or bad input.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from awsenvs import aws
    from awsenvs.orgyaml.output import check_output, write_org_yaml

    output = output or ctx.obj["config"]
    check_output(output, force)
    region = aws.connect(None)
    columns = (TextColumn("reading accounts"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("", total=None)
        result = write_org_yaml(
            region, role_name, output, workers,
            on_accounts=lambda n: bar.update(task, total=n),
            on_account=lambda m: bar.update(task, advance=1, description=m.account.name))
    if result.path is None:
        click.echo(result.written.text, nl=False)
    for line in result.written.found:
        err.print(f"found: {line}", markup=False, highlight=False)
    for line in result.written.left_out:
        err.print(f"left out: {line}", markup=False, highlight=False)
    if result.path is not None:
        backup = f" (the old one is in {result.backup})" if result.backup else ""
        err.print(f"wrote {result.path} ({result.written.counts}){backup}: read its comments, then "
                  f"`{prog_name()} --config {result.path} validate` and `plan`", markup=False, highlight=False)
