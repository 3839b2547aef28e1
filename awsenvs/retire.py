"""Retiring an environment removed from org.yaml: the only writes awsenvs makes outside
Terraform, after the operator confirmed them.

Its IAM users' console passwords are deleted and access keys deactivated (lock_out), and
its account is parked in the `Suspended` OU with that OU's deny-all policy (park).
awsenvs never closes an account (CloseAccount is quota-limited and final after 90 days:
https://docs.aws.amazon.com/organizations/latest/APIReference/API_CloseAccount.html) nor
removes it from the organization (a standalone account needs billing details of its own);
it parks it in a `Suspended` OU, as AWS suggests for accounts on their way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import boto3
import botocore.exceptions

from awsenvs import aws
from awsenvs.checks import PreflightError
from awsenvs.config import (
    ACCOUNT_RESOURCE,
    DEFAULT_ROLE_NAME,
    SERVICE_CONTROL_POLICY,
    SUSPENDED_OU,
    SUSPENDED_POLICY_NAME,
    Org,
    tf_name,
)
from awsenvs.live.facts import LiveOrganization
from awsenvs.live.organization import read_parent, read_policy_targets


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


def retirements(org: Org, managed_ids: Mapping[str, str], live: LiveOrganization | None) -> list[Retirement]:
    """Accounts the management stack manages (its last `account_ids` output) whose environment is gone."""
    gone = []
    for stack, account_id in sorted(managed_ids.items()):
        if stack in org.stacks:
            continue
        account = live.account_by_id(account_id) if live else None
        gone.append(Retirement(stack, account_id, account.name if account else stack, account.email if account else ""))
    return gone


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
    if account is None or account.closed:
        return None  # left the organization, or closed: nothing to move (its objects still leave state)
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
