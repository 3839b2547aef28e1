"""The order in which `apply` launches the stacks, as data (Sceptre's launch plan of batches),
built once from the saved plans and executed by one loop (workflow.apply):

1. RETIRE: the environments removed from org.yaml, one at a time: each account is parked
   and its stack's state emptied before the management stack lets go of it, so an
   interruption anywhere is repeated safely by the next run (every step is idempotent).
2. MANAGEMENT: the organization, its OUs, accounts and policies; only once every retirement
   succeeded.
3. CREATED: the stacks of the accounts the management stack creates: planned once it has
   applied and their accounts are ready; only if it succeeded.
4. REST: every account stack, in parallel: the created ones once planned (none of them
   without the management stack), the others with their saved plans.

A batch whose `needs` did not succeed is not launched (the summary says why where a stack
was meant to run).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Mapping, Sequence

from awsenvs.config import MANAGEMENT_STACK
from awsenvs.results import StackStatus
from awsenvs.run.stackdir import SavedPlan


class Step(enum.Enum):
    RETIRE = "retire"
    MANAGEMENT = "management"
    CREATED = "created"
    REST = "rest"


@dataclass(frozen=True)
class Batch:
    step: Step
    stacks: tuple[str, ...]
    needs: Step | None = None  # the batch whose every stack must have succeeded first


def launch_order(selected: Sequence[str], saved: Mapping[str, SavedPlan | None],
                 retiring: Sequence[str] = ()) -> tuple[Batch, ...]:
    """The batches of one apply: `selected` stacks in org.yaml's order, their `saved` plans
    (None: none current), and the `retiring` stacks (removed from org.yaml).  Empty batches
    are left out."""
    created = tuple(s for s in selected if s != MANAGEMENT_STACK and saved.get(s) is not None
                    and saved[s].status is StackStatus.WAITING)
    batches = [
        Batch(Step.RETIRE, tuple(retiring)),
        Batch(Step.MANAGEMENT, (MANAGEMENT_STACK,) if MANAGEMENT_STACK in selected else (), Step.RETIRE),
        Batch(Step.CREATED, created, Step.MANAGEMENT),
        Batch(Step.REST, tuple(s for s in selected if s != MANAGEMENT_STACK)),
    ]
    return tuple(batch for batch in batches if batch.stacks)
