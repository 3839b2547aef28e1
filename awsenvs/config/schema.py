"""The raw shape of org.yaml: pydantic `*Spec` models, validated as read."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from awsenvs.config.names import (
    ACCOUNT_ID_RE,
    CONTACT_PHONE_RE,
    DEFAULT_ELEVATION_MAX,
    DURATION_RE,
    EMAIL_RE,
    POLICY_ARN_RE,
    SERVICE_PRINCIPAL_RE,
    TFC_HOSTNAME,
    PolicyType,
)


# --------------------------------------------------------------------------- schema
# The raw shape of org.yaml.  `extra="forbid"` turns typos into errors naming the key.


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _account_id(value: Any) -> Any:
    # YAML reads an unquoted 210987654321 as an int; accept it when it is 12 digits.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is not None and (not isinstance(value, str) or not ACCOUNT_ID_RE.match(value)):
        raise ValueError(f"{value!r} is not an AWS account id: use 12 digits, quoted (\"012345678901\")")
    return value


def _email(value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not EMAIL_RE.match(value)):
        raise ValueError(f"{value!r} is not a valid email address")
    return value


def _service_principal(value: Any) -> Any:
    if not isinstance(value, str) or not SERVICE_PRINCIPAL_RE.match(value):
        raise ValueError(f"{value!r} is not a service principal (e.g. sso.amazonaws.com)")
    return value


def _not_bool(value: Any) -> Any:
    # YAML's `yes` / `true` would otherwise read as 1.0.
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an amount")
    return value


def _policy_arns(value: list[str]) -> list[str]:
    for arn in value:
        if not POLICY_ARN_RE.match(arn):
            raise ValueError(f"{arn!r} is not an IAM policy ARN (arn:aws:iam::aws:policy/NAME)")
    return value


def _phone(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"{value!r}: quote the phone number (\"+1 206 555 0100\"), or YAML drops its leading + and 0s")
    if not isinstance(value, str) or not CONTACT_PHONE_RE.match(value):
        raise ValueError(f"{value!r} is not a phone number: 1-25 of digits, spaces, +, -, ( and ) (e.g. \"+1 206 555 0100\")")
    return value


AccountId = Annotated[str | None, BeforeValidator(_account_id)]
MemberAccountId = Annotated[str, BeforeValidator(_account_id)]
Phone = Annotated[str, BeforeValidator(_phone)]
# A list of policy ARNs, checked as a whole: the error names the list (groups.NAME.policies).
PolicyArns = Annotated[list[str], AfterValidator(_policy_arns)]
Email = Annotated[str, AfterValidator(_email)]
ServicePrincipal = Annotated[str, AfterValidator(_service_principal)]


class PasswordPolicySpec(_Spec):
    minimum_length: int = Field(14, ge=6, le=128)
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True
    reuse_prevention: int = Field(24, ge=0, le=24)
    max_age_days: int = Field(90, ge=0, le=1095)
    allow_users_to_change: bool = True


class GroupSpec(_Spec):
    policies: PolicyArns = []
    # identity_center access: the permission set's session length (IAM Identity Center
    # allows 1 to 12 hours: https://docs.aws.amazon.com/singlesignon/latest/userguide/howtosessionduration.html).
    session_hours: int | None = Field(None, ge=1, le=12)
    # identity_center access: the permission set's description (its characters: derive.py).
    description: str | None = Field(None, min_length=1, max_length=700)


class UserSpec(_Spec):
    groups: list[str] = []
    # Groups the user may be granted for a while (`awsenvs elevate`), never held standing.
    eligible: list[str] = []
    console: bool = True  # login profile (console password, reset at first sign-in)
    pgp_key: str | None = None  # encrypts the initial password in state: "keybase:NAME" or base64
    # identity_center access: the person's sign-in email and display name (both required there).
    email: Email | None = None
    name: str | None = Field(None, min_length=1, max_length=1024)


class DataPerimeterSpec(_Spec):
    """The data perimeter on (a resource control policy), with outside accounts let in."""

    trusted_accounts: list[MemberAccountId] = []


def _data_perimeter(value: Any) -> Any:
    # `true` is the perimeter with no outside account, `false` none (read as null).
    if isinstance(value, bool):
        return {} if value else None
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{value!r}: use true, false or {{trusted_accounts: [ACCOUNT_ID, ...]}}")
    return value


class GuardrailsSpec(_Spec):
    """Service control policies (and the data perimeter's resource control policy) on the
    product OUs; a product's block overrides only the keys it sets."""

    deny_leave_organization: bool = True
    protect_baseline: bool = True  # only the managing role may change it and the awsenvs IAM objects
    deny_root_user: bool = True
    allowed_regions: list[str] | None = None  # none: every region
    # The OU's resources only for the organization's own principals and AWS services acting
    # for them (an RCP); `{trusted_accounts: [...]}` also lets those outside accounts in.
    data_perimeter: Annotated[DataPerimeterSpec | None, BeforeValidator(_data_perimeter)] = None


class ContactSpec(_Spec):
    """An alternate contact (Account Management PutAlternateContact: name 1-64, title 1-50,
    email 1-254 characters, phone 1-25 of `[ 0-9()+-]`:
    https://docs.aws.amazon.com/accounts/latest/reference/API_PutAlternateContact.html)."""

    name: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=50)
    email: Annotated[Email, Field(max_length=254)]
    phone: Phone


class ContactsSpec(_Spec):
    """Each member account's alternate contacts; a more specific block overrides only the
    kinds it sets (`billing: null` there: none of that kind for those accounts)."""

    security: ContactSpec | None = None
    operations: ContactSpec | None = None
    billing: ContactSpec | None = None


class BudgetSpec(_Spec):
    """A monthly cost budget per account with email alerts (actual and forecasted spend)."""

    monthly_usd: Annotated[float, BeforeValidator(_not_bool)] = Field(ge=0.01, allow_inf_nan=False)
    # AWS Budgets: "A budget can have up to ten notifications" and a notification up to 10
    # email subscribers (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_Notification.html,
    # .../API_budgets_NotificationWithSubscribers.html).  Each threshold makes two notifications
    # (actual and forecasted spend), so at most 5 thresholds; awsenvs keeps them to 1-1000 %.
    alert_emails: list[Email] = Field(min_length=1, max_length=10)
    thresholds_percent: list[Annotated[int, Field(ge=1, le=1000)]] = Field([80, 100], min_length=1, max_length=5)


def _duration(value: Any) -> Any:
    if not isinstance(value, str) or not DURATION_RE.match(value):
        raise ValueError(f"{value!r} is not a duration: minutes or hours, e.g. 30m, 2h, 1h30m")
    return value


Duration = Annotated[str, BeforeValidator(_duration)]


class ElevationSpec(_Spec):
    """How long a grant of an eligible group may last, and who must approve it (none: the
    grant is made at once by whoever runs `elevate`)."""

    max: Duration = DEFAULT_ELEVATION_MAX
    approvers: list[str] = []


class UnmanagedSpec(_Spec):
    """What an account holds on purpose that awsenvs does not manage (a CI deploy user, a
    policy attached by hand): audit's drift check leaves it alone."""

    users: list[str] = []
    groups: list[str] = []
    policies: PolicyArns = []  # policy ARNs attached to a managed group beside its configured ones


class EnvironmentSpec(_Spec):
    account_id: AccountId = None  # set: an existing account, adopted (imported), never created
    mfa: Literal["required", "optional"] = "required"
    email: Email | None = None
    alias: str | None = None
    account_name: str | None = None
    role_name: str | None = None  # role the account stack assumes (default OrganizationAccountAccessRole)
    profile: str | None = None  # instead of assuming a role: a named CLI profile (invited accounts)
    region: str | None = None
    users: dict[str, UserSpec] | list[str] | None = None
    password_policy: PasswordPolicySpec | None = None
    budget: BudgetSpec | None = None  # `budget: null` here: no budget for this account
    unmanaged: UnmanagedSpec | None = None
    contacts: ContactsSpec | None = None
    elevation: ElevationSpec | None = None  # the eligible groups' grants (docs/access.md)
    # Opt-in regions enabled in the account; regions awsenvs disables (never any other).
    regions: list[str] | None = None
    disable_regions: list[str] | None = None
    # false: the account stays out of its product's data perimeter (public websites, CloudFront
    # origin access identities); the perimeter is then attached to the product's other accounts.
    data_perimeter: bool | None = None


def _policy_names(value: list[str]) -> list[str]:
    for name in value:
        if "*" in name[:-1] or name == "*":
            raise ValueError(f"{name!r}: a policy's name, or a prefix ending in * (e.g. aws-guardrails-*); "
                             "* only at the end, after at least one character")
    return value


class ProductUnmanagedSpec(_Spec):
    """Service control policies attached to the product's OU that awsenvs does not manage: by
    name, or by a prefix ending in `*` for those another service names as it pleases (AWS
    Control Tower's aws-guardrails-*)."""

    policies: Annotated[list[str], AfterValidator(_policy_names)] = []


class ProductSpec(_Spec):
    # The OU's name when it is not the product's (an OU made before awsenvs, e.g. "Shop Team"):
    # the existing OU is adopted under it, never renamed.
    ou: str | None = Field(None, min_length=1, max_length=128)
    users: dict[str, UserSpec] = {}
    environments: dict[str, EnvironmentSpec | None]
    guardrails: GuardrailsSpec | None = None
    budget: BudgetSpec | None = None  # `budget: null` here: none for this product's accounts
    unmanaged: ProductUnmanagedSpec | None = None
    contacts: ContactsSpec | None = None
    regions: list[str] | None = None
    disable_regions: list[str] | None = None


class BreakGlassSpec(_Spec):
    """Named emergency IAM users in the management account (console only, MFA, no keys)."""

    users: list[str] = Field(min_length=1)
    alert_email: Email | None = None  # told of each of their console sign-ins (needs a CloudTrail trail)


class OrganizationSpec(_Spec):
    name: str
    email: Email
    region: str = "us-east-1"
    management_account_id: AccountId = None
    organization_id: str | None = None  # set: adopt this existing organization (import)
    # Owned explicitly: the live organization's trusted services and policy types are
    # never disabled unless listed under disable_*; awsenvs refuses to plan otherwise.
    trusted_services: list[ServicePrincipal] = []
    policy_types: list[PolicyType] = ["SERVICE_CONTROL_POLICY"]
    disable_trusted_services: list[ServicePrincipal] = []
    disable_policy_types: list[PolicyType] = []
    # iam_users: an IAM user per person in every account (the seed's model);
    # identity_center: one IAM Identity Center user per person, permission sets per group.
    access: Literal["iam_users", "identity_center"] = "iam_users"
    # Centralized root access: trusted access for IAM plus root credentials management and
    # root sessions, so member accounts need no root credentials at all.
    centralized_root: bool = True
    # identity_center: the AWS access portal's URL, when the organization customized it
    # (https://<subdomain>.awsapps.com/start); default: https://<identity store id>.awsapps.com/start.
    sso_start_url: str | None = None
    # Every member account's alternate contacts (products and environments override kinds).
    contacts: ContactsSpec | None = None
    # An environment removed from org.yaml: its account is parked in the Suspended OU, or
    # parked and then closed (within CloseAccount's quota).
    on_retire: Literal["park", "close"] = "park"
    break_glass: BreakGlassSpec | None = None

    @field_validator("organization_id")
    @classmethod
    def _org_id(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^o-[a-z0-9]{10,32}$", value):
            raise ValueError(f"{value!r} is not an organization id (o- and 10-32 lowercase letters or digits)")
        return value


class S3StateSpec(_Spec):
    bucket: str
    region: str
    key_prefix: str = "awsenvs"


class CloudStateSpec(_Spec):
    organization: str
    project: str | None = None  # None: the workspaces are in the organization's "Default Project"
    workspace_prefix: str = ""
    hostname: str = TFC_HOSTNAME  # Terraform Enterprise: its own host


class StateSpec(_Spec):
    backend: Literal["local", "s3", "cloud"] = "local"
    path: str = "state"  # local backend: directory, relative to org.yaml
    s3: S3StateSpec | None = None
    cloud: CloudStateSpec | None = None


class GitHubDriftSpec(_Spec):
    schedule: str = "23 4 * * *"  # cron, UTC: nightly
    plan_all: bool = False  # also `plan --all` (terraform's own check of everything)


class GitHubCiSpec(_Spec):
    repository: str  # OWNER/NAME
    default_branch: str = "main"
    environment: str = "awsenvs"  # the GitHub environment applies run in
    protected_environment: str = "awsenvs-production"  # ... and the protected stacks' (required reviewers)
    drift: GitHubDriftSpec = GitHubDriftSpec()


class CiSpec(_Spec):
    github: GitHubCiSpec | None = None


class OrgSpec(_Spec):
    organization: OrganizationSpec
    state: StateSpec = StateSpec()
    password_policy: PasswordPolicySpec = PasswordPolicySpec()
    groups: dict[str, GroupSpec] = {}
    guardrails: GuardrailsSpec = GuardrailsSpec()
    budget: BudgetSpec | None = None
    regions: list[str] | None = None  # opt-in regions for every account (products, environments override)
    disable_regions: list[str] | None = None
    products: dict[str, ProductSpec]
    ci: CiSpec | None = None
