"""Just-in-time elevation: requests, approvals, grants and revokes of eligible groups.

A user may hold groups (standing) and be *eligible* for others in an environment
(org.yaml: `users: {maria: {groups: [readers], eligible: [sysadmins]}}`, the environment's
`elevation: {max: 4h, approvers: [paul]}`).  A grant is an entry of the record,
`elevations.json` beside the state (the state folder, or the state bucket with s3 state:
awsenvs.config.grants), and the account stack is synthesized from the record's active grants: each one a statement in its group's MFA role
trust that AWS honours until its end, a deny that ends the sessions begun before, and a tag
on the role (modules/iam.py).  Nothing awsenvs runs has to be there when a grant ends:
AWS compares the time itself; the next plan or apply removes what has ended.

These functions change the record only: the verbs (awsenvs/cli/elevate.py, approve.py,
revoke.py) hold the run lock, write the record and apply the one stack.  Every change is
also a line of the log (`elevations.log`, JSON lines, appended; in the bucket an object per
line under `elevations.log/`), and the record's last version is kept (`elevations.json.bak`;
the bucket's versions).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from awsenvs.config import ELEVATION_MIN_SECONDS, REASON_RE, Environment, Grant, Group, Org, User, duration_text, iso_time
from awsenvs.config.grants import grants_text, parse_grants, read_grants
from awsenvs.errors import AwsenvsError, BadInput
from awsenvs.private import private_dir, write_private


class Refused(AwsenvsError):
    """The caller may not do this (approve their own grant, approve without being an approver)."""


@dataclass(frozen=True)
class Target:
    """An eligible group of one user in one environment, as the command line names it."""

    env: Environment
    user: User
    group: Group


def target(org: Org, user: str, env: str, group: str) -> Target:
    """`--env` (`product/env` or the stack's name), USER and `--group`, checked against org.yaml."""
    found = next((e for e in org.environments if env in (e.key, e.stack)), None)
    if found is None:
        known = ", ".join(e.key for e in org.environments if e.eligible_users) or "none has eligible users"
        raise BadInput(f"--env {env}: no such environment in {org.source.name} (with eligible users: {known})")
    person = next((u for u in found.users if u.name == user), None)
    if person is None:
        raise BadInput(f"{user}: not a user of {found.key} (users: {', '.join(u.name for u in found.users) or 'none'})")
    if group not in person.eligible:
        held = " (it is one of their groups already: standing access)" if group in person.groups else ""
        eligible = ", ".join(person.eligible) or "none"
        raise BadInput(f"--group {group}: {user} is not eligible for it in {found.key}{held} (eligible: {eligible}); "
                       f"add it to their eligible groups in {org.source.name}")
    return Target(found, person, found.group(group))


@dataclass(frozen=True)
class Record:
    """Every entry of the record (requests, grants, ended ones) and the version read (S3's
    ETag: the write is refused if another run wrote it since)."""

    grants: tuple[Grant, ...]
    version: str | None = None


def read(org: Org) -> Record:
    """The record where the state is: the state folder (local), or the state bucket (s3,
    through the credentials' session: awsenvs.live.s3)."""
    if org.state.backend != "s3":
        return Record(read_grants(org.elevations_file))
    from awsenvs import aws
    from awsenvs.live.s3 import read_object

    text, etag = read_object(aws.own_session(), org.state.s3.bucket, org.elevations_key, org.state.s3.region)
    if text is None:
        return Record(())
    return Record(parse_grants(text, org.elevations_place, "restore an earlier version of it (the bucket is "
                                                           "versioned)"), etag)


def request(record: Sequence[Grant], t: Target, seconds: int, reason: str, requester: str, now: datetime) -> Grant:
    """A new entry for `t`: a grant at once, or a request when its environment has approvers."""
    limit = t.env.elevation.max_seconds
    if not ELEVATION_MIN_SECONDS <= seconds <= limit:
        raise BadInput(f"--for {duration_text(seconds)}: grants in {t.env.key} last {duration_text(ELEVATION_MIN_SECONDS)} "
                       f"to {duration_text(limit)} (its elevation.max)")
    if not REASON_RE.match(reason):
        raise BadInput(f"--reason {reason!r}: 1-120 letters, digits, spaces and _.:/=+@- (it goes on the role as a tag)")
    for entry in record:
        if (entry.stack, entry.user, entry.group) == (t.env.stack, t.user.name, t.group.name) and now < entry.end:
            what = "a request" if not entry.approved_in(t.env) else f"a grant until {iso_time(entry.end)}"
            raise BadInput(f"{t.user.name} has {what} of {t.group.name} in {t.env.key} already ({entry.id}): "
                           f"revoke it first (`awsenvs revoke {t.user.name} --env {t.env.key} --group {t.group.name}`)")
    return Grant(id=secrets.token_hex(4), stack=t.env.stack, user=t.user.name, group=t.group.name, since=now,
                 until=now + timedelta(seconds=seconds), requester=requester, reason=reason)


def approve(record: Sequence[Grant], org: Org, grant_id: str, approver: str | None, caller_arn: str,
            now: datetime) -> Grant:
    """The request `grant_id`, approved by `approver` (the caller, as aws.caller_person names
    them): it begins now and lasts as long as was asked."""
    entry = _entry(record, grant_id)
    env = next(e for e in org.environments if e.stack == entry.stack)
    if entry.approver is not None or not env.elevation.approvers:
        raise BadInput(f"{grant_id}: not a request waiting for approval (it is a grant, until {iso_time(entry.end)})")
    if now >= entry.end:
        raise BadInput(f"{grant_id}: revoked, or asked for a time that is over: request it again")
    if approver is None:
        raise Refused(f"cannot tell who approves from {caller_arn}: a role session is named by whoever assumes the role; "
                      "approve with your own IAM user's credentials or your Identity Center sign-in")
    if approver in (entry.user, entry.requester):
        others = [a for a in env.elevation.approvers if a not in (entry.user, entry.requester)]
        raise Refused(f"{approver} may not approve {grant_id}: it is their own "
                      f"{'grant' if approver == entry.user else 'request'}; "
                      + (f"{' or '.join(others)} approves it" if others else
                         f"no other approver is listed in {env.key}'s elevation.approvers: add one")
                      + " with their own credentials")
    if approver not in env.elevation.approvers:
        raise Refused(f"{approver} is not an approver of {env.key} (elevation.approvers: {', '.join(env.elevation.approvers)})")
    return replace(entry, approver=approver, since=now, until=now + (entry.until - entry.since))


def revoke(record: Sequence[Grant], t: Target, revoker: str, now: datetime) -> Grant:
    """The active grant (or waiting request) of `t`, ended now."""
    entry = next((e for e in record if (e.stack, e.user, e.group) == (t.env.stack, t.user.name, t.group.name)
                  and now < e.end), None)
    if entry is None:
        raise BadInput(f"{t.user.name} has no grant or request of {t.group.name} in {t.env.key} to revoke "
                       "(`awsenvs elevations` lists them)")
    return replace(entry, revoked=now, revoker=revoker)


def replaced(record: Sequence[Grant], entry: Grant) -> tuple[Grant, ...]:
    """The record with `entry` in place of the one of its id (or added)."""
    kept = [e for e in record if e.id != entry.id]
    return (*kept, entry)


def write(org: Org, read_as: Record, record: Sequence[Grant], event: str, entry: Grant, actor: str,
          now: datetime) -> None:
    """Write the record whole and what happened to the log.  In the state folder: the last
    record kept as .bak, owner-only, replaced atomically, the log a file of JSON lines.  In the
    state bucket: only if nobody wrote it since `read_as` was read (the bucket keeps the
    earlier versions), the log one object per line."""
    line = log_line(event, entry, actor, now)
    if org.state.backend == "s3":
        from awsenvs import aws
        from awsenvs.live.s3 import write_object

        session, bucket, region = aws.own_session(), org.state.s3.bucket, org.state.s3.region
        write_object(session, bucket, org.elevations_key, region, grants_text(tuple(record)), read_as.version,
                     new=read_as.version is None)
        write_object(session, bucket, org.elevations_log_key(iso_time(now), entry.id, event), region, json.dumps(line))
        return
    path = org.elevations_file
    private_dir(path.parent)
    if path.exists():
        write_private(path.with_name(path.name + ".bak"), path.read_text(encoding="utf-8"))
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    write_private(temporary, grants_text(tuple(record)))
    os.replace(temporary, path)
    fd = os.open(org.elevations_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def move_into_bucket(org: Org) -> list[Path]:
    """bootstrap's move into S3 state: the record of the state folder goes into the bucket
    (unless one is there already: the same, moved by an earlier bootstrap; another: stop),
    the local log as one object; returns the local files to keep in the move's backup."""
    from awsenvs import aws
    from awsenvs.live.s3 import write_object

    local = org.elevations_file
    if not local.exists():
        return []
    there = read(org)
    if there.version is None:
        session, bucket, region = aws.own_session(), org.state.s3.bucket, org.state.s3.region
        write_object(session, bucket, org.elevations_key, region, local.read_text(encoding="utf-8"), new=True)
        if org.elevations_log.exists():
            write_object(session, bucket, org.elevations_log_key("moved", "local", "log"), region,
                         org.elevations_log.read_text(encoding="utf-8"))
    elif there.grants != read_grants(local):
        raise AwsenvsError(f"{org.elevations_place} already holds another record of grants than {local}: find out "
                           "whose it is first (the local states were moved, the record not; run bootstrap again "
                           "once one of them is gone)")
    return [local, org.elevations_log]


def log_line(event: str, entry: Grant, actor: str, now: datetime) -> dict:
    return {"at": iso_time(now), "event": event, "by": actor, "id": entry.id, "stack": entry.stack, "user": entry.user,
            "group": entry.group, "since": iso_time(entry.since), "until": iso_time(entry.end),
            "requester": entry.requester, "approver": entry.approver, "reason": entry.reason}


def status(entry: Grant, org: Org, now: datetime) -> str:
    """What an entry is now: waiting, active, revoked, ended."""
    env = next((e for e in org.environments if e.stack == entry.stack), None)
    if entry.revoked is not None and entry.revoked < entry.until:
        return "revoked"
    if now >= entry.end:
        return "ended"
    if env is not None and not entry.approved_in(env):
        return "waiting for approval"
    return "active"


def _entry(record: Sequence[Grant], grant_id: str) -> Grant:
    entry = next((e for e in record if e.id == grant_id), None)
    if entry is None:
        raise BadInput(f"{grant_id}: no such request (`awsenvs elevations` lists them with their ids)")
    return entry
