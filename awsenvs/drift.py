"""Drift: every object awsenvs manages, compared with org.yaml in the live accounts (pure).

The facts come from awsenvs.live; each difference is one audit row, check `drift`, its
finding `<object>: expected <org.yaml's>; live <what AWS holds>`.  A clean organization,
just applied, has none.  What an account holds on purpose that awsenvs does not manage is
named in org.yaml's `unmanaged` (per environment: users, groups, policies attached to a
managed group; per product: service control policies attached to its OU) and not counted.

Each difference says what restores it.  What a stack's Terraform state holds (a detached
policy of a managed group, a changed alias, a deleted user), `apply` restores, and a plain
`plan` plans the stack for it (awsenvs.stack_drift, preflight.LiveChecks.drift).  What no
state holds (a user, group, policy attachment or SCP added by hand) `apply` leaves: a
person removes it or lists it under `unmanaged`.  `plan --all` stays the authoritative
check of what `apply` would change; this one runs at API speed, without terraform, for a
schedule and for `plan` (docs/profiles.md#drift).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Mapping

from awsenvs.config import MFA_GROUP_NAME, MFA_POLICY_NAME, Environment, Org
from awsenvs.checks import management_account_access
from awsenvs.live.facts import LiveAccount, LiveIam, LiveIdentityCenter, LiveOrganization

DRIFT = "drift"
FULL_AWS_ACCESS = "p-FullAWSAccess"  # the AWS managed SCP every target has unless detached
# What restores an object a stack's state holds: the plain plan finds the drift and plans the
# stack, the apply applies that plan.
RESTORED_BY_APPLY = "make plan, then make apply"
APPLY_LEAVES = "apply leaves what it did not make"


@dataclass(frozen=True)
class Difference:
    object: str
    expected: str
    live: str
    # Set when `apply` does not restore it (no Terraform state holds what is extra): what does.
    remedy: str = ""

    @property
    def finding(self) -> str:
        return f"{self.object}: expected {self.expected}; live {self.live}"

    @property
    def restored_by_apply(self) -> bool:
        return not self.remedy

    @property
    def restore(self) -> str:
        """The command, or the hand work, that makes it as org.yaml says again."""
        return self.remedy or RESTORED_BY_APPLY


def _sorted(values) -> str:
    return ", ".join(sorted(values)) or "none"


def _sets(object_: str, expected: set[str], live: set[str], ignored: set[str] = frozenset(), *,
          extra_remedy: str) -> list[Difference]:
    """One difference for what is missing (terraform holds it: apply restores it) and one for
    what is extra (in no state: `extra_remedy`); `ignored` never counts as extra."""
    missing, extra = expected - live, live - expected - set(ignored)
    found = [Difference(object_, _sorted(expected), f"{_sorted(live)} (missing {_sorted(missing)})")] if missing else []
    found += [Difference(object_, _sorted(expected), f"{_sorted(live)} (not in org.yaml: {_sorted(extra)})",
                         extra_remedy)] if extra else []
    return found


def _unmanaged(env: Environment, kind: str) -> str:
    """Where org.yaml names what an environment holds on purpose."""
    return f"products.{env.product}.environments.{env.name}.unmanaged.{kind}"


# --------------------------------------------------------------------------- account stacks


def mfa_role_names(env: Environment) -> tuple[str, ...]:
    """The roles an account stack manages (what live.iam reads for the comparison)."""
    return tuple(g.admin_role_name for g in env.groups) if env.mfa_required else ()


def mfa_policy_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{MFA_POLICY_NAME}"


def account_stack_differences(env: Environment, live: LiveIam, iam_users: bool) -> list[Difference]:
    """Everything of an account stack that differs: account_differences, and its alias and a
    missing password policy (audit shows those two as rows of their own): what `plan` checks."""
    found = account_differences(env, live, iam_users)
    if list(live.aliases) != [env.alias]:
        found.append(Difference("account alias", env.alias, _sorted(live.aliases)))
    if live.password_policy is None:
        found.append(Difference("password policy", "exists", "missing"))
    return found


def account_differences(env: Environment, live: LiveIam, iam_users: bool) -> list[Difference]:
    """An account stack's objects: with IAM users its users, groups, memberships, console
    passwords, MFA group, roles and policy; always its password policy's settings and budget."""
    found = _baseline(env, live)
    if iam_users:
        found = _users_and_groups(env, live) + found
    return found


def _users_and_groups(env: Environment, live: LiveIam) -> list[Difference]:
    from awsenvs.modules.iam_policies import mfa_trust_policy, require_mfa_policy

    skip = env.unmanaged
    found = _sets("IAM users", {u.name for u in env.users}, {u.name for u in live.users}, set(skip.users),
                  extra_remedy=f"{APPLY_LEAVES}: delete them, or list them under {_unmanaged(env, 'users')}")
    groups = {g.name: set(g.policies) for g in env.groups}
    if env.mfa_required:
        groups[MFA_GROUP_NAME] = {mfa_policy_arn(live.account_id)}
    found += _sets("IAM groups", set(groups), {g.name for g in live.groups}, set(skip.groups),
                   extra_remedy=f"{APPLY_LEAVES}: delete them, or list them under {_unmanaged(env, 'groups')}")
    for name, policies in groups.items():
        group = live.group(name)
        if group is not None:
            found += _sets(f"policies of group {name}", policies, set(group.managed), set(skip.policies),
                           extra_remedy=f"{APPLY_LEAVES}: detach them, or list them under {_unmanaged(env, 'policies')}")
    for user in env.users:
        found_user = live.user(user.name)
        if found_user is None:
            continue  # named above
        wanted = {*user.groups, *([MFA_GROUP_NAME] if env.mfa_required else [])}
        found += _sets(f"groups of user {user.name}", wanted, set(found_user.groups), set(skip.groups),
                       extra_remedy=f"{APPLY_LEAVES}: remove {user.name} from them")
        if user.console != found_user.console:
            # A console password org.yaml does not give is in no state (console: false makes none).
            found.append(Difference(f"console password of {user.name}", "one" if user.console else "none",
                                    "one" if found_user.console else "none",
                                    "" if user.console else f"{APPLY_LEAVES}: delete the console password"))
    if not env.mfa_required:
        return found
    for group in env.groups:
        role = live.role(group.admin_role_name)
        if role is None:
            found.append(Difference(f"role {group.admin_role_name}", "exists", "missing"))
            continue
        # The standing members; the grants' statements (an end each) are audit's grant rows.
        members = {f"arn:aws:iam::{live.account_id}:user/{u.name}" for u in env.members(group)}
        trusted = _principals(role.trust, granted=False)
        expected_trust = _principals(mfa_trust_policy(sorted(members)))
        if trusted != expected_trust:
            found.append(Difference(f"trust of role {group.admin_role_name}", _sorted(expected_trust), _sorted(trusted)))
        found += _sets(f"policies of role {group.admin_role_name}", set(group.policies), set(role.managed),
                       extra_remedy=f"{APPLY_LEAVES}: detach them")
    arn = mfa_policy_arn(live.account_id)
    expected = _unescaped(require_mfa_policy(live.account_id, [env.admin_role_arn(live.account_id, g) for g in env.groups]))
    document = live.documents.get(arn)
    if document is None:
        found.append(Difference(f"policy {MFA_POLICY_NAME}", "exists", "missing"))
    elif _canonical(document) != _canonical(expected):
        found.append(Difference(f"policy {MFA_POLICY_NAME}", "the require-MFA text awsenvs writes", "changed text"))
    return found


_PASSWORD_POLICY_LABELS = {
    "minimum_length": "minimum length", "require_lowercase": "lowercase", "require_uppercase": "uppercase",
    "require_numbers": "numbers", "require_symbols": "symbols", "reuse_prevention": "reuse prevention",
    "max_age_days": "max age days", "allow_users_to_change": "users may change it",
}


def _baseline(env: Environment, live: LiveIam) -> list[Difference]:
    found = []
    want, policy = asdict(env.password_policy), live.password_settings
    if policy is not None:
        for name, expected in want.items():
            if expected != policy[name]:
                found.append(Difference(f"password policy {_PASSWORD_POLICY_LABELS[name]}", str(expected), str(policy[name])))
    # (a missing password policy and the alias are rows of their own: audit's "password policy", "alias")
    if env.budget is not None:
        budget = next((b for b in live.budgets if b.name == env.budget_name), None)
        if budget is None:
            found.append(Difference(f"budget {env.budget_name}", f"{env.budget.monthly_usd} USD", "missing"))
        elif _amount(budget.amount) != float(env.budget.monthly_usd):
            found.append(Difference(f"budget {env.budget_name}", f"{env.budget.monthly_usd} USD", f"{budget.amount} {budget.unit}"))
    return found


# --------------------------------------------------------------------------- the management stack


def closed_account(env: Environment, live: LiveOrganization | None, account_ids: Mapping[str, str]) -> LiveAccount | None:
    """The closed (or closing) account an environment names: its id (adopted, or from the
    management stack's outputs), else, with no id known, the account with its root email (an
    environment retired and closed, then put back in org.yaml).  Nothing in it can be
    compared or managed: plan refuses it (checks.check_adoptions, check_created_accounts)."""
    return live.closed_account(env.account_id_from(dict(account_ids)), env.email) if live is not None else None


def contact_differences(env: Environment, live: Mapping[str, tuple[str, str, str, str] | None]) -> list[Difference]:
    """The account's alternate contacts of the kinds org.yaml sets (a kind it leaves out, or
    sets to null, is not awsenvs')."""
    found = []
    for contact in env.contacts:
        expected = (contact.name, contact.title, contact.email, contact.phone)
        actual = live.get(contact.kind)
        if actual != expected:
            found.append(Difference(f"{contact.kind} contact", ", ".join(expected),
                                    ", ".join(actual) if actual else "none"))
    return found


# The opt-in statuses the provider reads as a region's `enabled = true` (aws_account_region's
# read: ENABLED, ENABLING and ENABLED_BY_DEFAULT; DISABLED and DISABLING read as false,
# internal/service/account/region.go, v5.100.0): what terraform would change, and so drift.
REGION_ENABLED = ("ENABLED", "ENABLING", "ENABLED_BY_DEFAULT")
REGION_DISABLED = ("DISABLED", "DISABLING")


def region_differences(env: Environment, live: Mapping[str, str]) -> list[Difference]:
    """The account's opt-in regions that org.yaml enables (`regions`) or disables
    (`disable_regions`), as terraform reads them (`live`: region -> its opt-in status,
    live.organization.read_region_statuses).  A region org.yaml names under neither is not
    awsenvs'."""
    found = [Difference(f"region {region}", "enabled", live.get(region, "unknown"))
             for region in env.regions if live.get(region) not in REGION_ENABLED]
    return found + [Difference(f"region {region}", "disabled", live.get(region, "unknown"))
                    for region in env.disable_regions if live.get(region) not in REGION_DISABLED]


def management_differences(org: Org, live: LiveOrganization, account_ids: Mapping[str, str],
                           contents: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]],
                           guardrail_texts: Mapping[str, str], policy_texts: Mapping[str, str]) -> list[Difference]:
    """OUs and each account's parent, trusted services and policy types, and the service control
    policies on the product OUs (`contents`: OU id -> its accounts and SCP ids, live.organization;
    `guardrail_texts`: product -> the SCP awsenvs writes; `policy_texts`: policy id -> live content)."""
    found = _owned("trusted services", "trusted_services", set(org.trusted_services), set(live.trusted_services),
                   set(org.disable_trusted_services))
    found += _owned("policy types", "policy_types", set(org.policy_types), set(live.policy_types),
                    set(org.disable_policy_types))
    names = {policy_id: name for name, policy_id in live.policies.items()}
    for product in org.products:
        ou = live.ous.get(product.ou_name)
        if ou is None:
            found.append(Difference(f"OU {product.ou_name}", "exists under the root", "missing"))
            continue
        accounts, policies = contents.get(ou, ((), ()))
        for env in product.environments:
            account_id = env.account_id_from(dict(account_ids))
            account = live.account_by_id(account_id) if account_id else None
            # A closed account has no parent to restore: audit's "account exists" row says it is closed.
            if account is not None and not account.closed and account_id not in accounts:
                found.append(Difference(f"account {env.account_name} ({account_id})", f"in OU {product.ou_name}",
                                        "in another OU or the root"))
        expected = {live.policies[product.guardrails_policy_name]} if (
            product.guardrails is not None and product.guardrails_policy_name in live.policies) else set()
        if product.guardrails is not None and not expected:
            found.append(Difference(f"SCP {product.guardrails_policy_name}", f"attached to OU {product.ou_name}", "missing"))
        ignored = {FULL_AWS_ACCESS, *(i for n, i in live.policies.items() if product.leaves_policy(n))}
        attached = set(policies)
        found += [Difference(f"SCPs of OU {product.ou_name}", _sorted(names.get(p, p) for p in expected),
                             f"also {names.get(p, p)} (not in org.yaml)",
                             f"{APPLY_LEAVES}: detach it, or list it under products.{product.name}.unmanaged.policies")
                  for p in sorted(attached - expected - ignored)]
        for policy_id in sorted(expected - attached):
            found.append(Difference(f"SCP {names.get(policy_id, policy_id)}", f"attached to OU {product.ou_name}", "detached"))
        for policy_id in sorted(expected & attached):
            expected_text = guardrail_texts[product.name].replace("$${", "${")  # Terraform's escape (see _unescaped)
            if _canonical(json.loads(policy_texts.get(policy_id, "{}"))) != _canonical(json.loads(expected_text)):
                found.append(Difference(f"SCP {names[policy_id]}", "the guardrails text awsenvs writes", "changed text"))
    return found


def _owned(object_: str, key: str, expected: set[str], live: set[str], disabled: set[str]) -> list[Difference]:
    """Trusted services or policy types, which org.yaml owns explicitly: apply enables what is
    missing and disables what org.yaml lists under `disable_<key>`; any other one it would
    disable, so plan refuses (checks.check_organization) until org.yaml says which."""
    found = _sets(object_, expected, live - disabled,
                  extra_remedy=f"plan refuses to disable them: add them to organization.{key} to keep them, or to "
                               f"organization.disable_{key} to disable them")
    if live & disabled:
        found.append(Difference(object_, _sorted(expected), f"{_sorted(live)} (disabled by org.yaml: {_sorted(live & disabled)})"))
    return found


def data_perimeter_differences(org: Org, live: LiveOrganization, targets: Mapping[str, frozenset[str]],
                               perimeter_texts: Mapping[str, str], policy_texts: Mapping[str, str]) -> list[Difference]:
    """Each product's data perimeter: its RCP exists, is attached to the product's OU and holds
    the text awsenvs writes (`targets`: policy id -> target ids; `perimeter_texts`: product ->
    the RCP for this organization's id; `policy_texts`: policy id -> live content)."""
    found = []
    for product in (p for p in org.products if p.data_perimeter is not None):
        name, ou = product.data_perimeter_policy_name, live.ous.get(product.ou_name)
        policy_id = live.policies.get(name)
        if policy_id is not None and product.data_perimeter_per_account:
            found += _perimeter_account_differences(product, live, ou, targets.get(policy_id, frozenset()))
            if _canonical(json.loads(policy_texts.get(policy_id, "{}"))) != _canonical(json.loads(perimeter_texts[product.name])):
                found.append(Difference(f"RCP {name}", "the data perimeter text awsenvs writes", "changed text"))
        elif policy_id is None:
            found.append(Difference(f"RCP {name}", f"attached to OU {product.ou_name}", "missing"))
        elif ou is not None and ou not in targets.get(policy_id, ()):
            found.append(Difference(f"RCP {name}", f"attached to OU {product.ou_name}", "detached"))
        elif _canonical(json.loads(policy_texts.get(policy_id, "{}"))) != _canonical(json.loads(perimeter_texts[product.name])):
            found.append(Difference(f"RCP {name}", "the data perimeter text awsenvs writes", "changed text"))
    return found


def _perimeter_account_differences(product, live: LiveOrganization, ou: str | None,
                                   targets: frozenset[str]) -> list[Difference]:
    """A data perimeter attached account by account (some of the product's are out of it):
    on each covered account, on no account out of it, and not on the OU (which would reach them)."""
    name, found = product.data_perimeter_policy_name, []
    if ou is not None and ou in targets:
        found.append(Difference(f"RCP {name}", f"attached to the accounts of {product.ou_name} it covers, not the OU",
                                f"attached to OU {product.ou_name}, reaching the accounts out of it"))
    for env in product.environments:
        account = live.account_by_id(env.account_id) if env.adopted else live.account_by_email(env.email)
        if account is None or account.closed:
            continue
        if env.outside_data_perimeter and account.id in targets:
            found.append(Difference(f"RCP {name}", f"not attached to {env.stack} (data_perimeter: false)",
                                    f"attached to {account.id}"))
        elif not env.outside_data_perimeter and account.id not in targets:
            found.append(Difference(f"RCP {name}", f"attached to {env.stack} ({account.id})", "detached"))
    return found


# --------------------------------------------------------------------------- Identity Center


def identity_center_differences(org: Org, live: LiveIdentityCenter) -> list[Difference]:
    """Users (email, display name), groups and their members, and permission sets (policies,
    session); the assignments are audit's "access assignments" row."""
    found = []
    by_id = {person.id: person.user_name for person in live.people.values()}
    for person in org.people:
        found_person = live.people.get(person.name)
        if found_person is None:
            found.append(Difference(f"Identity Center user {person.name}", "exists", "missing"))
            continue
        if (found_person.email or "").lower() != (person.email or "").lower():
            found.append(Difference(f"email of {person.name}", person.email or "none", found_person.email or "none"))
        if found_person.display_name != (person.display_name or person.name):
            found.append(Difference(f"display name of {person.name}", person.display_name or person.name,
                                    found_person.display_name))
    for group in org.groups:
        group_id = live.groups.get(group.name)
        if group_id is None:
            found.append(Difference(f"Identity Center group {group.name}", "exists", "missing"))
        else:
            members = {by_id.get(user, user) for (gid, user) in live.memberships if gid == group_id}
            found += _sets(f"members of {group.name}", {p.name for p in org.people if group.name in p.groups}, members,
                           extra_remedy=f"{APPLY_LEAVES}: remove them from the group")
        arn = live.permission_sets.get(group.permission_set_name)
        if arn is None:
            found.append(Difference(f"permission set {group.permission_set_name}", "exists", "missing"))
            continue
        found += _sets(f"policies of permission set {group.permission_set_name}", set(group.policies),
                       set(live.policies.get(arn, ())), extra_remedy=f"{APPLY_LEAVES}: detach them")
        if live.sessions.get(arn) and live.sessions[arn] != group.session_duration:
            found.append(Difference(f"session of permission set {group.permission_set_name}", group.session_duration,
                                    live.sessions[arn]))
    return found


# What removes an assignment in the management account: no apply does (awsenvs assigns nothing there).
MANAGEMENT_ACCESS_REMEDY = (f"{APPLY_LEAVES}: remove the assignment (IAM Identity Center > AWS accounts > the management "
                            "account), or take what awsenvs manages of it out of org.yaml")


def management_account_differences(org: Org, live: LiveIdentityCenter, management_id: str) -> list[Difference]:
    """identity_center: the management account's assignments of a user, group or permission set
    awsenvs manages (checks.management_account_access).  awsenvs assigns nothing there, so each
    is extra, and plan refuses to run while one exists; everyone else's is audit's manual row."""
    ours, _ = management_account_access(org, live, management_id)
    return [Difference("access assignments of the management account", "none of awsenvs'", ", ".join(ours),
                       MANAGEMENT_ACCESS_REMEDY)] if ours else []


def configured_assignments(org: Org, env: Environment) -> set[tuple[str, str]]:
    """identity_center: the account's assignments org.yaml makes, (user, permission set name)."""
    return {(a.user.name, a.group.permission_set_name) for a in org.assignments if a.environment.stack == env.stack}


def assignment_differences(org: Org, env: Environment, live: set[tuple[str, str]]) -> list[Difference]:
    """identity_center: the account's assignments, (principal, permission set name) as
    LiveIdentityCenter.access gives them, are exactly the configured ones (those of a group
    that org.yaml lists under the environment's `unmanaged.groups` left alone)."""
    live = {(p, s) for p, s in live if p not in {f"group:{g}" for g in env.unmanaged.groups}}
    wanted = configured_assignments(org, env)
    extra, missing = live - wanted, wanted - live
    expected = assignments_text(wanted)
    found = [Difference("access assignments", expected, f"not configured: {assignments_text(extra)}",
                        f"{APPLY_LEAVES}: remove them, or a group's: list the group under {_unmanaged(env, 'groups')}")
             ] if extra else []
    return found + ([Difference("access assignments", expected, f"missing: {assignments_text(missing)}")] if missing else [])


def assignments_text(assignments) -> str:
    """`maria as sysadmins, tom as developers`."""
    return ", ".join(f"{p} as {s}" for p, s in sorted(assignments)) or "none"


# --------------------------------------------------------------------------- documents


def _principals(document: Mapping, granted: bool = True) -> set[str]:
    """The AWS principals a trust policy allows (IAM writes a list of one as a plain string);
    not `granted`: without the grants' statements (those with an end, see live_grants)."""
    found = set()
    for statement in document.get("Statement", []):
        if statement.get("Effect") == "Allow" and (granted or not _grant_end(statement)):
            found.update(_aws_principals(statement))
    return found


def _aws_principals(statement: Mapping) -> list[str]:
    """A statement's AWS principals (IAM writes a list of one as a plain string)."""
    principal = statement.get("Principal", {})
    values = principal.get("AWS", []) if isinstance(principal, dict) else principal
    return [values] if isinstance(values, str) else list(values)


@dataclass(frozen=True)
class LiveGrant:
    """A grant as an MFA role's trust holds it: a user's statement with an end."""

    role: str
    user: str
    until: str  # as the statement has it (ISO 8601)


def live_grants(env: Environment, live: LiveIam) -> list[LiveGrant]:
    """The grants' statements in the trust of the environment's MFA roles."""
    found = []
    for group in env.groups:
        role = live.role(group.admin_role_name)
        for statement in (role.trust.get("Statement", []) if role else []):
            until = _grant_end(statement) if statement.get("Effect") == "Allow" else None
            if until:
                found += [LiveGrant(group.admin_role_name, arn.rsplit("/", 1)[-1], until)
                          for arn in _aws_principals(statement)]
    return found


def _grant_end(statement: Mapping) -> str | None:
    return (statement.get("Condition") or {}).get("DateLessThan", {}).get("aws:CurrentTime")


def _unescaped(document: dict) -> dict:
    """The document as IAM stores it: Terraform's `$${...}` escape (modules/iam.py) is `${...}` there."""
    return json.loads(json.dumps(document).replace("$${", "${"))


def _canonical(document) -> object:
    """Equal for documents that differ only in key order, or a list of one written as its value."""
    if isinstance(document, dict):
        return {k: _canonical(v) for k, v in sorted(document.items())}
    if isinstance(document, list):
        items = [_canonical(v) for v in document]
        return items[0] if len(items) == 1 else sorted(items, key=json.dumps)
    return document


def _amount(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
