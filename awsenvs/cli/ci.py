"""`ci`: the team's door.  `ci github` writes the GitHub Actions workflows into the
repository (awsenvs/cli/ci_github.py); `ci plan`, `ci apply` and `ci drift` are what those
workflows' steps run (awsenvs/cli/ci_jobs.py, ci_drift.py), and what the test harness runs here."""

from __future__ import annotations

import click

from awsenvs.cli import LazyGroup

# Each subcommand: where it lives, and the first sentence of its help (as VERBS).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "github": ("awsenvs.cli.ci_github:github",
               "Write the GitHub Actions workflows (.github/workflows/awsenvs-*.yml) of the repository holding org.yaml."),
    "plan": ("awsenvs.cli.ci_jobs:plan",
             "In a pull request's job: plan the stacks it changes, comment on it and write the job summary."),
    "apply": ("awsenvs.cli.ci_jobs:apply",
              "In a job on the default branch: plan and apply, protected stacks only in a reviewed GitHub environment."),
    "drift": ("awsenvs.cli.ci_drift:drift",
              "In the scheduled job: audit the live accounts and open, update or close the drift issue."),
}


class _Subcommands(LazyGroup):
    registry = SUBCOMMANDS


@click.group(cls=_Subcommands)
def ci() -> None:
    """Plan on every pull request, apply on merge behind an approval, drift on a schedule (GitHub Actions).

    \b
    One-time set-up (docs/ci.md):
      ci.github in org.yaml, then `bootstrap`   the OIDC provider and the plan/apply roles
      ci github                                 write .github/workflows/awsenvs-*.yml
    The workflows' jobs run `ci plan`, `ci apply` and `ci drift`; each reads GitHub's
    environment (GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_TOKEN, ...).
    """
