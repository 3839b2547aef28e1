"""`import`'s writer and reader on small recorded facts (no AWS): live facts -> org.yaml text
that validates, with each decision said in a comment and in the summary."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from awsenvs.config import DEFAULT_SESSION_HOURS, ConfigError, parse
from awsenvs.live.facts import (
    LiveAccount,
    LiveIam,
    LiveIamGroup,
    LiveIamUser,
    LiveIdentityCenter,
    LiveMember,
    LiveOrganization,
    LiveOu,
    LivePerson,
    LivePolicy,
    LiveSnapshot,
    LiveStructure,
)
from awsenvs.orgyaml import DraftRefused, render

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
MANAGEMENT = LiveAccount("999999999999", "Acme Corp", "root@acme.example.com", "ACTIVE")


def _account(n: int, name: str, status: str = "ACTIVE") -> LiveAccount:
    return LiveAccount(f"1000000000{n:02d}", name, f"account-{n}@acme.example.com", status)


def _iam(account: LiveAccount, users=(), groups=(), aliases=(), policy=None) -> LiveIam:
    return LiveIam(account.id, {}, tuple(aliases), policy, tuple(users), tuple(groups))


def _user(name: str, *groups: str, console: bool = True, mfa: int = 0, path: str = "/") -> LiveIamUser:
    return LiveIamUser(name, f"AIDA{name.upper()}", path, groups, console, mfa, 0)


def _group(name: str, *policies: str, inline=()) -> LiveIamGroup:
    return LiveIamGroup(name, "/", policies, tuple(inline))


def snapshot(members: list[LiveMember], ous: list[LiveOu], root: tuple[str, ...] = (), identity_center=None,
             policies=()) -> LiveSnapshot:
    organization = LiveOrganization("o-abcdefghij", "r-root", frozenset({"sso.amazonaws.com"}),
                                    frozenset({"SERVICE_CONTROL_POLICY"}), tuple(m.account for m in members),
                                    {ou.name: ou.id for ou in ous if len(ou.path) == 1}, management=MANAGEMENT)
    structure = LiveStructure(tuple(ous), (MANAGEMENT.id, *root), tuple(policies), ())
    return LiveSnapshot(organization, structure, tuple(members), identity_center, "eu-west-1",
                        "OrganizationAccountAccessRole")


PROD, DEV, STAGE = _account(1, "Shop Production"), _account(2, "shop-dev"), _account(3, "Shop dev")
LEGACY, TOOLS, BROKEN, CLOSED = _account(4, "Legacy"), _account(5, "tools"), _account(6, "Shop QA"), _account(7, "Old", "SUSPENDED")


@pytest.fixture
def shop():
    members = [
        LiveMember(PROD, ("Shop Team",), _iam(PROD, users=[_user("maria", "developers"), _user("tom", "developers", "admins", console=False)],
                                                groups=[_group("developers", READ_ONLY), _group("admins", ADMIN, "arn:aws:iam::100000000001:policy/deploy")],
                                                aliases=["acme-shop-production"],
                                                policy={"MinimumPasswordLength": 12, "RequireSymbols": True})),
        LiveMember(DEV, ("Shop Team",), _iam(DEV, users=[_user("maria", "developers", mfa=1)],
                                             groups=[_group("developers", READ_ONLY, "arn:aws:iam::aws:policy/PowerUserAccess",
                                                            inline=["scratch"])])),
        LiveMember(STAGE, ("Shop Team",), _iam(STAGE, users=[_user("maria", "developers"), _user("ops", path="/robots/")],
                                               groups=[_group("developers", READ_ONLY)])),
        LiveMember(BROKEN, ("Shop Team",), None, "assume role OrganizationAccountAccessRole in 100000000006: AccessDenied"),
        LiveMember(CLOSED, ("Shop Team",), None, "closed (SUSPENDED)"),
        LiveMember(LEGACY, (), _iam(LEGACY)),
        LiveMember(TOOLS, ("Shop Team", "Tools"), _iam(TOOLS)),
    ]
    ous = [LiveOu("ou-shop", ("Shop Team",), (PROD.id, DEV.id, STAGE.id, BROKEN.id, CLOSED.id)),
           LiveOu("ou-tools", ("Shop Team", "Tools"), (TOOLS.id,))]
    policy = LivePolicy("p-own", "deny-bucket-deletion", False, ("ou-shop",))
    return snapshot(members, ous, root=(LEGACY.id,), policies=[policy, LivePolicy("p-FullAWSAccess", "FullAWSAccess", True, ("r-root",))])


def _said(text: str) -> str:
    """The file's text with each wrapped comment joined back into one line."""
    return re.sub(r"\n *# ", " ", text)


def _doc(written) -> dict:
    return yaml.safe_load(written.text)


def test_the_written_file_validates_and_adopts_every_account_as_it_is(shop):
    written = render(shop, "a test")
    org = parse(written.text, Path("org.yaml"))  # validate passes on the output
    assert org.organization_id == "o-abcdefghij" and org.management_account_id == MANAGEMENT.id
    [product] = org.products
    assert (product.name, product.ou_name) == ("shop-team", "Shop Team")  # the OU keeps its name
    adopted = {env.account_id: (env.name, env.email, env.account_name) for env in product.environments}
    assert adopted == {PROD.id: ("production", PROD.email, PROD.name), DEV.id: ("dev", DEV.email, DEV.name),
                       STAGE.id: ("dev-2", STAGE.email, STAGE.name)}  # de-duplicated, with a note
    assert "named dev-2: dev was taken by another account of this product" in _said(written.text)
    assert org.environment_by_stack("shop-team-production").alias == "acme-shop-production"
    assert org.environment_by_stack("shop-team-production").password_policy.minimum_length == 12


def test_groups_get_only_the_policies_they_have_everywhere_and_the_rest_is_said(shop):
    written = render(shop, "a test")
    groups = _doc(written)["groups"]
    assert groups == {"developers": {"policies": [READ_ONLY]}, "admins": {"policies": [ADMIN]}}
    assert "in shop-dev also PowerUserAccess: stays attached there, not managed" in _said(written.text)
    assert "in shop-dev inline scratch: stays, not managed" in _said(written.text)
    assert "customer managed arn:aws:iam::100000000001:policy/deploy" in _said(written.text)


def test_users_per_product_and_per_environment_where_an_account_differs(shop):
    doc = _doc(render(shop, "a test"))
    product = doc["products"]["shop-team"]
    assert product["users"] == {"maria": {"groups": ["developers"]}, "tom": {"groups": ["developers", "admins"], "console": False}}
    environments = product["environments"]
    assert "users" not in environments["production"]
    assert environments["dev"]["users"] == ["maria"]
    org = parse(render(shop, "a test").text)
    assert [u.name for u in org.environment_by_stack("shop-team-dev").users] == ["maria"]


def test_what_would_move_or_cannot_be_read_is_commented_out_with_its_reason(shop):
    written = render(shop, "a test")
    said = _said(written.text)
    left = "\n".join(written.left_out)
    for account in (LEGACY, TOOLS, BROKEN):
        assert f'#   account_id: "{account.id}"' in written.text, account.name
        assert f"{account.name} ({account.id})" in left
    assert "in the root" in left and "in OU Shop Team/Tools" in left and "AccessDenied" in left
    assert "its IAM could not be read: assume role OrganizationAccountAccessRole in 100000000006: AccessDenied" in said
    assert f"account Old ({CLOSED.id}): closed (SUSPENDED), not an environment" in left
    assert "IAM user ops in Shop dev: path /robots/" in left
    assert all(env.account_id not in (LEGACY.id, TOOLS.id, BROKEN.id, CLOSED.id) for env in parse(written.text).environments)


def test_guardrails_are_written_off_with_what_turning_them_on_attaches(shop):
    written = render(shop, "a test")
    assert _doc(written)["guardrails"] == {"deny_leave_organization": False, "protect_baseline": False, "deny_root_user": False}
    assert "deny-bucket-deletion (p-own): Shop Team" in _said(written.text)
    assert "awsenvs-<product>-guardrails, to Shop Team (1 SCP today)" in _said(written.text)
    assert "FullAWSAccess" not in _said(written.text)


def test_users_without_mfa_are_named_beside_the_mfa_default(shop):
    text = _said(render(shop, "a test").text)
    assert "until they enrol an MFA device, maria can only set one up" in text  # production: no device
    dev = text[text.index("      dev:"):text.index("      dev-2:")]
    assert "enrol" not in dev  # maria has a device in dev


def test_an_organization_without_an_ou_to_adopt_is_refused_in_one_line():
    members = [LiveMember(LEGACY, (), _iam(LEGACY))]
    with pytest.raises(DraftRefused) as refused:
        render(snapshot(members, [], root=(LEGACY.id,)), "a test")
    assert "\n" not in str(refused.value) and "create one OU per product" in str(refused.value)


def test_identity_center_becomes_users_and_permission_sets():
    prod, staging = _account(1, "web-prod"), _account(2, "web staging")
    people = {"maria": LivePerson("u-maria", "maria", "Maria Lopez", "maria@acme.example.com", "Maria", "Lopez"),
              "carol": LivePerson("u-carol", "carol", "Carol Diaz", "carol@acme.example.com", "Carol", "Diaz"),
              "nomail": LivePerson("u-nomail", "nomail", "No Mail", None, "No", "Mail")}
    dev_set, admin_set = "arn:aws:sso:::permissionSet/ssoins-1/ps-dev", "arn:aws:sso:::permissionSet/ssoins-1/ps-admin"
    ic = LiveIdentityCenter(
        "arn:aws:sso:::instance/ssoins-1", "d-1", {p.user_name: p.id for p in people.values()}, {"developers": "g-dev"}, {},
        {"developers": dev_set, "admins": admin_set}, {dev_set: frozenset({READ_ONLY}), admin_set: frozenset({ADMIN})},
        frozenset({(prod.id, dev_set, "USER", "u-maria"), (prod.id, admin_set, "USER", "u-maria"),
                   (staging.id, dev_set, "USER", "u-maria"), (staging.id, dev_set, "GROUP", "g-dev"),
                   (staging.id, dev_set, "USER", "u-nomail")}),
        people=people, sessions={dev_set: "PT8H", admin_set: "PT90M"}, unmanaged={admin_set: ("an inline policy",)},
        descriptions={dev_set: "The web team's: made in the console", admin_set: "admins (managed by awsenvs)"})
    members = [LiveMember(prod, ("web",), _iam(prod, users=[_user("legacy-admin")])), LiveMember(staging, ("web",), _iam(staging))]
    written = render(snapshot(members, [LiveOu("ou-web", ("web",), (prod.id, staging.id))], identity_center=ic), "a test")
    org = parse(written.text)
    assert org.identity_center and written.access == "identity_center"
    assert {g.name: (g.policies, g.session_hours) for g in org.groups} == {"admins": ((ADMIN,), DEFAULT_SESSION_HOURS),
                                                                              "developers": ((READ_ONLY,), 8)}
    # A description as live, so adopting the set changes none; awsenvs' own is left unsaid (the default).
    assert {g.name: g.description for g in org.groups} == {"admins": None, "developers": "The web team's: made in the console"}
    assert "session PT90M is not whole hours" in _said(written.text) and "has an inline policy: stays" in _said(written.text)
    assert {(a.environment.name, a.user.name, a.group.name) for a in org.assignments} == {
        ("prod", "maria", "developers"), ("prod", "maria", "admins"), ("staging", "maria", "developers")}
    left = "\n".join(written.left_out)
    assert "carol" in left and "nomail: no email" in left and "legacy-admin" in left
    assert "group developers has developers here" in _said(written.text)
    assert "IAM users in member accounts" in left


def test_an_import_that_would_not_validate_writes_nothing(shop, tmp_path, monkeypatch):
    """The writer's output is validated before it is written: a broken one is a bug, said in one line."""
    from awsenvs.errors import AwsenvsError
    from awsenvs.orgyaml import Written
    from awsenvs.orgyaml.output import _check_valid

    broken = Written("organization: {name: acme}\n", "iam_users", (), (), "")
    with pytest.raises(AwsenvsError) as failed:
        _check_valid(broken, str(tmp_path / "org.yaml"))
    assert "does not validate" in str(failed.value) and "\n" not in str(failed.value)
    assert not (tmp_path / "org.yaml").exists()
    with pytest.raises(ConfigError):
        parse(broken.text)


def test_an_existing_output_is_refused_before_anything_is_read(tmp_path):
    from awsenvs.orgyaml.output import OutputExists, check_output

    path = tmp_path / "org.yaml"
    path.write_text("mine\n")
    with pytest.raises(OutputExists) as refused:
        check_output(str(path), force=False)
    assert refused.value.exit_code == 2 and "--force" in str(refused.value)
    check_output(str(path), force=True)
    check_output("-", force=False)


def test_a_member_whose_role_cannot_be_assumed_is_skipped_and_the_others_read(tmp_path, monkeypatch):
    """Real boto3 against moto's in-process mock; the one account's AssumeRole answers
    AccessDenied as AWS does for a missing role (moto assumes any role)."""
    moto = pytest.importorskip("moto")
    from awsenvs import aws
    from awsenvs.orgyaml.snapshot import read_snapshot
    from conftest import in_process_moto_env

    in_process_moto_env(monkeypatch, tmp_path, "eu-west-1")
    real = aws.assume_role_session

    with moto.mock_aws():
        client = aws.new_session().client("organizations")
        client.create_organization(FeatureSet="ALL")
        root = client.list_roots()["Roots"][0]["Id"]
        ou = client.create_organizational_unit(ParentId=root, Name="shop")["OrganizationalUnit"]["Id"]
        ids = []
        for name in ("shop-prod", "shop-dev"):
            account_id = client.create_account(AccountName=name, Email=f"{name}@acme.example.com")["CreateAccountStatus"]["AccountId"]
            client.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ou)
            ids.append(account_id)

        def assume(account_id, role_name, session_name="awsenvs", sts=None):
            if account_id == ids[1]:
                raise aws.AwsError(f"assume role {role_name} in {account_id}: AccessDenied: not authorized")
            return real(account_id, role_name, session_name, sts=sts)

        monkeypatch.setattr(aws, "assume_role_session", assume)
        # The in-process mock lacks the emulator's fill of ListOrganizationsFeatures (awsenvs.moto_server).
        monkeypatch.setattr("awsenvs.live.organization.read_root_access_features", lambda client=None: ())
        aws.connect(None)
        seen = []
        found = read_snapshot("eu-west-1", "OrganizationAccountAccessRole", workers=2, on_account=seen.append)
        members = {m.account.name: m for m in found.members}
        assert members["shop-prod"].iam is not None and members["shop-dev"].iam is None
        assert "AccessDenied" in members["shop-dev"].skipped and len(seen) == 2
        written = render(found, "a test")
        assert [e.name for e in parse(written.text).environments] == ["prod"]
        assert any("shop-dev" in line and "AccessDenied" in line for line in written.left_out)


def test_reads_are_bounded_by_workers_and_retried_adaptively(tmp_path, monkeypatch):
    """Throttling: at most `workers` member accounts are read at once, and every client
    retries throttled calls in botocore's adaptive mode (which also slows itself down)."""
    import threading
    import time

    moto = pytest.importorskip("moto")
    from awsenvs import aws
    from awsenvs.orgyaml.snapshot import read_snapshot
    from conftest import in_process_moto_env

    in_process_moto_env(monkeypatch, tmp_path, "eu-west-1")
    monkeypatch.setattr("awsenvs.live.organization.read_root_access_features", lambda client=None: ())
    lock, running, most, modes = threading.Lock(), [0], [0], set()

    def slow_read(session, account_id, reads=None):
        modes.add(session.client("iam").meta.config.retries["mode"])
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return LiveIam(account_id, {}, (), None, ())

    monkeypatch.setattr("awsenvs.orgyaml.snapshot.read_account_iam", slow_read)
    with moto.mock_aws():
        aws.connect(None)
        client = aws.new_session().client("organizations")
        client.create_organization(FeatureSet="ALL")
        for n in range(12):
            client.create_account(AccountName=f"a{n}", Email=f"a{n}@acme.example.com")
        read_snapshot("eu-west-1", "OrganizationAccountAccessRole", workers=3)
    assert 1 < most[0] <= 3
    assert modes == {"adaptive"} and client.meta.config.retries["mode"] == "adaptive"


def test_credentials_that_cannot_read_the_organization_are_one_line(monkeypatch):
    from awsenvs import aws
    from awsenvs.orgyaml.snapshot import read_snapshot

    def denied(client=None):
        raise aws.AwsError("organizations describe-organization: AccessDeniedException: not allowed")

    monkeypatch.setattr(aws, "management_account_of_organization", lambda: ("o-abcdefghij", "999999999999"))
    monkeypatch.setattr(aws, "caller_account", lambda session=None: "999999999999")
    monkeypatch.setattr("awsenvs.orgyaml.snapshot.read_organization", denied)
    with pytest.raises(DraftRefused) as refused:
        read_snapshot("eu-west-1", "OrganizationAccountAccessRole")
    message = str(refused.value)
    assert "\n" not in message and "AccessDeniedException" in message and "management account's credentials" in message


def test_plain_and_quoted_values_read_back_the_same():
    from awsenvs.orgyaml.text import scalar as _scalar

    for value in ("yes", "null", "123456789012", "Shop: Team", "a b", "#x", "plain-name", "o-abc", "x@y.z", "true"):
        assert yaml.safe_load(f"k: {_scalar(value)}")["k"] == value, value
    assert yaml.safe_load(f"k: {_scalar([1, 'on', {'a': False}])}")["k"] == [1, "on", {"a": False}]


def test_a_second_ou_of_the_same_product_name_is_numbered(shop):
    ous = [*shop.structure.ous, LiveOu("ou-shop2", ("shop team",), ())]
    again = replace(shop, structure=replace(shop.structure, ous=tuple(ous)))
    written = render(again, "a test")
    assert "OU shop team: no account awsenvs can adopt directly in it" in _said(written.text)


@pytest.mark.parametrize("status, state, closed", [
    ("SUSPENDED", "SUSPENDED", False),  # AWS suspended it (unpaid bills): not closed
    ("SUSPENDED", "CLOSED", True),
    ("PENDING_CLOSURE", "PENDING_CLOSURE", True),
    ("SUSPENDED", "", True),  # an answer without State: the older Status decides
    ("ACTIVE", "ACTIVE", False),
])
def test_an_account_is_closed_by_its_state_where_aws_gives_one(status, state, closed):
    assert LiveAccount("100000000009", "x", "x@acme.example.com", status, state=state).closed is closed


def test_an_account_aws_suspended_is_imported_not_left_out_as_closed(shop):
    suspended = LiveAccount("100000000008", "Shop staging", "account-8@acme.example.com", "SUSPENDED", state="SUSPENDED")
    members = [*shop.members, LiveMember(suspended, ("Shop Team",), None,
                                         "assume role OrganizationAccountAccessRole in 100000000008: AccessDenied")]
    ous = tuple(replace(ou, account_ids=(*ou.account_ids, suspended.id)) if ou.path == ("Shop Team",) else ou
                for ou in shop.structure.ous)
    written = render(replace(shop, members=tuple(members), structure=replace(shop.structure, ous=ous),
                             organization=replace(shop.organization, accounts=(*shop.organization.accounts, suspended))),
                     "test")
    assert not any("(100000000008): closed (" in line for line in written.left_out), written.left_out
    assert "suspended by AWS (State SUSPENDED, e.g. unpaid bills: not closed" in _said(written.text)
    assert any("account Old (100000000007): closed (SUSPENDED)" in line for line in written.left_out)


def test_control_tower_s_own_scps_are_left_alone_by_prefix(shop):
    """Control Tower renames its aws-guardrails-* SCPs when it updates: by name, each update
    would read as drift."""
    tower = [LivePolicy(f"p-ct{i}", f"aws-guardrails-{suffix}", False, ("ou-shop",)) for i, suffix in enumerate(("AbCdEf", "GhIjKl"))]
    written = render(replace(shop, structure=replace(shop.structure, policies=(*shop.structure.policies, *tower))), "test")
    shop_product = _doc(written)["products"]["shop-team"]
    assert shop_product["unmanaged"] == {"policies": ["deny-bucket-deletion", "aws-guardrails-*"]}
    assert "aws-guardrails-*: AWS Control Tower's own, by prefix (it renames them when it updates)" in _said(written.text)
    product = parse(written.text).products[0]
    assert product.leaves_policy("aws-guardrails-ZzZzZz") and not product.leaves_policy("aws-guardrails")



def test_live_contacts_are_written_alike_ones_once_for_the_organization(shop):
    """The first apply of an imported org.yaml changes no contact: each account's as live,
    those alike everywhere once under organization.contacts; one org.yaml cannot hold is left."""
    security = ("Sec Team", "Security", "sec@acme.example.com", "+1 206 555 0100")
    contacts = {PROD.id: {"security": security, "billing": ("Fin", "Finance", "fin@acme.example.com", "(206) 555-0101"),
                          "operations": None},
                DEV.id: {"security": security, "billing": None, "operations": ("Ops", "On call", "ops@acme.example.com", "ext. 12")},
                STAGE.id: {"security": security, "billing": None, "operations": None}}
    members = tuple(replace(m, contacts=contacts[m.account.id]) if m.account.id in contacts else m for m in shop.members)
    trusting = replace(shop.organization, trusted_services=shop.organization.trusted_services | {"account.amazonaws.com"})
    written = render(replace(shop, members=members, organization=trusting), "test")
    doc = _doc(written)
    assert doc["organization"]["contacts"] == {"security": {"name": "Sec Team", "title": "Security",
                                                            "email": "sec@acme.example.com", "phone": "+1 206 555 0100"}}
    envs = doc["products"]["shop-team"]["environments"]
    assert envs["production"]["contacts"] == {"billing": {"name": "Fin", "title": "Finance", "email": "fin@acme.example.com",
                                                          "phone": "(206) 555-0101"}}
    assert "contacts" not in envs["dev"]  # its operations contact's phone is no phone number PutAlternateContact takes
    assert "its operations contact (Ops, On call, ops@acme.example.com, ext. 12) is not one org.yaml can hold" in _said(written.text)
    org = parse(written.text)
    assert {c.kind: c.phone for c in org.environment_by_stack("shop-team-production").contacts} == {
        "security": "+1 206 555 0100", "billing": "(206) 555-0101"}
    assert not any("alternate contacts: not read" in line for line in written.left_out)
    assert any("alternate contacts: not read" in line for line in render(shop, "test").left_out)  # trusted access off


def test_the_buckets_an_account_serves_to_anyone_are_read_by_policy_status_acl_and_public_access_block(monkeypatch, tmp_path):
    """live.s3 on moto: public by its bucket policy, public by its ACL, one a public access
    block restricts (not public), a private one; the account's own block covers them all."""
    import json

    import boto3
    from moto import mock_aws

    from awsenvs.live.s3 import read_public_buckets
    from conftest import in_process_moto_env

    in_process_moto_env(monkeypatch, tmp_path, "eu-west-1")
    anyone = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                      "Resource": "arn:aws:s3:::{}/*"}]}
    with mock_aws():
        s3 = boto3.client("s3")
        for name in ("website", "old-website", "blocked", "private"):
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for name in ("website", "blocked"):
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(anyone).replace("{}", name))
        s3.put_bucket_acl(Bucket="old-website", ACL="public-read")
        s3.put_public_access_block(Bucket="blocked", PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True, "IgnorePublicAcls": True, "BlockPublicAcls": True, "BlockPublicPolicy": True})
        session = boto3.Session()
        found = read_public_buckets(session, "123456789012")
        assert sorted(found.buckets) == [("old-website", "its ACL"), ("website", "its bucket policy")]
        boto3.client("s3control").put_public_access_block(AccountId="123456789012", PublicAccessBlockConfiguration={
            "RestrictPublicBuckets": True, "IgnorePublicAcls": True, "BlockPublicAcls": True, "BlockPublicPolicy": True})
        assert read_public_buckets(session, "123456789012").buckets == ()


def test_an_account_serving_public_content_is_written_out_of_the_data_perimeter(shop):
    from awsenvs.live.facts import LivePublicBuckets

    members = tuple(replace(m, public=LivePublicBuckets((("www.acme.example.com", "its bucket policy"),)))
                    if m.account.id == PROD.id else m for m in shop.members)
    written = render(replace(shop, members=members), "test")
    env = _doc(written)["products"]["shop-team"]["environments"]["production"]
    assert env["data_perimeter"] is False
    assert ("it serves S3 content to anyone: www.acme.example.com (by its bucket policy); a data perimeter "
            "(guardrails.data_perimeter) would deny those anonymous readers, and CloudFront origin access identities, so "
            "this account stays out of it") in _said(written.text)
    assert any("1 accounts serve S3 content to anyone (production)" in line for line in written.found)
    org = parse(written.text)
    assert org.environment_by_stack("shop-team-production").outside_data_perimeter

