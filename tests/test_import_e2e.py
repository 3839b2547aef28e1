"""`import` end to end: an organization made by hand on the emulator, written as org.yaml,
validated, planned and applied with real terraform, then checked with boto3.

The organization: OUs named like products (one capitalized, one nested, one empty of
direct accounts), accounts named freely with their own emails, IAM groups and users with
console passwords inside, an alias, a password policy, a customer managed policy, an SCP of
the company's own and an account left in the root.  The first plan and apply of the written
file create no account, move no account, and replace or delete no IAM user or group; users
keep their ids, every adopted object arrives through an import block, and a second plan is
clean.  The commands run as a user types them: from the folder holding org.yaml, with
relative paths and AWS_REGION only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from conftest import ROOT, accounts_in_new_ou

pytestmark = pytest.mark.e2e

REGION = "eu-central-1"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
POWER = "arn:aws:iam::aws:policy/PowerUserAccess"
SECURITY_AUDIT = "arn:aws:iam::aws:policy/SecurityAudit"
ADMINS_DESCRIPTION = "On-call admins (made in the console)"


class Org:
    """The emulator, the organization made in it by hand, and the CLI run against it."""

    def __init__(self, workdir: Path, env: dict[str, str], seeded: dict) -> None:
        self.workdir, self.env, self.seeded = workdir, env, seeded

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1200)

    def boto(self):
        from awsenvs.sandbox import environ

        return environ(self.env)

    def plan_changes(self) -> dict[str, list]:
        """Stack -> the resource changes of its saved plan (terraform show -json)."""
        from awsenvs.run.stackdir import PLAN_FILE
        from awsenvs.terraform import Terraform

        terraform, found = Terraform(env=self.env), {}
        for directory in sorted((self.workdir / "cdktf.out" / "stacks").iterdir()):
            if (directory / PLAN_FILE).exists():
                found[directory.name] = [c for c in terraform.show_plan(directory, directory / PLAN_FILE) if c.changes]
        return found


def _emulator_env(emulator, workdir: Path, provider_mirror: Path) -> dict[str, str]:
    (workdir / "home" / ".aws").mkdir(parents=True)
    env = emulator.environment(workdir / "home")
    env.update(TF_PROVIDER_MIRROR=str(provider_mirror), AWS_REGION=REGION)
    env.pop("AWS_DEFAULT_REGION", None)  # only AWS_REGION, as a user sets it
    env.pop("CDKTF_OUTDIR", None)  # the default output folder, beside org.yaml
    return env


def _seed() -> dict:
    """An organization as a small company makes it by hand."""
    from awsenvs import aws

    aws.connect(None)  # boto3 reads AWS_DEFAULT_REGION only: the region as the CLI resolves it (AWS_REGION)
    org = boto3.client("organizations")
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    shop = org.create_organizational_unit(ParentId=root, Name="Shop")["OrganizationalUnit"]["Id"]
    billing = org.create_organizational_unit(ParentId=root, Name="billing")["OrganizationalUnit"]["Id"]
    platform = org.create_organizational_unit(ParentId=root, Name="Platform")["OrganizationalUnit"]["Id"]
    tools = org.create_organizational_unit(ParentId=platform, Name="Tools")["OrganizationalUnit"]["Id"]

    def account(name: str, email: str, parent: str | None) -> str:
        account_id = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]["AccountId"]
        if parent:
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=parent)
        return account_id

    ids = {
        "prod": account("Shop Production", "aws-shop-prod@acme.example.com", shop),
        "dev": account("shop-dev", "dev.shop@acme.example.com", shop),
        "billing": account("Billing", "billing@acme.example.com", billing),
        "tools": account("tools", "tools@acme.example.com", tools),
        "legacy": account("Legacy", "legacy@acme.example.com", None),
    }
    scp = org.create_policy(Name="deny-bucket-deletion", Description="the company's own", Type="SERVICE_CONTROL_POLICY",
                            Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=shop)

    users: dict[tuple[str, str], str] = {}
    prod = aws.assume_role_session(ids["prod"], "OrganizationAccountAccessRole").client("iam")
    prod.create_group(GroupName="developers")
    prod.attach_group_policy(GroupName="developers", PolicyArn=READ_ONLY)
    prod.create_group(GroupName="admins")
    prod.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    own = prod.create_policy(PolicyName="deploy", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}))["Policy"]["Arn"]
    prod.attach_group_policy(GroupName="admins", PolicyArn=own)
    for name, groups, console in (("maria", ["developers"], True), ("tom", ["developers", "admins"], False)):
        users[("prod", name)] = prod.create_user(UserName=name)["User"]["UserId"]
        for group in groups:
            prod.add_user_to_group(GroupName=group, UserName=name)
        if console:
            prod.create_login_profile(UserName=name, Password="Initial-Passw0rd!", PasswordResetRequired=True)
    prod.create_account_alias(AccountAlias="acme-shop-production")
    prod.update_account_password_policy(MinimumPasswordLength=12, RequireSymbols=True, RequireNumbers=True,
                                        RequireUppercaseCharacters=True, RequireLowercaseCharacters=True,
                                        AllowUsersToChangePassword=True, MaxPasswordAge=180, PasswordReusePrevention=5)

    dev = aws.assume_role_session(ids["dev"], "OrganizationAccountAccessRole").client("iam")
    dev.create_group(GroupName="developers")
    dev.attach_group_policy(GroupName="developers", PolicyArn=READ_ONLY)
    dev.attach_group_policy(GroupName="developers", PolicyArn=POWER)  # dev only: stays, unmanaged
    users[("dev", "maria")] = dev.create_user(UserName="maria")["User"]["UserId"]
    dev.add_user_to_group(GroupName="developers", UserName="maria")
    dev.create_login_profile(UserName="maria", Password="Initial-Passw0rd!", PasswordResetRequired=True)
    return {"organization_id": organization_id, "ids": ids, "users": users, "ous": {"Shop": shop, "billing": billing,
                                                                                    "Tools": tools}}


def _made_by_hand(provider_mirror: Path, workdir: Path, seed):
    """An emulator of its own with the organization `seed()` makes in it."""
    from awsenvs.sandbox import Emulator, environ

    with Emulator() as emulator:
        env = _emulator_env(emulator, workdir, provider_mirror)
        with environ(env):
            seeded = seed()
        yield Org(workdir, env, seeded)


@pytest.fixture(scope="module")
def made_by_hand(provider_mirror, tmp_path_factory):
    yield from _made_by_hand(provider_mirror, tmp_path_factory.mktemp("import"), _seed)


def _no_drift(org: Org) -> None:
    """What import left as it is (written under `unmanaged`) is no drift for audit."""
    audit = org.cli("audit", "--json")
    assert "Traceback" not in audit.stderr
    drifted = [r for r in json.loads(audit.stdout) if r["check"] == "drift"]
    assert drifted == [], drifted


def _parents(org: Org) -> dict[str, str]:
    from awsenvs import aws

    with org.boto():
        aws.connect(None)
        client = boto3.client("organizations")
        return {a["Id"]: client.list_parents(ChildId=a["Id"])["Parents"][0]["Id"] for a in client.list_accounts()["Accounts"]}


def test_import_refuses_to_overwrite_and_then_writes_an_org_yaml_that_validates(made_by_hand):
    org = made_by_hand
    (org.workdir / "org.yaml").write_text("# somebody's own\n")
    refused = org.cli("import")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "org.yaml: already exists" in refused.stderr and "--force" in refused.stderr
    assert (org.workdir / "org.yaml").read_text() == "# somebody's own\n"

    written = org.cli("import", "--force")
    assert written.returncode == 0, written.stderr[-3000:]
    assert "Traceback" not in written.stderr
    assert list(org.workdir.glob("org.yaml.*.bak")), "the replaced file is backed up"
    text = (org.workdir / "org.yaml").read_text()
    doc = yaml.safe_load(text)
    ids = org.seeded["ids"]
    assert doc["organization"]["organization_id"] == org.seeded["organization_id"]
    products = doc["products"]
    assert set(products) == {"shop", "billing"}  # Platform holds its account one OU deeper: commented out
    assert products["shop"]["ou"] == "Shop"
    shop = products["shop"]["environments"]
    assert {e["account_id"]: (e["email"], e["account_name"]) for e in shop.values()} == {
        ids["prod"]: ("aws-shop-prod@acme.example.com", "Shop Production"),
        ids["dev"]: ("dev.shop@acme.example.com", "shop-dev")}
    assert set(shop) == {"production", "dev"}
    assert shop["production"]["alias"] == "acme-shop-production"
    assert shop["production"]["password_policy"]["minimum_length"] == 12
    # groups everywhere the same policies; PowerUserAccess only in dev: not managed
    assert doc["groups"]["developers"]["policies"] == [READ_ONLY]
    assert doc["groups"]["admins"]["policies"] == [ADMIN]
    assert "customer managed" in text and "deploy" in text
    assert products["shop"]["users"]["tom"] == {"groups": ["developers", "admins"], "console": False}
    assert shop["dev"]["users"] == ["maria"]  # dev differs from the product
    for commented in (ids["legacy"], ids["tools"]):
        assert f'#   account_id: "{commented}"' in text or f'# account_id: "{commented}"' in text.replace("#   ", "# ")
    assert "deny-bucket-deletion" in text
    summary = written.stderr
    assert "left out: account Legacy" in summary and "in the root" in summary
    assert "left out: account tools" in summary
    assert org.cli("validate").returncode == 0


def test_import_prints_with_output_dash_and_refuses_member_credentials(made_by_hand):
    from awsenvs import aws

    org = made_by_hand
    printed = org.cli("import", "--output", "-")
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert yaml.safe_load(printed.stdout) == yaml.safe_load((org.workdir / "org.yaml").read_text()) | {}
    with org.boto():
        aws.connect(None)
        creds = boto3.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{org.seeded['ids']['dev']}:role/OrganizationAccountAccessRole",
            RoleSessionName="someone")["Credentials"]
    member = dict(org.env, AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                  AWS_SESSION_TOKEN=creds["SessionToken"])
    refused = subprocess.run([sys.executable, str(ROOT / "main.py"), "import", "--output", "member.yaml"], cwd=org.workdir,
                             env=member, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.count("\n") == 1 and org.seeded["ids"]["dev"] in refused.stderr, refused.stderr
    assert "management account's credentials" in refused.stderr
    assert not (org.workdir / "member.yaml").exists()


def test_the_first_plan_adopts_everything_and_adds_only_the_baseline(made_by_hand):
    org = made_by_hand
    before = _parents(org)
    planned = org.cli("plan", "--detail")
    assert planned.returncode == 2, planned.stdout[-3000:] + planned.stderr[-3000:]
    changes = org.plan_changes()
    management = {c.address: c.action for c in changes["management"]}
    assert not [a for a, action in management.items() if action in ("create", "delete", "replace")
                and a.startswith("aws_organizations_account")], management
    assert not [a for a, action in management.items() if action in ("delete", "replace")], management
    from awsenvs.config import MFA_GROUP_NAME, tf_name

    mfa_group = f"aws_iam_group.{tf_name(MFA_GROUP_NAME)}"
    for stack, found in changes.items():
        for change in found:
            assert change.action not in ("delete", "replace"), (stack, change)
            adopted = change.type in ("aws_iam_user", "aws_iam_group", "aws_iam_user_login_profile",
                                      "aws_iam_group_policy_attachment") and change.address != mfa_group \
                and not change.address.endswith(".require_mfa")
            if adopted or (stack == "shop-production" and change.type.startswith("aws_iam_account_")):
                assert change.importing, (stack, change)  # adopted through an import block, never created
    created = {c.address for found in changes.values() for c in found if c.action == "create"}
    baseline = ("aws_iam_policy.require_mfa", mfa_group, "aws_iam_role.", "aws_iam_group_policy.",
                "aws_iam_role_policy_attachment.", "aws_iam_group_policy_attachment.require_mfa",
                "aws_iam_user_group_membership.", "aws_iam_account_password_policy", "aws_iam_account_alias")
    assert created and all(a.startswith(baseline) for a in created), sorted(created)
    shown = planned.stdout + planned.stderr
    for stack, found in changes.items():
        for change in found:
            assert change.address in shown, f"{stack}: {change.address} is not listed in the plan"
    print(shown)

    applied = org.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    assert _parents(org) == before, "no account moved"
    from awsenvs import aws

    with org.boto():
        assert len(boto3.client("organizations").list_accounts()["Accounts"]) == len(before), "no account created"
        for (where, user), user_id in org.seeded["users"].items():
            iam = aws.assume_role_session(org.seeded["ids"][where], "OrganizationAccountAccessRole").client("iam")
            assert iam.get_user(UserName=user)["User"]["UserId"] == user_id, (where, user)
        iam = aws.assume_role_session(org.seeded["ids"]["dev"], "OrganizationAccountAccessRole").client("iam")
        attached = {p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName="developers")["AttachedPolicies"]}
        assert {READ_ONLY, POWER} <= attached, "a policy attached in one account only stays"
        prod = aws.assume_role_session(org.seeded["ids"]["prod"], "OrganizationAccountAccessRole").client("iam")
        assert prod.list_account_aliases()["AccountAliases"] == ["acme-shop-production"]
        assert prod.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 12
        prod.get_login_profile(UserName="maria")  # kept

    again = org.cli("plan")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    _no_drift(org)


# --------------------------------------------------------------------------- Identity Center


def _seed_identity_center() -> dict:
    """An organization whose people sign in through IAM Identity Center, set up by hand:
    users, a group with members, permission sets, user and group assignments."""
    from awsenvs import aws

    aws.connect(None)
    org = boto3.client("organizations")
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")
    ids = accounts_in_new_ou(org, root, "web", {"prod": ("web-prod", "web-prod@acme.example.com"),
                                                "staging": ("web staging", "web-staging@acme.example.com")})

    admin, store = boto3.client("sso-admin"), boto3.client("identitystore")
    [instance] = admin.list_instances()["Instances"]
    store_id, instance_arn = instance["IdentityStoreId"], instance["InstanceArn"]
    people = {}
    for user, display, email in (("maria", "Maria Lopez", "maria@acme.example.com"), ("tom", "Tom Berg", "tom@acme.example.com"),
                                 ("carol", "Carol Diaz", "carol@acme.example.com")):
        given, family = display.split()
        people[user] = store.create_user(IdentityStoreId=store_id, UserName=user, DisplayName=display,
                                         Name={"GivenName": given, "FamilyName": family},
                                         Emails=[{"Value": email, "Primary": True}])["UserId"]
    group = store.create_group(IdentityStoreId=store_id, DisplayName="developers")["GroupId"]
    for user in ("maria", "tom"):
        store.create_group_membership(IdentityStoreId=store_id, GroupId=group, MemberId={"UserId": people[user]})
    sets = {}
    for name, policy, duration in (("developers", POWER, "PT4H"), ("admins", ADMIN, "PT2H")):
        described = {"Description": ADMINS_DESCRIPTION} if name == "admins" else {}
        sets[name] = admin.create_permission_set(InstanceArn=instance_arn, Name=name, SessionDuration=duration,
                                                 **described)["PermissionSet"]["PermissionSetArn"]
        admin.attach_managed_policy_to_permission_set(InstanceArn=instance_arn, PermissionSetArn=sets[name],
                                                      ManagedPolicyArn=policy)

    def assign(account: str, permission_set: str, kind: str, principal: str) -> None:
        admin.create_account_assignment(InstanceArn=instance_arn, TargetId=ids[account], TargetType="AWS_ACCOUNT",
                                        PermissionSetArn=sets[permission_set], PrincipalType=kind, PrincipalId=principal)

    assign("prod", "developers", "USER", people["maria"])
    assign("prod", "admins", "USER", people["maria"])
    assign("staging", "developers", "USER", people["maria"])
    assign("staging", "developers", "USER", people["tom"])
    assign("staging", "developers", "GROUP", group)  # awsenvs assigns users: this one stays, unmanaged
    return {"organization_id": organization_id, "ids": ids, "people": people, "sets": sets, "group": group,
            "store": store_id, "instance": instance_arn}


@pytest.fixture(scope="module")
def identity_center(provider_mirror, tmp_path_factory):
    yield from _made_by_hand(provider_mirror, tmp_path_factory.mktemp("import-identity-center"), _seed_identity_center)


def test_an_identity_center_organization_is_adopted_not_recreated(identity_center):
    org = identity_center
    written = org.cli("import")  # no org.yaml yet: written as the default --config
    assert written.returncode == 0, written.stderr[-3000:]
    doc = yaml.safe_load((org.workdir / "org.yaml").read_text())
    assert doc["organization"]["access"] == "identity_center"
    from awsenvs.config import DEFAULT_SESSION_HOURS

    def group(policy: str, hours: int) -> dict:  # the default session is left unsaid
        return {"policies": [policy], **({"session_hours": hours} if hours != DEFAULT_SESSION_HOURS else {})}

    assert doc["groups"] == {"admins": {**group(ADMIN, 2), "description": ADMINS_DESCRIPTION}, "developers": group(POWER, 4)}
    web = doc["products"]["web"]
    maria = web["users"]["maria"]
    assert (set(maria.pop("groups")), maria) == ({"developers", "admins"}, {"email": "maria@acme.example.com",
                                                                            "name": "Maria Lopez"})
    assert "carol" not in web["users"] and "carol" in written.stderr  # assigned nowhere: left out, said
    assert set(web["environments"]) == {"prod", "staging"}
    text = (org.workdir / "org.yaml").read_text()
    assert "group developers has developers here" in text
    assert org.cli("validate").returncode == 0

    planned = org.cli("plan", "--detail")
    assert planned.returncode == 2, planned.stdout[-3000:] + planned.stderr[-3000:]
    adopted = ("aws_identitystore_user", "aws_ssoadmin_permission_set", "aws_ssoadmin_account_assignment",
               "aws_ssoadmin_managed_policy_attachment", "aws_organizations_account", "aws_organizations_organizational_unit")
    for stack, found in org.plan_changes().items():
        for change in found:
            assert change.action not in ("delete", "replace"), (stack, change)
            if change.type in adopted:
                assert change.importing, (stack, change)
            if change.type == "aws_ssoadmin_permission_set":  # written as they are: only awsenvs' marks come
                marks = {"tags": ({}, {"managed-by": "awsenvs"})}
                if change.address.endswith(".developers"):  # made without a description: awsenvs' own is added
                    marks["description"] = (None, "developers (managed by awsenvs)")
                assert {a.name: (a.before or ({} if a.name == "tags" else None), a.after)
                        for a in change.attributes} == marks, change
    output = planned.stdout + planned.stderr
    assert "update (import)  aws_ssoadmin_permission_set.admins\n           tags: + managed-by=\"awsenvs\"" in output
    applied = org.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    # The saved plans, applied as they are: their notes are said again before anything is applied.
    shown = applied.stdout + applied.stderr
    assert shown.index("management: import aws_ssoadmin_permission_set.admins: existing permission set admins") < \
        shown.index("management: applying")
    with org.boto():
        store = boto3.client("identitystore")
        users = {u["UserName"]: u["UserId"] for u in store.list_users(IdentityStoreId=org.seeded["store"])["Users"]}
        assert users == org.seeded["people"], "the same users, none created"
        admin = boto3.client("sso-admin")
        sets = {admin.describe_permission_set(InstanceArn=org.seeded["instance"], PermissionSetArn=arn)["PermissionSet"]["Name"]: arn
                for arn in admin.list_permission_sets(InstanceArn=org.seeded["instance"])["PermissionSets"]}
        assert sets == org.seeded["sets"], "the same permission sets, none created"
        kept = admin.list_account_assignments(InstanceArn=org.seeded["instance"], AccountId=org.seeded["ids"]["staging"],
                                              PermissionSetArn=org.seeded["sets"]["developers"])["AccountAssignments"]
        assert ("GROUP", org.seeded["group"]) in {(a["PrincipalType"], a["PrincipalId"]) for a in kept}
    again = org.cli("plan")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    _no_drift(org)


def test_adopting_a_permission_set_made_by_hand_shows_what_changes_and_what_stays(identity_center):
    """A group added to org.yaml whose permission set was made in the console (8 h sessions, a
    description, ReadOnlyAccess, assigned to someone org.yaml does not name): the plan shows,
    before anything is applied, each attribute the adoption changes, old -> new, and what stays
    on the set as it is (the policy, the assignment), read live."""
    org = identity_center
    with org.boto():
        admin, store = boto3.client("sso-admin"), boto3.client("identitystore")
        instance = org.seeded["instance"]
        auditors = admin.create_permission_set(InstanceArn=instance, Name="auditors", SessionDuration="PT8H",
                                               Description="Auditors, made in the console")["PermissionSet"]["PermissionSetArn"]
        admin.attach_managed_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=auditors, ManagedPolicyArn=READ_ONLY)
        admin.create_account_assignment(InstanceArn=instance, TargetId=org.seeded["ids"]["prod"], TargetType="AWS_ACCOUNT",
                                        PermissionSetArn=auditors, PrincipalType="USER",
                                        PrincipalId=org.seeded["people"]["carol"])
    path = org.workdir / "org.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["groups"]["auditors"] = {"policies": [SECURITY_AUDIT]}
    doc["products"]["web"]["users"]["maria"]["groups"].append("auditors")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))

    planned = org.cli("plan", "--detail")
    assert planned.returncode == 2, planned.stdout[-3000:] + planned.stderr[-3000:]
    output = planned.stdout + planned.stderr
    row = output[output.index("update (import)  aws_ssoadmin_permission_set.auditors"):]
    shown = row.splitlines()[1:4]
    assert shown == ['           description: "Auditors, made in the console" -> "auditors (managed by awsenvs)"',
                     '           session_duration: "PT8H" -> "PT4H"',
                     '           tags: + managed-by="awsenvs"'], row[:800]
    prod = f"web-prod ({org.seeded['ids']['prod']})"
    assert ("import aws_ssoadmin_permission_set.auditors: existing permission set auditors; what org.yaml does not name "
            f"stays on it as it is (apply leaves it): the policy {READ_ONLY} (audit reports it: detach, or add to "
            f"groups.auditors.policies); its assignment of carol in {prod}") in " ".join(output.split()), output[-3000:]
