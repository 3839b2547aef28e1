"""Whether a CI job may apply protected stacks: the CI counterpart of typing account names.

GitHub holds a job that names an environment until one of the environment's required
reviewers approves it (https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment#required-reviewers).
So a job may apply a protected stack when

- it runs in `ci.github.protected_environment`, as the job's own OIDC token says (its
  `environment` claim, signed by GitHub: the workflow file cannot pretend), and
- that environment's protection rules require a reviewer (read through the REST API: an
  environment a workflow names is created on the fly, without any rule, which is the
  mistake this catches).

Everything else is refused here, before anything is planned, in one line that says how to
set the environment up.  The job of the other environment applies the unprotected stacks
and holds the protected ones back for this one (run/confirm.py Approval).
"""

from __future__ import annotations

from awsenvs.ci.github import Job
from awsenvs.config import GitHubCi
from awsenvs.run.confirm import Approval, Refused


def job_environment(job: Job, github: GitHubCi) -> str:
    """The GitHub environment the job runs in, from its OIDC token ("" outside one)."""
    return str(job.id_token_claims(github.audience).get("environment") or "")


def approval(job: Job, github: GitHubCi, protected: bool) -> Approval:
    """The job's approval: not reviewed without `--protected` (its protected stacks are held
    back: nothing to check); with it, reviewed in the reviewed environment, else refused."""
    if not protected:
        return Approval(reviewed=False)
    environment = job_environment(job, github)
    setup = (f"set it up in the repository's Settings > Environments > {github.protected_environment}: Required "
             f"reviewers (the people who approve production changes), and Deployment branches: "
             f"{github.default_branch} only; then re-run this job")
    if environment != github.protected_environment:
        where = f"GitHub environment {environment}" if environment else "no GitHub environment"
        raise Refused(f"refusing to apply protected stacks: this job runs in {where} (its OIDC token says so), not in "
                      f"{github.protected_environment}, whose reviewers approve them: give the job `environment: "
                      f"{github.protected_environment}` (`awsenvs ci github` writes it so)")
    reviewers = job.environment_reviewers(environment)
    if not reviewers:
        state = "does not exist" if reviewers is None else "requires no reviewer"
        raise Refused(f"refusing to apply protected stacks: GitHub environment {environment} {state}, so nobody "
                      f"approved this job: {setup}")
    return Approval(reviewed=True)
