"""Reads of what the bootstrap stack manages in the management account: the state bucket,
the OIDC provider of Terraform Cloud and the run roles."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import botocore.exceptions

from awsenvs import aws
from awsenvs.live.iam import exists


@dataclass(frozen=True)
class LiveStateBucket:
    exists: bool
    ours: bool = True  # False: the name answers 403 (another account's bucket: names are global)
    policy: bool = False
    public_access_block: bool = False


def read_state_bucket(bucket: str, s3) -> LiveStateBucket:
    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchBucket", "NotFound"):
            return LiveStateBucket(exists=False)
        if code in ("403", "AccessDenied", "Forbidden"):
            return LiveStateBucket(exists=True, ours=False)
        raise aws.AwsError(f"s3 head-bucket {bucket}: {exc}") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise aws.failed(f"s3 head-bucket {bucket}", exc) from None
    return LiveStateBucket(
        exists=True,
        policy=exists(bucket, "s3 get-bucket-policy", s3.get_bucket_policy, missing="NoSuchBucketPolicy", Bucket=bucket),
        public_access_block=exists(bucket, "s3 get-public-access-block", s3.get_public_access_block,
                                   missing="NoSuchPublicAccessBlockConfiguration", Bucket=bucket),
    )


def read_oidc_provider(arn_suffix: str, iam) -> str | None:
    """The ARN of the account's IAM OIDC provider whose ARN ends with `arn_suffix`, if any."""
    providers = aws.call("iam list-open-id-connect-providers", iam.list_open_id_connect_providers)["OpenIDConnectProviderList"]
    return next((p["Arn"] for p in providers if p["Arn"].endswith(arn_suffix)), None)


def read_role(name: str, iam, policy_name: str | None = None) -> tuple[bool, bool]:
    """(the role exists, it has the inline policy `policy_name`)."""
    if not exists("the management account", f"iam get-role {name}", iam.get_role, RoleName=name):
        return False, False
    has_policy = policy_name is not None and exists("the management account", f"iam get-role-policy {name}",
                                                    iam.get_role_policy, RoleName=name, PolicyName=policy_name)
    return True, has_policy


def management_role_exists(name: str, iam=None) -> bool | None:
    """Whether the credentials' account (the management account) has the role `name`; None
    when these credentials may not read it (a CI job's role reads no IAM role)."""
    try:
        return read_role(name, iam or boto3.client("iam"))[0]
    except aws.AwsError as exc:
        if "AccessDenied" in str(exc):
            return None
        raise
