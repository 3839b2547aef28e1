"""Assemble the Terraform stacks of an organization and synthesize them.

`management` holds the organization and its accounts; every environment gets its own
stack whose AWS provider assumes a role into that environment's account.

With `state.backend: cloud` the stacks run remotely, where awsenvs' guard does not run:
each stack then checks the account its run is in (modules/caller_check.py).  The
`bootstrap` stack (local state) holds what remote state needs first (modules/bootstrap.py).

Account ids of *new* accounts exist only after `management` is applied.  Rather than a
cross-stack reference (which would make every account stack read the management stack's
remote state, and fail to plan until it exists), each account stack declares a variable
`account_id`: adopted accounts get it as the default from org.yaml; for new accounts the
runner reads the management stack's `account_ids` output and writes it into
`account.auto.tfvars.json` beside the stack; an account not created yet keeps an empty
default that the variable's validation explains.  So synth (JSON) stays a pure function of
org.yaml, `allowed_account_ids` holds a literal id at plan time, plain `terraform plan` in
a stack directory works, and a stack whose account does not exist yet is reported as
"waiting for account" instead of failing.  `synth --hcl` is the exception on purpose: for
VCS-driven workspaces, which run the committed files without awsenvs, it writes the ids
it knows (SynthOptions.account_ids) as the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

from awsenvs import kernel  # noqa: F401 - first: it quiets the jsii kernel's exit
from cdktn import (
    App,
    CloudBackend,
    LocalBackend,
    NamedCloudWorkspace,
    S3Backend,
    TerraformStack,
    TerraformVariable,
    TerraformVariableValidationConfig,
)
from cdktn_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags
from constructs import Construct

from awsenvs.config import (
    ACCOUNT_ID_VARIABLE,
    BOOTSTRAP_STACK,
    MANAGED_BY,
    MANAGEMENT_STACK,
    TFC_HOSTNAME,
    TFC_RUN_ROLE_VARIABLE,
    Environment,
    Org,
    RunRole,
)
from awsenvs.modules.account import AccountBaseline
from awsenvs.modules.account_settings import AccountSettings
from awsenvs.modules.bootstrap import GitHubRoles, RunRoles, StateBucket
from awsenvs.modules.break_glass import BreakGlassAccess
from awsenvs.modules.budget import MonthlyBudget
from awsenvs.modules.caller_check import CallerCheck
from awsenvs.modules.ci_access import CiReadRole
from awsenvs.modules.guardrails import Guardrails
from awsenvs.modules.iam import Iam
from awsenvs.modules.identity_center import IdentityCenter
from awsenvs.modules.organization import Organization

# The AWS provider the tests run (5.100.0, from the filesystem mirror) and its patch releases:
# what was never run here is never chosen.  A looser `>= 5.100, < 7.0` let a fresh `init` with
# a registry pick 6.x, which no test ran.  The bindings are generated for 6.x, so the stacks use
# no argument that exists only there (`terraform validate` of every stack, in the tests, runs
# 5.100.0's schema); moving to 6.x is a change of this line, with the suite run against it.
PROVIDER_CONSTRAINT = "~> 5.100.0"
# The Terraform features the stacks rely on, and the release that brought each
# (https://developer.hashicorp.com/terraform/language): `import` blocks 1.5 (the runner's
# reconcile adds them to every stack), `removed` blocks 1.7 (retiring an environment),
# the S3 backend's `use_lockfile` 1.10, saved plans of the `cloud` block (`plan -out`,
# then `apply` of that file) 1.6 (https://github.com/hashicorp/terraform/blob/v1.6.0/CHANGELOG.md).
IMPORT_BLOCKS, REMOVED_BLOCKS, S3_LOCKFILE, CLOUD_SAVED_PLANS = "1.5", "1.7", "1.10", "1.6"


def required_terraform(*features: str) -> str:
    return ">= " + max(features, key=lambda v: tuple(int(p) for p in v.split(".")))


def _features(org: Org) -> tuple[str, ...]:
    """The Terraform features a stack of this org may use (besides its own, see _Stack)."""
    return ((S3_LOCKFILE,) if org.state.backend == "s3" else ()) + ((CLOUD_SAVED_PLANS,) if org.state.backend == "cloud" else ())


def new_app(org: Org, outdir: Path) -> App:
    """An app whose declared target (cdktn's `targetVersions` context, which its own checks
    read: e.g. the S3 backend's `use_lockfile` needs 1.10) is the newest Terraform release
    any stack of this org requires.  Only Terraform is targeted (TERRAFORM_BIN may name
    tofu, at the user's risk)."""
    newest = required_terraform(IMPORT_BLOCKS, REMOVED_BLOCKS, *_features(org)).replace(" ", "")
    return App(outdir=str(outdir), stack_traces=False, context={"targetVersions": {"terraform": newest}})


@dataclass(frozen=True)
class SynthOptions:
    outdir: Path
    state_dir: Path | None = None  # local backend: overrides org.state.local_dir (the sandbox uses this)
    # Account stacks' `account_id` defaults beyond org.yaml's (`synth --hcl`: the created
    # accounts' ids, from the management stack's outputs).
    account_ids: Mapping[str, str] = field(default_factory=dict)


class _Stack(TerraformStack):
    def __init__(self, scope: Construct, name: str, org: Org, options: SynthOptions, *features: str) -> None:
        super().__init__(scope, name)
        self._backend(name, org, options)
        # The provider the tests run (see PROVIDER_CONSTRAINT).
        self.add_override("terraform.required_providers.aws.version", PROVIDER_CONSTRAINT)
        self.add_override("terraform.required_version", required_terraform(IMPORT_BLOCKS, *features, *_features(org)))

    def _backend(self, name: str, org: Org, options: SynthOptions) -> None:
        state = org.state
        if state.backend == "s3":
            # No `encrypt`: with it and no kms_key_id, the backend sends ServerSideEncryption
            # AES256 on every PutObject (hashicorp/terraform v1.11 internal/backend/remote-state/
            # s3/client.go, put()), which overrides the bucket's default, SSE-KMS (bootstrap
            # makes it so: modules/bootstrap.py).  Without it no header is sent and the bucket's
            # default applies: state objects are aws:kms, as bootstrap says.
            S3Backend(self, bucket=state.s3.bucket, region=state.s3.region, key=state.s3_key(name), use_lockfile=True)
        elif state.backend == "cloud":
            CloudBackend(
                self,
                organization=state.cloud.organization,
                workspaces=NamedCloudWorkspace(state.workspace(name), state.cloud.project),
                hostname=None if state.cloud.hostname == TFC_HOSTNAME else state.cloud.hostname,
            )
        else:
            state_dir = options.state_dir or state.local_dir
            stack_dir = options.outdir / "stacks" / name
            path = os.path.relpath(state_dir / f"{name}.tfstate", stack_dir.resolve())
            LocalBackend(self, path=path)


class ManagementStack(_Stack):
    def __init__(self, scope: Construct, org: Org, options: SynthOptions) -> None:
        super().__init__(scope, MANAGEMENT_STACK, org, options, REMOVED_BLOCKS)
        AwsProvider(
            self,
            "aws",
            region=org.region,
            allowed_account_ids=[org.management_account_id] if org.management_account_id else None,
            default_tags=[AwsProviderDefaultTags(tags={"managed-by": MANAGED_BY})],
        )
        self.organization = Organization(self, "organization", org)
        if org.state.backend == "cloud":  # management_account_id is then required (config)
            CallerCheck(self, "caller", f'"{org.management_account_id}"',
                        f"These credentials are not the management account's ({org.management_account_id}): set this "
                        f"workspace's {TFC_RUN_ROLE_VARIABLE} to its run role (see `awsenvs bootstrap`).")
        Guardrails(self, "guardrails", org, {name: ou.id for name, ou in self.organization.ous.items()},
                   depends_on=[self.organization.organization], organization_id=self.organization.organization.id,
                   account_ids={stack: account.id for stack, account in self.organization.accounts.items()})
        if any(env.has_account_settings for env in org.environments):
            AccountSettings(self, "account-settings", org.environments,
                            {stack: account.id for stack, account in self.organization.accounts.items()},
                            depends_on=[self.organization.organization])
        if org.break_glass is not None:
            BreakGlassAccess(self, "break-glass", org.break_glass, org.region,
                             [org.management_account_id] if org.management_account_id else None)
        if org.identity_center:
            account_ids = {stack: account.id for stack, account in self.organization.accounts.items()}
            IdentityCenter(self, "identity-center", org.people, org.groups, org.assignments, account_ids, org.environments)


class AccountStack(_Stack):
    def __init__(self, scope: Construct, org: Org, env: Environment, options: SynthOptions) -> None:
        super().__init__(scope, env.stack, org, options)
        variable = f"var.{ACCOUNT_ID_VARIABLE}"
        account_id = TerraformVariable(
            self,
            ACCOUNT_ID_VARIABLE,
            type="string",
            # Empty until the account exists: a run then stops at the validation below,
            # which says why, instead of "No value for required variable".
            default=env.account_id or options.account_ids.get(env.stack) or "",
            description=f"Account id of {env.account_name} (set by the runner from the management stack's outputs)",
            validation=[
                TerraformVariableValidationConfig(
                    condition=f'${{{variable} != ""}}',
                    error_message=f"The account {env.account_name} does not exist yet: apply the management stack first, "
                                  f"then run `awsenvs synth --hcl` again and commit (or set this workspace's "
                                  f"{ACCOUNT_ID_VARIABLE} variable).",
                ),
                TerraformVariableValidationConfig(
                    condition=f'${{{variable} == "" || can(regex("^[0-9]{{12}}$", {variable}))}}',
                    error_message="The account_id must be 12 digits.",
                ),
            ],
        )
        account_id.override_logical_id(ACCOUNT_ID_VARIABLE)
        account_id_ref = account_id.string_value  # read once: each read is a jsii round-trip
        # A Terraform Cloud run acts with its workspace's role, which may assume the account's
        # own role and nothing else: a pull request's read-only view (Org.reading_through)
        # changes only the look-ups the CI job makes itself.
        acting = replace(env, reading_role=None) if org.state.backend == "cloud" else env
        AwsProvider(
            self,
            "aws",
            region=env.region,
            profile=env.cli_profile,
            assume_role=None if env.cli_profile else [
                AwsProviderAssumeRole(
                    role_arn=acting.role_arn(account_id_ref),
                    session_name=f"awsenvs-{env.stack}",
                )
            ],
            # Terraform refuses to touch any other account, whatever credentials it gets.
            allowed_account_ids=[account_id_ref],
            default_tags=[AwsProviderDefaultTags(tags=env.tags)],
        )
        if org.state.backend == "cloud":
            CallerCheck(self, "caller", variable,
                        f"These credentials reach another account than {env.account_name} (var.{ACCOUNT_ID_VARIABLE}): check "
                        f"this workspace's {TFC_RUN_ROLE_VARIABLE} and {ACCOUNT_ID_VARIABLE}.")
        AccountBaseline(self, "baseline", env.alias, env.password_policy)
        if env.budget is not None:
            MonthlyBudget(self, "budget", env.budget_name, env.budget)
        if not org.identity_center:  # Identity Center access lives in the management stack
            Iam(self, "iam", env.groups, env.users, env.mfa_required, account_id_ref,
                grants_of=env.grants_of, ended_grants_of=env.ended_grants_of)
        if org.ci_read_role(env) is not None:  # management_account_id is then known (config)
            CiReadRole(self, "ci-read", org.github, org.management_account_id)


class RetiredStack(_Stack):
    """Only the backend of an environment removed from org.yaml: enough to take its
    objects out of state (`terraform state rm`) without destroying them."""

    def __init__(self, scope: Construct, org: Org, stack: str, options: SynthOptions) -> None:
        super().__init__(scope, stack, org, options)


class BootstrapStack(TerraformStack):
    """What the state backend needs before the other stacks can `init`, in the management
    account, with local state (org.state.bootstrap_state): the S3 state bucket, or the
    Terraform Cloud run credentials (`roles`); and GitHub Actions' roles with ci.github."""

    def __init__(self, scope: Construct, org: Org, options: SynthOptions, roles: Sequence[RunRole]) -> None:
        super().__init__(scope, BOOTSTRAP_STACK)
        stack_dir = options.outdir / "stacks" / BOOTSTRAP_STACK
        LocalBackend(self, path=os.path.relpath(org.state.bootstrap_state, stack_dir.resolve()))
        self.add_override("terraform.required_providers.aws.version", PROVIDER_CONSTRAINT)
        self.add_override("terraform.required_version", required_terraform(IMPORT_BLOCKS))
        region = org.state.s3.region if org.state.backend == "s3" else org.region
        AwsProvider(self, "aws", region=region, allowed_account_ids=[org.management_account_id] if org.management_account_id else None,
                    default_tags=[AwsProviderDefaultTags(tags={"managed-by": MANAGED_BY})])
        if org.state.backend == "s3":
            StateBucket(self, "state", org.state.s3.bucket)
        elif org.state.backend == "cloud":
            RunRoles(self, "run-roles", org, roles)
        if org.github is not None:  # never with local state (config)
            GitHubRoles(self, "github", org)


def build_app(org: Org, options: SynthOptions, stacks: Sequence[str] | None = None, outdir: Path | None = None) -> App:
    """An app of these stacks (default: all), writing into outdir (default: options.outdir).

    The stacks share nothing, so any subset synthesizes to the same files as the whole org
    (awsenvs.synth rebuilds only the stacks whose inputs changed, and stages them in
    another folder; options.outdir stays what local backend paths are relative to)."""
    app = new_app(org, outdir or options.outdir)
    wanted = set(org.stacks if stacks is None else stacks)
    if MANAGEMENT_STACK in wanted:
        ManagementStack(app, org, options)
    for env in org.environments:
        if env.stack in wanted:
            AccountStack(app, org, env, options)
    return app
