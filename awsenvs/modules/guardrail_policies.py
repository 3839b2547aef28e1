"""The guardrails' service control policy text, one readable statement per guardrail.

Pure data (no Terraform bindings), so `validate` can check a policy's size without loading
them.  Each product OU gets one SCP holding the statements of its guardrails, so that it
takes one of the OU's SCP slots (FullAWSAccess usually takes another) and leaves the rest to
the team's own.  Limits: Organizations' quotas page
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html) long
said 5 SCPs per target and 5,120 characters per SCP, and now says 10 and 10,240; awsenvs
keeps to the older ones, which hold for every organization.  A policy saved through the API
(as Terraform does) is stored "exactly as you provided", whitespace included, so it is minified.
SCPs never restrict the management account, and awsenvs attaches them only to the product
OUs, never to the root (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html).
"""

from __future__ import annotations

import json

from awsenvs.config import (
    MFA_GROUP_NAME,
    MFA_POLICY_NAME,
    SCP_MAX_CHARACTERS,
    ConfigError,
    DataPerimeter,
    Org,
    Product,
)

# Global services (and the global calls of regional ones) that a region deny must exempt:
# exactly the NotAction list of AWS Control Tower's region deny control (GRREGIONDENY,
# https://docs.aws.amazon.com/controltower/latest/controlreference/primary-region-deny-policy.html).
# Organizations' shorter example ("Deny access to AWS based on the requested AWS Region")
# leaves out account:*, billing:*, payments:*, tax:*, invoicing:*, freetier:*, sso:*,
# access-analyzer:*, notifications:* and more, so that with EU-only regions member accounts
# lose their contacts, region opt-in and billing pages.  A team that uses a global service
# this list lacks adds it here.
GLOBAL_SERVICE_ACTIONS = (
    "a4b:*", "access-analyzer:*", "account:*", "acm:*", "activate:*", "artifact:*", "aws-marketplace-management:*",
    "aws-marketplace:*", "aws-portal:*", "billing:*", "billingconductor:*", "budgets:*", "ce:*", "chatbot:*",
    "chime:*", "cloudfront:*", "cloudtrail:LookupEvents", "compute-optimizer:*", "config:*", "consoleapp:*",
    "consolidatedbilling:*", "cur:*", "datapipeline:GetAccountLimits", "devicefarm:*", "directconnect:*",
    "ec2:DescribeRegions", "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "ecr-public:*", "fms:*",
    "freetier:*", "globalaccelerator:*", "health:*", "iam:*", "importexport:*", "invoicing:*", "iq:*", "kms:*",
    "license-manager:ListReceivedLicenses", "lightsail:Get*", "mobileanalytics:*", "networkmanager:*",
    "notifications-contacts:*", "notifications:*", "organizations:*", "payments:*", "pricing:*",
    "quicksight:DescribeAccountSubscription", "resource-explorer-2:*", "route53-recovery-cluster:*",
    "route53-recovery-control-config:*", "route53-recovery-readiness:*", "route53:*", "route53domains:*",
    "s3:CreateMultiRegionAccessPoint", "s3:DeleteMultiRegionAccessPoint", "s3:DescribeMultiRegionAccessPointOperation",
    "s3:GetAccountPublicAccessBlock", "s3:GetBucketLocation", "s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock",
    "s3:GetMultiRegionAccessPoint", "s3:GetMultiRegionAccessPointPolicy", "s3:GetMultiRegionAccessPointPolicyStatus",
    "s3:GetStorageLensConfiguration", "s3:GetStorageLensDashboard", "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints",
    "s3:ListStorageLensConfigurations", "s3:PutAccountPublicAccessBlock", "s3:PutMultiRegionAccessPointPolicy",
    "savingsplans:*", "shield:*", "sso:*", "sts:*", "support:*", "supportapp:*", "supportplans:*", "sustainability:*",
    "tag:GetResources", "tax:*", "trustedadvisor:*", "vendor-insights:ListEntitledSecurityProfiles", "waf-regional:*",
    "waf:*", "wafv2:*",
)

# Changes to a role, as AWS Control Tower's "disallow changes to the AWS Control Tower
# roles" guardrail lists them (https://docs.aws.amazon.com/controltower/latest/controlreference/mandatory-controls.html).
ROLE_CHANGES = (
    "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
)
POLICY_CHANGES = ("iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion")
GROUP_CHANGES = ("iam:AttachGroupPolicy", "iam:DeleteGroup", "iam:DeleteGroupPolicy", "iam:DetachGroupPolicy",
                 "iam:PutGroupPolicy", "iam:RemoveUserFromGroup")
# Account settings: these actions take no resource ARN, so their statement says "*".
ACCOUNT_SETTING_CHANGES = ("iam:CreateAccountAlias", "iam:DeleteAccountAlias",
                           "iam:DeleteAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy")


def deny_leave_organization() -> list[dict]:
    return [{"Sid": "DenyLeaveOrganization", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]


def deny_root_user(centralized_root: bool) -> list[dict]:
    """No action by a member account's root user.  With centralized root access the
    management account's root sessions (sts:AssumeRoot, marked by `aws:AssumedRoot`) stay
    allowed, so it can still delete root credentials or unlock a bucket policy: AWS's sample
    "Prevent root credentials management in member accounts"
    (https://github.com/aws-samples/service-control-policy-examples/blob/main/Privileged-access-controls/Prevent-root-credentials-management-in-member-accounts-in-AWS-Organizations.json)."""
    condition: dict = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}
    if centralized_root:
        condition["Null"] = {"aws:AssumedRoot": "true"}
    return [{"Sid": "DenyRootUser", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}]


def protect_baseline(product: Product, iam_users: bool) -> list[dict]:
    """Only the roles the account stacks act through may change those roles, the awsenvs MFA
    roles, policy and group, the password policy and the alias.  `aws:PrincipalArn` of an
    assumed-role session is its role's ARN
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn)."""
    managing = [f"arn:aws:iam::*:role/{role}" for role in product.managing_roles]
    mfa_envs = [env for env in product.environments if env.mfa_required] if iam_users else []
    if not mfa_envs:
        return protect_baseline_statements(managing, managing, mfa=False)
    roles = sorted({group.admin_role_name for env in mfa_envs for group in env.groups})
    return protect_baseline_statements(managing, [*managing, *mfa_baseline_arns(roles)], mfa=True)


def mfa_baseline_arns(mfa_roles) -> list[str]:
    """The ARNs of the awsenvs MFA objects of `mfa: required` accounts: the `<group>-mfa` roles,
    the require-MFA policy and the group carrying it."""
    return [*(f"arn:aws:iam::*:role/{role}" for role in mfa_roles),
            f"arn:aws:iam::*:policy/{MFA_POLICY_NAME}", f"arn:aws:iam::*:group/{MFA_GROUP_NAME}"]


def protect_baseline_statements(managing_arns, protected_arns, mfa: bool) -> list[dict]:
    """protect_baseline's statements: the roles `managing_arns` alone may change `protected_arns`
    (and, with `mfa`, the MFA policy and group's policies and members) and the account settings.
    The ARN lists may be Terraform expressions (the exported `guardrails` module)."""
    actions = [*ROLE_CHANGES, *((*POLICY_CHANGES, *GROUP_CHANGES) if mfa else ())]
    unless_managing = {"ArnNotLike": {"aws:PrincipalArn": managing_arns}}
    return [
        {"Sid": "ProtectBaselineIam", "Effect": "Deny", "Action": actions, "Resource": protected_arns,
         "Condition": unless_managing},
        {"Sid": "ProtectAccountSettings", "Effect": "Deny", "Action": list(ACCOUNT_SETTING_CHANGES), "Resource": "*",
         "Condition": unless_managing},
    ]


def allowed_regions(regions: tuple[str, ...]) -> list[dict]:
    return [{"Sid": "DenyOutsideAllowedRegions", "Effect": "Deny", "NotAction": list(GLOBAL_SERVICE_ACTIONS),
             "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(regions)}}}]


def suspended_policy(managing_roles: tuple[str, ...]) -> dict:
    """The Suspended OU's SCP: nothing may be done in a parked account but by the roles awsenvs
    manages accounts through (so a retired account's users, keys and roles, no longer managed
    or audited, cannot act), AWS's "deny all except a role" form
    (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_examples_general.html).
    Root sessions the management account starts there (centralized root access, sts:AssumeRoot,
    marked by `aws:AssumedRoot`) stay allowed, as in deny_root_user, so it can still delete a
    parked account's root credentials or unlock a bucket policy that denies everyone; a root
    user signing in with a password has no such key and stays denied."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyAllButTheManagingRoles", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::*:role/{role}" for role in managing_roles]},
                      "Null": {"aws:AssumedRoot": "true"}},
    }]}


def guardrails_policy(org: Org, product: Product) -> dict:
    """The product OU's SCP document: the statements of the guardrails that are on."""
    guardrails = product.guardrails
    statements: list[dict] = []
    if guardrails.deny_leave_organization:
        statements += deny_leave_organization()
    if guardrails.protect_baseline:
        statements += protect_baseline(product, iam_users=not org.identity_center)
    if guardrails.deny_root_user:
        statements += deny_root_user(org.centralized_root)
    if guardrails.allowed_regions:
        statements += allowed_regions(guardrails.allowed_regions)
    return {"Version": "2012-10-17", "Statement": statements}


def policy_text(document: dict) -> str:
    """Minified: SCP size counts characters (whitespace included when sent through the API)."""
    return json.dumps(document, separators=(",", ":"))


# The data perimeter (guardrails.data_perimeter): AWS's identity perimeter RCP, statement
# "EnforceOrgIdentities" of aws-samples/data-perimeter-policy-examples
# (resource_control_policies/identity_perimeter_rcp.json at 8e0d3c5, 2026-03-18; AWS's guidance:
# https://docs.aws.amazon.com/whitepapers/latest/building-a-data-perimeter-on-aws/perimeter-implementation.html),
# with the services RCPs support today: S3, STS, KMS, SQS and Secrets Manager since the
# launch, then ECR, OpenSearch Serverless, Cognito, CloudWatch Logs and DynamoDB
# (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services).
# For STS only the calls on the account's own roles and sessions: AssumeRoleWithSAML and
# AssumeRoleWithWebIdentity are made by an outside identity provider's users (a CI's OIDC
# role, SAML sign-in), who belong to no organization, so the sample leaves them out.
DATA_PERIMETER_ACTIONS = (
    "s3:*", "sts:AssumeRole", "sts:DecodeAuthorizationMessage", "sts:GetAccessKeyInfo", "sts:GetFederationToken",
    "sts:GetServiceBearerToken", "sts:GetSessionToken", "sts:SetContext", "kms:*", "sqs:*", "secretsmanager:*",
    "cognito-identity:*", "cognito-idp:*", "logs:*", "dynamodb:*", "ecr:*", "aoss:*",
)
# The sample's way out for one resource on purpose: this tag.  It holds only where the
# resource's tags are evaluated in policies (a KMS key, an SQS queue, a secret), not on an S3
# general purpose bucket unless S3 ABAC is on for it, off by default
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/buckets-tagging-enable-abac.html): a
# public website's account is kept out of the perimeter instead (`data_perimeter: false`,
# modules/guardrails.py attaches the RCP to the other accounts).
DATA_PERIMETER_EXCLUDE_TAG = "dp:exclude:identity"
# The longest organization id (o- and 32 characters), what validate sizes an RCP with
# before the organization exists.
LONGEST_ORGANIZATION_ID = "o-" + "x" * 32


def data_perimeter_policy(organization_id: str, perimeter: DataPerimeter) -> dict:
    """A product's RCP: its resources only for principals of the organization, of the trusted
    outside accounts, or AWS services, except resources tagged dp:exclude:identity=true (where
    tags are evaluated: see DATA_PERIMETER_EXCLUDE_TAG).
    `...IfExists`: a call without the key (an AWS service's own) is judged by
    aws:PrincipalIsAWSService alone.  RCPs never restrict the management account, nor AWS
    managed KMS keys (the RCP page above)."""
    outside: dict = {"aws:PrincipalOrgID": organization_id}
    if perimeter.trusted_accounts:
        outside["aws:PrincipalAccount"] = list(perimeter.trusted_accounts)
    outside[f"aws:ResourceTag/{DATA_PERIMETER_EXCLUDE_TAG}"] = "true"
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "EnforceOrgIdentities", "Effect": "Deny", "Principal": "*", "Action": list(DATA_PERIMETER_ACTIONS),
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": outside, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}},
    }]}


def data_perimeter_policies(org: Org, organization_id: str = LONGEST_ORGANIZATION_ID) -> dict[str, str]:
    """Product name -> its RCP text, for every product with the data perimeter on; refuses
    one over the size limit (RCPs have SCPs' 5,120 characters)."""
    policies = {}
    for product in org.products:
        if product.data_perimeter is None:
            continue
        text = policy_text(data_perimeter_policy(organization_id, product.data_perimeter))
        if len(text.replace(organization_id, LONGEST_ORGANIZATION_ID)) > SCP_MAX_CHARACTERS:
            raise ConfigError(
                f"{org.source.name}: products.{product.name}.guardrails.data_perimeter: the resource control policy "
                f"would be over Organizations' {SCP_MAX_CHARACTERS} characters: list fewer trusted_accounts")
        policies[product.name] = text
    return policies


def guardrail_policies(org: Org) -> dict[str, str]:
    """Product name -> its SCP text, for every product with guardrails; refuses one over the size limit."""
    policies = {}
    for product in org.products:
        if product.guardrails is None:
            continue
        text = policy_text(guardrails_policy(org, product))
        if len(text) > SCP_MAX_CHARACTERS:
            raise ConfigError(
                f"{org.source.name}: products.{product.name}.guardrails: the service control policy would be "
                f"{len(text)} characters, over Organizations' {SCP_MAX_CHARACTERS}: protect_baseline lists an MFA role per "
                "group of its mfa: required accounts and allowed_regions its exemptions; use fewer groups, "
                "or turn a guardrail off for this product"
            )
        policies[product.name] = text
    return policies
