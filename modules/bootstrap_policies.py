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
    centralized root access when it is on, Identity Center with identity_center access.
  - an account stack: assume its account's role, nothing else.  Its provider does the
    rest through that role, as it does in a local run.
"""

from __future__ import annotations

from awsenvs.config import TFC_AUDIENCE, Org, RunRole

VERSION = "2012-10-17"
ORGANIZATIONS_PRINCIPAL = "organizations.amazonaws.com"

# Centralized root access (aws_iam_organizations_features)
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html).
ROOT_ACCESS_ACTIONS = (
    "iam:EnableOrganizationsRootCredentialsManagement", "iam:EnableOrganizationsRootSessions",
    "iam:DisableOrganizationsRootCredentialsManagement", "iam:DisableOrganizationsRootSessions",
    "iam:ListOrganizationsFeatures",
)
# Identity Center's account assignments create and update the roles it provisions in each
# account, under its reserved path; AWS's AWSSSOMasterAccountAdministrator managed policy
# grants the same on the same ARNs
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/security-iam-awsmanpol.html).
IDENTITY_CENTER_ROLE_ACTIONS = (
    "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
    "iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:PutRolePolicy",
    "iam:UpdateRole", "iam:UpdateRoleDescription",
)
IDENTITY_CENTER_ROLES = "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*"


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
    if org.centralized_root:
        statements.append({"Sid": "CentralizedRootAccess", "Effect": "Allow", "Action": list(ROOT_ACCESS_ACTIONS), "Resource": "*"})
    if org.identity_center:
        statements += [
            {"Sid": "IdentityCenter", "Effect": "Allow", "Action": ["sso:*", "identitystore:*"], "Resource": "*"},
            {"Sid": "IdentityCenterRoles", "Effect": "Allow", "Action": list(IDENTITY_CENTER_ROLE_ACTIONS),
             "Resource": IDENTITY_CENTER_ROLES},
        ]
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
