"""The IAM policy documents of `bootstrap`, as pure functions (no Terraform bindings).

- The state bucket accepts TLS only: one Deny of every S3 action on the bucket and its
  objects when `aws:SecureTransport` is false, AWS's recommended form
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html,
  https://repost.aws/knowledge-center/s3-bucket-policy-for-config-rule).
- A run role trusts the Terraform Cloud OIDC provider for exactly one workspace: audience
  `aws.workload.identity` (StringEquals) and the subject of that workspace's runs, every
  run phase (StringLike, `...:run_phase:*`), as HashiCorp's AWS guide shows
  (https://developer.hashicorp.com/terraform/cloud-docs/dynamic-provider-credentials/aws-configuration).
- What each role may do is what its stack needs:
  - management: Organizations (the organization, its OUs, accounts and policies),
    centralized root access when it is on, Identity Center with identity_center access,
    member accounts' contacts and opt-in regions when org.yaml sets them; explicitly never
    removing an account, deleting or leaving the organization, nor assigning a permission
    set into the management account, nor changing, provisioning or assigning a permission set
    that is not awsenvs' (tagged managed-by=awsenvs), nor tagging one so; and no IAM action on
    the roles Identity Center reserves (they would act in the management account only);
    Identity Store's actions cannot be scoped (see docs/state.md); closing an account never,
    whatever `on_retire` says (retiring and closing run with the operator's credentials).
  - an account stack: assume its account's role, nothing else.  Its provider does the
    rest through that role, as it does in a local run.

GitHub Actions (`ci.github`): bootstrap makes GitHub's OIDC provider and two roles in the
management account, and each account stack a read-only role in its account.

- Trust.  A job's token is issued by https://token.actions.githubusercontent.com for the
  audience `sts.amazonaws.com` (what aws-actions/configure-aws-credentials asks for); its
  `sub` names the repository and what the job runs for: `repo:OWNER/NAME:pull_request`,
  `repo:OWNER/NAME:ref:refs/heads/BRANCH`, or, for a job in a GitHub environment,
  `repo:OWNER/NAME:environment:NAME` (GitHub: "Configuring OpenID Connect in Amazon Web
  Services", https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services;
  AWS: "Creating a role for GitHub OIDC", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub,
  and the condition keys `token.actions.githubusercontent.com:aud` / `:sub`,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
  Both roles check `aud` and `sub` with StringEquals against exact values, never StringLike:
  no wildcard can let another repository, branch or environment in (config refuses names
  with wildcard characters).  AWS requires a `sub` condition on a role trusting GitHub's
  provider; the lists are GitHubCi.plan_subjects (pull requests, and the default branch for
  the scheduled drift check) and GitHubCi.apply_subjects (the two apply environments: only
  a job that GitHub let into one of them carries such a `sub`, after its protection rules).
- The plan role (github_plan_policy) only reads: the organization, Identity Center and its
  identity store, the member accounts' contacts and opt-in regions, the management account's
  IAM summary and organization features (what `plan` refreshes and `audit` reads there); the
  state (ListBucket, GetObject) and nothing written but terraform's lock file
  (`<prefix>/<stack>.tfstate.tflock`, `use_lockfile`: Put and Delete on `*.tflock` only,
  https://developer.hashicorp.com/terraform/language/backend/s3#permissions-required); and it
  may assume one role only, `awsenvs-github-read`, in any account.
- The read role in each member account (github_read_role_policy) lets the plan role read
  that account's IAM (Get*, List*) and budgets: what the account stack's plan refreshes and
  the look-ups and `audit` read.  Why a role of its own rather than the member access role
  (OrganizationAccountAccessRole) with a read-only session policy: a session policy is chosen
  by the caller of AssumeRole, and IAM has no condition key by which a role's trust could
  require one (a trust policy sees who asks, and tags or a source identity, not the session
  policy passed).  A pull request's code runs with the plan role's credentials, so it could
  assume the member role without the session policy and have AdministratorAccess in every
  account.  The read role has nothing but reads to give, whoever assumes it and however.
  Its trust names the plan role itself as principal, not the management account with an
  `aws:PrincipalArn` condition (equivalent, but checkov's CKV_AWS_61 refuses any account
  principal, conditions or not).  So the plan role must exist before an account stack makes
  the read role: IAM refuses a trust policy whose principal role does not exist (Invalid
  principal), and `plan` and `apply` check first that bootstrap made it (preflight).  A role principal
  is stored as the role's unique id: a plan role deleted and made again by hand is no longer
  trusted until the account stacks are applied again (their plans show the trust to restore).
- The apply role (github_apply_policy) may do what the management stack's run role may
  (management_run_policy: the same statements, the same explicit denies: never closing or
  removing an account, nor ending the organization, ...), read and write the state (and the
  lock file), and assume the roles the account stacks act through (Org.managing_roles) in
  any account, as a laptop's `apply` does with the management account's credentials.
  Closing retired accounts (on_retire: close) stays a person's run: CloseAccount is denied.
- KMS: the state bucket's default key is the AWS managed `aws/s3`, whose key policy lets any
  principal of the account that may use S3 use it through S3: no kms: action is needed.
"""

from __future__ import annotations

from typing import Sequence

from awsenvs.config import (
    BREAK_GLASS_ALERT_NAME,
    BREAK_GLASS_GROUP,
    BREAK_GLASS_POLICY_NAME,
    MANAGED_BY,
    MANAGED_BY_TAG,
    TFC_AUDIENCE,
    GitHubCi,
    Org,
    RunRole,
)

VERSION = "2012-10-17"
ORGANIZATIONS_PRINCIPAL = "organizations.amazonaws.com"

# Centralized root access (aws_iam_organizations_features)
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html).
ROOT_ACCESS_ACTIONS = (
    "iam:EnableOrganizationsRootCredentialsManagement", "iam:EnableOrganizationsRootSessions",
    "iam:DisableOrganizationsRootCredentialsManagement", "iam:DisableOrganizationsRootSessions",
    "iam:ListOrganizationsFeatures",
)
# Identity Center provisions the roles of an account assignment in member accounts with its
# own service-linked role, whose policy leaves the management account out (the statement
# IAMRoleProvisioningActions of AWSSSOServiceRolePolicy: `aws:PrincipalOrgMasterAccountId`
# must not be the principal's account,
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSSSOServiceRolePolicy.html).
# The caller's own IAM permissions on role/aws-reserved/sso.amazonaws.com/* would act in its
# own account, the management account, and only serve an assignment there: the run role holds
# none, and may not assign into the management account at all (below).
MANAGEMENT_ACCOUNT_ASSIGNMENT_ACTIONS = ("sso:CreateAccountAssignment", "sso:DeleteAccountAssignment",
                                         "sso:ProvisionPermissionSet")
# That deny names the account a request targets; ProvisionPermissionSet with TargetType
# ALL_PROVISIONED_ACCOUNTS names none (no TargetId: https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ProvisionPermissionSet.html),
# and the provider provisions that way whenever a permission set or its policies change.  So
# what is provisioned is kept to awsenvs' own permission sets, which are never assigned in the
# management account (awsenvs refuses to plan while one is: checks.check_management_account_access):
# the run role may change, provision or assign no permission set without managed-by=awsenvs
# (every one the management stack makes carries it: the provider's default_tags), nor put that
# tag on one, nor take it off.  The PermissionSet resource takes aws:ResourceTag conditions,
# TagResource and UntagResource aws:TagKeys (service authorization reference,
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiamidentitycentersuccessortoawssinglesign-on.html).
PERMISSION_SET_CHANGES = (
    "sso:AttachManagedPolicyToPermissionSet", "sso:DetachManagedPolicyFromPermissionSet",
    "sso:AttachCustomerManagedPolicyReferenceToPermissionSet", "sso:DetachCustomerManagedPolicyReferenceFromPermissionSet",
    "sso:PutInlinePolicyToPermissionSet", "sso:DeleteInlinePolicyFromPermissionSet",
    "sso:PutPermissionsBoundaryToPermissionSet", "sso:DeletePermissionsBoundaryFromPermissionSet",
    "sso:UpdatePermissionSet", "sso:DeletePermissionSet", "sso:ProvisionPermissionSet",
    "sso:CreateAccountAssignment", "sso:DeleteAccountAssignment",
)
PERMISSION_SETS = "arn:aws:sso:::permissionSet/*"
# What a leaked workspace token must never do to the organization, whatever else is allowed:
# no Terraform run calls these (accounts are never closed or removed by a stack: close_on_deletion
# is off, prevent_destroy is on, and a retired account leaves state through a `removed` block).
# Closing a retired account (organization.on_retire: close) is retire.close, run by `apply` with
# the operator's credentials, never in a workspace run.  CloseAccount stays denied
# unconditionally: a tag condition would not hold, since every awsenvs account (prod and
# adopted ones too) carries managed-by=awsenvs, and `organizations:*` includes TagResource,
# with which any other account could be tagged first
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html).
ORGANIZATION_ENDINGS = ("organizations:CloseAccount", "organizations:RemoveAccountFromOrganization",
                        "organizations:DeleteOrganization", "organizations:LeaveOrganization")
# Member accounts' alternate contacts and opt-in regions (Account Management, on member
# accounts only: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsaccountmanagement.html).
ACCOUNT_SETTINGS_ACTIONS = ("account:GetAlternateContact", "account:PutAlternateContact", "account:DeleteAlternateContact",
                            "account:EnableRegion", "account:DisableRegion", "account:GetRegionOptStatus",
                            "account:ListRegions")


def tls_only_bucket_policy(bucket_arn: str) -> dict:
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    }


def run_trust_policy(provider_arn: str, host: str, role: RunRole) -> dict:
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "TerraformCloudRuns",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{host}:aud": TFC_AUDIENCE},
                "StringLike": {f"{host}:sub": role.subject},
            },
        }],
    }


def management_run_policy(org: Org) -> dict:
    """What the management stack's runs may do (see the module doc)."""
    statements = [
        {"Sid": "Organization", "Effect": "Allow", "Action": "organizations:*", "Resource": "*"},
        # Organizations' own service-linked role (creating the organization needs it:
        # AccessDeniedForDependencyException otherwise,
        # https://docs.aws.amazon.com/botocore/latest/reference/services/organizations/client/exceptions/AccessDeniedForDependencyException.html),
        # and those of the services org.yaml trusts (trusted access may create them).
        {"Sid": "ServiceLinkedRoles", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:AWSServiceName": [ORGANIZATIONS_PRINCIPAL, *org.trusted_services]}}},
    ]
    # A created account renamed in org.yaml is renamed in place: the provider's Update calls
    # Account Management's PutAccountName, on member accounts only (their ARN names the
    # organization: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsaccountmanagement.html).
    members = f"arn:aws:account::{org.management_account_id}:account/o-*/*"
    statements.append({"Sid": "RenameMemberAccounts", "Effect": "Allow", "Action": "account:PutAccountName",
                       "Resource": members})
    if any(env.has_account_settings for env in org.environments):
        statements.append({"Sid": "MemberAccountSettings", "Effect": "Allow", "Action": list(ACCOUNT_SETTINGS_ACTIONS),
                           "Resource": members})
    if org.centralized_root:
        statements.append({"Sid": "CentralizedRootAccess", "Effect": "Allow", "Action": list(ROOT_ACCESS_ACTIONS), "Resource": "*"})
    if org.identity_center:
        statements += [
            {"Sid": "IdentityCenter", "Effect": "Allow", "Action": ["sso:*", "identitystore:*"], "Resource": "*"},
            # Identity Center's account resource (https://docs.aws.amazon.com/singlesignon/latest/userguide/iam-auth-access-using-id-policies.html):
            # no permission set is ever assigned or provisioned into the management account.
            {"Sid": "NoAccessToTheManagementAccount", "Effect": "Deny", "Action": list(MANAGEMENT_ACCOUNT_ASSIGNMENT_ACTIONS),
             "Resource": f"arn:aws:sso:::account/{org.management_account_id}"},
            {"Sid": "OnlyAwsenvsPermissionSets", "Effect": "Deny", "Action": list(PERMISSION_SET_CHANGES),
             "Resource": PERMISSION_SETS, "Condition": {"StringNotEquals": {f"aws:ResourceTag/{MANAGED_BY_TAG}": MANAGED_BY}}},
            {"Sid": "NoPermissionSetMadeAwsenvs", "Effect": "Deny", "Action": ["sso:TagResource", "sso:UntagResource"],
             "Resource": PERMISSION_SETS,
             "Condition": {"StringNotEquals": {f"aws:ResourceTag/{MANAGED_BY_TAG}": MANAGED_BY},
                           "ForAnyValue:StringEquals": {"aws:TagKeys": [MANAGED_BY_TAG]}}},
        ]
    statements += _break_glass_statements(org)
    statements.append({"Sid": "NeverEndTheOrganization", "Effect": "Deny", "Action": list(ORGANIZATION_ENDINGS),
                       "Resource": "*"})
    return {"Version": VERSION, "Statement": statements}


def _break_glass_statements(org: Org) -> list[dict]:
    """organization.break_glass (modules/break_glass.py): its users, group, policy and the
    alert's forwarding role; the alert's rules and topic.  Nothing else in IAM."""
    glass = org.break_glass
    if glass is None:
        return []
    account = org.management_account_id
    iam = [*(f"arn:aws:iam::{account}:user/{user}" for user in glass.users),
           f"arn:aws:iam::{account}:group/{BREAK_GLASS_GROUP}", f"arn:aws:iam::{account}:policy/{BREAK_GLASS_POLICY_NAME}",
           f"arn:aws:iam::{account}:role/{BREAK_GLASS_ALERT_NAME}-forward"]
    statements = [{"Sid": "BreakGlassUsers", "Effect": "Allow", "Action": "iam:*", "Resource": iam}]
    if glass.alert_email:
        statements.append({"Sid": "BreakGlassAlert", "Effect": "Allow", "Action": ["events:*", "sns:*"],
                           "Resource": [f"arn:aws:events:*:{account}:rule/{BREAK_GLASS_ALERT_NAME}",
                                        f"arn:aws:sns:*:{account}:{BREAK_GLASS_ALERT_NAME}"]})
    return statements


def account_run_policy(role: RunRole) -> dict:
    """An account stack's runs may assume its account's role, and only that one (a role
    still waiting for its account gets no policy at all: modules/bootstrap.py)."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "AssumeTheAccountRole", "Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": f"arn:aws:iam::{role.account_id}:role/{role.target_role}",
        }],
    }


# --------------------------------------------------------------------------- GitHub Actions

# The reads of the management stack's plan and of `audit` in the management account.  The
# Organizations and Identity Center prefixes are read as wholes (Describe*, List*): the
# provider's reads of an account, OU, policy, permission set or assignment change with its
# versions, and these verbs never change anything.
ORGANIZATION_READS = ("organizations:Describe*", "organizations:List*")
MANAGEMENT_IAM_READS = ("iam:GetAccountSummary", "iam:ListOrganizationsFeatures")  # root MFA; centralized root
IDENTITY_CENTER_READS = ("sso:Describe*", "sso:List*", "sso:GetInlinePolicyForPermissionSet",
                         "sso:GetPermissionsBoundaryForPermissionSet",
                         "identitystore:Describe*", "identitystore:List*", "identitystore:Get*")
ACCOUNT_SETTINGS_READS = ("account:Get*", "account:ListRegions")
BREAK_GLASS_READS = ("iam:Get*", "iam:List*", "events:Describe*", "events:List*", "sns:Get*", "sns:List*",
                     "cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus")
# What an account stack's plan refreshes (alias, password policy, users, groups, their
# policies and memberships, login profiles, the MFA roles, the budget) and what the look-ups
# and `audit` read in a member account (awsenvs/live/iam.py).
MEMBER_READS = ("iam:Get*", "iam:List*", "budgets:ViewBudget", "budgets:ListTagsForResource")


def github_trust_policy(provider_arn: str, github: GitHubCi, subjects: Sequence[str]) -> dict:
    """A role GitHub Actions jobs of `subjects` (token `sub` values) may assume (see the module doc)."""
    host = github.oidc_host
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "GitHubActions",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:aud": github.audience, f"{host}:sub": list(subjects)}},
        }],
    }


def _state_statements(org: Org, write: bool) -> list[dict]:
    """The S3 state: list the bucket, read the states, write (`write`) the states, and the
    lock files in any case (a plan takes the lock too).  Nothing with state.backend cloud:
    the state is in Terraform Cloud."""
    if org.state.backend != "s3":
        return []
    bucket = f"arn:aws:s3:::{org.state.s3.bucket}"
    prefix = org.state.s3.key_prefix.strip("/")
    objects = f"{bucket}/{prefix}/*" if prefix else f"{bucket}/*"
    return [
        {"Sid": "ListTheStateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket},
        {"Sid": "ReadState" if not write else "ReadAndWriteState", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject"] if write else "s3:GetObject", "Resource": objects},
        {"Sid": "StateLockFile", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
         "Resource": f"{objects.removesuffix('*')}*.tflock"},
    ]


def github_plan_policy(org: Org) -> dict:
    """What a pull request's plan and the scheduled drift check may do: read (see the module doc)."""
    github = org.github
    statements = [
        {"Sid": "ReadTheOrganization", "Effect": "Allow", "Action": list(ORGANIZATION_READS), "Resource": "*"},
        {"Sid": "ReadManagementAccountIam", "Effect": "Allow", "Action": list(MANAGEMENT_IAM_READS), "Resource": "*"},
    ]
    if any(env.has_account_settings for env in org.environments):
        statements.append({"Sid": "ReadMemberAccountSettings", "Effect": "Allow", "Action": list(ACCOUNT_SETTINGS_READS),
                           "Resource": f"arn:aws:account::{org.management_account_id}:account/o-*/*"})
    if org.identity_center:
        statements.append({"Sid": "ReadIdentityCenter", "Effect": "Allow", "Action": list(IDENTITY_CENTER_READS),
                           "Resource": "*"})
    if org.break_glass is not None:  # its plan refreshes the users and the alert
        statements.append({"Sid": "ReadBreakGlass", "Effect": "Allow", "Action": list(BREAK_GLASS_READS),
                           "Resource": "*"})
    statements += _state_statements(org, write=False)
    statements.append({"Sid": "AssumeTheReadRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
                       "Resource": f"arn:aws:iam::*:role/{github.read_role_name}"})
    return {"Version": VERSION, "Statement": statements}


def github_apply_policy(org: Org) -> dict:
    """What an apply job may do: the management stack's run role's rights and denies, the
    state, and the account stacks' roles (see the module doc)."""
    run = management_run_policy(org)["Statement"]
    allows = [s for s in run if s["Effect"] == "Allow"]
    denies = [s for s in run if s["Effect"] == "Deny"]
    assume = {"Sid": "AssumeTheAccountRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
              "Resource": [f"arn:aws:iam::*:role/{role}" for role in org.managing_roles]}
    return {"Version": VERSION, "Statement": [*allows, *_state_statements(org, write=True), assume, *denies]}


def github_read_trust_policy(management_account_id: str, github: GitHubCi) -> dict:
    """The member read role trusts the management account's plan role, and nothing else (the
    role itself as principal: see the module doc)."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "TheGitHubPlanRole",
            "Effect": "Allow",
            "Principal": {"AWS": github.role_arn(management_account_id, github.plan_role_name)},
            "Action": "sts:AssumeRole",
        }],
    }


def github_read_role_policy() -> dict:
    """The member read role's permissions: reads only (see MEMBER_READS)."""
    return {"Version": VERSION, "Statement": [
        {"Sid": "ReadTheAccount", "Effect": "Allow", "Action": list(MEMBER_READS), "Resource": "*"}]}
