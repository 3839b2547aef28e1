"""`signin`'s table of everyone's console sign-in links, and the message an administrator
sends a new colleague (`signin --user NAME`): where and as whom they sign in, their first
sign-in, their accounts, and their AWS CLI setup.

Pure: org.yaml's model, the account ids and the identity store id (both from the management
stack's outputs) come in, the text goes out.  Nothing secret is in it: an IAM user's initial
passwords are handed over apart (`password`), on a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from awsenvs.config import Org, User
from awsenvs.profiles import IDENTITY_CENTER_FIRST_SIGN_IN, portal_url, profiles_for, render

CLI_INSTALL = "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
# `aws sso login` and sso-session profiles exist only in AWS CLI version 2
# (https://docs.aws.amazon.com/cli/latest/userguide/sso-configure-profile-token.html).
CLI_V2 = (f"the AWS CLI version 2 (`aws --version` shows aws-cli/2...; version 1 has no `aws sso login`): {CLI_INSTALL}")


def signin_table(org: Org, account_ids: dict[str, str], portal: str | None) -> Table:
    """Every account's console sign-in: identity_center, per account assignment the access
    portal's direct link (`portal`, the access portal's URL); iam_users, per environment its
    sign-in URL and the users' profiles."""
    table = Table(title="Console sign-in", title_justify="left")
    if org.identity_center:
        for column in ("product", "environment", "account", "MFA", "user", "permission set", "direct link"):
            table.add_column(column)
        for a in org.assignments:
            env, account_id = a.environment, a.environment.account_id_from(account_ids)
            table.add_row(env.product, env.name, account_id or "not created yet", "required" if env.mfa_required else "optional",
                          a.user.name, a.group.permission_set_name,
                          a.console_url(portal, account_id) if account_id else "-")
    else:
        for column in ("product", "environment", "account", "MFA", "sign-in URL", "profiles"):
            table.add_column(column)
        for env in org.environments:
            table.add_row(env.product, env.name, env.account_id_from(account_ids) or "not created yet",
                          "required" if env.mfa_required else "optional", env.signin_url,
                          " ".join(env.profile_name(u) for u in env.users))
    return table


@dataclass(frozen=True)
class Welcome:
    message: str  # for the colleague (standard output: the admin sends it)
    notes: tuple[str, ...]  # for the admin: what to do before the colleague can sign in


def welcome(org: Org, account_ids: dict[str, str], identity_store_id: str | None, user: User) -> Welcome:
    """The colleague `user`'s message (`user` is one of org.people)."""
    if org.identity_center:
        return _identity_center(org, account_ids, identity_store_id, user)
    return _iam_users(org, account_ids, user)


def _indented(block: str) -> list[str]:
    return [f"     {line}" if line else "" for line in block.rstrip("\n").splitlines()]


def _identity_center(org: Org, account_ids: dict[str, str], identity_store_id: str | None, user: User) -> Welcome:
    portal = portal_url(org, identity_store_id)
    found = profiles_for(org, account_ids, identity_store_id=identity_store_id, users=(user.name,))
    lines = [
        f"Your access to {org.name}'s AWS accounts, {user.display_name} ({user.email}): one sign-in for all of them "
        "(IAM Identity Center).",
        "",
        f"1. Sign in at the AWS access portal: {portal}",
        f"   user name: {user.name}",
        f"   The first time: enter your user name, then the one-time code emailed to {user.email} (or the one-time "
        "password I send you separately); choose your own password, and register an MFA device when asked.",
        "",
        "2. Your accounts in the portal (each link opens that account's console with that role):",
    ]
    for a in org.assignments:
        if a.user.name != user.name:
            continue
        env = a.environment
        account_id = env.account_id_from(account_ids)
        where = a.console_url(portal, account_id) if account_id else "not created yet"
        lines.append(f"   {env.account_name} as {a.group.permission_set_name}: {where}")
    lines += ["", f"3. The command line: {CLI_V2}"]
    if found.profiles:
        first = found.profiles[0].name
        lines += [
            "   Add these lines to ~/.aws/config:",
            "",
            *_indented(render(org, found.profiles, found.sso_session)),
            "",
            "   Then sign in (a browser opens; again whenever the session ends):",
            f"     aws sso login --sso-session {found.sso_session.name}",
            "   and try it:",
            f"     aws sts get-caller-identity --profile {first}",
        ]
    else:
        lines.append("   (no profiles yet: your accounts do not exist yet; I send them once they do)")
    return Welcome("\n".join(lines) + "\n", (IDENTITY_CENTER_FIRST_SIGN_IN,))


def _iam_users(org: Org, account_ids: dict[str, str], user: User) -> Welcome:
    # Without the MFA devices' serials (the user registers them at first sign-in), profiles_for
    # gives the key profiles only; the MFA role profiles follow once the devices exist.
    found = profiles_for(org, account_ids, users=(user.name,))
    # The environments the user is in, with their definition there (an environment may define its own).
    envs = [(env, u) for env in org.environments for u in env.users if u.name == user.name]
    lines = [
        f"Your access to {org.name}'s AWS accounts, {user.name}: an IAM user of your own in each account.",
        "",
        f"1. Sign in to each account's console as {user.name}, with the initial password I send you separately "
        "(one per account); you choose your own at first sign-in:",
    ]
    for env, env_user in envs:
        account_id = env.account_id_from(account_ids)
        where = env.signin_url if account_id else "not created yet"
        extra = "" if env_user.console else " (no console sign-in: console: false)"
        mfa = "; MFA required: register an authenticator app (Security credentials > Assign MFA device)" \
            if env.mfa_required else ""
        lines.append(f"   {env.account_name} ({account_id or '-'}): {where}{extra}{mfa}")
    # A user with `console: false` cannot sign in to create their own keys: the admin does.
    no_console = [env for env, env_user in envs if not env_user.console]
    step2 = "2. In each account, create your access keys (Security credentials > Access keys > Create access key)."
    if no_console:
        named = ", ".join(env.account_name for env in no_console)
        step2 = (f"2. In each account you sign in to, create your access keys (Security credentials > Access keys > "
                 f"Create access key); those of {named}, where you have no console sign-in, I send you separately.")
        if len(no_console) == len(envs):
            step2 = "2. Your access keys (you have no console sign-in): I send them to you separately, one per account."
    lines += ["", step2, "", f"3. The command line: the AWS CLI (version 1 or 2): {CLI_INSTALL}"]
    if found.profiles:
        lines += [
            "   Add these lines to ~/.aws/config:",
            "",
            *_indented(render(org, found.profiles)),
            "",
            "   Then put each account's access keys into its profile:",
            *(f"     {setup.command}" for setup in found.setups),
            "   and try it:",
            f"     aws sts get-caller-identity --profile {found.profiles[0].name}",
        ]
    else:
        lines.append("   (no profiles yet: your accounts do not exist yet; I send them once they do)")
    if found.without_mfa:
        named = ", ".join(setup.environment.profile_name(setup.user) for setup in found.without_mfa)
        lines += ["", f"4. Where MFA is required: once your MFA device is registered, I send you the profiles that "
                      f"use it ({named})."]
    notes = tuple(f"hand over {user.name}'s initial password of {env.stack} on a terminal: "
                  f"password {user.name} --stack {env.stack}"
                  for env, env_user in envs if env_user.console and env.account_id_from(account_ids))
    notes += tuple(f"{user.name} has no console sign-in in {env.stack} (console: false): create the access key there "
                   f"(IAM > Users > {user.name} > Security credentials > Create access key) and hand it over apart"
                   for env in no_console if env.account_id_from(account_ids))
    if found.without_mfa:
        notes += (f"once {user.name} has registered the MFA devices: profiles --user {user.name}, and send the "
                  "profiles it prints",)
    return Welcome("\n".join(lines) + "\n", notes)
