"""Reads of AWS Organizations (and of IAM's organization features) in the management account."""

from __future__ import annotations

from typing import Iterable

import boto3
import botocore.exceptions

from awsenvs import aws
from awsenvs.config import CONTACT_KINDS, RESOURCE_CONTROL_POLICY, SERVICE_CONTROL_POLICY, SUSPENDED_OU
from awsenvs.live.facts import LiveAccount, LiveOrganization, LiveOu, LivePolicy, LiveStructure


def read_organization(client=None) -> LiveOrganization | None:
    """The organization of the credentials' account, or None when there is none yet."""
    client = client or boto3.client("organizations")
    organization = aws.maybe("organizations describe-organization", lambda: client.describe_organization()["Organization"],
                             ("AWSOrganizationsNotInUseException",))
    if organization is None:
        return None
    root = aws.call("organizations list-roots", client.list_roots)["Roots"][0]
    services = [s["ServicePrincipal"] for s in aws.pages(client, "list_aws_service_access_for_organization",
                                                           "EnabledServicePrincipals")]
    ous = {ou["Name"]: ou["Id"] for ou in aws.pages(client, "list_organizational_units_for_parent",
                                                    "OrganizationalUnits", ParentId=root["Id"])}
    types = frozenset(t["Type"] for t in root.get("PolicyTypes", []) if t["Status"] != "PENDING_DISABLE")
    policies = {p["Name"]: p["Id"] for p in aws.pages(client, "list_policies", "Policies", Filter=SERVICE_CONTROL_POLICY)}
    if RESOURCE_CONTROL_POLICY in types:  # the data perimeters (ListPolicies refuses a type that is off)
        policies |= {p["Name"]: p["Id"] for p in aws.pages(client, "list_policies", "Policies", Filter=RESOURCE_CONTROL_POLICY)}
    everyone = [LiveAccount(a["Id"], a["Name"], a["Email"], a.get("Status", ""), a.get("JoinedMethod", ""), a.get("State", ""))
                for a in aws.pages(client, "list_accounts", "Accounts")]
    management = organization.get("MasterAccountId")
    return LiveOrganization(
        id=organization["Id"],
        root_id=root["Id"],
        trusted_services=frozenset(services),
        policy_types=types,
        accounts=tuple(a for a in everyone if a.id != management),
        ous=ous,
        policies=policies,
        management=next((a for a in everyone if a.id == management), None),
    )


def read_structure(live: LiveOrganization, client=None) -> LiveStructure:
    """Every OU with its accounts (parents first), the service control policies with their
    targets, and centralized root access: what `import` describes."""
    client = client or boto3.client("organizations")
    ous: list[LiveOu] = []
    queue: list[tuple[str, tuple[str, ...]]] = [(live.root_id, ())]
    root_accounts: tuple[str, ...] = ()
    while queue:
        parent, path = queue.pop(0)
        accounts = tuple(a["Id"] for a in aws.pages(client, "list_accounts_for_parent", "Accounts", ParentId=parent))
        if parent == live.root_id:
            root_accounts = accounts
        else:
            ous.append(LiveOu(parent, path, accounts))
        for ou in aws.pages(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent):
            queue.append((ou["Id"], (*path, ou["Name"])))
    policies = []
    if SERVICE_CONTROL_POLICY in live.policy_types:
        for policy in aws.pages(client, "list_policies", "Policies", Filter=SERVICE_CONTROL_POLICY):
            targets = tuple(t["TargetId"] for t in aws.pages(client, "list_targets_for_policy", "Targets",
                                                              PolicyId=policy["Id"]))
            policies.append(LivePolicy(policy["Id"], policy["Name"], bool(policy.get("AwsManaged")), targets))
    return LiveStructure(tuple(ous), root_accounts, tuple(policies), read_root_access_features())


def read_ou_contents(ou_ids, client=None) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """OU id -> (the accounts directly in it, the ids of the service control policies attached to it)."""
    client = client or boto3.client("organizations")
    return {ou: (tuple(a["Id"] for a in aws.pages(client, "list_accounts_for_parent", "Accounts", ParentId=ou)),
                 tuple(p["Id"] for p in aws.pages(client, "list_policies_for_target", "Policies", TargetId=ou,
                                                  Filter=SERVICE_CONTROL_POLICY)))
            for ou in ou_ids}


def read_policy_content(policy_id: str, client=None) -> str:
    client = client or boto3.client("organizations")
    return aws.call("organizations describe-policy", client.describe_policy, PolicyId=policy_id)["Policy"]["Content"]


def read_guardrail_targets(policy_ids: Iterable[str], client=None) -> dict[str, frozenset[str]]:
    """Policy id -> target ids."""
    client = client or boto3.client("organizations")
    return {policy_id: frozenset(t["TargetId"] for t in aws.pages(client, "list_targets_for_policy", "Targets",
                                                                   PolicyId=policy_id))
            for policy_id in policy_ids}


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
        raise aws.failed("iam list-organizations-features", exc) from None


def read_parked_accounts(live: LiveOrganization | None, client=None) -> tuple[LiveAccount, ...]:
    """The active accounts in the Suspended OU (retired ones, and any put there by hand)."""
    suspended = live.ous.get(SUSPENDED_OU) if live else None
    if suspended is None:
        return ()
    client = client or boto3.client("organizations")
    ids = {a["Id"] for a in aws.pages(client, "list_accounts_for_parent", "Accounts", ParentId=suspended)}
    return tuple(a for a in live.accounts if a.id in ids and not a.closed)


def read_pending_creations(account_names: set[str], client=None) -> list[tuple[str, str]]:
    """(request id, account name) of the CreateAccount requests still IN_PROGRESS for these names."""
    client = client or boto3.client("organizations")
    statuses = aws.call("organizations list-create-account-status", client.list_create_account_status,
                        States=["IN_PROGRESS"])["CreateAccountStatuses"]
    return [(s["Id"], s["AccountName"]) for s in statuses if s.get("AccountName") in account_names]


def read_creation_state(request_id: str, client=None) -> str:
    """A CreateAccount request's State: IN_PROGRESS, SUCCEEDED or FAILED."""
    client = client or boto3.client("organizations")
    return aws.call("organizations describe-create-account-status", client.describe_create_account_status,
                    CreateAccountRequestId=request_id)["CreateAccountStatus"]["State"]


def read_parent(account_id: str, client=None) -> str:
    client = client or boto3.client("organizations")
    return aws.call("organizations list-parents", client.list_parents, ChildId=account_id)["Parents"][0]["Id"]


def read_policy_targets(policy_id: str, client=None) -> set[str]:
    client = client or boto3.client("organizations")
    return {t["TargetId"] for t in aws.pages(client, "list_targets_for_policy", "Targets", PolicyId=policy_id)}


def account_client():
    """An AWS Account Management client of the credentials' session (the management account's),
    made on the calling thread and shared with the audit's workers (see aws.sts_client)."""
    return boto3.client("account")


def read_alternate_contacts(account_id: str, client) -> dict[str, tuple[str, str, str, str] | None]:
    """A member account's alternate contacts, by kind (security, operations, billing): (name,
    title, email, phone), or None when it has none of that kind (ResourceNotFoundException)."""
    contacts: dict[str, tuple[str, str, str, str] | None] = {}
    for kind in CONTACT_KINDS:
        found = aws.maybe(f"account get-alternate-contact {kind} of {account_id}",
                          lambda: client.get_alternate_contact(AccountId=account_id, AlternateContactType=kind.upper()),
                          ("ResourceNotFoundException",))
        contact = found["AlternateContact"] if found else None
        contacts[kind] = (contact.get("Name", ""), contact.get("Title", ""), contact.get("EmailAddress", ""),
                          contact.get("PhoneNumber", "")) if contact else None
    return contacts


def read_region_status(account_id: str, region: str, client) -> str:
    """A member account's opt-in status of a region: ENABLED, ENABLING, DISABLING, DISABLED
    or ENABLED_BY_DEFAULT (GetRegionOptStatus, from the management account)."""
    return aws.call(f"account get-region-opt-status {region} of {account_id}", client.get_region_opt_status,
                    AccountId=account_id, RegionName=region)["RegionOptStatus"]


def read_region_statuses(account_id: str, regions, client) -> dict[str, str]:
    """A member account's opt-in status of each of `regions` (read_region_status), by region."""
    return {region: read_region_status(account_id, region, client) for region in regions}

