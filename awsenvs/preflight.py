"""Live look-ups before planning: what the organization and the accounts already have.

Read-only boto3 look-ups that come back as small frozen facts, and pure functions that
turn those facts into refusals or Terraform `import` blocks.  Nothing here runs
Terraform.  The writes are those of retiring an environment, after the operator confirmed
it: its IAM users' console passwords deleted and access keys deactivated (lock_out), and
its account parked in the `Suspended` OU with that OU's deny-all policy (park).

Why each step exists (the emulator accepts what real AWS refuses):
- Trusted services and policy types: `aws_organizations_organization` disables whatever
  its lists omit (both are Optional, not Computed, in the provider:
  https://github.com/hashicorp/terraform-provider-aws/blob/v5.100.0/internal/service/organizations/organization.go),
  and disabling a policy type detaches every policy of that type
  (https://docs.aws.amazon.com/organizations/latest/userguide/disable-policy-type.html).
  So a plan that would disable anything org.yaml does not name under `disable_*` is
  refused before Terraform runs.
  Disabling trusted access also stops that service's work across the organization
  (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services.html).
- Reconcile: an interrupted apply leaves accounts and OUs that exist but are not in
  state; creating them again fails on AWS (each root email is unique: CreateAccount fails
  with EMAIL_ALREADY_EXISTS,
  https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccountStatus.html;
  DuplicateOrganizationalUnitException) and IAM answers EntityAlreadyExists.  Whatever
  already exists under a configured name is imported instead; an import block for an
  object already in state is a no-op (https://developer.hashicorp.com/terraform/language/import).
- Adoption, and accounts created before: the provider's `email` forces a new account
  (internal/service/organizations/account.go, ForceNew), which `prevent_destroy` turns into
  Terraform's error for the whole management plan, so a root email that differs from the
  live one is refused, with the live value, before Terraform runs.  The management account
  can change a member's root email since June 2024, but only through Account Management's
  StartPrimaryEmailUpdate and a code sent to the new address
  (https://docs.aws.amazon.com/accounts/latest/reference/API_StartPrimaryEmailUpdate.html),
  which no apply can answer: done first on AWS, org.yaml then follows.  A created account's
  name is renamed in place (account:PutAccountName); an adopted one's must match, so that
  org.yaml says what people see.  A created account closed outside awsenvs reads as gone
  to the provider, which would create it again: refused as well.
- Readiness: a new account's OrganizationAccountAccessRole is often not assumable for a
  while after CreateAccount reports SUCCEEDED (IAM is eventually consistent; reported in
  https://github.com/hashicorp/terraform-provider-aws/issues/6566 and
  https://github.com/org-formation/org-formation-cli/issues/192; AWS documents no bound).
- Retiring: awsenvs never closes an account (CloseAccount is quota-limited and final after
  90 days: https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html)
  nor removes it from the organization (a standalone account needs billing details of its
  own); it parks it in a `Suspended` OU, as AWS suggests for accounts on their way out.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence, TypeVar

import boto3
import botocore.exceptions

from awsenvs import aws
from awsenvs.config import (
    ACCOUNT_RESOURCE,
    ALIAS_ADDRESS,
    BUDGET_ADDRESS,
    MANAGEMENT_STACK,
    MFA_POLICY_ADDRESS,
    PASSWORD_POLICY_ADDRESS,
    OIDC_PROVIDER_ADDRESS,
    RUN_ROLE_POLICY_NAME,
    STATE_BUCKET_ADDRESS,
    STATE_BUCKET_POLICY_ADDRESS,
    STATE_BUCKET_PUBLIC_ACCESS_ADDRESS,
    MFA_GROUP_NAME,
    MFA_POLICY_NAME,
    ORGANIZATION_ADDRESS,
    ROOT_ACCESS_ADDRESS,
    SERVICE_CONTROL_POLICY,
    SUSPENDED_OU,
    SUSPENDED_POLICY_NAME,
    DEFAULT_ROLE_NAME,
    Environment,
    Org,
    RunRole,
    tf_name,
)
from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError

T = TypeVar("T")


class PreflightError(AwsenvsError):
    """The live organization does not allow this plan; nothing was run."""


class AdoptionError(PreflightError):
    """org.yaml disagrees with an account it adopts: a fix in org.yaml is needed."""

    exit_code = EXIT_BAD_INPUT


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class LiveAccount:
    id: str
    name: str
    email: str
    status: str
    joined: str = ""  # JoinedMethod: CREATED (by Organizations, with its role) or INVITED


@dataclass(frozen=True)
class LiveOrganization:
    id: str
    root_id: str
    trusted_services: frozenset[str]
    policy_types: frozenset[str]  # enabled (or being enabled) in the root
    accounts: tuple[LiveAccount, ...]
    ous: Mapping[str, str]  # OU name directly under the root -> OU id
    policies: Mapping[str, str] = field(default_factory=dict)  # service control policy name -> policy id

    def account_by_email(self, email: str) -> LiveAccount | None:
        return next((a for a in self.accounts if a.email.lower() == email.lower()), None)

    def account_by_id(self, account_id: str) -> LiveAccount | None:
        return next((a for a in self.accounts if a.id == account_id), None)


@dataclass(frozen=True)
class Import:
    """An existing object to bring into a stack's state, and why (shown with the plan)."""

    address: str
    id: str
    reason: str
    risky: bool = False  # the plan then changes something people rely on (an alias)


@dataclass(frozen=True)
class LiveIdentityCenter:
    """identity_center: what IAM Identity Center already holds (an organization that used it
    before awsenvs, or an interrupted apply)."""

    instance_arn: str
    store_id: str
    users: Mapping[str, str]  # UserName -> UserId
    groups: Mapping[str, str]  # DisplayName -> GroupId
    memberships: Mapping[tuple[str, str], str]  # (GroupId, UserId) -> MembershipId
    permission_sets: Mapping[str, str]  # Name -> ARN
    policies: Mapping[str, frozenset[str]]  # permission set ARN -> attached managed policy ARNs
    assignments: frozenset[tuple[str, str, str, str]]  # (account id, permission set ARN, principal type, principal id)

    def access(self, account_id: str) -> set[tuple[str, str]]:
        """The account's assignments as (principal, permission set name): a user by its user
        name, a group as `group:<name>` (awsenvs assigns only users, so a group is extra)."""
        names = {arn: name for name, arn in self.permission_sets.items()}
        users = {user_id: name for name, user_id in self.users.items()}
        groups = {group_id: f"group:{name}" for name, group_id in self.groups.items()}
        return {((users if kind == "USER" else groups).get(principal, principal), names[arn])
                for account, arn, kind, principal in self.assignments if account == account_id}


@dataclass(frozen=True)
class Retirement:
    """An environment removed from org.yaml whose account awsenvs still manages."""

    stack: str
    account_id: str
    account_name: str
    email: str

    @property
    def address(self) -> str:
        # The account's address in the management stack (Environment.tf_name of the
        # environment it was: tf_name(product, env) == tf_name(stack)).
        return f"{ACCOUNT_RESOURCE}.{tf_name(self.stack)}"


# --------------------------------------------------------------------------- look-ups


def read_organization(client=None) -> LiveOrganization | None:
    """The organization of the credentials' account, or None when there is none yet."""
    client = client or boto3.client("organizations")
    try:
        organization = client.describe_organization()["Organization"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "AWSOrganizationsNotInUseException":
            return None
        raise aws.AwsError(f"organizations describe-organization: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise aws.AwsError(f"organizations describe-organization: {exc}") from None
    root = aws.call("organizations list-roots", client.list_roots)["Roots"][0]
    services = [s["ServicePrincipal"] for s in aws.pages(client, "list_aws_service_access_for_organization",
                                                           "EnabledServicePrincipals")]
    ous = {ou["Name"]: ou["Id"] for ou in aws.pages(client, "list_organizational_units_for_parent",
                                                    "OrganizationalUnits", ParentId=root["Id"])}
    policies = {p["Name"]: p["Id"] for p in aws.pages(client, "list_policies", "Policies", Filter=SERVICE_CONTROL_POLICY)}
    accounts = [
        LiveAccount(account["Id"], account["Name"], account["Email"], account.get("Status", ""), account.get("JoinedMethod", ""))
        for account in aws.pages(client, "list_accounts", "Accounts")
        if account["Id"] != organization.get("MasterAccountId")
    ]
    return LiveOrganization(
        id=organization["Id"],
        root_id=root["Id"],
        trusted_services=frozenset(services),
        policy_types=frozenset(t["Type"] for t in root.get("PolicyTypes", []) if t["Status"] != "PENDING_DISABLE"),
        accounts=tuple(accounts),
        ous=ous,
        policies=policies,
    )


def wait_for_account_creation(org: Org, client=None, on_wait: Callable[[str], None] = lambda _: None,
                              timeout: float = 600, sleep=time.sleep, clock=time.monotonic) -> bool:
    """A CreateAccount still IN_PROGRESS for a configured account is waited for, not repeated.

    Returns whether it waited (the organization then has new accounts)."""
    client = client or boto3.client("organizations")
    names = {env.account_name for env in org.environments if not env.adopted}
    statuses = aws.call("organizations list-create-account-status", client.list_create_account_status,
                        States=["IN_PROGRESS"])["CreateAccountStatuses"]
    pending = [status for status in statuses if status.get("AccountName") in names]
    for status in pending:

        def done(request_id: str = status["Id"], name: str = status["AccountName"]) -> str:
            state = aws.call("organizations describe-create-account-status", client.describe_create_account_status,
                             CreateAccountRequestId=request_id)["CreateAccountStatus"]["State"]
            if state == "IN_PROGRESS":
                raise NotYet(f"account {name} is still being created (an earlier run asked for it)")
            return state

        retry(done, timeout=timeout, sleep=sleep, clock=clock, on_retry=on_wait)
    return bool(pending)


def account_stack_imports(env: Environment, account_id: str, iam_users: bool = True, sts=None,
                          held: frozenset[str] = frozenset()) -> list[Import]:
    """IAM objects that already exist in the account under the names the stack manages
    (with Identity Center access only the alias and password policy: the stack has no
    IAM users, and an import block for an address it lacks is an error).  `sts`: a client
    made on the calling thread (aws.sts_client), when this runs in a worker thread.
    `held`: addresses already in the stack's state, not looked up (importing one is a
    no-op): a user added to a product costs its own few calls, not the whole account's,
    and a stack whose state holds every one of them makes none, not even the session."""
    session = _OnFirstUse(lambda: aws.member_session(account_id, env.role_name, env.cli_profile, sts=sts))
    iam = _OnFirstUse(lambda: session.client("iam"))
    imports: list[Import] = []
    if iam_users:
        imports += _iam_user_imports(env, account_id, iam, held)
    if ALIAS_ADDRESS not in held:
        aliases = aws.call(f"iam list-account-aliases in {account_id}", iam.list_account_aliases)["AccountAliases"]
        if aliases:
            imports.append(alias_import(env, aliases[0]))
    if PASSWORD_POLICY_ADDRESS not in held and _exists(account_id, "iam get-account-password-policy",
                                                       iam.get_account_password_policy):
        imports.append(Import(PASSWORD_POLICY_ADDRESS, "iam-account-password-policy",
                              "existing password policy (set to the configured one)"))
    # Budget names are unique per account: creating it again fails with DuplicateRecordException
    # (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_CreateBudget.html).
    if env.budget is not None and BUDGET_ADDRESS not in held and _exists(
            account_id, "budgets describe-budget", session.client("budgets").describe_budget,
            missing="NotFoundException", AccountId=account_id, BudgetName=env.budget_name):
        imports.append(Import(BUDGET_ADDRESS, f"{account_id}:{env.budget_name}",
                              f"existing budget {env.budget_name} (set to the configured one)"))
    return imports


class _OnFirstUse:
    """A session or client made when one of its attributes is first read: each look-up
    below reads one only for an address its state lacks."""

    def __init__(self, make: Callable[[], object]) -> None:
        self._make, self._made = make, None

    def __getattr__(self, name: str):
        if self._made is None:
            self._made = self._make()
        return getattr(self._made, name)


def _exists(account_id: str, what: str, fn, missing: str = "NoSuchEntity", **kwargs) -> bool:
    """Whether `fn(**kwargs)` finds the object; the error code `missing` means it does not exist."""
    try:
        fn(**kwargs)
        return True
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == missing:
            return False
        raise aws.AwsError(f"{what} in {account_id}: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise aws.AwsError(f"{what} in {account_id}: {exc}") from None


def _iam_user_imports(env: Environment, account_id: str, iam, held: frozenset[str]) -> list[Import]:
    imports: list[Import] = []

    def exists(what: str, fn, **kwargs) -> bool:
        return _exists(account_id, f"iam {what}", fn, **kwargs)

    for user in env.users:
        user_address, login_address = f"aws_iam_user.{user.tf_name}", f"aws_iam_user_login_profile.{user.tf_name}"
        if user_address in held:
            user_exists = True  # in state: it exists (or the plan recreates it), never imported again
        elif user_exists := exists("get-user", iam.get_user, UserName=user.name):
            imports.append(Import(user_address, user.name, f"existing IAM user {user.name}"))
        if (user_exists and user.console and login_address not in held
                and exists("get-login-profile", iam.get_login_profile, UserName=user.name)):
            imports.append(Import(login_address, user.name, f"existing console password of {user.name} (kept as it is)"))
    groups = [g.name for g in env.groups] + ([MFA_GROUP_NAME] if env.mfa_required else [])
    for group in groups:
        address = f"aws_iam_group.{tf_name(group)}"
        if address not in held and exists("get-group", iam.get_group, GroupName=group):
            imports.append(Import(address, group, f"existing IAM group {group}"))
    if env.mfa_required:
        for group in env.groups:
            address = f"aws_iam_role.{tf_name(group.admin_role_name)}"
            if address not in held and exists("get-role", iam.get_role, RoleName=group.admin_role_name):
                imports.append(Import(address, group.admin_role_name, f"existing IAM role {group.admin_role_name}"))
        policy_arn = f"arn:aws:iam::{account_id}:policy/{MFA_POLICY_NAME}"
        if MFA_POLICY_ADDRESS not in held and exists("get-policy", iam.get_policy, PolicyArn=policy_arn):
            imports.append(Import(MFA_POLICY_ADDRESS, policy_arn, f"existing IAM policy {MFA_POLICY_NAME}"))
    return imports


def alias_import(env: Environment, live_alias: str) -> Import:
    if live_alias == env.alias:
        return Import(ALIAS_ADDRESS, live_alias, f"existing account alias {live_alias}")
    return Import(
        ALIAS_ADDRESS, live_alias,
        f"alias change {live_alias} -> {env.alias}: the old sign-in URL "
        f"https://{live_alias}.signin.aws.amazon.com/console stops working",
        risky=True,
    )


# --------------------------------------------------------------------------- decisions (pure)


def check_organization(org: Org, live: LiveOrganization | None) -> None:
    """Refuse a plan that would disable a live trusted service or policy type org.yaml does not name."""
    if live is None:
        if org.organization_id:
            raise AdoptionError(
                f"organization.organization_id is {org.organization_id}, but these credentials' account has no "
                "organization: use the management account's credentials"
            )
        return
    if org.organization_id and org.organization_id != live.id:
        raise AdoptionError(
            f"organization.organization_id is {org.organization_id}, but these credentials' organization is "
            f"{live.id}: fix organization_id (or the credentials)"
        )
    problems = [
        f"trusted service {s} (add it to organization.trusted_services to keep it, or to "
        "organization.disable_trusted_services to disable it)"
        for s in sorted(live.trusted_services - set(org.trusted_services) - set(org.disable_trusted_services))
    ] + [
        f"policy type {t} (add it to organization.policy_types to keep it, or to organization.disable_policy_types "
        "to disable it, which detaches every policy of that type)"
        for t in sorted(live.policy_types - set(org.policy_types) - set(org.disable_policy_types))
    ]
    if problems:
        raise PreflightError(
            f"the organization {live.id} has enabled what {org.source.name} does not list, and applying would "
            f"disable it: {'; '.join(problems)}"
        )


def _protected(org: Org, env: Environment) -> bool:
    guardrails = next(p for p in org.products if p.name == env.product).guardrails
    return guardrails is not None and guardrails.protect_baseline


def check_adoptions(org: Org, live: LiveOrganization | None) -> None:
    """Adopted accounts must be members, with the root email and name org.yaml says; every
    mismatch of every adopted account is named at once, one line each."""
    problems = []
    for env in org.environments:
        if not env.adopted:
            continue
        where = f"products.{env.product}.environments.{env.name}"
        account = live.account_by_id(env.account_id) if live else None
        if account is None:
            problems.append(
                f"{where}.account_id: {env.account_id} is not a member of the organization: invite it first, "
                f"and create the role {env.role_name} in it (or set profile:"
                + (", with guardrails.protect_baseline: false for its product)" if _protected(org, env) else ")")
            )
            continue
        if account.email.lower() != env.email.lower():
            problems.append(
                f"{where}.email: the account's root email is {account.email!r}, not {env.email!r}: "
                f"set email: {account.email} (a different email would make Terraform replace the account; to change "
                "it, use Account Management's StartPrimaryEmailUpdate first)"
            )
        if account.name != env.account_name:
            problems.append(
                f"{where}.account_name: the account is named {account.name!r}, not {env.account_name!r}: "
                f"set account_name: {account.name!r}"
            )
    if problems:
        raise AdoptionError("\n".join(f"{org.source.name}: {line}" for line in problems))


CLOSED = ("SUSPENDED", "PENDING_CLOSURE")  # an account's Status once it is closed (90 days to reopen it)


def check_created_accounts(org: Org, live: LiveOrganization | None, managed_ids: Mapping[str, str]) -> None:
    """Accounts the management stack created, compared with the live ones by id (as adoption
    is): a root email org.yaml changed, or an account closed outside awsenvs, would make the
    provider replace or re-create the account (its `email` forces a new account, which
    prevent_destroy turns into Terraform's error for the whole management plan; a closed
    account reads as gone and is planned anew: internal/service/organizations/account.go).
    Each is refused in one line saying what to do; a changed name is renamed in place
    (account:PutAccountName) and needs nothing here."""
    if live is None:
        return
    problems = []
    for env in org.environments:
        account_id = managed_ids.get(env.stack)
        if env.adopted or account_id is None:
            continue
        where = f"products.{env.product}.environments.{env.name}"
        account = live.account_by_id(account_id)
        if account is None or account.status in CLOSED:
            status = f"status {account.status}" if account else "no longer in the organization"
            problems.append(f"{where}: its account {account_id} was closed or removed outside awsenvs ({status}), and "
                            "would be created again: remove the environment from org.yaml (awsenvs then retires it), "
                            "or reopen the account first (within 90 days of closing it: AWS Support)")
        elif account.email.lower() != env.email.lower():
            problems.append(f"{where}.email: account {account_id}'s root email is {account.email!r}, not {env.email!r}, "
                            "and Terraform would replace the account to change it: set email back to "
                            f"{account.email}, or change it on AWS first (Account Management StartPrimaryEmailUpdate, then "
                            "AcceptPrimaryEmailUpdate with the code sent to the new address) and then here")
    if problems:
        raise AdoptionError("\n".join(f"{org.source.name}: {line}" for line in problems))


def check_adopted_roles(org: Org, live: LiveOrganization | None,
                        assume: Callable[[str, str], object] = aws.assume_role_session) -> None:
    """An account adopted into a product with protect_baseline must already have its managing
    role: once the management stack moves it into the guarded OU, the guardrail lets nobody but
    that role create it, so a missing role could not be added afterwards.  Checked for the
    accounts org.yaml adopts by id and for invited ones found by their root email (accounts
    Organizations created come with the role)."""
    for product in org.products:
        if product.guardrails is None or not product.guardrails.protect_baseline:
            continue
        for env in product.environments:
            found = live.account_by_email(env.email) if live and not env.adopted else None
            account_id = env.account_id or (found.id if found and found.joined == "INVITED" else None)
            if account_id is None or env.cli_profile:
                continue
            try:
                assume(account_id, env.role_name)
            except aws.AwsError as exc:
                if "AccessDenied" not in str(exc):
                    raise  # throttling, expired credentials, network: not a missing role
                raise PreflightError(
                    f"products.{env.product}.environments.{env.name}.role_name: cannot assume {env.role_name} in "
                    f"{account_id} (AccessDenied): create it there before adopting the account, because once "
                    f"in OU {product.ou_name} the protect_baseline guardrail lets only that role create it"
                ) from None


def management_imports(org: Org, live: LiveOrganization | None) -> list[Import]:
    """Existing organization, OUs and accounts that the management stack should hold."""
    if live is None:
        return []
    imports = []
    if not org.organization_id:
        imports.append(Import(ORGANIZATION_ADDRESS, live.id,
                              f"existing organization {live.id}"))
    for product in org.products:
        if product.ou_name in live.ous:
            imports.append(Import(f"aws_organizations_organizational_unit.{product.tf_name}", live.ous[product.ou_name],
                                  f"existing OU {product.ou_name}"))
        for env in product.environments:
            if env.adopted:
                continue  # synthesized with its own import block
            account = live.account_by_email(env.email)
            # A closed (SUSPENDED / PENDING_CLOSURE) account keeps its email for 90 days but
            # cannot be managed: it is left alone, and creating the account again fails
            # loudly with EMAIL_ALREADY_EXISTS rather than adopting a closed one.
            if account is not None and account.status in ("ACTIVE", ""):
                imports.append(Import(
                    env.account_address, account.id,
                    f"found existing account {account.id} for {env.account_name} (root email {account.email}), "
                    "e.g. left by an interrupted apply",
                ))
    return imports


def read_guardrail_targets(org: Org, live: LiveOrganization | None, client=None) -> dict[str, frozenset[str]]:
    """Policy id -> target ids, for the guardrail policies org.yaml names that already exist."""
    if live is None:
        return {}
    client = client or boto3.client("organizations")
    ids = [live.policies[p.guardrails_policy_name] for p in org.products
           if p.guardrails is not None and p.guardrails_policy_name in live.policies]
    return {policy_id: frozenset(t["TargetId"] for t in aws.pages(client, "list_targets_for_policy", "Targets", PolicyId=policy_id))
            for policy_id in ids}


def guardrail_imports(org: Org, live: LiveOrganization | None, targets: Mapping[str, frozenset[str]]) -> list[Import]:
    """Guardrail policies (and their attachment to the product OU) that exist under the names
    the management stack manages, e.g. left by an interrupted apply: Organizations refuses a
    second policy of the same name (DuplicatePolicyException,
    https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreatePolicy.html).  Import ids: the policy id, and
    `<target id>:<policy id>` for an attachment
    (https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/organizations_policy_attachment#import)."""
    if live is None:
        return []
    imports = []
    for product in org.products:
        name = product.guardrails_policy_name
        policy_id = live.policies.get(name)
        if product.guardrails is None or policy_id is None:
            continue
        policy, attachment = product.guardrails_addresses
        imports.append(Import(policy, policy_id, f"existing service control policy {name} (set to the configured text)"))
        ou_id = live.ous.get(product.ou_name)
        if ou_id is not None and ou_id in targets.get(policy_id, ()):
            imports.append(Import(attachment, f"{ou_id}:{policy_id}", f"{name} already attached to OU {product.ou_name}"))
    return imports


def read_root_access_features(client=None) -> tuple[str, ...]:
    """The centralized root access features already on (ListOrganizationsFeatures); none while
    IAM's trusted access is not enabled yet (the first apply enables it)."""
    client = client or boto3.client("iam")
    try:
        return tuple(client.list_organizations_features().get("EnabledFeatures", []))
    except botocore.exceptions.ClientError as exc:
        # Not yet possible (IAM's trusted access or all features not enabled yet): nothing is on.
        if exc.response.get("Error", {}).get("Code") in ("ServiceAccessNotEnabledException",
                                                         "OrganizationNotInAllFeaturesModeException"):
            return ()
        raise aws.AwsError(f"iam list-organizations-features: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise aws.AwsError(f"iam list-organizations-features: {exc}") from None


def root_access_imports(org: Org, live: LiveOrganization | None, enabled: tuple[str, ...]) -> list[Import]:
    """Centralized root access turned on before awsenvs (in the console) is imported and set to
    the configured features, rather than enabled a second time (import id: the organization's
    id, https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/iam_organizations_features#import)."""
    if not org.centralized_root or live is None or not enabled:
        return []
    return [Import(ROOT_ACCESS_ADDRESS, live.id, f"centralized root access already on ({', '.join(sorted(enabled))})")]


def read_identity_center(org: Org, account_ids: list[str]) -> LiveIdentityCenter | None:
    """The live identity store and permission sets, in the organization's region (where the
    management stack's provider finds the instance); None when Identity Center is not enabled
    (the management stack's own check then says what to do)."""
    admin = boto3.client("sso-admin", region_name=org.region)
    store = boto3.client("identitystore", region_name=org.region)
    instances = aws.call("sso-admin list-instances", admin.list_instances)["Instances"]
    if not instances:
        return None
    instance, store_id = instances[0]["InstanceArn"], instances[0]["IdentityStoreId"]

    pages = aws.pages
    users = {u["UserName"]: u["UserId"] for u in pages(store, "list_users", "Users", IdentityStoreId=store_id)}
    groups = {g["DisplayName"]: g["GroupId"] for g in pages(store, "list_groups", "Groups", IdentityStoreId=store_id)}
    configured = {g.name for g in org.groups}
    memberships = {
        (group_id, m["MemberId"]["UserId"]): m["MembershipId"]
        for name, group_id in groups.items() if name in configured
        for m in pages(store, "list_group_memberships", "GroupMemberships", IdentityStoreId=store_id, GroupId=group_id)
    }
    permission_sets = {}
    for arn in pages(admin, "list_permission_sets", "PermissionSets", InstanceArn=instance):
        name = aws.call("sso-admin describe-permission-set", admin.describe_permission_set,
                        InstanceArn=instance, PermissionSetArn=arn)["PermissionSet"]["Name"]
        permission_sets[name] = arn  # all of them: the audit reports assignments of others too
    policies = {
        arn: frozenset(p["Arn"] for p in pages(admin, "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
                                               InstanceArn=instance, PermissionSetArn=arn))
        for arn in permission_sets.values()
    }
    assignments = frozenset(
        (account_id, arn, a["PrincipalType"], a["PrincipalId"])
        for account_id in account_ids for arn in permission_sets.values()
        for a in pages(admin, "list_account_assignments", "AccountAssignments",
                       InstanceArn=instance, AccountId=account_id, PermissionSetArn=arn)
    )
    return LiveIdentityCenter(instance, store_id, users, groups, memberships, permission_sets, policies, assignments)


def identity_center_imports(org: Org, live: LiveIdentityCenter | None, account_ids: Mapping[str, str]) -> list[Import]:
    """Identity Center objects that exist under the names the management stack manages.

    Import ids as the provider reads them back (its resources' ids): `<store>/<user id>`,
    `<store>/<group id>`, `<store>/<membership id>`, `<permission set>,<instance>`,
    `<policy>,<permission set>,<instance>` and
    `<principal>,USER,<account>,AWS_ACCOUNT,<permission set>,<instance>`
    (https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/ssoadmin_account_assignment#import).
    """
    if live is None:
        return []
    imports: list[Import] = []
    for person in org.people:
        if person.name in live.users:
            imports.append(Import(f"aws_identitystore_user.{person.tf_name}", f"{live.store_id}/{live.users[person.name]}",
                                  f"existing Identity Center user {person.name}"))
    for group in org.groups:
        if group.name in live.groups:
            imports.append(Import(f"aws_identitystore_group.{group.tf_name}", f"{live.store_id}/{live.groups[group.name]}",
                                  f"existing Identity Center group {group.name}"))
        arn = live.permission_sets.get(group.permission_set_name)
        if arn is None:
            continue
        imports.append(Import(f"aws_ssoadmin_permission_set.{group.tf_name}", f"{arn},{live.instance_arn}",
                              f"existing permission set {group.permission_set_name}"))
        for policy in group.policies:
            if policy in live.policies.get(arn, ()):
                imports.append(Import(f"aws_ssoadmin_managed_policy_attachment.{tf_name(group.name, policy.rsplit('/', 1)[-1])}",
                                      f"{policy},{arn},{live.instance_arn}", f"{policy} already on {group.permission_set_name}"))
    for person in org.people:
        for group in person.groups:
            key = (live.groups.get(group), live.users.get(person.name))
            if key in live.memberships:
                imports.append(Import(f"aws_identitystore_group_membership.{tf_name(group, person.name)}",
                                      f"{live.store_id}/{live.memberships[key]}", f"{person.name} already in {group}"))
    for a in org.assignments:
        account_id, user_id = account_ids.get(a.environment.stack), live.users.get(a.user.name)
        arn = live.permission_sets.get(a.group.permission_set_name)
        if account_id and user_id and arn and (account_id, arn, "USER", user_id) in live.assignments:
            imports.append(Import(a.address, f"{user_id},USER,{account_id},AWS_ACCOUNT,{arn},{live.instance_arn}",
                                  f"{a.user.name} already has {a.group.permission_set_name} in {a.environment.stack}"))
    return imports


def retirements(org: Org, managed_ids: Mapping[str, str], live: LiveOrganization | None) -> list[Retirement]:
    """Accounts the management stack manages (its last `account_ids` output) whose environment is gone."""
    gone = []
    for stack, account_id in sorted(managed_ids.items()):
        if stack in org.stacks:
            continue
        account = live.account_by_id(account_id) if live else None
        gone.append(Retirement(stack, account_id, account.name if account else stack, account.email if account else ""))
    return gone


# --------------------------------------------------------------------------- waiting and retiring


class NotYet(Exception):
    """Raised by an attempt that should be tried again later."""


def retry(attempt: Callable[[], T], *, timeout: float, sleep=time.sleep, clock=time.monotonic,
          on_retry: Callable[[str], None] = lambda _: None, first_delay: float = 2, max_delay: float = 20) -> T:
    """Call `attempt` until it stops raising NotYet; back off exponentially; give up after `timeout`."""
    deadline = clock() + timeout
    delay = first_delay
    while True:
        try:
            return attempt()
        except NotYet as exc:
            if clock() + delay > deadline:
                raise PreflightError(f"gave up after {timeout:.0f}s: {exc}") from None
            on_retry(str(exc))
            sleep(delay)
            delay = min(delay * 2, max_delay)


def wait_for_role(env: Environment, account_id: str, on_wait: Callable[[str], None] = lambda _: None,
                  timeout: float = 300, sleep=time.sleep, clock=time.monotonic) -> None:
    """Until the account's role can be assumed (new accounts take a while to accept it)."""
    if env.cli_profile:
        return

    def assume() -> None:
        try:
            aws.assume_role_session(account_id, env.role_name, "awsenvs-readiness")
        except aws.AwsError as exc:
            if "AccessDenied" in str(exc) or "InvalidClientTokenId" in str(exc):
                raise NotYet(f"waiting for {env.account_name} ({account_id}) to accept the role {env.role_name}") from None
            raise

    retry(assume, timeout=timeout, sleep=sleep, clock=clock, on_retry=on_wait)


def lock_out(retirement: Retirement, users: Sequence[str], role_name: str = DEFAULT_ROLE_NAME) -> int:
    """Before a retired environment's objects leave state: its IAM users lose their console
    password (the login profile is deleted) and their access keys are deactivated (kept, so
    nothing is lost), through the role awsenvs manages the account with.  Returns how many
    users were reached.  Idempotent: a user already without them is left as it is."""
    iam = aws.member_session(retirement.account_id, role_name, None).client("iam")
    for user in users:
        try:
            iam.delete_login_profile(UserName=user)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                raise aws.AwsError(f"iam delete-login-profile {user} in {retirement.account_id}: {exc}") from None
        for key in aws.pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=user):
            if key["Status"] == "Active":
                aws.call(f"iam update-access-key {user} in {retirement.account_id}", iam.update_access_key,
                         UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    return len(users)


def park(retirement: Retirement, live: LiveOrganization, managing_roles: tuple[str, ...], client=None) -> str | None:
    """Move the account into the Suspended OU (created when first needed), which carries a
    deny-all SCP exempting only the roles awsenvs manages accounts through (created or
    attached when missing, also on an OU made before awsenvs); returns the OU id, or None
    when the account has already left the organization or is closed (nothing to move)."""
    client = client or boto3.client("organizations")
    account = live.account_by_id(retirement.account_id)
    if account is None or account.status in CLOSED:
        return None  # left the organization, or closed: nothing to move (its objects still leave state)
    suspended = live.ous.get(SUSPENDED_OU)
    if suspended is None:
        suspended = aws.call(f"create OU {SUSPENDED_OU}", client.create_organizational_unit,
                             ParentId=live.root_id, Name=SUSPENDED_OU)["OrganizationalUnit"]["Id"]
    _guard_suspended_ou(live, suspended, managing_roles, client)
    parent = aws.call("organizations list-parents", client.list_parents, ChildId=retirement.account_id)["Parents"][0]["Id"]
    if parent != suspended:
        aws.call(f"move account {retirement.account_id} to {SUSPENDED_OU}", client.move_account,
                 AccountId=retirement.account_id, SourceParentId=parent, DestinationParentId=suspended)
    return suspended


def _guard_suspended_ou(live: LiveOrganization, suspended: str, managing_roles: tuple[str, ...], client) -> None:
    """The Suspended OU's deny-all SCP, created and attached unless it is already."""
    from awsenvs.modules.guardrail_policies import policy_text, suspended_policy

    if SERVICE_CONTROL_POLICY not in live.policy_types:
        raise PreflightError(f"the {SUSPENDED_OU} OU needs a service control policy, and the organization has "
                             f"{SERVICE_CONTROL_POLICY} off: add it to organization.policy_types, then apply again")
    text = policy_text(suspended_policy(managing_roles))
    policy_id = live.policies.get(SUSPENDED_POLICY_NAME)
    if policy_id is None:
        policy_id = aws.call(f"create policy {SUSPENDED_POLICY_NAME}", client.create_policy, Name=SUSPENDED_POLICY_NAME,
                             Type=SERVICE_CONTROL_POLICY, Content=text,
                             Description="awsenvs: nothing in a parked account but the managing roles")["Policy"][
            "PolicySummary"]["Id"]
    else:  # the managing roles may have changed since
        aws.call(f"update policy {SUSPENDED_POLICY_NAME}", client.update_policy, PolicyId=policy_id, Content=text)
    targets = {t["TargetId"] for t in aws.pages(client, "list_targets_for_policy", "Targets", PolicyId=policy_id)}
    if suspended not in targets:
        aws.call(f"attach {SUSPENDED_POLICY_NAME} to {SUSPENDED_OU}", client.attach_policy, PolicyId=policy_id,
                 TargetId=suspended)


def read_parked_accounts(live: LiveOrganization | None, client=None) -> tuple[LiveAccount, ...]:
    """The active accounts in the Suspended OU (retired ones, and any put there by hand)."""
    suspended = live.ous.get(SUSPENDED_OU) if live else None
    if suspended is None:
        return ()
    client = client or boto3.client("organizations")
    ids = {a["Id"] for a in aws.pages(client, "list_accounts_for_parent", "Accounts", ParentId=suspended)}
    return tuple(a for a in live.accounts if a.id in ids and a.status not in CLOSED)


# --------------------------------------------------------------------------- bootstrap


def bootstrap_imports(org: Org, roles: Sequence[RunRole], session: boto3.Session | None = None) -> list[Import]:
    """What of the bootstrap stack already exists in the management account (made by hand,
    or by a bootstrap whose local state was lost): imported rather than created twice,
    which AWS refuses (BucketAlreadyOwnedByYou, EntityAlreadyExists).  An import of an
    object already in the bootstrap state is a no-op, so this is safe on every run."""
    session = session or boto3._get_default_session()  # the run's (aws.connect): its region
    if org.state.backend == "s3":
        return _state_bucket_imports(org.state.s3.bucket, session.client("s3", region_name=org.state.s3.region))
    if org.state.backend == "cloud":
        return _run_role_imports(org, roles, session.client("iam"))
    return []


def _state_bucket_imports(bucket: str, s3) -> list[Import]:
    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchBucket", "NotFound"):
            return []
        if code in ("403", "AccessDenied", "Forbidden"):
            # Bucket names are global: someone else's bucket answers 403.
            raise AdoptionError(f"state.s3.bucket: {bucket} exists but these credentials cannot use it (another "
                                "account's bucket? bucket names are global): choose another name") from None
        raise aws.AwsError(f"s3 head-bucket {bucket}: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise aws.AwsError(f"s3 head-bucket {bucket}: {exc}") from None
    imports = [Import(STATE_BUCKET_ADDRESS, bucket, f"existing bucket {bucket} (versioning, encryption, public access "
                                                    "block and policy are set to the configured ones)")]
    if _exists(bucket, "s3 get-bucket-policy", s3.get_bucket_policy, missing="NoSuchBucketPolicy", Bucket=bucket):
        imports.append(Import(STATE_BUCKET_POLICY_ADDRESS, bucket,
                              f"existing policy of {bucket}: replaced by the TLS-only one (any other statement goes)", risky=True))
    if _exists(bucket, "s3 get-public-access-block", s3.get_public_access_block,
               missing="NoSuchPublicAccessBlockConfiguration", Bucket=bucket):
        imports.append(Import(STATE_BUCKET_PUBLIC_ACCESS_ADDRESS, bucket, f"existing public access block of {bucket}"))
    return imports


def _run_role_imports(org: Org, roles: Sequence[RunRole], iam) -> list[Import]:
    imports = []
    host = org.state.cloud.hostname
    providers = aws.call("iam list-open-id-connect-providers", iam.list_open_id_connect_providers)["OpenIDConnectProviderList"]
    existing = next((p["Arn"] for p in providers if p["Arn"].endswith(org.state.oidc_provider_arn_suffix)), None)
    if existing:
        # Others may use the same provider (one per URL in an account): its audiences become ours.
        imports.append(Import(OIDC_PROVIDER_ADDRESS, existing, f"existing OIDC provider of {host}: its audiences "
                                                               "(client ids) are set to the configured one only", risky=True))
    for role in roles:
        if _exists("the management account", f"iam get-role {role.name}", iam.get_role, RoleName=role.name):
            imports.append(Import(role.address, role.name,
                                  f"existing role {role.name}: its trust policy is set to this workspace's", risky=True))
            if not role.waiting and _exists("the management account", f"iam get-role-policy {role.name}", iam.get_role_policy,
                                            RoleName=role.name, PolicyName=RUN_ROLE_POLICY_NAME):
                imports.append(Import(role.policy_address, f"{role.name}:{RUN_ROLE_POLICY_NAME}",
                                      f"existing policy {RUN_ROLE_POLICY_NAME} of {role.name}"))
    return imports


# --------------------------------------------------------------------------- one run's look-ups


class LiveChecks:
    """The live look-ups of one plan or apply, as the workflow uses them (workflow.Live).

    `stopping`: the run's interrupt; set, it cuts a wait's sleep short (the wait's
    callback then ends it, see workflow._waiting)."""

    def __init__(self, org: Org, stopping: threading.Event | None = None) -> None:
        self.org = org
        self._sleep = (lambda seconds: stopping.wait(seconds)) if stopping is not None else time.sleep
        self.organization: LiveOrganization | None = None
        self.guardrail_targets: dict[str, frozenset[str]] = {}
        self.root_access_features: tuple[str, ...] = ()
        self.sts = None  # made in check(), on the calling thread; the stacks' look-ups share it

    def check(self, on_wait: Callable[[str], None] = lambda _: None) -> None:
        """Before anything is planned: wait out pending account creations, then refuse
        what would disable live features or adopt a mismatching account."""
        self.sts = aws.sts_client()
        self.organization = read_organization()
        if self.organization is not None and wait_for_account_creation(self.org, on_wait=on_wait, sleep=self._sleep):
            self.organization = read_organization()
        check_organization(self.org, self.organization)
        check_adoptions(self.org, self.organization)
        check_adopted_roles(self.org, self.organization)
        # Read here, on the calling thread (boto3's default session is not thread-safe; the
        # stacks' look-ups run in the runner's threads).
        self.guardrail_targets = read_guardrail_targets(self.org, self.organization)
        use_features = self.org.centralized_root and self.organization is not None
        self.root_access_features = read_root_access_features() if use_features else ()

    def check_created(self, managed_ids: dict[str, str]) -> None:
        """After the management stack's outputs are read: the accounts it created, as they are."""
        check_created_accounts(self.org, self.organization, managed_ids)

    def retirements(self, managed_ids: dict[str, str]) -> list[Retirement]:
        return retirements(self.org, managed_ids, self.organization)

    def lifecycle(self, stack: str, account_id: str | None, retiring: list[Retirement],
                  held: frozenset[str] = frozenset()) -> tuple[list[Import], list[str]]:
        """(imports, addresses to forget) for a stack's plan (`held`: an account stack's
        addresses already in its state, see account_stack_imports)."""
        if stack == MANAGEMENT_STACK:
            imports = management_imports(self.org, self.organization)
            imports += guardrail_imports(self.org, self.organization, self.guardrail_targets)
            imports += root_access_imports(self.org, self.organization, self.root_access_features)
            if self.org.identity_center:
                ids = self._existing_account_ids()
                imports += identity_center_imports(self.org, read_identity_center(self.org, sorted(set(ids.values()))), ids)
            return imports, [r.address for r in retiring]
        return account_stack_imports(self.org.environment_by_stack(stack), account_id, not self.org.identity_center,
                                     sts=self.sts, held=held), []

    def _existing_account_ids(self) -> dict[str, str]:
        """Stack -> id of every configured account that exists: adopted, or found by its root email."""
        ids = dict(self.org.adopted_account_ids)
        for env in self.org.environments:
            account = self.organization.account_by_email(env.email) if self.organization else None
            if env.stack not in ids and account is not None and account.status in ("ACTIVE", ""):
                ids[env.stack] = account.id
        return ids

    def wait_until_ready(self, stack: str, account_id: str, on_wait: Callable[[str], None]) -> None:
        wait_for_role(self.org.environment_by_stack(stack), account_id, on_wait, sleep=self._sleep)

    def lock_out(self, retirement: Retirement, users: Sequence[str]) -> int:
        return lock_out(retirement, users)

    def retire(self, retirement: Retirement) -> None:
        organization = read_organization()
        if organization is None:
            raise PreflightError("the organization is gone: nothing to retire into")
        park(retirement, organization, self.org.managing_roles)
