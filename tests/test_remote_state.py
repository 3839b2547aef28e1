"""Remote state without the remote: what `state.backend: s3 | cloud` synthesizes, checked
by its content and by real `terraform validate` (Terraform Cloud is not reachable here),
the rules org.yaml must follow for remote runs, and the adapter's reading of a run that
streams no JSON (as a remote run does).  bootstrap itself runs against the emulator in
test_e2e_remote_state.py."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from awsenvs import config
from awsenvs.config import RunRole
from tests.conftest import CLOUD_STATE, ROOT, TWO_PRODUCTS, assert_rejected, cloud_org_text



# --------------------------------------------------------------------------- org.yaml rules


INVITED = """
organization: {name: acme, email: ops@acme.example.com, region: eu-west-1, management_account_id: "111111111111"}
guardrails: {protect_baseline: false}
products:
  shop:
    environments:
      legacy: {account_id: "210987654321", profile: shop-legacy-admin}
"""


def test_cloud_backend_refuses_profile_environments():
    config.parse(INVITED, Path("org.yaml"))  # fine with local state
    assert_rejected(INVITED + CLOUD_STATE, "products.shop.environments.legacy.profile: state.backend cloud runs remotely")


def test_cloud_backend_needs_the_management_account_id():
    assert_rejected(TWO_PRODUCTS.read_text() + CLOUD_STATE, "organization.management_account_id: required with state.backend cloud")


def test_cloud_workspace_names_and_role_names_must_fit():
    long_prefix = cloud_org_text().replace("workspace_prefix: acme-", "workspace_prefix: " + "x" * 50)
    assert_rejected(long_prefix, "state.cloud.workspace_prefix: the run role of workspace")
    assert_rejected(cloud_org_text().replace("workspace_prefix: acme-", "workspace_prefix: 'a b'"),
                    "state.cloud.workspace_prefix: workspace 'a bmanagement'")


@pytest.mark.parametrize("field, value, message", [
    ("organization", "'*'", "state.cloud.organization: '*'"),
    ("project", "'plat*'", "state.cloud.project: 'plat*'"),
    ("project", "'a:b'", "state.cloud.project: 'a:b'"),
    ("hostname", "'tfe.example.com:8443'", "state.cloud.hostname"),
])
def test_cloud_names_cannot_widen_the_trust_condition(field, value, message):
    text = cloud_org_text()
    cloud = "{organization: acme-tfc, project: platform, workspace_prefix: acme-}"
    assert cloud in text
    assert_rejected(text.replace(cloud, "{" + ", ".join(
        f"{k}: {value if k == field else v}" for k, v in
        {"organization": "acme-tfc", "project": "platform", "workspace_prefix": "acme-", "hostname": "app.terraform.io"}.items()) + "}"),
        message)


def test_s3_bucket_name_is_checked():
    state = "state:\n  backend: s3\n  s3: {bucket: Acme_State, region: eu-west-1}\n"
    assert_rejected(TWO_PRODUCTS.read_text() + state, "state.s3.bucket: 'Acme_State' is not an S3 bucket name")


def test_validate_exits_2_naming_the_profile_field(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text(INVITED + CLOUD_STATE)
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(path), "validate"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "products.shop.environments.legacy.profile" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- the cloud stacks


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from awsenvs.synth import synthesize

    outdir = tmp_path_factory.mktemp("cloud")
    path = outdir / "org.yaml"
    path.write_text(cloud_org_text())
    org = config.load(path)
    synthesize(org, outdir / "cdktf.out")
    stacks = {s: json.loads((outdir / "cdktf.out" / "stacks" / s / "cdk.tf.json").read_text()) for s in org.stacks}
    return org, outdir / "cdktf.out", stacks


def test_each_cloud_stack_checks_the_account_of_its_run(cloud):
    org, _, stacks = cloud
    for stack, document in stacks.items():
        caller = document["data"]["aws_caller_identity"]["run"]
        [postcondition] = caller["lifecycle"]["postcondition"]
        expected = '"111111111111"' if stack == "management" else "var.account_id"
        assert postcondition["condition"] == f"${{self.account_id == {expected}}}"
        assert "TFC_AWS_RUN_ROLE_ARN" in postcondition["error_message"]
        assert document["terraform"]["cloud"]["workspaces"] == {"name": f"acme-{stack}", "project": "platform"}
        # Saved cloud plans (plan -out, apply of that file) need 1.6.
        version = tuple(int(p) for p in document["terraform"]["required_version"].removeprefix(">= ").split("."))
        assert version >= (1, 6)


def test_local_and_s3_stacks_carry_no_run_check(synthesized):
    for document in synthesized["two"].stacks.values():
        assert "aws_caller_identity" not in document.get("data", {})


def test_every_cloud_stack_validates_without_its_backend(cloud, terraform):
    _, outdir, stacks = cloud
    for stack in stacks:
        directory = outdir / "stacks" / stack
        terraform.init(directory, backend=False)
        errors = [d for d in terraform.validate(directory) if d.severity == "error"]
        assert errors == [], f"{stack}: {errors}"


# --------------------------------------------------------------------------- the bootstrap stack


def test_s3_bootstrap_stack(bootstrap_stacks):
    org, document = bootstrap_stacks["s3"]
    resources = document["resource"]
    bucket = resources["aws_s3_bucket"]["state"]
    assert bucket["bucket"] == "acme-tfstate" and bucket["lifecycle"]["prevent_destroy"] is True
    assert document["provider"]["aws"][0]["region"] == "eu-west-1"
    assert resources["aws_s3_bucket_versioning"]["state"]["versioning_configuration"]["status"] == "Enabled"
    sse = resources["aws_s3_bucket_server_side_encryption_configuration"]["state"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms" and sse["bucket_key_enabled"] is True
    [rule] = resources["aws_s3_bucket_lifecycle_configuration"]["state"]["rule"]
    assert rule["status"] == "Enabled" and rule["filter"] == [{"prefix": ""}]  # every object
    assert "expiration" not in rule  # only replaced versions expire, never the current state
    block = resources["aws_s3_bucket_public_access_block"]["state"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    policy = json.loads(resources["aws_s3_bucket_policy"]["state"]["policy"])
    [deny] = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == ["${aws_s3_bucket.state.arn}", "${aws_s3_bucket.state.arn}/*"]
    # Its own state is local, beside the org's state folder, whatever state.backend says.
    backend = document["terraform"]["backend"]["local"]["path"]
    stack_dir = org.source.parent / "cdktf.out" / "stacks" / "bootstrap"
    assert (stack_dir / backend).resolve() == org.state.bootstrap_state
    assert "aws_iam_role" not in resources


def test_cloud_bootstrap_stack_roles(bootstrap_stacks):
    org, document, roles = bootstrap_stacks["cloud"]
    resources = document["resource"]
    provider = resources["aws_iam_openid_connect_provider"]["terraform_cloud"]
    assert provider["url"] == "https://app.terraform.io" and provider["client_id_list"] == ["aws.workload.identity"]
    assert {r["name"] for r in resources["aws_iam_role"].values()} == {f"awsenvs-run-acme-{s}" for s in org.stacks}
    for role in roles:
        trust = json.loads(resources["aws_iam_role"][role.tf_name]["assume_role_policy"])
        [statement] = trust["Statement"]
        assert statement["Condition"]["StringLike"] == {
            "app.terraform.io:sub": f"organization:acme-tfc:project:platform:workspace:acme-{role.stack}:run_phase:*"}
        assert statement["Condition"]["StringEquals"] == {"app.terraform.io:aud": "aws.workload.identity"}
    policies = resources["aws_iam_role_policy"]
    assert "shop_dev" not in policies  # its account does not exist yet: its role may do nothing
    for role in roles:
        if role.stack in ("management", "shop-dev"):
            continue
        [statement] = json.loads(policies[role.tf_name]["policy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Resource"] == f"arn:aws:iam::{role.account_id}:role/OrganizationAccountAccessRole"
    assert json.loads(policies["management"]["policy"])["Statement"][0]["Action"] == "organizations:*"


# The API actions the AWS provider calls for each resource type of a management stack, to
# create, read, update and delete it as awsenvs does (read from terraform-provider-aws'
# internal/service/organizations, iam/organizations_features.go, identitystore and ssoadmin).
# Deleting an account or the organization is left out on purpose: awsenvs never does it.
ACTIONS_OF = {
    "aws_organizations_organization": [
        "organizations:CreateOrganization", "organizations:DescribeOrganization", "organizations:ListRoots",
        "organizations:ListAccounts", "organizations:ListAWSServiceAccessForOrganization",
        "organizations:EnableAWSServiceAccess", "organizations:DisableAWSServiceAccess",
        "organizations:EnablePolicyType", "organizations:DisablePolicyType", "iam:CreateServiceLinkedRole"],
    "aws_organizations_organizational_unit": [
        "organizations:CreateOrganizationalUnit", "organizations:DescribeOrganizationalUnit",
        "organizations:UpdateOrganizationalUnit", "organizations:DeleteOrganizationalUnit",
        "organizations:ListAccountsForParent", "organizations:ListTagsForResource", "organizations:TagResource",
        "organizations:UntagResource"],
    "aws_organizations_account": [
        "organizations:CreateAccount", "organizations:DescribeCreateAccountStatus", "organizations:DescribeAccount",
        "organizations:ListParents", "organizations:MoveAccount", "organizations:ListTagsForResource",
        "organizations:TagResource", "organizations:UntagResource", "account:PutAccountName"],
    "aws_organizations_policy": [
        "organizations:CreatePolicy", "organizations:DescribePolicy", "organizations:UpdatePolicy",
        "organizations:DeletePolicy", "organizations:ListTagsForResource", "organizations:TagResource"],
    "aws_organizations_policy_attachment": [
        "organizations:AttachPolicy", "organizations:DetachPolicy", "organizations:ListTargetsForPolicy"],
    "aws_iam_organizations_features": [
        "iam:EnableOrganizationsRootCredentialsManagement", "iam:EnableOrganizationsRootSessions",
        "iam:DisableOrganizationsRootCredentialsManagement", "iam:DisableOrganizationsRootSessions",
        "iam:ListOrganizationsFeatures"],
    "aws_ssoadmin_instances": ["sso:ListInstances"],
    "aws_identitystore_user": ["identitystore:CreateUser", "identitystore:DescribeUser", "identitystore:UpdateUser",
                               "identitystore:DeleteUser"],
    "aws_identitystore_group": ["identitystore:CreateGroup", "identitystore:DescribeGroup", "identitystore:UpdateGroup",
                                "identitystore:DeleteGroup"],
    "aws_identitystore_group_membership": ["identitystore:CreateGroupMembership", "identitystore:DescribeGroupMembership",
                                           "identitystore:DeleteGroupMembership"],
    "aws_ssoadmin_permission_set": ["sso:CreatePermissionSet", "sso:DescribePermissionSet", "sso:UpdatePermissionSet",
                                    "sso:DeletePermissionSet", "sso:ListTagsForResource", "sso:TagResource",
                                    "sso:UntagResource", "sso:DescribePermissionSetProvisioningStatus"],
    "aws_ssoadmin_managed_policy_attachment": ["sso:AttachManagedPolicyToPermissionSet",
                                               "sso:DetachManagedPolicyFromPermissionSet",
                                               "sso:ListManagedPoliciesInPermissionSet"],
    "aws_ssoadmin_account_assignment": ["sso:CreateAccountAssignment", "sso:DescribeAccountAssignmentCreationStatus",
                                        "sso:ListAccountAssignments", "sso:DeleteAccountAssignment",
                                        "sso:DescribeAccountAssignmentDeletionStatus"],
}
MEMBER, MANAGEMENT = "222222222222", "111111111111"


def _allows(policy: dict, action: str, resource: str = "*") -> bool:
    """IAM's rule for one identity policy: some Allow matches, and no Deny does (Action and
    Resource with their * wildcards; the conditions of awsenvs' statements are on other keys)."""
    import fnmatch

    def matches(statement: dict) -> bool:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        return (any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions)
                and any(fnmatch.fnmatchcase(resource, r) for r in resources))

    statements = policy["Statement"]
    return any(matches(s) for s in statements if s["Effect"] == "Allow") and \
        not any(matches(s) for s in statements if s["Effect"] == "Deny")


def _decision(policy: dict, action: str, resource: str, context: dict) -> bool:
    """IAM's rule for one identity policy with conditions: allowed when an Allow matches and no
    Deny does.  A statement matches when its Action and Resource match (* wildcards) and every
    condition holds for `context` (key -> value, or list for multivalued keys such as
    aws:TagKeys): StringEquals / StringNotEquals (a key absent from the request makes
    StringNotEquals true, StringEquals false) and ForAnyValue:StringEquals (false when absent)
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html,
    .../reference_policies_condition-single-vs-multi-valued-context-keys.html)."""
    import fnmatch

    def values(x):
        return x if isinstance(x, list) else [x]

    def holds(operator: str, conditions: dict) -> bool:
        for key, wanted in conditions.items():
            present = key in context
            got = values(context.get(key, []))
            if operator == "StringEquals" and not (present and any(g in values(wanted) for g in got)):
                return False
            if operator == "StringNotEquals" and present and any(g in values(wanted) for g in got):
                return False
            if operator == "ForAnyValue:StringEquals" and not any(g in values(wanted) for g in got):
                return False
            if operator not in ("StringEquals", "StringNotEquals", "ForAnyValue:StringEquals"):
                raise AssertionError(f"{operator}: teach _decision this operator")
        return True

    def matches(statement: dict) -> bool:
        return (any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in values(statement["Action"]))
                and any(fnmatch.fnmatchcase(resource, r) for r in values(statement["Resource"]))
                and all(holds(op, conditions) for op, conditions in statement.get("Condition", {}).items()))

    statements = policy["Statement"]
    return any(matches(s) for s in statements if s["Effect"] == "Allow") and \
        not any(matches(s) for s in statements if s["Effect"] == "Deny")


PERMISSION_SET = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
AWSENVS_TAGGED = {"aws:ResourceTag/managed-by": "awsenvs"}


def test_the_management_run_role_changes_and_provisions_only_awsenvs_permission_sets(synthesized):
    """ProvisionPermissionSet with TargetType ALL_PROVISIONED_ACCOUNTS names no account, so the
    management-account deny cannot catch it: what can be changed, provisioned or assigned is
    kept to awsenvs' permission sets (tagged managed-by=awsenvs, never assigned in the
    management account), and no permission set can be given or robbed of that tag."""
    from awsenvs.modules.bootstrap_policies import PERMISSION_SET_CHANGES, management_run_policy

    policy = management_run_policy(_as_cloud(synthesized["identity_center"].org.source))
    for action in PERMISSION_SET_CHANGES:
        assert _decision(policy, action, PERMISSION_SET, AWSENVS_TAGGED), action
        assert not _decision(policy, action, PERMISSION_SET, {}), action  # someone else's (no tag)
        assert not _decision(policy, action, PERMISSION_SET, {"aws:ResourceTag/managed-by": "console"}), action
    made_ours = {"aws:TagKeys": ["managed-by"], "aws:RequestTag/managed-by": "awsenvs"}
    assert not _decision(policy, "sso:TagResource", PERMISSION_SET, made_ours)  # another's made awsenvs'
    assert _decision(policy, "sso:TagResource", PERMISSION_SET, {**made_ours, **AWSENVS_TAGGED})  # the provider's own
    assert _decision(policy, "sso:TagResource", PERMISSION_SET, {"aws:TagKeys": ["team"]})  # other tags: harmless
    assert not _decision(policy, "sso:UntagResource", PERMISSION_SET, {"aws:TagKeys": ["managed-by"]})
    assert _decision(policy, "sso:CreatePermissionSet", "arn:aws:sso:::instance/ssoins-1111111111111111", {})
    # Still never into the management account, awsenvs' permission sets included.
    assert not _decision(policy, "sso:CreateAccountAssignment", f"arn:aws:sso:::account/{MANAGEMENT}", AWSENVS_TAGGED)
    # What IAM cannot express (docs/state.md): Identity Store's actions name a group or user by
    # id, with no tag and no account, so the role may still add a member to any group.
    for action in ("identitystore:CreateGroupMembership", "identitystore:UpdateUser"):
        assert _decision(policy, action, "arn:aws:identitystore:::group/g-1", {})


@pytest.mark.parametrize("name", ["example", "two", "identity_center"])
def test_the_management_run_role_may_do_what_its_stack_does_by_action(synthesized, name):
    from awsenvs.modules.bootstrap_policies import management_run_policy

    s = synthesized[name]
    policy = management_run_policy(_as_cloud(s.org.source))
    document = s.stacks["management"]
    for type_ in [*document.get("resource", {}), *document.get("data", {})]:
        if type_ == "aws_caller_identity":
            continue  # sts:GetCallerIdentity needs no permission
        assert type_ in ACTIONS_OF, f"{type_}: which actions does the provider call for it? (add them to ACTIONS_OF)"
        for action in ACTIONS_OF[type_]:
            resource = f"arn:aws:account::{MANAGEMENT}:account/o-abcdefghij/{MEMBER}" if action.startswith("account:") else "*"
            assert _allows(policy, action, resource), f"{type_} needs {action}"


def _as_cloud(path: Path):
    """The organization of `path` with its stacks in Terraform Cloud (where run roles exist)."""
    import yaml

    data = yaml.safe_load(path.read_text())
    data["organization"]["management_account_id"] = MANAGEMENT
    data["state"] = {"backend": "cloud", "cloud": {"organization": "acme-tfc"}}
    return config.parse(yaml.safe_dump(data, sort_keys=False), path)


def test_the_management_run_role_can_never_reach_into_the_management_account_or_end_the_organization(synthesized):
    """A leaked workspace token: no permission set assigned or provisioned into the management
    account (Identity Center's own role excludes it; the caller's would not), no IAM action on
    the roles Identity Center reserves, and no account closed or removed, no organization
    deleted or left, whatever the Allow statements say."""
    from awsenvs.modules.bootstrap_policies import management_run_policy

    policy = management_run_policy(_as_cloud(synthesized["identity_center"].org.source))
    for action in ("sso:CreateAccountAssignment", "sso:DeleteAccountAssignment", "sso:ProvisionPermissionSet"):
        assert _allows(policy, action, f"arn:aws:sso:::account/{MEMBER}")
        assert not _allows(policy, action, f"arn:aws:sso:::account/{MANAGEMENT}"), action
    for action in ("organizations:CloseAccount", "organizations:RemoveAccountFromOrganization",
                   "organizations:DeleteOrganization", "organizations:LeaveOrganization"):
        assert not _allows(policy, action), action
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"):
        assert not _allows(policy, action, "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_x")
    assert not _allows(policy, "account:PutAccountName", f"arn:aws:account::{MANAGEMENT}:account")  # its own name: not awsenvs'


def test_a_run_role_of_an_account_not_created_yet_waits():
    role = RunRole("shop-dev", "acme-shop-dev", "awsenvs-run-acme-shop-dev", "sub", target_role="OrganizationAccountAccessRole")
    assert role.waiting and not RunRole("management", "m", "r", "sub").waiting


def test_the_management_run_role_may_create_organizations_service_linked_role(synthesized):
    from awsenvs.modules.bootstrap_policies import management_run_policy

    org = synthesized["identity_center"].org
    [statement] = [s for s in management_run_policy(org)["Statement"] if s["Action"] == "iam:CreateServiceLinkedRole"]
    names = statement["Condition"]["StringEquals"]["iam:AWSServiceName"]
    assert "organizations.amazonaws.com" in names and "sso.amazonaws.com" in names


def test_synth_hcl_stops_when_the_created_accounts_are_unknown(tmp_path):
    """With a remote backend, created accounts' ids come from the management stack's
    state; when it cannot be read, synth --hcl fails instead of writing files without them."""
    path = tmp_path / "org.yaml"
    path.write_text(cloud_org_text().replace("workspace_prefix: acme-}", "workspace_prefix: acme-, hostname: tfe.invalid}"))
    env = dict(os.environ, CDKTF_OUTDIR=str(tmp_path / "out"))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(path), "synth", "--hcl"],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    assert "cannot read the management stack's state (Terraform Cloud: `terraform login` first)" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out" / "stacks" / "shop-dev").exists()


# --------------------------------------------------------------------------- a run that streams no JSON


def _remote_like_terraform(tmp_path: Path, fail_show: bool) -> Path:
    """terraform as a remote run of the cloud block behaves for the adapter: `plan -json`
    prints a human log (no JSON events), exit codes as usual; optionally `show` fails (no
    admin permission on the workspace)."""
    import shutil

    script = tmp_path / "terraform-remote"
    script.write_text(f"""#!{sys.executable}
import subprocess, sys
real, args = {shutil.which('terraform')!r}, sys.argv[1:]
if args and args[0] == "show" and {fail_show!r}:
    sys.exit("Error: insufficient rights to generate a plan export")
if args and args[0] == "plan":
    args = [a for a in args if a != "-json"]
sys.exit(subprocess.call([real, *args]))
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_a_run_without_json_events_is_read_from_its_saved_plan(tmp_path):
    from awsenvs.terraform import PlanSummary, Terraform

    terraform = Terraform(binary=str(_remote_like_terraform(tmp_path, fail_show=False)), env=dict(os.environ))
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"a": {"input": "1"}, "b": {"input": "2"}}}}))
    terraform.init(tmp_path)
    plan = tmp_path / "p.tfplan"
    planned = terraform.plan(tmp_path, plan)
    assert planned.summary == PlanSummary(add=2)
    # Each resource's change, read from the saved plan as the event stream would give it.
    assert [(c.action, c.address) for c in planned.changes] == [("create", "terraform_data.a"), ("create", "terraform_data.b")]
    terraform.apply(tmp_path, plan)
    assert terraform.plan(tmp_path, plan).summary == PlanSummary()


def test_a_run_without_json_events_and_an_unreadable_plan_fails_loudly(tmp_path):
    from awsenvs.terraform import Terraform, TerraformError

    terraform = Terraform(binary=str(_remote_like_terraform(tmp_path, fail_show=True)), env=dict(os.environ))
    (tmp_path / "main.tf.json").write_text(json.dumps({"resource": {"terraform_data": {"a": {"input": "1"}}}}))
    terraform.init(tmp_path)
    for _ in range(2):  # with changes, and (after an apply) without: neither is "no changes"
        with pytest.raises(TerraformError, match="cannot tell what the plan changes"):
            terraform.plan(tmp_path, tmp_path / "p.tfplan")
        Terraform().apply(tmp_path, tmp_path / "p.tfplan")


# --------------------------------------------------------------------------- the local guard


@pytest.mark.parametrize("credentials, backend, skipped", [(False, "cloud", True), (True, "cloud", False), (False, "local", False)])
def test_without_local_credentials_only_a_cloud_run_skips_the_local_guard(tmp_path, monkeypatch, capsys, credentials, backend, skipped):
    import boto3
    import click

    from awsenvs.cli import cli
    from awsenvs.cli.common import run_for

    path = tmp_path / "org.yaml"
    path.write_text(cloud_org_text() if backend == "cloud" else TWO_PRODUCTS.read_text())
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if credentials:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with click.Context(cli, obj={"config": str(path)}) as ctx:
        run = run_for(ctx, (), (), (), 2)
    note = "the local account guard and the live look-ups" in capsys.readouterr().err
    assert note is skipped and (run.lookups is None) is skipped
    if skipped:
        assert run.guard({"shop-dev": "222222222222"}) == "111111111111"  # no STS call


def test_a_run_before_the_account_exists_says_so(synthesized, terraform, tmp_path):
    """A stack folder run without awsenvs (a VCS-driven workspace) before its account was
    created stops at the account_id validation, which says what to do; it never asks for a
    "required variable"."""
    document = dict(synthesized["two"].stacks["shop-dev"])
    document["terraform"] = {**document["terraform"], "backend": {"local": {"path": str(tmp_path / "t.tfstate")}}}
    (tmp_path / "cdk.tf.json").write_text(json.dumps(document))
    terraform.init(tmp_path)
    env = {**terraform.env, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true"}  # never real AWS
    proc = subprocess.run([terraform.binary, "plan", "-input=false", "-no-color"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    output = " ".join((proc.stdout + proc.stderr).split())
    assert "The account shop_dev does not exist yet: apply the management stack first" in output
    assert "No value for required variable" not in output


def test_the_sandbox_says_what_of_remote_state_it_does_not_rehearse():
    from awsenvs.sandbox import not_rehearsed

    cloud = config.parse(cloud_org_text(), Path("org.yaml"))
    assert any(line.startswith("state.backend cloud: the rehearsal keeps local state") for line in not_rehearsed(cloud))
    local = config.parse(TWO_PRODUCTS.read_text(), Path("org.yaml"))
    assert not any(line.startswith("state.backend") for line in not_rehearsed(local))


# --------------------------------------------------------------------------- switching the backend


@pytest.mark.parametrize("recorded, state, reconfigure", [
    ({"type": "local", "config": {"path": "../../../state/tiny/web-dev.tfstate"}}, None, True),  # planned, never applied
    ({"type": "local", "config": {"path": "../../../state/tiny/web-dev.tfstate"}}, {"version": 4, "resources": []}, True),
    ({"type": "local", "config": {"path": "../../../state/tiny/web-dev.tfstate"}},
     {"version": 4, "resources": [{"type": "aws_iam_user"}]}, False),  # something to move: bootstrap's
    ({"type": "s3", "config": {"bucket": "other"}}, None, False),  # another remote backend: never dropped silently
])
def test_a_folder_left_on_an_empty_local_backend_takes_the_remote_one(tmp_path, recorded, state, reconfigure):
    """Switched to s3: a stack folder terraform initialized on the local backend, whose state
    file there holds nothing, is initialized on s3 as it is (`init -reconfigure`); anything
    else is never reconfigured away (Terraform's "Backend configuration changed" explains it)."""
    from awsenvs.run.stackdir import StackFolder

    path = tmp_path / "org.yaml"
    path.write_text(TWO_PRODUCTS.read_text() + "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n")
    org = config.load(path)
    folder = tmp_path / "cdktf.out" / "stacks" / "web-dev"
    (folder / ".terraform").mkdir(parents=True)
    (folder / ".terraform" / "terraform.tfstate").write_text(json.dumps({"version": 3, "backend": recorded}))
    if state is not None:
        (tmp_path / "state" / "tiny").mkdir(parents=True)
        (tmp_path / "state" / "tiny" / "web-dev.tfstate").write_text(json.dumps(state))
    assert org.state.backend == "s3"  # StackFolder.init asks only then
    assert StackFolder("web-dev", folder).left_an_empty_local_backend() is reconfigure


def test_a_folder_bootstrap_initialized_on_s3_takes_the_local_backend_back_only_with_its_state_file(tmp_path):
    """state.backend set back to local after bootstrap initialized a stack's folder on s3:
    with the stack's local state file still there (the move stopped before it), the folder
    takes the local backend as it is (`init -reconfigure`); without it the state is in the
    bucket, and planning from an empty state is refused in one line naming the way back."""
    from awsenvs.run.folder_backend import initialized_elsewhere, takes_local_backend
    from awsenvs.terraform import TerraformError

    folder = tmp_path / "cdktf.out" / "stacks" / "web-dev"
    (folder / ".terraform").mkdir(parents=True)
    document = {"terraform": {"backend": {"local": {"path": "../../../state/tiny/web-dev.tfstate"}}}}
    assert not initialized_elsewhere(folder, document) and not takes_local_backend("web-dev", folder, document)
    recorded = folder / ".terraform" / "terraform.tfstate"
    recorded.write_text(json.dumps({"version": 3, "backend": {"type": "local", "config": {
        "path": "../../../state/tiny/web-dev.tfstate", "workspace_dir": None}}}))
    assert not initialized_elsewhere(folder, document)  # the same backend: nothing to switch
    recorded.write_text(json.dumps({"version": 3, "backend": {"type": "s3", "config": {
        "bucket": "acme-tfstate", "key": "awsenvs/web-dev.tfstate", "region": "eu-west-1"}}}))
    assert initialized_elsewhere(folder, document)
    with pytest.raises(TerraformError) as refused:
        takes_local_backend("web-dev", folder, document)
    message = str(refused.value)
    assert "web-dev has no state file" in message and "s3://acme-tfstate/awsenvs/web-dev.tfstate" in message
    assert f"`terraform init -migrate-state` in {folder}" in message and "\n" not in message
    (tmp_path / "state" / "tiny").mkdir(parents=True)
    (tmp_path / "state" / "tiny" / "web-dev.tfstate").write_text(json.dumps({"version": 4, "resources": []}))
    assert takes_local_backend("web-dev", folder, document)


def test_a_taken_alias_is_one_line_saying_how_to_choose_another(tmp_path):
    """Account aliases are unique across all of AWS: CreateAccountAlias answers
    EntityAlreadyExists when another account has it (the emulator cannot show it: its
    aliases are per account).  The provider's diagnostic, as terraform streams it, becomes
    one line naming the alias and where to set another."""
    from awsenvs.results import StackResult, StackStatus
    from awsenvs.run.runner import Runner
    from awsenvs.run.stackdir import PLAN_FILE
    from awsenvs.synth import stack_dir
    from awsenvs.terraform import PlanSummary, Terraform

    diagnostic = {"@level": "error", "type": "diagnostic", "diagnostic": {
        "severity": "error", "summary": "creating account alias with name 'acme-shop-dev': operation error IAM: "
        "CreateAccountAlias, https response error StatusCode: 409, RequestID: 6f0e, EntityAlreadyExists: The account "
        "alias acme-shop-dev already exists.", "detail": ""}}
    fake = tmp_path / "terraform"
    fake.write_text(f"#!/bin/sh\necho '{json.dumps(diagnostic)}'\nexit 1\n")
    fake.chmod(0o755)
    org = config.load(TWO_PRODUCTS)
    runner = Runner(org, Terraform(binary=str(fake), env={"PATH": os.environ["PATH"]}), tmp_path / "out",
                    state_dir=tmp_path / "state")
    stack_dir(runner.outdir, "shop-dev").mkdir(parents=True)
    runner.record(StackResult("shop-dev", StackStatus.CHANGES, "222222222222", PlanSummary(add=1)))
    (stack_dir(runner.outdir, "shop-dev") / PLAN_FILE).write_text("plan")
    result = runner.apply_saved("shop-dev")
    assert result.status is StackStatus.FAILED
    env = org.environment_by_stack("shop-dev")
    assert result.error == (f"the account alias {env.alias!r} belongs to another AWS account (aliases are unique across "
                            "all of AWS): choose another with alias: under products.shop.environments.dev in "
                            "two-products.yaml, then plan and apply again")


# --------------------------------------------------------------------------- a folder moving into Terraform Cloud


def _cloud_folder(tmp_path: Path, hostname: str = "tfe.invalid") -> Path:
    """A stack folder as bootstrap leaves it before its move: initialized on the local
    backend (its state file in the state folder), its config now naming a cloud block."""
    folder = tmp_path / "cdktf.out" / "stacks" / "management"
    (folder / ".terraform").mkdir(parents=True)
    (folder / ".terraform" / "terraform.tfstate").write_text(json.dumps({"version": 3, "backend": {
        "type": "local", "config": {"path": "../../../state/tiny/management.tfstate", "workspace_dir": None}, "hash": 1}}))
    (folder / "cdk.tf.json").write_text(json.dumps({"terraform": {"cloud": {
        "organization": "quokka", "hostname": hostname, "workspaces": {"name": "management", "project": "tally"}}}}))
    return folder


def test_terraform_errors_keep_every_sentence(terraform, tmp_path):
    """Terraform wraps a diagnostic's detail at 80 columns over several paragraphs; the one
    line made of it keeps them all (`-reconfigure` with a cloud block: refused before any
    network access, so real terraform shows it here), never cut mid-sentence."""
    from awsenvs.terraform import TerraformError

    folder = _cloud_folder(tmp_path)
    with pytest.raises(TerraformError) as refused:
        terraform.run(["init", "-no-color", "-input=false", "-reconfigure"], cwd=folder)
    message = str(refused.value)
    assert message.startswith("Invalid command-line option: The -reconfigure option is"), message
    assert message.endswith("initialization automatically activates any new Cloud configuration settings."), message
    assert "\n" not in message


def test_a_folder_takes_the_cloud_block_without_reconfigure_and_is_left_as_it_was_when_the_host_is_out_of_reach(
        terraform, tmp_path):
    """Terraform refuses `init -reconfigure` with a cloud block: taking the configured
    backend there is a plain init with the folder's record of its last backend set aside.
    The host never answers (tfe.invalid, RFC 2606): one 'cannot be reached' naming it, and
    the record is put back as it was, so nothing about the folder changed."""
    from awsenvs.terraform import TerraformUnreachable

    folder = _cloud_folder(tmp_path)
    record = folder / ".terraform" / "terraform.tfstate"
    before = record.read_bytes()
    with pytest.raises(TerraformUnreachable) as unreachable:
        terraform.init(folder, reconfigure=True, cloud=True)
    assert str(unreachable.value) == "https://tfe.invalid cannot be reached: no such host"
    assert record.read_bytes() == before and sorted(p.name for p in record.parent.iterdir()) == ["terraform.tfstate"]


def test_a_rerun_of_bootstrap_looks_up_only_what_its_state_lacks(monkeypatch, tmp_path):
    """Roles and the OIDC provider already in the bootstrap state are not looked up again:
    no import of them, and no warning that their trust 'is set to this workspace's' (it is
    their own).  What the state lacks is still found and imported."""
    import boto3
    from moto import mock_aws

    from awsenvs.reconcile import bootstrap_imports
    from tests.conftest import in_process_moto_env

    in_process_moto_env(monkeypatch, tmp_path, "eu-west-1")
    path = tmp_path / "org.yaml"
    path.write_text(cloud_org_text())
    org = config.load(path)
    ids = {env.stack: "3333333333" + str(i).zfill(2) for i, env in enumerate(org.environments)}
    roles = org.run_roles(ids)
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_open_id_connect_provider(Url=org.state.oidc_url, ClientIDList=["aws.workload.identity"])
        for role in roles:
            iam.create_role(RoleName=role.name, AssumeRolePolicyDocument="{}")
            iam.put_role_policy(RoleName=role.name, PolicyName="awsenvs-run", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
        session = boto3.Session()
        everything = bootstrap_imports(org, roles, session=session)
        assert len([i for i in everything if i.risky]) == len(roles) + 1  # lost state: all imported, with warnings
        [new, *kept] = roles
        held = frozenset({config.OIDC_PROVIDER_ADDRESS, *(a for r in kept for a in (r.address, r.policy_address))})
        imports = bootstrap_imports(org, roles, held, session=session)
    assert {i.address for i in imports} == {new.address, new.policy_address}


# --------------------------------------------------------------------------- GitHub Actions' roles


def _with_github(path: Path):
    """The organization of `path` with S3 state and ci.github."""
    import yaml

    data = yaml.safe_load(path.read_text())
    data["organization"]["management_account_id"] = MANAGEMENT
    data["state"] = {"backend": "s3", "s3": {"bucket": "acme-tfstate", "region": "eu-west-1"}}
    data["ci"] = {"github": {"repository": "acme/infra"}}
    return config.parse(yaml.safe_dump(data, sort_keys=False), path)


# What the provider reads of each resource type of an account stack when it refreshes it
# (terraform-provider-aws' internal/service/iam and budgets, the resources' Read functions).
READS_OF = {
    "aws_iam_account_alias": ["iam:ListAccountAliases"],
    "aws_iam_account_password_policy": ["iam:GetAccountPasswordPolicy"],
    "aws_iam_group": ["iam:GetGroup"],
    "aws_iam_group_policy": ["iam:GetGroupPolicy"],
    "aws_iam_group_policy_attachment": ["iam:ListAttachedGroupPolicies"],
    "aws_iam_policy": ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:ListPolicyTags"],
    "aws_iam_role": ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"],
    "aws_iam_role_policy": ["iam:GetRolePolicy"],
    "aws_iam_role_policy_attachment": ["iam:ListAttachedRolePolicies"],
    "aws_iam_user": ["iam:GetUser", "iam:ListUserTags"],
    "aws_iam_user_group_membership": ["iam:ListGroupsForUser"],
    "aws_iam_user_login_profile": ["iam:GetLoginProfile"],
    "aws_budgets_budget": ["budgets:ViewBudget", "budgets:ListTagsForResource"],
}
# ... and what the look-ups and audit read there (awsenvs/live/iam.py).
AUDIT_READS = ["iam:GetAccountSummary", "iam:ListUsers", "iam:ListGroups", "iam:ListMFADevices", "iam:ListAccessKeys",
               "iam:GetGroup", "iam:ListAttachedGroupPolicies", "iam:GetRole", "iam:GetPolicy", "iam:GetPolicyVersion",
               "budgets:ViewBudget"]


@pytest.mark.parametrize("name", ["example", "two", "identity_center"])
def test_the_github_plan_role_reads_what_the_management_stack_reads_and_writes_nothing(synthesized, name):
    from awsenvs.modules.bootstrap_policies import github_plan_policy

    s = synthesized[name]
    policy = github_plan_policy(_with_github(s.org.source))
    document = s.stacks["management"]
    for type_ in [*document.get("resource", {}), *document.get("data", {})]:
        if type_ == "aws_caller_identity":
            continue
        for action in ACTIONS_OF[type_]:
            reads = action.split(":")[1].startswith(("Describe", "List", "Get"))
            assert _allows(policy, action) == reads, f"{type_}: {action} {'not readable' if reads else 'writable'}"
    assert _allows(policy, "iam:GetAccountSummary")  # audit's root MFA check
    assert not _allows(policy, "sts:AssumeRole", f"arn:aws:iam::{MEMBER}:role/OrganizationAccountAccessRole")


def test_github_roles_beside_the_terraform_cloud_roles_and_the_read_role_of_an_account(bootstrap_stacks):
    """ci.github with cloud state: GitHub's provider and roles sit beside Terraform Cloud's
    (other addresses); the plan role has no S3 statement (the state is in Terraform Cloud);
    an account stack makes awsenvs-github-read, trusted by the plan role alone, reading only
    what the stack's plan refreshes and the look-ups read."""
    org, document, roles, account = bootstrap_stacks["github"]
    resources = document["resource"]
    providers = resources["aws_iam_openid_connect_provider"]
    assert providers["terraform_cloud"]["url"] == "https://app.terraform.io"
    assert providers["github"] == {**providers["github"], "url": "https://token.actions.githubusercontent.com",
                                   "client_id_list": ["sts.amazonaws.com"]}
    assert "thumbprint_list" not in providers["github"]
    assert {r["name"] for r in resources["aws_iam_role"].values()} == {
        *(f"awsenvs-run-acme-{s}" for s in org.stacks), "awsenvs-github-plan", "awsenvs-github-apply"}
    by_name = {r["name"]: r for r in resources["aws_iam_role"].values()}
    for name in ("awsenvs-github-plan", "awsenvs-github-apply"):
        [statement] = json.loads(by_name[name]["assume_role_policy"])["Statement"]
        assert statement["Principal"] == {"Federated": "${aws_iam_openid_connect_provider.github.arn}"}
    assert by_name["awsenvs-github-apply"]["max_session_duration"] == 7200
    plan_policy = json.loads(resources["aws_iam_role_policy"]["githubplan"]["policy"])
    assert not [s for s in plan_policy["Statement"] if "s3" in json.dumps(s["Action"])]

    role = account["resource"]["aws_iam_role"]["github_read"]
    assert role["name"] == "awsenvs-github-read"
    [statement] = json.loads(role["assume_role_policy"])["Statement"]
    assert statement == {"Sid": "TheGitHubPlanRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                         "Principal": {"AWS": "arn:aws:iam::111111111111:role/awsenvs-github-plan"}}
    policy = json.loads(account["resource"]["aws_iam_role_policy"]["github_read"]["policy"])
    assert policy["Statement"] and all(s["Effect"] == "Allow" for s in policy["Statement"])
    for s in policy["Statement"]:
        for action in s["Action"] if isinstance(s["Action"], list) else [s["Action"]]:
            assert action.split(":")[1].startswith(("Get", "List", "View")), action
    for type_ in [*account["resource"], *account.get("data", {})]:
        if type_ == "aws_caller_identity":
            continue
        assert type_ in READS_OF, f"{type_}: which actions does its refresh call? (add them to READS_OF)"
        for action in READS_OF[type_]:
            assert _allows(policy, action, f"arn:aws:iam::{MEMBER}:role/x"), f"{type_} needs {action}"
    for action in AUDIT_READS:
        assert _allows(policy, action)
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:CreateAccessKey", "iam:UpdateAssumeRolePolicy",
                   "budgets:ModifyBudget", "sts:AssumeRole"):
        assert not _allows(policy, action), action
    # The stack itself still acts through its managing role: only a pull request's plan reads through this one.
    [provider] = account["provider"]["aws"]
    assert provider["assume_role"][0]["role_arn"].endswith(":role/OrganizationAccountAccessRole")


def test_a_pull_requests_plan_reaches_accounts_through_the_read_role_but_cloud_runs_keep_theirs(tmp_path):
    """ci plan's read-only view (Org.reading_through): with state in S3 the account stack's
    provider assumes awsenvs-github-read (the plan role may assume nothing else); with
    Terraform Cloud the run acts with its workspace's role, which may assume only the
    account's own: the provider keeps it."""
    from awsenvs.synth import build_stacks
    from tests.conftest import GITHUB_CI, S3_STATE

    def provider_role(backend: str, text: str) -> str:
        path = tmp_path / backend / "org.yaml"
        path.parent.mkdir()
        path.write_text(text)
        view = config.load(path).reading_through("awsenvs-github-read")
        build_stacks(view, ["shop-prod"], path.parent / "cdktf.out", None, path.parent / "built", {})
        [provider] = json.loads((path.parent / "built" / "stacks" / "shop-prod" / "cdk.tf.json").read_text())["provider"]["aws"]
        return provider["assume_role"][0]["role_arn"]

    assert provider_role("s3", cloud_org_text().replace(CLOUD_STATE, S3_STATE) + GITHUB_CI).endswith(
        ":role/awsenvs-github-read")
    assert provider_role("cloud", cloud_org_text() + GITHUB_CI).endswith(":role/OrganizationAccountAccessRole")


def test_planning_waits_for_bootstrap_to_make_the_github_plan_role(monkeypatch, tmp_path):
    """The read roles trust the plan role by its ARN, which IAM refuses while that role does not
    exist: until bootstrap has made it, the run's look-ups stop with one line saying so."""
    import boto3
    from moto import mock_aws

    from awsenvs.checks import PreflightError, check_ci_plan_role
    from awsenvs.live.bootstrap import management_role_exists
    from tests.conftest import in_process_moto_env

    in_process_moto_env(monkeypatch, tmp_path, "eu-west-1")
    org = _with_github(TWO_PRODUCTS)
    with mock_aws():
        with pytest.raises(PreflightError) as refused:
            check_ci_plan_role(org, management_role_exists("awsenvs-github-plan"))
        assert "\n" not in str(refused.value)
        assert str(refused.value).startswith("ci.github: the role awsenvs-github-plan is not in the management account yet")
        assert str(refused.value).endswith("run `make bootstrap` first, which makes it")
        boto3.client("iam").create_role(RoleName="awsenvs-github-plan", AssumeRolePolicyDocument="{}")
        check_ci_plan_role(org, management_role_exists("awsenvs-github-plan"))
