"""`import`'s writer: a draft of org.yaml (decide.py) -> its YAML text, each decision's
reason as a comment beside it."""

from __future__ import annotations

import json
import re
import textwrap

from awsenvs.config import (
    ALIAS_RE,
    DEFAULT_ROLE_NAME,
    IAM_PRINCIPAL,
    MANAGED_BY,
    SERVICE_OWNED_POLICY_PREFIXES,
    as_name,
    default_alias,
    environment_name,
)
from awsenvs.live.facts import LiveAccount
from awsenvs.orgyaml.decide import IAM_USERS, Draft, DraftEnvironment, DraftProduct

WIDTH = 100  # comment lines are wrapped to this width
# What org.yaml's password_policy says when it says nothing (PasswordPolicySpec's defaults).
DEFAULT_PASSWORD_POLICY = {"minimum_length": 14, "require_lowercase": True, "require_uppercase": True,
                           "require_numbers": True, "require_symbols": True, "reuse_prevention": 24,
                           "max_age_days": 90, "allow_users_to_change": True}


def text(draft: Draft, source: str) -> str:
    """The whole file; `source` says what it was read from (its first line)."""
    out = _Lines()
    out.comment(0, f"org.yaml written by `awsenvs import` from {source}.")
    out.comment(0, "It describes the organization as it is: each decision the import made is explained in a comment "
                   "beside it. Read them, then run `make validate` and `make plan` (ORG=this file, unless it is org.yaml): "
                   "the first plan adopts what exists "
                   "(import blocks) and lists what awsenvs adds, and creates, moves or replaces no account, user or group.")
    out.blank()
    _organization(out, draft)
    _groups(out, draft)
    _guardrails(out, draft)
    out.line(0, "products")
    for product in draft.products:
        _product(out, draft, product)
    _root_accounts(out, draft)
    return out.text()


def _organization(out: _Lines, draft: Draft) -> None:
    out.line(0, "organization")
    out.line(2, "name", draft.org_name, "names the state folder and default aliases (from the management account's name)")
    out.line(2, "email", draft.email, "the management account's root email; new accounts get plus-addresses of it")
    out.line(2, "region", draft.region)
    out.line(2, "management_account_id", draft.management_id)
    out.line(2, "organization_id", draft.organization_id, "adopted: imported, never created")
    out.line(2, "access", draft.access, draft.access_why)
    out.line(2, "trusted_services", list(draft.trusted_services), "as live: awsenvs never disables one org.yaml does not list")
    out.line(2, "policy_types", list(draft.policy_types), "enabled in the root, as live")
    if draft.root_access:
        out.line(2, "centralized_root", True, f"on live ({', '.join(draft.root_access)})")
    else:
        out.line(2, "centralized_root", False, "off live; true would turn on trusted access for IAM and root credentials "
                                               "management, so member accounts need no root credentials")
        if IAM_PRINCIPAL in draft.trusted_services:
            out.comment(2, f"{IAM_PRINCIPAL} is trusted but root credentials management is off")
    if draft.contacts:
        out.line(2, "contacts", {kind: dict(fields) for kind, fields in draft.contacts.items()},
                 "every account's alternate contacts, as live (alike in all of them); a kind not listed is left as it is")
    out.blank()


def _groups(out: _Lines, draft: Draft) -> None:
    if not draft.groups:
        return
    kind = "IAM groups" if draft.access == IAM_USERS else "permission sets (one per group, users assigned by name)"
    out.comment(0, f"The {kind} of the member accounts, with the AWS managed policies they have everywhere.")
    out.line(0, "groups")
    for group in draft.groups:
        for note in group.notes:
            out.comment(2, note)
        out.line(2, key(group.name))
        out.line(4, "policies", list(group.policies))
        if group.session_hours is not None:
            out.line(4, "session_hours", group.session_hours, "the permission set's session, as live")
        if group.description is not None:
            out.line(4, "description", group.description, "the permission set's, as live")
    out.blank()


def _guardrails(out: _Lines, draft: Draft) -> None:
    if draft.policies:
        out.comment(0, "Service control policies found (left as they are; awsenvs manages only its own):")
        for policy in draft.policies:
            out.comment(0, f"  {policy.name} ({policy.id}): {', '.join(policy.targets) or 'not attached'}")
    ous = ", ".join(f"{p.ou} ({_count(draft.scps_per_ou.get(p.ou, 0), 'SCP')} today)" for p in draft.adoptable)
    out.comment(0, f"Guardrails are off, as the organization has none of awsenvs'. Turning one on attaches one SCP per "
                   f"product OU, {MANAGED_BY}-<product>-guardrails, to {ous}; an OU takes at most 5 SCPs. "
                   "protect_baseline also needs each account's managing role to exist.")
    out.line(0, "guardrails")
    for name in ("deny_leave_organization", "protect_baseline", "deny_root_user"):
        out.line(2, name, False)
    out.blank()


def _product(out: _Lines, draft: Draft, product: DraftProduct) -> None:
    if not product.environments:
        out.comment(2, f"OU {product.ou}: no account awsenvs can adopt directly in it, so no product (a product needs "
                       "an environment):")
        for commented in product.commented:
            _commented_environment(out, 4, draft, commented.account, commented.why)
        return
    renamed = product.name != product.ou
    out.line(2, key(product.name), None, f"OU {product.ou}" + (" (product names are lowercase letters, digits and -)"
                                                                if renamed else ""))
    if renamed:
        out.line(4, "ou", product.ou, "the existing OU's name: adopted, not renamed")
    if product.unmanaged_policies:
        owned = [f"{prefix}*: {owner}'s own, by prefix (it renames them when it updates)"
                 for prefix, owner in SERVICE_OWNED_POLICY_PREFIXES.items() if f"{prefix}*" in product.unmanaged_policies]
        out.line(4, "unmanaged", {"policies": list(product.unmanaged_policies)},
                 "SCPs on the OU that are not awsenvs': audit's drift check leaves them alone"
                 + (f" ({'; '.join(owned)})" if owned else ""))
    if product.users:
        out.line(4, "users")
        for name, spec in product.users.items():
            out.line(6, key(name), dict(spec))
    out.line(4, "environments")
    for env in product.environments:
        _environment(out, draft, product, env)
    for commented in product.commented:
        _commented_environment(out, 6, draft, commented.account, commented.why)


def _environment(out: _Lines, draft: Draft, product: DraftProduct, env: DraftEnvironment) -> None:
    account = env.account
    out.line(6, key(env.name), None, f"account {account.name!r}")
    out.line(8, "account_id", account.id, "adopted: imported, never created")
    out.line(8, "email", account.email)
    out.line(8, "account_name", account.name)
    if draft.role_name != DEFAULT_ROLE_NAME:
        out.line(8, "role_name", draft.role_name, "the role the import read the account through")
    if env.aliases:
        out.line(8, "alias", env.aliases[0], "as live")
    else:
        alias = default_alias(draft.org_name, product.name, env.name)
        if ALIAS_RE.match(alias):
            out.comment(8, f"no alias yet: awsenvs sets {alias} (aliases are global: set alias: if it is taken)")
        else:
            out.line(8, "alias", as_name(f"{draft.org_name}-{account.id}", "org"), f"no alias yet, and {alias} does not fit an alias")
    if env.password_policy is None:
        out.comment(8, "no password policy yet: awsenvs sets its own (14 characters, all kinds, 90 days)")
    elif dict(env.password_policy) != DEFAULT_PASSWORD_POLICY:
        out.line(8, "password_policy", dict(env.password_policy), "as live")
    if env.users != product.users:
        if all(product.users.get(name) == spec for name, spec in env.users.items()):
            out.line(8, "users", list(env.users), "this account's users differ from the product's")
        else:
            out.line(8, "users", None, "this account's users differ from the product's")
            for name, spec in env.users.items():
                out.line(10, key(name), dict(spec))
    if env.unmanaged:
        out.line(8, "unmanaged", {kind: list(names) for kind, names in env.unmanaged.items()}, "here on purpose, not managed: audit's drift check leaves it alone")
    if env.contacts:
        out.line(8, "contacts", {kind: dict(fields) for kind, fields in env.contacts.items()},
                 "this account's alternate contacts, as live")
    if env.public_buckets:
        served = ", ".join(f"{bucket} (by {why})" for bucket, why in env.public_buckets)
        out.line(8, "data_perimeter", False,
                 f"it serves S3 content to anyone: {served}; a data perimeter (guardrails.data_perimeter) would deny those "
                 "anonymous readers, and CloudFront origin access identities, so this account stays out of it")
    for budget in env.budgets:
        out.comment(8, f"budget {budget.name} ({budget.amount} {budget.unit}) exists: left as it is")
    for note in env.notes:
        out.comment(8, note)


def _commented_environment(out: _Lines, indent: int, draft: Draft, account: LiveAccount, why: str) -> None:
    out.comment(indent, f"{account.name} ({account.id}): {why}")
    for line in (f"{environment_name(account.name, draft.org_name)}:", f"  account_id: {scalar(account.id)}",
                 f"  email: {scalar(account.email)}", f"  account_name: {scalar(account.name)}"):
        out.raw(f"{' ' * indent}# {line}")


def _root_accounts(out: _Lines, draft: Draft) -> None:
    if not draft.root_accounts:
        return
    out.blank()
    out.comment(2, "Accounts directly in the organization's root, left out: awsenvs keeps each product's accounts in the "
                   "product's OU, so adopting one would move it, and moving an account is your decision. To adopt one, "
                   "move these lines under a product's environments and uncomment them.")
    for account in draft.root_accounts:
        _commented_environment(out, 4, draft, account, "in the root")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


class _Lines:
    """YAML written line by line: keys, one-line values, and comments wrapped to WIDTH."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"

    def raw(self, line: str) -> None:
        self._lines.append(line)

    def blank(self) -> None:
        self._lines.append("")

    def comment(self, indent: int, words: str) -> None:
        pad = " " * indent
        for line in textwrap.wrap(words, WIDTH - indent - 2, break_long_words=False, break_on_hyphens=False) or [""]:
            self._lines.append(f"{pad}# {line}")

    def line(self, indent: int, name: str, value=None, note: str | None = None) -> None:
        """`name: value  # note` (the note above it when the line would be too long); a dict
        too long for one line becomes a block."""
        if isinstance(value, dict) and indent + len(name) + len(scalar(value)) + 2 > WIDTH:
            self.line(indent, name, None, note)
            for inner, item in value.items():
                self.line(indent + 2, key(inner), item)
            return
        line = f"{' ' * indent}{name}:" + ("" if value is None else f" {scalar(value)}")
        if note and len(line) + len(note) + 4 <= WIDTH:
            line += f"  # {note}"
        elif note:
            self.comment(indent, note)
        self._lines.append(line)


_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9._@/+-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value) -> str:
    """A YAML value on one line: plain where YAML reads it back as the same string, quoted
    (JSON, which YAML reads) otherwise; account ids always quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)}: {scalar(v)}" for k, v in value.items()) + "}"
    words = str(value)
    if _PLAIN.match(words) and words.lower() not in _RESERVED:
        return words
    return json.dumps(words)


def key(name: str) -> str:
    return name if _PLAIN.match(name) and name.lower() not in _RESERVED else json.dumps(name)
