"""The initial-password handoff: what an admin tells a new colleague, once, on a terminal.

Pure: the live answer (has the user signed in yet?) and the login profile's attributes in
state come in, the lines to show go out.  The CLI verb `password` prints them only to a
terminal (unless --force) and nowhere else: no log, no file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from awsenvs.config import Environment, User


@dataclass(frozen=True)
class Handoff:
    environment: Environment
    user: User
    account_id: str
    password: str | None  # no pgp_key: the initial password, as Terraform set it
    encrypted_password: str | None  # with a pgp_key: base64 ciphertext only the user can decrypt
    key_fingerprint: str | None = None


def last_used(get_user_response: dict) -> datetime | None:
    """When the user last signed in with a password (IAM GetUser's PasswordLastUsed)."""
    return get_user_response.get("User", {}).get("PasswordLastUsed")


def already_signed_in(user: User, when: datetime) -> str:
    return (f"{user.name} signed in on {when:%Y-%m-%d %H:%M} UTC and changed the initial password then: "
            "nothing to hand over (if it is lost, reset it in the IAM console)")


def handoff(environment: Environment, user: User, account_id: str, login_profile: dict) -> Handoff:
    return Handoff(environment, user, account_id, login_profile.get("password") or None,
                   login_profile.get("encrypted_password") or None, login_profile.get("key_fingerprint") or None)


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
