"""End to end: `bootstrap` of the state backends, with real terraform against the emulator.

- s3: the emulator serves https (Emulator(tls=True)): the bucket's TLS-only policy denies
  plain http, as on AWS (awsenvs/moto_server.py decides the condition by the request's
  scheme).  Bootstrap creates the bucket, a second run changes nothing, then the stacks
  keep their state in it through `plan` and `apply`.  Its org.yaml has ci.github: bootstrap
  also makes GitHub Actions' OIDC provider and roles, read back condition by condition.
- cloud: bootstrap creates the OIDC provider and a role per workspace; their trust
  policies and permissions are read back with boto3.  (Terraform Cloud itself is not
  here: the stacks' cloud block is checked by `terraform validate` in test_remote_state.py.)
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import boto3
import pytest
import yaml

from awsenvs import config
from awsenvs.sandbox import Emulator
from tests.conftest import Rehearsal, seed_rehearsal

pytestmark = pytest.mark.e2e

ORG = """
organization:
  name: tiny
  email: ops@tiny.example.com
  region: eu-west-1
groups:
  admins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess]}
guardrails: {deny_leave_organization: false, protect_baseline: false, deny_root_user: false}
products:
  web:
    users: {ann: {groups: [admins]}}
    environments:
      old: {account_id: "210987654321"}
      dev: {}
"""
BUCKET = "tiny-tfstate"
S3_STATE = {"backend": "s3", "s3": {"bucket": BUCKET, "region": "eu-west-1", "key_prefix": "awsenvs"}}


def _rehearsal(emulator, provider_mirror, workdir: Path, org_text: str, state: dict) -> Rehearsal:
    source = workdir / "source.yaml"
    source.write_text(org_text)
    env, path = seed_rehearsal(emulator, provider_mirror, workdir, source)
    _set_state(path, state)
    return Rehearsal(workdir, env, path)


def _set_state(path: Path, state: dict) -> None:
    """org.yaml's `state:` block, as an operator edits it."""
    data = yaml.safe_load(path.read_text())
    data["state"] = state
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# --------------------------------------------------------------------------- s3


# GitHub Actions' roles come along with the s3 rehearsal (bootstrap makes them beside the bucket).
REPOSITORY = "tiny-co/accounts"
CI = {"github": {"repository": REPOSITORY, "environment": "deploy", "protected_environment": "deploy-prod"}}


@pytest.fixture(scope="module")
def s3_rehearsal(provider_mirror, tmp_path_factory):
    with Emulator(tls=True) as emulator:
        rehearsal = _rehearsal(emulator, provider_mirror, tmp_path_factory.mktemp("e2e-s3"), ORG, S3_STATE)
        data = yaml.safe_load(rehearsal.config_path.read_text())
        rehearsal.config_path.write_text(yaml.safe_dump({**data, "ci": CI}, sort_keys=False))
        rehearsal.org = config.load(rehearsal.config_path)
        yield rehearsal


@pytest.fixture(scope="module")
def bootstrapped(s3_rehearsal):
    # Without a terminal and without --yes, nothing is applied (and no plan file is left).
    refused = s3_rehearsal.cli("bootstrap")
    assert refused.returncode == 1, refused.stderr
    assert "refusing to apply the bootstrap plan" in refused.stderr and "Traceback" not in refused.stderr
    with s3_rehearsal.boto():
        assert BUCKET not in [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    assert not list((s3_rehearsal.workdir / "cdktf.out").rglob("awsenvs.tfplan"))

    proc = s3_rehearsal.cli("bootstrap", "--yes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "aws_s3_bucket.state" in proc.stderr and "applied" in proc.stderr
    s3_rehearsal.bootstrap_output = proc.stderr
    return s3_rehearsal


def test_bootstrap_makes_a_private_versioned_encrypted_tls_only_bucket(bootstrapped):
    with bootstrapped.boto():
        s3 = boto3.client("s3", region_name="eu-west-1")
        assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
        rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and rules[0]["BucketKeyEnabled"]
        [rule] = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
        assert rule["Status"] == "Enabled" and rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
        block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
        assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(statement["Resource"]) == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    state = bootstrapped.org.state.bootstrap_state
    assert state.exists() and state.stat().st_mode & 0o077 == 0  # local, owner-only


GITHUB = "token.actions.githubusercontent.com"


def _github_roles(rehearsal) -> tuple[dict, dict, dict]:
    """Read back from the emulator: GitHub's OIDC provider, and role name -> (role, its inline policy)."""
    with rehearsal.boto():
        iam = boto3.client("iam")
        [provider] = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
                      if p["Arn"].endswith(f":oidc-provider/{GITHUB}")]
        described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)
        roles = {name: (iam.get_role(RoleName=name)["Role"], iam.get_role_policy(RoleName=name, PolicyName="awsenvs-ci")["PolicyDocument"])
                 for name in ("awsenvs-github-plan", "awsenvs-github-apply")}
    return {"Arn": provider, **described}, roles["awsenvs-github-plan"], roles["awsenvs-github-apply"]


def _only_statement_of(trust: dict) -> dict:
    [statement] = trust["Statement"]
    return statement


def test_bootstrap_makes_the_github_roles_trusting_only_the_configured_jobs(bootstrapped):
    """ci.github with s3 state: bootstrap (the CLI) makes GitHub's OIDC provider and the plan and
    apply roles; read back, each trust condition holds exactly the configured values
    (StringEquals, never StringLike), the plan role writes nothing but the state's lock files
    and may assume only the read roles, and the apply role keeps the explicit denies."""
    from tests.test_remote_state import _allows

    provider, (plan, plan_policy), (apply, apply_policy) = _github_roles(bootstrapped)
    assert provider["Url"].removeprefix("https://") == GITHUB
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]

    subjects = {
        "plan": [f"repo:{REPOSITORY}:pull_request", f"repo:{REPOSITORY}:ref:refs/heads/main"],
        "apply": [f"repo:{REPOSITORY}:environment:deploy", f"repo:{REPOSITORY}:environment:deploy-prod"],
    }
    for kind, role in (("plan", plan), ("apply", apply)):
        statement = _only_statement_of(role["AssumeRolePolicyDocument"])
        assert statement["Effect"] == "Allow" and statement["Principal"] == {"Federated": provider["Arn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert list(statement["Condition"]) == ["StringEquals"], statement["Condition"]  # no StringLike: no wildcard
        equals = statement["Condition"]["StringEquals"]
        assert sorted(equals) == [f"{GITHUB}:aud", f"{GITHUB}:sub"]
        assert equals[f"{GITHUB}:aud"] == "sts.amazonaws.com"
        assert sorted(equals[f"{GITHUB}:sub"]) == sorted(subjects[kind]), kind
    assert apply["MaxSessionDuration"] == 7200  # a long apply outlasts configure-aws-credentials' default hour
    assert plan["MaxSessionDuration"] == 3600

    # The plan role: every action it is allowed either reads, or is one of three writes.
    state, lock = "arn:aws:s3:::tiny-tfstate/awsenvs/web-dev.tfstate", "arn:aws:s3:::tiny-tfstate/awsenvs/web-dev.tfstate.tflock"
    reads = ("Get", "List", "Describe", "View")
    writes = set()
    for statement in plan_policy["Statement"]:
        assert statement["Effect"] == "Allow", statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        writes |= {(action, resource) for action in actions if not action.split(":")[1].startswith(reads)
                   for resource in resources}
    assert writes == {("s3:PutObject", "arn:aws:s3:::tiny-tfstate/awsenvs/*.tflock"),
                      ("s3:DeleteObject", "arn:aws:s3:::tiny-tfstate/awsenvs/*.tflock"),
                      ("sts:AssumeRole", "arn:aws:iam::*:role/awsenvs-github-read")}, writes
    assert _allows(plan_policy, "s3:GetObject", state) and _allows(plan_policy, "s3:PutObject", lock)
    assert not _allows(plan_policy, "s3:PutObject", state) and not _allows(plan_policy, "s3:DeleteObject", state)
    old = bootstrapped.org.environment_by_stack("web-old").account_id
    assert _allows(plan_policy, "sts:AssumeRole", f"arn:aws:iam::{old}:role/awsenvs-github-read")
    assert not _allows(plan_policy, "sts:AssumeRole", f"arn:aws:iam::{old}:role/OrganizationAccountAccessRole")
    assert not _allows(plan_policy, "organizations:CreateAccount") and not _allows(plan_policy, "iam:CreateRole")

    # The apply role: apply's rights, the account stacks' role, and never the organization's end.
    assert _allows(apply_policy, "organizations:CreateAccount") and _allows(apply_policy, "s3:PutObject", state)
    assert _allows(apply_policy, "sts:AssumeRole", f"arn:aws:iam::{old}:role/OrganizationAccountAccessRole")
    assert not _allows(apply_policy, "sts:AssumeRole", f"arn:aws:iam::{old}:role/somebody-else")
    assert not _allows(apply_policy, "s3:DeleteObject", state)
    [deny] = [s for s in apply_policy["Statement"] if s["Effect"] == "Deny"]
    assert sorted(deny["Action"]) == ["organizations:CloseAccount", "organizations:DeleteOrganization",
                                      "organizations:LeaveOrganization", "organizations:RemoveAccountFromOrganization"]
    assert deny["Resource"] == "*" and "Condition" not in deny
    for action in deny["Action"]:
        assert not _allows(apply_policy, action)

    # What bootstrap printed: both roles and the next steps.
    management = bootstrapped.org.management_account_id
    output = " ".join(bootstrapped.bootstrap_output.split())
    assert f"plan role arn:aws:iam::{management}:role/awsenvs-github-plan" in output
    assert f"apply role arn:aws:iam::{management}:role/awsenvs-github-apply" in output
    assert "`make ci`" in output and "Required reviewers" in output and "deploy-prod" in output


def test_bootstrap_adopts_github_roles_that_exist_already(bootstrapped, tmp_path):
    """The bootstrap state is lost (another machine, a deleted folder): the next bootstrap
    imports the OIDC provider and both roles with their policies, instead of failing on
    EntityAlreadyExists, and says so; their documents are as before."""
    before = _github_roles(bootstrapped)
    state = bootstrapped.org.state.bootstrap_state
    shutil.move(state, tmp_path / "lost.tfstate")
    proc = bootstrapped.cli("bootstrap", "--yes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = " ".join(proc.stderr.split())
    for address in ("aws_iam_openid_connect_provider.github", "aws_iam_role.githubplan", "aws_iam_role.githubapply",
                    "aws_iam_role_policy.githubplan", "aws_iam_role_policy.githubapply"):
        assert f"import {address}:" in output, address
    assert "EntityAlreadyExists" not in output

    def documents(found):
        provider, *roles = found
        return (provider["Arn"], provider["ClientIDList"],
                [(role["Arn"], role["AssumeRolePolicyDocument"], role["MaxSessionDuration"], policy) for role, policy in roles])

    assert documents(_github_roles(bootstrapped)) == documents(before)
    again = bootstrapped.cli("bootstrap")
    assert again.returncode == 0 and "no changes" in again.stderr, again.stderr[-3000:]


def test_the_tls_only_policy_denies_plain_http(bootstrapped):
    """What the policy is for, on an emulator serving plain http: the same policy on a
    bucket there refuses the request that an https one lets through."""
    with bootstrapped.boto():
        document = boto3.client("s3", region_name="eu-west-1").get_bucket_policy(Bucket=BUCKET)["Policy"]
    with Emulator() as plain, bootstrapped.boto():
        s3 = boto3.client("s3", endpoint_url=plain.endpoint, region_name="eu-west-1")
        s3.create_bucket(Bucket="probe", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="probe", Key="before", Body=b"x")
        s3.put_bucket_policy(Bucket="probe", Policy=document.replace(BUCKET, "probe"))
        with pytest.raises(s3.exceptions.ClientError, match="403|Forbidden|AccessDenied"):
            s3.put_object(Bucket="probe", Key="after", Body=b"x")


def test_s3_state_over_plain_http_is_refused_at_once(provider_mirror, tmp_path):
    """The emulator started over http (docs/emulator.md's by-hand block without a
    certificate): the state bucket's TLS-only policy would answer 403 Forbidden to every
    request, after a minute of terraform's retries.  bootstrap and plan stop at once with
    one line saying so and how to use https; nothing is created."""
    with Emulator() as plain:
        rehearsal = _rehearsal(plain, provider_mirror, tmp_path, ORG, S3_STATE)
        for command in (("bootstrap", "--yes"), ("plan",)):
            started = time.monotonic()
            proc = rehearsal.cli(*command)
            assert proc.returncode == 1, proc.stderr[-3000:]
            [line] = proc.stderr.strip().splitlines()
            assert line.startswith(f"error: the state bucket s3://{BUCKET} allows TLS only"), line
            assert f"the S3 endpoint is {plain.endpoint} (AWS_ENDPOINT_URL): use https" in line, line
            assert time.monotonic() - started < 20, command  # not terraform's minute of retries
        with rehearsal.boto():
            assert boto3.client("s3").list_buckets()["Buckets"] == []
        assert not list((tmp_path / "cdktf.out").rglob("*.tfstate")) and not rehearsal.org.state.local_dir.exists()


def test_a_second_bootstrap_changes_nothing(bootstrapped):
    proc = bootstrapped.cli("bootstrap")  # no --yes and no terminal: fine when there is nothing to apply
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "no changes" in proc.stderr


def test_the_stacks_keep_their_state_in_the_bucket(bootstrapped):
    proc = bootstrapped.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-3000:]
    org = bootstrapped.org
    with bootstrapped.boto():
        keys = {o["Key"] for o in boto3.client("s3", region_name="eu-west-1").list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {org.state.s3_key(stack) for stack in org.stacks}  # no lock file left behind
    with bootstrapped.boto():
        s3 = boto3.client("s3", region_name="eu-west-1")
        encryption = {key: s3.head_object(Bucket=BUCKET, Key=key).get("ServerSideEncryption") for key in keys}
    # The bucket's default (SSE-KMS) applies: the backend sends no AES256 header of its own.
    assert set(encryption.values()) == {"aws:kms"}, encryption
    assert [p.name for p in org.state.local_dir.glob("*.tfstate")] == ["bootstrap.tfstate"]  # the stacks' are not local
    proc = bootstrapped.cli("plan", "--all")
    assert proc.returncode == 0, proc.stderr[-3000:]  # read back from the bucket: no changes


def test_a_state_another_machine_holds_is_named_as_locked(bootstrapped):
    """Another machine's run holds web-dev's state (its lock file in the bucket, as terraform
    writes it with use_lockfile): the plan of web-dev fails, after terraform's lock timeout,
    with one line naming the lock, who holds it since when, and force-unlock only if that run
    is gone; terraform's own paragraph about locking is not repeated."""
    lock = {"ID": "1b6f1c2e-aaaa-bbbb-cccc-123456789abc", "Operation": "OperationTypeApply", "Info": "",
            "Who": "ann@ci-runner-7", "Version": "1.11.0", "Created": "2025-12-05T02:58:11.123456Z",
            "Path": f"{BUCKET}/awsenvs/web-dev.tfstate"}
    with bootstrapped.boto():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.put_object(Bucket=BUCKET, Key="awsenvs/web-dev.tfstate.tflock", Body=json.dumps(lock).encode())
        try:
            proc = bootstrapped.cli("plan", "--all", "--stack", "web-dev")
        finally:
            s3.delete_object(Bucket=BUCKET, Key="awsenvs/web-dev.tfstate.tflock")
    assert proc.returncode == 1, proc.stderr[-3000:]
    output = " ".join(proc.stderr.replace("│", " ").split())
    assert ("the state of web-dev is locked by another run: apply by ann@ci-runner-7 since 2025-12-05 02:58 UTC (lock "
            f"ID {lock['ID']}): wait for it to finish, then run again; `terraform force-unlock {lock['ID']}` in") in output
    assert "Terraform acquires a state lock" not in output and "Traceback" not in output


# --------------------------------------------------------------------------- a move that stops half way


def _terraform_failing_push_in(folder: Path, stack: str) -> Path:
    """terraform, but `state push` in `stack`'s folder fails: bootstrap's move stops there,
    after the stacks before it were pushed."""
    script = folder / "terraform-failing-push"
    script.write_text(f"""#!/bin/sh
if [ "$1 $2" = "state push" ] && [ "$(basename "$PWD")" = {stack} ]; then
  echo "Error: the test stops the move here" >&2
  exit 1
fi
exec {shutil.which("terraform")} "$@"
""")
    script.chmod(0o755)
    return script


def test_a_move_that_stops_half_way_is_never_a_dead_end(provider_mirror, tmp_path):
    """bootstrap's move stops after management's state was pushed, before web-old's: every
    local state file stays, so setting state.backend back to local plans at once (the folder
    bootstrap initialized on s3 takes the local backend again), and going forward again
    bootstrap resumes the move (management's state recognized, web-old's pushed)."""
    with Emulator(tls=True) as emulator:
        rehearsal = _rehearsal(emulator, provider_mirror, tmp_path, ORG.replace("      dev: {}\n", ""), {"backend": "local"})
        applied = rehearsal.cli("apply", "--yes")
        assert applied.returncode == 0, applied.stderr[-3000:]
        org = rehearsal.org
        local = {path.name: path.read_bytes() for path in org.state.local_dir.glob("*.tfstate")}
        assert sorted(local) == ["management.tfstate", "web-old.tfstate"]

        _set_state(rehearsal.config_path, S3_STATE)
        failing = _terraform_failing_push_in(tmp_path, "web-old")
        stopped = rehearsal.cli("bootstrap", "--yes", env={**rehearsal.env, "TERRAFORM_BIN": str(failing)})
        assert stopped.returncode == 1, stopped.stderr[-3000:]
        [line] = [line for line in stopped.stderr.splitlines() if line.startswith("error:")]
        assert line.startswith("error: moving the state of web-old: the test stops the move here -- no local state "
                               "file was moved (1 of 2 states are in the new backend"), line
        assert "set state.backend back to local" in line
        assert {path.name: path.read_bytes() for path in org.state.local_dir.glob("*.tfstate")} == {
            **local, "bootstrap.tfstate": org.state.bootstrap_state.read_bytes()}
        assert not list(org.state.local_dir.glob("moved-*"))
        with rehearsal.boto():
            s3 = boto3.client("s3", region_name="eu-west-1")
            assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["awsenvs/management.tfstate"]

        _set_state(rehearsal.config_path, {"backend": "local"})
        back = rehearsal.cli("plan", "--all")
        assert back.returncode == 0, back.stderr[-3000:]
        assert back.stderr.count("no changes") >= 2 and "bootstrap" not in back.stderr

        _set_state(rehearsal.config_path, S3_STATE)
        resumed = rehearsal.cli("bootstrap", "--yes")
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "management: already in the new backend (an earlier move pushed it)" in resumed.stderr
        assert "web-old: state pushed to the new backend" in resumed.stderr
        assert [p.name for p in org.state.local_dir.glob("*.tfstate")] == ["bootstrap.tfstate"]
        [backup] = org.state.local_dir.glob("moved-*")
        assert {path.name: path.read_bytes() for path in backup.glob("*.tfstate")} == local
        with rehearsal.boto():
            keys = [o["Key"] for o in boto3.client("s3", region_name="eu-west-1").list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert sorted(keys) == ["awsenvs/management.tfstate", "awsenvs/web-old.tfstate"]
        planned = rehearsal.cli("plan", "--all")
        assert planned.returncode == 0, planned.stderr[-3000:]


# --------------------------------------------------------------------------- cloud


CLOUD = {"backend": "cloud", "cloud": {"organization": "tiny-tfc", "project": "accounts", "workspace_prefix": "tiny-"}}


@pytest.fixture(scope="module")
def cloud_rehearsal(provider_mirror, tmp_path_factory):
    # Every account adopted: their ids are in org.yaml, so nothing reads Terraform Cloud.
    adopted = ORG.replace("dev: {}", 'dev: {account_id: "310987654321"}')
    with Emulator() as emulator:
        rehearsal = _rehearsal(emulator, provider_mirror, tmp_path_factory.mktemp("e2e-cloud"), adopted, CLOUD)
        rehearsal.emulator = emulator
        yield rehearsal


def test_cloud_bootstrap_makes_one_role_per_workspace_trusting_only_its_runs(cloud_rehearsal):
    """The first bootstrap, whose answer to CreateOpenIDConnectProvider is lost (the SDK's
    retry meets the provider the first attempt made: EntityAlreadyExists), imports it,
    applies again in the same run and says so; a second bootstrap changes nothing."""
    cloud_rehearsal.emulator.inject({"service": "iam", "action": "CreateOpenIDConnectProvider", "fault": "lost",
                                     "times": 1})
    try:
        proc = cloud_rehearsal.cli("bootstrap", "--yes")
        assert [(r["matched"], r["injected"]) for r in cloud_rehearsal.emulator.injected()] == [(2, 1)]
    finally:
        cloud_rehearsal.emulator.clear_faults()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ("bootstrap: aws_iam_openid_connect_provider.terraform_cloud existed already (a create whose answer was lost, "
            "or another run's): planning it again with them imported") in proc.stderr, proc.stderr[-3000:]
    assert "bootstrap: aws_iam_openid_connect_provider.terraform_cloud imported and applied again in this run" in proc.stderr
    org = config.load(cloud_rehearsal.config_path)
    with cloud_rehearsal.boto():
        iam = boto3.client("iam")
        [provider] = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider["Arn"])
        roles = {r["RoleName"]: r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("awsenvs-run-")}
        policies = {name: json.loads(json.dumps(iam.get_role_policy(RoleName=name, PolicyName="awsenvs-run")["PolicyDocument"]))
                    for name in roles}
    assert described["Url"].removeprefix("https://") == "app.terraform.io"
    assert described["ClientIDList"] == ["aws.workload.identity"]
    workspaces = {"tiny-management": "management", "tiny-web-old": "web-old", "tiny-web-dev": "web-dev"}
    assert sorted(roles) == sorted(f"awsenvs-run-{w}" for w in workspaces)
    for workspace in workspaces:
        trust = roles[f"awsenvs-run-{workspace}"]["AssumeRolePolicyDocument"]
        [statement] = trust["Statement"]
        assert statement["Principal"] == {"Federated": provider["Arn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {"app.terraform.io:aud": "aws.workload.identity"},
            "StringLike": {"app.terraform.io:sub": f"organization:tiny-tfc:project:accounts:workspace:{workspace}:run_phase:*"},
        }
    assert policies["awsenvs-run-tiny-management"]["Statement"][0]["Action"] == "organizations:*"
    for stack in ("web-old", "web-dev"):
        [statement] = policies[f"awsenvs-run-tiny-{stack}"]["Statement"]
        account_id = org.environment_by_stack(stack).account_id
        assert statement == {"Sid": "AssumeTheAccountRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                             "Resource": f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"}
    # The workspace variables to set, per workspace.
    for workspace in workspaces:
        assert workspace in proc.stderr
    assert "TFC_AWS_RUN_ROLE_ARN" in proc.stderr and "awsenvs-run-tiny-web-dev" in proc.stderr

    again = cloud_rehearsal.cli("bootstrap")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "no changes" in again.stderr


def test_cloud_bootstrap_stops_when_the_created_accounts_are_unknown(cloud_rehearsal, tmp_path):
    """An account org.yaml does not adopt is known only from the management stack's state;
    when that cannot be read (here: a host that never resolves), bootstrap stops before
    planning, so no role loses its permission."""
    data = yaml.safe_load(cloud_rehearsal.config_path.read_text())
    data["products"]["web"]["environments"]["new"] = {}
    data["state"]["cloud"]["hostname"] = "tfe.invalid"  # RFC 2606: never resolves
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with cloud_rehearsal.boto():
        before = {r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]}
    proc = cloud_rehearsal.cli("--config", str(path), "bootstrap", "--yes")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "cannot read the management stack's state" in proc.stderr and "terraform login" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    with cloud_rehearsal.boto():
        iam = boto3.client("iam")
        assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == before
        assert iam.get_role_policy(RoleName="awsenvs-run-tiny-web-dev", PolicyName="awsenvs-run")


def test_a_rerun_with_changes_warns_only_about_what_its_state_lacks(cloud_rehearsal):
    """A second bootstrap that changes the roles (another project: every trust policy
    changes) shows no import of the roles and the OIDC provider it made itself, and no
    warning that their trust "is set to this workspace's": they are in its state."""
    original = cloud_rehearsal.config_path.read_text()
    data = yaml.safe_load(original)
    data["state"]["cloud"]["project"] = "accounts-2"
    cloud_rehearsal.config_path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        proc = cloud_rehearsal.cli("bootstrap", "--yes")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "update" in proc.stderr and "aws_iam_role.web_dev" in proc.stderr, proc.stderr
        assert "import" not in proc.stderr and "warning" not in proc.stderr, proc.stderr
        with cloud_rehearsal.boto():
            trust = boto3.client("iam").get_role(RoleName="awsenvs-run-tiny-web-dev")["Role"]["AssumeRolePolicyDocument"]
        assert ":project:accounts-2:" in trust["Statement"][0]["Condition"]["StringLike"]["app.terraform.io:sub"]
    finally:
        cloud_rehearsal.config_path.write_text(original)
        cloud_rehearsal.cli("bootstrap", "--yes")


# --------------------------------------------------------------------------- from local state into Terraform Cloud


TFC_UNREACHABLE = {"backend": "cloud", "cloud": {"organization": "quokka", "project": "tally",
                                                  "hostname": "tfe.invalid"}}  # RFC 2606: never resolves


@pytest.fixture(scope="module")
def applied_locally(provider_mirror, tmp_path_factory):
    """The tiny organization applied with local state (an adopted and a created account)."""
    with Emulator() as emulator:
        rehearsal = _rehearsal(emulator, provider_mirror, tmp_path_factory.mktemp("e2e-local-first"), ORG,
                               {"backend": "local"})
        applied = rehearsal.cli("apply", "--yes")
        assert applied.returncode == 0, applied.stderr[-3000:]
        yield rehearsal


def test_the_move_into_terraform_cloud_goes_as_far_as_the_host_and_says_the_way_on(applied_locally):
    """After a local apply, state.backend cloud and bootstrap: the run roles are made, then
    each stack's folder takes the cloud block with a plain `terraform init` (Terraform
    refuses -reconfigure there).  The host never answers: one line naming it and the stack,
    saying what was left as it was and that bootstrap continues; `plan` names bootstrap or
    going back; bootstrap again says the same (no other error); back to local, every stack
    plans no changes from its untouched local state."""
    rehearsal = applied_locally
    org = rehearsal.org
    local = {path.name: path.read_bytes() for path in org.state.local_dir.glob("*.tfstate")}
    assert sorted(local) == ["management.tfstate", "web-dev.tfstate", "web-old.tfstate"]
    _set_state(rehearsal.config_path, TFC_UNREACHABLE)
    try:
        for attempt in range(2):
            proc = rehearsal.cli("bootstrap", "--yes")
            assert proc.returncode == 1, proc.stderr[-3000:]
            [line] = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
            assert line.startswith("error: cannot reach tfe.invalid for stack management: check the network"), line
            assert "`terraform login tfe.invalid`" in line and "Invalid command-line option" not in line, line
            assert "no local state file was moved (0 of 3 states are in the new backend" in line, line
            assert "run bootstrap again once that is fixed, and it continues the move" in line, line
            assert line.endswith("where every stack plans from its local state as before"), line
            assert "Traceback" not in proc.stderr
            assert {path.name: path.read_bytes() for path in org.state.local_dir.glob("*.tfstate")} == {
                **local, "bootstrap.tfstate": org.state.bootstrap_state.read_bytes()}
            assert not list(org.state.local_dir.glob("moved-*"))
            if attempt == 0:
                with rehearsal.boto():
                    roles = {r["RoleName"] for r in boto3.client("iam").list_roles()["Roles"]}
                assert {f"awsenvs-run-{stack}" for stack in org.stacks} <= roles  # made before the move
                planned = rehearsal.cli("plan")
                assert planned.returncode == 1, planned.stderr[-3000:]
                [line] = planned.stderr.strip().splitlines()
                assert "still have local state" in line and "run `bootstrap`" in line, line
                assert "or set state.backend back to local" in line, line
    finally:
        _set_state(rehearsal.config_path, {"backend": "local"})
    back = rehearsal.cli("plan", "--all")
    assert back.returncode == 0, back.stderr[-3000:]
    assert back.stderr.count("no changes") >= 3, back.stderr[-3000:]


def test_a_copy_of_org_yaml_in_another_folder_finds_no_state_beside_it(applied_locally, tmp_path):
    """`--config` naming a copy of org.yaml in another folder, run where the stacks were run
    with the original: the state is looked for beside the copy, where there is none.  One
    line saying so (where it looked, where the runs kept it, what to do), nothing planned:
    not a plan that would create everything again, nor "run bootstrap"."""
    rehearsal = applied_locally
    copy = tmp_path / "elsewhere" / "org.yaml"
    copy.parent.mkdir()
    copy.write_text(rehearsal.config_path.read_text())
    for command, code in ((("plan",), 1), (("apply", "--yes"), 2)):  # plan's 2 means "changes"
        proc = rehearsal.cli("--config", str(copy), *command)
        assert proc.returncode == code, proc.stderr[-3000:]
        [line] = proc.stderr.strip().splitlines()
        assert line.startswith(f"error: no state was found beside {copy} (its state.path puts the stacks' state files "
                               f"in {copy.parent / 'state' / 'tiny'})"), line
        assert f"last run with their state in {rehearsal.org.state.local_dir}" in line, line
        assert "pass --config (ORG= with make) the org.yaml those runs used" in line and "bootstrap" not in line, line
    assert not list((copy.parent / "state").rglob("*.tfstate"))  # only the run lock beside it


def test_synth_hcl_reads_the_created_accounts_from_the_bucket(bootstrapped, tmp_path):
    """With remote state, `synth --hcl` reads the management stack's outputs from its state
    in the bucket (through a folder holding only its backend) and writes the created
    account's id as the default."""
    import re

    proc = bootstrapped.cli("synth", "--hcl", env=dict(bootstrapped.env, CDKTF_OUTDIR=str(tmp_path / "infra")))
    assert proc.returncode == 0, proc.stderr[-3000:]
    with bootstrapped.boto():
        accounts = {a["Name"]: a["Id"] for a in boto3.client("organizations").list_accounts()["Accounts"]}
    text = (tmp_path / "infra" / "stacks" / "web-dev" / "cdk.tf").read_text()
    default = re.search(r'default\s*=\s*"([^"]*)"', text[text.index('variable "account_id"'):]).group(1)
    assert default == accounts["web_dev"]
    assert sorted(p.name for p in (tmp_path / "infra" / "stacks" / "web-dev").iterdir()) == ["cdk.tf"]  # nothing else to commit
