"""org.yaml: load, validate, and derive every name once.

Everything else in awsenvs (stacks, runner, profiles, tree, audit) reads the frozen
`Org` model built here; nothing else derives an account name, email, alias, stack or
profile on its own.  Errors are `ConfigError`: one line, naming the field path.

What lives where (each imports only those above it):

- `names`: shared constants, AWS's naming rules (regexes, length limits) and `tf_name`
- `errors`: `ConfigError`
- `schema`: the raw shape of org.yaml, the pydantic `*Spec` models
- `model`: the frozen model (`Org`, `Product`, `Environment`, `User`, `Group`, ...)
- `derive`: from a validated `OrgSpec` to an `Org`, every derived name and cross-field rule
- `loading`: `load` / `parse`, YAML without duplicate keys, and the one-line error wording

The package re-exports what the module `awsenvs.config` offered, so `from awsenvs.config
import X` is unchanged.
"""

from __future__ import annotations

from awsenvs.config.errors import ConfigError
from awsenvs.config.loading import load, parse
from awsenvs.config.model import (
    Assignment,
    Budget,
    Contact,
    DataPerimeter,
    Environment,
    GitHubCi,
    Group,
    Guardrails,
    Org,
    PasswordPolicy,
    Product,
    RunRole,
    StateConfig,
    Unmanaged,
    User,
    access_portal_url,
    account_settings_addresses,
    contact_address,
)
from awsenvs.config.names import (
    as_name,
    default_alias,
    environment_name,
    policy_matches,
    ACCOUNT_EMAIL_MAX,
    ACCOUNT_ID_RE,
    ACCOUNT_ID_VARIABLE,
    ACCOUNT_IDS_OUTPUT,
    ACCOUNT_NAME_MAX,
    ACCOUNT_PRINCIPAL,
    ACCOUNT_REGION_RESOURCE,
    ACCOUNT_RESOURCE,
    ACCOUNT_TFVARS,
    ALIAS_RE,
    ALTERNATE_CONTACT_RESOURCE,
    ASSIGNMENT_RESOURCE,
    BOOTSTRAP_STACK,
    CI_APPLY_POLICY_ADDRESS,
    CI_APPLY_ROLE_ADDRESS,
    CI_APPLY_ROLE_NAME,
    CI_APPLY_SESSION_SECONDS,
    CI_PLAN_POLICY_ADDRESS,
    CI_PLAN_ROLE_ADDRESS,
    CI_PLAN_ROLE_NAME,
    CI_POLICY_NAME,
    CI_READ_POLICY_ADDRESS,
    CI_READ_ROLE_ADDRESS,
    CI_READ_ROLE_NAME,
    GITHUB_OIDC_PROVIDER_ADDRESS,
    GITHUB_AUDIENCE,
    GITHUB_OIDC_HOST,
    CLOSE_QUOTA_DAYS,
    CLOSE_QUOTA_MAX,
    CLOSE_QUOTA_MIN,
    CLOSE_QUOTA_SHARE,
    CLOSED_AT_TAG,
    CONTACT_KINDS,
    DEFAULT_ROLE_NAME,
    DEFAULT_SESSION_HOURS,
    EMAIL_RE,
    GUARDRAIL_ATTACHMENT_RESOURCE,
    GUARDRAIL_POLICY_RESOURCE,
    IAM_GROUP_RE,
    IAM_PRINCIPAL,
    IAM_ROLE_RE,
    IAM_USER_RE,
    IDENTITY_CENTER_OUTPUT,
    IDENTITY_CENTER_PRINCIPAL,
    IDENTITY_USER_RESOURCE,
    IAM_USER_RESOURCE,
    MANAGED_BY,
    MANAGED_BY_TAG,
    MANAGEMENT_STACK,
    MFA_GROUP_NAME,
    MFA_POLICY_NAME,
    MFA_ROLE_MAX_SESSION_SECONDS,
    NAME_RE,
    OPT_IN_REGIONS,
    ORGANIZATION_ADDRESS,
    PERMISSION_SET_DESCRIPTION_RE,
    PERMISSION_SET_RE,
    POLICY_ARN_RE,
    PROFILE_RE,
    REGION_RE,
    REGION_OPT_TIMEOUT,
    REGION_REQUESTS_PER_ACCOUNT,
    REGION_REQUESTS_PER_ORGANIZATION,
    REOPEN_DAYS,
    RESOURCE_CONTROL_POLICY,
    ROOT_ACCESS_ADDRESS,
    ALIAS_ADDRESS,
    BUDGET_ADDRESS,
    MFA_POLICY_ADDRESS,
    PASSWORD_POLICY_ADDRESS,
    SCP_MAX_CHARACTERS,
    SERVICE_CONTROL_POLICY,
    SERVICE_OWNED_POLICY_PREFIXES,
    SERVICE_PRINCIPAL_RE,
    SUSPENDED_OU,
    SUSPENDED_POLICY_NAME,
    CALLER_CHECK_ADDRESS,
    STATE_BUCKET_ADDRESS,
    STATE_BUCKET_POLICY_ADDRESS,
    STATE_BUCKET_PUBLIC_ACCESS_ADDRESS,
    STATE_BUCKET_TF_NAME,
    OIDC_PROVIDER_ADDRESS,
    RUN_ROLE_RESOURCE,
    RUN_ROLE_POLICY_RESOURCE,
    RUN_ROLE_POLICY_NAME,
    TFC_AUDIENCE,
    TFC_HOSTNAME,
    TFC_PROVIDER_AUTH_VARIABLE,
    TFC_RUN_ROLE_VARIABLE,
    PolicyType,
    tf_name,
)
from awsenvs.config.schema import (
    AccountId,
    BudgetSpec,
    CloudStateSpec,
    Email,
    EnvironmentSpec,
    GroupSpec,
    GuardrailsSpec,
    OrganizationSpec,
    OrgSpec,
    PasswordPolicySpec,
    ProductSpec,
    S3StateSpec,
    ServicePrincipal,
    StateSpec,
    UserSpec,
)

__all__ = [
    # names
    "ACCOUNT_EMAIL_MAX", "ACCOUNT_ID_RE", "ACCOUNT_ID_VARIABLE", "ACCOUNT_IDS_OUTPUT", "ACCOUNT_NAME_MAX", "ACCOUNT_RESOURCE",
    "ACCOUNT_TFVARS", "ALIAS_RE", "ASSIGNMENT_RESOURCE", "BOOTSTRAP_STACK", "DEFAULT_ROLE_NAME", "DEFAULT_SESSION_HOURS", "EMAIL_RE",
    "GUARDRAIL_ATTACHMENT_RESOURCE", "GUARDRAIL_POLICY_RESOURCE",
    "IAM_GROUP_RE", "IAM_PRINCIPAL", "IAM_ROLE_RE", "IAM_USER_RE", "IDENTITY_CENTER_OUTPUT", "IDENTITY_CENTER_PRINCIPAL", "IDENTITY_USER_RESOURCE", "IAM_USER_RESOURCE", "MANAGED_BY", "MANAGED_BY_TAG", "MANAGEMENT_STACK", "MFA_GROUP_NAME", "MFA_POLICY_NAME", "MFA_ROLE_MAX_SESSION_SECONDS",
    "NAME_RE", "ORGANIZATION_ADDRESS", "PERMISSION_SET_DESCRIPTION_RE", "PERMISSION_SET_RE", "POLICY_ARN_RE", "PROFILE_RE", "REGION_RE", "ROOT_ACCESS_ADDRESS", "ALIAS_ADDRESS", "BUDGET_ADDRESS", "MFA_POLICY_ADDRESS", "PASSWORD_POLICY_ADDRESS", "SCP_MAX_CHARACTERS", "SERVICE_CONTROL_POLICY", "SERVICE_OWNED_POLICY_PREFIXES", "SERVICE_PRINCIPAL_RE", "SUSPENDED_OU", "SUSPENDED_POLICY_NAME", "CALLER_CHECK_ADDRESS", "STATE_BUCKET_ADDRESS", "STATE_BUCKET_TF_NAME", "STATE_BUCKET_POLICY_ADDRESS", "STATE_BUCKET_PUBLIC_ACCESS_ADDRESS", "OIDC_PROVIDER_ADDRESS", "RUN_ROLE_RESOURCE", "RUN_ROLE_POLICY_RESOURCE", "RUN_ROLE_POLICY_NAME", "TFC_AUDIENCE", "CI_APPLY_ROLE_NAME", "CI_PLAN_ROLE_NAME", "CI_READ_ROLE_NAME", "CI_APPLY_POLICY_ADDRESS", "CI_APPLY_ROLE_ADDRESS", "CI_APPLY_SESSION_SECONDS", "CI_PLAN_POLICY_ADDRESS", "CI_PLAN_ROLE_ADDRESS", "CI_POLICY_NAME", "CI_READ_POLICY_ADDRESS", "CI_READ_ROLE_ADDRESS", "GITHUB_OIDC_PROVIDER_ADDRESS", "GITHUB_AUDIENCE", "GITHUB_OIDC_HOST", "TFC_HOSTNAME", "TFC_PROVIDER_AUTH_VARIABLE", "TFC_RUN_ROLE_VARIABLE", "PolicyType",
    "ACCOUNT_PRINCIPAL", "ACCOUNT_REGION_RESOURCE", "ALTERNATE_CONTACT_RESOURCE", "CLOSE_QUOTA_DAYS", "CLOSE_QUOTA_MAX",
    "CLOSE_QUOTA_MIN", "CLOSE_QUOTA_SHARE", "CLOSED_AT_TAG", "CONTACT_KINDS", "OPT_IN_REGIONS", "REOPEN_DAYS",
    "REGION_OPT_TIMEOUT", "REGION_REQUESTS_PER_ACCOUNT", "REGION_REQUESTS_PER_ORGANIZATION",
    "RESOURCE_CONTROL_POLICY",
    "tf_name", "as_name", "default_alias", "environment_name", "policy_matches",
    # errors
    "ConfigError",
    # schema
    "AccountId", "BudgetSpec", "CloudStateSpec", "Email", "EnvironmentSpec", "GroupSpec", "GuardrailsSpec", "OrganizationSpec", "OrgSpec",
    "PasswordPolicySpec", "ProductSpec", "S3StateSpec", "ServicePrincipal", "StateSpec", "UserSpec",
    # model
    "Assignment", "Budget", "Contact", "DataPerimeter", "Environment", "GitHubCi", "Group", "Guardrails", "Org", "PasswordPolicy", "Product", "RunRole", "StateConfig", "Unmanaged", "User",
    "access_portal_url", "account_settings_addresses", "contact_address",
    # loading
    "load", "parse",
]
