"""Live checks per account, through the same role the stacks use, and of the local AWS config.

Each check yields a row (check, account, status, finding, restore); `audit` exits 1 if any
failed.  A failed row about something awsenvs manages says what restores it: for what a
stack's Terraform state holds, `make plan` (which plans the stacks where live objects
differ, awsenvs.stack_drift) then `make apply`; for what no state holds, the hand work.
"""

from __future__ import annotations

import configparser
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from rich.markup import escape
from rich.table import Table

from awsenvs import aws
from awsenvs.config import DEFAULT_ROLE_NAME, Environment, Org
from awsenvs import drift
from awsenvs.drift import RESTORED_BY_APPLY
from awsenvs.checks import management_account_access
from awsenvs.live.facts import LiveAccount, LiveIam, LiveIdentityCenter, LiveOrganization
from awsenvs.live.iam import read_account_iam, read_summary
from awsenvs.live.identity_center import read_identity_center
from awsenvs.live.organization import (
    account_client,
    read_alternate_contacts,
    read_organization,
    read_parked_accounts,
    read_region_statuses,
)
from awsenvs.private import readable_by_others, state_files
from awsenvs.profiles import IDENTITY_CENTER_FIRST_SIGN_IN, profiles_for
from awsenvs.stack_drift import open_account_ids, organization_drift, read_account_stack

PASS, FAIL, MANUAL = "pass", "fail", "manual"
# The member checks wait on AWS, not the CPU: this many accounts are checked at once.
WORKERS = 16
# Identity Center's MFA settings have no read API: a person checks them in the console
# (https://docs.aws.amazon.com/singlesignon/latest/userguide/mfa-configure.html).
IDENTITY_CENTER_MFA = ("cannot be read through the API: check it in the console, IAM Identity Center > Settings > "
                       "Authentication > Multi-factor authentication (prompt users for MFA every time they sign in)")


# Member accounts created by Organizations have no root password, and with centralized root
# access they need no root credentials at all; the management account keeps its root user,
# which must have MFA (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html).
# GetAccountSummary reports each root credential (AccountPasswordPresent, AccountAccessKeysPresent,
# AccountMFAEnabled, AccountSigningCertificatesPresent:
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountSummary.html).
ROOT_CREDENTIALS = (
    ("AccountPasswordPresent", "a password"),
    ("AccountAccessKeysPresent", "access keys"),
    ("AccountMFAEnabled", "an MFA device"),
    ("AccountSigningCertificatesPresent", "signing certificates"),
)


@dataclass(frozen=True)
class Finding:
    check: str
    account: str
    status: str
    finding: str
    restore: str = ""  # a failed row of something awsenvs manages: what makes it as org.yaml says

    def as_dict(self) -> dict:
        return asdict(self)


def audit(org: Org, account_ids: dict[str, str], aws_config: Path, aws_credentials: Path, *,
          workers: int = WORKERS, parked: bool = True) -> list[Finding]:
    """Every check's row: the management account's, then each member account's in org.yaml order
    (checked `workers` accounts at a time in threads; 1 checks one account after the other), then
    the parked accounts' (unless not `parked`: they are read through OrganizationAccountAccessRole),
    then the local ones. A member account whose checks raise gets a failed row, the others go on."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    rows: list[Finding] = []
    management = None
    try:  # the management account is the credentials' own (the member checks assume roles from it)
        management = aws.caller_account()
        if org.management_account_id and management != org.management_account_id:
            rows.append(Finding("root MFA", "management", FAIL, f"these credentials are of {management}, not the "
                                f"management account {org.management_account_id}: use the management account's"))
        else:
            rows.append(management_root_mfa(read_summary(), f"management ({management})"))
    except aws.AwsError as exc:
        rows.append(Finding("root MFA", "management", FAIL, str(exc)))
    if org.break_glass is not None:
        rows += _break_glass_rows(org)
    organization_rows: list[Finding] = []
    live = _organization(org, account_ids, organization_rows)  # shown after Identity Center's rows
    known_ids = open_account_ids(org, live, account_ids)  # a closed account is one row, nothing else read
    identity_center = None
    if org.identity_center:
        rows.append(Finding("Identity Center MFA", "management", MANUAL, IDENTITY_CENTER_MFA))
        # No read API says whether users can sign in either: a person checks the setting.
        rows.append(Finding("Identity Center first sign-in", "management", MANUAL, IDENTITY_CENTER_FIRST_SIGN_IN))
        known = sorted({i for i in known_ids.values() if i})
        try:
            identity_center = read_identity_center(org.region, [*known, *filter(None, [management])],
                                                   groups=[g.name for g in org.groups], detail=True)
            if identity_center is None:
                rows.append(Finding("Identity Center", "management", FAIL,
                                    f"IAM Identity Center is not enabled in {org.region} of the management account"))
            else:
                rows += _drift_rows("management", drift.identity_center_differences(org, identity_center))
                rows += [_management_account_access(org, identity_center, management)] if management else []
        except aws.AwsError as exc:
            rows.append(Finding("Identity Center", "management", FAIL, str(exc)))
    rows += organization_rows
    sts = aws.sts_client()  # made here and shared: threads must not make clients from the default session
    # The management account's Account Management client, for the contacts and opt-in regions org.yaml sets.
    account = account_client() if any(env.has_account_settings for env in org.environments) else None

    def member(env: Environment) -> list[Finding]:
        closed = drift.closed_account(env, live, account_ids)
        if closed is not None:
            return [_closed_row(env, closed, env.account_id_from(account_ids))]
        return _member_rows(org, env, env.account_id_from(account_ids), identity_center, sts, account)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit")
    try:  # map() yields in org.environments order, whatever order the threads finish in
        for found in pool.map(member, org.environments):
            rows.extend(found)
        if parked:
            configured = {env.account_id_from(account_ids) for env in org.environments}
            retired = [a for a in _parked(live, rows) if a.id not in configured]
            rows.extend(pool.map(lambda account: _parked_row(account, sts), retired))
    finally:
        pool.shutdown(cancel_futures=True)  # on Ctrl-C, start no more accounts
    rows.extend(_local_checks(org, account_ids, aws_config, aws_credentials))
    return rows


def _break_glass_rows(org: Org) -> list[Finding]:
    """Each emergency user: console only (a password, no active access key), an MFA device,
    and when they last signed in (a sign-in is either an emergency or a test: someone knows
    which); and, with the sign-in alert, whether a CloudTrail trail logs every region their
    sign-ins are recorded in (EventBridge gets none otherwise)."""
    from awsenvs.live.break_glass import read_break_glass_users, regions_without_a_logging_trail

    glass, rows = org.break_glass, []
    try:
        for user in read_break_glass_users(glass.users):
            problems = (["missing: apply creates it"] if not user.exists else
                        [*([] if user.console else ["no console password"]),
                         *([] if user.mfa_devices else ["no MFA device: register one (a hardware key kept in the safe)"]),
                         *([f"{user.active_keys} active access key(s): delete them (console only)"] if user.active_keys
                           else [])])
            signed_in = f"{user.last_sign_in:%Y-%m-%d %H:%M} UTC" if user.last_sign_in else "never"
            rows.append(_row(f"break-glass {user.name}", "management", not problems,
                             f"console only, MFA device; last sign-in {signed_in}", "; ".join(problems)))
        if glass.alert_email:
            regions = glass.alert_regions(org.region)
            unlogged = regions_without_a_logging_trail(org.region, regions)
            rows.append(_row("break-glass sign-in alert", "management", not unlogged,
                             f"a CloudTrail trail logs {', '.join(regions)}: sign-ins reach {glass.alert_email}",
                             f"no CloudTrail trail logs {', '.join(unlogged)}: EventBridge gets no sign-in event there; "
                             "create a multi-region (organization) trail (docs/access.md)"))
    except aws.AwsError as exc:
        rows.append(Finding("break-glass", "management", FAIL, str(exc)))
    return rows


def table(rows: list[Finding]) -> Table:
    """The rows as `audit` shows them: the status coloured, a failed row's restore under its finding."""
    shown = Table(title="Audit", title_justify="left")
    for column in ("check", "account", "status", "finding"):
        shown.add_column(column)
    for row in rows:
        style = {"pass": "green", "fail": "bold red"}.get(row.status, "dim")
        restore = f"\n[dim]restore: {escape(row.restore)}[/]" if row.restore else ""
        shown.add_row(escape(row.check), row.account, f"[{style}]{row.status}[/]", escape(row.finding) + restore)
    return shown


def _member_rows(org: Org, env: Environment, account_id: str | None,
                 identity_center: LiveIdentityCenter | None, sts, account=None) -> list[Finding]:
    """One member account's rows, in a worker thread: any failure is this account's row
    (`account`: the management account's Account Management client, when org.yaml sets
    contacts or opt-in regions)."""
    label = f"{env.stack} ({account_id})" if account_id else env.stack
    if account_id is None:
        return [Finding("account exists", label, FAIL, "not created yet: run apply")]
    rows = []
    try:
        if identity_center is not None:
            rows.append(_assignments(org, env, identity_center.access(account_id), label))
        if env.contacts and account is not None:
            rows.append(_contacts(env, read_alternate_contacts(account_id, account), label))
        regions = (*env.regions, *env.disable_regions)
        if regions and account is not None:
            rows.append(_regions(env, read_region_statuses(account_id, regions, account), label))
        rows.extend(_account_checks(env, account_id, label, org.identity_center, org.centralized_root, sts=sts))
    except aws.AwsError as exc:
        rows.append(Finding("access", label, FAIL, str(exc)))
    except Exception as exc:  # e.g. a raw botocore error: it fails this account, not the whole audit
        rows.append(Finding("access", label, FAIL, f"{type(exc).__name__}: {exc}"))
    return rows


def _closed_row(env: Environment, account: LiveAccount, account_id: str | None) -> Finding:
    """An environment whose account is closed (drift.closed_account): nothing in it can be
    checked or managed, so this is its one row."""
    if account_id:
        whose, other = f"account {account.id} ({account.name})", ""
    else:  # no id known: put back in org.yaml after its retirement closed it
        whose = f"its root email {env.email} belongs to account {account.id} ({account.name}), which"
        other = ", give it another root email (email:) for a new account"
    return Finding("account exists", f"{env.stack} ({account.id})", FAIL,
                   f"{whose} is closed ({account.lifecycle}): awsenvs can neither manage nor check it; remove the "
                   f"environment from org.yaml{other}, or have AWS Support reopen the account (within 90 days of closing it)")


def _organization(org: Org, account_ids: dict[str, str], rows: list[Finding]) -> LiveOrganization | None:
    """The management stack's drift rows (OUs, accounts' parents, trusted services, policy types,
    the SCPs and data perimeter RCPs on the product OUs); returns the organization, read once,
    for the parked accounts."""
    try:
        live = read_organization()
        if live is None:
            rows.append(Finding(drift.DRIFT, "management", FAIL, "organization: expected one; live none"))
            return None
        rows += _drift_rows("management", organization_drift(org, live, account_ids))
        return live
    except aws.AwsError as exc:  # a read that failed is no drift: its own row says what went wrong
        rows.append(Finding("organization", "management", FAIL, str(exc)))
        return None


def _management_account_access(org: Org, live: LiveIdentityCenter, management_id: str) -> Finding:
    """Identity Center's assignments in the management account (checks.management_account_access):
    one of what awsenvs manages fails, anyone else's is named for a person to judge."""
    ours, others = management_account_access(org, live, management_id)
    if ours:
        return Finding("management account access", "management", FAIL,
                       f"assigned there, with a user, group or permission set awsenvs manages: {', '.join(ours)}",
                       drift.MANAGEMENT_ACCESS_REMEDY)
    if others:
        return Finding("management account access", "management", MANUAL,
                       f"assigned there by hand: {', '.join(others)}; a token of the Terraform Cloud run role could add a "
                       "member to such a group or change such a user (IAM cannot scope Identity Store's actions): keep "
                       "them few")
    return Finding("management account access", "management", PASS, "no Identity Center assignment in the management account")


def _drift_rows(label: str, differences) -> list[Finding]:
    return [Finding(drift.DRIFT, label, FAIL, d.finding, d.restore) for d in differences]


def _parked(live: LiveOrganization | None, rows: list[Finding]) -> tuple:
    """The accounts in the Suspended OU (a failure to read them is a row of its own)."""
    try:
        return read_parked_accounts(live)
    except aws.AwsError as exc:
        rows.append(Finding("parked accounts", "management", FAIL, str(exc)))
        return ()


def _parked_row(account, sts) -> Finding:
    """A retired account's IAM users, no longer managed or audited, must not be able to sign
    in or use a key: awsenvs took both away when it parked the account (retire.lock_out);
    this says whether anyone gave them back."""
    label = f"parked {account.name} ({account.id})"
    try:
        live = read_account_iam(aws.member_session(account.id, DEFAULT_ROLE_NAME, None, sts=sts), account.id)
    except aws.AwsError as exc:
        return Finding("parked account", label, FAIL, str(exc))
    able = sorted(user.name for user in live.users if user.console or user.active_keys)
    return _row("parked account", label, not able, "no IAM user with a console password or an active access key",
                f"IAM users who can still sign in or use a key: {', '.join(able)}; remove their passwords and "
                "deactivate their keys (or manage the account again in org.yaml)")


def _assignments(org: Org, env: Environment, live: set[tuple[str, str]], label: str) -> Finding:
    """identity_center: the account's assignments are exactly the configured ones (a group's
    that org.yaml lists under the environment's `unmanaged.groups` left alone)."""
    differences = drift.assignment_differences(org, env, live)
    return _row("access assignments", label, not differences,
                drift.assignments_text(drift.configured_assignments(org, env)),
                "; ".join(d.live for d in differences), "; ".join(d.restore for d in differences))


def _contacts(env: Environment, live, label: str) -> Finding:
    """The account's alternate contacts are org.yaml's (the kinds it sets)."""
    differences = drift.contact_differences(env, live)
    return _row("contacts", label, not differences, ", ".join(f"{c.kind}: {c.email}" for c in env.contacts),
                "; ".join(d.finding for d in differences), RESTORED_BY_APPLY)


def _regions(env: Environment, live: Mapping[str, str], label: str) -> Finding:
    """The opt-in regions org.yaml enables or disables in the account are so (drift.region_differences)."""
    differences = drift.region_differences(env, live)
    wanted = [f"{', '.join(env.regions)} enabled"] if env.regions else []
    wanted += [f"{', '.join(env.disable_regions)} disabled"] if env.disable_regions else []
    return _row("regions", label, not differences, "; ".join(wanted), "; ".join(d.finding for d in differences),
                RESTORED_BY_APPLY)


def management_root_mfa(summary: dict, label: str) -> Finding:
    """The management account's root user keeps its credentials: it must have MFA and no keys."""
    problems = [] if summary.get("AccountMFAEnabled") == 1 else ["no MFA device: enable one (console, signed in as root)"]
    problems += ["access keys: delete them"] if summary.get("AccountAccessKeysPresent", 0) else []
    return _row("root MFA", label, not problems, "root user has MFA and no access keys", "; ".join(problems))


def member_root_credentials(summary: dict, label: str, centralized_root: bool) -> Finding:
    """A member account's root user should have no credentials at all (GetAccountSummary's
    `Account*Present` flags; a key the endpoint does not report makes the row manual)."""
    present = [what for key, what in ROOT_CREDENTIALS if summary.get(key)]
    unknown = [what for key, what in ROOT_CREDENTIALS if key not in summary]
    if present:
        fix = ("delete them from the management account: IAM > Root access management" if centralized_root else
               "set organization.centralized_root: true and delete them from the management account "
               "(IAM > Root access management)")
        return Finding("root credentials", label, FAIL, f"root user has {', '.join(present)}: {fix}")
    if unknown:
        return Finding("root credentials", label, MANUAL,
                       f"none reported, but GetAccountSummary did not say whether it has {', '.join(unknown)}: "
                       "check IAM > Root access management in the management account")
    return Finding("root credentials", label, PASS, "none (no password, access keys, MFA device or signing certificates)")


def _account_checks(env: Environment, account_id: str, label: str, identity_center: bool,
                    centralized_root: bool, sts=None) -> list[Finding]:
    # MFA devices matter for the console users of mfa: required accounts.
    live = read_account_stack(env, account_id, not identity_center, sts=sts, mfa=env.mfa_required)
    return account_rows(env, live, label, identity_center, centralized_root)


def account_rows(env: Environment, live: LiveIam, label: str, identity_center: bool, centralized_root: bool) -> list[Finding]:
    """One member account's rows, decided from its live IAM."""
    rows = [member_root_credentials(live.summary, label, centralized_root)]
    aliases = list(live.aliases)
    rows.append(_row("alias", label, aliases == [env.alias], env.alias, f"expected {env.alias!r}, found {aliases}",
                     RESTORED_BY_APPLY))
    rows.append(_password_policy(env, live.password_settings, label))
    differences = drift.account_differences(env, live, iam_users=not identity_center)
    if identity_center:
        # People sign in through the access portal; a console password in the account is a side door.
        console = sorted(user.name for user in live.users if user.console and user.name not in env.unmanaged.users)
        rows.append(_row("no IAM console users", label, not console, "none (Identity Center only)",
                         f"IAM users with a console password: {', '.join(console)}; remove them"))
        return rows + _drift_rows(label, differences)
    if not any(d.object == "IAM users" for d in differences):
        rows.append(Finding("users", label, PASS, ", ".join(sorted(u.name for u in env.users))))
    rows += _drift_rows(label, differences)
    if env.mfa_required:
        for user in sorted(live.users, key=lambda u: u.name):
            if user.console:
                rows.append(_row(f"MFA of {user.name}", label, bool(user.mfa_devices), "MFA device enabled",
                                 "console user without an MFA device (mfa: required)"))
        rows.append(_standing_admin(env, live, label))
        rows += _grant_rows(env, live, label, datetime.now(timezone.utc))
    return rows


# What counts as standing admin rights: everything, or the right to give oneself everything.
ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess")


def _standing_admin(env: Environment, live: LiveIam, label: str) -> Finding:
    """Users of an `mfa: required` account holding admin rights (ADMIN_POLICIES) that org.yaml
    does not give them through one of their groups: attached to the user, or through a group
    org.yaml does not give them (an `unmanaged` user too: declared to exist, not to be admin)."""
    declared = {(u.name, g) for u in env.users for g in u.groups if set(env.group(g).policies) & set(ADMIN_POLICIES)}
    found = []
    for user in sorted(live.users, key=lambda u: u.name):
        via = [f"{p.rsplit('/', 1)[-1]} attached to the user" for p in user.managed if p in ADMIN_POLICIES]
        for name in user.groups:
            group = live.group(name)
            if group is not None and set(group.managed) & set(ADMIN_POLICIES) and (user.name, name) not in declared:
                via.append(f"group {name}")
        if via:
            found.append(f"{user.name} ({', '.join(via)})")
    return _row("standing admin", label, not found, "only as org.yaml's groups give it",
                f"admin rights org.yaml does not declare: {'; '.join(found)}",
                "declare them in org.yaml (a group, or eligible for just-in-time access), or take them away")


def _grant_rows(env: Environment, live: LiveIam, label: str, now: datetime) -> list[Finding]:
    """Each grant in the MFA roles' trust against the record's active grants (docs/access.md):
    one that ended or has no record outlives it (AWS still compares its own end); one the
    record holds but the trust lacks was never applied."""
    rows = []
    recorded = {(env.group(g.group).admin_role_name, g.user): g for g in env.grants}
    ended = {(env.group(g.group).admin_role_name, g.user): g for g in env.ended_grants}
    for grant in drift.live_grants(env, live):
        key, group = (grant.role, grant.user), grant.role.removesuffix("-mfa")
        entry = recorded.pop(key, None)
        if entry is not None and entry.until_text == grant.until:
            rows.append(Finding(f"grant of {group}", label, PASS,
                                f"{grant.user} until {grant.until}: {entry.reason} (asked by {entry.requester}, "
                                f"approved by {entry.approver or 'no approver needed'})"))
        elif _time(grant.until) <= now:
            rows.append(Finding(f"grant of {group}", label, FAIL,
                                f"grant of {group} to {grant.user} ended at {grant.until} and is still in the trust of "
                                f"{grant.role} (AWS refuses new sessions since)", RESTORED_BY_APPLY))
        else:
            record = (f"ended at {ended[key].end_text}" if key in ended else
                      f"is recorded until {entry.until_text}" if entry else "has no record")
            rows.append(Finding(f"grant of {group}", label, FAIL,
                                f"grant of {group} to {grant.user} {record}, but the trust of {grant.role} honours it "
                                f"until {grant.until}: it outlives its record", RESTORED_BY_APPLY))
    for (role, user), entry in recorded.items():
        rows.append(Finding(f"grant of {entry.group}", label, FAIL,
                            f"grant of {entry.group} to {user} until {entry.until_text} is recorded but not in the "
                            f"trust of {role}", RESTORED_BY_APPLY))
    return rows


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)  # not a time awsenvs wrote: reported as ended


def _password_policy(env: Environment, live: Mapping | None, label: str) -> Finding:
    """At least as strict as org.yaml's (`live`: LiveIam.password_settings); drift names any difference."""
    if live is None:
        return Finding("password policy", label, FAIL, "no password policy", RESTORED_BY_APPLY)
    want = env.password_policy
    weaker = []
    if live["minimum_length"] < want.minimum_length:
        weaker.append(f"minimum length {live['minimum_length']} < {want.minimum_length}")
    weaker += [f"{name} off" for name in ("require_lowercase", "require_uppercase", "require_numbers", "require_symbols")
               if getattr(want, name) and not live[name]]
    if live["reuse_prevention"] < want.reuse_prevention:
        weaker.append(f"reuse prevention {live['reuse_prevention']} < {want.reuse_prevention}")
    if want.max_age_days and not 0 < live["max_age_days"] <= want.max_age_days:
        weaker.append(f"max age {live['max_age_days'] or 'none'} > {want.max_age_days}")
    return _row("password policy", label, not weaker, "at least the configured one", "; ".join(weaker), RESTORED_BY_APPLY)


def _local_checks(org: Org, account_ids: dict[str, str], aws_config: Path, aws_credentials: Path) -> list[Finding]:
    config = _read_ini(aws_config)
    credentials = _read_ini(aws_credentials)
    has_default = config.has_section("default") or credentials.has_section("default")
    rows = [_row("no [default] profile", "local", not has_default, "none",
                 f"a [default] profile exists ({aws_config} or {aws_credentials}): commands without --profile may hit the wrong account")]
    if org.state.backend == "local":
        state_dir = org.state.local_dir
        loose = [p for p in (state_dir, *state_files(state_dir)) if readable_by_others(p)]
        rows.append(_row("local state private", "local", not loose, f"{state_dir}: owner-only",
                         f"readable by other users of this machine (state holds initial passwords): "
                         f"{', '.join(str(p) for p in loose)}; chmod 600 (folder 700), or run plan, which tightens them"))
    setups = [] if org.identity_center else profiles_for(org, account_ids).setups  # no keys with Identity Center
    for setup in setups:
        name = setup.key_profile
        if not credentials.has_section(name) and not config.has_option(f"profile {name}", "aws_access_key_id"):
            continue  # no keys yet: nothing to check
        expected = setup.environment.account_id_from(account_ids)
        try:
            actual = aws.profile_account(name)
        except aws.AwsError as exc:
            rows.append(Finding(f"profile {name}", "local", FAIL, str(exc)))
            continue
        rows.append(_row(f"profile {name}", "local", actual == expected, f"keys belong to {expected}",
                         f"keys belong to {actual}, not {setup.environment.stack} ({expected})"))
    return rows


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path)
    except configparser.Error:
        pass
    return parser


def _row(check: str, account: str, ok: bool, good: str, bad: str, restore: str = "") -> Finding:
    """A passed or failed row (`restore`: what restores the failed one)."""
    return Finding(check, account, PASS if ok else FAIL, good if ok else bad, "" if ok else restore)
