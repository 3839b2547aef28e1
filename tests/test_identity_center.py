"""Identity Center access end to end: real terraform and the provider on an emulator of its own.

examples/identity-center.yaml (two products, two groups, shop's prod restricted to maria) is
applied; boto3 then reads the identity store and IAM Identity Center back (users, groups,
memberships, permission sets with their policies, every account assignment), and the CLI
writes one person's sso profiles, the sign-in page and the audit.
"""

from __future__ import annotations

import configparser
import json
import subprocess
import sys

import boto3
import pytest
import yaml

from awsenvs import aws
from conftest import IDENTITY_CENTER, ROOT, seed_rehearsal

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"  # the example's organization.region: where Identity Center lives


@pytest.fixture(scope="module")
def world(provider_mirror, tmp_path_factory):
    from awsenvs.sandbox import Emulator, environ

    workdir = tmp_path_factory.mktemp("identity-center")
    existing: dict[str, str] = {}
    with Emulator() as emulator:
        env, path = seed_rehearsal(emulator, provider_mirror, workdir, IDENTITY_CENTER,
                                   lambda: existing.update(_seed_existing_identity_center()))

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(path), *args],
                                  cwd=workdir, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)

        applied = cli("apply", "--yes")
        assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
        output = applied.stdout + applied.stderr
        for note in ("existing Identity Center user tom", "existing Identity Center group developers",
                     "existing permission set developers", "tom already in developers",
                     # users made through the API cannot sign in until a person acts: said where they act
                     'note: Identity Center users that awsenvs creates have no password and get no email'):
            assert note in output, note
        yield workdir, env, cli, environ, existing


def _seed_existing_identity_center() -> dict[str, str]:
    """What an organization that used Identity Center before awsenvs already has: tom, the
    developers group with tom in it, and the developers permission set with its policy."""
    admin, store = boto3.client("sso-admin", region_name=REGION), boto3.client("identitystore", region_name=REGION)
    [instance] = admin.list_instances()["Instances"]
    store_id, instance_arn = instance["IdentityStoreId"], instance["InstanceArn"]
    tom = store.create_user(IdentityStoreId=store_id, UserName="tom", DisplayName="Tom Berg",
                            Name={"GivenName": "Tom", "FamilyName": "Berg"},
                            Emails=[{"Value": "tom@acme.example.com", "Primary": True}])["UserId"]
    group = store.create_group(IdentityStoreId=store_id, DisplayName="developers")["GroupId"]
    store.create_group_membership(IdentityStoreId=store_id, GroupId=group, MemberId={"UserId": tom})
    permission_set = admin.create_permission_set(InstanceArn=instance_arn, Name="developers",
                                                 SessionDuration="PT4H")["PermissionSet"]["PermissionSetArn"]
    admin.attach_managed_policy_to_permission_set(InstanceArn=instance_arn, PermissionSetArn=permission_set,
                                                  ManagedPolicyArn="arn:aws:iam::aws:policy/PowerUserAccess")
    return {"tom": tom, "developers": group, "permission set": permission_set}


def test_a_second_plan_finds_no_changes(world):
    _, _, cli, _, _ = world
    again = cli("plan", "--all")  # --all: terraform plans every stack again
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]


def test_identity_store_and_permission_sets_are_as_configured(world):
    _, env, _, environ, existing = world
    with environ(env):
        admin, store = boto3.client("sso-admin", region_name=REGION), boto3.client("identitystore", region_name=REGION)
        [instance] = admin.list_instances()["Instances"]
        store_id, instance_arn = instance["IdentityStoreId"], instance["InstanceArn"]
        users = {u["UserId"]: u for u in store.list_users(IdentityStoreId=store_id)["Users"]}
        assert {u["UserName"]: (u["DisplayName"], u["Emails"][0]["Value"]) for u in users.values()} == {
            "maria": ("Maria Lopez", "maria@acme.example.com"), "tom": ("Tom Berg", "tom@acme.example.com")}
        groups = {g["GroupId"]: g["DisplayName"] for g in store.list_groups(IdentityStoreId=store_id)["Groups"]}
        members = {
            groups[group_id]: {users[m["MemberId"]["UserId"]]["UserName"]
                               for m in store.list_group_memberships(IdentityStoreId=store_id, GroupId=group_id)["GroupMemberships"]}
            for group_id in groups
        }
        assert members == {"sysadmins": {"maria"}, "developers": {"maria", "tom"}}
        # What existed before was adopted (imported), not created a second time.
        assert {u["UserName"]: uid for uid, u in users.items()}["tom"] == existing["tom"]
        assert {name: gid for gid, name in groups.items()}["developers"] == existing["developers"]

        permission_sets, names = {}, {}
        for arn in admin.list_permission_sets(InstanceArn=instance_arn)["PermissionSets"]:
            described = admin.describe_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)["PermissionSet"]
            policies = admin.list_managed_policies_in_permission_set(InstanceArn=instance_arn, PermissionSetArn=arn)
            permission_sets[described["Name"]] = (described["SessionDuration"], {p["Arn"] for p in policies["AttachedManagedPolicies"]})
            names[arn] = described["Name"]
        assert permission_sets == {"sysadmins": ("PT1H", {"arn:aws:iam::aws:policy/AdministratorAccess"}),
                                   "developers": ("PT4H", {"arn:aws:iam::aws:policy/PowerUserAccess"})}
        assert existing["permission set"] in names  # one developers permission set: the one that existed

        accounts = {a["Name"]: a["Id"] for a in boto3.client("organizations").list_accounts()["Accounts"]}
        live = {}
        for account in ("shop_dev", "shop_prod", "billing_prod"):
            live[account] = {
                (a["PrincipalType"], users[a["PrincipalId"]]["UserName"], names[arn])
                for arn in names
                for a in admin.list_account_assignments(InstanceArn=instance_arn, AccountId=accounts[account],
                                                        PermissionSetArn=arn)["AccountAssignments"]
            }
        assert live == {
            "shop_dev": {("USER", "maria", "developers"), ("USER", "maria", "sysadmins"), ("USER", "tom", "developers")},
            "shop_prod": {("USER", "maria", "developers"), ("USER", "maria", "sysadmins")},  # prod: maria only
            "billing_prod": {("USER", "tom", "developers")},
        }

        # No IAM users in member accounts: access is Identity Center's; the baseline stays.
        for account in ("shop_dev", "shop_prod", "billing_prod"):
            iam = aws.assume_role_session(accounts[account], "OrganizationAccountAccessRole").client("iam")
            assert iam.list_users()["Users"] == []
            assert iam.list_account_aliases()["AccountAliases"] == [f"acme-{account.replace('_', '-')}"]


def test_one_persons_profiles_into_their_own_config(world):
    workdir, env, cli, environ, _ = world
    target = workdir / "maria-config"
    written = cli("profiles", "--user", "maria", "--write", "--file", str(target))
    assert written.returncode == 0, written.stderr
    assert "aws sso login --sso-session acme" in written.stderr
    with environ(env):
        accounts = {a["Name"]: a["Id"] for a in boto3.client("organizations").list_accounts()["Accounts"]}
        store_id = boto3.client("sso-admin", region_name=REGION).list_instances()["Instances"][0]["IdentityStoreId"]
    parsed = configparser.ConfigParser()
    parsed.read(target)
    assert dict(parsed["sso-session acme"]) == {"sso_start_url": f"https://{store_id}.awsapps.com/start",
                                               "sso_region": REGION, "sso_registration_scopes": "sso:account:access"}
    profiles = {s.removeprefix("profile "): (parsed[s]["sso_account_id"], parsed[s]["sso_role_name"], parsed[s]["sso_session"])
                for s in parsed.sections() if s.startswith("profile ")}
    assert profiles == {
        "shop_dev_maria": (accounts["shop_dev"], "developers", "acme"),
        "shop_dev_maria_sysadmins": (accounts["shop_dev"], "sysadmins", "acme"),
        "shop_prod_maria": (accounts["shop_prod"], "developers", "acme"),
        "shop_prod_maria_sysadmins": (accounts["shop_prod"], "sysadmins", "acme"),
    }
    assert "default" not in parsed and "aws_access_key_id" not in target.read_text()

    unknown = cli("profiles", "--user", "nobody")
    assert unknown.returncode == 2 and "--user nobody: no such user" in unknown.stderr


def _config_block(message: str) -> str:
    """The ~/.aws/config lines a welcome message carries (indented in it), as they are pasted."""
    start, end = message.index("# BEGIN awsenvs"), message.index("# END awsenvs")
    return "\n".join(line.strip() for line in message[start:end + len("# END awsenvs")].splitlines()) + "\n"


def test_the_message_for_a_colleague_carries_portal_user_name_first_sign_in_and_profiles(world):
    workdir, env, cli, environ, _ = world
    message = cli("signin", "--user", "maria")
    assert message.returncode == 0, message.stderr
    with environ(env):
        store_id = boto3.client("sso-admin", region_name=REGION).list_instances()["Instances"][0]["IdentityStoreId"]
        accounts = {a["Name"]: a["Id"] for a in boto3.client("organizations").list_accounts()["Accounts"]}
    text = message.stdout
    assert f"Sign in at the AWS access portal: https://{store_id}.awsapps.com/start\n   user name: maria\n" in text
    assert "one-time code emailed to maria@acme.example.com" in text
    assert f"shop_prod as sysadmins: https://{store_id}.awsapps.com/start/#/console?account_id={accounts['shop_prod']}" \
           "&role_name=sysadmins" in text
    assert "billing_prod" not in text  # tom's, not maria's
    assert "AWS CLI version 2" in text and "version 1 has no `aws sso login`" in text
    assert "aws sso login --sso-session acme" in text and "aws sts get-caller-identity --profile shop_dev_maria" in text
    # The config lines are exactly what `profiles --user maria` writes, and no secret.
    assert _config_block(text) == cli("profiles", "--user", "maria").stdout
    # The admin's own step, before anyone can sign in: on standard error, not in the message.
    assert '"Send email OTP"' in message.stderr and "Send email OTP" not in text

    unknown = cli("signin", "--user", "ben")
    assert unknown.returncode == 2
    assert unknown.stderr == "error: --user ben: no such user in org.yaml (users: maria, tom)\n"
    assert cli("profiles").stderr.count("needs AWS CLI version 2: version 1 has no `aws sso login`") == 1


def test_sign_in_page_and_audit(world):
    workdir, env, cli, environ, _ = world
    page = workdir / "signin.html"
    signin = cli("signin", "--html", str(page))
    assert signin.returncode == 0
    assert '"Send email OTP"' in signin.stderr and "Reset password" in signin.stderr
    with environ(env):
        store_id = boto3.client("sso-admin", region_name=REGION).list_instances()["Instances"][0]["IdentityStoreId"]
    html = page.read_text()
    assert f"https://{store_id}.awsapps.com/start" in html and "role_name=sysadmins" in html

    audit = cli("audit", "--json")
    rows = json.loads(audit.stdout)
    by_check = {}
    for row in rows:
        by_check.setdefault(row["check"], []).append(row)
    assert [r["status"] for r in by_check["access assignments"]] == ["pass"] * 3, by_check["access assignments"]
    assert [r["status"] for r in by_check["no IAM console users"]] == ["pass"] * 3
    assert [r["status"] for r in by_check["Identity Center MFA"]] == ["manual"]
    assert [r["status"] for r in by_check["Identity Center first sign-in"]] == ["manual"]
    assert "users" not in by_check  # the IAM-user check belongs to iam_users access
    assert "drift" not in by_check, by_check.get("drift")  # just applied, adopted objects included


def test_audit_names_identity_center_changes_and_apply_restores_them(world):
    """An assignment removed and a permission set's policy detached behind awsenvs' back: audit
    names both (exit 1); plan --all and apply restore them, and audit finds no drift."""
    _, env, cli, environ, _ = world
    with environ(env):
        admin = boto3.client("sso-admin", region_name=REGION)
        store = boto3.client("identitystore", region_name=REGION)
        [instance] = admin.list_instances()["Instances"]
        sets = {admin.describe_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=arn)["PermissionSet"]["Name"]: arn
                for arn in admin.list_permission_sets(InstanceArn=instance["InstanceArn"])["PermissionSets"]}
        users = {u["UserName"]: u["UserId"] for u in store.list_users(IdentityStoreId=instance["IdentityStoreId"])["Users"]}
        accounts = {a["Name"]: a["Id"] for a in boto3.client("organizations").list_accounts()["Accounts"]}
        admin.delete_account_assignment(InstanceArn=instance["InstanceArn"], TargetId=accounts["billing_prod"],
                                        TargetType="AWS_ACCOUNT", PermissionSetArn=sets["developers"],
                                        PrincipalType="USER", PrincipalId=users["tom"])
        admin.detach_managed_policy_from_permission_set(InstanceArn=instance["InstanceArn"], PermissionSetArn=sets["sysadmins"],
                                                        ManagedPolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    audit = cli("audit", "--json")
    assert audit.returncode == 1
    rows = json.loads(audit.stdout)
    assignments = next(r for r in rows if r["check"] == "access assignments" and r["account"].startswith("billing-prod "))
    assert assignments["status"] == "fail" and "missing: tom as developers" in assignments["finding"]
    drifted = [r["finding"] for r in rows if r["check"] == "drift"]
    assert len(drifted) == 1 and drifted[0].startswith("policies of permission set sysadmins: expected"), drifted

    assert cli("plan", "--all").returncode == 2
    restored = cli("apply", "--yes")
    assert restored.returncode == 0, restored.stderr[-3000:]
    rows = json.loads(cli("audit", "--json").stdout)
    assert not [r for r in rows if r["check"] == "drift"]
    assert all(r["status"] == "pass" for r in rows if r["check"] == "access assignments")


def test_what_awsenvs_manages_assigned_in_the_management_account_is_refused_and_audited(world):
    """Identity Store's actions name no account, so IAM cannot keep the Terraform Cloud run
    role from adding members to a group that someone assigned in the management account: a
    user, group or permission set awsenvs manages assigned there stops the plan, and audit
    names every assignment there (docs/state.md), as does the management stack's drift."""
    workdir, env, cli, environ, _ = world
    with environ(env):
        admin = boto3.client("sso-admin", region_name=REGION)
        store = boto3.client("identitystore", region_name=REGION)
        [instance] = admin.list_instances()["Instances"]
        arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
        sets = {admin.describe_permission_set(InstanceArn=arn, PermissionSetArn=p)["PermissionSet"]["Name"]: p
                for p in admin.list_permission_sets(InstanceArn=arn)["PermissionSets"]}
        groups = {g["DisplayName"]: g["GroupId"] for g in store.list_groups(IdentityStoreId=store_id)["Groups"]}
        management = aws.caller_account()
        theirs = store.create_group(IdentityStoreId=store_id, DisplayName="break-glass")["GroupId"]
        by_hand = admin.create_permission_set(InstanceArn=arn, Name="BreakGlass")["PermissionSet"]["PermissionSetArn"]

        # A person made by hand, not in org.yaml, given awsenvs' sysadmins (AdministratorAccess) there.
        anna = store.create_user(IdentityStoreId=store_id, UserName="anna", DisplayName="Anna Berg",
                                 Name={"GivenName": "Anna", "FamilyName": "Berg"})["UserId"]

        def assign(principal: str, permission_set: str, delete: bool = False, kind: str = "GROUP") -> None:
            call = admin.delete_account_assignment if delete else admin.create_account_assignment
            call(InstanceArn=arn, TargetId=management, TargetType="AWS_ACCOUNT", PermissionSetArn=permission_set,
                 PrincipalType=kind, PrincipalId=principal)

        assign(groups["developers"], sets["sysadmins"])
        assign(anna, sets["sysadmins"], kind="USER")
    refused = cli("plan")  # a plain plan too, which would find every stack unchanged
    assert refused.returncode == 1, refused.stderr[-3000:]
    [error] = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert (f"IAM Identity Center assigns what awsenvs manages in the management account {management}: anna as "
            "sysadmins, group:developers as sysadmins;") in error and error.endswith("nothing was planned")
    audit = cli("audit", "--json")
    assert audit.returncode == 1
    rows = {r["check"]: r for r in json.loads(audit.stdout)}
    assert rows["management account access"]["status"] == "fail"
    assert rows["management account access"]["finding"] == ("assigned there, with a user, group or permission set "
                                                            "awsenvs manages: anna as sysadmins, group:developers as sysadmins")
    assert rows["management account access"]["restore"].startswith("apply leaves what it did not make: remove the assignment")
    # The management stack's drift comparison (plan's and audit's reads) covers that account too.
    from awsenvs.config import load
    from awsenvs.live.organization import read_organization
    from awsenvs.stack_drift import management_stack_drift

    with environ(env):
        found = management_stack_drift(load(workdir / "org.yaml"), read_organization(), {})
    assert [d.finding for d in found if "management account" in d.object] == [
        "access assignments of the management account: expected none of awsenvs'; live anna as sysadmins, "
        "group:developers as sysadmins"]

    with environ(env):
        assign(groups["developers"], sets["sysadmins"], delete=True)
        assign(anna, sets["sysadmins"], delete=True, kind="USER")
        assign(theirs, by_hand)  # someone else's: named, for a person to judge
    assert cli("plan", "--all").returncode == 0
    rows = {r["check"]: r for r in json.loads(cli("audit", "--json").stdout)}
    assert rows["management account access"]["status"] == "manual"
    assert "assigned there by hand: group:break-glass as BreakGlass" in rows["management account access"]["finding"]
    with environ(env):
        assign(theirs, by_hand, delete=True)
    rows = {r["check"]: r for r in json.loads(cli("audit", "--json").stdout)}
    assert rows["management account access"]["status"] == "pass"


def test_a_change_asks_only_for_the_protected_accounts_it_reaches(world):
    """Issue 38: a person moved out of prod noted every account's Identity Center access, and a
    retirement asked for every protected account's name.  Here prod's people change (maria out,
    tom in): only shop-prod is noted and only its name would be asked (billing-prod's is not);
    shop's dev retired: only its own retirement asks, no prod's name.  Without a terminal
    `apply` refuses and lists exactly the accounts it would ask for.  (Last in this module: it
    leaves org.yaml as it found it, nothing applied.)"""
    workdir, _, cli, _, _ = world
    path = workdir / "org.yaml"  # the rehearsal's copy of the example (written by yaml)
    original = path.read_text()

    def edited(change) -> str:
        document = yaml.safe_load(original)
        change(document["products"]["shop"]["environments"])
        return yaml.safe_dump(document, sort_keys=False)

    try:
        path.write_text(edited(lambda shop: shop["prod"].update(users=["tom"])))
        moved = cli("apply")
        output = moved.stdout + moved.stderr
        assert moved.returncode == 1, output[-3000:]
        assert "Identity Center access to shop-prod changes" in output, output[-3000:]
        for other in ("shop-dev", "billing-prod"):
            assert f"Identity Center access to {other} changes" not in output, output[-3000:]
        [refused] = [line for line in moved.stderr.splitlines() if line.startswith("error: refusing to apply")]
        assert "of shop-prod, mfa: required" in refused and "billing-prod" not in refused, refused

        path.write_text(edited(lambda shop: shop.pop("dev")))
        retired = cli("apply")
        output = retired.stdout + retired.stderr
        assert retired.returncode == 1, output[-3000:]
        assert "Identity Center access to" not in output, output[-3000:]
        [refused] = [line for line in retired.stderr.splitlines() if line.startswith("error: refusing to apply")]
        assert "shop-dev (retire: removed from org.yaml" in refused, refused
        assert "shop-prod" not in refused and "billing-prod" not in refused, refused
        assert "IAM users" not in refused, refused  # Identity Center: the account holds none to lock out
    finally:
        path.write_text(original)
