"""Counting the AWS calls of an in-process run, for the benches' model of real AWS."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Iterator

import boto3

from awsenvs import aws


@contextmanager
def counted_calls() -> Iterator[tuple[Counter, Counter]]:
    """(calls made through the sessions of member accounts, calls of the default session: the
    management account's), by operation, from botocore's before-call events."""
    member, management = Counter(), Counter()
    real_new_session = aws.new_session

    def counted(**kwargs):
        session = real_new_session(**kwargs)
        session.events.register("before-call", lambda model, **_: member.update([model.name]))
        return session

    aws.new_session = counted
    boto3.DEFAULT_SESSION.events.register("before-call", lambda model, **_: management.update([model.name]))
    try:
        yield member, management
    finally:
        aws.new_session = real_new_session
