"""What remote state needs before any stack can `init`: the S3 state bucket, or the
Terraform Cloud run credentials (OIDC provider and a role per workspace); and, with
`ci.github`, GitHub Actions' OIDC provider and the plan and apply roles of its jobs.

Both live in the management account, in the small `bootstrap` stack (local state) that
`awsenvs bootstrap` plans and applies.  The policy documents are in bootstrap_policies.py.
"""

from __future__ import annotations

import json
from typing import Sequence

from cdktn import TerraformResourceLifecycle
from cdktn_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.s3_bucket import S3Bucket
from cdktn_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktn_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktn_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktn_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktn_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from awsenvs.config import (
    CI_APPLY_POLICY_ADDRESS,
    CI_APPLY_ROLE_ADDRESS,
    CI_APPLY_SESSION_SECONDS,
    CI_PLAN_POLICY_ADDRESS,
    CI_PLAN_ROLE_ADDRESS,
    CI_POLICY_NAME,
    GITHUB_OIDC_PROVIDER_ADDRESS,
    OIDC_PROVIDER_ADDRESS,
    RUN_ROLE_POLICY_NAME,
    STATE_BUCKET_ADDRESS,
    STATE_BUCKET_POLICY_ADDRESS,
    STATE_BUCKET_PUBLIC_ACCESS_ADDRESS,
    STATE_BUCKET_TF_NAME,
    TFC_AUDIENCE,
    Org,
    RunRole,
)
from awsenvs.modules.bootstrap_policies import (
    account_run_policy,
    github_apply_policy,
    github_plan_policy,
    github_trust_policy,
    management_run_policy,
    run_trust_policy,
    tls_only_bucket_policy,
)


def _name(address: str) -> str:
    return address.split(".", 1)[1]


# A replaced state version is kept this long (enough to go back after a bad apply or a
# corrupted state, without keeping every version forever); the current one never expires.
NONCURRENT_DAYS, INCOMPLETE_UPLOAD_DAYS = 90, 7


class StateBucket(Construct):
    """The state bucket: versioned (replaced states kept, see NONCURRENT_DAYS), encrypted by
    default with KMS (the AWS managed key, with an S3 bucket key: no key to manage, few KMS
    requests), no public access, TLS only.  Locking needs nothing more: the stacks' S3
    backend locks with a lock file in the bucket (`use_lockfile`, Terraform 1.10+;
    https://developer.hashicorp.com/terraform/language/backend/s3).  It is never destroyed
    by Terraform (prevent_destroy): it holds every stack's state."""

    def __init__(self, scope: Construct, id: str, bucket_name: str) -> None:
        super().__init__(scope, id)
        bucket = S3Bucket(self, "bucket", bucket=bucket_name, lifecycle=TerraformResourceLifecycle(prevent_destroy=True))
        bucket.override_logical_id(_name(STATE_BUCKET_ADDRESS))
        name, arn = bucket.id, bucket.arn
        versioning = S3BucketVersioningA(self, "versioning", bucket=name,
                                         versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"))
        versioning.override_logical_id(STATE_BUCKET_TF_NAME)
        encryption = S3BucketServerSideEncryptionConfigurationA(self, "encryption", bucket=name, rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms"),
                bucket_key_enabled=True,
            ),
        ])
        encryption.override_logical_id(STATE_BUCKET_TF_NAME)
        expiry = S3BucketLifecycleConfiguration(self, "lifecycle", bucket=name, depends_on=[versioning], rule=[
            S3BucketLifecycleConfigurationRule(
                # Every object; an empty `filter {}` is deprecated (hashicorp/terraform-provider-aws#42515).
                id="old-state-versions", status="Enabled", filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=NONCURRENT_DAYS)],
                abort_incomplete_multipart_upload=[S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=INCOMPLETE_UPLOAD_DAYS)],
            ),
        ])
        expiry.override_logical_id(STATE_BUCKET_TF_NAME)
        public = S3BucketPublicAccessBlock(self, "public-access", bucket=name, block_public_acls=True, block_public_policy=True,
                                           ignore_public_acls=True, restrict_public_buckets=True)
        public.override_logical_id(_name(STATE_BUCKET_PUBLIC_ACCESS_ADDRESS))
        # After the public access block: S3 checks a new policy against it.
        policy = S3BucketPolicy(self, "policy", bucket=name, policy=json.dumps(tls_only_bucket_policy(arn)),
                                depends_on=[public])
        policy.override_logical_id(_name(STATE_BUCKET_POLICY_ADDRESS))


class RunRoles(Construct):
    """The OIDC provider of the Terraform Cloud host and one role per stack workspace.

    Each role trusts only its own workspace's runs; management's may manage the
    organization, an account stack's may only assume its account's role, and gets that
    permission once the account exists (a role without it can do nothing).  No thumbprint:
    IAM trusts the host's certificate through its root CAs
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html)."""

    def __init__(self, scope: Construct, id: str, org: Org, roles: Sequence[RunRole]) -> None:
        super().__init__(scope, id)
        state = org.state
        provider = IamOpenidConnectProvider(self, "provider", url=state.oidc_url, client_id_list=[TFC_AUDIENCE])
        provider.override_logical_id(_name(OIDC_PROVIDER_ADDRESS))
        provider_arn = provider.arn
        for run_role in roles:
            role = IamRole(self, f"role-{run_role.stack}", name=run_role.name,
                           description=f"Terraform Cloud runs of workspace {run_role.workspace} (awsenvs)",
                           assume_role_policy=json.dumps(run_trust_policy(provider_arn, state.cloud.hostname, run_role)))
            role.override_logical_id(run_role.tf_name)
            if run_role.waiting:
                continue
            document = management_run_policy(org) if run_role.target_role is None else account_run_policy(run_role)
            policy = IamRolePolicy(self, f"policy-{run_role.stack}", role=role.name, name=RUN_ROLE_POLICY_NAME,
                                   policy=json.dumps(document))
            policy.override_logical_id(run_role.tf_name)


class GitHubRoles(Construct):
    """GitHub Actions' OIDC provider and the two roles of the CI jobs (ci.github), beside
    whatever else the bootstrap stack holds (names apart from the Terraform Cloud ones).

    The plan role (pull requests, the scheduled drift check) may only read, and assume the
    read-only role of each account; the apply role (jobs in the two GitHub environments) may
    do what `apply` does.  Trust and permissions: bootstrap_policies.py.  No thumbprint, as for
    Terraform Cloud: IAM trusts GitHub's certificate through its root CAs.  The apply role's
    session may last CI_APPLY_SESSION_SECONDS (2 hours): the workflow asks that much
    (role-duration-seconds), configure-aws-credentials' default being 1 hour."""

    def __init__(self, scope: Construct, id: str, org: Org) -> None:
        super().__init__(scope, id)
        github = org.github
        provider = IamOpenidConnectProvider(self, "provider", url=github.oidc_url, client_id_list=[github.audience])
        provider.override_logical_id(_name(GITHUB_OIDC_PROVIDER_ADDRESS))
        provider_arn = provider.arn
        for kind, name, subjects, document, session, role_address, policy_address in (
            ("plan", github.plan_role_name, github.plan_subjects, github_plan_policy(org), None,
             CI_PLAN_ROLE_ADDRESS, CI_PLAN_POLICY_ADDRESS),
            ("apply", github.apply_role_name, github.apply_subjects, github_apply_policy(org), CI_APPLY_SESSION_SECONDS,
             CI_APPLY_ROLE_ADDRESS, CI_APPLY_POLICY_ADDRESS),
        ):
            role = IamRole(self, f"{kind}-role", name=name, max_session_duration=session,
                           description=f"GitHub Actions {kind} jobs of {github.repository} (awsenvs)",
                           assume_role_policy=json.dumps(github_trust_policy(provider_arn, github, subjects)))
            role.override_logical_id(_name(role_address))
            policy = IamRolePolicy(self, f"{kind}-policy", role=role.name, name=CI_POLICY_NAME, policy=json.dumps(document))
            policy.override_logical_id(_name(policy_address))
