"""End to end: real terraform and the real AWS provider against the local emulator (moto).

Order matters and is the file's order: the guard and the confirmation refusal run before
the organization is applied (the `applied` fixture), the checks after it.
"""

from __future__ import annotations

import json

import boto3
import pytest

from awsenvs import aws

pytestmark = pytest.mark.e2e

MANAGEMENT = "123456789012"  # moto's management account


def test_guard_refuses_credentials_of_another_account(rehearsal):
    with rehearsal.boto():
        creds = boto3.client("sts").assume_role(
            RoleArn="arn:aws:iam::999999999999:role/SomeoneElse", RoleSessionName="guard-test"
        )["Credentials"]
    other = dict(rehearsal.env, AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
                 AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"], AWS_SESSION_TOKEN=creds["SessionToken"])
    proc = rehearsal.cli("plan", env=other)
    assert proc.returncode == 1, proc.stderr
    assert "999999999999" in proc.stderr and MANAGEMENT in proc.stderr
    assert "Traceback" not in proc.stderr
    assert rehearsal.state_files() == []
    stacks = rehearsal.workdir / "cdktf.out" / "stacks"
    assert not list(stacks.glob("*/awsenvs.tfplan"))
    assert not list(stacks.glob("*/.terraform"))  # the guard ran before any terraform


def test_apply_without_terminal_refuses_protected_environments(rehearsal):
    plan = rehearsal.cli("plan")
    assert plan.returncode == 2, plan.stderr  # changes
    assert "waiting for account" in plan.stderr
    proc = rehearsal.cli("apply")  # stdin is not a terminal, no --yes
    assert proc.returncode == 1
    assert "refusing to apply" in proc.stderr and "shop-prod (mfa: required)" in proc.stderr
    assert rehearsal.state_files() == []  # nothing applied, not even management


@pytest.fixture(scope="module")
def applied(rehearsal):
    proc = rehearsal.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return rehearsal


@pytest.fixture(scope="module")
def accounts(applied) -> dict[str, dict]:
    """Accounts by name, as the emulator's Organizations API lists them."""
    with applied.boto():
        client = boto3.client("organizations")
        return {a["Name"]: a for a in client.list_accounts()["Accounts"]}


def test_ous_and_accounts(applied, accounts):
    with applied.boto():
        client = boto3.client("organizations")
        root = client.list_roots()["Roots"][0]["Id"]
        ous = {ou["Name"]: ou["Id"] for ou in client.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]}
        assert sorted(ous) == ["billing", "shop"]
        for env in applied.org.environments:
            account = accounts[env.account_name]
            assert account["Email"] == env.email
            parents = client.list_parents(ChildId=account["Id"])["Parents"]
            assert parents == [{"Id": ous[env.product], "Type": "ORGANIZATIONAL_UNIT"}], env.stack
    assert accounts["Billing (legacy)"]["Id"] == applied.org.environment_by_stack("billing-legacy").account_id


def _iam_of(rehearsal, account_id: str):
    with rehearsal.boto():
        return aws.assume_role_session(account_id, "OrganizationAccountAccessRole").client("iam")


def test_each_account_has_exactly_its_baseline(applied, accounts):
    expected_users = {
        "shop-dev": {"alice": ["sysadmins"], "bob": ["developers"]},
        "shop-staging": {"alice": ["sysadmins"]},
        "shop-prod": {"alice": ["sysadmins"], "bob": ["developers"]},
        "billing-prod": {"carol": ["developers", "sysadmins"]},
        "billing-legacy": {"carol": ["developers", "sysadmins"]},
    }
    mfa_required = {"shop-prod", "billing-prod"}
    for env in applied.org.environments:
        with applied.boto():
            iam = _iam_of(applied, accounts[env.account_name]["Id"])
            assert iam.list_account_aliases()["AccountAliases"] == [env.alias]
            policy = iam.get_account_password_policy()["PasswordPolicy"]
            assert policy["MinimumPasswordLength"] == (20 if env.stack == "shop-prod" else 16)
            assert policy["PasswordReusePrevention"] == 24
            assert policy["RequireSymbols"] and policy["RequireNumbers"]
            users = {u["UserName"] for u in iam.list_users()["Users"]}
            assert users == set(expected_users[env.stack]), env.stack
            for user, groups in expected_users[env.stack].items():
                found = sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]
                               if g["GroupName"] != "awsenvs-mfa-required")
                assert found == groups, (env.stack, user)
                assert iam.get_login_profile(UserName=user)["LoginProfile"]["UserName"] == user
                assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
                assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
            roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
            mfa_roles = {r for r in roles if r.endswith("-mfa")}
            if env.stack in mfa_required:
                assert mfa_roles == {f"{g}-mfa" for gs in expected_users[env.stack].values() for g in gs}
                trust = iam.get_role(RoleName="sysadmins-mfa")["Role"]["AssumeRolePolicyDocument"]
                trust = json.loads(trust) if isinstance(trust, str) else trust
                admins = sorted(u for u, gs in expected_users[env.stack].items() if "sysadmins" in gs)
                principals = trust["Statement"][0]["Principal"]["AWS"]
                principals = [principals] if isinstance(principals, str) else principals
                assert sorted(p.rsplit("/", 1)[-1] for p in principals) == admins, env.stack
                assert trust["Statement"][0]["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
                for user in expected_users[env.stack]:  # the MFA policy reaches everyone through one group
                    groups = {g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]}
                    assert "awsenvs-mfa-required" in groups, (env.stack, user)
                attached = iam.list_attached_group_policies(GroupName="awsenvs-mfa-required")["AttachedPolicies"]
                assert [p["PolicyName"] for p in attached] == ["awsenvs-require-mfa"]
            else:
                assert mfa_roles == set(), env.stack


def test_management_account_holds_none_of_it(applied):
    with applied.boto():
        iam = boto3.client("iam")
        assert aws.caller_account() == MANAGEMENT
        assert iam.list_users()["Users"] == []
        assert iam.list_account_aliases()["AccountAliases"] == []
        assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"].endswith("-mfa")]


def _guardrail_policies(client, target: str) -> dict[str, dict]:
    """The awsenvs SCPs attached to `target`, by name, with their parsed content."""
    attached = client.list_policies_for_target(TargetId=target, Filter="SERVICE_CONTROL_POLICY")["Policies"]
    return {p["Name"]: json.loads(client.describe_policy(PolicyId=p["Id"])["Policy"]["Content"])
            for p in attached if p["Name"].startswith("awsenvs-")}


def test_guardrails_on_the_product_ous_only(applied):
    with applied.boto():
        client = boto3.client("organizations")
        root = client.list_roots()["Roots"][0]["Id"]
        ous = {ou["Name"]: ou["Id"] for ou in client.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]}
        shop = _guardrail_policies(client, ous["shop"])
        billing = _guardrail_policies(client, ous["billing"])
        assert _guardrail_policies(client, root) == {}
        assert _guardrail_policies(client, MANAGEMENT) == {}
    assert list(shop) == ["awsenvs-shop-guardrails"] and list(billing) == ["awsenvs-billing-guardrails"]
    for document in (shop["awsenvs-shop-guardrails"], billing["awsenvs-billing-guardrails"]):
        statements = {s["Sid"]: s for s in document["Statement"]}
        assert statements["DenyLeaveOrganization"]["Action"] == "organizations:LeaveOrganization"
        assert statements["ProtectBaselineIam"]["Effect"] == "Deny"
    shop_statements = {s["Sid"]: s for s in shop["awsenvs-shop-guardrails"]["Statement"]}
    root_user = shop_statements["DenyRootUser"]
    assert root_user["Action"] == "*" and root_user["Condition"]["ArnLike"] == {"aws:PrincipalArn": "arn:aws:iam::*:root"}
    regions = shop_statements["DenyOutsideAllowedRegions"]
    assert regions["Condition"]["StringNotEquals"]["aws:RequestedRegion"] == ["eu-central-1", "us-east-1"]
    assert {"iam:*", "sts:*", "budgets:*", "organizations:*"} <= set(regions["NotAction"])
    billing_sids = {s["Sid"] for s in billing["awsenvs-billing-guardrails"]["Statement"]}
    assert "DenyRootUser" not in billing_sids and "DenyOutsideAllowedRegions" not in billing_sids


def test_the_left_over_policy_was_adopted_not_duplicated(applied):
    from conftest import LEFTOVER_POLICY

    with applied.boto():
        client = boto3.client("organizations")
        named = [p for p in client.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] if p["Name"] == LEFTOVER_POLICY]
        assert len(named) == 1
        assert named[0]["Description"].startswith("awsenvs guardrails of billing")


def test_each_account_with_a_budget_has_it(applied, accounts):
    from conftest import LEFTOVER_BUDGET

    for env in applied.org.environments:
        account_id = accounts[env.account_name]["Id"]
        with applied.boto():
            budgets = aws.assume_role_session(account_id, "OrganizationAccountAccessRole").client("budgets")
            found = {b["BudgetName"]: b for b in budgets.describe_budgets(AccountId=account_id).get("Budgets", [])}
            if env.budget is None:
                assert found == {}, env.stack
                continue
            assert list(found) == [env.budget_name], env.stack
            budget = found[env.budget_name]
            assert float(budget["BudgetLimit"]["Amount"]) == env.budget.monthly_usd and budget["TimeUnit"] == "MONTHLY"
            notifications = budgets.describe_notifications_for_budget(AccountId=account_id, BudgetName=env.budget_name)["Notifications"]
            assert sorted((n["NotificationType"], n["Threshold"]) for n in notifications) == sorted(
                (kind, float(t)) for kind in ("ACTUAL", "FORECASTED") for t in env.budget.thresholds_percent), env.stack
            for notification in notifications:
                subscribers = budgets.describe_subscribers_for_notification(
                    AccountId=account_id, BudgetName=env.budget_name, Notification=notification)["Subscribers"]
                assert sorted(s["Address"] for s in subscribers) == sorted(env.budget.alert_emails)
    assert applied.org.environment_by_stack("billing-legacy").budget_name == LEFTOVER_BUDGET  # adopted, now 40.5


def test_second_plan_finds_no_changes(applied):
    proc = applied.cli("plan", "--all")  # --all: terraform plans every stack again
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "waiting for account" not in proc.stderr
    assert "unchanged" not in proc.stderr


def test_committed_hcl_runs_without_awsenvs(applied, accounts, tmp_path):
    """`synth --hcl` writes the applied accounts' ids as the account_id defaults, so a
    committed stack folder plans with plain terraform: no tfvars, no awsenvs (what a
    VCS-driven workspace does)."""
    import re

    from awsenvs.terraform import Terraform

    outdir = tmp_path / "committed"
    proc = applied.cli("synth", "--hcl", env=dict(applied.env, CDKTF_OUTDIR=str(outdir)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for env in applied.org.environments:
        text = (outdir / "stacks" / env.stack / "cdk.tf").read_text()
        variable = text[text.index('variable "account_id"'):]
        default = re.search(r'default\s*=\s*"([^"]*)"', variable).group(1)
        assert default == accounts[env.account_name]["Id"], env.stack
    assert not list(outdir.rglob("*.tfvars*"))
    stack = outdir / "stacks" / "shop-dev"
    terraform = Terraform(env=dict(applied.env))
    terraform.init(stack)
    plan = terraform.run(["plan", "-detailed-exitcode", "-input=false", "-no-color"], cwd=stack, check=False)
    assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]


# --------------------------------------------------------------------------- plan only what changed


def _row_of(output: str, stack: str) -> str:
    """The summary table's row of a stack (the table line starting with its name)."""
    return next(line for line in output.splitlines() if line.startswith("│") and line.strip("│ ").startswith(f"{stack} "))


def test_plan_skips_unchanged_stacks_without_running_terraform(applied, tmp_path):
    """After the apply (and the clean `plan --all`), every stack is unchanged: `plan` runs
    terraform only to ask its version; a terraform that fails anything else proves it."""
    import shutil

    real = shutil.which("terraform")
    log = tmp_path / "terraform-calls"
    fake = tmp_path / "terraform"
    fake.write_text(f'#!/bin/sh\nif [ "$1" = version ]; then exec {real} "$@"; fi\necho "$*" >> {log}\nexit 1\n')
    fake.chmod(0o755)
    proc = applied.cli("plan", env=dict(applied.env, TERRAFORM_BIN=str(fake)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not log.exists(), log.read_text()
    for stack in applied.org.stacks:
        assert "unchanged since" in _row_of(proc.stderr, stack), stack


def test_a_changed_user_plans_only_its_stacks(applied):
    import yaml

    original = applied.config_path.read_text()
    changed = yaml.safe_load(original)
    changed["products"]["billing"]["users"]["dora"] = {"groups": ["developers"]}
    applied.config_path.write_text(yaml.safe_dump(changed, sort_keys=False))
    try:
        proc = applied.cli("plan")
    finally:
        applied.config_path.write_text(original)
    assert proc.returncode == 2, proc.stderr[-3000:]
    for stack in ("billing-prod", "billing-legacy"):
        assert "changes" in _row_of(proc.stderr, stack) and "unchanged" not in _row_of(proc.stderr, stack)
    for stack in ("management", "shop-dev", "shop-staging", "shop-prod"):
        assert "unchanged since" in _row_of(proc.stderr, stack), stack
    again = applied.cli("plan")  # org.yaml as before: billing's stacks are planned (their record went), no changes
    assert again.returncode == 0, again.stderr[-3000:]
    assert "unchanged" not in _row_of(again.stderr, "billing-prod")
    assert "unchanged since" in _row_of(again.stderr, "shop-dev")


def _runner(applied):
    from awsenvs.run.runner import Runner
    from awsenvs.terraform import Terraform

    return Runner(applied.org, Terraform(env=dict(applied.env)), applied.workdir / "cdktf.out")


def test_a_changed_account_id_or_tfvars_plans_again(applied, accounts):
    runner = _runner(applied)
    shop_dev = accounts["shop_dev"]["Id"]
    assert runner.unchanged_since("shop-dev", shop_dev)
    assert runner.unchanged_since("shop-dev", "999999999999") is None
    tfvars = applied.workdir / "cdktf.out" / "stacks" / "shop-dev" / "account.auto.tfvars.json"
    original = tfvars.read_text()
    tfvars.write_text(json.dumps({"account_id": "999999999999"}))  # edited by hand
    try:
        assert runner.unchanged_since("shop-dev", shop_dev) is None
    finally:
        tfvars.write_text(original)
    assert runner.unchanged_since("shop-dev", shop_dev)


def test_state_changed_outside_awsenvs_plans_again(applied, accounts):
    """`terraform state push` of the same state with the next serial, as another tool or a
    teammate's run would leave it: the stack is planned, the others are not."""
    from awsenvs.terraform import Terraform

    from awsenvs.results import StackStatus

    assert applied.cli("plan").returncode == 0  # every stack saved as unchanged
    terraform = Terraform(env=dict(applied.env))
    directory = applied.workdir / "cdktf.out" / "stacks" / "shop-prod"
    state = json.loads(terraform.state_pull(directory))  # the raw state, pushed back as another tool would
    state["serial"] += 1
    pushed = directory / "pushed.tfstate"
    pushed.write_text(json.dumps(state))
    try:
        terraform.run(["state", "push", str(pushed)], cwd=directory)
    finally:
        pushed.unlink()
    assert _runner(applied).unchanged_since("shop-prod", accounts["shop_prod"]["Id"]) is None
    # What `plan` saved as unchanged is not taken by `apply` once the state moved: planned anew.
    assert _runner(applied).saved_plan("shop-prod") is None
    assert _runner(applied).saved_plan("shop-dev").status is StackStatus.UNCHANGED
    proc = applied.cli("plan")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no changes" in _row_of(proc.stderr, "shop-prod")
    assert "unchanged since" in _row_of(proc.stderr, "shop-dev")
    assert _runner(applied).unchanged_since("shop-prod", accounts["shop_prod"]["Id"])


def test_a_new_provider_version_plans_again(applied, accounts, provider_mirror, tmp_path):
    """`terraform init -upgrade` against a mirror holding a newer provider (the same binary
    published as 5.100.1 here: no registry offline) changes the lock file: the stack plans again."""
    from awsenvs.terraform import Terraform

    source = next((provider_mirror / "registry.terraform.io" / "hashicorp" / "aws").iterdir())
    newer = tmp_path / "mirror" / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.1"
    newer.mkdir(parents=True)
    for platform in source.iterdir():
        (newer / platform.name).symlink_to(platform)
    directory = applied.workdir / "cdktf.out" / "stacks" / "billing-prod"
    lock = directory / ".terraform.lock.hcl"
    assert 'version     = "5.100.0"' in lock.read_text()
    upgraded = Terraform(env=dict(applied.env, TF_PROVIDER_MIRROR=str(tmp_path / "mirror")))
    upgraded.run(["init", "-upgrade", "-input=false", "-no-color"], cwd=directory)
    assert 'version     = "5.100.1"' in lock.read_text()
    billing_prod = accounts["billing_prod"]["Id"]
    assert _runner(applied).unchanged_since("billing-prod", billing_prod) is None
    proc = applied.cli("plan")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no changes" in _row_of(proc.stderr, "billing-prod")  # planned with 5.100.1
    assert "unchanged since" in _row_of(proc.stderr, "billing-legacy")
    # And back: the clean record now names 5.100.1's lock, so 5.100.0 plans again too.
    Terraform(env=dict(applied.env)).run(["init", "-upgrade", "-input=false", "-no-color"], cwd=directory)
    assert 'version     = "5.100.0"' in lock.read_text()
    assert _runner(applied).unchanged_since("billing-prod", billing_prod) is None
    proc = applied.cli("plan")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no changes" in _row_of(proc.stderr, "billing-prod")


# --------------------------------------------------------------------------- working with the accounts


def _profiles(rehearsal):
    import configparser

    proc = rehearsal.cli("profiles")
    assert proc.returncode == 0, proc.stderr[-2000:]
    parser = configparser.ConfigParser()
    parser.read_string(proc.stdout)
    return parser, proc.stderr


def test_profiles_carry_the_real_account_ids_and_real_mfa_devices(applied, accounts):
    parser, stderr = _profiles(applied)
    for env in applied.org.environments:
        account_id = accounts[env.account_name]["Id"]
        for user in env.users:
            if env.mfa_required:  # nobody has a device yet: key profiles only, and what to do
                assert f"profile {env.profile_name(user)}" not in parser
                assert f"profile {env.key_profile_name(user)}" in parser
            else:
                assert "role_arn" not in parser[f"profile {env.profile_name(user)}"]
    assert "aws configure --profile shop_prod_alice_keys" in stderr
    assert "No MFA device yet" in stderr and "shop_prod_alice" in stderr

    # alice enrols an authenticator app named as she likes; bob does not.
    prod = accounts[applied.org.environment_by_stack("shop-prod").account_name]["Id"]
    with applied.boto():
        iam = aws.assume_role_session(prod, "OrganizationAccountAccessRole").client("iam")
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-phone")["VirtualMFADevice"]["SerialNumber"]
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
    parser, stderr = _profiles(applied)
    alice = parser["profile shop_prod_alice"]
    assert alice["mfa_serial"] == f"arn:aws:iam::{prod}:mfa/alice-phone" == serial
    assert alice["role_arn"] == f"arn:aws:iam::{prod}:role/sysadmins-mfa"
    assert alice["source_profile"] == "shop_prod_alice_keys" and alice["role_session_name"] == "alice"
    assert "profile shop_prod_bob" not in parser and "shop_prod_bob" in stderr.split("No MFA device yet")[1]


def test_signin_links_and_page(applied, tmp_path):
    page = tmp_path / "signin.html"
    proc = applied.cli("signin", "--html", str(page))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "https://acme-shop-production.signin.aws.amazon.com/console" in proc.stdout
    html = page.read_text()
    assert 'href="https://acme-billing-prod.signin.aws.amazon.com/console"' in html
    assert "shop_staging_alice" in html


def test_the_message_for_a_colleague_with_iam_users(applied, accounts):
    """`signin --user bob`: bob's accounts with their sign-in links, where MFA is required, his
    CLI setup (the key profiles `profiles --user bob` writes while he has no MFA device), and
    never a password: the admin hands each over with `password`, as the notes say."""
    proc = applied.cli("signin", "--user", "bob")
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout
    assert f"shop_dev ({accounts['shop_dev']['Id']}): https://acme-shop-dev.signin.aws.amazon.com/console\n" in text
    assert (f"shop_prod ({accounts['shop_prod']['Id']}): https://acme-shop-production.signin.aws.amazon.com/console; "
            "MFA required") in text
    assert "shop_staging" not in text and "billing" not in text  # staging is alice's only; billing carol's
    start, end = text.index("# BEGIN awsenvs"), text.index("# END awsenvs") + len("# END awsenvs")
    block = "\n".join(line.strip() for line in text[start:end].splitlines()) + "\n"
    assert block == applied.cli("profiles", "--user", "bob").stdout
    assert "aws configure --profile shop_dev_bob\n" in text and "aws configure --profile shop_prod_bob_keys\n" in text
    assert "once your MFA device is registered, I send you the profiles that use it (shop_prod_bob)" in text
    assert "password bob --stack shop-dev" in proc.stderr and "password bob --stack shop-prod" in proc.stderr
    assert "password bob" not in text and "sso" not in text


def _audit(rehearsal) -> tuple[int, list[dict]]:
    proc = rehearsal.cli("audit", "--json")
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def _row(rows, check, stack):
    return next(r for r in rows if r["check"] == check and r["account"].startswith(stack + " "))


def test_audit_reports_root_mfa_and_user_mfa(applied, accounts):
    code, rows = _audit(applied)
    assert code == 1
    # Root MFA is asked of the management account only (the emulator has none); member
    # accounts' root users must have no credentials at all, and in the emulator they have none.
    assert _row(rows, "root MFA", "management")["status"] == "fail"
    for env in applied.org.environments:
        assert not [r for r in rows if r["check"] == "root MFA" and r["account"].startswith(env.stack + " ")]
        assert _row(rows, "root credentials", env.stack)["status"] == "pass"
        assert _row(rows, "alias", env.stack)["status"] == "pass"
        assert _row(rows, "password policy", env.stack)["status"] == "pass"
        assert _row(rows, "users", env.stack)["status"] == "pass"
    assert not [r for r in rows if r["check"].startswith("MFA of") and r["account"].startswith("shop-dev ")]
    assert not [r for r in rows if r["check"] == "drift"], "just applied: no drift, adopted account included"

    # alice enrolled a virtual MFA device in shop-prod (test_profiles_...): her check
    # passes, bob's fails.
    assert _row(rows, "MFA of alice", "shop-prod")["status"] == "pass"
    assert _row(rows, "MFA of bob", "shop-prod")["status"] == "fail"


def test_audit_checks_local_profiles(applied, accounts):
    home = applied.workdir / "home" / ".aws"
    (home / "config").write_text("[default]\nregion = us-east-1\n")
    proc = applied.cli("profiles", "--write")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[default] profile" in proc.stderr  # warned, and kept as it was
    assert (home / "config").read_text().startswith("[default]\nregion = us-east-1\n")
    # bob's own keys in shop-dev, as `aws configure --profile shop_dev_bob` would store them,
    # and keys of the wrong account under shop_staging_alice.
    dev = accounts[applied.org.environment_by_stack("shop-dev").account_name]["Id"]
    with applied.boto():
        key = aws.assume_role_session(dev, "OrganizationAccountAccessRole").client("iam").create_access_key(UserName="bob")["AccessKey"]
    (home / "credentials").write_text(
        f"[shop_dev_bob]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n"
        "[shop_staging_alice]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = testing\n"
    )
    code, rows = _audit(applied)
    assert code == 1
    local = {r["check"]: r for r in rows if r["account"] == "local"}
    assert local["no [default] profile"]["status"] == "fail"
    assert local["profile shop_dev_bob"]["status"] == "pass", local["profile shop_dev_bob"]
    assert local["profile shop_staging_alice"]["status"] == "fail"
    assert "123456789012" in local["profile shop_staging_alice"]["finding"]
    assert key["SecretAccessKey"] not in json.dumps(rows)


# --------------------------------------------------------------------------- secrets at rest, the first sign-in


def _mode(path) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)


def test_state_plans_and_tfvars_are_owner_only(applied):
    assert applied.cli("plan", "--all").returncode == 0  # a plan file in every stack (plain plan skips them)
    state_dir = applied.org.state.local_dir
    states = sorted(state_dir.glob("*.tfstate*"))  # backups too, where there are any (test_lifecycle)
    assert len(states) >= len(applied.org.stacks)
    assert _mode(state_dir) == 0o700
    assert {p.name: _mode(p) for p in states} == {p.name: 0o600 for p in states}
    stacks = applied.workdir / "cdktf.out" / "stacks"
    for env in applied.org.environments:
        directory = stacks / env.stack
        assert _mode(directory) == 0o700, env.stack
        for name in ("awsenvs.tfplan", "account.auto.tfvars.json", "awsenvs-clean.json"):  # from the last plan
            assert _mode(directory / name) == 0o600, (env.stack, name)
    assert _mode(stacks / "management" / "awsenvs.tfplan") == 0o600


def test_audit_flags_and_plan_tightens_a_world_readable_state_file(applied):
    state = applied.org.state.local_dir / "shop-dev.tfstate"
    state.chmod(0o644)
    _, rows = _audit(applied)
    row = next(r for r in rows if r["check"] == "local state private")
    assert row["status"] == "fail" and str(state) in row["finding"]

    proc = applied.cli("plan")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"tightened {state} from 0644 to 0600" in " ".join(proc.stderr.split())
    assert _mode(state) == 0o600
    _, rows = _audit(applied)
    assert next(r for r in rows if r["check"] == "local state private")["status"] == "pass"


def _on_terminal(rehearsal, *args: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its stdin, stdout and stderr."""
    import os
    import pty
    import subprocess
    import sys

    from conftest import ROOT

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--config", str(rehearsal.config_path), *args],
                            cwd=rehearsal.workdir, env=rehearsal.env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(master)
    return proc.wait(), output.decode(errors="replace")


def test_initial_password_is_shown_on_a_terminal_and_never_to_a_pipe(applied):
    state = json.loads((applied.org.state.local_dir / "shop-dev.tfstate").read_text())
    login = next(r for r in state["resources"] if r["type"] == "aws_iam_user_login_profile" and r["name"] == "bob")
    secret = login["instances"][0]["attributes"]["password"]
    assert secret

    code, output = _on_terminal(applied, "password", "bob", "--stack", "shop-dev")
    assert code == 0, output[-2000:]
    assert f"password     {secret}" in output
    assert "https://acme-shop-dev.signin.aws.amazon.com/console" in output and "shop_dev_bob" in output

    piped = applied.cli("password", "bob", "--stack", "shop-dev")  # stdout is a pipe
    assert piped.returncode == 1
    assert "refusing to write a password to a pipe" in piped.stderr
    assert secret not in piped.stdout + piped.stderr
    unknown = applied.cli("password", "zoe", "--stack", "shop-dev")
    assert unknown.returncode == 2 and "zoe: not a user of shop-dev" in unknown.stderr


def _boto3_regions(rehearsal, env: dict) -> set[str]:
    """The regions awsenvs' own boto3 calls sign for during one `plan` (moto's request recorder)."""
    import re
    import urllib.request

    base = rehearsal.env["AWS_ENDPOINT_URL"]

    def call(action: str, method: str = "POST") -> bytes:
        request = urllib.request.Request(f"{base}/moto-api/recorder/{action}", method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    call("reset-recording")
    call("start-recording")
    try:
        proc = rehearsal.cli("plan", env=env)
    finally:
        call("stop-recording")
    assert proc.returncode == 0, proc.stderr[-3000:]
    regions = set()
    for line in call("download-recording", "GET").decode().splitlines():
        entry = json.loads(line)
        headers = {k.lower(): v for k, v in entry["headers"].items()}
        if "boto3/" in headers.get("user-agent", "").lower():
            regions.update(re.findall(r"Credential=[^/]+/\d+/([^/]+)/", headers.get("authorization", "")))
    return regions


def test_boto3_uses_org_yaml_region_unless_aws_region_says_otherwise(applied, tmp_path):
    bare = {k: v for k, v in applied.env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    bare["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")  # no profile naming a region either
    assert _boto3_regions(applied, bare) == {"eu-central-1"}  # org.yaml's region
    assert _boto3_regions(applied, dict(bare, AWS_REGION="ap-south-1")) == {"ap-south-1"}


def test_a_guardrail_change_is_protected_like_the_accounts_it_guards(applied):
    """Turning deny_root_user on for billing changes only the management stack, but it
    changes what can be done in billing-prod (mfa: required): apply wants its name typed."""
    import yaml

    original = applied.config_path.read_text()
    changed = yaml.safe_load(original)
    assert changed["products"]["billing"]["guardrails"]["deny_root_user"] is False
    changed["products"]["billing"]["guardrails"]["deny_root_user"] = True
    applied.config_path.write_text(yaml.safe_dump(changed, sort_keys=False))
    try:
        plan = applied.cli("plan")
        assert plan.returncode == 2, plan.stderr[-3000:]
        assert "the guardrails or account settings of billing-prod change" in plan.stderr
        assert "the guardrails or account settings of billing-legacy change" in plan.stderr
        assert "account settings of shop-" not in plan.stderr
        refused = applied.cli("apply")  # no terminal, no --yes
        assert refused.returncode == 1
        assert "management (it changes the access, guardrails or account settings of billing-prod, mfa: required)" in refused.stderr
    finally:
        applied.config_path.write_text(original)
    assert applied.cli("plan").returncode == 0  # nothing was applied


def test_a_created_account_is_renamed_in_place_and_its_email_is_never_replaced(applied):
    """A new account_name is an update in place (the provider calls account:PutAccountName,
    which the emulator's fill answers); a new root email would replace the account, so plan
    refuses it in one line with the live value."""
    import yaml

    original = applied.config_path.read_text()
    changed = yaml.safe_load(original)
    changed["products"]["shop"]["environments"]["dev"]["account_name"] = "shop_development"
    applied.config_path.write_text(yaml.safe_dump(changed, sort_keys=False))
    try:
        plan = applied.cli("plan", "--stack", "management")
        assert plan.returncode == 2, plan.stderr[-3000:]
        assert "~ update           aws_organizations_account.shop_dev" in plan.stderr
        assert "replace" not in plan.stderr
        apply = applied.cli("apply", "--stack", "management", "--yes")
        assert apply.returncode == 0, apply.stderr[-3000:]
        with applied.boto():
            names = {a["Email"]: a["Name"] for a in boto3.client("organizations").list_accounts()["Accounts"]}
        assert names[applied.org.environment_by_stack("shop-dev").email] == "shop_development"

        changed["products"]["shop"]["environments"]["dev"]["email"] = "shop-dev-2@acme.example.com"
        applied.config_path.write_text(yaml.safe_dump(changed, sort_keys=False))
        refused = applied.cli("plan")
        assert refused.returncode == 1, refused.stderr[-3000:]
        [line] = [l for l in refused.stderr.splitlines() if l.startswith("error:")]
        assert "products.shop.environments.dev.email: account" in line and "set email back to cloud+shop-dev@" in line
        assert "Traceback" not in refused.stderr and "prevent_destroy" not in refused.stderr
    finally:
        applied.config_path.write_text(original)
    assert applied.cli("apply", "--stack", "management", "--yes").returncode == 0  # renamed back


# --------------------------------------------------------------------------- Ctrl-C (last: they change org.yaml)


def _terraform_log(tmp_path):
    """A terraform that notes when each command starts (`<time> <command> <folder>`), then is terraform."""
    import shutil

    log, wrapper = tmp_path / "starts", tmp_path / "terraform"
    wrapper.write_text(f'#!/bin/sh\necho "$(date +%s.%N) $1 $PWD" >> {log}\nexec {shutil.which("terraform")} "$@"\n')
    wrapper.chmod(0o755)
    return log, wrapper


def _interrupt_when(applied, args, log, wrapper, command: str):
    """Run the CLI in a process group of its own, as a terminal does, and press Ctrl-C
    (SIGINT to the group) once terraform has been running `command` for a moment."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT, as_from_a_terminal

    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--config", str(applied.config_path), *args],
                            cwd=applied.workdir, env=dict(applied.env, TERRAFORM_BIN=str(wrapper)),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=as_from_a_terminal)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and f" {command} " in log.read_text():
            break
        time.sleep(0.05)
    time.sleep(1.5)  # terraform is past its start-up and has its own signal handling
    pressed = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    started_after = [line for line in log.read_text().splitlines() if float(line.split()[0]) > pressed]
    return proc.returncode, stderr, started_after


def test_ctrl_c_during_plan_starts_nothing_more(applied, tmp_path):
    log, wrapper = _terraform_log(tmp_path)
    code, stderr, started_after = _interrupt_when(applied, ["plan", "--all", "--workers", "1"], log, wrapper, "plan")
    assert code == 130, stderr[-3000:]
    assert started_after == [], started_after  # no terraform started after the signal
    assert "Interrupted (Ctrl-C): " in stderr and "not started" in stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    again = applied.cli("plan", "--all")  # nothing left locked or half-written
    assert again.returncode == 0, again.stderr[-3000:]


def test_ctrl_c_during_apply_stops_gracefully_and_the_next_apply_converges(applied, tmp_path):
    import yaml

    original = applied.config_path.read_text()
    changed = yaml.safe_load(original)
    changed["password_policy"]["minimum_length"] = 17  # every account stack but shop-prod (its own: 20)
    applied.config_path.write_text(yaml.safe_dump(changed, sort_keys=False))
    try:
        planned = applied.cli("plan")
        assert planned.returncode == 2, planned.stderr[-3000:]
        log, wrapper = _terraform_log(tmp_path)
        code, stderr, started_after = _interrupt_when(applied, ["apply", "--yes", "--workers", "1"], log, wrapper, "apply")
        assert code == 130, stderr[-3000:]
        assert started_after == [], started_after
        rows = {stack: _row_of(stderr, stack) for stack in ("shop-dev", "shop-staging", "billing-prod", "billing-legacy")}
        assert any("not started" in row for row in rows.values()), rows
        assert "Interrupted (Ctrl-C): finished" in stderr and "aborted" not in stderr
        assert "Traceback" not in stderr
        again = applied.cli("apply", "--yes")  # graceful: no lock left, the rest applied now
        assert again.returncode == 0, again.stderr[-3000:]
        assert applied.cli("plan", "--all").returncode == 0
    finally:
        applied.config_path.write_text(original)


def test_audit_names_each_change_made_behind_awsenvs_back_and_apply_restores_it(applied, accounts):
    """Drift at API speed: users, policies, aliases, memberships and SCPs changed with boto3
    are each one `drift` row (exit 1); after apply, none is left."""
    from awsenvs import aws

    dev, prod = accounts["shop_dev"]["Id"], accounts["shop_prod"]["Id"]
    # As org.yaml says first: the tests before leave their own changes applied (e.g. a password policy).
    converged = applied.cli("apply", "--yes")
    assert converged.returncode == 0, converged.stderr[-3000:]
    assert not [r for r in _audit(applied)[1] if r["check"] == "drift"]
    try:
        with applied.boto():
            iam = aws.assume_role_session(dev, "OrganizationAccountAccessRole").client("iam")
            iam.create_user(UserName="mallory")
            iam.detach_group_policy(GroupName="developers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
            iam.remove_user_from_group(GroupName="sysadmins", UserName="alice")
            prod_iam = aws.assume_role_session(prod, "OrganizationAccountAccessRole").client("iam")
            prod_iam.delete_account_alias(AccountAlias="acme-shop-production")
            prod_iam.create_account_alias(AccountAlias="acme-shop-renamed")
            org = boto3.client("organizations")
            root = org.list_roots()["Roots"][0]["Id"]
            shop = next(ou["Id"] for ou in org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
                        if ou["Name"] == "shop")
            extra = org.create_policy(Name="someone-elses", Description="by hand", Type="SERVICE_CONTROL_POLICY",
                                      Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}')
            extra_id = extra["Policy"]["PolicySummary"]["Id"]
            org.attach_policy(PolicyId=extra_id, TargetId=shop)
        code, rows = _audit(applied)
        assert code == 1
        drifted = [(r["account"].split(" ")[0], r["finding"]) for r in rows if r["check"] == "drift"]
        for account, fragment in (("shop-dev", "IAM users: expected"), ("shop-dev", "not in org.yaml: mallory"),
                                  ("shop-dev", "policies of group developers: expected"),
                                  ("shop-dev", "missing arn:aws:iam::aws:policy/ReadOnlyAccess"),
                                  ("shop-dev", "groups of user alice: expected"),
                                  ("management", "SCPs of OU shop"), ("management", "also someone-elses")):
            assert any(a == account and fragment in f for a, f in drifted), (account, fragment, drifted)
        assert _row(rows, "alias", "shop-prod")["status"] == "fail"
        assert len(drifted) == 4, drifted  # one row per difference, nothing else
    finally:
        with applied.boto():
            org = boto3.client("organizations")
            org.detach_policy(PolicyId=extra_id, TargetId=shop)
            aws.assume_role_session(dev, "OrganizationAccountAccessRole").client("iam").delete_user(UserName="mallory")
        # What to do about drift: the plain plan plans the stacks where apply restores something
        # (shop-dev's policy and membership, shop-prod's alias), then apply restores it.
        assert applied.cli("plan").returncode == 2
        applied_again = applied.cli("apply", "--yes")
        assert applied_again.returncode == 0, applied_again.stderr[-3000:]
    code, rows = _audit(applied)
    assert not [r for r in rows if r["check"] == "drift"], [r for r in rows if r["check"] == "drift"]
    assert _row(rows, "alias", "shop-prod")["status"] == "pass"
