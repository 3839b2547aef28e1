"""Retiring an environment removed from org.yaml: the only writes awsenvs makes outside
Terraform, after the operator confirmed them.

Its account is parked in the `Suspended` OU with that OU's deny-all policy (park), as AWS
suggests for accounts on their way out, then its IAM users' console passwords are deleted
and access keys deactivated (lock_out), then its objects leave state.  Every precondition
is checked before the first write (check_preconditions, at plan and again at apply), and
each step is repeated safely: a retirement that failed or was interrupted half-way is
finished by the next apply (the management stack, which lets go of the account, is applied
only after every retirement succeeded).  With `organization.on_retire: close` the parked
account is then closed (close), within CloseAccount's quota: 20% of the member accounts
per rolling 30 days, at least 250 and at most 1000; a closed account can be reopened by
AWS Support for 90 days, then it is gone for good
(https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html).
awsenvs never removes an account from the organization (a standalone account needs
billing details of its own).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import boto3
import botocore.exceptions

from awsenvs import aws
from awsenvs.checks import PreflightError
from awsenvs.config import (
    ACCOUNT_RESOURCE,
    CLOSE_QUOTA_DAYS,
    CLOSE_QUOTA_MAX,
    CLOSE_QUOTA_MIN,
    CLOSE_QUOTA_SHARE,
    CLOSED_AT_TAG,
    REOPEN_DAYS,
    DEFAULT_ROLE_NAME,
    SERVICE_CONTROL_POLICY,
    SUSPENDED_OU,
    SUSPENDED_POLICY_NAME,
    Org,
    tf_name,
)
from awsenvs.live.facts import LiveOrganization
from awsenvs.live.organization import read_parent, read_policy_targets
from awsenvs.waits import NotYet, retry

ENABLE_POLICY_TYPE_TIMEOUT = 120  # seconds


@dataclass(frozen=True)
class Retirement:
    """An environment removed from org.yaml whose account awsenvs still manages."""

    stack: str
    account_id: str
    account_name: str
    email: str
    closes: bool = False  # organization.on_retire: close, and within the quota (plan_closures)
    closing: str = ""  # on_retire: close: what happens to the account after parking, with the quota
    enabling: tuple[str, ...] = ()  # policy types park enables first (org.yaml lists them; they are off)
    active: bool = True  # still in the organization and not closed: there is something to park

    @property
    def address(self) -> str:
        # The account's address in the management stack (Environment.tf_name of the
        # environment it was: tf_name(product, env) == tf_name(stack)).
        return f"{ACCOUNT_RESOURCE}.{tf_name(self.stack)}"


def retirements(org: Org, managed_ids: Mapping[str, str], live: LiveOrganization | None) -> list[Retirement]:
    """Accounts the management stack manages (its last `account_ids` output) whose environment is gone."""
    gone = []
    for stack, account_id in sorted(managed_ids.items()):
        if stack in org.stacks:
            continue
        account = live.account_by_id(account_id) if live else None
        gone.append(Retirement(stack, account_id, account.name if account else stack, account.email if account else "",
                               active=account is not None and not account.closed))
    return gone


def check_preconditions(org: Org, live: LiveOrganization | None, retiring: list[Retirement]) -> list[Retirement]:
    """What a retirement needs before its first write, decided from the live facts; each
    retirement learns what park enables first.  Parking needs service control policies
    (the Suspended OU's deny-all is one): on when live, enabled first when org.yaml lists
    them (the management stack would enable them anyway), else refused in one line
    (an organization made by hand often never turned them on, and `import` then writes
    `policy_types: []`)."""
    parking = [r for r in retiring if r.active]
    if not parking or live is None or SERVICE_CONTROL_POLICY in live.policy_types:
        return retiring
    if SERVICE_CONTROL_POLICY not in org.policy_types:
        from awsenvs.results import names_text

        raise PreflightError(
            f"retiring {names_text([r.stack for r in parking])} parks {'its account' if len(parking) == 1 else 'their accounts'}"
            f" in the {SUSPENDED_OU} OU under a service control policy, and the organization has "
            f"{SERVICE_CONTROL_POLICY} off: add it to organization.policy_types in {org.source.name} (the same apply "
            "enables it first), or put the environment back; nothing was changed")
    return [replace(r, enabling=(SERVICE_CONTROL_POLICY,)) if r.active else r for r in retiring]


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
    attached when missing, also on an OU made before awsenvs), after enabling the policy
    types the retirement needs (check_preconditions); returns the OU id, or None when the
    account has already left the organization or is closed (nothing to move)."""
    client = client or boto3.client("organizations")
    account = live.account_by_id(retirement.account_id)
    if account is None or account.closed:
        return None  # left the organization, or closed: nothing to move (its objects still leave state)
    for policy_type in retirement.enabling:
        if policy_type not in live.policy_types:
            enable_policy_type(live, policy_type, client)
            live = replace(live, policy_types=live.policy_types | {policy_type})
    suspended = live.ous.get(SUSPENDED_OU)
    if suspended is None:
        suspended = aws.call(f"create OU {SUSPENDED_OU}", client.create_organizational_unit,
                             ParentId=live.root_id, Name=SUSPENDED_OU)["OrganizationalUnit"]["Id"]
    _guard_suspended_ou(live, suspended, managing_roles, client)
    parent = read_parent(retirement.account_id, client)
    if parent != suspended:
        aws.call(f"move account {retirement.account_id} to {SUSPENDED_OU}", client.move_account,
                 AccountId=retirement.account_id, SourceParentId=parent, DestinationParentId=suspended)
    return suspended


def enable_policy_type(live: LiveOrganization, policy_type: str, client, sleep=time.sleep) -> None:
    """Enable a policy type in the organization's root, and wait until it is (policies of
    that type cannot be attached before: the provider waits the same way,
    internal/service/organizations/organization.go, waitDefaultRootPolicyTypeEnabled).  An
    answer that it already is, as the retry of a call whose response was lost gets, is
    success."""
    aws.maybe(f"organizations enable-policy-type {policy_type}",
              lambda: client.enable_policy_type(RootId=live.root_id, PolicyType=policy_type),
              ("PolicyTypeAlreadyEnabledException",))

    def enabled() -> None:
        roots = aws.call("organizations list-roots", client.list_roots)["Roots"]
        status = {t["Type"]: t["Status"] for root in roots if root["Id"] == live.root_id for t in root.get("PolicyTypes", [])}
        if status.get(policy_type) != "ENABLED":
            raise NotYet(f"{policy_type} is still being enabled in the organization's root; apply again to finish the "
                         "retirement")

    retry(enabled, timeout=ENABLE_POLICY_TYPE_TIMEOUT, sleep=sleep)


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
    if suspended not in read_policy_targets(policy_id, client):
        aws.call(f"attach {SUSPENDED_POLICY_NAME} to {SUSPENDED_OU}", client.attach_policy, PolicyId=policy_id,
                 TargetId=suspended)


@dataclass
class CloseQuota:
    """What CloseAccount still allows: `limit` closures per rolling 30 days for this many
    member accounts, less awsenvs' own closures of the last 30 days (dated by the tag it puts
    on each account it closes; closures made elsewhere are undated, and AWS's own refusal,
    CLOSE_ACCOUNT_QUOTA_EXCEEDED, is then the last word)."""

    limit: int
    recent: list[datetime.date] = field(default_factory=list)
    today: datetime.date = field(default_factory=datetime.date.today)

    @property
    def left(self) -> int:
        return max(0, self.limit - len(self.recent))

    @property
    def free_from(self) -> datetime.date:
        """When the next closure fits again: 30 days after the oldest one counted (today
        when none is known, i.e. AWS counted closures made outside awsenvs)."""
        return min(self.recent, default=self.today) + datetime.timedelta(days=CLOSE_QUOTA_DAYS)

    def describe(self) -> str:
        return (f"CloseAccount allows {self.limit} closures per {CLOSE_QUOTA_DAYS} days in this organization; "
                f"awsenvs closed {len(self.recent)} in the last {CLOSE_QUOTA_DAYS} days")


def close_quota(live: LiveOrganization, client=None, today: datetime.date | None = None) -> CloseQuota:
    """The quota as it stands: its limit from the member accounts, and the recent closures
    from the tags of the closed ones (closed accounts stay listed for 90 days)."""
    client = client or boto3.client("organizations")
    today = today or datetime.date.today()
    members = [a for a in live.accounts if not a.closed]
    limit = min(CLOSE_QUOTA_MAX, max(CLOSE_QUOTA_MIN, int(len(members) * CLOSE_QUOTA_SHARE)))
    recent = []
    for account in (a for a in live.accounts if a.closed):
        tags = {t["Key"]: t["Value"] for t in aws.pages(client, "list_tags_for_resource", "Tags", ResourceId=account.id)}
        try:
            closed_on = datetime.date.fromisoformat(tags.get(CLOSED_AT_TAG, ""))
        except ValueError:
            continue
        if (today - closed_on).days < CLOSE_QUOTA_DAYS:
            recent.append(closed_on)
    return CloseQuota(limit, recent, today)


def plan_closures(retiring: list[Retirement], quota: CloseQuota) -> list[Retirement]:
    """on_retire: close: the first retirements that fit the quota close, the rest stay parked."""
    planned = []
    for i, r in enumerate(retiring):
        fits = i < quota.left
        closing = (f"then closed ({quota.describe()}; AWS Support can reopen it for {REOPEN_DAYS} days)" if fits
                   else f"it stays parked: over the quota ({quota.describe()}); it can be closed from "
                        f"{quota.free_from.isoformat()}")
        planned.append(replace(r, closes=fits, closing=closing))
    return planned


def close(retirement: Retirement, quota: CloseQuota, client=None) -> str:
    """Close a parked account (tagged with today's date first, to count it against the
    quota later); returns what happened, for the summary.  Whatever AWS refuses, the
    account stays parked (the retirement itself is done) and the summary says why and when
    to close it (see _CLOSE_REFUSALS)."""
    client = client or boto3.client("organizations")
    reopen = quota.today + datetime.timedelta(days=REOPEN_DAYS)
    if quota.left <= 0:
        return _parked_over_quota(retirement, quota)
    aws.call(f"tag account {retirement.account_id}", client.tag_resource, ResourceId=retirement.account_id,
             Tags=[{"Key": CLOSED_AT_TAG, "Value": quota.today.isoformat()}])
    try:
        client.close_account(AccountId=retirement.account_id)
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "AccountAlreadyClosedException":
            pass
        elif code == "AccountNotFoundException":  # left the organization since it was parked
            return f"account {retirement.account_id} is no longer in the organization: nothing to close"
        else:
            # Not closed: the date tag would count it against the quota.
            aws.call(f"untag account {retirement.account_id}", client.untag_resource, ResourceId=retirement.account_id,
                     TagKeys=[CLOSED_AT_TAG])
            reason = str(exc.response.get("Reason") or "")  # ConstraintViolationException's
            if reason == "CLOSE_ACCOUNT_QUOTA_EXCEEDED":
                quota.recent = [quota.today] * quota.limit  # AWS counts closures awsenvs cannot see
                return _parked_over_quota(retirement, quota, by_aws=True)
            return _parked_refused(retirement, code, reason, exc)
    quota.recent.append(quota.today)
    return (f"account {retirement.account_id} is closed; AWS Support can reopen it until {reopen.isoformat()} "
            f"({REOPEN_DAYS} days), after that it is gone for good")


# CloseAccount's other refusals (its errors, and ConstraintViolationException's reasons:
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html#API_CloseAccount_Errors,
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_ConstraintViolationException.html):
# what it means, and when closing it can work.  An error code or reason not listed is
# named as AWS gave it, with "once its cause is fixed".
_CLOSE_REFUSALS = {
    "CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED": ("AWS allows only so many closures in progress at a time",
                                              "in a few minutes, once the closures in progress are done"),
    "ConcurrentModificationException": ("another request is changing the account", "in a few minutes"),
    "ConflictException": ("the account's state does not allow it now (a closure or a move may be under way)",
                          "once `aws organizations describe-account` shows it ACTIVE"),
    "TooManyRequestsException": ("AWS throttled the request", "in a few minutes"),
    "ThrottlingException": ("AWS throttled the request", "in a few minutes"),  # any service's, after the retries
    "ServiceException": ("AWS failed internally", "in a few minutes"),
    "InternalFailure": ("AWS failed internally", "in a few minutes"),  # any service's HTTP 500, after the retries
    "ServiceUnavailable": ("AWS failed internally", "in a few minutes"),  # and 503
    "AccessDeniedException": ("these credentials may not close accounts", "with credentials allowed "
                              "organizations:CloseAccount on it (the management account's)"),
}


def _parked_refused(retirement: Retirement, code: str, reason: str, exc: botocore.exceptions.ClientError) -> str:
    why, when = _CLOSE_REFUSALS.get(reason) or _CLOSE_REFUSALS.get(code) or (
        f"AWS refused: {' '.join(str(exc).split())}", "once its cause is fixed")
    named = f"{code}{f' {reason}' if reason else ''}"
    return (f"account {retirement.account_id} stays parked in the {SUSPENDED_OU} OU, not closed: {why} ({named}); "
            f"close it {when}: aws organizations close-account --account-id {retirement.account_id}")


def _parked_over_quota(retirement: Retirement, quota: CloseQuota, by_aws: bool = False) -> str:
    why = ("AWS refused: its CloseAccount quota is used up (closures made outside awsenvs count too)" if by_aws
           else f"over CloseAccount's quota ({quota.describe()})")
    return (f"account {retirement.account_id} stays parked in the {SUSPENDED_OU} OU, {why}; close it from "
            f"{quota.free_from.isoformat()} on: aws organizations close-account --account-id {retirement.account_id}")
