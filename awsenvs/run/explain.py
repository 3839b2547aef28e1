"""What a plan means for people, beyond its counts: one line each under the summary table
(why each import, the environments a management plan reaches from outside their own
stacks, opt-in regions, what the organization turns on or off, the data perimeter's reach,
released contacts), what an apply's failure means, and which stacks an operator confirms by
typing their account name.  Pure: the model and the plan's changes in, lines out; the
Terraform addresses a plan names are placed here, not in config (which knows names and
rules, not plans)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

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
    Group,
    Org,
    Product,
    contact_address,
)
from awsenvs.config.names import (
    ASSIGNMENT_RESOURCE,
    IDENTITY_USER_RESOURCE,
    PERMISSION_SET_RESOURCE,
    POLICY_ATTACHMENT_RESOURCE,
    named_first,
    named_last,
)
from awsenvs.results import StackStatus, names_text
from awsenvs.run.confirm import Protected
from awsenvs.run.stackdir import ImportBlock, SavedPlan
from awsenvs.terraform import STALE_PLAN, ResourceChange


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
    Each change counts only for the accounts it reaches (environments_changed_by,
    environments_guarded_by), so that a protected environment's name is asked for only
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
    access = environments_changed_by(org, changed, former_stacks) if org.identity_center else ()
    return tuple(env.stack for env in access), tuple(env.stack for env in environments_guarded_by(org, changed))


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


def environments_changed_by(org: Org, addresses: set[str], former_stacks: Iterable[str] = ()) -> tuple[Environment, ...]:
    """identity_center: the environments where who may do what changes with these changed
    management-stack addresses, each placed by its name (Assignment.tf_name and the
    permission sets' and attachments' names, see names.named_first):

    - an account assignment reaches the account it names, also one org.yaml no longer lists
      (a person moved out of prod reaches prod alone); one of `former_stacks` (environments
      the management stack still holds that org.yaml no longer has: being retired) reaches
      no environment of org.yaml;
    - a permission set, or a managed policy attachment of its group (one org.yaml no longer
      lists too: it still names its group), reaches every environment where that group is
      assigned; an identity-store user, every environment where the user is assigned;
    - the permission set and attachments of a group org.yaml no longer has reach where this
      plan's assignments of that group are (they leave with it: a set is in an account only
      through them);
    - what cannot be placed (an assignment naming no environment, known or former; a removed
      group's set with no assignment of it in the plan; an attachment naming no group) counts
      for every environment, so that no protected one goes unasked."""
    environments = org.environments
    current = {env.stack for env in environments}
    former = [stack for stack in former_stacks if stack not in current]
    assignments = org.assignments
    by_address = {a.address: a for a in assignments}
    changed_assignments = [a for a in addresses if a.split(".", 1)[0] == ASSIGNMENT_RESOURCE]
    attachments = {address: g for g in org.groups for address in g.policy_attachment_addresses}
    sets = {g.permission_set_address: g for g in org.groups}
    gone_sets = [a.split(".", 1)[1] for a in addresses if a.split(".", 1)[0] == PERMISSION_SET_RESOURCE and a not in sets]

    def assignment_reach(address: str) -> set[str] | None:
        if address in by_address:
            return {by_address[address].environment.stack}
        stacks = named_first(address, [*current, *former])
        return {stack for stack in stacks if stack in current} if stacks else None

    def assigned(groups: Sequence[Group]) -> set[str]:
        names = {g.name for g in groups}
        return {a.environment.stack for a in assignments if a.group.name in names}

    def gone_group_reach(names: Sequence[str]) -> set[str] | None:
        leaving = [a for a in changed_assignments if any(named_last(a, name) for name in names)]
        reach = [assignment_reach(a) for a in leaving]
        return None if not reach or None in reach else set().union(*reach)

    reached: set[str] = set()
    for address in addresses:
        kind, _, name = address.partition(".")
        if kind == ASSIGNMENT_RESOURCE:
            reach = assignment_reach(address)
        elif kind == IDENTITY_USER_RESOURCE:
            reach = {a.environment.stack for a in assignments if a.user.tf_name == name}
        elif kind == PERMISSION_SET_RESOURCE:
            reach = assigned([sets[address]]) if address in sets else gone_group_reach([name])
        elif kind == POLICY_ATTACHMENT_RESOURCE:
            groups = [attachments[address]] if address in attachments else [
                g for g in org.groups if named_first(address, [g.name])]
            gone = named_first(address, gone_sets)
            reach = assigned(groups) if groups else gone_group_reach(gone) if gone else None
        else:
            continue
        if reach is None:
            return environments
        reached |= reach
    return tuple(env for env in environments if env.stack in reached)


def environments_guarded_by(org: Org, addresses: set[str]) -> tuple[Environment, ...]:
    """The environments whose guardrails or account settings change with these changed
    management-stack addresses: every environment of a product whose SCP or RCP (or its
    attachment) changes, and each environment whose contacts or opt-in regions change."""
    def own(env: Environment) -> set[str]:
        return {*(env.contact_address(c) for c in env.contacts),
                *(env.region_address(r) for r in (*env.regions, *env.disable_regions))}

    return tuple(env for product in org.products for env in product.environments
                 if {*product.guardrails_addresses, *product.data_perimeter_all_addresses} & addresses
                 or own(env) & addresses)


def declared_imports(org: Org, stack: str) -> dict[str, str]:
    """Address -> why, of the import blocks synthesized into a stack from org.yaml itself
    (the management stack's adopted accounts and adopted organization), for the plan's
    one line per import."""
    if stack != MANAGEMENT_STACK:
        return {}
    reasons = {env.account_address:
               f"adopted account {env.account_id} ({env.account_name}: "
               f"products.{env.product}.environments.{env.name}.account_id)"
               for env in org.environments if env.adopted}
    if org.organization_id:
        reasons[ORGANIZATION_ADDRESS] = (
            f"the existing organization {org.organization_id} (organization.organization_id)")
    return reasons


# -- a stack's plan, for people ------------------------------------------------------


@dataclass(frozen=True)
class PlanNotes:
    notes: tuple[str, ...] = ()  # one line each, under the summary table
    risks: tuple[str, ...] = ()  # changes people rely on: need the typed confirmation
    touches: tuple[str, ...] = ()  # other stacks whose protection this plan's changes fall under


def plan_notes(org: Org, stack: str, changes: Sequence[ResourceChange], imports: Sequence[ImportBlock],
               former_stacks: Iterable[str] = ()) -> PlanNotes:
    """What a stack's plan means beyond its counts: why each import, the environments a
    management plan reaches from outside their own stacks (touched_environments; so that
    their protection, mfa: required, applies), the opt-in regions it turns on or off, and
    the management notes.  `imports`: the look-ups' import blocks; `former_stacks`: the
    environments the management stack holds that org.yaml no longer has (being retired)."""
    notes, risks = import_notes(org, stack, changes, imports)
    access, guardrails = touched_environments(org, changes, former_stacks) if stack == MANAGEMENT_STACK else ((), ())
    notes += tuple(f"Identity Center access to {t} changes (account assignments)" for t in access)
    notes += tuple(f"the guardrails or account settings of {t} change (its OU's policies, its contacts or "
                   "its opt-in regions)" for t in guardrails)
    notes += region_notes(org, stack, changes)
    notes += management_notes(org, stack, changes)
    return PlanNotes(notes, risks, tuple(dict.fromkeys((*access, *guardrails))))


def import_notes(org: Org, stack: str, changes: Sequence[ResourceChange],
                 imports: Sequence[ImportBlock]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """One line per import the plan really makes (objects already in state are no-ops):
    the look-ups' reason, or what org.yaml says of an import block synthesized into the
    stack (an adopted account, the organization); (notes, risks)."""
    found = {i.address: i for i in imports}
    declared = declared_imports(org, stack)
    notes, risks = [], []
    for address in (c.address for c in changes if c.importing):
        if address in found:
            (risks if found[address].risky else notes).append(f"import {address}: {found[address].reason}")
        else:
            notes.append(f"import {address}: {declared.get(address, 'an import block of the synthesized stack')}")
    return tuple(notes), tuple(risks)


def region_notes(org: Org, stack: str, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    """Opt-in regions this management plan turns on or off: AWS takes minutes to hours
    (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html), and
    the provider waits until it is done."""
    if stack != MANAGEMENT_STACK:
        return ()
    listed = {env.region_address(region): (env, region, region in env.regions)
              for env in org.environments for region in (*env.regions, *env.disable_regions)}
    notes = []
    for change in changes:
        if change.address in listed and change.changes and "delete" not in change.actions:
            env, region, enabling = listed[change.address]
            notes.append(f"{'enabling' if enabling else 'disabling'} {region} in {env.stack} takes minutes to "
                         "hours on AWS: apply waits for it")
    return tuple(notes)


def apply_failure(org: Org, stack: str, message: str) -> str:
    """An apply's failure in the words of what to do about it, where its diagnostic is one
    org.yaml can fix."""
    if STALE_PLAN in message:
        return "its state changed since the plan was made (another run?): run apply again to plan anew"
    if "CreateAccountAlias" in message and "EntityAlreadyExists" in message and stack != MANAGEMENT_STACK:
        # Aliases are unique across all of AWS, not per organization
        # (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccountAlias.html: EntityAlreadyExists).
        env = org.environment_by_stack(stack)
        return (f"the account alias {env.alias!r} belongs to another AWS account (aliases are unique across all of "
                f"AWS): choose another with alias: under products.{env.product}.environments.{env.name} in "
                f"{org.source.name}, then plan and apply again")
    return message


# -- who must confirm what -----------------------------------------------------------


def protected_stacks(org: Org, saved: Mapping[str, SavedPlan | None], retiring: Sequence = ()) -> tuple[Protected, ...]:
    """The stacks about to be applied whose account name an operator types first: every
    `mfa: required` environment whose plan changes something or creates its account, one
    whose access, guardrails or account settings the management stack changes (touches),
    every environment being retired, and every stack whose plan changes what people rely
    on (its risks: an adopted account's alias)."""
    protected = [
        Protected(env.stack, env.account_name, "mfa: required", _what(saved[env.stack]))
        for env in org.environments
        if env.mfa_required and env.stack in saved and saved[env.stack]
        and saved[env.stack].status in (StackStatus.CHANGES, StackStatus.WAITING)
    ]
    # A protected environment's access (identity_center) or guardrails change in the management stack.
    management = saved.get(MANAGEMENT_STACK)
    for stack in management.touches if management else ():
        env = org.environment_by_stack(stack)
        if env.mfa_required and stack not in {p.stack for p in protected}:
            protected.append(Protected(MANAGEMENT_STACK, env.account_name, "it changes the access, guardrails or "
                                       f"account settings of {env.stack}, mfa: required", _what(management)))
    # With Identity Center the account stacks hold no IAM users: nobody to lock out.
    locked = "" if org.identity_center else ", its IAM users lose their console passwords and access keys"
    protected += [Protected(r.stack, r.account_name, "retire: removed from org.yaml; "
                            + (f"{' and '.join(r.enabling)} is enabled in the organization first, " if r.enabling else "")
                            + "the account moves to the Suspended OU, where only the managing roles can act"
                            + locked + (f", {r.closing}" if r.closing else ""), _what(saved.get(r.stack)))
                  for r in retiring]
    for stack, plan_ in saved.items():
        if plan_ is None or plan_.status is StackStatus.RETIRE:
            continue
        if plan_.risks and stack not in {p.stack for p in protected}:
            env = org.environment_by_stack(stack)
            protected.append(Protected(stack, env.account_name, "; ".join(plan_.risks), _what(plan_)))
    return tuple(protected)


def _what(saved: SavedPlan | None) -> str:
    """What a protected stack's plan does, named right in its confirmation prompt."""
    if saved is None:
        return "its plan"
    if saved.status is StackStatus.WAITING:
        created = f", {saved.summary.add} resources" if saved.summary else ""
        return f"its whole baseline (a new account, created by the management stack{created})"
    s = saved.summary
    counts = f"{s.add} to add, {s.change} to change, {s.destroy} to destroy, {s.imports} to import" if s else "changes"
    if s and s.forget:
        counts += f", {s.forget} to leave state"
    return counts + (f" ({'; '.join(saved.risks)})" if saved.risks else "")
