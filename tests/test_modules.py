"""The exported Terraform modules, used the way a plain-Terraform team would.

`export-modules` writes them; a tiny root module calls `organization` once and `account`
and `iam` for two accounts.  Offline: `terraform init` + `validate`.  On an emulator of
its own (the organization it creates must not meet the other end-to-end tests'): applied,
then checked with boto3, including that the exported IAM module writes the same policies
as the stacks' constructs.
"""

from __future__ import annotations

import json
import shutil

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
    for name, inputs in {"organization": ["trusted_services", "policy_types", "organizational_units", "accounts"],
                         "account": ["alias", "password_policy"], "iam": ["groups", "users", "mfa_required"]}.items():
        main = (root_module / "modules" / name / "main.tf").read_text()
        readme = (root_module / "modules" / name / "README.md").read_text()
        assert "provider \"aws\"" not in main and "backend" not in main  # the caller's provider, no state
        for variable in inputs:
            assert f'variable "{variable}"' in main and f"`{variable}`" in readme
        assert "output \"" in main and "## Outputs" in readme


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
    from awsenvs.sandbox import Emulator, environ
    from awsenvs.terraform import Terraform

    home = tmp_path_factory.mktemp("modules-home")
    (home / ".aws").mkdir()
    with Emulator() as emulator:
        env = emulator.environment(home)
        env.update(TF_PROVIDER_MIRROR=str(provider_mirror))
        terraform = Terraform(env=env)
        terraform.init(root_module)
        # Member accounts' providers need their ids: the organization goes first, as with the stacks.
        terraform.run(["apply", "-auto-approve", "-input=false", "-target=module.organization"], cwd=root_module)
        terraform.run(["apply", "-auto-approve", "-input=false"], cwd=root_module)
        again = terraform.run(["plan", "-detailed-exitcode", "-input=false", "-no-color"], cwd=root_module, check=False)
        assert again.returncode == 0, again.stdout + again.stderr

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
