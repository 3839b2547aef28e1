"""`ci github`: write the GitHub Actions workflows (awsenvs/ci/workflows.py)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import click

from awsenvs.cli.common import err, load_ci_org, out


@click.command("github")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="The repository root to write .github/workflows/ into (default: the git repository holding "
                   "org.yaml, else org.yaml's folder).")
@click.option("--dry-run", is_flag=True, help="Print what would change in each file (a diff); write nothing.")
@click.option("--force", is_flag=True,
              help="Overwrite edits inside awsenvs' blocks (and a same-named file awsenvs did not write).")
@click.pass_context
def github(ctx: click.Context, directory: Path | None, dry_run: bool, force: bool) -> None:
    """Write the GitHub Actions workflows (.github/workflows/awsenvs-*.yml) of the repository holding org.yaml.

    \b
    awsenvs-plan.yml   pull requests: plan what they change, comment on them
    awsenvs-apply.yml  pushes to the default branch: apply, protected stacks after a review
    awsenvs-drift.yml  on ci.github.drift.schedule: audit, and keep the drift issue
    Needs ci.github in org.yaml (and bootstrap run with it: the roles the jobs assume).
    The files are made of blocks between `# >>> awsenvs:` and `# <<< awsenvs:` comments:
    writing again replaces them and keeps what you added outside them; a block edited by
    hand is not overwritten (its diff is shown) unless --force. Nothing is written unless
    every file can be.
    """
    from awsenvs.ci import workflows
    from awsenvs.errors import BadInput

    org = load_ci_org(ctx)
    source = Path(org.source)
    if directory is None:
        directory = workflows.repository_root(source)
        if directory is None:
            directory = source.resolve().parent
            err.print(f"note: {source} is not in a git repository: writing into its folder, {directory} (--dir DIR "
                      "chooses another)", markup=False, highlight=False)
    root = directory.resolve()
    try:
        config = PurePosixPath(source.resolve().relative_to(root).as_posix())
    except ValueError:
        raise BadInput(f"--dir {directory}: {source} is not inside it: the jobs run at the repository's root and read "
                       "org.yaml by its path there; choose the repository that holds it") from None

    changes = workflows.prepare(root, workflows.render(org, config))
    if dry_run:
        for change in changes:
            out.print(change.diff(root), markup=False, highlight=False, end="")
    refusal = workflows.refusal(changes, root)
    if refusal and not force:
        if not dry_run:  # a dry run has just shown them
            for change in changes:
                for block in change.merged.edited:
                    err.print(block.diff, markup=False, highlight=False, end="")
        raise BadInput(refusal)
    if not dry_run:
        workflows.write(changes)
    for change in changes:
        if not change.changed:
            status = "unchanged"
        elif dry_run:
            status = "would be written" if change.existing is None else "would be updated"
        else:
            overwritten = ", ".join(e.name for e in change.merged.edited)
            status = ("written" if change.existing is None else "updated") + (
                f" (your edits to {overwritten} overwritten: --force)" if overwritten else "")
        err.print(f"{change.path}: {status}", markup=False, highlight=False)
    if not dry_run and any(c.changed for c in changes):
        err.print(workflows.next_steps(org), markup=False, highlight=False)
