"""`import`'s decisions: the live organization's facts -> a draft of org.yaml (pure).

Each decision carries its reason, which the text writer puts beside it as a comment, and
what is left out of the file is listed with its reason.  The rules, chosen so that the
first apply of the file creates, moves and replaces nothing:

- A product per OU directly under the root, named after the OU (`ou:` keeps the OU's own
  name when the product's must differ).  awsenvs keeps a product's accounts directly in
  its OU, so accounts in deeper OUs are written commented out under the product of their
  top-level OU, like accounts directly in the root: moving an account is the user's
  decision, never the draft's.  The Suspended OU holds parked accounts: not a product.
- An environment per active account, named from the account's name without the product's
  and the organization's names; `account_id`, `email` and `account_name` as live, so the
  account is adopted as it is, and its alias and password policy as live.
- Groups are organization-wide in org.yaml: a group gets the AWS managed policies it has
  in every account it exists in (never more: a policy attached in one account only is
  left attached there, unmanaged, and named in a comment).
- Users: a product's users are those of its accounts; an account whose users differ gets
  its own `users:` list.  Policies attached to users, inline policies and customer
  managed policies are awsenvs' business nowhere: listed as comments, left as they are.
- Identity Center, when it assigns anyone to a member account: a group per permission set
  with user assignments, the assigned users with their email and name.
- Guardrails are written off, with what turning them on would attach; existing SCPs and
  budgets are listed, never changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from pydantic import ValidationError

from awsenvs.config import (
    ACCOUNT_PRINCIPAL,
    CONTACT_KINDS,
    DEFAULT_SESSION_HOURS,
    MFA_GROUP_NAME,
    NAME_RE,
    PERMISSION_SET_DESCRIPTION_RE,
    SERVICE_OWNED_POLICY_PREFIXES,
    SUSPENDED_OU,
    Group,
    as_name,
    environment_name,
)
from awsenvs.config.schema import ContactSpec
from awsenvs.errors import AwsenvsError
from awsenvs.live.facts import LiveAccount, LiveBudget, LiveIdentityCenter, LiveMember, LiveSnapshot

AWS_MANAGED = ":iam::aws:policy/"
IAM_USERS, IDENTITY_CENTER = "iam_users", "identity_center"


class DraftRefused(AwsenvsError):
    """No org.yaml can be drafted: the organization cannot be read with these credentials, or
    cannot be written as an org.yaml awsenvs can apply."""


# --------------------------------------------------------------------------- the draft


@dataclass(frozen=True)
class DraftGroup:
    name: str
    policies: tuple[str, ...]
    session_hours: int | None = None  # identity_center, when not the default
    notes: tuple[str, ...] = ()
    description: str | None = None  # identity_center: the permission set's, when not awsenvs' own


@dataclass(frozen=True)
class DraftEnvironment:
    name: str
    account: LiveAccount
    users: Mapping[str, Mapping]  # user name -> its spec in org.yaml
    aliases: tuple[str, ...]
    password_policy: Mapping[str, object] | None  # org.yaml's keys, as live; None: the account has none
    budgets: tuple[LiveBudget, ...]
    notes: tuple[str, ...]
    # what stays in the account unmanaged (org.yaml's `unmanaged`, which audit's drift check leaves alone)
    unmanaged: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    contacts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # kind -> org.yaml's fields, as live
    public_buckets: tuple[tuple[str, str], ...] = ()  # (bucket, why) it serves to anyone: kept out of a data perimeter


@dataclass(frozen=True)
class Commented:
    """An account written commented out, and why."""

    account: LiveAccount
    why: str


@dataclass(frozen=True)
class DraftProduct:
    name: str
    ou: str
    users: Mapping[str, Mapping]  # every user of its environments (the first spec seen)
    environments: tuple[DraftEnvironment, ...]
    commented: tuple[Commented, ...]
    unmanaged_policies: tuple[str, ...] = ()  # SCPs of its OU that are not awsenvs' (names)


@dataclass(frozen=True)
class DraftPolicy:
    """A service control policy of the organization's own, where it is attached (names)."""

    name: str
    id: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Draft:
    org_name: str
    email: str
    region: str
    management_id: str
    organization_id: str
    access: str
    access_why: str
    trusted_services: tuple[str, ...]
    policy_types: tuple[str, ...]
    root_access: tuple[str, ...]
    role_name: str
    groups: tuple[DraftGroup, ...]
    products: tuple[DraftProduct, ...]  # also those with no environment (written commented out)
    root_accounts: tuple[LiveAccount, ...]
    policies: tuple[DraftPolicy, ...]
    scps_per_ou: Mapping[str, int]  # top-level OU name -> SCPs attached to it today
    found: tuple[str, ...]
    left_out: tuple[str, ...]
    counts: str  # what the file holds: `2 products, 3 environments, 2 groups`
    contacts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # kinds alike in every environment

    @property
    def adoptable(self) -> tuple[DraftProduct, ...]:
        return tuple(p for p in self.products if p.environments)


# --------------------------------------------------------------------------- deciding


@dataclass
class _Environment:  # an environment while it is decided
    name: str
    member: LiveMember
    users: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unmanaged: dict[str, list[str]] = field(default_factory=lambda: {"users": [], "groups": [], "policies": []})
    contacts: dict[str, dict[str, str]] = field(default_factory=dict)

    def leave(self, kind: str, name: str) -> None:
        if name not in self.unmanaged[kind]:
            self.unmanaged[kind].append(name)


@dataclass
class _Product:
    name: str
    ou: str
    environments: list[_Environment] = field(default_factory=list)
    commented: list[Commented] = field(default_factory=list)


def decide(snapshot: LiveSnapshot) -> Draft:
    """The org.yaml that describes `snapshot`, decision by decision."""
    left_out: list[str] = []
    org = snapshot.organization
    management = org.management
    org_name = organization_name(management.name if management else "")
    access, access_why = choose_access(snapshot)
    products = _products(snapshot, org_name, left_out)
    adoptable = [p for p in products if p.environments]
    if not adoptable:
        raise DraftRefused(
            "the organization has no OU with an account awsenvs can adopt: awsenvs keeps each product's accounts "
            "in an OU of its own directly under the root; create one OU per product, move the accounts into it, "
            "and run import again")
    if access == IAM_USERS:
        groups = _iam_groups(adoptable, left_out)
        _iam_users(adoptable, {g.name: g for g in groups}, left_out)
    else:
        groups = _permission_sets(snapshot.identity_center, adoptable, left_out)
        _identity_center_users(snapshot, adoptable, left_out)
    for product in products:
        for commented in product.commented:
            left_out.append(f"account {commented.account.name} ({commented.account.id}): commented out: {commented.why}")
        if not product.environments:
            left_out.append(f"OU {product.ou}: no account to adopt directly in it, so no product")
    if management:
        left_out.append(f"management account {management.name} ({management.id}): the organization's own, not an "
                        "environment (organization.management_account_id)")
    loose = _root_accounts(snapshot)
    left_out += [f"account {a.name} ({a.id}): in the root, commented out (adopting it would move it into an OU)"
                 for a in loose]
    policies = _own_policies(snapshot)
    shared_contacts = _contacts(adoptable, left_out)
    environments = sum(len(p.environments) for p in adoptable)
    found = [f"organization {org.id}: {len(org.accounts)} member accounts, {len(snapshot.structure.ous)} OUs; access {access}",
             *(f"product {p.name} (OU {p.ou}): {', '.join(e.name for e in p.environments)}" for p in adoptable)]
    if policies:
        found.append(f"{len(policies)} service control policies of your own, left as they are")
    public = [e.name for p in adoptable for e in p.environments if e.member.public and e.member.public.buckets]
    if public:
        found.append(f"{len(public)} accounts serve S3 content to anyone ({', '.join(public)}): written with "
                     "data_perimeter: false, so that a data perimeter never denies their readers")
    return Draft(
        org_name=org_name,
        email=management.email if management else "",
        region=snapshot.region,
        management_id=management.id if management else "",
        organization_id=org.id,
        access=access,
        access_why=access_why,
        trusted_services=tuple(sorted(org.trusted_services)),
        policy_types=tuple(sorted(org.policy_types)),
        root_access=snapshot.structure.root_access,
        role_name=snapshot.role_name,
        groups=tuple(groups),
        products=tuple(_frozen(p, _ou_policies(snapshot, p.ou)) for p in products),
        root_accounts=tuple(loose),
        policies=policies,
        scps_per_ou={ou.name: sum(1 for p in snapshot.structure.policies if ou.id in p.targets)
                     for ou in snapshot.structure.ous if len(ou.path) == 1},
        found=tuple(found),
        left_out=tuple(left_out),
        counts=", ".join(f"{n} {what}{'' if n == 1 else 's'}" for n, what in (
            (len(adoptable), "product"), (environments, "environment"), (len(groups), "group"))),
        contacts=shared_contacts,
    )


def organization_name(management_name: str) -> str:
    """org.yaml's `organization.name`, from the management account's name (it names the
    state folder and the default aliases: kept short)."""
    name = as_name(management_name, "org")[:16].rstrip("-") or "org"
    return name if NAME_RE.match(name) else "org"


def choose_access(snapshot: LiveSnapshot) -> tuple[str, str]:
    """identity_center when IAM Identity Center assigns anyone to a member account, else iam_users; and why."""
    ic = snapshot.identity_center
    members = {m.account.id for m in snapshot.members}
    assigned = [a for a in ic.assignments if a[0] in members] if ic else []
    iam_users = sum(len(m.iam.users) for m in snapshot.members if m.iam)
    if ic is not None and assigned:
        why = (f"IAM Identity Center holds {len(ic.users)} users and {len(assigned)} assignments in member accounts"
               + (f"; the {iam_users} IAM users in member accounts are left as they are (identity_center manages "
                  "no IAM users: remove them once people sign in through the access portal)" if iam_users else ""))
        return IDENTITY_CENTER, why
    if ic is not None:
        left = f"; its {len(ic.users)} users are left as they are" if ic.users else ""
        return IAM_USERS, f"IAM Identity Center is enabled but assigns nobody to a member account{left}"
    return IAM_USERS, "no IAM Identity Center instance: people are IAM users in each account"


def _products(snapshot: LiveSnapshot, org_name: str, left_out: list[str]) -> list[_Product]:
    members = {m.account.id: m for m in snapshot.members}
    products: list[_Product] = []
    names: dict[str, int] = {}
    for ou in snapshot.structure.ous:
        if len(ou.path) != 1:
            continue
        if ou.name == SUSPENDED_OU:
            parked = [members[a].account.name for a in ou.account_ids if a in members]
            if parked:
                left_out.append(f"OU {SUSPENDED_OU}: {len(parked)} parked accounts ({', '.join(parked)}): retired, not environments")
            continue
        name = as_name(ou.name, "product")
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            name = f"{name[:28]}-{names[name]}"
        product = _Product(name, ou.name)
        for account_id in ou.account_ids:
            if account_id in members:
                _place(product, members[account_id], org_name, left_out)
        for nested in snapshot.structure.ous:
            if len(nested.path) > 1 and nested.path[0] == ou.name:
                product.commented += [Commented(members[a].account, (
                    f"in OU {'/'.join(nested.path)}: awsenvs keeps a product's accounts directly in its OU, so adopting it "
                    f"would move it to {ou.name}; move it there first if you want that, then uncomment it"))
                    for a in nested.account_ids if a in members]
        products.append(product)
    return products


def _place(product: _Product, member: LiveMember, org_name: str, left_out: list[str]) -> None:
    account = member.account
    if account.closed:
        left_out.append(f"account {account.name} ({account.id}): closed ({account.lifecycle}), not an environment")
        return
    if member.iam is None:
        suspended = ("suspended by AWS (State SUSPENDED, e.g. unpaid bills: not closed, and back once AWS reactivates "
                     "it); " if account.suspended else "")
        product.commented.append(Commented(account, f"{suspended}its IAM could not be read: {member.skipped}; fix that "
                                                    "(or set role_name: / profile:), then uncomment it"))
        return
    taken = {e.name for e in product.environments}
    name = environment_name(account.name, product.name, *product.ou.split(), org_name)
    env = _Environment(name, member)
    if name in taken:
        n = 2
        while f"{name[:28]}-{n}" in taken:
            n += 1
        env.name = f"{name[:28]}-{n}"
        env.notes.append(f"named {env.name}: {name} was taken by another account of this product")
    product.environments.append(env)


def _iam_groups(products: list[_Product], left_out: list[str]) -> list[DraftGroup]:
    """Each IAM group some user is in, with the AWS managed policies it has in every account it exists in."""
    seen: dict[str, list] = {}
    for product in products:
        for env in product.environments:
            for group in env.member.iam.groups:
                if group.name != MFA_GROUP_NAME:  # awsenvs' own (an organization awsenvs managed before)
                    seen.setdefault(group.name, []).append((env.member.account.name, group))
    used = {g for p in products for e in p.environments for u in e.member.iam.users for g in u.groups}
    groups = []
    for name, places in seen.items():
        if name not in used:
            left_out.append(f"IAM group {name}: no user in it, left as it is (not managed)")
            continue
        if len(name) > 60:
            left_out.append(f"IAM group {name}: longer than 60 characters (its MFA role would not fit IAM's 64): left as it is")
            continue
        common = sorted(set.intersection(*(set(p for p in g.managed if AWS_MANAGED in p) for _, g in places)))
        notes = []
        for account, group in places:
            extra = sorted(set(p for p in group.managed if AWS_MANAGED in p) - set(common))
            if extra:
                notes.append(f"in {account} also {', '.join(short(p) for p in extra)}: stays attached there, not managed")
            own = [short(p) for p in group.managed if AWS_MANAGED not in p]
            if own:
                notes.append(f"in {account} customer managed {', '.join(own)}: stays attached, not managed")
            if group.inline:
                notes.append(f"in {account} inline {', '.join(group.inline)}: stays, not managed")
            if group.path != "/":
                notes.append(f"in {account} path {group.path}: awsenvs keeps groups at / (the plan shows the change)")
        groups.append(DraftGroup(name, tuple(common), notes=tuple(notes)))
    return groups


def _iam_users(products: list[_Product], groups: dict[str, DraftGroup], left_out: list[str]) -> None:
    for product in products:
        for env in product.environments:
            live = env.member.iam
            for group in live.groups:  # what stays unmanaged: other groups, policies beyond the common ones
                if group.name == MFA_GROUP_NAME:
                    continue
                if group.name not in groups:
                    env.leave("groups", group.name)
                    continue
                for policy in group.managed:
                    if policy not in groups[group.name].policies:
                        env.leave("policies", policy)
            for user in live.users:
                if user.path != "/":
                    left_out.append(f"IAM user {user.name} in {env.member.account.name}: path {user.path} (awsenvs keeps "
                                    "users at /, which would change its ARN): left as it is")
                    env.leave("users", user.name)
                    continue
                spec: dict = {"groups": [g for g in user.groups if g in groups]}
                if not user.console:
                    spec["console"] = False
                env.users[user.name] = spec
                extra = [*(short(p) for p in user.managed), *user.inline]
                if extra:
                    env.notes.append(f"{user.name} has policies of their own ({', '.join(extra)}): kept, not managed")
                dropped = [g for g in user.groups if g not in groups and g != MFA_GROUP_NAME]
                if dropped:
                    env.notes.append(f"{user.name} is also in {', '.join(dropped)} (not managed): stays")
            without = sorted(u.name for u in live.users if u.console and not u.mfa_devices and u.name in env.users)
            if without:
                env.notes.append(f"mfa: required (awsenvs' default) adds the MFA policy, group and roles: until they enrol "
                                 f"an MFA device, {', '.join(without)} can only set one up and change their password; "
                                 "set mfa: optional to keep today's access")


def _permission_sets(ic: LiveIdentityCenter, products: list[_Product], left_out: list[str]) -> list[DraftGroup]:
    """A group per permission set assigned to a user in an environment."""
    ids = {e.member.account.id for p in products for e in p.environments}
    names = {arn: name for name, arn in ic.permission_sets.items()}
    used = {arn for account, arn, kind, _ in ic.assignments if account in ids and kind == "USER"}
    groups = []
    for arn in sorted(used, key=lambda a: names[a]):
        name, notes = names[arn], []
        policies = sorted(ic.policies.get(arn, ()))
        own = [p for p in policies if AWS_MANAGED not in p]
        if own:
            notes.append(f"customer managed {', '.join(own)}: stays, not managed")
        if ic.unmanaged.get(arn):
            notes.append(f"has {', '.join(ic.unmanaged[arn])}: stays, not managed")
        session = ic.sessions.get(arn, "") or ""
        hours = re.fullmatch(r"PT(\d+)H", session)
        session_hours = None
        if hours and 1 <= int(hours.group(1)) <= 12:
            session_hours = int(hours.group(1)) if int(hours.group(1)) != DEFAULT_SESSION_HOURS else None
        elif session:
            notes.append(f"session {session} is not whole hours: the plan sets it to {DEFAULT_SESSION_HOURS} hours unless "
                         "you set session_hours")
        if name not in ic.groups:
            notes.append(f"awsenvs adds an Identity Center group {name} for the users it assigns {name}")
        description = ic.descriptions.get(arn)
        if description is not None and not _fits_description(description):
            notes.append(f"its description is not one org.yaml can hold (1-700 printable characters): the plan replaces it "
                         "unless you set one")
            description = None
        if description == Group(name, ()).permission_set_description:
            description = None  # awsenvs' own: said by leaving it out
        groups.append(DraftGroup(name, tuple(p for p in policies if AWS_MANAGED in p), session_hours, tuple(notes),
                                 description))
    unused = sorted(set(ic.permission_sets) - {names[a] for a in used})
    if unused:
        left_out.append(f"permission sets assigned to no user in an environment ({', '.join(unused)}): left as they are")
    return groups


def _fits_description(description: str) -> bool:
    """Whether org.yaml's groups.<name>.description takes it."""
    return bool(PERMISSION_SET_DESCRIPTION_RE.match(description))


def _identity_center_users(snapshot: LiveSnapshot, products: list[_Product], left_out: list[str]) -> None:
    ic = snapshot.identity_center
    names = {arn: name for name, arn in ic.permission_sets.items()}
    by_id = {person.id: person for person in ic.people.values()}
    group_names = {gid: name for name, gid in ic.groups.items()}
    assigned = set()
    for product in products:
        for env in product.environments:
            for account, arn, kind, principal in sorted(ic.assignments):
                if account != env.member.account.id:
                    continue
                if kind == "GROUP":
                    env.notes.append(f"group {group_names.get(principal, principal)} has {names[arn]} here: awsenvs "
                                     "assigns users, not groups; this assignment stays, not managed")
                    env.leave("groups", group_names.get(principal, principal))
                    continue
                person = by_id.get(principal)
                if person is None:
                    continue
                if not person.email:
                    note = f"Identity Center user {person.user_name}: no email (awsenvs needs one): left as it is"
                    if note not in left_out:
                        left_out.append(note)
                    continue
                assigned.add(person.user_name)
                spec = env.users.setdefault(person.user_name, {"groups": [], "email": person.email,
                                                               "name": person.display_name or person.user_name})
                if names[arn] not in spec["groups"]:
                    spec["groups"].append(names[arn])
                given, _, family = (person.display_name or person.user_name).strip().partition(" ")
                split = (given, family.strip() or given)
                if person.given_name and split != (person.given_name, person.family_name):
                    note = (f"{person.user_name}'s given and family names ({person.given_name} / {person.family_name}) are "
                            f"set from the display name ({split[0]} / {split[1]}) by the plan, in place")
                    if note not in env.notes:
                        env.notes.append(note)
    unassigned = sorted(set(ic.people) - assigned)
    if unassigned:
        left_out.append(f"Identity Center users assigned to no environment ({', '.join(unassigned)}): left as they are")
    for product in products:
        for env in product.environments:
            for user in env.member.iam.users:
                env.leave("users", user.name)
    iam = sorted({u.name for m in snapshot.members if m.iam for u in m.iam.users})
    if iam:
        left_out.append(f"IAM users in member accounts ({', '.join(iam[:8])}{', …' if len(iam) > 8 else ''}): access "
                        "identity_center manages none, they stay as they are")


def _contacts(products: list[_Product], left_out: list[str]) -> dict[str, dict[str, str]]:
    """Each environment's alternate contacts as live (so the first apply changes none), the
    kinds alike in every environment once under `organization.contacts`; a contact org.yaml
    could not hold (PutAlternateContact's rules, checked as validate checks them) is left as
    it is, with a note.  Returns the organization's."""
    envs = [e for p in products for e in p.environments]
    if envs and all(e.member.contacts is None and e.member.contacts_error is None for e in envs):
        left_out.append(f"alternate contacts: not read (trusted access for AWS Account Management, {ACCOUNT_PRINCIPAL}, is "
                        "off); with it on, import writes each account's contacts")
        return {}
    for env in envs:
        if env.member.contacts_error:
            env.notes.append(f"its alternate contacts could not be read ({env.member.contacts_error}): none written")
        for kind, live in (env.member.contacts or {}).items():
            if live is None:
                continue
            fields = dict(zip(("name", "title", "email", "phone"), live))
            try:
                ContactSpec(**fields)
            except ValidationError as exc:
                problem = exc.errors()[0]
                env.notes.append(f"its {kind} contact ({', '.join(live)}) is not one org.yaml can hold "
                                 f"({'.'.join(map(str, problem['loc']))}: {problem['msg']}): left as it is, not managed")
                continue
            env.contacts[kind] = fields
    shared = {kind: envs[0].contacts[kind] for kind in CONTACT_KINDS
              if envs and all(e.contacts.get(kind) == envs[0].contacts.get(kind) for e in envs) and kind in envs[0].contacts}
    for env in envs:
        for kind in shared:
            env.contacts.pop(kind)
    return shared


def _public_buckets(env: _Environment) -> tuple[tuple[str, str], ...]:
    """The S3 buckets an account serves to anyone (a data perimeter would deny their readers),
    and what could not be read, as notes."""
    member = env.member
    if member.public_error:
        env.notes.append(f"whether it serves public S3 content could not be read ({member.public_error}): check before "
                         "turning on guardrails.data_perimeter")
    if member.public is None:
        return ()
    if member.public.unread and member.public.buckets:
        env.notes.append(f"{member.public.unread}: its buckets were judged by their own settings")
    return member.public.buckets


def _root_accounts(snapshot: LiveSnapshot) -> list[LiveAccount]:
    management = snapshot.organization.management.id if snapshot.organization.management else None
    members = {m.account.id: m.account for m in snapshot.members}
    return [members[a] for a in snapshot.structure.root_account_ids if a != management and a in members]


def _own_policies(snapshot: LiveSnapshot) -> tuple[DraftPolicy, ...]:
    org = snapshot.organization
    names = {ou.id: "/".join(ou.path) for ou in snapshot.structure.ous}
    names[org.root_id] = "the root"
    names.update({a.id: a.name for a in org.accounts})
    if org.management:
        names[org.management.id] = org.management.name
    return tuple(DraftPolicy(p.name, p.id, tuple(names.get(t, t) for t in p.targets))
                 for p in snapshot.structure.policies if not p.aws_managed)


def _ou_policies(snapshot: LiveSnapshot, ou_name: str) -> tuple[str, ...]:
    """The service control policies attached to a top-level OU, but AWS's own (FullAWSAccess):
    by name, or by the prefix of the service that owns them and renames them as it pleases
    (Control Tower's aws-guardrails-*), once."""
    ou = next((o for o in snapshot.structure.ous if o.path == (ou_name,)), None)
    names = [p.name for p in snapshot.structure.policies if ou and ou.id in p.targets and not p.aws_managed]
    return tuple(dict.fromkeys(next((f"{prefix}*" for prefix in SERVICE_OWNED_POLICY_PREFIXES if name.startswith(prefix)),
                                    name) for name in names))


def _frozen(product: _Product, ou_policies: tuple[str, ...] = ()) -> DraftProduct:
    everyone: dict[str, dict] = {}
    for env in product.environments:
        for name, spec in env.users.items():
            everyone.setdefault(name, spec)
    return DraftProduct(
        product.name, product.ou, everyone,
        tuple(DraftEnvironment(e.name, e.member.account, e.users, e.member.iam.aliases,
                               e.member.iam.password_settings, e.member.iam.budgets, tuple(e.notes),
                               {kind: tuple(names) for kind, names in e.unmanaged.items() if names}, e.contacts,
                               _public_buckets(e))
              for e in product.environments),
        tuple(product.commented),
        ou_policies,
    )


def short(arn: str) -> str:
    """An AWS managed policy by its name, any other by its ARN."""
    return arn.rsplit("/", 1)[-1] if AWS_MANAGED in arn else arn
