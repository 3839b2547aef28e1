"""Just-in-time elevation on the emulator: `elevate`, `approve`, `revoke`, `elevations`, an
expired grant, `audit`, and break-glass users, through the CLI (real terraform, the real
provider), read back with boto3.  The emulator evaluates no IAM condition: what AWS enforces is shown on the
synthesized and the live policy documents (tests/test_elevation_policies.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from awsenvs import aws, config
from awsenvs.config.grants import grants_text, read_grants
from awsenvs.sandbox import Emulator, environ
from tests.conftest import Rehearsal, seed_rehearsal

pytestmark = pytest.mark.e2e

ORG = """
organization:
  name: jit
  email: ops@jit.example.com
  region: eu-west-1
  break_glass: {users: [breakglass-1], alert_email: security@jit.example.com}
groups:
  readers: {policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
  sysadmins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess]}
guardrails: {deny_leave_organization: false, protect_baseline: false, deny_root_user: false}
products:
  shop:
    users:
      paul: {groups: [sysadmins]}
      maria: {groups: [readers], eligible: [sysadmins]}
    environments:
      prod: {account_id: "210987654321"}
      stage: {account_id: "310987654321", elevation: {max: 2h, approvers: [paul]}}
"""
ROLE = "sysadmins-mfa"


@pytest.fixture(scope="module")
def jit(provider_mirror, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-jit")
    source = workdir / "source.yaml"
    source.write_text(ORG)
    with Emulator() as emulator:
        env, path = seed_rehearsal(emulator, provider_mirror, workdir, source)
        # Only AWS_REGION, as a user sets it (boto3 alone reads AWS_DEFAULT_REGION: awsenvs must
        # hand every session of its own the region).
        user_env = {k: v for k, v in env.items() if k != "AWS_DEFAULT_REGION"}
        rehearsal = Rehearsal(workdir, user_env, path)
        rehearsal.boto = lambda: environ(env)  # the test's own boto3 reads keep the region
        applied = rehearsal.cli("apply", "--yes")
        assert applied.returncode == 0, applied.stderr[-3000:]
        yield rehearsal


def _role(rehearsal: Rehearsal, stack: str) -> tuple[dict, dict, dict, str]:
    """The live sysadmins-mfa role of a stack's account: its trust, its inline expiry policy
    (or {}), its tags and its id."""
    account = rehearsal.org.environment_by_stack(stack).account_id
    with rehearsal.boto():
        iam = aws.assume_role_session(account, "OrganizationAccountAccessRole").client("iam")
        role = iam.get_role(RoleName=ROLE)["Role"]
        names = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
        expiry = (iam.get_role_policy(RoleName=ROLE, PolicyName=config.ELEVATION_EXPIRY_POLICY)["PolicyDocument"]
                  if config.ELEVATION_EXPIRY_POLICY in names else {})
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=ROLE)["Tags"]}
    return role["AssumeRolePolicyDocument"], expiry, tags, role["RoleId"]


def _granted_statements(trust: dict) -> list[dict]:
    return [s for s in trust["Statement"] if "DateLessThan" in s.get("Condition", {})]


def test_an_eligible_group_has_its_role_and_profile_ahead_but_no_grant(jit):
    trust, expiry, tags, _ = _role(jit, "shop-prod")
    PROD = jit.org.environment_by_stack("shop-prod").account_id
    principals = [s["Principal"]["AWS"] for s in trust["Statement"] if s["Effect"] == "Allow"]
    assert principals == [f"arn:aws:iam::{PROD}:user/paul"] or principals == [[f"arn:aws:iam::{PROD}:user/paul"]]
    assert _granted_statements(trust) == [] and expiry == {}
    assert not [k for k in tags if k.startswith(config.GRANT_TAG_PREFIX)]


def test_elevate_grants_until_a_time_aws_compares_and_revoke_ends_it(jit):
    # Without --yes and a terminal, prod (mfa: required) is not applied: nothing is granted.
    refused = jit.cli("elevate", "maria", "--env", "shop/prod", "--group", "sysadmins", "--for", "2h",
                      "--reason", "incident 41")
    assert refused.returncode == 1, refused.stderr[-3000:]
    assert "refusing to apply shop-prod (mfa: required) without a terminal" in refused.stderr
    assert "granted but shop-prod was not applied, so the record is as before (nothing granted)" in refused.stderr
    assert [e for e in read_grants(jit.org.elevations_file) if e.stack == "shop-prod"] == []
    assert _granted_statements(_role(jit, "shop-prod")[0]) == []
    assert json.loads(jit.org.elevations_log.read_text().splitlines()[-1])["event"] == "granted not applied"

    proc = jit.cli("elevate", "maria", "--env", "shop/prod", "--group", "sysadmins", "--for", "2h",
                   "--reason", "incident 42", "--yes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    [entry] = [e for e in read_grants(jit.org.elevations_file) if e.stack == "shop-prod"]
    assert (entry.user, entry.group, entry.reason, entry.approver) == ("maria", "sysadmins", "incident 42", None)
    assert timedelta(hours=2) == entry.until - entry.since
    assert abs(entry.since - datetime.now(timezone.utc)) < timedelta(minutes=5)
    trust, expiry, tags, role_id = _role(jit, "shop-prod")
    PROD = jit.org.environment_by_stack("shop-prod").account_id
    [statement] = _granted_statements(trust)
    assert statement == {
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:user/maria"}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"},
                      "StringEquals": {"sts:RoleSessionName": "${aws:username}"},
                      "DateLessThan": {"aws:CurrentTime": entry.until_text}},
    }
    assert expiry["Statement"] == [{
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:userid": f"{role_id}:maria"},
                      "DateGreaterThan": {"aws:CurrentTime": entry.until_text}},
    }]
    assert tags[f"{config.GRANT_TAG_PREFIX}maria"] == (
        f"until {entry.until_text} by {entry.requester} approved none reason incident 42")
    log = [json.loads(line) for line in jit.org.elevations_log.read_text().splitlines()]
    assert [(line["event"], line["user"], line["reason"]) for line in log][-1] == ("granted", "maria", "incident 42")

    listed = jit.cli("elevations")
    assert listed.returncode == 0 and entry.id in listed.stdout and "incident 42" in listed.stdout, listed.stdout

    again = jit.cli("plan")
    assert again.returncode == 0, again.stderr[-3000:]  # the record and AWS agree: nothing to do

    # A revoke whose apply is refused stays a revoke in the record (taking access away is
    # kept); AWS still has the statement until an apply, and audit says so.
    revoked = jit.cli("revoke", "maria", "--env", "shop/prod", "--group", "sysadmins")
    assert revoked.returncode == 1, revoked.stderr[-3000:]
    assert "revoked in the record, but shop-prod was not applied" in revoked.stderr
    [entry] = [e for e in read_grants(jit.org.elevations_file) if e.stack == "shop-prod"]
    assert entry.revoked is not None
    assert len(_granted_statements(_role(jit, "shop-prod")[0])) == 1
    assert "outlives its record" in jit.cli("audit").stdout
    applied = jit.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stderr[-3000:]
    trust, expiry, tags, role_id = _role(jit, "shop-prod")
    assert _granted_statements(trust) == []
    assert expiry["Statement"] == [{  # the sessions begun before the revoke end now
        "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:userid": f"{role_id}:maria"},
                      "DateLessThan": {"aws:TokenIssueTime": entry.end_text}},
    }]
    assert not [k for k in tags if k.startswith(config.GRANT_TAG_PREFIX)]
    assert "No active grants" in jit.cli("elevations").stdout


def test_a_request_waits_for_an_approver_who_is_not_its_requester(jit):
    proc = jit.cli("elevate", "maria", "--env", "shop/stage", "--group", "sysadmins", "--for", "1h",
                   "--reason", "deploy 7", "--yes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    [entry] = [e for e in read_grants(jit.org.elevations_file) if e.stack == "shop-stage"]
    assert f"awsenvs approve {entry.id}" in proc.stderr
    assert _granted_statements(_role(jit, "shop-stage")[0]) == []  # nothing granted yet

    # The requester's own credentials (the emulator's operator) cannot approve: they name no
    # approver; maria's would be her own grant.
    refused = jit.cli("approve", entry.id, "--yes")
    assert refused.returncode == 1, refused.stderr
    with jit.boto():
        iam = boto3.client("iam")
        keys = {}
        for name in ("maria", "paul"):
            iam.create_user(UserName=name)
            keys[name] = iam.create_access_key(UserName=name)["AccessKey"]
    as_maria = {**jit.env, "AWS_ACCESS_KEY_ID": keys["maria"]["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": keys["maria"]["SecretAccessKey"]}
    own = jit.cli("approve", entry.id, "--yes", env=as_maria)
    assert own.returncode == 1 and "maria may not approve" in own.stderr and "their own grant" in own.stderr, own.stderr
    assert _granted_statements(_role(jit, "shop-stage")[0]) == []

    as_paul = {**jit.env, "AWS_ACCESS_KEY_ID": keys["paul"]["AccessKeyId"],
               "AWS_SECRET_ACCESS_KEY": keys["paul"]["SecretAccessKey"]}
    approved = jit.cli("approve", entry.id, "--yes", env=as_paul)
    assert approved.returncode == 0, approved.stderr[-3000:]
    [entry] = [e for e in read_grants(jit.org.elevations_file) if e.stack == "shop-stage"]
    assert entry.approver == "paul"
    [statement] = _granted_statements(_role(jit, "shop-stage")[0])
    STAGE = jit.org.environment_by_stack("shop-stage").account_id
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{STAGE}:user/maria"}
    assert statement["Condition"]["DateLessThan"] == {"aws:CurrentTime": entry.until_text}


def test_an_expired_grant_is_named_by_audit_and_removed_by_the_next_apply(jit):
    """A grant whose end has passed (written into the record as if hours went by): AWS
    refuses it already (its DateLessThan); audit names it until the next apply removes it."""
    record = read_grants(jit.org.elevations_file)
    stage = next(e for e in record if e.stack == "shop-stage" and e.approver)
    ended = stage.__class__(**{**stage.__dict__, "since": stage.since - timedelta(hours=3),
                               "until": stage.since - timedelta(hours=2)})
    jit.org.elevations_file.write_text(grants_text(tuple(e if e.id != stage.id else ended for e in record)))
    audited = jit.cli("audit")
    assert audited.returncode == 1
    assert f"grant of sysadmins to maria ended at {ended.until_text}" in audited.stdout, audited.stdout[-3000:]
    applied = jit.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stderr[-3000:]
    assert _granted_statements(_role(jit, "shop-stage")[0]) == []
    audited = jit.cli("audit")
    assert "grant of sysadmins" not in audited.stdout, audited.stdout[-3000:]


def test_bad_requests_are_one_line_each_and_change_nothing(jit):
    before = jit.org.elevations_file.read_bytes()
    for args, expected in (
        (["elevate", "maria", "--env", "shop/prod", "--group", "readers", "--for", "1h", "--reason", "x"],
         "--group readers: maria is not eligible for it in shop/prod (it is one of their groups already"),
        (["elevate", "maria", "--env", "shop/prod", "--group", "sysadmins", "--for", "5h", "--reason", "x"],
         "--for 5h: grants in shop/prod last 15m to 4h"),
        (["elevate", "maria", "--env", "shop/prod", "--group", "sysadmins", "--for", "2 hours", "--reason", "x"],
         "'2 hours': minutes or hours"),
        (["elevate", "nobody", "--env", "shop/prod", "--group", "sysadmins", "--for", "1h", "--reason", "x"],
         "nobody: not a user of shop/prod"),
        (["elevate", "maria", "--env", "shop/prod", "--group", "sysadmins", "--for", "1h", "--reason", "a;b"],
         "--reason 'a;b'"),
        (["approve", "ffffffff"], "ffffffff: no such request"),
        (["revoke", "maria", "--env", "shop/prod", "--group", "sysadmins"], "maria has no grant or request"),
    ):
        proc = jit.cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert expected in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert jit.org.elevations_file.read_bytes() == before


def test_a_request_is_withdrawn_without_an_apply(jit):
    asked = jit.cli("elevate", "maria", "--env", "shop/stage", "--group", "sysadmins", "--for", "30m", "--reason", "x")
    assert asked.returncode == 0, asked.stderr[-3000:]
    withdrawn = jit.cli("revoke", "maria", "--env", "shop/stage", "--group", "sysadmins")
    assert withdrawn.returncode == 0, withdrawn.stderr[-3000:]
    assert "the request of sysadmins for maria in shop/stage is withdrawn" in withdrawn.stderr
    assert "applying" not in withdrawn.stderr
    assert "No active grants or waiting requests" in jit.cli("elevations").stdout


# --------------------------------------------------------------------------- Identity Center

IC_ORG = """
organization: {name: jitc, email: ops@jitc.example.com, region: eu-west-1, access: identity_center}
groups:
  readers: {policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
  sysadmins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess], session_hours: 1}
guardrails: {deny_leave_organization: false, protect_baseline: false, deny_root_user: false}
products:
  shop:
    users:
      paul: {groups: [sysadmins], email: paul@jitc.example.com, name: Paul Swail}
      maria: {groups: [readers], eligible: [sysadmins], email: maria@jitc.example.com, name: Maria Lopez}
    environments:
      prod: {account_id: "210987654321", elevation: {max: 8h}}
"""


def test_with_identity_center_a_grant_is_an_assignment_and_a_deny_in_its_permission_set(provider_mirror, tmp_path):
    """Identity Center has no expiring assignment: the grant is the assignment of the group's
    permission set to the user in the account, and the permission set's inline policy denies
    that user's sessions there after the end (aws:CurrentTime); the revoke removes the
    assignment and denies the sessions issued before it (aws:TokenIssueTime)."""
    source = tmp_path / "source.yaml"
    source.write_text(IC_ORG)
    with Emulator() as emulator:
        env, path = seed_rehearsal(emulator, provider_mirror, tmp_path, source)
        rehearsal = Rehearsal(tmp_path, env, path)
        applied = rehearsal.cli("apply", "--yes")
        assert applied.returncode == 0, applied.stderr[-3000:]
        account = rehearsal.org.environment_by_stack("shop-prod").account_id

        def read() -> tuple[set[str], dict]:
            with rehearsal.boto():
                admin, store = boto3.client("sso-admin", region_name="eu-west-1"), boto3.client("identitystore", region_name="eu-west-1")
                [instance] = admin.list_instances()["Instances"]
                arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
                users = {u["UserId"]: u["UserName"] for u in store.list_users(IdentityStoreId=store_id)["Users"]}
                sets = {admin.describe_permission_set(InstanceArn=arn, PermissionSetArn=s)["PermissionSet"]["Name"]: s
                        for s in admin.list_permission_sets(InstanceArn=arn)["PermissionSets"]}
                assigned = {users[a["PrincipalId"]] for a in admin.list_account_assignments(
                    InstanceArn=arn, AccountId=account, PermissionSetArn=sets["sysadmins"])["AccountAssignments"]}
                inline = admin.get_inline_policy_for_permission_set(InstanceArn=arn, PermissionSetArn=sets["sysadmins"])
            return assigned, json.loads(inline.get("InlinePolicy") or "{}")

        assert read() == ({"paul"}, {})
        granted = rehearsal.cli("elevate", "maria", "--env", "shop/prod", "--group", "sysadmins", "--for", "6h",
                                "--reason", "incident 43", "--yes")
        assert granted.returncode == 0, granted.stderr[-3000:]
        assert "applying management" in granted.stderr
        [entry] = read_grants(rehearsal.org.elevations_file)
        assigned, inline = read()
        assert assigned == {"paul", "maria"}
        assert inline["Statement"] == [{
            "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"StringLike": {"aws:userid": "*:maria"}, "StringEquals": {"aws:PrincipalAccount": account},
                          "DateGreaterThan": {"aws:CurrentTime": entry.until_text}},
        }]
        config_path = tmp_path / "home" / ".aws" / "config"
        written = rehearsal.cli("profiles", "--write")
        assert written.returncode == 0, written.stderr[-3000:]
        assert "[profile shop_prod_maria_sysadmins]" in config_path.read_text()

        revoked = rehearsal.cli("revoke", "maria", "--env", "shop/prod", "--group", "sysadmins", "--yes")
        assert revoked.returncode == 0, revoked.stderr[-3000:]
        [entry] = read_grants(rehearsal.org.elevations_file)
        assigned, inline = read()
        assert assigned == {"paul"}
        assert inline["Statement"][0]["Condition"]["DateLessThan"] == {"aws:TokenIssueTime": entry.end_text}


# --------------------------------------------------------------------------- break-glass


def test_break_glass_users_are_console_only_with_mfa_required_and_their_sign_in_alerts(jit):
    from awsenvs.modules.iam_policies import sign_in_event_pattern

    with jit.boto():
        iam = boto3.client("iam")
        user = iam.get_user(UserName="breakglass-1")["User"]
        iam.get_login_profile(UserName="breakglass-1")  # a console password (reset at first sign-in: the emulator keeps no flag)
        assert iam.list_access_keys(UserName="breakglass-1")["AccessKeyMetadata"] == []
        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="breakglass-1")["Groups"]] == [
            config.BREAK_GLASS_GROUP]
        attached = {p["PolicyName"]: p["PolicyArn"] for p in iam.list_attached_group_policies(
            GroupName=config.BREAK_GLASS_GROUP)["AttachedPolicies"]}
        assert set(attached) == {"AdministratorAccess", config.BREAK_GLASS_POLICY_NAME}
        version = iam.get_policy(PolicyArn=attached[config.BREAK_GLASS_POLICY_NAME])["Policy"]["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=attached[config.BREAK_GLASS_POLICY_NAME],
                                          VersionId=version)["PolicyVersion"]["Document"]
        statements = {st["Sid"]: st for st in (json.loads(document) if isinstance(document, str) else document)["Statement"]}
        assert statements["DenyAllExceptMfaSetupWithoutMfa"]["Condition"] == {
            "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
        assert statements["NoAccessKeys"]["Effect"] == "Deny"
        assert statements["NoAccessKeys"]["Resource"] == f"arn:aws:iam::{user['Arn'].split(':')[4]}:user/${{aws:username}}"
        # The sign-in alert: the rule in the organization's region mails, the others forward to it.
        pattern = sign_in_event_pattern(["breakglass-1"])
        for region in ("eu-west-1", *config.SIGN_IN_EVENT_REGIONS):
            events = boto3.client("events", region_name=region)
            rule = events.describe_rule(Name=config.BREAK_GLASS_ALERT_NAME)
            assert json.loads(rule["EventPattern"]) == pattern, region
            [target] = events.list_targets_by_rule(Rule=config.BREAK_GLASS_ALERT_NAME)["Targets"]
            expected = (":sns:eu-west-1:" if region == "eu-west-1" else ":events:eu-west-1:")
            assert expected in target["Arn"], (region, target)
        sns = boto3.client("sns", region_name="eu-west-1")
        [subscription] = sns.list_subscriptions()["Subscriptions"]
        assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "security@jit.example.com")

    audited = jit.cli("audit")
    rows = [line for line in audited.stdout.splitlines() if "break-glass" in line]
    assert any("break-glass breakglass-1" in r and "no MFA device" in r for r in rows), audited.stdout[-3000:]
    assert any("sign-in alert" in r and "no CloudTrail trail logs eu-west-1, us-east-1" in r for r in rows), rows
    with jit.boto():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="jit-trail", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        trail = boto3.client("cloudtrail", region_name="eu-west-1")
        trail.create_trail(Name="org-trail", S3BucketName="jit-trail", IsMultiRegionTrail=True)
        trail.start_logging(Name="org-trail")
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName="breakglass-1")["VirtualMFADevice"]
        iam.enable_mfa_device(UserName="breakglass-1", SerialNumber=device["SerialNumber"],
                              AuthenticationCode1="123456", AuthenticationCode2="654321")
    audited = jit.cli("audit")
    rows = [line for line in audited.stdout.splitlines() if "break-glass" in line]
    assert any("break-glass breakglass-1" in r and "pass" in r and "last sign-in never" in r for r in rows), rows
    assert any("sign-in alert" in r and "pass" in r for r in rows), rows

    shown = jit.cli("password", "breakglass-1", "--stack", "management", "--force")
    assert shown.returncode == 0, shown.stderr
    assert "Initial console password of the break-glass user breakglass-1" in shown.stdout
    [line] = [line for line in shown.stdout.splitlines() if line.strip().startswith("password")]
    assert len(line.split()[-1]) >= 14
    unknown = jit.cli("password", "maria", "--stack", "management", "--force")
    assert unknown.returncode == 2 and "maria: not a break-glass user" in unknown.stderr, unknown.stderr
