"""What a management stack's plan means for the accounts it reaches, beyond its counts: one
line each, under the summary table (the runner adds them to the stack's notes).  Pure: the
model and the plan's changes in, lines out."""

from __future__ import annotations

from typing import Iterable, Sequence

from awsenvs.config import CONTACT_KINDS, MANAGEMENT_STACK, Environment, Org, Product, contact_address
from awsenvs.terraform import ResourceChange


def management_notes(org: Org, stack: str, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    if stack != MANAGEMENT_STACK:
        return ()
    return (*perimeter_notes(org, changes), *released_contact_notes(org, changes))


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
