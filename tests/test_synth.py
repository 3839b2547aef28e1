"""The synthesized Terraform, per stack; and terraform init + validate offline in every stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from awsenvs.synth import synthesize
from conftest import IDENTITY_CENTER, ROOT, TWO_PRODUCTS


@pytest.mark.parametrize("name, stacks", [
    ("example", ["management", "autochart-legacy", "autochart-dev", "autochart-prod"]),
    ("two", ["management", "shop-dev", "shop-staging", "shop-prod", "billing-prod", "billing-legacy"]),
    ("identity_center", ["management", "shop-dev", "shop-prod", "billing-prod"]),
])
def test_one_stack_per_account_plus_management(synthesized, name, stacks):
    found = sorted(p.name for p in (synthesized[name].outdir / "stacks").iterdir())
    assert found == sorted(stacks)


def test_management_stack(synthesized):
    s = synthesized["two"]
    mgmt = s.stacks["management"]
    org = s.resources("management", "aws_organizations_organization")["organization"]
    assert org["feature_set"] == "ALL" and org["lifecycle"]["prevent_destroy"] is True
    # Both lists set explicitly: unset, the provider would disable whatever the live org has.
    assert org["aws_service_access_principals"] == ["iam.amazonaws.com"]  # centralized_root (default)
    assert org["enabled_policy_types"] == ["SERVICE_CONTROL_POLICY"]
    ous = s.resources("management", "aws_organizations_organizational_unit")
    assert sorted(ou["name"] for ou in ous.values()) == ["billing", "shop"]
    accounts = s.resources("management", "aws_organizations_account")
    assert sorted(accounts) == ["billing_legacy", "billing_prod", "shop_dev", "shop_prod", "shop_staging"]
    dev = accounts["shop_dev"]
    assert dev["name"] == "shop_dev" and dev["email"] == "cloud+shop-dev@acme.example.com"
    assert dev["close_on_deletion"] is False
    assert dev["lifecycle"]["prevent_destroy"] is True
    assert set(dev["lifecycle"]["ignore_changes"]) == {"role_name", "iam_user_access_to_billing"}
    assert dev["tags"] == {"product": "shop", "environment": "dev", "managed-by": "awsenvs"}
    assert dev["parent_id"] == "${aws_organizations_organizational_unit.shop.id}"
    assert accounts["billing_legacy"]["parent_id"] == "${aws_organizations_organizational_unit.billing.id}"
    assert all(a["lifecycle"]["prevent_destroy"] for a in accounts.values())
    # Adopted accounts are imported, never created.
    assert mgmt["import"] == [{"id": "210987654321", "to": "aws_organizations_account.billing_legacy"}]
    assert "role_name" not in accounts["billing_legacy"]
    assert accounts["billing_legacy"]["email"] == "old-billing@acme.example.com"
    outputs = mgmt["output"]["account_ids"]["value"]
    assert outputs["shop-prod"] == "${aws_organizations_account.shop_prod.id}"
    assert sorted(outputs) == sorted(s.org.stacks[1:])
    assert mgmt["terraform"]["required_providers"]["aws"]["version"] == "~> 5.100.0"
    assert mgmt["terraform"]["required_version"] == ">= 1.7"  # import blocks, removed blocks
    assert "allowed_account_ids" not in mgmt["provider"]["aws"][0]  # no management_account_id set


def test_management_provider_pins_the_management_account(tmp_path):
    text = TWO_PRODUCTS.read_text().replace("region: eu-central-1", "region: eu-central-1\n  management_account_id: '111111111111'")
    from awsenvs.config import parse
    from awsenvs.stacks import ManagementStack, SynthOptions
    from cdktn import Testing

    org = parse(text, tmp_path / "org.yaml")
    stack = ManagementStack(Testing.app(), org, SynthOptions(outdir=tmp_path))
    provider = json.loads(Testing.synth(stack))["provider"]["aws"][0]
    assert provider["allowed_account_ids"] == ["111111111111"]


def test_account_stack_provider_assumes_role_into_its_own_account(synthesized):
    s = synthesized["two"]
    for env in s.org.environments:
        stack = s.stacks[env.stack]
        provider = stack["provider"]["aws"][0]
        assert provider["allowed_account_ids"] == ["${var.account_id}"]
        assert provider["assume_role"][0]["role_arn"] == "arn:aws:iam::${var.account_id}:role/OrganizationAccountAccessRole"
        assert provider["region"] == "eu-central-1"
        assert stack["terraform"]["required_providers"]["aws"]["version"] == "~> 5.100.0"
        assert stack["terraform"]["required_version"] == ">= 1.5"  # import blocks (reconcile)
        variable = stack["variable"]["account_id"]
        # Only adopted accounts know it up front; the others default to "" and the first
        # validation explains (a run before the account exists stops there).
        assert variable["default"] == (env.account_id or "")
        assert variable["validation"][0]["condition"] == '${var.account_id != ""}'
        assert env.account_name in variable["validation"][0]["error_message"]
    assert s.stacks["billing-legacy"]["variable"]["account_id"]["default"] == "210987654321"


def test_account_baseline(synthesized):
    s = synthesized["two"]
    alias = s.resources("shop-prod", "aws_iam_account_alias")["alias"]
    assert alias["account_alias"] == "acme-shop-production"
    policy = s.resources("shop-prod", "aws_iam_account_password_policy")["password_policy"]
    assert policy["minimum_password_length"] == 20 and policy["max_password_age"] == 60
    assert policy["password_reuse_prevention"] == 24
    for key in ("require_lowercase_characters", "require_uppercase_characters", "require_numbers", "require_symbols"):
        assert policy[key] is True
    assert s.resources("shop-dev", "aws_iam_account_password_policy")["password_policy"]["minimum_password_length"] == 16


def test_iam_users_groups_and_logins(synthesized):
    s = synthesized["two"]
    assert sorted(s.resources("shop-dev", "aws_iam_user")) == ["alice", "bob"]
    # Users create their own keys and MFA devices; DeleteUser fails on them without this.
    assert all(u["force_destroy"] is True for u in s.resources("shop-dev", "aws_iam_user").values())
    assert sorted(s.resources("shop-staging", "aws_iam_user")) == ["alice"]
    assert sorted(s.resources("shop-staging", "aws_iam_group")) == ["sysadmins"]
    attachments = s.resources("shop-dev", "aws_iam_group_policy_attachment")
    assert {(a["group"], a["policy_arn"]) for a in attachments.values()} == {
        ("${aws_iam_group.sysadmins.name}", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ("${aws_iam_group.developers.name}", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        ("${aws_iam_group.developers.name}", "arn:aws:iam::aws:policy/IAMUserChangePassword"),
    }
    membership = s.resources("billing-prod", "aws_iam_user_group_membership")["carol"]
    assert membership["groups"] == ["${aws_iam_group.sysadmins.name}", "${aws_iam_group.developers.name}",
                                    "${aws_iam_group.awsenvs_mfa_required.name}"]
    login = s.resources("shop-dev", "aws_iam_user_login_profile")["bob"]
    assert login["password_reset_required"] is True
    assert set(login["lifecycle"]["ignore_changes"]) >= {"password_length", "password_reset_required", "pgp_key"}
    for stack in s.org.stacks[1:]:
        assert "aws_iam_access_key" not in s.stacks[stack].get("resource", {})


def test_mfa_policy_and_roles_only_where_required(synthesized):
    s = synthesized["two"]
    for env in s.org.environments:
        resources = s.stacks[env.stack]["resource"]
        assert ("aws_iam_policy" in resources) == env.mfa_required, env.stack
        assert ("aws_iam_role" in resources) == env.mfa_required, env.stack
        assert "aws_iam_user_policy_attachment" not in resources  # CKV_AWS_40: groups, not users
    policy = json.loads(s.resources("billing-prod", "aws_iam_policy")["require_mfa"]["policy"])
    deny = next(st for st in policy["Statement"] if st["Sid"] == "DenyAllExceptListedIfNoMFA")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    for action in ("iam:ChangePassword", "iam:GetAccountPasswordPolicy", "iam:EnableMFADevice",
                   "iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"):
        assert action in deny["NotAction"]
    assert "iam:CreateAccessKey" not in deny["NotAction"]
    delete = next(st for st in policy["Statement"] if st["Sid"] == "AllowDeleteOwnVirtualMFADevice")
    assert delete["Resource"] == ["arn:aws:iam::${var.account_id}:mfa/$${aws:username}",
                                  "arn:aws:iam::${var.account_id}:mfa/$${aws:username}-*"]
    roles = s.resources("billing-prod", "aws_iam_role")
    assert sorted(r["name"] for r in roles.values()) == ["developers-mfa", "sysadmins-mfa"]
    assert all(r["max_session_duration"] == 14400 for r in roles.values())


def test_mfa_policy_reaches_every_user_through_one_group(synthesized):
    s = synthesized["two"]
    attachment = s.resources("shop-prod", "aws_iam_group_policy_attachment")["require_mfa"]
    assert attachment == {**attachment, "group": "${aws_iam_group.awsenvs_mfa_required.name}",
                          "policy_arn": "${aws_iam_policy.require_mfa.arn}"}
    memberships = s.resources("shop-prod", "aws_iam_user_group_membership")
    assert sorted(memberships) == ["alice", "bob"]
    for membership in memberships.values():
        assert "${aws_iam_group.awsenvs_mfa_required.name}" in membership["groups"]
    assert "awsenvs_mfa_required" not in s.resources("shop-dev", "aws_iam_group")  # mfa: optional


def test_each_mfa_role_trusts_only_its_groups_members(synthesized):
    # shop-prod: alice is a sysadmin, bob a developer: neither may assume the other's role.
    s = synthesized["two"]
    roles = s.resources("shop-prod", "aws_iam_role")
    expected = {"sysadmins_mfa": ["${aws_iam_user.alice.arn}"], "developers_mfa": ["${aws_iam_user.bob.arn}"]}
    for role, members in expected.items():
        trust = json.loads(roles[role]["assume_role_policy"])
        [statement] = trust["Statement"]
        assert statement["Principal"] == {"AWS": members}, role
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"] == {
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
            "StringEquals": {"sts:RoleSessionName": "$${aws:username}"},
        }
    # carol is in both groups of billing-prod: both roles name her, and only her.
    for role in s.resources("billing-prod", "aws_iam_role").values():
        assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"AWS": ["${aws_iam_user.carol.arn}"]}


def test_identity_center_lives_in_the_management_stack(synthesized):
    s = synthesized["identity_center"]
    for env in s.org.environments:  # member accounts keep only their baseline
        assert set(s.stacks[env.stack]["resource"]) == {"aws_iam_account_alias", "aws_iam_account_password_policy"}
    users = s.resources("management", "aws_identitystore_user")
    assert {u["user_name"]: (u["display_name"], u["emails"]["value"]) for u in users.values()} == {
        "maria": ("Maria Lopez", "maria@acme.example.com"), "tom": ("Tom Berg", "tom@acme.example.com")}
    permission_sets = s.resources("management", "aws_ssoadmin_permission_set")
    assert {p["name"]: p["session_duration"] for p in permission_sets.values()} == {"sysadmins": "PT1H", "developers": "PT4H"}
    attached = {(a["permission_set_arn"], a["managed_policy_arn"]) for a in s.resources("management", "aws_ssoadmin_managed_policy_attachment").values()}
    assert attached == {("${aws_ssoadmin_permission_set.sysadmins.arn}", "arn:aws:iam::aws:policy/AdministratorAccess"),
                        ("${aws_ssoadmin_permission_set.developers.arn}", "arn:aws:iam::aws:policy/PowerUserAccess")}
    members = {(m["group_id"], m["member_id"]) for m in s.resources("management", "aws_identitystore_group_membership").values()}
    assert ("${aws_identitystore_group.sysadmins.group_id}", "${aws_identitystore_user.maria.user_id}") in members
    assert ("${aws_identitystore_group.sysadmins.group_id}", "${aws_identitystore_user.tom.user_id}") not in members

    # Users, not groups, are assigned: prod's user list (maria only) holds although tom is a developer too.
    assignments = s.resources("management", "aws_ssoadmin_account_assignment").values()
    assert {a["principal_type"] for a in assignments} == {"USER"}
    prod = {(a["principal_id"], a["permission_set_arn"]) for a in assignments
            if a["target_id"] == "${aws_organizations_account.shop_prod.id}"}
    assert prod == {("${aws_identitystore_user.maria.user_id}", "${aws_ssoadmin_permission_set.developers.arn}"),
                    ("${aws_identitystore_user.maria.user_id}", "${aws_ssoadmin_permission_set.sysadmins.arn}")}
    organization = next(iter(s.resources("management", "aws_organizations_organization").values()))
    assert "sso.amazonaws.com" in organization["aws_service_access_principals"]


def test_local_backend_keeps_state_out_of_cdktf_out(synthesized):
    s = synthesized["example"]
    for stack in s.org.stacks:
        path = s.stacks[stack]["terraform"]["backend"]["local"]["path"]
        resolved = (s.outdir / "stacks" / stack / path).resolve()
        assert resolved == (s.outdir / "state" / f"{stack}.tfstate").resolve()


def test_terraform_init_and_validate_offline_in_every_stack(synthesized, terraform):
    for name in ("example", "two", "identity_center"):
        for stack_dir in sorted((synthesized[name].outdir / "stacks").iterdir()):
            terraform.init(stack_dir)
            errors = [d for d in terraform.validate(stack_dir) if d.severity == "error"]
            assert errors == [], f"{name}/{stack_dir.name}: {errors}"


def test_unchanged_org_reuses_the_previous_synth(synthesized):
    s = synthesized["example"]
    assert synthesize(s.org, s.outdir, state_dir=s.outdir / "state").rebuilt == ()


def test_cli_plain_run_synthesizes_and_hcl_is_formatted(tmp_path, terraform):
    env = dict(terraform.env)
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(TWO_PRODUCTS)],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cdktf.out/stacks/shop-prod/cdk.tf.json").exists()
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(TWO_PRODUCTS), "synth", "--hcl"],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    stack = tmp_path / "cdktf.out/stacks/shop-prod"
    assert (stack / "cdk.tf").exists() and not (stack / "cdk.tf.json").exists()
    check = terraform.run(["fmt", "-check", "-list=true", "."], cwd=stack, check=False)
    assert check.returncode == 0, check.stdout
    assert 'resource "aws_iam_account_alias" "alias"' in (stack / "cdk.tf").read_text()
    terraform.init(stack)
    assert [d for d in terraform.validate(stack) if d.severity == "error"] == []
    # Identity Center's management stack: a data source with a lifecycle postcondition block.
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(IDENTITY_CENTER), "synth", "--hcl"],
                          cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    management = tmp_path / "cdktf.out/stacks/management"
    assert "postcondition {" in (management / "cdk.tf").read_text()
    terraform.init(management)
    assert [d for d in terraform.validate(management) if d.severity == "error"] == []


@pytest.mark.parametrize("state, expected", [
    ("state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n",
     {"s3": {"bucket": "acme-tfstate", "region": "eu-west-1", "key": "awsenvs/shop-dev.tfstate", "use_lockfile": True}}),
    ("state:\n  backend: cloud\n  cloud: {organization: acme, project: shop, workspace_prefix: acme-}\n",
     None),
])
def test_remote_state_backends(tmp_path, state, expected):
    from cdktn import Testing

    from awsenvs.config import parse
    from awsenvs.stacks import AccountStack, SynthOptions

    # (the cloud backend needs management_account_id: its runs check their account against it)
    text = TWO_PRODUCTS.read_text().replace("  region: eu-central-1\n", '  region: eu-central-1\n  management_account_id: "111111111111"\n', 1)
    org = parse(text + state, tmp_path / "org.yaml")
    env = org.environment_by_stack("shop-dev")
    terraform = json.loads(Testing.synth(AccountStack(Testing.app(), org, env, SynthOptions(outdir=tmp_path))))["terraform"]
    if expected:
        assert terraform["backend"] == expected
    else:
        assert "backend" not in terraform
        assert terraform["cloud"] == {"organization": "acme", "workspaces": {"name": "acme-shop-dev", "project": "shop"}}
