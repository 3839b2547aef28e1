"""The organization as a rich tree: management, OUs, accounts, groups, users, MFA."""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from awsenvs.config import Org


def org_tree(org: Org, account_ids: dict[str, str] | None = None) -> Tree:
    """`account_ids` (stack -> id) fills in ids of accounts created by the management stack."""
    account_ids = account_ids or {}
    management = org.management_account_id or "credentials' account"
    root = Tree(Text.assemble(("management", "bold"), f"  {org.name}  {org.email}  ", (management, "dim")))
    for product in org.products:
        ou = root.add(Text.assemble(("OU ", "dim"), (product.ou_name, "bold cyan")))
        for env in product.environments:
            account_id = env.account_id_from(account_ids)
            status = (
                ("adopted " + env.account_id, "yellow") if env.adopted
                else (account_id, "green") if account_id
                else ("not created yet", "dim")
            )
            mfa = ("MFA required", "bold red") if env.mfa_required else ("MFA optional", "dim")
            account = ou.add(Text.assemble(
                (env.account_name, "bold"), "  ", status, "  ", mfa,
                ("\n" + env.email, "dim"), ("  alias ", "dim"), env.alias,
            ))
            for group in env.groups:
                policies = ", ".join(p.rsplit("/", 1)[-1] for p in group.policies) or "no policies"
                node = account.add(Text.assemble(("group ", "dim"), (group.name, "magenta"), f"  {policies}"))
                for user in env.users:
                    if group.name in user.groups:
                        node.add(Text.assemble(("user ", "dim"), user.name, ("  profile ", "dim"), env.profile_name(user)))
            for user in env.users:
                if not user.groups:
                    account.add(Text.assemble(("user ", "dim"), user.name, ("  (no groups)", "dim")))
    return root
