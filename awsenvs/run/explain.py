"""What a management stack's plan means for the accounts it reaches, beyond its counts: one
line each, under the summary table (the runner adds them to the stack's notes).  Pure: the
model and the plan's changes in, lines out."""

from __future__ import annotations

from typing import Iterable, Sequence

from awsenvs.config import (
    ACCOUNT_PRINCIPAL,
    CONTACT_KINDS,
    IAM_PRINCIPAL,
    IDENTITY_CENTER_PRINCIPAL,
    MANAGEMENT_STACK,
    ORGANIZATION_ADDRESS,
    RESOURCE_CONTROL_POLICY,
    SERVICE_CONTROL_POLICY,
    Environment,
    Org,
    Product,
    contact_address,
)
from awsenvs.results import names_text
from awsenvs.terraform import ResourceChange


def management_notes(org: Org, stack: str, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    if stack != MANAGEMENT_STACK:
        return ()
    return (*organization_notes(org, changes), *perimeter_notes(org, changes), *released_contact_notes(org, changes))


def organization_notes(org: Org, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    """Why the organization itself changes: each trusted service and policy type the plan turns
    on or off, with the org.yaml setting that needs it and what it does across the organization
    (from the attributes the plan changes: aws_service_access_principals, enabled_policy_types)."""
    change = next((c for c in changes if c.address == ORGANIZATION_ADDRESS and c.attributes), None)
    if change is None:
        return ()
    notes = []
    for attribute in change.attributes:
        why = {"aws_service_access_principals": _trusted_service_why, "enabled_policy_types": _policy_type_why}.get(
            attribute.name)
        if why is None or attribute.unknown or attribute.sensitive:
            continue
        before, after = set(attribute.before or ()), set(attribute.after or ())
        notes += [f"the organization {why(org, value, True)}" for value in sorted(after - before)]
        notes += [f"the organization {why(org, value, False)}" for value in sorted(before - after)]
    return tuple(notes)


def _trusted_service_why(org: Org, principal: str, on: bool) -> str:
    if not on:
        return (f"turns off trusted access for {principal} (organization.disable_trusted_services lists it): that "
                "service can no longer act across the organization's accounts")
    settings = [env.stack for env in org.environments if env.has_account_settings]
    reasons = {
        IDENTITY_CENTER_PRINCIPAL: "organization.access: identity_center needs it: IAM Identity Center can then assign "
                                   "access to every account of the organization",
        IAM_PRINCIPAL: "organization.centralized_root needs it: IAM then manages the member accounts' root credentials "
                       "from the management account",
        ACCOUNT_PRINCIPAL: f"the contacts or opt-in regions org.yaml sets ({names_text(settings)}) need it: AWS Account "
                           "Management can then change every member account's alternate contacts and regions from the "
                           "management account",
    }
    return f"turns on trusted access for {principal}: " + reasons.get(principal, "organization.trusted_services lists it")


def _policy_type_why(org: Org, policy_type: str, on: bool) -> str:
    if not on:
        return (f"disables the policy type {policy_type} (organization.disable_policy_types lists it): AWS detaches "
                "every policy of that type from the root, the OUs and the accounts")
    guarded = [p.name for p in org.products if p.guardrails is not None]
    perimeter = [p.name for p in org.products if p.data_perimeter is not None]
    # https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html;
    # FullAWSAccess: https://docs.aws.amazon.com/organizations/latest/APIReference/API_DetachPolicy.html
    reasons = {
        SERVICE_CONTROL_POLICY: f"the guardrails of {names_text(guarded)} are SCPs; AWS attaches its FullAWSAccess SCP "
                                "to the root, every OU and every account (it allows everything; the guardrails then "
                                "deny)" if guarded else "organization.policy_types lists it; AWS attaches its "
                                "FullAWSAccess SCP to the root, every OU and every account (it allows everything)",
        RESOURCE_CONTROL_POLICY: f"the data perimeter{'s' if len(perimeter) > 1 else ''} of {names_text(perimeter)} "
                                 f"{'are RCPs' if len(perimeter) > 1 else 'is an RCP'}; AWS attaches its "
                                 "RCPFullAWSAccess RCP to the root, every OU and every account, for good (it cannot be "
                                 "detached; it allows everything, the perimeter then denies)" if perimeter else
                                 "organization.policy_types lists it; AWS attaches its RCPFullAWSAccess RCP to the "
                                 "root, every OU and every account, for good (it cannot be detached; it allows everything)",
    }
    return f"enables the policy type {policy_type}: " + reasons.get(policy_type, "organization.policy_types lists it")


def touched_environments(org: Org, changes: Sequence[ResourceChange],
                         former_stacks: Iterable[str] = ()) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The environments a management plan's changes reach from outside their own stacks, as
    stack names: (Identity Center access changed, guardrails or account settings changed).
    Each change counts only for the accounts it reaches (Org.environments_changed_by,
    Org.environments_guarded_by), so that a protected environment's name is asked for only
    when its account really changes: an assignment for its own account, a permission set or
    a group's policy where that group is assigned, an SCP or RCP for its product's
    environments, contacts and opt-in regions for their own account; an import of what is
    already as org.yaml sets it, and what leaves state (forget), for none.  `former_stacks`: the
    environments the management stack holds that org.yaml no longer has (being retired): what
    leaves with them reaches none of org.yaml's."""
    if not changes:
        return (), ()
    # What enters state as it is (an import without a change) or leaves it (forget) changes no account.
    changed = {c.address for c in changes if c.actions not in (("no-op",), ("forget",))}
    access = org.environments_changed_by(changed, former_stacks) if org.identity_center else ()
    return tuple(env.stack for env in access), tuple(env.stack for env in org.environments_guarded_by(changed))


def perimeter_warning(product: Product, env: Environment) -> str:
    """What a data perimeter denies in an adopted account that worked there before, and the way
    out that works: the identity perimeter (modules/guardrail_policies.py) denies every
    principal outside the organization, and an anonymous request carries no aws:PrincipalOrgID;
    CloudFront's origin access identities are outside principals too
    (aws-samples/data-perimeter-policy-examples, resource_control_policies/README.md).  Its
    dp:exclude:identity tag exempts no S3 general purpose bucket: they evaluate no resource tag
    unless S3 ABAC is on for them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/buckets-tagging-enable-abac.html)."""
    return (f"the data perimeter {product.data_perimeter_policy_name} reaches the adopted account {env.stack} "
            f"({env.account_id}): there anyone outside the organization is denied its S3 buckets, KMS keys, SQS queues, "
            "secrets and the other resources RCPs cover, anonymous requests included (a public bucket, an S3 website "
            "endpoint), and so are CloudFront origin access identities (OAI; origin access control is allowed); to keep "
            f"the account out, set data_perimeter: false under products.{product.name}.environments.{env.name} (a "
            "dp:exclude:identity tag exempts no S3 bucket unless S3 ABAC is on for it)")


def perimeter_notes(org: Org, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    """The adopted accounts a data perimeter reaches with this plan for the first time: its RCP
    attached to their OU or to them now, or they adopted into an OU that has it."""
    changed = {c.address: c for c in changes}

    def new(address: str, importing: bool = False) -> bool:
        change = changed.get(address)
        return change is not None and ("create" in change.actions or (importing and change.importing))

    notes = []
    for product, env in org.adopted_in_data_perimeter:
        attachment = (product.data_perimeter_account_address(env) if product.data_perimeter_per_account
                      else product.data_perimeter_addresses[1])
        if new(attachment) or (not product.data_perimeter_per_account and new(env.account_address, importing=True)):
            notes.append(perimeter_warning(product, env))
    return tuple(notes)


def released_contact_notes(org: Org, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    """A contact org.yaml no longer sets (its kind null, or `contacts` removed) leaves state
    through a `removed` block (reconcile.released_contacts): it stays on AWS as it is."""
    kinds = {contact_address(env.stack, kind): (env, kind) for env in org.environments for kind in CONTACT_KINDS}
    notes = []
    for change in changes:
        if change.address in kinds and "forget" in change.actions:
            env, kind = kinds[change.address]
            notes.append(f"the {kind} contact of {env.stack} is no longer org.yaml's: forgotten, it stays on AWS as it "
                         "is (awsenvs neither sets nor checks it; delete it in the account's settings if it should go)")
    return tuple(notes)
