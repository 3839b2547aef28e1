"""What one stack's live objects hold that org.yaml does not say: audit's comparisons, per stack.

`plan` asks this (through preflight.LiveChecks.drift) for every stack whose clean record
would let it skip terraform: a stack with a difference that `apply` restores is planned
after all.  `audit` reads the same way and shows each difference as a row.  The reads go
through awsenvs.live, the comparisons are awsenvs.drift's (pure).

Compared, as audit compares them:
- an account stack: with IAM users its users, groups, policy attachments, memberships,
  console passwords, the MFA group, roles and policy; always its alias, password policy and
  budget;
- the management stack: the product OUs and each account's parent, the trusted services and
  policy types, the guardrail SCPs and data perimeter RCPs on the product OUs, the accounts'
  alternate contacts and opt-in regions, and with Identity Center its users, groups,
  members, permission sets and account assignments (the management account's included:
  awsenvs assigns nothing there).
A closed account is compared in nothing (audit's one row says it is closed; plan refuses it).
What else the stacks manage (account names and tags, centralized root access, a role's
session length) only terraform compares: `plan --all`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from awsenvs import aws, drift
from awsenvs.config import Environment, Org
from awsenvs.drift import Difference
from awsenvs.live.facts import LiveIam, LiveOrganization
from awsenvs.live.iam import DRIFT, Reads, read_account_iam
from awsenvs.live.identity_center import read_identity_center
from awsenvs.live.organization import (
    account_client,
    read_alternate_contacts,
    read_guardrail_targets,
    read_ou_contents,
    read_policy_content,
    read_region_statuses,
)


def read_account_stack(env: Environment, account_id: str, iam_users: bool, sts=None, mfa: bool = False) -> LiveIam:
    """The account's objects as drift compares them, read through the role its stack uses
    (`sts`: a client made on the calling thread, shared; `mfa`: also each user's MFA devices,
    for audit's check)."""
    session = aws.member_session(account_id, env.acting_role_name, env.cli_profile, sts=sts)  # this thread's own
    roles = drift.mfa_role_names(env) if iam_users else ()
    documents = (drift.mfa_policy_arn(account_id),) if iam_users and env.mfa_required else ()
    # With Identity Center only the users' console passwords (and the baseline) are compared.
    reads = replace(DRIFT, mfa=mfa) if iam_users else Reads(keys=False, mfa=False, budgets=True)
    return read_account_iam(session, account_id, reads, roles=roles, documents=documents)


def account_stack_drift(env: Environment, account_id: str, iam_users: bool, sts=None) -> list[Difference]:
    return drift.account_stack_differences(env, read_account_stack(env, account_id, iam_users, sts), iam_users)


def organization_drift(org: Org, live: LiveOrganization, account_ids: Mapping[str, str]) -> list[Difference]:
    """The organization's part of the management stack: OUs, accounts' parents, trusted
    services, policy types, the SCPs and data perimeter RCPs on the product OUs."""
    from awsenvs.modules.guardrail_policies import data_perimeter_policies, guardrail_policies

    contents = read_ou_contents([live.ous[p.ou_name] for p in org.products if p.ou_name in live.ous])
    ours = [live.policies[p.guardrails_policy_name] for p in org.products
            if p.guardrails is not None and p.guardrails_policy_name in live.policies]
    texts = {policy_id: read_policy_content(policy_id) for policy_id in ours}
    found = drift.management_differences(org, live, account_ids, contents, guardrail_policies(org), texts)
    perimeters = [live.policies[p.data_perimeter_policy_name] for p in org.products
                  if p.data_perimeter is not None and p.data_perimeter_policy_name in live.policies]
    texts = {policy_id: read_policy_content(policy_id) for policy_id in perimeters}
    return found + drift.data_perimeter_differences(org, live, read_guardrail_targets(perimeters),
                                                    data_perimeter_policies(org, live.id), texts)


def management_stack_drift(org: Org, live: LiveOrganization | None, account_ids: Mapping[str, str]) -> list[Difference]:
    """Everything of the management stack that differs (`live`: the organization as read
    before planning; none yet: nothing to compare).  The accounts' contacts and assignments
    name their stack."""
    if live is None:
        return []
    found = organization_drift(org, live, account_ids)
    known = open_account_ids(org, live, account_ids)
    if any(env.has_account_settings and known[env.stack] for env in org.environments):
        client = account_client()
        for env in (e for e in org.environments if e.has_account_settings and known[e.stack]):
            found += _of(env, account_settings_differences(env, known[env.stack], client))
    if org.identity_center:
        management = live.management.id if live.management is not None else None
        center = read_identity_center(org.region, sorted({i for i in (*known.values(), management) if i}),
                                      groups=[g.name for g in org.groups], detail=True)
        if center is not None:  # not enabled: audit's row; no apply enables it
            found += drift.identity_center_differences(org, center)
            found += drift.management_account_differences(org, center, management) if management else []
            for env in (e for e in org.environments if known[e.stack]):
                found += _of(env, drift.assignment_differences(org, env, center.access(known[env.stack])))
    return found


def open_account_ids(org: Org, live: LiveOrganization | None, account_ids: Mapping[str, str]) -> dict[str, str | None]:
    """Stack -> its account's id; None when not created yet or closed (drift.closed_account)."""
    return {env.stack: None if drift.closed_account(env, live, account_ids) else env.account_id_from(dict(account_ids))
            for env in org.environments}


def account_settings_differences(env: Environment, account_id: str, client) -> list[Difference]:
    """The management stack's settings in one member account: its alternate contacts and its
    opt-in regions (`client`: the management account's Account Management client)."""
    found = drift.contact_differences(env, read_alternate_contacts(account_id, client)) if env.contacts else []
    regions = (*env.regions, *env.disable_regions)
    return found + (drift.region_differences(env, read_region_statuses(account_id, regions, client)) if regions else [])


def _of(env: Environment, differences: list[Difference]) -> list[Difference]:
    """An account's differences among the management stack's: `security contact of shop-dev`."""
    return [replace(d, object=f"{d.object} of {env.stack}") for d in differences]
