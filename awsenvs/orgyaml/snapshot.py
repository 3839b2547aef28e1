"""`import`'s reads: the live organization (awsenvs.live) as one snapshot, which orgyaml
renders and output.py writes.

Reading runs with the management account's credentials: the organization, its OUs and
policies first, then each member account's IAM through `role_name` in `workers` threads
(a member whose role cannot be assumed is skipped with its reason, the others go on),
then IAM Identity Center in the run's region.  Calls per member account: 1 AssumeRole,
then 7 + 6 per IAM user + 2 per IAM group (live.iam.read_account_iam, DETAIL), and 3 for its
alternate contacts, from the management account, when Account Management's trusted access is
on (live.organization.read_alternate_contacts), and 2 + 3 per S3 bucket for the buckets it
serves to anyone (live.s3.read_public_buckets); botocore retries
throttled calls in its adaptive mode (aws.connect), so big organizations slow down
instead of failing (org-formation-cli#280 shows what happens without it).
"""


from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from typing import Callable

from awsenvs import aws
from awsenvs.config import ACCOUNT_PRINCIPAL
from awsenvs.live.facts import LiveAccount, LiveMember, LiveSnapshot
from awsenvs.live.iam import DETAIL, read_account_iam
from awsenvs.live.identity_center import read_identity_center
from awsenvs.live.organization import account_client, read_alternate_contacts, read_organization, read_structure
from awsenvs.live.s3 import read_public_buckets
from awsenvs.orgyaml import DraftRefused

WORKERS = 16  # member accounts read at once: the reads wait on AWS, not the CPU


def read_snapshot(region: str, role_name: str, workers: int = WORKERS,
                  on_account: Callable[[LiveMember], None] = lambda _: None,
                  on_accounts: Callable[[int], None] = lambda _: None) -> LiveSnapshot:
    """Everything `import` writes down.  `on_accounts(n)` once the members are known,
    `on_account(member)` as each is read (from the calling thread)."""
    try:
        # Any account of an organization may describe it: say which account should run import first.
        found = aws.management_account_of_organization()
        if found is None:
            raise DraftRefused("these credentials' account belongs to no organization: run import with the "
                               "management account's credentials (AWS_PROFILE)")
        caller = aws.caller_account()
        if caller != found[1]:
            raise aws.GuardError(f"these credentials are for account {caller}, not the management account {found[1]} "
                                 f"of organization {found[0]}: import needs the management account's credentials "
                                 "(AWS_PROFILE)")
        organization = read_organization()
        structure = read_structure(organization)
    except aws.AwsError as exc:
        raise DraftRefused(f"cannot read the organization with these credentials: {exc}; run import with the "
                           "management account's credentials (Organizations read access)") from None
    path_of = {account: ou.path for ou in structure.ous for account in ou.account_ids}
    sts = aws.sts_client()  # made here, shared by the threads (sessions are not thread safe)
    # Members' alternate contacts are read from the management account, which needs Account
    # Management's trusted access (https://docs.aws.amazon.com/accounts/latest/reference/using-orgs-trusted-access.html).
    contacts_client = account_client() if ACCOUNT_PRINCIPAL in organization.trusted_services else None

    def member(account: LiveAccount) -> LiveMember:
        path = path_of.get(account.id, ())
        if account.closed:
            return LiveMember(account, path, None, f"closed ({account.lifecycle})")
        try:
            # The session name is what CloudTrail shows of these reads: the verb's, as users know it.
            session = aws.assume_role_session(account.id, role_name, "awsenvs-import", sts=sts)
            read = _with_public_buckets(LiveMember(account, path, read_account_iam(session, account.id, DETAIL)), session)
        except aws.AwsError as exc:
            read = LiveMember(account, path, None, str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. a raw botocore error: this account is skipped, the others still read
            read = LiveMember(account, path, None, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        return _with_contacts(read, contacts_client)

    on_accounts(len(organization.accounts))
    members: dict[str, LiveMember] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="snapshot")
    try:
        for future in as_completed([pool.submit(member, a) for a in organization.accounts]):
            read = future.result()
            members[read.account.id] = read
            on_account(read)
    finally:
        pool.shutdown(cancel_futures=True)  # on Ctrl-C, read no more accounts
    ordered = tuple(members[a.id] for a in organization.accounts)
    try:
        identity_center = read_identity_center(region, [a.id for a in organization.accounts if not a.closed],
                                               detail=True, unmanaged=True)
    except aws.AwsError as exc:
        raise exc.within(f"reading IAM Identity Center in {region}") from None
    return LiveSnapshot(organization, structure, ordered, identity_center, region, role_name)


def _with_public_buckets(member: LiveMember, session) -> LiveMember:
    """The member with the S3 buckets it serves to anyone (a data perimeter would deny them)."""
    try:
        return replace(member, public=read_public_buckets(session, member.account.id))
    except aws.AwsError as exc:
        return replace(member, public_error=str(exc))


def _with_contacts(member: LiveMember, client) -> LiveMember:
    """The member with its alternate contacts (3 calls), when Account Management can be asked."""
    if client is None or member.iam is None:
        return member
    try:
        return replace(member, contacts=read_alternate_contacts(member.account.id, client))
    except aws.AwsError as exc:
        return replace(member, contacts_error=str(exc))
