"""Reads of organization.break_glass in the management account (the credentials' own), for
`audit`: each emergency user's console password, MFA devices, access keys and last
sign-in, and whether a CloudTrail trail logs where their sign-ins are recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import boto3

from awsenvs import aws


@dataclass(frozen=True)
class LiveBreakGlassUser:
    name: str
    exists: bool
    console: bool = False
    mfa_devices: int = 0
    active_keys: int = 0
    last_sign_in: datetime | None = None  # IAM's PasswordLastUsed


def read_break_glass_users(users, session: boto3.Session | None = None) -> list[LiveBreakGlassUser]:
    iam = (session or boto3._get_default_session()).client("iam")
    found = []
    for name in users:
        user = aws.maybe(f"iam get-user {name}", lambda: iam.get_user(UserName=name), ("NoSuchEntity",))
        if user is None:
            found.append(LiveBreakGlassUser(name, False))
            continue
        login = aws.maybe(f"iam get-login-profile {name}", lambda: iam.get_login_profile(UserName=name), ("NoSuchEntity",))
        devices = aws.pages(iam, "list_mfa_devices", "MFADevices", UserName=name)
        keys = aws.pages(iam, "list_access_keys", "AccessKeyMetadata", UserName=name)
        found.append(LiveBreakGlassUser(name, True, login is not None, len(devices),
                                        sum(1 for k in keys if k["Status"] == "Active"),
                                        user["User"].get("PasswordLastUsed")))
    return found


def regions_without_a_logging_trail(home: str, regions, session: boto3.Session | None = None) -> list[str]:
    """Those of `regions` no CloudTrail trail logs (a multi-region trail logs them all; one
    of a single region only its own), as DescribeTrails in `home` lists them with the
    shadow trails of other regions (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_DescribeTrails.html)."""
    client = (session or boto3._get_default_session()).client("cloudtrail", region_name=home)
    trails = aws.call("cloudtrail describe-trails", lambda: client.describe_trails(includeShadowTrails=True))["trailList"]
    covered: set[str] = set()
    for trail in trails:
        status = aws.call(f"cloudtrail get-trail-status {trail['Name']}",
                          lambda: client.get_trail_status(Name=trail["TrailARN"]))
        if status.get("IsLogging"):
            covered.update(regions if trail.get("IsMultiRegionTrail") else [trail.get("HomeRegion")])
    return [region for region in regions if region not in covered]
