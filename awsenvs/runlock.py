"""One awsenvs run at a time per organization, for the verbs that write: plan, apply, bootstrap.

`plan` writes saved plans, their records and clean records beside each stack, `apply`
applies and spends them, `bootstrap` moves states.  Two at once would undo each other: a
second apply took the first one's "applying" mark for an interrupted run and discarded its
plans, a second plan deleted the saved plans the first was about to show.  So each of them
holds the organization's run lock for its whole run, and a second one stops at once, touching
nothing, with one line naming the holder.

The lock is a file beside the state folder (`StateConfig.run_lock`:
`<state.path>/<organization>.lock`), whatever the backend: the stack folders and saved plans
are local anyway.  It is held with an OS lock (fcntl.flock) on the open file, which the OS
releases when the holder exits, however it exits: a crashed run leaves nothing stuck, and
the next run writes over its file.  The file only says who holds the lock (verb, pid, user,
host, since), for the second run's line.  The verbs that only read states and AWS (tree,
signin, profiles, audit, password) neither take it nor wait for it.  Runs on other machines
share no file: there the state backend's own lock (S3's lock file, Terraform Cloud's runs)
protects each state, and terraform's refusal is named as a lock (terraform._explain).
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import socket
from datetime import datetime
from typing import Iterator

from awsenvs.config import Org
from awsenvs.errors import AwsenvsError
from awsenvs.private import FILE_MODE


class RunLocked(AwsenvsError):
    """Another awsenvs run holds the organization: this one did nothing."""


@contextlib.contextmanager
def run_lock(org: Org, verb: str) -> Iterator[None]:
    """Hold the organization's run lock for `verb`, or raise RunLocked (one line naming the holder)."""
    path = org.state.run_lock
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(held_by(org.name, os.pread(fd, 4096, 0))) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder(verb)).encode() + b"\n", 0)
        yield
    finally:
        os.close(fd)  # the OS lock goes with it


def _holder(verb: str) -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment nor the password database
        user = str(os.getuid())
    return {"verb": verb, "pid": os.getpid(), "user": user, "host": socket.gethostname(),
            "since": datetime.now().astimezone().isoformat(timespec="seconds")}


def held_by(organization: str, content: bytes) -> str:
    """The second run's line, from what the holder wrote into the lock file."""
    try:
        holder = json.loads(content)
        since = datetime.fromisoformat(holder["since"])
        when = since.strftime("%H:%M") if since.date() == datetime.now(since.tzinfo).date() else \
            since.strftime("%Y-%m-%d %H:%M")
        who = f"`{holder['verb']}` (pid {holder['pid']}, {holder['user']}@{holder['host']}, since {when})"
    except (ValueError, KeyError, TypeError):  # empty or half written: the holder took it a moment ago
        who = "a run that is starting"
    return f"another awsenvs run holds organization {organization}: {who}: wait for it to finish"
