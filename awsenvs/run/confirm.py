"""The one confirmation before anything is applied (Sceptre's Launcher: show, then confirm
unless --yes, then execute), shared by `apply` and `bootstrap`: a question answered with
`yes`, then for each protected stack its account name typed.  Without a terminal to ask
on, a confirmation that would ask refuses, naming what it would have asked about and the
`--yes` that skips it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from awsenvs.errors import AwsenvsError

Ask = Callable[[str], str]  # a prompt -> what the operator typed


class Refused(AwsenvsError):
    """The operator (or the lack of one) did not confirm; nothing was applied."""


@dataclass(frozen=True)
class Protected:
    """A stack whose account name is typed before it is applied."""

    stack: str
    name: str  # the account name to type
    why: str  # why it is protected
    what: str  # what is about to be applied there


@dataclass(frozen=True)
class Confirmation:
    question: str | None = None  # asked first, answered `yes`; None: not asked
    unasked: str = ""  # the refusal when `question` cannot be asked (no terminal)
    protected: tuple[Protected, ...] = ()


@dataclass(frozen=True)
class Approval:
    """CI's counterpart of the confirmation (a job has nobody to type): the merge was the
    review of the plans, and a protected stack is applied only in a job that runs in a
    GitHub environment whose protection rules require a reviewer (`reviewed`, checked by
    awsenvs.ci.approval); elsewhere the protected stacks are held back for that job."""

    reviewed: bool


def held_back(approval: Approval, protected: tuple[Protected, ...]) -> tuple[Protected, ...]:
    """The protected stacks a job must leave to the reviewed one: all of them, unless reviewed."""
    return () if approval.reviewed else protected


def confirm(confirmation: Confirmation, ask: Ask | None, yes: bool) -> None:
    """Raises Refused unless confirmed (`yes`: confirmed already, --yes)."""
    if yes:
        return
    if ask is None:
        if confirmation.protected:
            names = ", ".join(f"{p.stack} ({p.why})" for p in confirmation.protected)
            raise Refused(f"refusing to apply {names} without a terminal to confirm on: run it interactively, or pass --yes")
        if confirmation.question is not None:
            raise Refused(confirmation.unasked)
        return
    if confirmation.question is not None and ask(f"{confirmation.question} Type yes").strip() != "yes":
        raise Refused("not confirmed; nothing applied")
    for p in confirmation.protected:
        typed = ask(f"{p.stack} is protected ({p.why}); about to apply {p.what}. Type its account name ({p.name}) to apply")
        if typed.strip() != p.name:
            raise Refused(f"{p.stack}: account name not confirmed; nothing applied")
