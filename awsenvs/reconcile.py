"""Reconcile: objects that already exist under the names a stack manages become Terraform
`import` blocks, decided from live facts (awsenvs.live).

Why: an interrupted apply leaves accounts and OUs that exist but are not in state; creating
them again fails on AWS (each root email is unique: CreateAccount fails with
EMAIL_ALREADY_EXISTS,
https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccountStatus.html;
DuplicateOrganizationalUnitException) and IAM answers EntityAlreadyExists.  An organization
made by hand (`awsenvs import`) holds all of them before the first apply.  Whatever already
exists under a configured name is imported instead; an import block for an object already
in state is a no-op (https://developer.hashicorp.com/terraform/language/import).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import boto3

from awsenvs.checks import AdoptionError
from awsenvs.config import (
    BREAK_GLASS_ALERT_NAME,
    BREAK_GLASS_GROUP,
    BREAK_GLASS_POLICY_NAME,
    BreakGlass,
    ALIAS_ADDRESS,
    BUDGET_ADDRESS,
    CI_APPLY_POLICY_ADDRESS,
    CI_APPLY_ROLE_ADDRESS,
    CI_PLAN_POLICY_ADDRESS,
    CI_PLAN_ROLE_ADDRESS,
    CI_POLICY_NAME,
    CI_READ_ROLE_ADDRESS,
    CONTACT_KINDS,
    GITHUB_OIDC_PROVIDER_ADDRESS,
    MFA_GROUP_NAME,
    MFA_POLICY_ADDRESS,
    MFA_POLICY_NAME,
    OIDC_PROVIDER_ADDRESS,
    ORGANIZATION_ADDRESS,
    PASSWORD_POLICY_ADDRESS,
    ROOT_ACCESS_ADDRESS,
    RUN_ROLE_POLICY_NAME,
    STATE_BUCKET_ADDRESS,
    STATE_BUCKET_POLICY_ADDRESS,
    STATE_BUCKET_PUBLIC_ACCESS_ADDRESS,
    Environment,
    GitHubCi,
    Group,
    Org,
    RunRole,
    contact_address,
    tf_name,
)
from awsenvs.live.bootstrap import read_oidc_provider, read_role, read_state_bucket
from awsenvs.live.facts import LiveIdentityCenter, LiveOrganization
from awsenvs.live.iam import AccountProbe


@dataclass(frozen=True)
class Import:
    """An existing object to bring into a stack's state, and why (shown with the plan)."""

    address: str
    id: str
    reason: str
    risky: bool = False  # the plan then changes something people rely on (an alias)


# --------------------------------------------------------------------------- account stacks


def account_stack_imports(env: Environment, probe: AccountProbe, iam_users: bool = True,
                          held: frozenset[str] = frozenset(), read_role: str | None = None) -> list[Import]:
    """IAM objects that already exist in the account under the names the stack manages
    (with Identity Center access only the alias and password policy: the stack has no
    IAM users, and an import block for an address it lacks is an error).
    `held`: addresses already in the stack's state, not looked up (importing one is a
    no-op): a user added to a product costs its own few calls, not the whole account's,
    and a stack whose state holds every one of them makes none, not even the session.
    `read_role`: the CI read role's name, when the stack makes one (ci.github)."""
    imports: list[Import] = []
    if iam_users:
        imports += _iam_user_imports(env, probe, held)
    if read_role is not None and CI_READ_ROLE_ADDRESS not in held and probe.role(read_role):
        imports.append(Import(CI_READ_ROLE_ADDRESS, read_role, f"existing IAM role {read_role}: its trust and "
                                                               "permissions are set to the configured ones", risky=True))
    if ALIAS_ADDRESS not in held:
        aliases = probe.aliases()
        if aliases:
            imports.append(alias_import(env, aliases[0]))
    if PASSWORD_POLICY_ADDRESS not in held and probe.password_policy():
        imports.append(Import(PASSWORD_POLICY_ADDRESS, "iam-account-password-policy",
                              "existing password policy (set to the configured one)"))
    # Budget names are unique per account: creating it again fails with DuplicateRecordException
    # (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_budgets_CreateBudget.html).
    if env.budget is not None and BUDGET_ADDRESS not in held and probe.budget(env.budget_name):
        imports.append(Import(BUDGET_ADDRESS, f"{probe.account_id}:{env.budget_name}",
                              f"existing budget {env.budget_name} (set to the configured one)"))
    return imports


def _iam_user_imports(env: Environment, probe: AccountProbe, held: frozenset[str]) -> list[Import]:
    """Users, their console passwords and group memberships, groups and the policies already
    attached to them, the MFA roles and policy.  Import ids as the provider documents them:
    `<user>/<group>/<group>` for a membership (only the groups the user is in already: the
    provider's read keeps those, the plan adds the rest) and `<group>/<policy ARN>` for an
    attachment (https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/iam_user_group_membership#import,
    .../iam_group_policy_attachment#import)."""
    imports: list[Import] = []
    groups = [g.name for g in env.groups] + ([MFA_GROUP_NAME] if env.mfa_required else [])
    live_groups: set[str] = set()
    for group in groups:
        address = f"aws_iam_group.{tf_name(group)}"
        if address in held:
            live_groups.add(group)
        elif probe.group(group):
            live_groups.add(group)
            imports.append(Import(address, group, f"existing IAM group {group}"))
    for user in env.users:
        user_address, login_address = f"aws_iam_user.{user.tf_name}", f"aws_iam_user_login_profile.{user.tf_name}"
        membership_address = f"aws_iam_user_group_membership.{user.tf_name}"
        if user_address in held:
            user_exists = True  # in state: it exists (or the plan recreates it), never imported again
        elif user_exists := probe.user(user.name):
            imports.append(Import(user_address, user.name, f"existing IAM user {user.name}"))
        if user_exists and user.console and login_address not in held and probe.login_profile(user.name):
            imports.append(Import(login_address, user.name, f"existing console password of {user.name} (kept as it is)"))
        wanted = [*user.groups, *([MFA_GROUP_NAME] if env.mfa_required else [])]
        if user_exists and wanted and membership_address not in held:
            already = [g for g in probe.groups_of(user.name) if g in wanted]
            if already:
                imports.append(Import(membership_address, "/".join([user.name, *already]),
                                      f"{user.name} already in {', '.join(already)}"))
    for group in env.groups:
        addresses = {p: f"aws_iam_group_policy_attachment.{tf_name(group.name, p.rsplit('/', 1)[-1])}" for p in group.policies}
        if group.name not in live_groups or all(a in held for a in addresses.values()):
            continue
        attached = set(probe.group_policies(group.name))
        for policy, address in addresses.items():
            if address not in held and policy in attached:
                imports.append(Import(address, f"{group.name}/{policy}", f"{policy} already attached to {group.name}"))
    if env.mfa_required:
        for group in env.groups:
            address = f"aws_iam_role.{tf_name(group.admin_role_name)}"
            if address not in held and probe.role(group.admin_role_name):
                imports.append(Import(address, group.admin_role_name, f"existing IAM role {group.admin_role_name}"))
        policy_arn = f"arn:aws:iam::{probe.account_id}:policy/{MFA_POLICY_NAME}"
        if MFA_POLICY_ADDRESS not in held and probe.policy(policy_arn):
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


# --------------------------------------------------------------------------- the management stack


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
            if account is not None and not account.closed:
                imports.append(Import(
                    env.account_address, account.id,
                    f"found existing account {account.id} for {env.account_name} (root email {account.email}), "
                    "e.g. left by an interrupted apply",
                ))
    return imports




def break_glass_imports(org: Org, probe: AccountProbe, held: frozenset[str]) -> list[Import]:
    """organization.break_glass's users (their console passwords and group membership), group,
    policy and the alert's forwarding role that exist in the management account already:
    made by hand before, or by an apply whose answer was lost (IAM answers
    EntityAlreadyExists to a second create)."""
    glass = org.break_glass
    if glass is None:
        return []
    imports = []
    group, policy = tf_name(BREAK_GLASS_GROUP), tf_name(BREAK_GLASS_POLICY_NAME)
    if f"aws_iam_group.{group}" not in held and probe.group(BREAK_GLASS_GROUP):
        imports.append(Import(f"aws_iam_group.{group}", BREAK_GLASS_GROUP, f"existing IAM group {BREAK_GLASS_GROUP}"))
    arn = f"arn:aws:iam::{probe.account_id}:policy/{BREAK_GLASS_POLICY_NAME}"
    if f"aws_iam_policy.{policy}" not in held and probe.policy(arn):
        imports.append(Import(f"aws_iam_policy.{policy}", arn, f"existing IAM policy {BREAK_GLASS_POLICY_NAME}"))
    forward = f"{BREAK_GLASS_ALERT_NAME}-forward"
    address = f"aws_iam_role.{tf_name(BREAK_GLASS_ALERT_NAME, 'forward')}"
    if glass.alert_email and address not in held and probe.role(forward):
        imports.append(Import(address, forward, f"existing IAM role {forward}"))
    for user in glass.users:
        name = BreakGlass.tf_name(user)
        if f"aws_iam_user.{name}" in held:
            continue
        if probe.user(user):
            imports.append(Import(f"aws_iam_user.{name}", user, f"existing IAM user {user} (break-glass)"))
            if probe.login_profile(user):
                imports.append(Import(f"aws_iam_user_login_profile.{name}", user,
                                      f"existing console password of {user} (kept as it is)"))
            if BREAK_GLASS_GROUP in probe.groups_of(user):
                imports.append(Import(f"aws_iam_user_group_membership.{name}", f"{user}/{BREAK_GLASS_GROUP}",
                                      f"{user} already in {BREAK_GLASS_GROUP}"))
    return imports


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
        for name, on, (policy, attachment), what in (
                (product.guardrails_policy_name, product.guardrails is not None, product.guardrails_addresses,
                 "service control policy"),
                (product.data_perimeter_policy_name, product.data_perimeter is not None,
                 product.data_perimeter_addresses, "resource control policy")):
            policy_id = live.policies.get(name)
            if not on or policy_id is None:
                continue
            imports.append(Import(policy, policy_id, f"existing {what} {name} (set to the configured text)"))
            ou_id = live.ous.get(product.ou_name)
            if what == "resource control policy" and product.data_perimeter_per_account:
                imports += _perimeter_account_imports(product, live, policy_id, targets.get(policy_id, frozenset()))
            elif ou_id is not None and ou_id in targets.get(policy_id, ()):
                imports.append(Import(attachment, f"{ou_id}:{policy_id}", f"{name} already attached to OU {product.ou_name}"))
    return imports


def _perimeter_account_imports(product, live: LiveOrganization, policy_id: str, targets: frozenset[str]) -> list[Import]:
    """A data perimeter attached to each covered account (some are out of it): the attachments
    that exist already (import id `<account id>:<policy id>`)."""
    imports = []
    for env in product.perimeter_environments:
        account = live.account_by_id(env.account_id) if env.adopted else live.account_by_email(env.email)
        if account is not None and account.id in targets:
            imports.append(Import(product.data_perimeter_account_address(env), f"{account.id}:{policy_id}",
                                  f"{product.data_perimeter_policy_name} already attached to {env.stack}'s account"))
    return imports




def contact_imports(org: Org, account_ids: Mapping[str, str], held: frozenset[str],
                    read_contacts: Callable[[str], Mapping[str, tuple[str, str, str, str] | None]]) -> list[Import]:
    """The alternate contacts an account already has, of the kinds org.yaml sets there, that the
    management stack does not hold yet (an adopted account's, set before awsenvs): imported,
    so that the plan shows the live contact it replaces as an update instead of a plain create
    that overwrites it unseen (import id `<account id>/<TYPE>`: the provider's
    internal/service/account/alternate_contact.go).  `read_contacts(account id)`: kind ->
    (name, title, email, phone), or None (live.organization.read_alternate_contacts)."""
    imports = []
    for env in org.environments:
        account_id = account_ids.get(env.stack)
        wanted = [c for c in env.contacts if env.contact_address(c) not in held]
        if account_id is None or not wanted:
            continue
        live = read_contacts(account_id)
        for contact in wanted:
            found = live.get(contact.kind)
            if found is None:
                continue
            ours = (contact.name, contact.title, contact.email, contact.phone)
            reason = (f"existing {contact.kind} contact of {env.stack}" + (" (as org.yaml sets it)" if found == ours else
                      f", set before awsenvs: {', '.join(found)}; replaced by org.yaml's: {', '.join(ours)}"))
            imports.append(Import(env.contact_address(contact), f"{account_id}/{contact.contact_type}", reason))
    return imports


def released_contacts(org: Org, held: frozenset[str]) -> list[str]:
    """The management stack's contacts that org.yaml no longer sets (a kind set to null, or
    `contacts` removed): they leave state through a `removed` block and stay on AWS as they
    are.  Without it, the provider's delete would call DeleteAlternateContact
    (internal/service/account/alternate_contact.go) and erase them."""
    configured = {env.contact_address(c) for env in org.environments for c in env.contacts}
    ours = {contact_address(env.stack, kind) for env in org.environments for kind in CONTACT_KINDS}
    return sorted((held & ours) - configured)


# An opt-in region's request that is under way or done: imported instead of made again.  The
# provider (v5.100.0) reads the status before it calls EnableRegion and waits for an ENABLING
# region instead (hashicorp/terraform-provider-aws#41678, after #41430: AWS refuses a second
# EnableRegion with "Unable to switch region status because of its current opt-in status").
_REGION_UNDER_WAY = {True: ("ENABLING", "ENABLED"), False: ("DISABLING", "DISABLED")}


def region_imports(org: Org, account_ids: Mapping[str, str], held: frozenset[str],
                   read_region: Callable[[str, str], str]) -> list[Import]:
    """Opt-in regions listed in org.yaml that the management stack does not hold yet, whose
    request already ran (an apply interrupted or timed out while AWS enabled the region: the
    provider saves a region only once it is done): imported, so that the plan says the
    request is under way and the apply waits for it (import id `<account id>,<region>`:
    internal/service/account/region.go).  `read_region(account id, region)`: its status."""
    imports = []
    for env in org.environments:
        account_id = account_ids.get(env.stack)
        if account_id is None:
            continue
        for region, enabled in (*((r, True) for r in env.regions), *((r, False) for r in env.disable_regions)):
            if env.region_address(region) in held:
                continue
            status = read_region(account_id, region)
            changing, done = _REGION_UNDER_WAY[enabled]
            if status == changing:
                reason = (f"{region} in {env.stack} is {status} since an earlier apply (interrupted, or past its wait): "
                          "this apply waits for AWS to finish, without asking again")
            elif status == done:
                reason = f"{region} is already {status} in {env.stack}"
            else:
                continue
            imports.append(Import(env.region_address(region), f"{account_id},{region}", reason))
    return imports


def root_access_imports(org: Org, live: LiveOrganization | None, enabled: tuple[str, ...]) -> list[Import]:
    """Centralized root access turned on before awsenvs (in the console) is imported and set to
    the configured features, rather than enabled a second time (import id: the organization's
    id, https://registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/iam_organizations_features#import)."""
    if not org.centralized_root or live is None or not enabled:
        return []
    return [Import(ROOT_ACCESS_ADDRESS, live.id, f"centralized root access already on ({', '.join(sorted(enabled))})")]




def identity_center_imports(org: Org, live: LiveIdentityCenter | None, account_ids: Mapping[str, str],
                            account_labels: Mapping[str, str] | None = None) -> list[Import]:
    """Identity Center objects that exist under the names the management stack manages.
    An adopted permission set's reason says what on it org.yaml does not name and the plan
    leaves as it is (`account_labels`: account id -> how to name it).

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
        kept = kept_on_permission_set(org, group, live, account_ids, account_labels or {})
        imports.append(Import(group.permission_set_address, f"{arn},{live.instance_arn}",
                              f"existing permission set {group.permission_set_name}" + (
                                  f"; what org.yaml does not name stays on it as it is (apply leaves it): {'; '.join(kept)}"
                                  if kept else "")))
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


def kept_on_permission_set(org: Org, group: Group, live: LiveIdentityCenter, account_ids: Mapping[str, str],
                           account_labels: Mapping[str, str]) -> list[str]:
    """What a live permission set holds beyond org.yaml's group: other managed policies, an
    inline policy or customer managed references, and assignments org.yaml does not make (in
    the accounts its live facts read: every account it is provisioned to, when adopted)."""
    arn = live.permission_sets[group.permission_set_name]
    kept = []
    extra = sorted(set(live.policies.get(arn, ())) - set(group.policies))
    if extra:
        kept.append(f"the polic{'y' if len(extra) == 1 else 'ies'} {', '.join(extra)} (audit reports "
                    f"{'it' if len(extra) == 1 else 'them'}: detach, or add to groups.{group.name}.policies)")
    kept += [f"{kind} (not managed)" for kind in live.unmanaged.get(arn, ())]
    configured = {(account_ids.get(a.environment.stack), live.users.get(a.user.name))
                  for a in org.assignments if a.group.name == group.name}
    users = {user_id: name for name, user_id in live.users.items()}
    groups = {group_id: f"group {name}" for name, group_id in live.groups.items()}
    others = sorted(
        (account_labels.get(account, account), (users if kind == "USER" else groups).get(principal, principal))
        for account, assigned, kind, principal in live.assignments
        if assigned == arn and not (kind == "USER" and (account, principal) in configured))
    if others:
        kept.append("its assignment" + ("s" if len(others) > 1 else "") + " of "
                    + ", ".join(f"{principal} in {account}" for account, principal in others))
    return kept


# --------------------------------------------------------------------------- bootstrap


def bootstrap_imports(org: Org, roles: Sequence[RunRole], held: frozenset[str] = frozenset(),
                      session: boto3.Session | None = None) -> list[Import]:
    """What of the bootstrap stack already exists in the management account (made by hand,
    or by a bootstrap whose local state was lost): imported rather than created twice,
    which AWS refuses (BucketAlreadyOwnedByYou, EntityAlreadyExists).  `held`: addresses
    already in the bootstrap state, not looked up (importing one would be a no-op, and its
    warning that the object's settings are replaced would be false: they are its own)."""
    session = session or boto3._get_default_session()  # the run's (aws.connect): its region
    imports: list[Import] = []
    if org.state.backend == "s3":
        imports += _state_bucket_imports(org.state.s3.bucket, session.client("s3", region_name=org.state.s3.region), held)
    if org.state.backend == "cloud":
        imports += _run_role_imports(org, roles, session.client("iam"), held)
    if org.github is not None:
        imports += _github_imports(org.github, session.client("iam"), held)
    return imports


def _state_bucket_imports(bucket: str, s3, held: frozenset[str]) -> list[Import]:
    wanted = {STATE_BUCKET_ADDRESS, STATE_BUCKET_POLICY_ADDRESS, STATE_BUCKET_PUBLIC_ACCESS_ADDRESS} - held
    if not wanted:
        return []
    live = read_state_bucket(bucket, s3)
    if not live.exists:
        return []
    if not live.ours:
        # Bucket names are global: someone else's bucket answers 403.
        raise AdoptionError(f"state.s3.bucket: {bucket} exists but these credentials cannot use it (another "
                            "account's bucket? bucket names are global): choose another name")
    imports = [Import(STATE_BUCKET_ADDRESS, bucket, f"existing bucket {bucket} (versioning, encryption, public access "
                                                    "block and policy are set to the configured ones)")]
    if live.policy:
        imports.append(Import(STATE_BUCKET_POLICY_ADDRESS, bucket,
                              f"existing policy of {bucket}: replaced by the TLS-only one (any other statement goes)", risky=True))
    if live.public_access_block:
        imports.append(Import(STATE_BUCKET_PUBLIC_ACCESS_ADDRESS, bucket, f"existing public access block of {bucket}"))
    return [item for item in imports if item.address in wanted]


def _run_role_imports(org: Org, roles: Sequence[RunRole], iam, held: frozenset[str]) -> list[Import]:
    imports = []
    existing = read_oidc_provider(org.state.oidc_provider_arn_suffix, iam) if OIDC_PROVIDER_ADDRESS not in held else None
    if existing:
        # Others may use the same provider (one per URL in an account): its audiences become ours.
        imports.append(Import(OIDC_PROVIDER_ADDRESS, existing, f"existing OIDC provider of {org.state.cloud.hostname}: "
                                                               "its audiences (client ids) are set to the configured one only",
                              risky=True))
    for role in roles:
        policy_wanted = not role.waiting and role.policy_address not in held
        if role.address in held and not policy_wanted:
            continue
        found, has_policy = read_role(role.name, iam, RUN_ROLE_POLICY_NAME if policy_wanted else None)
        if found and role.address not in held:
            imports.append(Import(role.address, role.name,
                                  f"existing role {role.name}: its trust policy is set to this workspace's", risky=True))
        if found and has_policy:
                imports.append(Import(role.policy_address, f"{role.name}:{RUN_ROLE_POLICY_NAME}",
                                      f"existing policy {RUN_ROLE_POLICY_NAME} of {role.name}"))
    return imports


def _github_imports(github: GitHubCi, iam, held: frozenset[str]) -> list[Import]:
    """GitHub's OIDC provider (one per URL in an account: another tool's may be there) and the
    two CI roles with their policies, when they exist already."""
    imports = []
    existing = read_oidc_provider(github.oidc_provider_arn_suffix, iam) if GITHUB_OIDC_PROVIDER_ADDRESS not in held else None
    if existing:
        imports.append(Import(GITHUB_OIDC_PROVIDER_ADDRESS, existing,
                              f"existing OIDC provider of {github.oidc_host}: its audiences (client ids) are set to "
                              f"{github.audience} only (other roles trusting it with another audience stop working)",
                              risky=True))
    for name, address, policy_address in ((github.plan_role_name, CI_PLAN_ROLE_ADDRESS, CI_PLAN_POLICY_ADDRESS),
                                          (github.apply_role_name, CI_APPLY_ROLE_ADDRESS, CI_APPLY_POLICY_ADDRESS)):
        if address in held and policy_address in held:
            continue
        found, has_policy = read_role(name, iam, CI_POLICY_NAME if policy_address not in held else None)
        if found and address not in held:
            imports.append(Import(address, name, f"existing role {name}: its trust policy is set to {github.repository}'s "
                                                 "jobs", risky=True))
        if found and has_policy:
            imports.append(Import(policy_address, f"{name}:{CI_POLICY_NAME}", f"existing policy {CI_POLICY_NAME} of {name}"))
    return imports
