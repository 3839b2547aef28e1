"""The exported Terraform modules, used the way a plain-Terraform team would.

`export-modules` writes one module per construct the stacks build (or says why one is left
out), each with a README, and `example/main.tf` wiring them for an Identity Center team.  A
tiny root module calls `organization` once and `account` and `iam` for two accounts.
Offline: `terraform init` + `validate` of both.  On emulators of their own (the
organizations they create must not meet the other end-to-end tests'): applied, then checked
with boto3, including that the exported modules write the same policies as the stacks'
constructs.  Exporting again keeps a user's edits unless --force.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import boto3
import pytest

ROOT_MODULE = """
provider "aws" {
  region = "us-east-1"
}

module "organization" {
  source               = "./modules/organization"
  trusted_services     = []
  policy_types         = ["SERVICE_CONTROL_POLICY"]
  organizational_units = ["shop"]
  accounts = {
    "shop-dev"  = { email = "shop-dev@acme.example.com", organizational_unit = "shop" }
    "shop-prod" = { email = "shop-prod@acme.example.com", organizational_unit = "shop", tags = { tier = "prod" } }
  }
}

provider "aws" {
  alias  = "dev"
  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::${module.organization.account_ids["shop-dev"]}:role/OrganizationAccountAccessRole"
  }
}

provider "aws" {
  alias  = "prod"
  region = "us-east-1"
  assume_role {
    role_arn = "arn:aws:iam::${module.organization.account_ids["shop-prod"]}:role/OrganizationAccountAccessRole"
  }
}

module "dev_account" {
  source    = "./modules/account"
  providers = { aws = aws.dev }
  alias     = "acme-shop-dev"
}

module "dev_iam" {
  source       = "./modules/iam"
  providers    = { aws = aws.dev }
  mfa_required = false
  groups       = { developers = { policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess"] } }
  users        = { maria = { groups = ["developers"] } }
}

module "prod_account" {
  source          = "./modules/account"
  providers       = { aws = aws.prod }
  alias           = "acme-shop-prod"
  password_policy = { minimum_length = 20, max_age_days = 0 }
}

module "prod_iam" {
  source    = "./modules/iam"
  providers = { aws = aws.prod }
  groups = {
    sysadmins  = { policies = ["arn:aws:iam::aws:policy/AdministratorAccess"] }
    developers = { policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }
  }
  users = {
    alice = { groups = ["sysadmins"] }
    bob   = { groups = ["developers"], console = false }
  }
}

output "prod_mfa_roles" {
  value = module.prod_iam.mfa_role_arns
}
"""


@pytest.fixture(scope="module")
def root_module(tmp_path_factory, exported_modules):
    """A root module beside a copy of the exported modules (`./modules/<name>`)."""
    workdir = tmp_path_factory.mktemp("root-module")
    shutil.copytree(exported_modules, workdir / "modules")
    (workdir / "main.tf").write_text(ROOT_MODULE)
    return workdir


def test_each_module_has_typed_inputs_outputs_and_a_readme(root_module):
    for name, inputs in {"organization": ["trusted_services", "policy_types", "organizational_units", "accounts",
                                          "centralized_root"],
                         "guardrails": ["organization_id", "centralized_root", "service_control_policies", "data_perimeters"],
                         "account_settings": ["accounts"],
                         "identity_center": ["groups", "users", "assignments"],
                         "account": ["alias", "password_policy"], "iam": ["groups", "users", "mfa_required"]}.items():
        main = (root_module / "modules" / name / "main.tf").read_text()
        readme = (root_module / "modules" / name / "README.md").read_text()
        assert "provider \"aws\"" not in main and "backend" not in main  # the caller's provider, no state
        for variable in inputs:
            assert f'variable "{variable}"' in main and f"`{variable}`" in readme
        assert "output \"" in main and "## Outputs" in readme
        # What it is for, and that the copy is the user's to change (re-exporting refuses to lose an edit).
        assert "Call it once" in readme and "do not edit" not in readme.lower() and "This copy is yours" in readme


def test_every_construct_the_stacks_build_is_exported_or_said_left_out(exported_modules):
    import importlib
    import inspect

    from constructs import Construct

    from awsenvs.export import LEFT_OUT, MODULES, RUNNER_STEPS
    from conftest import ROOT

    constructs = set()
    for path in (ROOT / "awsenvs" / "modules").glob("*.py"):
        module = importlib.import_module(f"awsenvs.modules.{path.stem}")
        constructs |= {f"{path.stem}.{name}" for name, cls in inspect.getmembers(module, inspect.isclass)
                       if issubclass(cls, Construct) and cls.__module__ == module.__name__
                       and not name.endswith("Module")}  # the exported modules' twins
    assert constructs == set(MODULES.values()) | set(LEFT_OUT), "a construct neither exported nor in LEFT_OUT"
    assert {p.name for p in exported_modules.iterdir() if p.is_dir()} == {*MODULES, "example"}
    # What is left out is said where a user reads: the export's README and docs/reuse.md.
    readme = (exported_modules / "README.md").read_text()
    reuse = " ".join((ROOT / "docs" / "reuse.md").read_text().split())
    for name in (*MODULES, *LEFT_OUT):
        assert f"`{name}`" in readme, name
        assert f"`{name.split('.')[-1]}`" in reuse, name
    assert all(f"- {step}." in readme for step in RUNNER_STEPS)
    assert "retiring an environment" in readme and "retiring an environment" in reuse


def test_the_example_wiring_every_module_inits_and_validates_offline(exported_modules, terraform, tmp_path):
    from awsenvs.stacks import PROVIDER_CONSTRAINT

    shutil.copytree(exported_modules, tmp_path / "exported")
    example = tmp_path / "exported" / "example"
    text = (example / "main.tf").read_text()
    assert f'version = "{PROVIDER_CONSTRAINT}"' in text
    for name in ("organization", "guardrails", "account_settings", "identity_center", "account"):
        assert f'source = "../{name}"' in " ".join(text.split()), name
    terraform.init(example)
    result = json.loads(terraform.run(["validate", "-json"], cwd=example, check=False).stdout)
    assert result["valid"], result["diagnostics"]


def test_exporting_again_keeps_the_users_edits_unless_forced(exported_modules, provider_mirror, tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    folder = tmp_path / "modules"
    shutil.copytree(exported_modules, folder)

    def export(*args):
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "export-modules", *args, str(folder)], cwd=tmp_path,
                              env=dict(os.environ, TF_PROVIDER_MIRROR=str(provider_mirror)), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)

    unchanged = export()  # nothing edited: replaced as it was
    assert unchanged.returncode == 0, unchanged.stderr
    manifest = (folder / ".awsenvs-export.json").read_text()
    edited = folder / "iam" / "main.tf"
    edited.write_text(edited.read_text() + "\n# our own change\n")
    (folder / "guardrails" / "README.md").unlink()  # a file the user removed is simply written again
    refused = export()
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip() == (f"error: {edited}: changed since export-modules wrote it, or not written by it: "
                                      "export into another folder and merge, or run again with --force to overwrite")
    assert "# our own change" in edited.read_text() and not (folder / "guardrails" / "README.md").exists()
    assert (folder / ".awsenvs-export.json").read_text() == manifest  # nothing written
    forced = export("--force")
    assert forced.returncode == 0, forced.stderr
    assert "# our own change" not in edited.read_text() and (folder / "guardrails" / "README.md").is_file()


def test_a_folder_that_cannot_be_written_is_one_line_and_exit_1(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "export-modules", "/proc/awsenvs-nope/modules"],
                          cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1 and proc.stderr.startswith("error: /proc/awsenvs-nope/modules: ")
    assert "Traceback" not in proc.stderr


def test_a_root_module_for_two_accounts_inits_and_validates_offline(root_module, terraform):
    terraform.init(root_module)
    result = json.loads(terraform.run(["validate", "-json"], cwd=root_module, check=False).stdout)
    assert result["valid"], result["diagnostics"]


def test_a_bad_alias_is_refused_by_the_modules_own_validation(root_module, terraform, tmp_path):
    bad = root_module / "bad"
    bad.mkdir(exist_ok=True)
    (bad / "main.tf").write_text('module "a" {\n  source = "../modules/account"\n  alias = "Not--valid"\n}\n')
    terraform.init(bad)
    proc = terraform.run(["plan", "-input=false", "-refresh=false", "-no-color"], cwd=bad, check=False)
    assert proc.returncode == 1 and "lower-case letters, digits and single hyphens" in proc.stderr


@pytest.mark.e2e
def test_the_modules_apply_on_the_emulator_like_the_stacks(root_module, provider_mirror, tmp_path_factory):
    from awsenvs import aws
    from awsenvs.modules.iam import require_mfa_policy
    from awsenvs.sandbox import environ

    with _applied_on_emulator(root_module, provider_mirror, tmp_path_factory.mktemp("modules-home")) as env:
        with environ(env):
            organizations = boto3.client("organizations")
            root = organizations.list_roots()["Roots"][0]["Id"]
            [ou] = organizations.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
            accounts = {a["Name"]: a["Id"] for a in organizations.list_accounts_for_parent(ParentId=ou["Id"])["Accounts"]}
            assert ou["Name"] == "shop" and set(accounts) == {"shop-dev", "shop-prod"}

            dev, prod = (aws.assume_role_session(accounts[name], "OrganizationAccountAccessRole").client("iam")
                         for name in ("shop-dev", "shop-prod"))
            assert dev.list_account_aliases()["AccountAliases"] == ["acme-shop-dev"]
            assert [g["GroupName"] for g in dev.list_groups()["Groups"]] == ["developers"]  # no MFA group
            assert not [r for r in dev.list_roles()["Roles"] if r["RoleName"].endswith("-mfa")]

            policy = prod.get_account_password_policy()["PasswordPolicy"]
            assert policy["MinimumPasswordLength"] == 20 and not policy.get("ExpirePasswords")
            assert {g["GroupName"] for g in prod.list_groups_for_user(UserName="alice")["Groups"]} == {"sysadmins", "awsenvs-mfa-required"}
            prod.get_login_profile(UserName="alice")
            with pytest.raises(prod.exceptions.NoSuchEntityException):
                prod.get_login_profile(UserName="bob")
            for group, member in (("sysadmins", "alice"), ("developers", "bob")):
                trust = prod.get_role(RoleName=f"{group}-mfa")["Role"]["AssumeRolePolicyDocument"]
                assert trust["Statement"][0]["Principal"]["AWS"] in ([_arn(accounts["shop-prod"], member)], _arn(accounts["shop-prod"], member))
                assert trust["Statement"][0]["Condition"]["StringEquals"] == {"sts:RoleSessionName": "${aws:username}"}

            # The module's MFA policy is the stacks' policy for the same account and groups.
            arn = f"arn:aws:iam::{accounts['shop-prod']}:policy/awsenvs-require-mfa"
            version = prod.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            live = prod.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
            account = accounts["shop-prod"]
            expected = require_mfa_policy(account, [f"arn:aws:iam::{account}:role/{g}-mfa" for g in ("developers", "sysadmins")])
            assert _unescaped(live) == _unescaped(json.loads(json.dumps(expected).replace("$${", "${")))


def _arn(account_id: str, user: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{user}"


def _unescaped(document):
    """The policy as IAM returns it (a JSON string or already decoded), lists sorted for comparison."""
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    return json.loads(json.dumps(document, sort_keys=True))


# The organization the example describes, as org.yaml: what the stacks would build for it.
EXAMPLE_AS_ORG_YAML = """
organization: {name: example, email: aws@example.com, region: eu-west-1, access: identity_center}
guardrails: {allowed_regions: [eu-west-1, us-east-1], data_perimeter: true}
groups:
  sysadmins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess]}
  developers: {policies: [arn:aws:iam::aws:policy/PowerUserAccess], session_hours: 8}
products:
  shop:
    users:
      maria: {groups: [sysadmins], email: maria@example.com, name: Maria Lopez}
      ben: {groups: [developers], email: ben@example.com, name: Ben Okafor}
    environments:
      dev: {mfa: optional}
      prod: {mfa: required, users: [maria]}
"""


@pytest.mark.e2e
def test_the_example_applies_on_the_emulator_as_the_stacks_would(exported_modules, provider_mirror, tmp_path_factory):
    from awsenvs.config import parse
    from awsenvs.modules.guardrail_policies import data_perimeter_policy, guardrails_policy
    from awsenvs.sandbox import environ

    workdir = tmp_path_factory.mktemp("example")
    shutil.copytree(exported_modules, workdir / "exported")
    example = workdir / "exported" / "example"
    org = parse(EXAMPLE_AS_ORG_YAML)
    [shop] = org.products
    with _applied_on_emulator(example, provider_mirror, tmp_path_factory.mktemp("example-home")) as env:
        with environ(env):
            organizations = boto3.client("organizations")
            organization_id = organizations.describe_organization()["Organization"]["Id"]
            root = organizations.list_roots()["Roots"][0]["Id"]
            [ou] = organizations.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
            accounts = {a["Name"]: a["Id"] for a in organizations.list_accounts_for_parent(ParentId=ou["Id"])["Accounts"]}
            assert set(accounts) == {env.stack for env in org.environments}  # the example names accounts by stack
            assert "iam.amazonaws.com" in {s["ServicePrincipal"] for s in
                                           organizations.list_aws_service_access_for_organization()["EnabledServicePrincipals"]}

            # The module's SCP and RCP say what the stacks' say for the same org.yaml.
            def attached(kind):
                [policy] = [p for p in organizations.list_policies_for_target(TargetId=ou["Id"], Filter=kind)["Policies"]
                            if not p["AwsManaged"]]
                return policy["Name"], json.loads(organizations.describe_policy(PolicyId=policy["Id"])["Policy"]["Content"])

            assert attached("SERVICE_CONTROL_POLICY") == (shop.guardrails_policy_name, guardrails_policy(org, shop))
            assert attached("RESOURCE_CONTROL_POLICY") == (shop.data_perimeter_policy_name,
                                                           data_perimeter_policy(organization_id, shop.data_perimeter))

            # Identity Center: the permission sets and who has which in each account, as org.yaml's assignments.
            # In the example's region (its provider's), which is org.yaml's.
            sso_admin, store = (boto3.client(service, region_name=org.region) for service in ("sso-admin", "identitystore"))
            [instance] = sso_admin.list_instances()["Instances"]
            arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
            sets = {sso_admin.describe_permission_set(InstanceArn=arn, PermissionSetArn=p)["PermissionSet"]["Name"]: p
                    for p in sso_admin.list_permission_sets(InstanceArn=arn)["PermissionSets"]}
            assert {name: sso_admin.describe_permission_set(InstanceArn=arn, PermissionSetArn=p)["PermissionSet"]["SessionDuration"]
                    for name, p in sets.items()} == {g.permission_set_name: g.session_duration for g in org.groups}
            people = {u["UserId"]: u for u in store.list_users(IdentityStoreId=store_id)["Users"]}
            assert {u["UserName"]: (u["Name"]["GivenName"], u["Name"]["FamilyName"]) for u in people.values()} == \
                {p.name: p.given_and_family_name for p in org.people}
            live = {(env.stack, people[a["PrincipalId"]]["UserName"], name)
                    for env in org.environments for name, p in sets.items()
                    for a in sso_admin.list_account_assignments(InstanceArn=arn, AccountId=accounts[env.stack],
                                                                 PermissionSetArn=p)["AccountAssignments"]}
            assert live == {(a.environment.stack, a.user.name, a.group.name) for a in org.assignments}

            # account_settings: each account's security contact, prod's opt-in region.
            account = boto3.client("account")
            for name, account_id in accounts.items():
                contact = account.get_alternate_contact(AccountId=account_id, AlternateContactType="SECURITY")["AlternateContact"]
                assert contact["EmailAddress"] == "security@example.com", name
            status = account.get_region_opt_status(AccountId=accounts["shop-prod"], RegionName="eu-south-2")["RegionOptStatus"]
            assert status in ("ENABLED", "ENABLING")


def test_the_guardrails_module_writes_the_stacks_policies_for_every_variant(exported_modules, terraform, tmp_path):
    """Offline (a plan with placeholder credentials: the module reads nothing from AWS): each
    SCP and RCP the module plans equals what guardrail_policies writes for the stacks, with and
    without MFA roles, regions, the root user guardrail, centralized root access and trusted accounts."""
    import dataclasses

    from awsenvs.config import DataPerimeter, load
    from awsenvs.modules.guardrail_policies import data_perimeter_policy, guardrails_policy
    from conftest import TWO_PRODUCTS

    org = load(TWO_PRODUCTS)
    expected, calls, variants = {}, [], []
    for centralized in (True, False):
        # The second variant also as an Identity Center organization: protect_baseline without MFA roles.
        variant = dataclasses.replace(org, centralized_root=centralized, access="iam_users" if centralized else "identity_center")
        policies = {}
        for product in variant.products:
            name = f"{product.guardrails_policy_name}-{centralized}"
            g = product.guardrails
            mfa_roles = sorted({group.admin_role_name for env in product.environments if env.mfa_required
                                for group in env.groups}) if not variant.identity_center else []
            policies[name] = {"targets": {"ou": "ou-abcd-12345678"}, "deny_leave_organization": g.deny_leave_organization,
                              "protect_baseline": g.protect_baseline, "deny_root_user": g.deny_root_user,
                              "allowed_regions": list(g.allowed_regions), "managing_roles": list(product.managing_roles),
                              "mfa_roles": mfa_roles}
            expected[name] = guardrails_policy(variant, product)
            variants.append(policies[name])
        perimeters = {}
        if centralized:
            for trusted in ((), ("111122223333", "444455556666")):
                perimeters[f"perimeter-{len(trusted)}"] = {"targets": {"ou": "ou-abcd-12345678"}, "trusted_accounts": list(trusted)}
                expected[f"perimeter-{len(trusted)}"] = data_perimeter_policy("o-abcdef1234", DataPerimeter(trusted))
        calls.append(f'module "guardrails_{str(centralized).lower()}" {{\n  source = "../modules/guardrails"\n'
                     f'  organization_id = "o-abcdef1234"\n  centralized_root = {str(centralized).lower()}\n'
                     f"  service_control_policies = jsondecode({json.dumps(json.dumps(policies))})\n"
                     f"  data_perimeters = jsondecode({json.dumps(json.dumps(perimeters))})\n}}\n")
    shutil.copytree(exported_modules, tmp_path / "modules")
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n  access_key = "placeholder"\n  secret_key = "placeholder"\n'
        "  skip_credentials_validation = true\n  skip_requesting_account_id = true\n  skip_metadata_api_check = true\n}\n"
        + "".join(calls))
    terraform.init(root)
    terraform.run(["plan", "-input=false", "-refresh=false", "-out=plan"], cwd=root)
    plan = json.loads(terraform.run(["show", "-json", "plan"], cwd=root).stdout)
    planned = {change["change"]["after"]["name"]: json.loads(change["change"]["after"]["content"])
               for change in plan["resource_changes"] if change["type"] == "aws_organizations_policy"}
    assert planned == expected
    assert {bool(p["mfa_roles"]) for p in variants} == {True, False}  # both forms of protect_baseline were planned
    assert {bool(p["allowed_regions"]) for p in variants} == {True, False} and {p["deny_root_user"] for p in variants} == {True, False}


@contextlib.contextmanager
def _applied_on_emulator(folder: Path, provider_mirror: Path, home: Path):
    """A root module applied on an emulator of its own (a fake HOME), its second plan finding
    nothing to do; yields the environment that reaches that emulator.  Member accounts'
    providers need their ids: the organization goes first, as with the stacks."""
    from awsenvs.sandbox import Emulator
    from awsenvs.terraform import Terraform

    (home / ".aws").mkdir()
    with Emulator() as emulator:
        env = emulator.environment(home)
        env.update(TF_PROVIDER_MIRROR=str(provider_mirror))
        terraform = Terraform(env=env)
        terraform.init(folder)
        terraform.run(["apply", "-auto-approve", "-input=false", "-target=module.organization"], cwd=folder)
        terraform.run(["apply", "-auto-approve", "-input=false"], cwd=folder)
        again = terraform.run(["plan", "-detailed-exitcode", "-input=false", "-no-color"], cwd=folder, check=False)
        assert again.returncode == 0, again.stdout + again.stderr
        yield env
