"""Reads of IAM (and Budgets) inside one account, through a session in that account."""

from __future__ import annotations

import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Callable

import boto3
import botocore.exceptions

from awsenvs import aws
from awsenvs.live.facts import LiveBudget, LiveIam, LiveIamGroup, LiveIamRole, LiveIamUser


def read_summary(session: boto3.Session | None = None) -> dict:
    """GetAccountSummary of the session's account (default: the credentials' own)."""
    iam = (session or boto3._get_default_session()).client("iam")
    return aws.call("iam get-account-summary", iam.get_account_summary)["SummaryMap"]


INNER_WORKERS = 4  # an account's independent reads (per user, group, role) at once


@dataclass(frozen=True)
class Reads:
    """What read_account_iam reads besides the root summary, alias, password policy and each
    user's console password and MFA devices (each flag costs calls: say only what is used)."""

    keys: bool = True  # each user's access keys (1 call per user)
    mfa: bool = True  # each user's MFA devices (1 per user)
    memberships: bool = False  # each user's groups (1 per user; with `groups`, 1 per group instead)
    groups: bool = False  # the groups and their attached policies (1 + 1 per group)
    budgets: bool = False  # the account's budgets (1)
    everything: bool = False  # also users' own and inline policies, groups' inline ones, customer managed policies


DETAIL = Reads(memberships=True, groups=True, budgets=True, everything=True)  # import writes all of it down
DRIFT = Reads(keys=False, mfa=False, memberships=True, groups=True, budgets=True)  # audit compares what awsenvs manages


def read_account_iam(session: boto3.Session, account_id: str, reads: Reads = Reads(),
                     roles: tuple[str, ...] = (), documents: tuple[str, ...] = (),
                     workers: int = INNER_WORKERS) -> LiveIam:
    """The account's root summary, alias, password policy and users (console password, MFA
    devices), and what `reads` asks for.

    `roles`: roles to read by name (trust policy, attached policies), `documents`: customer
    managed policies to read by ARN (their default version), where they exist.  The reads of
    one user, group, role or document do not depend on each other's: `workers` of them run at
    once, on the one client (clients are thread safe, sessions are not).

    Calls: 4 + 1 per user, + 1 per user for each of keys, mfa and memberships, 1 + 1 per group
    for groups (memberships with groups: 1 per group, GetGroup, instead of 1 per user), 1 for
    budgets; DETAIL: 7 + 6 per user + 2 per group (bench/import_bench.py counts them); 2 per
    role and per document asked for."""
    iam = session.client("iam")
    budgets_client = session.client("budgets") if reads.budgets else None
    where = f"in {account_id}"
    detail = reads.everything
    by_group = reads.memberships and reads.groups and not detail  # members read per group (GetGroup)

    def user_of(user: dict) -> LiveIamUser:
        name = user["UserName"]
        return LiveIamUser(
            name=name, id=user["UserId"], path=user.get("Path", "/"),
            groups=tuple(g["GroupName"] for g in aws.pages(iam, "list_groups_for_user", "Groups", UserName=name))
            if reads.memberships and not by_group else (),
            console=_maybe(where, "iam get-login-profile", lambda: iam.get_login_profile(UserName=name)) is not None,
            mfa_devices=len(aws.pages(iam, "list_mfa_devices", "MFADevices", UserName=name)) if reads.mfa else 0,
            active_keys=sum(k["Status"] == "Active" for k in aws.pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name))
            if reads.keys else 0,
            managed=tuple(p["PolicyArn"] for p in aws.pages(iam, "list_attached_user_policies", "AttachedPolicies",
                                                            UserName=name)) if detail else (),
            inline=tuple(aws.pages(iam, "list_user_policies", "PolicyNames", UserName=name)) if detail else (),
        )

    def group_of(group: dict) -> LiveIamGroup:
        name = group["GroupName"]
        if by_group:
            members[name] = {u["UserName"] for u in aws.pages(iam, "get_group", "Users", GroupName=name)}
        return LiveIamGroup(
            name=name, path=group.get("Path", "/"),
            managed=tuple(p["PolicyArn"] for p in aws.pages(iam, "list_attached_group_policies", "AttachedPolicies",
                                                            GroupName=name)),
            inline=tuple(aws.pages(iam, "list_group_policies", "PolicyNames", GroupName=name)) if detail else (),
        )

    def role_of(name: str) -> LiveIamRole | None:
        role = _maybe(where, "iam get-role", lambda: iam.get_role(RoleName=name)["Role"])
        if role is None:
            return None
        return LiveIamRole(name, _document(role.get("AssumeRolePolicyDocument", {})), tuple(
            p["PolicyArn"] for p in aws.pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)))

    def document_of(arn: str) -> tuple[str, dict] | None:
        policy = _maybe(where, "iam get-policy", lambda: iam.get_policy(PolicyArn=arn)["Policy"])
        if policy is None:
            return None
        version = aws.call(f"iam get-policy-version {where}", iam.get_policy_version, PolicyArn=arn,
                           VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        return arn, _document(version.get("Document", {}))

    def budgets_of() -> list[LiveBudget]:
        found = _maybe(where, "budgets describe-budgets", lambda: aws.pages(
            budgets_client, "describe_budgets", "Budgets", AccountId=account_id)) or []
        return [LiveBudget(b["BudgetName"], b.get("BudgetLimit", {}).get("Amount", ""), b.get("BudgetLimit", {}).get("Unit", ""))
                for b in found]

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"iam-{account_id}") as pool:
        password_policy = pool.submit(_maybe, where, "iam get-account-password-policy",
                                      lambda: iam.get_account_password_policy()["PasswordPolicy"])
        summary = pool.submit(lambda: aws.call("iam get-account-summary", iam.get_account_summary)["SummaryMap"])
        aliases = pool.submit(lambda: aws.call("iam list-account-aliases", iam.list_account_aliases)["AccountAliases"])
        budgets = pool.submit(budgets_of) if reads.budgets else None
        local = pool.submit(lambda: [p["PolicyName"] for p in aws.pages(iam, "list_policies", "Policies", Scope="Local")]) \
            if detail else None
        members: dict[str, set[str]] = {}  # group -> its users (by_group)
        users = list(pool.map(user_of, aws.pages(iam, "list_users", "Users")))
        groups = list(pool.map(group_of, aws.pages(iam, "list_groups", "Groups"))) if reads.groups else []
        if by_group:
            users = [replace(u, groups=tuple(g.name for g in groups if u.name in members.get(g.name, ()))) for u in users]
        found_roles = [r for r in pool.map(role_of, roles) if r is not None]
        found_documents = dict(d for d in pool.map(document_of, documents) if d is not None)
        return LiveIam(
            account_id=account_id,
            summary=summary.result(),
            aliases=tuple(aliases.result()),
            password_policy=password_policy.result(),
            users=tuple(users),
            groups=tuple(groups),
            local_policies=tuple(local.result()) if local else (),
            budgets=tuple(budgets.result()) if budgets else (),
            roles=tuple(found_roles),
            documents=found_documents,
        )


def _document(document) -> dict:
    """A policy document as IAM returns it: boto3 decodes it into a dict; some endpoints answer
    it URL-encoded text."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    return document


def _maybe(where: str, what: str, fn: Callable[[], object], missing: tuple[str, ...] = ("NoSuchEntity", "NotFoundException")):
    """`fn()`, or None when what it reads does not exist (an error code in `missing`)."""
    return aws.maybe(f"{what} {where}", fn, missing)


def exists(where: str, what: str, fn, missing: str = "NoSuchEntity", **kwargs) -> bool:
    """Whether `fn(**kwargs)` finds the object; the error code `missing` means it does not exist."""
    return _maybe(f"in {where}", what, lambda: fn(**kwargs) or True, (missing,)) is not None


class AccountProbe:
    """Targeted look-ups in one account, for reconcile: does an object of this name exist?

    The session (and its IAM client) is made when first needed, so that a stack whose state
    holds every object it manages costs no call at all, not even the assumed role."""

    def __init__(self, account_id: str, make_session: Callable[[], boto3.Session]) -> None:
        self.account_id = account_id
        self._make, self._session, self._iam = make_session, None, None

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = self._make()
        return self._session

    @property
    def iam(self):
        if self._iam is None:
            self._iam = self.session.client("iam")
        return self._iam

    def _exists(self, what: str, fn, missing: str = "NoSuchEntity", **kwargs) -> bool:
        return exists(self.account_id, what, fn, missing, **kwargs)

    def user(self, name: str) -> bool:
        return self._exists("iam get-user", self.iam.get_user, UserName=name)

    def login_profile(self, user: str) -> bool:
        return self._exists("iam get-login-profile", self.iam.get_login_profile, UserName=user)

    def group(self, name: str) -> bool:
        return self._exists("iam get-group", self.iam.get_group, GroupName=name)

    def role(self, name: str) -> bool:
        return self._exists("iam get-role", self.iam.get_role, RoleName=name)

    def policy(self, arn: str) -> bool:
        return self._exists("iam get-policy", self.iam.get_policy, PolicyArn=arn)

    def groups_of(self, user: str) -> tuple[str, ...]:
        return tuple(g["GroupName"] for g in aws.pages(self.iam, "list_groups_for_user", "Groups", UserName=user))

    def group_policies(self, group: str) -> tuple[str, ...]:
        return tuple(p["PolicyArn"] for p in aws.pages(self.iam, "list_attached_group_policies", "AttachedPolicies",
                                                       GroupName=group))

    def aliases(self) -> list[str]:
        return aws.call(f"iam list-account-aliases in {self.account_id}", self.iam.list_account_aliases)["AccountAliases"]

    def password_policy(self) -> bool:
        return self._exists("iam get-account-password-policy", self.iam.get_account_password_policy)

    def budget(self, name: str) -> bool:
        return self._exists("budgets describe-budget", self.session.client("budgets").describe_budget,
                            missing="NotFoundException", AccountId=self.account_id, BudgetName=name)


def read_user(session: boto3.Session, user: str) -> dict:
    return aws.call(f"iam get-user {user}", session.client("iam").get_user, UserName=user)


def mfa_devices(session: boto3.Session, user: str) -> list[dict]:
    """The user's MFA devices as ListMFADevices gives them; none for a user not created yet."""
    try:
        return session.client("iam").list_mfa_devices(UserName=user)["MFADevices"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return []
        raise aws.AwsError(f"iam list-mfa-devices {user}: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise aws.failed(f"iam list-mfa-devices {user}", exc) from None


def totp_serial(devices: list[dict]) -> str | None:
    """The MFA device the AWS CLI can use for `mfa_serial`: the first enabled TOTP device.

    ListMFADevices serials: a virtual device is `arn:aws:iam::<id>:mfa/<any name>`, a
    hardware TOTP token its own serial (`GAHT12345678`), a FIDO security key
    `arn:aws:iam::<id>:u2f/...`.  STS AssumeRole takes only a TOTP code, so FIDO keys
    are no use to the CLI (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
    https://docs.aws.amazon.com/cli/latest/reference/iam/list-mfa-devices.html).
    """
    totp = [d for d in devices if ":u2f/" not in d["SerialNumber"]]
    totp.sort(key=lambda d: (d.get("EnableDate") is None, d.get("EnableDate") or 0, d["SerialNumber"]))
    return totp[0]["SerialNumber"] if totp else None


def mfa_serials(org, account_ids: dict[str, str]) -> dict[tuple[str, str], str | None]:
    """(stack, user) -> the user's TOTP device serial, for every user of `mfa: required` accounts."""
    serials: dict[tuple[str, str], str | None] = {}
    for env in org.environments:
        account_id = env.account_id_from(account_ids)
        if not env.mfa_required or account_id is None:
            continue
        session = aws.member_session(account_id, env.acting_role_name, env.cli_profile)
        for user in env.users:
            serials[(env.stack, user.name)] = totp_serial(mfa_devices(session, user.name))
    return serials
