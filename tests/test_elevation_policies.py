"""What AWS enforces for a grant, shown on the synthesized JSON (the emulator evaluates no IAM
condition, so this is where the rule is checked; docs/access.md says so).

IAM's policy evaluation (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
a role is assumed only when a trust statement allows the caller with all its conditions
true; an explicit deny in the role's policies overrides every allow, for every call of the
session.  aws:CurrentTime is the time of the request, aws:TokenIssueTime when the session's
credentials were issued (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html),
aws:userid of a role session `<role id>:<session name>`
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from awsenvs.config import Grant, parse
from awsenvs.synth import synthesize

ORG = """\
organization:
  name: acme
  email: ops@acme.example.com
  region: eu-west-1
  break_glass: {users: [breakglass-1], alert_email: security@acme.example.com}
groups:
  readers: {policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
  sysadmins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess]}
  dbas: {policies: [arn:aws:iam::aws:policy/AmazonRDSFullAccess]}
products:
  autochart:
    users:
      paul: {groups: [sysadmins]}
      maria: {groups: [readers], eligible: [sysadmins, dbas]}
      tom: {groups: [readers], eligible: [sysadmins]}
    environments:
      prod: {account_id: "210987654321", mfa: required}
"""
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    """The stacks with maria granted sysadmins until 14:00 and tom's grant revoked at 11:30."""
    maria = Grant("a1", "autochart-prod", "maria", "sysadmins", NOW - timedelta(minutes=5), NOW + timedelta(hours=2),
                  "ops", "incident 42")
    tom = Grant("b2", "autochart-prod", "tom", "sysadmins", NOW - timedelta(hours=1), NOW + timedelta(hours=1),
                "ops", "deploy", revoked=NOW - timedelta(minutes=30), revoker="paul")
    org = parse(ORG).granted([maria, tom], NOW)
    outdir = tmp_path_factory.mktemp("synth-elevation")
    synthesize(org, outdir, state_dir=outdir / "state")
    return {stack: json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
            for stack in ("management", "autochart-prod")}


def _resource(stack: dict, kind: str, name: str) -> dict:
    return stack["resource"][kind][name]


def test_the_trust_lets_the_granted_user_in_only_with_mfa_as_themselves_before_the_end(stacks):
    role = _resource(stacks["autochart-prod"], "aws_iam_role", "sysadmins_mfa")
    trust = json.loads(role["assume_role_policy"])
    standing, granted = trust["Statement"]
    assert standing["Principal"] == {"AWS": ["${aws_iam_user.paul.arn}"]}
    assert granted == {
        "Effect": "Allow", "Principal": {"AWS": "${aws_iam_user.maria.arn}"}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"},
                      "StringEquals": {"sts:RoleSessionName": "$${aws:username}"},
                      "DateLessThan": {"aws:CurrentTime": "2026-12-05T14:00:00Z"}},
    }
    # Only the roles of granted groups change: dbas (eligible, never granted) trusts nobody.
    dbas = json.loads(_resource(stacks["autochart-prod"], "aws_iam_role", "dbas_mfa")["assume_role_policy"])
    assert dbas["Statement"] == [{"Sid": "NobodyUntilAGrant", "Effect": "Deny", "Principal": {"AWS": "*"},
                                  "Action": "sts:AssumeRole"}]
    assert role["tags"]["awsenvs-grant-maria"] == "until 2026-12-05T14:00:00Z by ops approved none reason incident 42"


def test_sessions_end_at_the_grant_and_those_of_a_revoked_grant_at_once(stacks):
    expiry = _resource(stacks["autochart-prod"], "aws_iam_role_policy", "sysadmins_mfa_elevation_expiry")
    assert expiry["role"] == "${aws_iam_role.sysadmins_mfa.name}"
    active, revoked = json.loads(expiry["policy"])["Statement"]
    assert active == {"Effect": "Deny", "Action": "*", "Resource": "*",
                      "Condition": {"StringEquals": {"aws:userid": "${aws_iam_role.sysadmins_mfa.unique_id}:maria"},
                                    "DateGreaterThan": {"aws:CurrentTime": "2026-12-05T14:00:00Z"}}}
    assert revoked == {"Effect": "Deny", "Action": "*", "Resource": "*",
                       "Condition": {"StringEquals": {"aws:userid": "${aws_iam_role.sysadmins_mfa.unique_id}:tom"},
                                     "DateLessThan": {"aws:TokenIssueTime": "2026-12-05T11:30:00Z"}}}
    assert "dbas_mfa_elevation_expiry" not in stacks["autochart-prod"]["resource"]["aws_iam_role_policy"]


def test_the_break_glass_users_need_mfa_have_no_keys_and_their_sign_in_is_watched_everywhere(stacks):
    management = stacks["management"]
    user = _resource(management, "aws_iam_user", "break_glass_breakglass_1")
    assert user["name"] == "breakglass-1"
    assert _resource(management, "aws_iam_user_login_profile", "break_glass_breakglass_1")["password_reset_required"]
    policy = json.loads(_resource(management, "aws_iam_policy", "awsenvs_break_glass")["policy"])
    no_mfa, no_keys = policy["Statement"]
    assert no_mfa["Effect"] == "Deny" and "iam:EnableMFADevice" in no_mfa["NotAction"]
    assert no_mfa["Condition"] == {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    assert no_keys["Action"] == ["iam:CreateAccessKey", "iam:UpdateAccessKey"]
    rules = management["resource"]["aws_cloudwatch_event_rule"]
    assert len(rules) == 5  # eu-west-1 (mails) and the four regions of the global sign-in endpoint
    for rule in rules.values():
        pattern = json.loads(rule["event_pattern"])
        assert pattern["detail"]["userIdentity"] == {"type": ["IAMUser"], "userName": ["breakglass-1"]}
    subscription = _resource(management, "aws_sns_topic_subscription", "awsenvs_break_glass_sign_in")
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "security@acme.example.com")
