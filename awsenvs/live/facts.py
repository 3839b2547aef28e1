"""What the live organization holds, as small frozen facts (no boto3 here).

The readers beside this module (organization, iam, identity_center, bootstrap) fill them;
preflight and reconcile, `import` and `audit` decide from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

# An account's lifecycle, as Organizations reports it (ListAccounts, DescribeAccount).  `State`
# (PENDING_ACTIVATION, ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED) tells a closed account
# (PENDING_CLOSURE, then CLOSED for the 90 days it can be reopened) from one AWS suspended
# (SUSPENDED: e.g. unpaid bills, not closed); the older `Status` (ACTIVE, SUSPENDED,
# PENDING_CLOSURE) said SUSPENDED for both, and is retired on 2026-09-09 (botocore 1.44's
# Account shape; https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_account_state.html).
CLOSED_STATES = ("PENDING_CLOSURE", "CLOSED")
CLOSED_STATUSES = ("SUSPENDED", "PENDING_CLOSURE")  # without a State: the older answers


@dataclass(frozen=True)
class LiveAccount:
    id: str
    name: str
    email: str
    status: str  # Status (retired by AWS on 2026-09-09; "" when not given)
    joined: str = ""  # JoinedMethod: CREATED (by Organizations, with its role) or INVITED
    state: str = ""  # State, where AWS gives it (see CLOSED_STATES)

    @property
    def closed(self) -> bool:
        """Closed (or closing) by its owner: State where given, else the older Status."""
        return self.state in CLOSED_STATES if self.state else self.status in CLOSED_STATUSES

    @property
    def suspended(self) -> bool:
        """Suspended by AWS (State SUSPENDED: e.g. unpaid bills), which is not closed."""
        return self.state == "SUSPENDED"

    @property
    def lifecycle(self) -> str:
        """What AWS says of it, for messages: its State, else its Status."""
        return self.state or self.status


@dataclass(frozen=True)
class LiveOrganization:
    id: str
    root_id: str
    trusted_services: frozenset[str]
    policy_types: frozenset[str]  # enabled (or being enabled) in the root
    accounts: tuple[LiveAccount, ...]  # the members: every account but the management account
    ous: Mapping[str, str]  # OU name directly under the root -> OU id
    # service control (and, when enabled, resource control) policy name -> policy id
    policies: Mapping[str, str] = field(default_factory=dict)
    management: LiveAccount | None = None

    def account_by_email(self, email: str) -> LiveAccount | None:
        return next((a for a in self.accounts if a.email.lower() == email.lower()), None)

    def account_by_id(self, account_id: str) -> LiveAccount | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def closed_account(self, account_id: str | None, email: str) -> LiveAccount | None:
        """The closed (or closing) account with this id, else, with no id known, the one with
        this root email (AWS keeps a closed account's email from new accounts)."""
        account = self.account_by_id(account_id) if account_id else self.account_by_email(email)
        return account if account is not None and account.closed else None


@dataclass(frozen=True)
class LiveOu:
    id: str
    path: tuple[str, ...]  # OU names from the root down to this one
    account_ids: tuple[str, ...]  # the accounts directly in it

    @property
    def name(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class LivePolicy:
    """A service control policy and where it is attached (target ids: root, OUs, accounts)."""

    id: str
    name: str
    aws_managed: bool
    targets: tuple[str, ...]


@dataclass(frozen=True)
class LiveStructure:
    """The organization's tree and its policies, as `import` describes them."""

    ous: tuple[LiveOu, ...]  # every OU, parents before children
    root_account_ids: tuple[str, ...]  # accounts directly in the root (the management account too)
    policies: tuple[LivePolicy, ...]  # service control policies (none while SCPs are off)
    root_access: tuple[str, ...]  # centralized root access features on (ListOrganizationsFeatures)


@dataclass(frozen=True)
class LiveIamGroup:
    name: str
    path: str
    managed: tuple[str, ...]  # attached managed policy ARNs (AWS's and the account's own)
    inline: tuple[str, ...]  # inline policy names


@dataclass(frozen=True)
class LiveIamUser:
    name: str
    id: str  # UserId: stays the same when the user is imported, changes when it is recreated
    path: str
    groups: tuple[str, ...]
    console: bool  # has a login profile (console password)
    mfa_devices: int
    active_keys: int
    managed: tuple[str, ...] = ()  # policies attached to the user itself
    inline: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveIamRole:
    name: str
    trust: Mapping[str, object]  # the trust policy document
    managed: tuple[str, ...]  # attached managed policy ARNs


@dataclass(frozen=True)
class LiveBudget:
    name: str
    amount: str
    unit: str


# org.yaml's password_policy fields, as GetAccountPasswordPolicy names them, and what an
# absent key means there (IAM's defaults: https://docs.aws.amazon.com/IAM/latest/APIReference/API_PasswordPolicy.html).
PASSWORD_POLICY_KEYS = {
    "minimum_length": ("MinimumPasswordLength", 8),
    "require_lowercase": ("RequireLowercaseCharacters", False),
    "require_uppercase": ("RequireUppercaseCharacters", False),
    "require_numbers": ("RequireNumbers", False),
    "require_symbols": ("RequireSymbols", False),
    "reuse_prevention": ("PasswordReusePrevention", 0),
    "max_age_days": ("MaxPasswordAge", 0),
    "allow_users_to_change": ("AllowUsersToChangePassword", False),
}


@dataclass(frozen=True)
class LiveIam:
    """One account's IAM as `import` and `audit` read it."""

    account_id: str
    summary: Mapping[str, int]  # GetAccountSummary
    aliases: tuple[str, ...]
    password_policy: Mapping[str, object] | None
    users: tuple[LiveIamUser, ...]
    groups: tuple[LiveIamGroup, ...] = ()  # detail reads only
    local_policies: tuple[str, ...] = ()  # customer managed policy names (detail reads only)
    budgets: tuple[LiveBudget, ...] = ()  # detail reads only
    roles: tuple[LiveIamRole, ...] = ()  # the roles asked for that exist
    documents: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # policy ARN asked for -> its default version

    @property
    def password_settings(self) -> dict[str, int | bool] | None:
        """The account's password policy in org.yaml's terms (its password_policy fields);
        None when it has none."""
        if self.password_policy is None:
            return None
        return {name: type(default)(self.password_policy.get(key, default))
                for name, (key, default) in PASSWORD_POLICY_KEYS.items()}

    def user(self, name: str) -> LiveIamUser | None:
        return next((u for u in self.users if u.name == name), None)

    def group(self, name: str) -> LiveIamGroup | None:
        return next((g for g in self.groups if g.name == name), None)

    def role(self, name: str) -> LiveIamRole | None:
        return next((r for r in self.roles if r.name == name), None)


@dataclass(frozen=True)
class LivePerson:
    """An Identity Center user."""

    id: str
    user_name: str
    display_name: str
    email: str | None
    given_name: str
    family_name: str


@dataclass(frozen=True)
class LiveIdentityCenter:
    """identity_center: what IAM Identity Center already holds (an organization that used it
    before awsenvs, or an interrupted apply)."""

    instance_arn: str
    store_id: str
    users: Mapping[str, str]  # UserName -> UserId
    groups: Mapping[str, str]  # DisplayName -> GroupId
    memberships: Mapping[tuple[str, str], str]  # (GroupId, UserId) -> MembershipId (of the groups read)
    permission_sets: Mapping[str, str]  # Name -> ARN
    policies: Mapping[str, frozenset[str]]  # permission set ARN -> attached managed policy ARNs
    assignments: frozenset[tuple[str, str, str, str]]  # (account id, permission set ARN, principal type, principal id)
    people: Mapping[str, LivePerson] = field(default_factory=dict)  # UserName -> the person (detail reads)
    sessions: Mapping[str, str] = field(default_factory=dict)  # permission set ARN -> SessionDuration (PT4H)
    descriptions: Mapping[str, str] = field(default_factory=dict)  # permission set ARN -> Description (when it has one)
    # permission set ARN -> what awsenvs does not manage on it (inline policy, customer managed
    # policy references, permissions boundary), by kind
    unmanaged: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def access(self, account_id: str) -> set[tuple[str, str]]:
        """The account's assignments as (principal, permission set name): a user by its user
        name, a group as `group:<name>` (awsenvs assigns only users, so a group is extra)."""
        names = {arn: name for name, arn in self.permission_sets.items()}
        users = {user_id: name for name, user_id in self.users.items()}
        groups = {group_id: f"group:{name}" for name, group_id in self.groups.items()}
        return {((users if kind == "USER" else groups).get(principal, principal), names[arn])
                for account, arn, kind, principal in self.assignments if account == account_id}


@dataclass(frozen=True)
class LivePublicBuckets:
    """An account's S3 buckets that anyone may read, each with why (its bucket policy, its ACL)."""

    buckets: tuple[tuple[str, str], ...]
    unread: str | None = None  # what could not be read (and was taken as not blocking)


# An account's alternate contacts by kind (security, operations, billing): (name, title, email,
# phone), or None when it has none of that kind.
LiveContacts = Mapping[str, "tuple[str, str, str, str] | None"]


@dataclass(frozen=True)
class LiveMember:
    """A member account as `import` read it: its IAM through the role, or why it could not."""

    account: LiveAccount
    ou_path: tuple[str, ...]  # the OU names from the root down; () directly in the root
    iam: LiveIam | None
    skipped: str | None = None  # why its IAM could not be read (the role cannot be assumed, ...)
    contacts: LiveContacts | None = None  # None: not read (Account Management's trusted access is off)
    contacts_error: str | None = None  # why they could not be read
    public: LivePublicBuckets | None = None  # None: not read (its role could not be assumed)
    public_error: str | None = None  # why it could not be read


@dataclass(frozen=True)
class LiveSnapshot:
    """Everything `import` reads of an organization."""

    organization: LiveOrganization
    structure: LiveStructure
    members: tuple[LiveMember, ...]
    identity_center: LiveIdentityCenter | None
    region: str
    role_name: str  # the role the members were read through (and the account stacks will use)
