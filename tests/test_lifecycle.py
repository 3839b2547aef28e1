"""A real organization's lifecycle, end to end on the emulator with real terraform.

An organization that already has Identity Center trusted, SCPs and tag policies enabled
and an SCP on its root, and an existing account with IAM objects of its own, is adopted;
an apply is killed half way and resumed; a user who made their own access key is
removed; an environment is retired.  The module has its own emulator: the steps change
the organization in ways the other end-to-end tests must not see.  Order matters and is
the file's order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import yaml

from conftest import ROOT, local_state_addresses

pytestmark = pytest.mark.e2e

MANAGEMENT = "123456789012"  # moto's management account
EMAIL = "cloud@acme.example.com"
LEGACY_EMAIL = "legacy-shop@acme.example.com"


class World:
    """The emulator, the organization seeded in it, and org.yaml variants to run against it."""

    def __init__(self, workdir, env, organization_id: str, legacy_id: str) -> None:
        self.workdir, self.env = workdir, env
        self.organization_id, self.legacy_id = organization_id, legacy_id
        self.config = workdir / "org.yaml"

    def document(self, **changes) -> dict:
        doc = {
            "organization": {
                "name": "acme", "email": EMAIL, "region": "eu-central-1",
                "management_account_id": MANAGEMENT, "organization_id": self.organization_id,
                "trusted_services": ["sso.amazonaws.com"], "disable_policy_types": ["TAG_POLICY"],
                # Off here, so that this organization keeps exactly the trusted services it had
                # (test_trusted_services_policy_types_and_attachments_survive); the default
                # (on) is rehearsed by the other end-to-end tests.
                "centralized_root": False,
            },
            "groups": {"developers": {"policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}},
            "products": {"shop": {
                "users": {"maria": {"groups": ["developers"]}, "tom": {"groups": ["developers"]}},
                "environments": {
                    "dev": {"mfa": "optional"},
                    "qa": {"mfa": "optional"},
                    "legacy": {"account_id": self.legacy_id, "email": LEGACY_EMAIL,
                               "account_name": "Shop legacy", "mfa": "optional"},
                },
            }},
        }
        for path, value in changes.items():  # "products.shop.users.tom": None deletes
            *parents, key = path.split(".")
            node = doc
            for part in parents:
                node = node[part]
            if value is None:
                node.pop(key)
            else:
                node[key] = value
        return doc

    def cli(self, *args: str, doc: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
        path = self.config
        if doc is not None:
            path = self.workdir / "variant.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--config", str(path), *args],
            cwd=self.workdir, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs,
        )

    def boto(self):
        from awsenvs.sandbox import environ

        return environ(self.env)

    def state(self, stack: str) -> list[str]:
        return local_state_addresses(self.workdir / "state" / "acme" / f"{stack}.tfstate")

    def accounts(self) -> dict[str, dict]:
        with self.boto():
            client = boto3.client("organizations")
            return {a["Email"]: a for a in client.list_accounts()["Accounts"]}


@pytest.fixture(scope="module")
def world(provider_mirror, tmp_path_factory):
    from awsenvs.sandbox import Emulator

    workdir = tmp_path_factory.mktemp("lifecycle")
    (workdir / "home" / ".aws").mkdir(parents=True)
    with Emulator() as emulator:
        env = emulator.environment(workdir / "home")
        env.update(TF_PROVIDER_MIRROR=str(provider_mirror), CDKTF_OUTDIR=str(workdir / "cdktf.out"))
        from awsenvs.sandbox import environ

        with environ(env):
            organization_id, legacy_id = _seed()
        world = World(workdir, env, organization_id, legacy_id)
        world.config.write_text(yaml.safe_dump(world.document(), sort_keys=False))
        yield world


def _seed() -> tuple[str, str]:
    """An organization as a real company has it, and an account with IAM objects of its own."""
    from awsenvs import aws

    org = boto3.client("organizations")
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_aws_service_access(ServicePrincipal="sso.amazonaws.com")
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    org.enable_policy_type(RootId=root, PolicyType="TAG_POLICY")
    scp = org.create_policy(
        Name="deny-bucket-deletion", Description="an SCP the company had before awsenvs", Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=root)
    legacy = org.create_account(AccountName="Shop legacy", Email=LEGACY_EMAIL)["CreateAccountStatus"]["AccountId"]
    iam = aws.assume_role_session(legacy, "OrganizationAccountAccessRole").client("iam")
    iam.create_user(UserName="maria")
    iam.create_group(GroupName="developers")
    iam.create_account_alias(AccountAlias="acme-old-legacy")
    iam.update_account_password_policy(MinimumPasswordLength=8)
    return organization_id, legacy


def _legacy_iam(world):
    from awsenvs import aws

    return aws.assume_role_session(world.legacy_id, "OrganizationAccountAccessRole").client("iam")


# --------------------------------------------------------------------------- refusals first: nothing written


def test_plan_refuses_to_disable_what_the_live_organization_has(world):
    doc = world.document(**{"organization.trusted_services": None, "organization.disable_policy_types": None})
    proc = world.cli("plan", doc=doc)
    assert proc.returncode == 1, proc.stderr[-3000:]
    message = " ".join(proc.stderr.split())
    assert "trusted service sso.amazonaws.com (add it to organization.trusted_services" in message
    assert "policy type TAG_POLICY (add it to organization.policy_types" in message
    assert "SERVICE_CONTROL_POLICY" not in message  # listed by default
    assert "Traceback" not in proc.stderr
    assert not list(world.workdir.glob("state/*/*.tfstate"))


def test_adopting_an_account_whose_email_differs_exits_1_naming_the_live_email(world):
    doc = world.document(**{"products.shop.environments.legacy.email": None})  # derived: cloud+shop-legacy@...
    proc = world.cli("plan", doc=doc)
    assert proc.returncode == 1, proc.stderr[-3000:]  # bad input, but plan's 2 means "changes"
    message = " ".join(proc.stderr.split())
    assert "products.shop.environments.legacy.email" in message and LEGACY_EMAIL in message
    # Nothing written but the run lock, beside the state folder (taken before anything else).
    assert [path.name for path in (world.workdir / "state").iterdir()] == ["acme.lock"]
    assert not list((world.workdir / "cdktf.out" / "stacks").glob("*/awsenvs.tfplan"))


def test_alias_change_of_an_adopted_account_needs_the_typed_confirmation(world):
    proc = world.cli("apply")  # no terminal, no --yes
    assert proc.returncode == 1, proc.stderr[-3000:]
    message = " ".join(proc.stderr.split())
    assert "refusing to apply shop-legacy (import aws_iam_account_alias.alias: alias change acme-old-legacy -> acme-shop-legacy" in message
    assert "https://acme-old-legacy.signin.aws.amazon.com/console stops working" in message
    assert world.state("management") == []  # nothing applied
    # The plan says which existing objects it adopts, one line each.
    assert "shop-legacy: import aws_iam_user.maria: existing IAM user maria" in message
    assert "shop-legacy: import aws_iam_group.developers: existing IAM group developers" in message


# --------------------------------------------------------------------------- interrupted, then resumed


def test_an_apply_killed_half_way_converges_on_the_next_run(world):
    wanted = {"cloud+shop-dev@acme.example.com", "cloud+shop-qa@acme.example.com"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--config", str(world.config), "apply", "--yes"],
        cwd=world.workdir, env=world.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if wanted & set(world.accounts()):
                break  # the first account exists: pull the plug on awsenvs and terraform alike
            time.sleep(0.05)
        assert proc.poll() is None, "the apply finished before an account appeared"
        _kill_with_descendants(proc.pid)
    finally:
        if proc.poll() is None:
            _kill_with_descendants(proc.pid)
        proc.wait()
    assert wanted & set(world.accounts())

    again = world.cli("apply", "--yes")
    assert again.returncode == 0, again.stderr[-4000:]
    listed = [a["Email"] for a in _all_accounts(world)]
    assert sorted(listed) == sorted(set(listed)), listed  # exactly one account per email
    assert wanted | {LEGACY_EMAIL} <= set(listed)
    plan = world.cli("plan", "--all")
    assert plan.returncode == 0, plan.stderr[-4000:]


def _kill_with_descendants(pid: int) -> None:
    """SIGKILL a process and everything it started: terraform runs in process groups of its
    own (awsenvs hands it Ctrl-C itself), so killing awsenvs' group would leave it running."""
    def children(parent: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                found += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        return found

    doomed, todo = [], [pid]
    while todo:  # each one stopped before its children are read: none can start another meanwhile
        current = todo.pop()
        try:
            os.kill(current, signal.SIGSTOP)
        except ProcessLookupError:
            continue
        doomed.append(current)
        todo += children(current)
    for victim in doomed:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _all_accounts(world) -> list[dict]:
    with world.boto():
        return boto3.client("organizations").list_accounts()["Accounts"]


def test_trusted_services_policy_types_and_attachments_survive(world):
    with world.boto():
        org = boto3.client("organizations")
        services = {s["ServicePrincipal"] for s in org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]}
        root = org.list_roots()["Roots"][0]
        attached = {p["Name"] for p in org.list_policies_for_target(TargetId=root["Id"], Filter="SERVICE_CONTROL_POLICY")["Policies"]}
    assert services == {"sso.amazonaws.com"}
    types = {t["Type"]: t["Status"] for t in root["PolicyTypes"]}
    assert types.get("SERVICE_CONTROL_POLICY") == "ENABLED"
    assert "deny-bucket-deletion" in attached
    assert "TAG_POLICY" not in types  # disabled only because org.yaml lists it under disable_policy_types


def test_the_adopted_accounts_existing_objects_are_the_managed_ones(world):
    with world.boto():
        iam = _legacy_iam(world)
        maria = iam.get_user(UserName="maria")["User"]
        assert [u["UserName"] for u in iam.list_users()["Users"]] == sorted(["maria", "tom"])
        assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["developers"]
        assert iam.list_account_aliases()["AccountAliases"] == ["acme-shop-legacy"]
        assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 14
        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="maria")["Groups"]] == ["developers"]
    state = world.state("shop-legacy")
    assert "aws_iam_user.maria" in state and "aws_iam_group.developers" in state
    # the one maria had before: imported, not replaced
    state_doc = json.loads((world.workdir / "state" / "acme" / "shop-legacy.tfstate").read_text())
    user = next(r for r in state_doc["resources"] if r["type"] == "aws_iam_user" and r["name"] == "maria")
    assert user["instances"][0]["attributes"]["unique_id"] == maria["UserId"]


# --------------------------------------------------------------------------- people and environments leave


def test_removing_a_user_who_made_their_own_access_key(world):
    dev = world.accounts()["cloud+shop-dev@acme.example.com"]["Id"]
    from awsenvs import aws

    with world.boto():
        iam = aws.assume_role_session(dev, "OrganizationAccountAccessRole").client("iam")
        iam.create_access_key(UserName="tom")
    world.config.write_text(yaml.safe_dump(world.document(**{"products.shop.users.tom": None}), sort_keys=False))
    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    with world.boto():
        assert [u["UserName"] for u in iam.list_users()["Users"]] == ["maria"]


def test_retiring_an_environment_moves_its_account_aside_and_forgets_it(world):
    qa = world.accounts()["cloud+shop-qa@acme.example.com"]
    assert world.state("shop-qa")  # managed so far
    from awsenvs import aws

    with world.boto():  # a key maria made herself, and both users' console passwords (awsenvs made those)
        qa_iam = aws.assume_role_session(qa["Id"], "OrganizationAccountAccessRole").client("iam")
        made = qa_iam.create_access_key(UserName="maria")["AccessKey"]["AccessKeyId"]
        users = sorted(u["UserName"] for u in qa_iam.list_users()["Users"])
        assert "maria" in users and all(qa_iam.get_login_profile(UserName=u) for u in users)
    doc = world.document(**{"products.shop.users.tom": None, "products.shop.environments.qa": None})
    world.config.write_text(yaml.safe_dump(doc, sort_keys=False))

    plan = world.cli("plan")
    assert plan.returncode == 2, plan.stderr[-4000:]
    assert "retire" in plan.stderr and "shop-qa" in plan.stderr
    assert f"its {len(users)} IAM users lose their console passwords and their access keys are deactivated" in \
        " ".join(plan.stderr.split())
    refused = world.cli("apply")  # no terminal: retiring needs the typed confirmation
    assert refused.returncode == 1
    assert ("shop-qa (retire: removed from org.yaml; the account moves to the Suspended OU, where only the managing "
            "roles can act, its IAM users lose their console passwords and access keys") in \
        " ".join(refused.stderr.split())
    assert world.state("shop-qa")

    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    with world.boto():
        org = boto3.client("organizations")
        account = org.describe_account(AccountId=qa["Id"])["Account"]
        parent = org.list_parents(ChildId=qa["Id"])["Parents"][0]["Id"]
        ou = org.describe_organizational_unit(OrganizationalUnitId=parent)["OrganizationalUnit"]["Name"]
    assert account["Status"] == "ACTIVE"
    assert ou == "Suspended"
    assert "aws_organizations_account.shop_qa" not in world.state("management")
    assert world.state("shop-qa") == []
    again = world.cli("plan", "--all")
    assert again.returncode == 0, again.stderr[-4000:]

    with world.boto():
        # Its users, no longer managed, can neither sign in nor use a key (kept, deactivated).
        for user in users:
            with pytest.raises(qa_iam.exceptions.NoSuchEntityException):
                qa_iam.get_login_profile(UserName=user)
        assert [(k["AccessKeyId"], k["Status"]) for k in qa_iam.list_access_keys(UserName="maria")["AccessKeyMetadata"]] \
            == [(made, "Inactive")]
        # The Suspended OU denies everything but the managing roles.
        attached = org.list_policies_for_target(TargetId=parent, Filter="SERVICE_CONTROL_POLICY")["Policies"]
        [guard] = [p for p in attached if p["Name"] == "awsenvs-suspended"]
        content = json.loads(org.describe_policy(PolicyId=guard["Id"])["Policy"]["Content"])
    [statement] = content["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/OrganizationAccountAccessRole"]},
                                      "Null": {"aws:AssumedRoot": "true"}}  # central root sessions stay allowed

    # audit looks into parked accounts: nobody can sign in there, until someone gives a key back.
    rows = {(r["check"], r["account"]): r for r in json.loads(world.cli("audit", "--json").stdout)}
    label = f"parked {qa['Name']} ({qa['Id']})"
    assert rows[("parked account", label)]["status"] == "pass", rows
    with world.boto():
        qa_iam.update_access_key(UserName="maria", AccessKeyId=made, Status="Active")
    rows = {(r["check"], r["account"]): r for r in json.loads(world.cli("audit", "--json").stdout)}
    assert rows[("parked account", label)]["status"] == "fail"
    assert "maria" in rows[("parked account", label)]["finding"]


CONTACT = {"name": "Acme Security", "title": "Security team", "email": "security@acme.example.com", "phone": "+1 206 555 0100"}


def test_org_controls_data_perimeter_contacts_regions_and_closing_a_retired_account(world):
    dev = world.accounts()["cloud+shop-dev@acme.example.com"]
    organization = {**world.document()["organization"], "on_retire": "close", "contacts": {
        "security": CONTACT,
        "operations": {**CONTACT, "name": "Acme Ops", "email": "ops@acme.example.com"},
        "billing": {**CONTACT, "name": "Acme Finance", "email": "finance@acme.example.com", "phone": "(206) 555-0101"},
    }}
    legacy = {**world.document()["products"]["shop"]["environments"]["legacy"], "regions": ["af-south-1"],
              "contacts": {"security": {**CONTACT, "name": "Legacy on call", "email": "legacy-sec@acme.example.com"}}}
    doc = world.document(**{"organization": organization, "products.shop.users.tom": None,
                            "products.shop.environments.qa": None, "products.shop.environments.dev": None,
                            "products.shop.environments.legacy": legacy,
                            "guardrails": {"data_perimeter": {"trusted_accounts": ["111122223333"]}}})
    world.config.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert world.cli("validate").returncode == 0

    plan = world.cli("plan")
    said = " ".join(plan.stderr.split())
    assert plan.returncode == 2, plan.stderr[-4000:]
    assert "enabling af-south-1 in shop-legacy takes minutes to hours on AWS: apply waits for it" in said
    assert "then closed (CloseAccount allows 250 closures per 30 days in this organization; awsenvs closed 0" in said
    refused = world.cli("apply")  # closing is part of the retirement's typed confirmation
    assert refused.returncode == 1 and "then closed (CloseAccount allows 250 closures" in " ".join(refused.stderr.split())

    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"account {dev['Id']} is closed; AWS Support can reopen it until" in " ".join(proc.stderr.split())
    with world.boto():
        org = boto3.client("organizations")
        closed = org.describe_account(AccountId=dev["Id"])["Account"]
        parent = org.list_parents(ChildId=dev["Id"])["Parents"][0]["Id"]
        parked_in = org.describe_organizational_unit(OrganizationalUnitId=parent)["OrganizationalUnit"]["Name"]
        tags = {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId=dev["Id"])["Tags"]}
        shop_ou = next(ou["Id"] for ou in org.list_organizational_units_for_parent(
            ParentId=org.list_roots()["Roots"][0]["Id"])["OrganizationalUnits"] if ou["Name"] == "shop")
        rcps = org.list_policies_for_target(TargetId=shop_ou, Filter="RESOURCE_CONTROL_POLICY")["Policies"]
        [perimeter] = [p for p in rcps if p["Name"] == "awsenvs-shop-data-perimeter"]
        document = json.loads(org.describe_policy(PolicyId=perimeter["Id"])["Policy"]["Content"])
        root_types = org.list_roots()["Roots"][0]["PolicyTypes"]
        account = boto3.client("account")
        contacts = {kind: account.get_alternate_contact(AccountId=world.legacy_id, AlternateContactType=kind)["AlternateContact"]
                    for kind in ("SECURITY", "OPERATIONS", "BILLING")}
        region = account.get_region_opt_status(AccountId=world.legacy_id, RegionName="af-south-1")["RegionOptStatus"]
    # Parked first (the Suspended OU's deny-all SCP), then closed, and dated for the quota.
    assert (closed["Status"], parked_in) == ("SUSPENDED", "Suspended")
    assert tags.get("awsenvs-closed-at") == time.strftime("%Y-%m-%d")
    # The data perimeter: the organization's own principals (its real id), the trusted account, AWS services.
    [statement] = document["Statement"]
    assert statement["Effect"] == "Deny" and "s3:*" in statement["Action"] and "sts:AssumeRoleWithWebIdentity" not in statement["Action"]
    assert statement["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"] == world.organization_id
    assert statement["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalAccount"] == ["111122223333"]
    assert {"Type": "RESOURCE_CONTROL_POLICY", "Status": "ENABLED"} in root_types
    # The three contacts: the environment's security contact overrides the organization's.
    assert (contacts["SECURITY"]["Name"], contacts["SECURITY"]["EmailAddress"]) == ("Legacy on call", "legacy-sec@acme.example.com")
    assert (contacts["OPERATIONS"]["Name"], contacts["BILLING"]["PhoneNumber"]) == ("Acme Ops", "(206) 555-0101")
    assert region == "ENABLED"

    again = world.cli("plan", "--all")  # the second plan is clean
    assert again.returncode == 0, again.stderr[-4000:]
    rows = {(r["check"], r["account"]): r for r in json.loads(world.cli("audit", "--json").stdout)}
    [contacts_row] = [r for (check, _), r in rows.items() if check == "contacts"]
    assert contacts_row["status"] == "pass", contacts_row
    assert ("parked account", f"parked {dev['Name']} ({dev['Id']})") not in rows  # closed: nobody acts there any more
    assert not [r for (check, _), r in rows.items() if check == "drift" and "RCP" in r["finding"]], rows
    with world.boto():  # the perimeter detached behind awsenvs' back: audit names it
        org.detach_policy(PolicyId=perimeter["Id"], TargetId=shop_ou)
    with world.boto():  # changed behind awsenvs' back: audit names it
        account.put_alternate_contact(AccountId=world.legacy_id, AlternateContactType="BILLING", Name="Someone",
                                      Title="x", EmailAddress="someone@example.com", PhoneNumber="1")
        # `aws account disable-region` on a region org.yaml enables: audit names it too
        account.disable_region(AccountId=world.legacy_id, RegionName="af-south-1")
    audited = json.loads(world.cli("audit", "--json").stdout)
    rows = [r for r in audited if r["check"] == "contacts"]
    assert rows[0]["status"] == "fail" and "billing contact: expected Acme Finance" in rows[0]["finding"], rows
    assert "RCP awsenvs-shop-data-perimeter: expected attached to OU shop; live detached" in \
        [r["finding"] for r in audited if r["check"] == "drift"]
    [regions] = [r for r in audited if r["check"] == "regions"]
    assert (regions["account"], regions["status"], regions["finding"], regions["restore"]) == (
        f"shop-legacy ({world.legacy_id})", "fail", "region af-south-1: expected enabled; live DISABLED",
        "make plan, then make apply")
    replan = world.cli("plan")  # a plain plan finds all three (the management stack's drift), apply puts them back
    assert replan.returncode == 2, replan.stderr[-4000:]
    said = " ".join(replan.stderr.split())
    for finding in ("region af-south-1 of shop-legacy: expected enabled; live DISABLED",
                    "billing contact of shop-legacy: expected Acme Finance",
                    "RCP awsenvs-shop-data-perimeter: expected attached to OU shop; live detached"):
        assert f"management: drift: {finding}" in said, finding
    restored = world.cli("apply", "--yes")
    assert restored.returncode == 0, restored.stderr[-4000:]
    assert not [r for r in json.loads(world.cli("audit", "--json").stdout)
                if r["check"] in ("contacts", "regions") and r["status"] != "pass" or "RCP" in r["finding"]]


def test_a_closed_account_put_back_in_org_yaml_is_one_audit_row(world):
    """The account closed above, put back in org.yaml (by its id, or as the environment it was):
    audit says in one row that it is closed and what to do, and checks nothing else of it; plan
    refuses both in one line before planning (put back as it was, it would create an account
    with the closed one's root email, which AWS refuses at apply)."""
    dev = world.accounts()["cloud+shop-dev@acme.example.com"]
    doc = yaml.safe_load(world.config.read_text())
    for back in ({"account_id": dev["Id"], "email": dev["Email"], "account_name": dev["Name"], "mfa": "optional"},
                 {"mfa": "optional"}):
        doc["products"]["shop"]["environments"]["dev"] = back
        audited = json.loads(world.cli("audit", "--json", doc=doc).stdout)
        [row] = [r for r in audited if dev["Id"] in r["account"] + r["finding"] or r["account"].startswith("shop-dev")]
        assert (row["check"], row["account"], row["status"]) == ("account exists", f"shop-dev ({dev['Id']})", "fail")
        assert f"is closed ({dev.get('State') or dev['Status']}): awsenvs can neither manage nor check it; remove the " \
            "environment from org.yaml" in row["finding"], row
        assert row["finding"].startswith(f"account {dev['Id']} " if "account_id" in back else
                                         f"its root email {dev['Email']} belongs to account {dev['Id']} "), row
        planned = world.cli("plan", doc=doc)
        assert planned.returncode == 1, planned.stdout[-2000:] + planned.stderr[-2000:]
        [error] = [line for line in planned.stderr.splitlines() if line.startswith("error:")]
        assert (f"{dev['Id']} is closed" if "account_id" in back else
                f"its root email {dev['Email']} is that of account {dev['Id']}") in error, error


def test_state_and_its_backups_are_owner_only_after_many_applies(world):
    import stat

    state_dir = world.workdir / "state" / "acme"
    files = sorted(state_dir.iterdir())
    assert any(p.name.endswith(".tfstate.backup") for p in files), files
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o600 for p in files}
