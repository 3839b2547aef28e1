"""Eligible groups in org.yaml: validate's refusals, the record, which grants are active at a
time, and which stacks a grant changes (no AWS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from awsenvs import elevation
from awsenvs.config import ConfigError, Grant, grant_tags, load, parse
from awsenvs.config.grants import grants_text, read_grants
from awsenvs.errors import BadInput
from awsenvs.synth import stack_inputs
from tests.conftest import assert_rejected

ORG = """\
organization: {name: acme, email: ops@acme.example.com, region: eu-west-1}
groups:
  readers: {policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
  sysadmins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess]}
products:
  autochart:
    users:
      paul: {groups: [sysadmins]}
    environments:
      dev: {mfa: optional}
      prod:
        mfa: required
        elevation: {max: 4h, approvers: [paul]}
        users:
          paul: {groups: [sysadmins]}
          maria: {groups: [readers], eligible: [sysadmins]}
"""
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def _grant(**changes) -> Grant:
    grant = Grant(id="a1b2c3d4", stack="autochart-prod", user="maria", group="sysadmins", since=NOW,
                  until=NOW + timedelta(hours=2), requester="ops", reason="incident 42", approver="paul")
    return replace(grant, **changes)


def test_an_eligible_group_gets_its_role_before_any_grant():
    prod = parse(ORG).environment_by_stack("autochart-prod")
    maria = next(u for u in prod.users if u.name == "maria")
    assert (maria.groups, maria.eligible) == (("readers",), ("sysadmins",))
    assert prod.elevation.max_seconds == 4 * 3600 and prod.elevation.approvers == ("paul",)
    assert {g.name for g in prod.groups} == {"readers", "sysadmins"}
    assert prod.eligible_profile_name(maria, "sysadmins") == "autochart_prod_maria_sysadmins"
    assert prod.has_role_profile(replace(maria, groups=()))  # eligible only: keys kept apart too


@pytest.mark.parametrize("change, message", [
    ("eligible: [sysadmins]}", "products.autochart.environments.prod.users.maria.eligible: 'sysadmins' is one of the "
                                "user's groups already (standing access)"),
    ("eligible: [admins]}", "products.autochart.environments.prod.users.maria.eligible: unknown group 'admins'"),
    ("approvers: [paul]}", "products.autochart.environments.prod.elevation.approvers: 'nobody' is not a user of the "
                           "organization"),
    ("max: 4h,", "products.autochart.environments.prod.elevation.max: '13h': a grant lasts 15m to 12h"),
    ("max: 4h,", "products.autochart.environments.prod.elevation.max: '2 hours' is not a duration"),
    ("mfa: required", "products.autochart.environments.prod.users.maria.eligible: eligible groups need mfa: required"),
])
def test_validate_refuses_what_a_grant_cannot_be(change, message):
    text = {
        "eligible: [sysadmins]}": ORG.replace("groups: [readers], eligible", "groups: [readers, sysadmins], eligible"),
        "eligible: [admins]}": ORG.replace("eligible: [sysadmins]", "eligible: [admins]"),
        "approvers: [paul]}": ORG.replace("approvers: [paul]", "approvers: [paul, nobody]"),
        "mfa: required": ORG.replace("mfa: required", "mfa: optional"),
    }.get(change)
    if change == "max: 4h,":
        text = ORG.replace("max: 4h", "max: 13h" if "13h" in message else "max: 2 hours")
    assert_rejected(text, message)


def test_eligible_groups_need_local_state_and_iam_users_for_now():
    s3 = ORG + "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n"
    assert_rejected(s3, "eligible groups keep their grants in the state folder, which state.backend s3 does not share")
    elevation_alone = ORG.replace("maria: {groups: [readers], eligible: [sysadmins]}", "maria: {groups: [readers]}")
    assert_rejected(elevation_alone, "products.autochart.environments.prod.elevation: no user of this environment has "
                                     "eligible groups")


def test_a_grant_is_active_from_its_start_to_its_end_and_its_sessions_denied_a_session_longer():
    org = parse(ORG)
    grant = _grant()
    prod = lambda at: org.granted([grant], at).environment_by_stack("autochart-prod")  # noqa: E731
    assert prod(NOW - timedelta(seconds=1)).grants == ()
    assert prod(NOW).grants == (grant,) and prod(NOW).ended_grants == ()
    ended = prod(grant.until)
    assert ended.grants == () and ended.ended_grants == (grant,)
    assert prod(grant.until + timedelta(hours=4)).ended_grants == ()
    # Not approved where approvers decide: a request, not a grant.
    assert prod(NOW + timedelta(minutes=1)).grants == (grant,)
    assert org.granted([_grant(approver=None)], NOW).environment_by_stack("autochart-prod").grants == ()
    # A revoke ends it at once.
    revoked = _grant(revoked=NOW + timedelta(minutes=10))
    assert org.granted([revoked], NOW + timedelta(minutes=11)).environment_by_stack("autochart-prod").grants == ()
    # A user no longer eligible (org.yaml changed): no grant, whatever the record says.
    plain = parse(ORG.replace("eligible: [sysadmins]", "eligible: []").replace(
        "        elevation: {max: 4h, approvers: [paul]}\n", ""))
    assert plain.granted([grant], NOW).environment_by_stack("autochart-prod").grants == ()


def test_a_grant_and_its_end_change_only_its_account_stack():
    org = parse(ORG)
    before = {stack: stack_inputs(org, stack) for stack in org.stacks}
    granted = org.granted([_grant()], NOW)
    after = {stack: stack_inputs(granted, stack) for stack in org.stacks}
    assert [s for s in org.stacks if before[s] != after[s]] == ["autochart-prod"]
    ended = org.granted([_grant()], NOW + timedelta(hours=3))
    assert stack_inputs(ended, "autochart-prod") not in (before["autochart-prod"], after["autochart-prod"])


def test_the_record_round_trips_and_a_broken_one_is_one_line(tmp_path):
    path = tmp_path / "elevations.json"
    assert read_grants(path) == ()
    grants = (_grant(), _grant(id="ffff0000", approver=None, revoked=NOW + timedelta(minutes=5), revoker="paul"))
    path.write_text(grants_text(grants))
    assert read_grants(path) == grants
    path.write_text('{"grants": [{"id": 1}]}')
    with pytest.raises(ConfigError) as excinfo:
        read_grants(path)
    assert "not a record of grants awsenvs wrote" in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_load_reads_the_record_beside_the_state(tmp_path):
    (tmp_path / "org.yaml").write_text(ORG)
    org = load(tmp_path / "org.yaml")
    org.elevations_file.parent.mkdir(parents=True)
    now = datetime.now(timezone.utc)
    org.elevations_file.write_text(grants_text((_grant(since=now - timedelta(minutes=1), until=now + timedelta(hours=1)),)))
    assert [g.user for g in load(tmp_path / "org.yaml").environment_by_stack("autochart-prod").grants] == ["maria"]


def test_the_role_tags_say_whose_grant_in_what_iam_takes():
    tags = grant_tags([_grant(requester="arn:aws:sts::1:assumed-role/x/ops,1", reason="incident 42")])
    assert tags == {"awsenvs-grant-maria": "until 2026-12-05T14:00:00Z by arn:aws:sts::1:assumed-role/x/ops_1 "
                                           "approved paul reason incident 42"}


def test_an_approver_approves_someone_elses_request_only():
    org = parse(ORG)
    request = _grant(approver=None, requester="maria")
    record = (request,)
    for approver, message in (("maria", "maria may not approve a1b2c3d4: it is their own grant"),
                              ("ops", "ops is not an approver of autochart/prod"),
                              (None, "cannot tell who approves from arn:aws:sts::1:assumed-role/admin/paul")):
        with pytest.raises(elevation.Refused) as excinfo:
            elevation.approve(record, org, request.id, approver, "arn:aws:sts::1:assumed-role/admin/paul", NOW)
        assert message in str(excinfo.value)
    by_requester = (_grant(approver=None, requester="paul"),)
    with pytest.raises(elevation.Refused, match="it is their own request"):
        elevation.approve(by_requester, org, request.id, "paul", "arn:aws:iam::1:user/paul", NOW)
    later = NOW + timedelta(minutes=30)
    approved = elevation.approve(record, org, request.id, "paul", "arn:aws:iam::1:user/paul", later)
    assert (approved.approver, approved.since, approved.until) == ("paul", later, later + timedelta(hours=2))
    with pytest.raises(BadInput, match="not a request waiting for approval"):
        elevation.approve((approved,), org, request.id, "paul", "arn:aws:iam::1:user/paul", later)


def test_the_caller_is_named_only_by_what_aws_vouches_for(monkeypatch):
    from awsenvs import aws

    class Sts:
        def __init__(self, arn):
            self.arn = arn

        def get_caller_identity(self):
            return {"Arn": self.arn}

    class Session:
        def __init__(self, arn):
            self.arn = arn

        def client(self, name):
            return Sts(self.arn)

    for arn, name in (("arn:aws:iam::123456789012:user/ops/paul", "paul"),
                      ("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_admins_0a1b2c/paul@acme.example.com",
                       "paul@acme.example.com"),
                      ("arn:aws:sts::123456789012:assumed-role/OrganizationAccountAccessRole/paul", None),
                      ("arn:aws:iam::123456789012:root", None)):
        assert aws.caller_person(Session(arn)) == (name, arn)


def test_the_log_is_appended_and_the_record_kept_once_as_backup(tmp_path):
    (tmp_path / "org.yaml").write_text(ORG)
    org = load(Path(tmp_path / "org.yaml"))
    first, second = _grant(), _grant(id="ffff0000")
    elevation.write(org, (first,), "granted", first, "ops", NOW)
    elevation.write(org, (first, second), "granted", second, "ops", NOW)
    assert read_grants(org.elevations_file) == (first, second)
    assert read_grants(org.elevations_file.with_name("elevations.json.bak")) == (first,)
    lines = org.elevations_log.read_text().splitlines()
    assert [line.count('"event": "granted"') for line in lines] == [1, 1]
    assert oct(org.elevations_file.stat().st_mode & 0o777) == "0o600"
