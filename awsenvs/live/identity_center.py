"""Reads of IAM Identity Center: the instance, its identity store and its permission sets."""

from __future__ import annotations

from typing import Iterable

import boto3

from awsenvs import aws
from awsenvs.live.facts import LiveIdentityCenter, LivePerson


def read_identity_center(region: str, account_ids: Iterable[str], groups: Iterable[str] | None = None,
                         detail: bool = False, unmanaged: bool = False,
                         reach: Iterable[str] = ()) -> LiveIdentityCenter | None:
    """The live identity store and permission sets in `region` (where the management stack's
    provider finds the instance), with the assignments in `account_ids`; None when Identity
    Center is not enabled.  `groups`: the groups whose memberships are read (None: all of
    them).  `detail`: also each user's email and names (audit's drift compares them);
    `unmanaged`: also what awsenvs does not manage on each permission set (2 calls each:
    only `import` writes it down).  `reach`: permission sets (names) whose assignments are
    read in every account they are provisioned to, and what awsenvs does not manage on them
    (a plan adopting them says what stays: 3 calls, and 1 per such account, each)."""
    admin = boto3.client("sso-admin", region_name=region)
    store = boto3.client("identitystore", region_name=region)
    instances = aws.call("sso-admin list-instances", admin.list_instances)["Instances"]
    if not instances:
        return None
    instance, store_id = instances[0]["InstanceArn"], instances[0]["IdentityStoreId"]

    pages = aws.pages
    listed_users = pages(store, "list_users", "Users", IdentityStoreId=store_id)
    users = {u["UserName"]: u["UserId"] for u in listed_users}
    live_groups = {g["DisplayName"]: g["GroupId"] for g in pages(store, "list_groups", "Groups", IdentityStoreId=store_id)}
    wanted = set(live_groups) if groups is None else set(groups)
    memberships = {
        (group_id, m["MemberId"]["UserId"]): m["MembershipId"]
        for name, group_id in live_groups.items() if name in wanted
        for m in pages(store, "list_group_memberships", "GroupMemberships", IdentityStoreId=store_id, GroupId=group_id)
    }
    permission_sets, sessions, descriptions = {}, {}, {}
    for arn in pages(admin, "list_permission_sets", "PermissionSets", InstanceArn=instance):
        described = aws.call("sso-admin describe-permission-set", admin.describe_permission_set,
                             InstanceArn=instance, PermissionSetArn=arn)["PermissionSet"]
        permission_sets[described["Name"]] = arn  # all of them: the audit reports assignments of others too
        sessions[arn] = described.get("SessionDuration", "")
        if described.get("Description"):
            descriptions[arn] = described["Description"]
    policies = {
        arn: frozenset(p["Arn"] for p in pages(admin, "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
                                               InstanceArn=instance, PermissionSetArn=arn))
        for arn in permission_sets.values()
    }
    reached = [permission_sets[name] for name in reach if name in permission_sets]
    accounts = {arn: sorted(set(account_ids)) for arn in permission_sets.values()}
    for arn in reached:
        accounts[arn] = sorted(set(accounts[arn]) | set(pages(
            admin, "list_accounts_for_provisioned_permission_set", "AccountIds", InstanceArn=instance, PermissionSetArn=arn)))
    assignments = frozenset(
        (account_id, arn, a["PrincipalType"], a["PrincipalId"])
        for arn in permission_sets.values() for account_id in accounts[arn]
        for a in pages(admin, "list_account_assignments", "AccountAssignments",
                       InstanceArn=instance, AccountId=account_id, PermissionSetArn=arn)
    )
    people, not_ours = {}, {}
    if detail:
        for u in listed_users:
            email = next((e["Value"] for e in u.get("Emails", []) if e.get("Primary")), None) or \
                next((e["Value"] for e in u.get("Emails", [])), None)
            name = u.get("Name", {})
            people[u["UserName"]] = LivePerson(u["UserId"], u["UserName"], u.get("DisplayName", ""), email,
                                               name.get("GivenName", ""), name.get("FamilyName", ""))
    for arn in (permission_sets.values() if unmanaged else reached):
        kinds = []
        if aws.call("sso-admin get-inline-policy-for-permission-set", admin.get_inline_policy_for_permission_set,
                    InstanceArn=instance, PermissionSetArn=arn).get("InlinePolicy"):
            kinds.append("an inline policy")
        if pages(admin, "list_customer_managed_policy_references_in_permission_set", "CustomerManagedPolicyReferences",
                 InstanceArn=instance, PermissionSetArn=arn):
            kinds.append("customer managed policy references")
        if kinds:
            not_ours[arn] = tuple(kinds)
    return LiveIdentityCenter(instance, store_id, users, live_groups, memberships, permission_sets, policies, assignments,
                              people=people, sessions=sessions, descriptions=descriptions, unmanaged=not_ours)
