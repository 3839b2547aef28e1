"""AWS CLI named profiles `<product>_<env>_<user>`, rendered with jinja2, merged into ~/.aws/config.

The tool owns only the text between `# BEGIN awsenvs` and `# END awsenvs`; every other byte
of the file stays as it was.  Inside the block it owns only the keys it writes (OWNED_KEYS):
a key a user added to one of its profiles (`aws configure set cli_pager "" --profile ...`)
is kept there, and an owned key whose value it replaces is named.  Writes are atomic (temp
file + rename, mode 0600), the old file is backed up beside it (and the backup removed again
when the write fails), an unchanged block writes nothing, and a `[default]` profile is never
written.  The one writer of config files in awsenvs.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import jinja2

from awsenvs import TEMPLATES
from awsenvs.config import MFA_ROLE_MAX_SESSION_SECONDS, Environment, Org, User
from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError

if TYPE_CHECKING:
    from rich.console import Console

# Users made through the Identity Store API (as the management stack makes them) have no
# password and get no email: an administrator generates a one-time password for each, or
# turns on the email one-time password (https://docs.aws.amazon.com/singlesignon/latest/userguide/userswithoutpwd.html).
IDENTITY_CENTER_FIRST_SIGN_IN = (
    "Identity Center users that awsenvs creates have no password and get no email: once, in the management account, "
    "turn on IAM Identity Center > Settings > Authentication > Standard authentication > Configure > \"Send email OTP\" "
    "(each user then gets a one-time code at first sign-in), or generate a one-time password per user (Users > the user "
    "> Reset password)")

BEGIN = "# BEGIN awsenvs"
END = "# END awsenvs"
_SECTION = re.compile(r"^[ \t]*\[[ \t]*(?:profile[ \t]+)?([^\]]+?)[ \t]*\][ \t]*$", re.M)
_SETTING = re.compile(r"^([A-Za-z0-9_.-]+)[ \t]*=[ \t]*(.*?)[ \t]*$")
# Every key templates/aws_config.j2 can write, in a profile or the sso-session block: these
# are awsenvs' (org.yaml decides them); any other key in its sections is the user's.
OWNED_KEYS = frozenset({
    "region", "output", "role_arn", "source_profile", "mfa_serial", "role_session_name", "duration_seconds",
    "sso_session", "sso_account_id", "sso_role_name", "sso_start_url", "sso_region", "sso_registration_scopes",
})


def aws_config_path() -> Path:
    """The AWS CLI's config file: $AWS_CONFIG_FILE, else ~/.aws/config."""
    return Path(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config").expanduser()


def aws_credentials_path() -> Path:
    """The AWS CLI's credentials file: $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials."""
    return Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials").expanduser()


class ProfileError(AwsenvsError):
    """A profile that cannot be written (a name the user already owns); nothing was changed."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class Profile:
    name: str
    region: str
    output: str = "json"
    role_arn: str | None = None
    source_profile: str | None = None
    mfa_serial: str | None = None
    role_session_name: str | None = None  # the role's trust policy demands the user's name
    duration_seconds: int | None = None
    sso_session: str | None = None  # identity_center: the [sso-session] block it signs in through
    sso_account_id: str | None = None
    sso_role_name: str | None = None  # the permission set


@dataclass(frozen=True)
class SsoSession:
    """identity_center: the one `[sso-session <organization>]` block the profiles share.

    Registration scope sso:account:access is what the CLI needs to list and use account
    roles (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sso.html).
    """

    name: str
    start_url: str
    region: str
    registration_scopes: str = "sso:account:access"


@dataclass(frozen=True)
class UserSetup:
    """What one user runs after creating access keys at first sign-in."""

    environment: Environment
    user: User
    key_profile: str

    @property
    def command(self) -> str:
        return f"aws configure --profile {self.key_profile}"


@dataclass(frozen=True)
class ProfileSet:
    profiles: list[Profile]
    setups: list[UserSetup]  # `aws configure --profile ...` per user and environment
    waiting: list[Environment]  # accounts not created yet: no profiles
    without_mfa: list[UserSetup]  # mfa: required, but no TOTP device yet: no role profile
    sso_session: SsoSession | None = None  # identity_center


def profiles_for(org: Org, account_ids: dict[str, str],
                 mfa_serials: dict[tuple[str, str], str | None] | None = None,
                 identity_store_id: str | None = None, users: tuple[str, ...] = ()) -> ProfileSet:
    """Profiles of every environment whose account id is known (only `users`' if given).

    iam_users: `mfa_serials` maps (stack, user) to the serial of the user's real TOTP
    device (see live.iam.mfa_serials): a device name is free, so its ARN cannot be derived.  A
    user of an `mfa: required` account without one gets only the key profile, never a role
    profile that cannot work, and is listed in `without_mfa`.
    identity_center: one profile per assignment, signing in through one sso-session
    (the access portal of `identity_store_id`); no keys, nothing to set up.
    """
    if org.identity_center:
        return _sso_profiles(org, account_ids, identity_store_id, users)
    mfa_serials = mfa_serials or {}
    result = ProfileSet([], [], [], [])
    for env in org.environments:
        account_id = env.account_id_from(account_ids)
        if account_id is None:
            result.waiting.append(env)
            continue
        for user in env.users:
            if users and user.name not in users:
                continue
            keys = env.own_keys_profile(user)
            if env.has_role_profile(user):
                serial = mfa_serials.get((env.stack, user.name))
                if serial:
                    # The AWS CLI honours mfa_serial only on a role profile: assume the MFA
                    # role of the user's first group with the user's own keys; each eligible
                    # group's profile is written ahead of any grant (AWS refuses it until one).
                    roles = [(env.profile_name(user), g) for g in user.groups[:1]]
                    roles += [(env.eligible_profile_name(user, g), g) for g in user.eligible]
                    for name, group in roles:
                        result.profiles.append(Profile(
                            name, env.region, role_arn=env.admin_role_arn(account_id, env.group(group)),
                            source_profile=keys, mfa_serial=serial, role_session_name=user.name,
                            duration_seconds=MFA_ROLE_MAX_SESSION_SECONDS,
                        ))
                else:
                    result.without_mfa.append(UserSetup(env, user, keys))
            result.profiles.append(Profile(keys, env.region))
            result.setups.append(UserSetup(env, user, keys))
    return result


def mfa_serials_of(org: Org, account_ids: dict[str, str], guard: Callable[[dict[str, str]], str],
                   console: Console) -> dict[tuple[str, str], str | None]:
    """iam_users: the serials of the users' TOTP devices in the created `mfa: required`
    accounts (live.iam.mfa_serials), read through the management account once `guard` has
    checked it; none to read (identity_center, or no such account yet): empty, AWS not asked."""
    looked_up = [env for env in org.environments if env.mfa_required and env.account_id_from(account_ids)]
    if org.identity_center or not looked_up:
        return {}
    from awsenvs import aws
    from awsenvs.live import iam as live_iam

    aws.connect(org)
    guard(account_ids)  # the users' MFA devices are read through the management account
    try:
        with console.status("Looking up the users' MFA devices…"):
            return live_iam.mfa_serials(org, account_ids)
    except aws.AwsError as exc:
        raise exc.within("looking up MFA devices (needs the management account's credentials)") from None


def tell_next_steps(found: ProfileSet, console: Console) -> None:
    """What the people do next: sign in through the sso-session, `aws configure` their keys,
    register the MFA device a role profile waits for."""
    if found.sso_session:
        console.print(f"Sign in with: aws sso login --sso-session {found.sso_session.name}  (portal {found.sso_session.start_url}; "
                      "needs AWS CLI version 2: version 1 has no `aws sso login`)", markup=False, highlight=False)
    if found.setups:
        console.print("After creating your access keys at first sign-in, run:")
        for setup in found.setups:
            console.print(f"  {setup.user.name:<12} {setup.command}", markup=False, highlight=False)
    if found.without_mfa:
        console.print("No MFA device yet, so no role profile (mfa: required): register an authenticator app "
                      "(console: Security credentials > Assign MFA device), then run `profiles --write` again:")
        for setup in found.without_mfa:
            console.print(f"  {setup.user.name:<12} {setup.environment.profile_name(setup.user)}  "
                          f"(sign in at {setup.environment.signin_url})", markup=False, highlight=False)


def portal_url(org: Org, identity_store_id: str | None) -> str:
    """identity_center: the access portal (organization.sso_start_url, or the identity store's
    once the management stack has reported it)."""
    portal = org.access_portal(identity_store_id)
    if portal is None:
        raise AwsenvsError("no Identity Center identity store id in the management stack's outputs: apply the management "
                           "stack first (or set organization.sso_start_url)")
    return portal


def _sso_profiles(org: Org, account_ids: dict[str, str], identity_store_id: str | None, users: tuple[str, ...]) -> ProfileSet:
    session = SsoSession(org.name, portal_url(org, identity_store_id), org.region)
    result = ProfileSet([], [], [], [], sso_session=session)
    for env in org.environments:
        if env.account_id_from(account_ids) is None:
            result.waiting.append(env)
    # Each eligible group's profile is written ahead of any grant: until one, the portal
    # answers that the user has no access to it.
    written = set()
    for assignment in (*org.assignments, *org.eligible_assignments):
        env = assignment.environment
        account_id = env.account_id_from(account_ids)
        if account_id is None or (users and assignment.user.name not in users) or assignment.profile_name in written:
            continue
        written.add(assignment.profile_name)
        result.profiles.append(Profile(assignment.profile_name, env.region, sso_session=session.name,
                                       sso_account_id=account_id, sso_role_name=assignment.group.permission_set_name))
    return result


def _templates(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=autoescape,
    )


def render(org: Org, profiles: list[Profile], sso_session: SsoSession | None = None) -> str:
    """The managed block, markers included (never a [default] profile)."""
    assert all(p.name != "default" for p in profiles)
    body = _templates(autoescape=False).get_template("aws_config.j2").render(
        profiles=profiles, source=org.source.name, sso_session=sso_session)
    return f"{BEGIN}\n{body.strip()}\n{END}\n"


def render_signin_page(org: Org, account_ids: dict[str, str], identity_store_id: str | None = None) -> str:
    """The static HTML page of sign-in links, a bookmark per account (identity_center: the
    access portal, and a direct link per assignment)."""
    ids = {env.stack: env.account_id_from(account_ids) for env in org.environments}
    portal = org.access_portal(identity_store_id) if org.identity_center else None
    return _templates(autoescape=True).get_template("signin.html.j2").render(
        org=org, ids=ids, portal=portal, store=identity_store_id, assignments=org.assignments)


def split(text: str) -> tuple[str, str, str]:
    """(before, managed block, after); the block is empty when the file has none."""
    begin = re.search(rf"^{re.escape(BEGIN)}[ \t]*$", text, re.M)
    if not begin:
        return text, "", ""
    end = re.compile(rf"^{re.escape(END)}[ \t]*(\n|$)", re.M).search(text, begin.end())
    if not end:
        raise ProfileError(f"found '{BEGIN}' without '{END}' after it: fix the file by hand, then write again")
    return text[: begin.start()], text[begin.start() : end.end()], text[end.end() :]


def _section(name: str) -> str:
    """How a section found by profile_names reads in the file: `profile x`, `sso-session y`."""
    return name if name.startswith("sso-session ") else f"profile {name}"


def profile_names(text: str) -> list[str]:
    return [m.group(1) for m in _SECTION.finditer(text)]


def merge(existing: str, block: str) -> str:
    """The file with its managed block replaced (or appended); every other byte kept."""
    before, old, after = split(existing)
    if old:
        return before + block + after
    if before and not before.endswith("\n"):
        before += "\n"
    return before + ("\n" if before.strip() else "") + block


def _sections(block: str) -> dict[str, list[list[str]]]:
    """A managed block's sections (`x` of `[profile x]`, `sso-session y`) -> their entries: a
    setting's line with the indented lines under it (a nested setting such as `s3 =`), or a
    comment line.  The markers and the header comments before the first section are no entries."""
    sections: dict[str, list[list[str]]] = {}
    entries: list[list[str]] | None = None
    for line in block.splitlines():
        header = _SECTION.match(line)
        if header:
            entries = sections.setdefault(header.group(1), [])
        elif entries is None or not line.strip() or line.startswith((BEGIN, END)):
            continue
        elif line[:1] in " \t" and entries and _SETTING.match(entries[-1][0]):
            entries[-1].append(line)
        else:
            entries.append([line])
    return sections


def _setting(entry: list[str]) -> tuple[str | None, str]:
    found = _SETTING.match(entry[0])
    return (found.group(1), found.group(2)) if found else (None, "")


def keep_their_keys(old_block: str, block: str) -> tuple[str, tuple[str, ...]]:
    """The new block with the keys a user added to its profiles kept (at the end of each
    section that is still there: a profile gone from org.yaml leaves with what it held), and
    the owned keys whose values it replaces, one `<profile> <key> <old> -> <new>` each."""
    old, new = _sections(old_block), _sections(block)
    theirs: dict[str, list[str]] = {}
    replaced = []
    for name, entries in old.items():
        if name not in new:
            continue
        ours = dict(_setting(entry) for entry in new[name])
        for entry in entries:
            key, value = _setting(entry)
            if key not in OWNED_KEYS:
                theirs.setdefault(name, []).extend(entry)
            elif ours.get(key) != value:
                replaced.append(f"{name} {key} {value} -> {ours.get(key, '(none)')}")
    if not theirs:
        return block, tuple(replaced)
    lines, section = [], None
    for line in block.splitlines():
        header = _SECTION.match(line)
        if (header or not line.strip() or line.startswith(END)) and section in theirs:
            lines += theirs.pop(section)  # at the end of its section's settings
        if header:
            section = header.group(1)
        lines.append(line)
    return "\n".join(lines) + "\n", tuple(replaced)


@dataclass(frozen=True)
class WriteResult:
    path: Path
    changed: bool
    diff: str
    backup: Path | None
    has_default: bool
    replaced: tuple[str, ...] = ()  # owned keys whose values the write replaced (keep_their_keys)


def write(path: Path, block: str, dry_run: bool = False) -> WriteResult:
    path = Path(path).expanduser()
    existing = path.read_text() if path.exists() else ""
    before, old_block, after = split(existing)
    block, replaced = keep_their_keys(old_block, block)
    ours = set(profile_names(block))
    theirs = profile_names(before + after)
    clash = sorted(ours.intersection(theirs))
    if clash:
        raise ProfileError(
            f"{path}: [{_section(clash[0])}] is already defined outside the awsenvs block, which writes its own; "
            "rename or remove yours, nothing was written"
        )
    has_default = "default" in theirs
    updated = merge(existing, block)
    diff = "".join(difflib.unified_diff(
        existing.splitlines(keepends=True), updated.splitlines(keepends=True), str(path), f"{path} (awsenvs)"
    ))
    if updated == existing or dry_run:
        return WriteResult(path, updated != existing, diff, None, has_default, replaced)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    backup = None
    try:
        if path.exists():
            backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
            shutil.copy2(path, backup)
            os.chmod(backup, 0o600)
        atomic_write(path, updated)
    except BaseException:
        if backup is not None:  # the file is as it was: a backup of it would only be left lying there
            backup.unlink(missing_ok=True)
        raise
    return WriteResult(path, True, diff, backup, has_default, replaced)


def write_page(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, html, mode=0o644)


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """`text` into `path` whole or not at all: a temp file beside it, synced, renamed over it."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
