"""The organization as a rich tree: management, OUs and their guardrails, accounts and their
budgets, groups, users, MFA."""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from awsenvs.config import Environment, Org, Product


def org_tree(org: Org, account_ids: dict[str, str] | None = None) -> Tree:
    """`account_ids` (stack -> id) fills in ids of accounts created by the management stack."""
    account_ids = account_ids or {}
    management = org.management_account_id or "credentials' account"
    access = ("  access: IAM Identity Center (permission sets per group)", "cyan") if org.identity_center else ("  access: IAM users", "dim")
    root_access = ("\n  centralized root access (member accounts need no root credentials)", "dim") if org.centralized_root else ""
    retired = ("\n  retired accounts: parked in the Suspended OU, then closed (within CloseAccount's quota)", "dim") \
        if org.on_retire == "close" else ""
    glass = org.break_glass
    break_glass = ("\n  break-glass users: " + ", ".join(glass.users) + " (console only, MFA)"
                   + (f"; sign-ins mailed to {glass.alert_email}" if glass.alert_email else ""), "red") if glass else ""
    root = Tree(Text.assemble(("management", "bold"), f"  {org.name}  {org.email}  ", (management, "dim"), access, root_access,
                              retired, break_glass))
    for product in org.products:
        ou = root.add(Text.assemble(("OU ", "dim"), (product.ou_name, "bold cyan"), *_guardrails(product)))
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
                ("\n" + env.email, "dim"), ("  alias ", "dim"), env.alias, *_budget(env), *_settings(env),
            ))
            profiles = {(a.user.name, a.group.name): a.profile_name for a in org.assignments
                        if a.environment.stack == env.stack} if org.identity_center else {}
            kind = "permission set " if org.identity_center else "group "
            for group in env.groups:
                policies = ", ".join(p.rsplit("/", 1)[-1] for p in group.policies) or "no policies"
                session = f"  session {group.session_hours} h" if org.identity_center else ""
                node = account.add(Text.assemble((kind, "dim"), (group.name, "magenta"), f"  {policies}{session}"))
                for user in env.users:
                    if group.name in user.groups:
                        profile = profiles.get((user.name, group.name), env.profile_name(user))
                        node.add(Text.assemble(("user ", "dim"), user.name, ("  profile ", "dim"), profile))
                    elif group.name in user.eligible:  # just in time: `elevate` grants it
                        grant = next((g for g in env.grants if (g.user, g.group) == (user.name, group.name)), None)
                        state = (("  granted until ", "dim"), (grant.until_text, "bold yellow")) if grant else \
                            (("  eligible, not granted", "dim"),)
                        node.add(Text.assemble(("user ", "dim"), user.name, *state, ("  profile ", "dim"),
                                               env.eligible_profile_name(user, group.name)))
            for user in env.users:
                if not user.groups and not user.eligible:
                    account.add(Text.assemble(("user ", "dim"), user.name, ("  (no groups)", "dim")))
    return root


def _guardrails(product: Product) -> tuple:
    if product.guardrails is None:
        return (("  no guardrails", "dim"), *_data_perimeter(product))
    shown = [name if name != "allowed_regions" else f"regions {', '.join(product.guardrails.allowed_regions)}"
             for name in product.guardrails.enabled]
    return (("  SCP ", "dim"), (product.guardrails_policy_name, "yellow"), ("\n  guardrails: ", "dim"), ", ".join(shown),
            *_data_perimeter(product))


def _data_perimeter(product: Product) -> tuple:
    if product.data_perimeter is None:
        return ()
    trusted = product.data_perimeter.trusted_accounts
    out = [env.name for env in product.environments if env.outside_data_perimeter]
    return (("\n  data perimeter: ", "dim"), ("RCP ", "dim"), (product.data_perimeter_policy_name, "yellow"),
            "  organization's principals and AWS services only"
            + (f", and accounts {', '.join(trusted)}" if trusted else "")
            + (f"; on {', '.join(e.name for e in product.perimeter_environments)}, not {', '.join(out)}" if out else ""))


def _settings(env: Environment) -> tuple:
    """Its opt-in regions and alternate contacts (set from the management stack)."""
    shown: tuple = ()
    if env.regions or env.disable_regions:
        shown += (("\nregions ", "dim"), ", ".join(env.regions) or "none enabled",
                  *((("  disabled ", "dim"), ", ".join(env.disable_regions)) if env.disable_regions else ()))
    if env.contacts:
        shown += (("\ncontacts ", "dim"), ", ".join(f"{c.kind} {c.email}" for c in env.contacts))
    return shown


def _budget(env: Environment) -> tuple:
    if env.budget is None:
        return ()
    budget = env.budget
    thresholds = ", ".join(f"{t}%" for t in budget.thresholds_percent)
    return (("\nbudget ", "dim"), f"{budget.amount.removesuffix('.0')} USD/month",
            ("  alerts at ", "dim"), f"{thresholds} (actual, forecast)", ("  to ", "dim"), ", ".join(budget.alert_emails))
