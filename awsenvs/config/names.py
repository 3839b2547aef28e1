"""The names awsenvs agrees on: shared constants, AWS's naming rules, and `tf_name`.

Everything here is plain data (no pydantic, no YAML), so the schema, the model, the
loader and the rest of awsenvs can all import it.
"""

from __future__ import annotations

import re
from typing import Iterable, Literal

MANAGEMENT_STACK = "management"
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
MANAGED_BY = "awsenvs"
MANAGED_BY_TAG = "managed-by"  # the tag key every awsenvs resource carries, MANAGED_BY its value
MFA_POLICY_NAME = "awsenvs-require-mfa"
# Every user of an `mfa: required` account is in this group, which carries the MFA policy
# (policies attached to groups, not users: CIS / checkov CKV_AWS_40).
MFA_GROUP_NAME = "awsenvs-mfa-required"
# Maximum session of the `<group>-mfa` roles; profiles ask for exactly this much.
MFA_ROLE_MAX_SESSION_SECONDS = 4 * 3600
# Just-in-time elevation (docs/access.md).  A grant of an eligible group lasts at most the
# environment's elevation.max: by default 4 hours, as long as the MFA roles' sessions.  12
# hours is the most a role or permission set session can last
# (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html MaxSessionDuration;
# https://docs.aws.amazon.com/singlesignon/latest/userguide/howtosessionduration.html): a
# longer grant is standing access and is declared as a group instead.
DURATION_RE = re.compile(r"^(?=\d)(?:(\d+)h)?(?:(\d+)m)?$")
DEFAULT_ELEVATION_MAX = "4h"
ELEVATION_MIN_SECONDS, ELEVATION_MAX_SECONDS = 15 * 60, 12 * 3600
# The record of grants and requests (the stacks are synthesized from its active grants),
# and the append-only log of every request, approval, grant, revoke and expiry.
ELEVATIONS_FILE, ELEVATIONS_LOG = "elevations.json", "elevations.log"
# An MFA role's inline policy denying each grant's sessions once it has expired.
ELEVATION_EXPIRY_POLICY = f"{MANAGED_BY}-elevation-expiry"
# The tag on an MFA role per active grant (`awsenvs-grant-<user>`: until, by, approver).
GRANT_TAG_PREFIX = f"{MANAGED_BY}-grant-"
# A grant's reason: what an IAM tag value may hold, so it can go on the role as it is.
REASON_RE = re.compile(r"^[\w .:/=+@-]{1,120}$")


def duration_seconds(text: str) -> int:
    """`2h`, `90m`, `1h30m` -> seconds (DURATION_RE checked already)."""
    hours, minutes = DURATION_RE.match(text).groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60


def duration_text(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours}h{minutes:02d}m" if hours and minutes else f"{hours}h" if hours else f"{minutes}m"


# organization.break_glass: emergency IAM users in the management account, for when
# Identity Center or the usual sign-in fails (docs/access.md).  Their group (admin, MFA
# required, no access keys) and policy; the alert on their console sign-in.
BREAK_GLASS_GROUP = f"{MANAGED_BY}-break-glass"
BREAK_GLASS_POLICY_NAME = f"{MANAGED_BY}-break-glass"
BREAK_GLASS_ALERT_NAME = f"{MANAGED_BY}-break-glass-sign-in"
# Where CloudTrail records an IAM user's ConsoleLogin through the global sign-in endpoint
# (us-east-1, or one of us-east-2, eu-north-1, ap-southeast-2 when the browser has an account
# alias cookie), besides the region of a regional endpoint
# (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html):
# the alert listens in each and forwards to the organization's region.
SIGN_IN_EVENT_REGIONS = ("us-east-1", "us-east-2", "eu-north-1", "ap-southeast-2")


# Where the accounts of environments removed from org.yaml go (never closed by awsenvs).
SUSPENDED_OU = "Suspended"
SUSPENDED_POLICY_NAME = f"{MANAGED_BY}-suspended"  # the deny-all SCP of the Suspended OU (see retire.park)
# organization.on_retire: close.  CloseAccount: "within a rolling 30 day period you can close
# the higher of either 250 or 20% of the member accounts in your organization, up to a
# maximum of 1,000" (the API reference as botocore 1.44 ships it; it said 10%, at least 10,
# until 2025), and a closed account can be reopened by AWS Support for 90 days
# (https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html).
CLOSE_QUOTA_SHARE, CLOSE_QUOTA_MIN, CLOSE_QUOTA_MAX, CLOSE_QUOTA_DAYS = 0.20, 250, 1000, 30
REOPEN_DAYS = 90
# The tag awsenvs puts on an account it closes (Organizations keeps tags of closed accounts):
# how it counts its own closures of the last 30 days against the quota.
CLOSED_AT_TAG = f"{MANAGED_BY}-closed-at"
# The management stack's policy types (Organizations EnablePolicyType values).
PolicyType = Literal[
    "AISERVICES_OPT_OUT_POLICY", "BACKUP_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2",
    "RESOURCE_CONTROL_POLICY", "SERVICE_CONTROL_POLICY", "TAG_POLICY",
]
SERVICE_PRINCIPAL_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")
# identity_center access.  Identity Center needs trusted access in the organization
# (https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-sso.html).
IDENTITY_CENTER_PRINCIPAL = "sso.amazonaws.com"
# Centralized root access for member accounts needs IAM's trusted access
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html).
IAM_PRINCIPAL = "iam.amazonaws.com"
# A permission set's description: 1-700 tabs, line breaks and printable Latin-1 characters
# (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html).
PERMISSION_SET_DESCRIPTION_RE = re.compile(r"^[\t\n\r\u0020-\u007E\u00A1-\u00FF]{1,700}$")
# The guardrails are policies of this type, attached to the product OUs.
SERVICE_CONTROL_POLICY = "SERVICE_CONTROL_POLICY"
# The data perimeter (guardrails.data_perimeter) is one of this type per product OU.
RESOURCE_CONTROL_POLICY = "RESOURCE_CONTROL_POLICY"
# Alternate contacts and opt-in regions of member accounts, set from the management account,
# need trusted access for AWS Account Management
# (https://docs.aws.amazon.com/accounts/latest/reference/using-orgs-trusted-access.html).
ACCOUNT_PRINCIPAL = "account.amazonaws.com"
ALTERNATE_CONTACT_RESOURCE = "aws_account_alternate_contact"  # management: one per (account, kind)
ACCOUNT_REGION_RESOURCE = "aws_account_region"  # management: one per (account, region listed)
CONTACT_KINDS = ("security", "operations", "billing")  # org.yaml's; the API's are upper case
# The regions an account has off until it enables them: AWS turns on by default only the
# regions introduced before March 20, 2019
# (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html).
OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1",
})
# Enabling (or disabling) a region "takes a few minutes for most accounts, but it can take
# several hours" (EnableRegion's RegionName), and AWS Account Management allows 6 concurrent
# region-opt requests per account and 50 per organization
# (https://docs.aws.amazon.com/accounts/latest/reference/API_EnableRegion.html,
# https://docs.aws.amazon.com/accounts/latest/reference/quotas.html).  aws_account_region waits
# 60 minutes by default (provider v5.100.0 internal/service/account/region.go): it gets these
# hours instead, and its requests are chained so that no more than the quotas run at once.
REGION_OPT_TIMEOUT = "12h"
REGION_REQUESTS_PER_ACCOUNT, REGION_REQUESTS_PER_ORGANIZATION = 6, 50
ROOT_ACCESS_ADDRESS = "aws_iam_organizations_features.centralized_root"  # centralized root access (management)
# An account stack's single objects: the modules take their logical ids from these, the look-ups their addresses.
# The AWS access portal: https://<identity store id or custom subdomain>.awsapps.com/start
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/howtochangeURL.html); any other https
# address is taken as it is (a portal behind a company's own redirect).
START_URL_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$")
ORGANIZATION_ADDRESS = "aws_organizations_organization.organization"  # management
ACCOUNT_RESOURCE = "aws_organizations_account"  # management: one per environment, named Environment.tf_name
ALIAS_ADDRESS = "aws_iam_account_alias.alias"
PASSWORD_POLICY_ADDRESS = "aws_iam_account_password_policy.password_policy"
BUDGET_ADDRESS = "aws_budgets_budget.budget"
MFA_POLICY_ADDRESS = "aws_iam_policy.require_mfa"
# Service control policies another service owns and renames as it pleases: `unmanaged.policies`
# names them by prefix (`aws-guardrails-*`), and `import` writes them so.  AWS Control Tower
# keeps its preventive controls in SCPs of its own named aws-guardrails-<random>, made anew
# when it updates an OU's controls (https://docs.aws.amazon.com/controltower/latest/controlreference/controls.html).
SERVICE_OWNED_POLICY_PREFIXES = {"aws-guardrails-": "AWS Control Tower"}
GUARDRAIL_POLICY_RESOURCE = "aws_organizations_policy"  # one per product with guardrails
GUARDRAIL_ATTACHMENT_RESOURCE = "aws_organizations_policy_attachment"  # its attachment to the product OU
# Organizations' limit on an SCP's size
# (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html).
SCP_MAX_CHARACTERS = 5120
# Permission sets' session when a group sets none: as long as the iam_users MFA roles'.
DEFAULT_SESSION_HOURS = MFA_ROLE_MAX_SESSION_SECONDS // 3600
ASSIGNMENT_RESOURCE = "aws_ssoadmin_account_assignment"  # one per (environment, user, group)
PERMISSION_SET_RESOURCE = "aws_ssoadmin_permission_set"  # one per group
POLICY_ATTACHMENT_RESOURCE = "aws_ssoadmin_managed_policy_attachment"  # one per (group, policy)
IDENTITY_USER_RESOURCE = "aws_identitystore_user"  # one per person
IAM_USER_RESOURCE = "aws_iam_user"  # account stacks (iam_users): one per user
# Permission set names (CreatePermissionSet:
# https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreatePermissionSet.html).
PERMISSION_SET_RE = re.compile(r"^[\w+=,.@-]{1,32}$")

# Terraform names shared by the stacks and the runner.
IDENTITY_CENTER_OUTPUT = "identity_center"  # management output: identity store id, instance ARN
ACCOUNT_IDS_OUTPUT = "account_ids"  # management output: stack name -> account id
ACCOUNT_ID_VARIABLE = "account_id"  # account stacks' variable
ACCOUNT_TFVARS = "account.auto.tfvars.json"  # where the runner writes it

# The state backend's own resources (`bootstrap`): one small stack with local state.  Stack
# names of environments always hold a hyphen (<product>-<env>), so this one cannot clash.
BOOTSTRAP_STACK = "bootstrap"
# Terraform Cloud (HCP Terraform) dynamic provider credentials for AWS: an IAM OIDC provider
# for the Terraform Cloud host, audience `aws.workload.identity`, and per workspace a role
# trusted for the token subject `organization:<org>:project:<project>:workspace:<ws>:run_phase:<phase>`;
# a workspace with no project is in "Default Project"
# (https://developer.hashicorp.com/terraform/cloud-docs/dynamic-provider-credentials/aws-configuration,
# https://developer.hashicorp.com/terraform/cloud-docs/dynamic-provider-credentials/workload-identity-tokens).
TFC_HOSTNAME = "app.terraform.io"
TFC_AUDIENCE = "aws.workload.identity"
TFC_DEFAULT_PROJECT = "Default Project"
RUN_ROLE_PREFIX = "awsenvs-run-"  # + workspace: the role a workspace's runs use
# The bootstrap stack's names (modules/bootstrap.py), shared with its look-ups (reconcile).
STATE_BUCKET_TF_NAME = "state"  # the bucket and each of its settings' resources
STATE_BUCKET_ADDRESS = f"aws_s3_bucket.{STATE_BUCKET_TF_NAME}"
STATE_BUCKET_POLICY_ADDRESS = f"aws_s3_bucket_policy.{STATE_BUCKET_TF_NAME}"
STATE_BUCKET_PUBLIC_ACCESS_ADDRESS = f"aws_s3_bucket_public_access_block.{STATE_BUCKET_TF_NAME}"
OIDC_PROVIDER_ADDRESS = "aws_iam_openid_connect_provider.terraform_cloud"
RUN_ROLE_RESOURCE = "aws_iam_role"  # one per workspace, named tf_name(stack)
RUN_ROLE_POLICY_RESOURCE = "aws_iam_role_policy"  # its permissions (inline), same name
RUN_ROLE_POLICY_NAME = "awsenvs-run"
# A cloud stack's own check of the account its run is in (modules/caller_check.py).
CALLER_CHECK_ADDRESS = "data.aws_caller_identity.run"
# The workspace variables that make a run use its role.
TFC_PROVIDER_AUTH_VARIABLE = "TFC_AWS_PROVIDER_AUTH"
TFC_RUN_ROLE_VARIABLE = "TFC_AWS_RUN_ROLE_ARN"

# GitHub Actions' OIDC tokens for AWS (ci.github): the issuer, the audience that
# aws-actions/configure-aws-credentials asks for, and the token subjects a role trusts
# (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#example-subject-claims,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html#idp_oidc_Create_GitHub).
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_AUDIENCE = "sts.amazonaws.com"
# The roles bootstrap makes for CI in the management account, and the read-only role each
# account stack makes for the plan role (the plan role may assume nothing else).
CI_PLAN_ROLE_NAME = "awsenvs-github-plan"
CI_APPLY_ROLE_NAME = "awsenvs-github-apply"
CI_READ_ROLE_NAME = "awsenvs-github-read"
# Their Terraform addresses.  In the bootstrap stack they sit beside the Terraform Cloud run
# roles (named tf_name(stack): always with an underscore, stack names holding a hyphen), so
# theirs have none and can never clash; the read role is an account stack's (modules/ci_access.py).
GITHUB_OIDC_PROVIDER_ADDRESS = "aws_iam_openid_connect_provider.github"
CI_PLAN_ROLE_ADDRESS = "aws_iam_role.githubplan"
CI_PLAN_POLICY_ADDRESS = "aws_iam_role_policy.githubplan"
CI_APPLY_ROLE_ADDRESS = "aws_iam_role.githubapply"
CI_APPLY_POLICY_ADDRESS = "aws_iam_role_policy.githubapply"
CI_READ_ROLE_ADDRESS = "aws_iam_role.github_read"
CI_READ_POLICY_ADDRESS = "aws_iam_role_policy.github_read"
CI_POLICY_NAME = "awsenvs-ci"  # each CI role's inline policy
# An apply job's session: aws-actions/configure-aws-credentials asks for 1 hour unless the
# workflow sets role-duration-seconds, and a role allows no longer than its
# MaxSessionDuration (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-settings.html#id_roles_update-session-duration):
# 2 hours leaves room for a large organization's apply.  Plans are short: the default hour.
CI_APPLY_SESSION_SECONDS = 2 * 3600
GITHUB_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
# GitHub environment and branch names become part of a role's trust subject (StringEquals):
# no wildcard characters, nothing GitHub would not accept.
GITHUB_ENVIRONMENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
GITHUB_BRANCH_RE = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,255}(?<!/)$")
CRON_RE = re.compile(r"^\S+( \S+){4}$")

# AWS rules, quoted from the IAM / Organizations API references.
ALIAS_RE = re.compile(r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
IAM_USER_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
IAM_GROUP_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
IAM_ROLE_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
POLICY_ARN_RE = re.compile(r"^arn:aws[\w-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$")
# Product and environment names become parts of stack names, aliases, emails, profile
# names and Terraform identifiers, so they are kept to a safe alphabet.
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
PROFILE_RE = re.compile(r"^[A-Za-z0-9_.@+=-]+$")
# S3 bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
BUCKET_RE = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Terraform Cloud names: workspaces and organizations letters, numbers, - and _; projects
# also spaces (https://developer.hashicorp.com/terraform/cloud-docs/workspaces/create,
# .../projects/manage).  They become part of the run roles' trust condition (StringLike),
# where `*` or `?` would match other workspaces: never allowed.
WORKSPACE_RE = re.compile(r"^[A-Za-z0-9_-]{1,90}$")
TFC_ORGANIZATION_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
TFC_PROJECT_RE = re.compile(r"^[A-Za-z0-9 _-]{1,40}$")
HOSTNAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
# Alternate contacts' phone numbers (PutAlternateContact's pattern, 1-25 characters).
CONTACT_PHONE_RE = re.compile(r"^[\s0-9()+-]{1,25}$")
ACCOUNT_EMAIL_MAX = 64  # Organizations CreateAccount limit
ACCOUNT_NAME_MAX = 50


def policy_matches(name: str, pattern: str) -> bool:
    """Whether a policy's name is `pattern`: a whole name, or a prefix ending in `*`."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def tf_name(*parts: str) -> str:
    """A Terraform identifier for a resource of these names (stable: it keys the state)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def named_first(address: str, names: Iterable[str]) -> tuple[str, ...]:
    """The reverse of tf_name(name, ...) for a resource named after several things: those of
    `names` whose Terraform name begins the address's resource name, followed by `_` (an
    account assignment, `tf_name(stack, user, group)`, begins with its stack's; a managed
    policy attachment, `tf_name(group, policy)`, with its group's).  Several when one name's
    Terraform name begins another's (stacks `shop-prod` and `shop-prod-eu`, whose users may
    hold `_` too): the caller counts each."""
    resource_name = address.split(".", 1)[-1]
    return tuple(name for name in names if resource_name.startswith(f"{tf_name(name)}_"))


def named_last(address: str, name: str) -> bool:
    """Whether an address's resource name ends with `name`'s Terraform name after a `_` (an
    account assignment, `tf_name(stack, user, group)`, with its group's); like named_first, a
    longer name can end the same way, and counts too."""
    return address.split(".", 1)[-1].endswith(f"_{tf_name(name)}")


def default_alias(org_name: str, product: str, environment: str) -> str:
    """An account's alias (its sign-in URL) when org.yaml sets none."""
    return f"{org_name}-{product}-{environment}".lower().replace("_", "-").replace(".", "-")


def as_name(text: str, fallback: str) -> str:
    """A product, environment or organization name (NAME_RE) made from a live name that
    awsenvs did not choose (`Shop Team` -> `shop-team`, `2024 sandbox` -> `x-2024-sandbox`),
    for `import`; `fallback` when nothing usable is left."""
    # Only letters, digits and single hyphens: the name also becomes part of the default alias.
    name = re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")
    if not name:
        return fallback
    if not name[0].isalpha():
        name = f"x-{name}"
    return name[:31].rstrip("-")


def environment_name(account_name: str, *strip: str) -> str:
    """An environment's name from its account's name, without the product's (and the
    organization's) name in it: `Shop production` in product `shop` -> `production`,
    `acme-shop-dev` -> `dev`; the whole name when nothing else is left."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", account_name) if w]
    # `web-app` is also written `webapp` in an account's name
    stripped = {form for s in strip if s for form in (s.lower(), re.sub(r"[^a-z0-9]", "", s.lower()))}
    kept = [w for w in words if w.lower() not in stripped]
    return as_name("-".join(kept or words), "main")
