"""`import`'s writer: the live organization's facts -> org.yaml text, a pure function.

Every decision the import makes is written as a YAML comment beside what it decided, and
the summary (`Written.found`, `Written.left_out`) says the same for the terminal.  The
rules, chosen so that the first apply of the file creates, moves and replaces nothing:

- A product per OU directly under the root, named after the OU (`ou:` keeps the OU's own
  name when the product's must differ).  awsenvs keeps a product's accounts directly in
  its OU, so accounts in deeper OUs are written commented out under the product of their
  top-level OU, like accounts directly in the root: moving an account is the user's
  decision, never the import's.  The Suspended OU holds parked accounts: not a product.
- An environment per active account, named from the account's name without the product's
  and the organization's names; `account_id`, `email` and `account_name` as live, so the
  account is adopted as it is, and its alias and password policy as live.
- Groups are organization-wide in org.yaml: a group gets the AWS managed policies it has
  in every account it exists in (never more: a policy attached in one account only is
  left attached there, unmanaged, and named in a comment).
- Users: a product's users are those of its accounts; an account whose users differ gets
  its own `users:` list.  Policies attached to users, inline policies and customer
  managed policies are awsenvs' business nowhere: listed as comments, left as they are.
- Guardrails are written off, with what turning them on would attach; existing SCPs and
  budgets are listed, never changed.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from dataclasses import dataclass, field

from awsenvs.config import (
    ALIAS_RE,
    DEFAULT_ROLE_NAME,
    DEFAULT_SESSION_HOURS,
    IAM_PRINCIPAL,
    MANAGED_BY,
    MFA_GROUP_NAME,
    NAME_RE,
    SUSPENDED_OU,
    as_name,
    default_alias,
    environment_name,
)
from awsenvs.errors import AwsenvsError
from awsenvs.live.facts import LiveIam, LiveIdentityCenter, LiveMember, LiveSnapshot

WIDTH = 100  # comment lines are wrapped to this width
AWS_MANAGED = ":iam::aws:policy/"
# What org.yaml's password_policy says when it says nothing (PasswordPolicySpec's defaults).
DEFAULT_PASSWORD_POLICY = {"minimum_length": 14, "require_lowercase": True, "require_uppercase": True,
                           "require_numbers": True, "require_symbols": True, "reuse_prevention": 24,
                           "max_age_days": 90, "allow_users_to_change": True}


class ImportRefused(AwsenvsError):
    """The live organization cannot be written as an org.yaml awsenvs can apply."""


@dataclass(frozen=True)
class Written:
    text: str
    access: str
    found: tuple[str, ...]  # what the import found, one line each
    left_out: tuple[str, ...]  # what it left out of the file, and why


@dataclass
class _Environment:
    name: str
    member: LiveMember
    users: dict[str, dict]  # user name -> its spec in org.yaml
    notes: list[str] = field(default_factory=list)


@dataclass
class _Product:
    name: str
    ou: str
    environments: list[_Environment] = field(default_factory=list)
    commented: list[tuple[LiveMember, str]] = field(default_factory=list)  # (account, why it is commented out)


def render(snapshot: LiveSnapshot, source: str) -> Written:
    """The org.yaml that describes `snapshot`; `source` says where it was read (the header)."""
    return _Writer(snapshot).write(source)


class _Writer:
    def __init__(self, snapshot: LiveSnapshot) -> None:
        self.s = snapshot
        self.org = snapshot.organization
        self.lines: list[str] = []
        self.found: list[str] = []
        self.left_out: list[str] = []
        management = self.org.management
        self.org_name = as_name(management.name if management else "", "org")[:16].rstrip("-") or "org"
        if not NAME_RE.match(self.org_name):
            self.org_name = "org"
        self.ic = snapshot.identity_center
        self.member_ids = {m.account.id for m in snapshot.members}
        self.access, self.access_why = self._access()
        self.ou_of = {ou.id: ou for ou in snapshot.structure.ous}

    # ------------------------------------------------------------------ decisions

    def _access(self) -> tuple[str, str]:
        ic = self.ic
        assigned = [a for a in ic.assignments if a[0] in self.member_ids] if ic else []
        iam_users = sum(len(m.iam.users) for m in self.s.members if m.iam)
        if ic is not None and assigned:
            why = (f"IAM Identity Center holds {len(ic.users)} users and {len(assigned)} assignments in member accounts"
                   + (f"; the {iam_users} IAM users in member accounts are left as they are (identity_center manages "
                      "no IAM users: remove them once people sign in through the access portal)" if iam_users else ""))
            return "identity_center", why
        if ic is not None:
            left = f"; its {len(ic.users)} users are left as they are" if ic.users else ""
            return "iam_users", f"IAM Identity Center is enabled but assigns nobody to a member account{left}"
        return "iam_users", "no IAM Identity Center instance: people are IAM users in each account"

    def _products(self) -> list[_Product]:
        members = {m.account.id: m for m in self.s.members}
        products: list[_Product] = []
        names: Counter[str] = Counter()
        for ou in self.s.structure.ous:
            if len(ou.path) != 1:
                continue
            if ou.name == SUSPENDED_OU:
                parked = [members[a].account.name for a in ou.account_ids if a in members]
                if parked:
                    self.left_out.append(f"OU {SUSPENDED_OU}: {len(parked)} parked accounts ({', '.join(parked)}): "
                                         "retired, not environments")
                continue
            name = as_name(ou.name, "product")
            names[name] += 1
            if names[name] > 1:
                name = f"{name[:28]}-{names[name]}"
            product = _Product(name, ou.name)
            deeper = [o for o in self.s.structure.ous if len(o.path) > 1 and o.path[0] == ou.name]
            for account_id in ou.account_ids:
                if account_id in members:
                    self._place(product, members[account_id])
            for nested in deeper:
                for account_id in nested.account_ids:
                    if account_id in members:
                        product.commented.append((members[account_id], (
                            f"in OU {'/'.join(nested.path)}: awsenvs keeps a product's accounts directly in its OU, so "
                            f"adopting it would move it to {ou.name}; move it there first if you want that, then "
                            "uncomment it")))
            products.append(product)
        return products

    def _place(self, product: _Product, member: LiveMember) -> None:
        account = member.account
        if account.closed:
            self.left_out.append(f"account {account.name} ({account.id}): closed ({account.status}), not an environment")
            return
        if member.iam is None:
            product.commented.append((member, f"its IAM could not be read: {member.skipped}; fix that (or set role_name: / "
                                              "profile:), then uncomment it"))
            self.left_out.append(f"account {account.name} ({account.id}): skipped: {member.skipped}")
            return
        taken = {e.name for e in product.environments}
        name = environment_name(account.name, product.name, *product.ou.split(), self.org_name)
        env = _Environment(name, member, {})
        if name in taken:
            n = 2
            while f"{name[:28]}-{n}" in taken:
                n += 1
            env.name = f"{name[:28]}-{n}"
            env.notes.append(f"named {env.name}: {name} was taken by another account of this product")
        product.environments.append(env)

    # ------------------------------------------------------------------ writing

    def write(self, source: str) -> Written:
        products = self._products()
        written = [p for p in products if p.environments]
        if not written:
            raise ImportRefused(
                "the organization has no OU with an account awsenvs can adopt: awsenvs keeps each product's accounts "
                "in an OU of its own directly under the root; create one OU per product, move the accounts into it, "
                "and run import again")
        groups = self._groups(written) if self.access == "iam_users" else self._permission_sets(written)
        if self.access == "iam_users":
            self._iam_users(written, groups)
        else:
            self._identity_center_users(written, groups)

        self._header(source)
        self._organization()
        self._groups_block(groups)
        self._guardrails(written)
        self._products_block(products)
        self._root_accounts()
        environments = sum(len(p.environments) for p in written)
        self.found.insert(0, f"organization {self.org.id}: {len(self.org.accounts)} member accounts, "
                             f"{len(self.s.structure.ous)} OUs; access {self.access}")
        self.found.insert(1, f"written: {len(written)} products, {environments} environments, {len(groups)} groups")
        return Written("\n".join(self.lines) + "\n", self.access, tuple(self.found), tuple(self.left_out))

    def _comment(self, indent: int, text: str) -> None:
        pad = " " * indent
        for line in textwrap.wrap(text, WIDTH - indent - 2, break_long_words=False, break_on_hyphens=False) or [""]:
            self.lines.append(f"{pad}# {line}")

    def _line(self, indent: int, key: str, value=None, note: str | None = None) -> None:
        if isinstance(value, dict) and indent + len(key) + len(_scalar(value)) + 2 > WIDTH:
            self._line(indent, key, None, note)  # too long for one line: a block
            for inner, item in value.items():
                self._line(indent + 2, _key(inner), item)
            return
        text = f"{' ' * indent}{key}:" + ("" if value is None else f" {_scalar(value)}")
        if note and len(text) + len(note) + 4 <= WIDTH:
            text += f"  # {note}"
        elif note:
            self._comment(indent, note)
        self.lines.append(text)

    def _header(self, source: str) -> None:
        self._comment(0, f"org.yaml written by `awsenvs import` from {source}.")
        self._comment(0, "It describes the organization as it is: each decision the import made is explained in a comment "
                         "beside it. Read them, then run `make validate` and `make plan`: the first plan adopts what "
                         "exists (import blocks) and lists what awsenvs adds, and creates, moves or replaces no account, "
                         "user or group.")
        self.lines.append("")

    def _organization(self) -> None:
        org, management = self.org, self.org.management
        self._line(0, "organization")
        self._line(2, "name", self.org_name, "names the state folder and default aliases (from the management account's name)")
        self._line(2, "email", management.email if management else "", "the management account's root email; new "
                                                                        "accounts get plus-addresses of it")
        self._line(2, "region", self.s.region)
        self._line(2, "management_account_id", management.id if management else "")
        self._line(2, "organization_id", org.id, "adopted: imported, never created")
        self._line(2, "access", self.access, self.access_why)
        services = sorted(org.trusted_services)
        self._line(2, "trusted_services", services, "as live: awsenvs never disables one org.yaml does not list")
        self._line(2, "policy_types", sorted(org.policy_types), "enabled in the root, as live")
        root_access = self.s.structure.root_access
        if root_access:
            self._line(2, "centralized_root", True, f"on live ({', '.join(root_access)})")
        else:
            self._line(2, "centralized_root", False,
                       "off live; true would turn on trusted access for IAM and root credentials management, so "
                       "member accounts need no root credentials")
            if IAM_PRINCIPAL in services:
                self._comment(2, f"{IAM_PRINCIPAL} is trusted but root credentials management is off")
        self.lines.append("")

    # ------------------------------------------------------------------ groups and users (iam_users)

    def _groups(self, products: list[_Product]) -> dict[str, dict]:
        """Group name -> {"policies": [...], "notes": [...]}: the AWS managed policies it has in every
        account it exists in."""
        seen: dict[str, list[tuple[str, object]]] = {}
        for product in products:
            for env in product.environments:
                for group in env.member.iam.groups:
                    if group.name == MFA_GROUP_NAME:
                        continue  # awsenvs' own (an organization awsenvs managed before)
                    seen.setdefault(group.name, []).append((env.member.account.name, group))
        used = {g for p in products for e in p.environments for u in e.member.iam.users for g in u.groups}
        groups = {}
        for name, places in seen.items():
            if name not in used:
                self.left_out.append(f"IAM group {name}: no user in it, left as it is (not managed)")
                continue
            if len(name) > 60:
                self.left_out.append(f"IAM group {name}: longer than 60 characters (its MFA role would not fit IAM's 64): "
                                     "left as it is")
                continue
            managed = [set(p for p in g.managed if AWS_MANAGED in p) for _, g in places]
            common = sorted(set.intersection(*managed))
            notes = []
            for account, group in places:
                extra = sorted(set(p for p in group.managed if AWS_MANAGED in p) - set(common))
                if extra:
                    notes.append(f"in {account} also {', '.join(_short(p) for p in extra)}: stays attached there, not managed")
                own = [_short(p) for p in group.managed if AWS_MANAGED not in p]
                if own:
                    notes.append(f"in {account} customer managed {', '.join(own)}: stays attached, not managed")
                if group.inline:
                    notes.append(f"in {account} inline {', '.join(group.inline)}: stays, not managed")
                if group.path != "/":
                    notes.append(f"in {account} path {group.path}: awsenvs keeps groups at / (the plan shows the change)")
            groups[name] = {"policies": common, "notes": notes}
        return groups

    def _iam_users(self, products: list[_Product], groups: dict[str, dict]) -> None:
        for product in products:
            for env in product.environments:
                live: LiveIam = env.member.iam
                for user in live.users:
                    if user.path != "/":
                        self.left_out.append(f"IAM user {user.name} in {env.member.account.name}: path {user.path} "
                                             "(awsenvs keeps users at /, which would change its ARN): left as it is")
                        continue
                    spec: dict = {"groups": [g for g in user.groups if g in groups]}
                    if not user.console:
                        spec["console"] = False
                    env.users[user.name] = spec
                    extra = [*(_short(p) for p in user.managed), *user.inline]
                    if extra:
                        env.notes.append(f"{user.name} has policies of their own ({', '.join(extra)}): kept, not managed")
                    dropped = [g for g in user.groups if g not in groups and g != MFA_GROUP_NAME]
                    if dropped:
                        env.notes.append(f"{user.name} is also in {', '.join(dropped)} (not managed): stays")
                without = sorted(u.name for u in live.users if u.console and not u.mfa_devices and u.name in env.users)
                if without:
                    env.notes.append(f"mfa: required (awsenvs' default) adds the MFA policy, group and roles: until they "
                                     f"enrol an MFA device, {', '.join(without)} can only set one up and change their "
                                     "password; set mfa: optional to keep today's access")

    # ------------------------------------------------------------------ identity_center

    def _permission_sets(self, products: list[_Product]) -> dict[str, dict]:
        ic: LiveIdentityCenter = self.ic
        ids = {e.member.account.id for p in products for e in p.environments}
        names = {arn: name for name, arn in ic.permission_sets.items()}
        used = {arn for account, arn, kind, _ in ic.assignments if account in ids and kind == "USER"}
        groups = {}
        for arn in sorted(used, key=lambda a: names[a]):
            name = names[arn]
            notes = []
            policies = sorted(ic.policies.get(arn, ()))
            own = [p for p in policies if AWS_MANAGED not in p]
            if own:
                notes.append(f"customer managed {', '.join(own)}: stays, not managed")
            if ic.unmanaged.get(arn):
                notes.append(f"has {', '.join(ic.unmanaged[arn])}: stays, not managed")
            spec: dict = {"policies": [p for p in policies if AWS_MANAGED in p], "notes": notes}
            hours = re.fullmatch(r"PT(\d+)H", ic.sessions.get(arn, "") or "")
            if hours and 1 <= int(hours.group(1)) <= 12:
                if int(hours.group(1)) != DEFAULT_SESSION_HOURS:
                    spec["session_hours"] = int(hours.group(1))
            elif ic.sessions.get(arn):
                notes.append(f"session {ic.sessions[arn]} is not whole hours: the plan sets it to {DEFAULT_SESSION_HOURS} "
                             "hours unless you set session_hours")
            if name not in ic.groups:
                notes.append(f"awsenvs adds an Identity Center group {name} for the users it assigns {name}")
            groups[name] = spec
        unused = sorted(set(ic.permission_sets) - {names[a] for a in used})
        if unused:
            self.left_out.append(f"permission sets assigned to no user in an environment ({', '.join(unused)}): left as they are")
        return groups

    def _identity_center_users(self, products: list[_Product], groups: dict[str, dict]) -> None:
        ic: LiveIdentityCenter = self.ic
        names = {arn: name for name, arn in ic.permission_sets.items()}
        by_id = {person.id: person for person in ic.people.values()}
        groups_by_id = {gid: gname for gname, gid in ic.groups.items()}
        assigned_anywhere = set()
        for product in products:
            for env in product.environments:
                account = env.member.account.id
                for acc, arn, kind, principal in sorted(ic.assignments):
                    if acc != account:
                        continue
                    if kind == "GROUP":
                        env.notes.append(f"group {groups_by_id.get(principal, principal)} has {names[arn]} here: "
                                         "awsenvs assigns users, not groups; this assignment stays, not managed")
                        continue
                    person = by_id.get(principal)
                    if person is None:
                        continue
                    if not person.email:
                        self.left_out.append(f"Identity Center user {person.user_name}: no email (awsenvs needs one): "
                                             "left as it is")
                        continue
                    assigned_anywhere.add(person.user_name)
                    spec = env.users.setdefault(person.user_name, {"groups": [], "email": person.email,
                                                                   "name": person.display_name or person.user_name})
                    if names[arn] not in spec["groups"]:
                        spec["groups"].append(names[arn])
                    given, _, family = (person.display_name or person.user_name).strip().partition(" ")
                    split = (given, family.strip() or given)
                    if split != (person.given_name, person.family_name) and person.given_name:
                        note = (f"{person.user_name}'s given and family names ({person.given_name} / {person.family_name}) "
                                f"are set from the display name ({split[0]} / {split[1]}) by the plan, in place")
                        if note not in env.notes:
                            env.notes.append(note)
        unassigned = sorted(set(ic.people) - assigned_anywhere)
        if unassigned:
            self.left_out.append(f"Identity Center users assigned to no environment ({', '.join(unassigned)}): left as they are")
        iam = sorted({u.name for m in self.s.members if m.iam for u in m.iam.users})
        if iam:
            self.left_out.append(f"IAM users in member accounts ({', '.join(iam[:8])}{', …' if len(iam) > 8 else ''}): "
                                 "access identity_center manages none, they stay as they are")

    # ------------------------------------------------------------------ blocks

    def _groups_block(self, groups: dict[str, dict]) -> None:
        if not groups:
            return
        kind = "IAM groups" if self.access == "iam_users" else "permission sets (one per group, users assigned by name)"
        self._comment(0, f"The {kind} of the member accounts, with the AWS managed policies they have everywhere.")
        self._line(0, "groups")
        for name, spec in groups.items():
            for note in spec["notes"]:
                self._comment(2, note)
            self._line(2, _key(name))
            self._line(4, "policies", spec["policies"])
            if "session_hours" in spec:
                self._line(4, "session_hours", spec["session_hours"], "the permission set's session, as live")
        self.lines.append("")

    def _guardrails(self, products: list[_Product]) -> None:
        policies = [p for p in self.s.structure.policies if not p.aws_managed]
        names = {ou.id: "/".join(ou.path) for ou in self.s.structure.ous}
        names[self.org.root_id] = "the root"
        names.update({a.id: a.name for a in self.org.accounts})
        if self.org.management:
            names[self.org.management.id] = self.org.management.name
        if policies:
            self._comment(0, "Service control policies found (left as they are; awsenvs manages only its own):")
            for policy in policies:
                where = ", ".join(names.get(t, t) for t in policy.targets) or "not attached"
                self._comment(0, f"  {policy.name} ({policy.id}): {where}")
            self.found.append(f"{len(policies)} service control policies of your own, left as they are")
        counts = {ou.name: sum(1 for p in self.s.structure.policies if ou.id in p.targets)
                  for ou in self.s.structure.ous if len(ou.path) == 1}
        ous = ", ".join(f"{p.ou} ({counts.get(p.ou, 0)} SCPs today)" for p in products)
        self._comment(0, f"Guardrails are off, as the organization has none of awsenvs'. Turning one on attaches one SCP per "
                         f"product OU, {MANAGED_BY}-<product>-guardrails, to {ous}; an OU takes at most 5 SCPs. "
                         "protect_baseline also needs each account's managing role to exist.")
        self._line(0, "guardrails")
        self._line(2, "deny_leave_organization", False)
        self._line(2, "protect_baseline", False)
        self._line(2, "deny_root_user", False)
        self.lines.append("")

    def _products_block(self, products: list[_Product]) -> None:
        self._line(0, "products")
        for product in products:
            if not product.environments:
                self._comment(2, f"OU {product.ou}: no account awsenvs can adopt directly in it, so no product (a "
                                 "product needs an environment):")
                for member, why in product.commented:
                    self._commented_environment(4, member, why)
                    self.left_out.append(f"account {member.account.name} ({member.account.id}): commented out: {why}")
                self.left_out.append(f"OU {product.ou}: no account to adopt directly in it, so no product")
                continue
            note = f"OU {product.ou}" + (" (product names are lowercase letters, digits and -)" if product.name != product.ou else "")
            self._line(2, _key(product.name), None, note)
            if product.name != product.ou:
                self._line(4, "ou", product.ou, "the existing OU's name: adopted, not renamed")
            self._users_block(product)
            self._line(4, "environments")
            for env in product.environments:
                self._environment(product, env)
            for member, why in product.commented:
                self._commented_environment(6, member, why)
                self.left_out.append(f"account {member.account.name} ({member.account.id}): commented out: {why}")
            self.found.append(f"product {product.name} (OU {product.ou}): {', '.join(e.name for e in product.environments)}")

    def _users_block(self, product: _Product) -> None:
        envs = product.environments
        everyone: dict[str, dict] = {}
        for env in envs:
            for name, spec in env.users.items():
                everyone.setdefault(name, spec)
        self._product_users = everyone
        if not everyone:
            return
        self._line(4, "users")
        for name, spec in everyone.items():
            self._line(6, _key(name), spec)

    def _environment(self, product: _Product, env: _Environment) -> None:
        account, live = env.member.account, env.member.iam
        self._line(6, _key(env.name), None, f"account {account.name!r}")
        self._line(8, "account_id", account.id, "adopted: imported, never created")
        self._line(8, "email", account.email)
        self._line(8, "account_name", account.name)
        if self.s.role_name != DEFAULT_ROLE_NAME:
            self._line(8, "role_name", self.s.role_name, "the role the import read the account through")
        if live.aliases:
            self._line(8, "alias", live.aliases[0], "as live")
        else:
            alias = default_alias(self.org_name, product.name, env.name)
            if ALIAS_RE.match(alias):
                self._comment(8, f"no alias yet: awsenvs sets {alias} (aliases are global: set alias: if it is taken)")
            else:
                short = as_name(f"{self.org_name}-{env.member.account.id}", "org")
                self._line(8, "alias", short, f"no alias yet, and {alias} does not fit an alias")
        policy = _password_policy(live.password_policy)
        if policy is None:
            self._comment(8, "no password policy yet: awsenvs sets its own (14 characters, all kinds, 90 days)")
        elif policy != DEFAULT_PASSWORD_POLICY:
            self._line(8, "password_policy", policy, "as live")
        users = env.users
        if users != self._product_users:
            if all(self._product_users.get(n) == s for n, s in users.items()):
                self._line(8, "users", list(users), "this account's users differ from the product's")
            else:
                self._line(8, "users", None, "this account's users differ from the product's")
                for name, spec in users.items():
                    self._line(10, _key(name), spec)
        for budget in live.budgets:
            self._comment(8, f"budget {budget.name} ({budget.amount} {budget.unit}) exists: left as it is")
        for note in env.notes:
            self._comment(8, note)

    def _commented_environment(self, indent: int, member: LiveMember, why: str) -> None:
        account = member.account
        self._comment(indent, f"{account.name} ({account.id}): {why}")
        name = environment_name(account.name, self.org_name)
        for line in (f"{name}:", f"  account_id: {_scalar(account.id)}", f"  email: {_scalar(account.email)}",
                     f"  account_name: {_scalar(account.name)}"):
            self.lines.append(f"{' ' * indent}# {line}")

    def _root_accounts(self) -> None:
        management = self.org.management.id if self.org.management else None
        members = {m.account.id: m for m in self.s.members}
        loose = [members[a] for a in self.s.structure.root_account_ids if a != management and a in members]
        if not loose:
            return
        self.lines.append("")
        self._comment(2, "Accounts directly in the organization's root, left out: awsenvs keeps each product's accounts in "
                         "the product's OU, so adopting one would move it, and moving an account is your decision. To "
                         "adopt one, move these lines under a product's environments and uncomment them.")
        for member in loose:
            self._commented_environment(4, member, "in the root")
            self.left_out.append(f"account {member.account.name} ({member.account.id}): in the root, commented out "
                                 "(adopting it would move it into an OU)")


def _password_policy(live) -> dict | None:
    if live is None:
        return None
    return {
        "minimum_length": int(live.get("MinimumPasswordLength", 8)),
        "require_lowercase": bool(live.get("RequireLowercaseCharacters")),
        "require_uppercase": bool(live.get("RequireUppercaseCharacters")),
        "require_numbers": bool(live.get("RequireNumbers")),
        "require_symbols": bool(live.get("RequireSymbols")),
        "reuse_prevention": int(live.get("PasswordReusePrevention", 0)),
        "max_age_days": int(live.get("MaxPasswordAge", 0)),
        "allow_users_to_change": bool(live.get("AllowUsersToChangePassword")),
    }


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if AWS_MANAGED in arn else arn


_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9._@/+-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value) -> str:
    """A YAML value on one line: plain where YAML reads it back as the same string, quoted
    (JSON, which YAML reads) otherwise; account ids always quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_scalar(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED and ": " not in text:
        return text
    return json.dumps(text)


def _key(name: str) -> str:
    return name if _PLAIN.match(name) and name.lower() not in _RESERVED else json.dumps(name)
