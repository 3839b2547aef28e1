"""What a management stack's plan means for the accounts it reaches, beyond its counts: one
line each, under the summary table (the runner adds them to the stack's notes).  Pure: the
model and the plan's changes in, lines out."""

from __future__ import annotations

from typing import Sequence

from awsenvs.config import CONTACT_KINDS, MANAGEMENT_STACK, Org, contact_address
from awsenvs.terraform import ResourceChange


def management_notes(org: Org, stack: str, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    if stack != MANAGEMENT_STACK:
        return ()
    return released_contact_notes(org, changes)


def released_contact_notes(org: Org, changes: Sequence[ResourceChange]) -> tuple[str, ...]:
    """A contact org.yaml no longer sets (its kind null, or `contacts` removed) leaves state
    through a `removed` block (reconcile.released_contacts): it stays on AWS as it is."""
    kinds = {contact_address(env.stack, kind): (env, kind) for env in org.environments for kind in CONTACT_KINDS}
    notes = []
    for change in changes:
        if change.address in kinds and "forget" in change.actions:
            env, kind = kinds[change.address]
            notes.append(f"the {kind} contact of {env.stack} is no longer org.yaml's: forgotten, it stays on AWS as it "
                         "is (awsenvs neither sets nor checks it; delete it in the account's settings if it should go)")
    return tuple(notes)
