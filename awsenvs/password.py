"""The initial-password handoff: what an admin tells a new colleague, once, on a terminal.

Pure: org.yaml's model names the user, the live answer (has the user signed in yet?) and
the login profile's attributes in state come in, the lines to show go out.  The CLI verb `password` prints them only to a
terminal (unless --force) and nowhere else: no log, no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from awsenvs.config import Environment, Org, User
from awsenvs.errors import AwsenvsError, BadInput


@dataclass(frozen=True)
class Handoff:
    environment: Environment
    user: User
    account_id: str
    password: str | None  # no pgp_key: the initial password, as Terraform set it
    encrypted_password: str | None  # with a pgp_key: base64 ciphertext only the user can decrypt
    key_fingerprint: str | None = None


def console_user(org: Org, stack: str, user: str) -> tuple[Environment, User]:
    """The environment of `stack` and its user `user` with a console login, else bad input
    saying which of them is wrong (identity_center has no IAM console passwords at all)."""
    if org.identity_center:
        raise BadInput("organization.access is identity_center: there are no IAM console passwords to hand over; "
                       "people sign in at the access portal (see `signin`)")
    try:
        env = org.environment_by_stack(stack)
    except StopIteration:
        raise BadInput(f"--stack {stack}: no such environment (stacks: {', '.join(org.stacks[1:])})") from None
    person = next((u for u in env.users if u.name == user), None)
    if person is None:
        known = ", ".join(u.name for u in env.users) or "none"
        raise BadInput(f"{user}: not a user of {stack} (users: {known})")
    if not person.console:
        raise BadInput(f"{user}: has no console login in {stack} (console: false)")
    return env, person


def break_glass_user(org: Org, user: str) -> str:
    """`--stack management`: one of organization.break_glass's users, else bad input."""
    users = org.break_glass.users if org.break_glass else ()
    if user not in users:
        raise BadInput(f"{user}: not a break-glass user of the management account (organization.break_glass.users: "
                       f"{', '.join(users) or 'none'}); a product's users are in their environments' stacks")
    return user


def break_glass_lines(user: str, account_id: str, login_profile: dict) -> list[str]:
    """What to show of an emergency user's initial password, and what to do with it."""
    password = login_profile.get("password")
    if not password:
        raise AwsenvsError(f"{user}: no initial password in the management stack's state (not applied yet, or a "
                           "login that existed before awsenvs adopted it): nothing to hand over")
    return [
        f"Initial console password of the break-glass user {user} in the management account ({account_id})",
        f"  sign in at   https://{account_id}.signin.aws.amazon.com/console  as {user}",
        "  change it at first sign-in, register an MFA device (a hardware key), then sign out;",
        "  keep the new password and the key apart, in a safe (docs/access.md: break-glass)",
        f"  password     {password}",
    ]


def last_used(get_user_response: dict) -> datetime | None:
    """When the user last signed in with a password (IAM GetUser's PasswordLastUsed)."""
    return get_user_response.get("User", {}).get("PasswordLastUsed")


def already_signed_in(user: User, when: datetime) -> str:
    return (f"{user.name} signed in on {when:%Y-%m-%d %H:%M} UTC and changed the initial password then: "
            "nothing to hand over (if it is lost, reset it in the IAM console)")


def handoff(environment: Environment, user: User, account_id: str, login_profile: dict) -> Handoff:
    return Handoff(environment, user, account_id, login_profile.get("password") or None,
                   login_profile.get("encrypted_password") or None, login_profile.get("key_fingerprint") or None)


def require_password(h: Handoff) -> Handoff:
    """The handoff, if state holds a password (or its ciphertext) to hand over."""
    if not (h.password or h.encrypted_password):
        raise AwsenvsError(f"{h.user.name}: no initial password in the state of {h.environment.stack} (not applied yet, "
                           "or a login that existed before awsenvs adopted it): nothing to hand over")
    return h


def lines(h: Handoff) -> list[str]:
    """What to show, once: who, where, and the password (or how the user decrypts it)."""
    env, user = h.environment, h.user
    head = [
        f"Initial console password of {user.name} in {env.account_name} ({h.account_id}, stack {env.stack})",
        f"  sign in at   {env.signin_url}  as {user.name}",
        f"  CLI profile  {env.profile_name(user)} (after creating access keys: aws configure --profile "
        f"{env.own_keys_profile(user)})",
        "  the password must be changed at first sign-in" + (", then an MFA device registered" if env.mfa_required else ""),
    ]
    if h.encrypted_password:
        return head + [
            f"  encrypted for the user's PGP key{' ' + h.key_fingerprint if h.key_fingerprint else ''}; they decrypt it with:",
            f"  echo '{h.encrypted_password}' | base64 --decode | gpg --decrypt",
        ]
    return head + [f"  password     {h.password}"]
