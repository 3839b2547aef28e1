"""`export-modules`: Terraform modules for plain-Terraform teams."""

from __future__ import annotations

from pathlib import Path

import click

from awsenvs.cli.common import err


@click.command("export-modules")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files changed since the last export (your edits are lost).")
def export_modules(directory: Path, force: bool) -> None:
    """Write reusable Terraform modules into DIRECTORY: organization, guardrails,
    account_settings, identity_center, account and iam, with example/main.tf wiring them.

    For teams that run plain Terraform (or a private module registry) instead of this
    runner: the same constructs as the stacks, driven by typed module variables, each
    module a main.tf with a README.md of its inputs and outputs; DIRECTORY/README.md says
    what is not exported. Needs no org.yaml. The folder is yours to edit: exporting again
    refuses to overwrite a file changed since the last export, unless --force.
    """
    from awsenvs.export import export_modules as export

    with err.status("Writing the modules (loading the AWS bindings takes a few seconds)…"):
        written = export(directory, force=force)
    for folder in written:
        err.print(f"Wrote {folder}/main.tf" + ("" if folder.name == "example" else " and README.md"),
                  markup=False, highlight=False)
    err.print(f"Wrote {Path(directory).absolute() / 'README.md'}: what is exported, how to apply it, what is left out",
              markup=False, highlight=False)
