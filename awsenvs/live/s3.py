"""Reads of S3 inside one account: whether it serves content to anyone (a public bucket, an S3
website), which a data perimeter would deny (`import` keeps such an account out of it)."""

from __future__ import annotations

import boto3
import botocore.exceptions
from botocore.config import Config

from awsenvs import aws
from awsenvs.errors import AwsenvsError, with_credentials_hint
from awsenvs.live.facts import LivePublicBuckets

# The grantee of an ACL grant to everyone (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html).
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_NO_BLOCK = ("NoSuchPublicAccessBlockConfiguration",)


def read_public_buckets(session: boto3.Session, account_id: str) -> LivePublicBuckets:
    """The account's buckets that anyone may read: public by their bucket policy
    (GetBucketPolicyStatus) unless a public access block restricts public policies
    (RestrictPublicBuckets), or by an ACL grant to everyone unless one ignores public ACLs
    (IgnorePublicAcls), the account's block (S3 Control) or the bucket's
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
    Calls: 2, then 3 per bucket unless the account's block covers both."""
    s3 = session.client("s3")
    unread = None
    # S3 Control's host carries the account id ({AccountId}.s3-control...), which a local
    # endpoint does not resolve: two attempts, then the block is noted as unread, not retried
    # for a minute per account.
    control = session.client("s3control", config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    try:
        account = _block(f"s3control get-public-access-block of {account_id}",
                         lambda: control.get_public_access_block(AccountId=account_id))
    except AwsenvsError as exc:  # any failure (no answer too): read as no block, each bucket judged by itself
        account, unread = {}, f"the account's public access block could not be read ({exc})"
    if account.get("RestrictPublicBuckets") and account.get("IgnorePublicAcls"):
        return LivePublicBuckets((), unread)
    public = []
    for bucket in aws.pages(s3, "list_buckets", "Buckets"):
        name = bucket["Name"]
        block = _block(f"s3 get-public-access-block {name}", lambda: s3.get_public_access_block(Bucket=name))
        reasons = []
        if not (account.get("RestrictPublicBuckets") or block.get("RestrictPublicBuckets")):
            status = aws.maybe(f"s3 get-bucket-policy-status {name}", lambda: s3.get_bucket_policy_status(Bucket=name),
                               ("NoSuchBucketPolicy",))
            if status and status["PolicyStatus"].get("IsPublic"):
                reasons.append("its bucket policy")
        if not (account.get("IgnorePublicAcls") or block.get("IgnorePublicAcls")):
            grants = aws.call(f"s3 get-bucket-acl {name}", s3.get_bucket_acl, Bucket=name)["Grants"]
            if any(g.get("Grantee", {}).get("URI") == ALL_USERS for g in grants):
                reasons.append("its ACL")
        if reasons:
            public.append((name, " and ".join(reasons)))
    return LivePublicBuckets(tuple(public), unread)


def _block(what: str, read) -> dict:
    found = aws.maybe(what, read, _NO_BLOCK)
    return found["PublicAccessBlockConfiguration"] if found else {}


def read_object(session: boto3.Session, bucket: str, key: str, region: str) -> tuple[str | None, str | None]:
    """(the object's text, its ETag), or (None, None) when there is none."""
    s3 = session.client("s3", region_name=region)
    found = aws.maybe(f"s3 get-object s3://{bucket}/{key}", lambda: s3.get_object(Bucket=bucket, Key=key),
                      ("NoSuchKey", "404"))
    if found is None:
        return None, None
    return found["Body"].read().decode("utf-8"), found["ETag"]


class ChangedMeanwhile(AwsenvsError):
    """The object changed since it was read (another run wrote it)."""


def write_object(session: boto3.Session, bucket: str, key: str, region: str, text: str, etag: str | None = None,
                 new: bool = False) -> None:
    """Put the object, only if it is still the version read (`etag`) or, `new`, still absent:
    S3's conditional writes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)
    refuse it otherwise with 412 Precondition Failed: ChangedMeanwhile."""
    s3 = session.client("s3", region_name=region)
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"} if new else {}
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json", **condition)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
            raise ChangedMeanwhile(f"s3://{bucket}/{key} changed while this run read it (another run wrote it): "
                                   "run the command again") from None
        raise aws.AwsError(with_credentials_hint(f"s3 put-object s3://{bucket}/{key}: {exc}")) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise aws.failed(f"s3 put-object s3://{bucket}/{key}", exc) from None
