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


def test_eligible_groups_need_a_place_for_their_record_beside_the_state():
    cloud = ORG.replace("region: eu-west-1}", "region: eu-west-1, management_account_id: '123456789012'}") + \
        "state:\n  backend: cloud\n  cloud: {organization: acme}\n"
    assert_rejected(cloud, "eligible groups keep their grants beside the state (the state folder, or the S3 state "
                           "bucket), and Terraform Cloud keeps no files")
    s3 = parse(ORG + "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1, key_prefix: org}\n")
    assert (s3.elevations_key, s3.elevations_place) == ("org/elevations.json", "s3://acme-tfstate/org/elevations.json")
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


def test_the_record_is_read_beside_the_state(tmp_path):
    (tmp_path / "org.yaml").write_text(ORG)
    org = load(tmp_path / "org.yaml")
    assert elevation.read(org) == elevation.Record(())
    org.elevations_file.parent.mkdir(parents=True)
    grant = _grant(since=NOW - timedelta(minutes=1))
    org.elevations_file.write_text(grants_text((grant,)))
    assert elevation.read(org) == elevation.Record((grant,))


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
    elevation.write(org, elevation.read(org), (first,), "granted", first, "ops", NOW)
    elevation.write(org, elevation.read(org), (first, second), "granted", second, "ops", NOW)
    assert read_grants(org.elevations_file) == (first, second)
    assert read_grants(org.elevations_file.with_name("elevations.json.bak")) == (first,)
    lines = org.elevations_log.read_text().splitlines()
    assert [line.count('"event": "granted"') for line in lines] == [1, 1]
    assert oct(org.elevations_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("break_glass, message", [
    ("{users: [paul]}", "organization.break_glass.users: 'paul' is also a user of a product: break-glass users stand apart"),
    ("{users: [bad/name]}", "organization.break_glass.users: 'bad/name' is not a valid IAM user name"),
    ("{users: [bg-1, bg-1]}", "organization.break_glass.users: a name is listed twice"),
    ("{users: []}", "organization.break_glass.users"),
    ("{users: [bg-1], alert_email: nobody}", "organization.break_glass.alert_email"),
])
def test_validate_refuses_break_glass_users_that_are_not_apart(break_glass, message):
    text = ORG.replace("region: eu-west-1}", f"region: eu-west-1, break_glass: {break_glass}}}")
    assert_rejected(text, message)


def test_a_break_glass_user_approves_nothing():
    text = ORG.replace("region: eu-west-1}", "region: eu-west-1, break_glass: {users: [bg-1]}}").replace(
        "approvers: [paul]", "approvers: [bg-1]")
    assert_rejected(text, "elevation.approvers: 'bg-1' is not a user of the organization")


def test_in_the_state_bucket_the_record_is_written_only_over_the_version_read(tmp_path, monkeypatch):
    """s3 state: the record is an object beside the states, written with S3's conditional
    writes (a second run that read it before the first wrote is refused, nothing lost), the
    log an object per line."""
    import boto3
    import moto

    from awsenvs.live.s3 import ChangedMeanwhile
    from tests.conftest import in_process_moto_env

    in_process_moto_env(monkeypatch, tmp_path, "eu-west-1")
    (tmp_path / "org.yaml").write_text(ORG + "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n")
    org = load(tmp_path / "org.yaml")
    first, second = _grant(), _grant(id="ffff0000", user="paul")
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="acme-tfstate", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        empty = elevation.read(org)
        assert empty == elevation.Record(())
        elevation.write(org, empty, (first,), "granted", first, "ops", NOW)
        read = elevation.read(org)
        assert read.grants == (first,) and read.version
        with pytest.raises(ChangedMeanwhile, match="changed while this run read it"):
            elevation.write(org, empty, (second,), "granted", second, "ops", NOW)  # read before the first write
        elevation.write(org, read, (first, second), "granted", second, "ops", NOW)
        assert elevation.read(org).grants == (first, second)
        logged = [o["Key"] for o in s3.list_objects_v2(Bucket="acme-tfstate", Prefix="awsenvs/elevations.log/")["Contents"]]
        assert logged == ["awsenvs/elevations.log/2026-12-05T12:00:00Z-a1b2c3d4-granted.json",
                          "awsenvs/elevations.log/2026-12-05T12:00:00Z-ffff0000-granted.json"]


def test_bootstraps_move_into_s3_takes_the_record_and_its_log_along(tmp_path, monkeypatch):
    import boto3
    import moto

    from awsenvs.errors import AwsenvsError
    from tests.conftest import in_process_moto_env

    in_process_moto_env(monkeypatch, tmp_path, "eu-west-1")
    (tmp_path / "org.yaml").write_text(ORG)
    local = load(tmp_path / "org.yaml")
    elevation.write(local, elevation.read(local), (_grant(),), "granted", _grant(), "ops", NOW)
    (tmp_path / "org.yaml").write_text(ORG + "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n")
    org = load(tmp_path / "org.yaml")
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="acme-tfstate", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        assert elevation.move_into_bucket(org) == [org.elevations_file, org.elevations_log]
        assert elevation.read(org).grants == (_grant(),)
        log = s3.get_object(Bucket="acme-tfstate", Key="awsenvs/elevations.log/moved-local-log.json")["Body"].read()
        assert b'"event": "granted"' in log
        assert elevation.move_into_bucket(org)  # again (a move that stopped half way): the same record is there
        org.elevations_file.write_text(grants_text((_grant(id="ffff0000"),)))
        with pytest.raises(AwsenvsError, match="already holds another record of grants"):
            elevation.move_into_bucket(org)
