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
"""

from __future__ import annotations

from awsenvs.config import MANAGED_BY, MANAGED_BY_TAG, TFC_AUDIENCE, Org, RunRole

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
    statements.append({"Sid": "NeverEndTheOrganization", "Effect": "Deny", "Action": list(ORGANIZATION_ENDINGS),
                       "Resource": "*"})
    return {"Version": VERSION, "Statement": statements}


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
