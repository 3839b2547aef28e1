"""The derived model: frozen dataclasses built once from org.yaml (see `derive`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Sequence
from urllib.parse import urlencode

from awsenvs.config.errors import ConfigError
from awsenvs.config.names import (
    ACCOUNT_REGION_RESOURCE,
    ACCOUNT_RESOURCE,
    ALTERNATE_CONTACT_RESOURCE,
    ASSIGNMENT_RESOURCE,
    BOOTSTRAP_STACK,
    CI_APPLY_ROLE_NAME,
    CI_PLAN_ROLE_NAME,
    CI_READ_ROLE_NAME,
    CONTACT_KINDS,
    DEFAULT_ELEVATION_MAX,
    DEFAULT_ROLE_NAME,
    DEFAULT_SESSION_HOURS,
    ELEVATIONS_FILE,
    ELEVATIONS_LOG,
    GITHUB_AUDIENCE,
    GITHUB_OIDC_HOST,
    GRANT_TAG_PREFIX,
    GUARDRAIL_ATTACHMENT_RESOURCE,
    GUARDRAIL_POLICY_RESOURCE,
    MANAGED_BY,
    MANAGEMENT_STACK,
    MFA_ROLE_MAX_SESSION_SECONDS,
    OPT_IN_REGIONS,
    PERMISSION_SET_RESOURCE,
    POLICY_ATTACHMENT_RESOURCE,
    RUN_ROLE_POLICY_RESOURCE,
    RUN_ROLE_PREFIX,
    RUN_ROLE_RESOURCE,
    SIGN_IN_EVENT_REGIONS,
    TFC_DEFAULT_PROJECT,
    duration_seconds,
    policy_matches,
    tf_name,
)
from awsenvs.config.schema import CloudStateSpec, S3StateSpec


# --------------------------------------------------------------------------- the model
# Small immutable views that the constructs, runner, profiles and audit take.


@dataclass(frozen=True)
class PasswordPolicy:
    minimum_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_numbers: bool
    require_symbols: bool
    reuse_prevention: int
    max_age_days: int
    allow_users_to_change: bool


@dataclass(frozen=True)
class Guardrails:
    """The service control policy statements a product's OU gets (see modules/guardrails.py)."""

    deny_leave_organization: bool
    protect_baseline: bool
    deny_root_user: bool
    allowed_regions: tuple[str, ...]  # empty: every region

    @property
    def enabled(self) -> tuple[str, ...]:
        """The names of the guardrails that are on, as org.yaml spells them."""
        on = [name for name in ("deny_leave_organization", "protect_baseline", "deny_root_user") if getattr(self, name)]
        return (*on, *(["allowed_regions"] if self.allowed_regions else []))


@dataclass(frozen=True)
class Budget:
    """A monthly cost budget of one account, alerting by email on actual and forecasted spend."""

    monthly_usd: float
    alert_emails: tuple[str, ...]
    thresholds_percent: tuple[int, ...]

    @property
    def amount(self) -> str:
        """The limit as Budgets stores it: a plain decimal string (100 reads back as "100.0",
        never an exponent such as 1e-05)."""
        text = format(Decimal(str(self.monthly_usd)).normalize(), "f")
        return text if "." in text else f"{text}.0"


@dataclass(frozen=True)
class Contact:
    """One alternate contact of an account (org.yaml's `contacts`)."""

    kind: str  # security, operations or billing
    name: str
    title: str
    email: str
    phone: str

    @property
    def contact_type(self) -> str:
        """The Account Management API's AlternateContactType."""
        return self.kind.upper()


@dataclass(frozen=True)
class DataPerimeter:
    """guardrails.data_perimeter: a product OU's resources only for the organization's own
    principals, AWS services acting for them, and these outside accounts."""

    trusted_accounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    name: str
    policies: tuple[str, ...]
    session_hours: int = DEFAULT_SESSION_HOURS  # identity_center: the permission set's session
    description: str | None = None  # identity_center: the permission set's, when org.yaml sets one

    @property
    def permission_set_name(self) -> str:
        """identity_center: its permission set (validated to fit 32 characters), also the CLI's sso_role_name."""
        return self.name

    @property
    def permission_set_address(self) -> str:
        """identity_center: its permission set in the management stack."""
        return f"{PERMISSION_SET_RESOURCE}.{self.tf_name}"

    @property
    def policy_attachment_addresses(self) -> tuple[str, ...]:
        """identity_center: the addresses of its permission set's managed policy attachments."""
        return tuple(f"{POLICY_ATTACHMENT_RESOURCE}.{tf_name(self.name, p.rsplit('/', 1)[-1])}" for p in self.policies)

    @property
    def permission_set_description(self) -> str:
        """identity_center: org.yaml's description, else one saying awsenvs manages it."""
        return self.description or f"{self.name} (managed by {MANAGED_BY})"

    @property
    def session_duration(self) -> str:
        """The permission set's session as ISO-8601, what the API takes (`PT4H`)."""
        return f"PT{self.session_hours}H"

    def members(self, users: "Sequence[User]") -> tuple["User", ...]:
        """The users in this group: the only principals its MFA role trusts."""
        return tuple(u for u in users if self.name in u.groups)

    @property
    def admin_role_name(self) -> str:
        """The MFA-requiring role of this group in `mfa: required` accounts."""
        return f"{self.name}-mfa"  # validated to fit IAM's 64 characters

    @property
    def tf_name(self) -> str:
        return tf_name(self.name)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    console: bool
    pgp_key: str | None
    email: str | None = None  # identity_center: required, the sign-in email
    display_name: str | None = None  # identity_center: required
    eligible: tuple[str, ...] = ()  # groups the user may be granted for a while (elevate), not held

    @property
    def tf_name(self) -> str:
        return tf_name(self.name)

    @property
    def given_and_family_name(self) -> tuple[str, str]:
        """The identity store wants both: `Maria Lopez` -> (Maria, Lopez); one word is both."""
        given, _, family = (self.display_name or self.name).strip().partition(" ")
        return given, family.strip() or given


@dataclass(frozen=True)
class Elevation:
    """An environment's rule for granting eligible groups: how long at most, and who must
    approve (none: `elevate` grants at once)."""

    max_seconds: int = duration_seconds(DEFAULT_ELEVATION_MAX)
    approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grant:
    """An eligible group of one user in one environment, from `since` until `until` (UTC):
    an entry of the record (awsenvs.elevation), active while now < until.  Until it is
    approved (`approver` None and the environment has approvers) it is only a request."""

    id: str
    stack: str
    user: str
    group: str
    since: datetime
    until: datetime
    requester: str
    reason: str
    approver: str | None = None
    revoked: datetime | None = None  # `revoke` ended it early
    revoker: str | None = None

    @property
    def end(self) -> datetime:
        return min(self.until, self.revoked) if self.revoked else self.until

    @property
    def until_text(self) -> str:
        """The end as IAM's aws:CurrentTime compares it (ISO 8601, UTC, seconds)."""
        return iso_time(self.until)

    @property
    def end_text(self) -> str:
        return iso_time(self.end)

    def approved_in(self, env: "Environment") -> bool:
        return self.approver is not None or not env.elevation.approvers


def grant_tags(grants: Sequence[Grant]) -> dict[str, str]:
    """The tags an MFA role carries for its active grants, one per user: who, until when,
    asked by and approved by whom, and why (in what IAM takes in a tag: letters, digits,
    spaces and _.:/=+-@, a key up to 128 and a value up to 256 characters:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html#id_tags_rules_creating)."""
    def fit(text: str, limit: int) -> str:
        return re.sub(r"[^\w .:/=+@-]", "_", text)[:limit]

    return {fit(f"{GRANT_TAG_PREFIX}{g.user}", 128):
            fit(f"until {g.until_text} by {g.requester} approved {g.approver or 'none'} reason {g.reason}", 256)
            for g in grants}


def iso_time(when: datetime) -> str:
    """A time as IAM's date conditions and the record write it: ISO 8601, UTC, seconds."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class BreakGlass:
    """organization.break_glass: emergency IAM users in the management account."""

    users: tuple[str, ...]
    alert_email: str | None = None

    def alert_regions(self, region: str) -> tuple[str, ...]:
        """Where the sign-in alert listens: the organization's region first (its rule mails),
        then those the global sign-in endpoint records in (names.SIGN_IN_EVENT_REGIONS)."""
        return tuple(dict.fromkeys((region, *SIGN_IN_EVENT_REGIONS))) if self.alert_email else ()

    @staticmethod
    def tf_name(user: str) -> str:
        return tf_name("break_glass", user)


@dataclass(frozen=True)
class Unmanaged:
    """An account's objects that awsenvs leaves alone (org.yaml's `unmanaged`): audit's drift
    check does not count them."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()


def contact_address(stack: str, kind: str) -> str:
    return f"{ALTERNATE_CONTACT_RESOURCE}.{tf_name(stack, kind)}"


def region_address(stack: str, region: str) -> str:
    return f"{ACCOUNT_REGION_RESOURCE}.{tf_name(stack, region)}"


def account_settings_addresses(stack: str) -> frozenset[str]:
    """Every address the management stack may hold for a stack's account settings (its
    contacts and opt-in regions): what retiring it lets go of, whatever org.yaml said then."""
    return frozenset({*(contact_address(stack, kind) for kind in CONTACT_KINDS),
                      *(region_address(stack, region) for region in OPT_IN_REGIONS)})


@dataclass(frozen=True)
class Environment:
    product: str
    name: str
    account_name: str
    email: str
    alias: str
    stack: str
    mfa_required: bool
    account_id: str | None  # known up front only for adopted accounts
    role_name: str
    cli_profile: str | None
    region: str
    users: tuple[User, ...]
    groups: tuple[Group, ...]  # the groups its users belong to
    password_policy: PasswordPolicy
    org_name: str
    budget: Budget | None = None
    unmanaged: Unmanaged = Unmanaged()
    contacts: tuple[Contact, ...] = ()  # set from the management stack
    regions: tuple[str, ...] = ()  # opt-in regions enabled in the account (management stack)
    disable_regions: tuple[str, ...] = ()  # opt-in regions awsenvs disables there
    outside_data_perimeter: bool = False  # `data_perimeter: false`: its product's RCP is not attached to it
    # Set only for a pull request's plan in CI (Org.reading_through): the read-only role the
    # account stack's provider and the look-ups go through instead of role_name.
    reading_role: str | None = None
    elevation: Elevation = Elevation()
    # The active grants of eligible groups (Org.granted): each is a statement in its
    # group's MFA role trust until it ends.
    grants: tuple[Grant, ...] = ()
    # Grants ended (expired or revoked) less than a role session ago: their sessions are
    # denied until every one issued before the end has run out (modules/iam_policies).
    ended_grants: tuple[Grant, ...] = ()

    @property
    def has_account_settings(self) -> bool:
        """Whether the management stack sets anything in its account (contacts, opt-in regions),
        through AWS Account Management's trusted access."""
        return bool(self.contacts or self.regions or self.disable_regions)

    def contact_address(self, contact: Contact) -> str:
        """A contact's address in the management stack."""
        return contact_address(self.stack, contact.kind)

    def region_address(self, region: str) -> str:
        """An opt-in region's address in the management stack (enabled or disabled)."""
        return region_address(self.stack, region)

    @property
    def budget_name(self) -> str:
        """Its monthly budget's name, unique in the account (Budgets keys budgets by name)."""
        return f"{MANAGED_BY}-{self.stack}-monthly"

    @property
    def adopted(self) -> bool:
        return self.account_id is not None

    def account_id_from(self, created: dict[str, str]) -> str | None:
        """Its account id: configured (adopted), else from `created` (stack -> id); None if unknown."""
        return self.account_id or created.get(self.stack)

    @property
    def key(self) -> str:
        """`<product>/<env>`, how people name an environment on the command line."""
        return f"{self.product}/{self.name}"

    @property
    def tf_name(self) -> str:
        return tf_name(self.product, self.name)

    @property
    def account_address(self) -> str:
        """Its account's address in the management stack."""
        return f"{ACCOUNT_RESOURCE}.{self.tf_name}"

    @property
    def tags(self) -> dict[str, str]:
        return {"product": self.product, "environment": self.name, "managed-by": MANAGED_BY}

    @property
    def signin_url(self) -> str:
        return f"https://{self.alias}.signin.aws.amazon.com/console"

    def profile_name(self, user: User | str) -> str:
        return f"{self.product}_{self.name}_{getattr(user, 'name', user)}"

    def key_profile_name(self, user: User | str) -> str:
        """The profile holding a user's own access keys; role profiles of mfa: required use it."""
        return f"{self.profile_name(user)}_keys"

    def has_role_profile(self, user: User) -> bool:
        """Whether the user's profile assumes their group's MFA role (mfa: required) with keys kept apart."""
        return self.mfa_required and bool(user.groups or user.eligible)

    def own_keys_profile(self, user: User) -> str:
        """Where the user's own access keys go (`aws configure --profile ...`)."""
        return self.key_profile_name(user) if self.has_role_profile(user) else self.profile_name(user)

    @property
    def acting_role_name(self) -> str:
        """The role the account stack's provider and the look-ups assume in the account."""
        return self.reading_role or self.role_name

    def role_arn(self, account_id: str) -> str:
        """The role the account stack's provider assumes."""
        return f"arn:aws:iam::{account_id}:role/{self.acting_role_name}"

    def admin_role_arn(self, account_id: str, group: Group) -> str:
        return f"arn:aws:iam::{account_id}:role/{group.admin_role_name}"

    def members(self, group: Group) -> tuple[User, ...]:
        """The users of this environment in `group`: the only principals its MFA role trusts."""
        return group.members(self.users)

    def grants_of(self, group: Group) -> tuple[Grant, ...]:
        """The active grants of `group` (approved, when the environment has approvers)."""
        return tuple(g for g in self.grants if g.group == group.name)

    def ended_grants_of(self, group: Group) -> tuple[Grant, ...]:
        """The grants of `group` that ended less than a session ago (the latest per user),
        for users without an active one."""
        active = {g.user for g in self.grants_of(group)}
        latest: dict[str, Grant] = {}
        for grant in self.ended_grants:
            if grant.group == group.name and grant.user not in active:
                if grant.user not in latest or latest[grant.user].end < grant.end:
                    latest[grant.user] = grant
        return tuple(latest.values())

    def eligible_profile_name(self, user: User | str, group: str) -> str:
        """The profile of a user's eligible group, written ahead of any grant."""
        return f"{self.profile_name(user)}_{group}"

    @property
    def eligible_users(self) -> tuple[User, ...]:
        return tuple(u for u in self.users if u.eligible)

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)


@dataclass(frozen=True)
class Assignment:
    """identity_center: a user gets a group's permission set in an environment's account."""

    environment: Environment
    user: User
    group: Group
    profile_name: str  # `<product>_<env>_<user>`; `..._<group>` for the user's further groups there

    @property
    def tf_name(self) -> str:
        return tf_name(self.environment.stack, self.user.name, self.group.name)

    @property
    def address(self) -> str:
        return f"{ASSIGNMENT_RESOURCE}.{self.tf_name}"

    def console_url(self, portal: str, account_id: str) -> str:
        """The portal's direct link into this account with this permission set
        (https://docs.aws.amazon.com/singlesignon/latest/userguide/createshortcutlink.html)."""
        query = urlencode({"account_id": account_id, "role_name": self.group.permission_set_name})
        return f"{portal}/#/console?{query}"


def access_portal_url(identity_store_id: str) -> str:
    """identity_center: the AWS access portal's default URL (Org.access_portal: a customized one wins)."""
    return f"https://{identity_store_id}.awsapps.com/start"


def _policy_addresses(name: str) -> tuple[str, str]:
    """A product OU's policy (SCP or RCP) and its attachment, both Terraform-named `name`."""
    return f"{GUARDRAIL_POLICY_RESOURCE}.{name}", f"{GUARDRAIL_ATTACHMENT_RESOURCE}.{name}"


@dataclass(frozen=True)
class Product:
    name: str
    environments: tuple[Environment, ...]
    guardrails: Guardrails | None = None
    ou: str | None = None  # org.yaml's `ou`: an existing OU's own name
    unmanaged_policies: tuple[str, ...] = ()  # SCPs on its OU that awsenvs leaves alone (names, or prefixes ending in *)
    data_perimeter: DataPerimeter | None = None  # an RCP on its OU (guardrails.data_perimeter)

    def leaves_policy(self, name: str) -> bool:
        """Whether a policy of this name on its OU is one org.yaml's `unmanaged.policies` leaves alone."""
        return any(policy_matches(name, pattern) for pattern in self.unmanaged_policies)

    @property
    def data_perimeter_policy_name(self) -> str:
        """Its OU's resource control policy (the data perimeter)."""
        return f"{MANAGED_BY}-{self.name}-data-perimeter"

    @property
    def data_perimeter_tf_name(self) -> str:
        return tf_name(self.data_perimeter_policy_name)

    @property
    def data_perimeter_addresses(self) -> tuple[str, str]:
        """The management stack's addresses of its RCP and the RCP's attachment to its OU."""
        return _policy_addresses(self.data_perimeter_tf_name)

    @property
    def perimeter_environments(self) -> tuple[Environment, ...]:
        """The environments its data perimeter covers: all but those with `data_perimeter: false`."""
        return tuple(env for env in self.environments if not env.outside_data_perimeter) if self.data_perimeter else ()

    @property
    def data_perimeter_per_account(self) -> bool:
        """Whether its RCP is attached to each covered account rather than to its OU: an RCP on
        the OU reaches every account in it, and an S3 general purpose bucket evaluates no
        resource tag in an RCP unless S3 ABAC is on for it (off by default:
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/buckets-tagging-enable-abac.html),
        so leaving an account out is leaving it off the attachments."""
        return self.data_perimeter is not None and any(env.outside_data_perimeter for env in self.environments)

    def data_perimeter_account_address(self, env: Environment) -> str:
        """The management stack's address of its RCP's attachment to one covered account."""
        return f"{GUARDRAIL_ATTACHMENT_RESOURCE}.{tf_name(self.data_perimeter_policy_name, env.name)}"

    @property
    def data_perimeter_all_addresses(self) -> frozenset[str]:
        """Every address its data perimeter may have in the management stack (its RCP, the RCP's
        attachment to its OU or to each account)."""
        return frozenset({*self.data_perimeter_addresses,
                          *(self.data_perimeter_account_address(env) for env in self.environments)})

    @property
    def ou_name(self) -> str:
        return self.ou or self.name

    @property
    def guardrails_policy_name(self) -> str:
        """Its OU's service control policy (all its guardrails in one: an OU takes at most 5 SCPs)."""
        return f"{MANAGED_BY}-{self.name}-guardrails"

    @property
    def guardrails_tf_name(self) -> str:
        """The Terraform name of its SCP and of the SCP's attachment."""
        return tf_name(self.guardrails_policy_name)

    @property
    def guardrails_addresses(self) -> tuple[str, str]:
        """The management stack's addresses of its SCP and the SCP's attachment to its OU."""
        return _policy_addresses(self.guardrails_tf_name)

    @property
    def managing_roles(self) -> tuple[str, ...]:
        """The roles the account stacks act through (the only principals protect_baseline lets
        change the baseline); environments reached through a CLI profile have none."""
        return tuple(sorted({env.role_name for env in self.environments if env.cli_profile is None}))

    @property
    def tf_name(self) -> str:
        return tf_name(self.name)


@dataclass(frozen=True)
class StateConfig:
    backend: str
    local_dir: Path  # local backend: where <stack>.tfstate files live
    s3: S3StateSpec | None
    cloud: CloudStateSpec | None

    def workspace(self, stack: str) -> str:
        prefix = self.cloud.workspace_prefix if self.cloud else ""
        return f"{prefix}{stack}"

    def s3_key(self, stack: str) -> str:
        return self.s3_object(f"{stack}.tfstate")

    def s3_object(self, name: str) -> str:
        """The key of an object beside the states in the bucket."""
        prefix = self.s3.key_prefix.strip("/") if self.s3 else ""
        return f"{prefix}/{name}" if prefix else name

    def local_file(self, stack: str) -> Path:
        """A stack's local state file (backend local; with a remote one, what is left of
        earlier local runs until bootstrap moves it)."""
        return self.local_dir / f"{stack}.tfstate"

    def moved_dir(self, when: str) -> Path:
        """Where bootstrap keeps the local state files it moved into the remote backend."""
        return self.local_dir / f"moved-{when}"

    @property
    def run_lock(self) -> Path:
        """awsenvs' own lock of the organization's runs (awsenvs.runlock), beside the state
        folder whatever the backend: the stack folders and saved plans are local anyway."""
        return self.local_dir.with_name(f"{self.local_dir.name}.lock")

    @property
    def bootstrap_state(self) -> Path:
        """The bootstrap stack's state: always local (it creates what remote state needs)."""
        return self.local_file(BOOTSTRAP_STACK)

    # -- cloud: dynamic provider credentials (see names.TFC_AUDIENCE) ---------------------

    @property
    def cloud_project(self) -> str:
        return (self.cloud.project if self.cloud else None) or TFC_DEFAULT_PROJECT

    @property
    def oidc_url(self) -> str:
        """The issuer of the run tokens: the Terraform Cloud (or Enterprise) host."""
        return f"https://{self.cloud.hostname}"

    @property
    def oidc_provider_arn_suffix(self) -> str:
        """How its IAM OIDC provider's ARN ends (arn:aws:iam::<account>:oidc-provider/<host>)."""
        return f":oidc-provider/{self.cloud.hostname}"

    def run_role_name(self, stack: str) -> str:
        """The IAM role (in the management account) a stack's workspace runs with."""
        return f"{RUN_ROLE_PREFIX}{self.workspace(stack)}"

    def run_subject(self, stack: str) -> str:
        """The token subject of every run of the stack's workspace (plan and apply)."""
        return (f"organization:{self.cloud.organization}:project:{self.cloud_project}:"
                f"workspace:{self.workspace(stack)}:run_phase:*")


@dataclass(frozen=True)
class RunRole:
    """The IAM role a stack's Terraform Cloud workspace runs with (dynamic credentials)."""

    stack: str
    workspace: str
    name: str
    subject: str  # the run tokens' `sub` it trusts: this workspace's plan and apply runs
    # Account stacks: the role their provider assumes in their account, and that account
    # (None while the management stack has not created it: the role gets no permission yet).
    target_role: str | None = None
    account_id: str | None = None

    @property
    def waiting(self) -> bool:
        return self.target_role is not None and self.account_id is None

    @property
    def tf_name(self) -> str:
        """Its role's (and role policy's) name in the bootstrap stack."""
        return tf_name(self.stack)

    @property
    def address(self) -> str:
        return f"{RUN_ROLE_RESOURCE}.{self.tf_name}"

    @property
    def policy_address(self) -> str:
        return f"{RUN_ROLE_POLICY_RESOURCE}.{self.tf_name}"

    def arn(self, management_account_id: str) -> str:
        return f"arn:aws:iam::{management_account_id}:role/{self.name}"


@dataclass(frozen=True)
class GitHubCi:
    """ci.github: the repository whose GitHub Actions plan, apply and check drift, and the
    OIDC trust of its roles (bootstrap makes them; awsenvs.ci writes the workflows)."""

    repository: str  # OWNER/NAME
    default_branch: str = "main"
    environment: str = "awsenvs"  # where every apply job runs
    protected_environment: str = "awsenvs-production"  # where protected stacks are applied (required reviewers)
    drift_schedule: str = "23 4 * * *"
    drift_plan_all: bool = False

    oidc_host = GITHUB_OIDC_HOST
    audience = GITHUB_AUDIENCE
    plan_role_name = CI_PLAN_ROLE_NAME
    apply_role_name = CI_APPLY_ROLE_NAME
    read_role_name = CI_READ_ROLE_NAME

    @property
    def oidc_url(self) -> str:
        return f"https://{GITHUB_OIDC_HOST}"

    @property
    def oidc_provider_arn_suffix(self) -> str:
        """How its IAM OIDC provider's ARN ends (arn:aws:iam::<account>:oidc-provider/<host>)."""
        return f":oidc-provider/{GITHUB_OIDC_HOST}"

    @property
    def pull_request_subject(self) -> str:
        """The `sub` of every job of a pull_request event in the repository."""
        return f"repo:{self.repository}:pull_request"

    @property
    def default_branch_subject(self) -> str:
        """The `sub` of a job on the default branch outside any environment (the scheduled drift check)."""
        return f"repo:{self.repository}:ref:refs/heads/{self.default_branch}"

    def environment_subject(self, environment: str) -> str:
        """The `sub` of a job that runs in a GitHub environment (whatever its event)."""
        return f"repo:{self.repository}:environment:{environment}"

    @property
    def plan_subjects(self) -> tuple[str, ...]:
        """Whom the plan role trusts: pull requests, and the default branch's drift check."""
        return (self.pull_request_subject, self.default_branch_subject)

    @property
    def apply_subjects(self) -> tuple[str, ...]:
        """Whom the apply role trusts: jobs in the two apply environments only."""
        return (self.environment_subject(self.environment), self.environment_subject(self.protected_environment))

    def role_arn(self, management_account_id: str, role_name: str) -> str:
        return f"arn:aws:iam::{management_account_id}:role/{role_name}"


@dataclass(frozen=True)
class Org:
    name: str
    email: str
    region: str
    management_account_id: str | None
    organization_id: str | None
    trusted_services: tuple[str, ...]
    policy_types: tuple[str, ...]
    disable_trusted_services: tuple[str, ...]
    disable_policy_types: tuple[str, ...]
    state: StateConfig
    groups: tuple[Group, ...]
    products: tuple[Product, ...]
    source: Path
    access: str = "iam_users"  # or "identity_center"
    centralized_root: bool = False  # trusted iam.amazonaws.com + root credentials management, root sessions
    sso_start_url: str | None = None  # identity_center: the access portal, when customized
    on_retire: str = "park"  # or "close": a retired environment's account is parked, then closed
    github: GitHubCi | None = None  # ci.github: GitHub Actions plan, apply and drift (awsenvs.ci)
    break_glass: BreakGlass | None = None  # organization.break_glass (modules/break_glass.py)

    def access_portal(self, identity_store_id: str | None) -> str | None:
        """identity_center: the AWS access portal (the CLI's sso_start_url): organization.sso_start_url
        when set (a customized subdomain), else the identity store's; None when neither is known."""
        if self.sso_start_url:
            return self.sso_start_url
        return access_portal_url(identity_store_id) if identity_store_id else None

    @property
    def identity_center(self) -> bool:
        return self.access == "identity_center"

    @property
    def elevations_file(self) -> Path:
        """The record of grants of eligible groups, in the state folder (awsenvs.elevation)."""
        return self.state.local_dir / ELEVATIONS_FILE

    @property
    def elevations_log(self) -> Path:
        """Every request, approval, grant and revoke, a JSON line each."""
        return self.state.local_dir / ELEVATIONS_LOG

    @property
    def elevations_key(self) -> str:
        """state.backend s3: the record of grants, beside the states in the bucket."""
        return self.state.s3_object(ELEVATIONS_FILE)

    def elevations_log_key(self, when: str, grant_id: str, event: str) -> str:
        """state.backend s3: one object per line of the log (S3 appends to nothing)."""
        return self.state.s3_object(f"{ELEVATIONS_LOG}/{when}-{grant_id}-{event.replace(' ', '-')}.json")

    @property
    def elevations_place(self) -> str:
        """Where the record is, as people are told."""
        if self.state.backend == "s3":
            return f"s3://{self.state.s3.bucket}/{self.elevations_key}"
        return str(self.elevations_file)

    def granted(self, grants: Sequence[Grant], now: datetime) -> "Org":
        """This organization with each environment's active grants: approved (when it has
        approvers), begun and not ended at `now`, of a user still eligible for the group."""
        def ours(env: Environment, grant: Grant) -> bool:
            eligible = any(u.name == grant.user and grant.group in u.eligible for u in env.users)
            return grant.stack == env.stack and eligible and grant.approved_in(env) and grant.since <= now

        def session(env: Environment, grant: Grant) -> timedelta:
            """How long a session begun just before a grant's end can last: a permission set's
            session, or the MFA roles' maximum."""
            hours = env.group(grant.group).session_hours if self.identity_center else None
            return timedelta(hours=hours) if hours else timedelta(seconds=MFA_ROLE_MAX_SESSION_SECONDS)

        return replace(self, products=tuple(
            replace(p, environments=tuple(
                replace(env, grants=tuple(g for g in grants if ours(env, g) and now < g.end),
                        ended_grants=tuple(g for g in grants if ours(env, g) and g.end <= now < g.end + session(env, g)))
                for env in p.environments))
            for p in self.products))

    @property
    def environments(self) -> tuple[Environment, ...]:
        return tuple(env for product in self.products for env in product.environments)

    @property
    def people(self) -> tuple[User, ...]:
        """Every user once (identity_center: one identity per person), in all the groups
        they are in anywhere in org.yaml."""
        people: dict[str, User] = {}
        for env in self.environments:
            for user in env.users:
                known = people.get(user.name, user)
                people[user.name] = replace(known, groups=tuple(dict.fromkeys((*known.groups, *user.groups))))
        return tuple(people.values())

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        """identity_center: each environment's users get exactly their groups' permission
        sets in its account (so a per-environment user list holds)."""
        standing = tuple(
            Assignment(env, user, env.group(group), env.profile_name(user) if i == 0 else f"{env.profile_name(user)}_{group}")
            for env in self.environments
            for user in env.users
            for i, group in enumerate(user.groups)
        )
        # An active grant of an eligible group is an assignment too, until it ends.
        granted = tuple(a for a in self.eligible_assignments if (a.user.name, a.group.name) in
                        {(g.user, g.group) for g in a.environment.grants})
        return standing + granted

    @property
    def eligible_assignments(self) -> tuple[Assignment, ...]:
        """identity_center: what each eligible group would be when granted (its profile,
        `<product>_<env>_<user>_<group>`, is written ahead of any grant)."""
        return tuple(Assignment(env, user, env.group(group), env.eligible_profile_name(user, group))
                     for env in self.environments for user in env.users for group in user.eligible)

    def grant_stack(self, stack: str) -> str:
        """The stack a grant in `stack`'s environment is applied by: the account's own (its
        MFA roles), or with Identity Center the management stack (assignments, permission sets)."""
        return MANAGEMENT_STACK if self.identity_center else stack

    @property
    def adopted_in_data_perimeter(self) -> tuple[tuple[Product, Environment], ...]:
        """The adopted accounts a data perimeter covers: they had public content or CloudFront
        origin access identities before awsenvs, which the perimeter then denies."""
        return tuple((product, env) for product in self.products for env in product.perimeter_environments if env.adopted)

    @property
    def adopted_account_ids(self) -> dict[str, str]:
        """Stack -> account id of the accounts org.yaml names (adopted); known without Terraform."""
        return {env.stack: env.account_id for env in self.environments if env.adopted}

    @property
    def stacks(self) -> tuple[str, ...]:
        return (MANAGEMENT_STACK, *(env.stack for env in self.environments))

    @property
    def managing_roles(self) -> tuple[str, ...]:
        """Every role the account stacks act through, and the default one (what a retired
        environment, gone from org.yaml, most likely used): the only principals the
        Suspended OU's policy lets act."""
        return tuple(sorted({DEFAULT_ROLE_NAME, *(role for p in self.products for role in p.managing_roles)}))

    def run_roles(self, account_ids: dict[str, str]) -> tuple[RunRole, ...]:
        """One run role per stack workspace (state.backend: cloud), management first;
        `account_ids`: the known account ids by stack."""
        state = self.state

        def role(stack: str, **more) -> RunRole:
            return RunRole(stack, state.workspace(stack), state.run_role_name(stack), state.run_subject(stack), **more)

        return (role(MANAGEMENT_STACK),
                *(role(env.stack, target_role=env.role_name, account_id=env.account_id_from(account_ids))
                  for env in self.environments))

    def reading_through(self, role_name: str) -> Org:
        """This organization as a read-only plan sees it: every account reached through
        `role_name` (a pull request's plan role may assume only that role).  Everything
        else, the managing roles the guardrails name too, stays as org.yaml says."""
        return replace(self, products=tuple(
            replace(p, environments=tuple(replace(env, reading_role=role_name) if env.cli_profile is None else env
                                          for env in p.environments))
            for p in self.products))

    def ci_read_role(self, env: Environment) -> str | None:
        """The read-only role env's account stack makes for CI's plans (ci.github), or None:
        without ci.github, and for an account reached through a CLI profile, which no CI
        runner has (reading_through leaves it as it is)."""
        return self.github.read_role_name if self.github is not None and env.cli_profile is None else None

    @property
    def reads_only(self) -> bool:
        """Whether this is the read-only view of a pull request's plan (reading_through)."""
        return any(env.reading_role for env in self.environments)

    def environment_by_stack(self, stack: str) -> Environment:
        return next(env for env in self.environments if env.stack == stack)

    def select(
        self, stacks: tuple[str, ...] = (), products: tuple[str, ...] = (), envs: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        """Stacks chosen by --stack/--product/--env; `management` comes along unless stacks name it out."""
        unknown = [s for s in stacks if s not in self.stacks]
        if unknown:
            raise ConfigError(f"--stack {unknown[0]}: no such stack (stacks: {', '.join(self.stacks)})")
        for option, wanted, known in (
            ("--product", products, {p.name for p in self.products}),
            ("--env", envs, {e.name for e in self.environments}),
        ):
            missing = [w for w in wanted if w not in known]
            if missing:
                raise ConfigError(f"{option} {missing[0]}: not in {self.source.name} (known: {', '.join(sorted(known))})")
        if not (stacks or products or envs):
            return self.stacks
        chosen = [
            env.stack
            for env in self.environments
            if (not products or env.product in products) and (not envs or env.name in envs)
        ]
        if stacks:
            chosen = [s for s in self.stacks if s in stacks or (s in chosen and (products or envs))]
        elif MANAGEMENT_STACK not in chosen:
            chosen.insert(0, MANAGEMENT_STACK)
        return tuple(s for s in self.stacks if s in chosen)
