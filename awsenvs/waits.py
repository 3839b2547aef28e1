"""Waits before planning: account creations an earlier run started, and new accounts' roles.

Readiness: a new account's OrganizationAccountAccessRole is often not assumable for a
while after CreateAccount reports SUCCEEDED (IAM is eventually consistent; reported in
https://github.com/hashicorp/terraform-provider-aws/issues/6566 and
https://github.com/org-formation/org-formation-cli/issues/192; AWS documents no bound).
"""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from awsenvs import aws
from awsenvs.checks import PreflightError
from awsenvs.config import Environment, Org
from awsenvs.live.organization import read_creation_state, read_pending_creations

T = TypeVar("T")


class NotYet(Exception):
    """Raised by an attempt that should be tried again later."""


def retry(attempt: Callable[[], T], *, timeout: float, sleep=time.sleep, clock=time.monotonic,
          on_retry: Callable[[str], None] = lambda _: None, first_delay: float = 2, max_delay: float = 20) -> T:
    """Call `attempt` until it stops raising NotYet; back off exponentially; give up after `timeout`."""
    deadline = clock() + timeout
    delay = first_delay
    while True:
        try:
            return attempt()
        except NotYet as exc:
            if clock() + delay > deadline:
                raise PreflightError(f"gave up after {timeout:.0f}s: {exc}") from None
            on_retry(str(exc))
            sleep(delay)
            delay = min(delay * 2, max_delay)


def wait_for_role(env: Environment, account_id: str, on_wait: Callable[[str], None] = lambda _: None,
                  timeout: float = 300, sleep=time.sleep, clock=time.monotonic) -> None:
    """Until the account's role can be assumed (new accounts take a while to accept it)."""
    if env.cli_profile:
        return

    def assume() -> None:
        try:
            aws.assume_role_session(account_id, env.acting_role_name, "awsenvs-readiness")
        except aws.AwsError as exc:
            if "AccessDenied" in str(exc) or "InvalidClientTokenId" in str(exc):
                raise NotYet(f"waiting for {env.account_name} ({account_id}) to accept the role {env.role_name}") from None
            raise

    retry(assume, timeout=timeout, sleep=sleep, clock=clock, on_retry=on_wait)


def wait_for_account_creation(org: Org, client=None, on_wait: Callable[[str], None] = lambda _: None,
                              timeout: float = 600, sleep=time.sleep, clock=time.monotonic) -> bool:
    """A CreateAccount still IN_PROGRESS for a configured account is waited for, not repeated.

    Returns whether it waited (the organization then has new accounts)."""
    names = {env.account_name for env in org.environments if not env.adopted}
    pending = read_pending_creations(names, client)
    for request_id, name in pending:

        def done(request_id: str = request_id, name: str = name) -> str:
            state = read_creation_state(request_id, client)
            if state == "IN_PROGRESS":
                raise NotYet(f"account {name} is still being created (an earlier run asked for it)")
            return state

        retry(done, timeout=timeout, sleep=sleep, clock=clock, on_retry=on_wait)
    return bool(pending)
