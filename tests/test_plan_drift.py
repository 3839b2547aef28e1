"""A plain `plan` plans the stacks whose live objects differ from org.yaml (drift), not only
those whose inputs changed: the runner's choice with a stand-in terraform, then end to end
on an emulator of this module's own (a small organization, one apply), where objects are
changed with boto3 behind awsenvs' back and audit's rows say what restores each."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest

from awsenvs import aws
from awsenvs.config import load
from awsenvs.drift import RESTORED_BY_APPLY
from awsenvs.results import StackStatus
from awsenvs.run.runner import Runner
from awsenvs.terraform import Plan, PlanSummary
from conftest import ROOT, TWO_PRODUCTS, seed_rehearsal

MANAGEMENT = "123456789012"  # moto's management account
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


# --------------------------------------------------------------------------- the runner's choice


class StandInTerraform:
    """Plans without a provider: records which stacks it was run in; `changing` ones have changes."""

    version = "1.11.0"

    def __init__(self, changing: set[str] = frozenset()) -> None:
        self.changing = changing
        self.planned: list[str] = []

    def init(self, directory, reconfigure=False, cloud=False) -> None:
        (directory / ".terraform").mkdir(exist_ok=True)

    def plan(self, directory, planfile, on_event=None) -> Plan:
        self.planned.append(directory.name)
        planfile.write_text("a saved plan")
        return Plan(PlanSummary(change=1) if directory.name in self.changing else PlanSummary())


def test_plan_asks_for_drift_only_where_the_clean_record_would_skip_the_stack(tmp_path):
    org = load(TWO_PRODUCTS)
    outdir = tmp_path / "cdktf.out"
    for stack in org.stacks:
        (outdir / "stacks" / stack).mkdir(parents=True)
        (outdir / "stacks" / stack / "cdk.tf.json").write_text(json.dumps({"terraform": {}}))
    ids = {env.stack: env.account_id or f"1111111111{n:02d}" for n, env in enumerate(org.environments)}
    terraform = StandInTerraform()
    runner = Runner(org, terraform, outdir, state_dir=tmp_path / "state")
    assert {r.status for r in runner.plan(list(org.stacks), MANAGEMENT, ids)} == {StackStatus.NO_CHANGES}  # now clean

    # shop-staging's config changes: planned for that, its drift never asked for
    (outdir / "stacks" / "shop-staging" / "cdk.tf.json").write_text(json.dumps({"terraform": {}, "locals": {"x": 1}}))
    finding = f"policies of group developers: expected {READ_ONLY}; live none (missing {READ_ONLY})"
    asked: dict[str, str] = {}

    def drift_for(stack: str, account_id: str) -> list[str]:
        asked[stack] = account_id
        if stack == "billing-prod":
            raise aws.AwsError("iam list-users in 111111111103: AccessDenied")
        return [finding] if stack == "shop-dev" else []

    terraform.planned.clear()
    terraform.changing = {"shop-dev"}
    results = {r.stack: r for r in runner.plan(list(org.stacks), MANAGEMENT, ids, drift_for=drift_for)}
    assert sorted(terraform.planned) == ["billing-prod", "shop-dev", "shop-staging"]
    assert asked == {**{s: i for s, i in ids.items() if s != "shop-staging"}, "management": MANAGEMENT}
    assert results["shop-dev"].status is StackStatus.CHANGES
    assert results["shop-dev"].notes == (f"drift: {finding}",)
    # a check that fails is no "unchanged": terraform looks instead, and the note says why it ran
    assert results["billing-prod"].status is StackStatus.NO_CHANGES
    assert results["billing-prod"].notes == (
        "drift: not checked (AwsError: iam list-users in 111111111103: AccessDenied), so planned",)
    assert results["shop-staging"].notes == ()
    for stack in ("management", "shop-prod", "billing-legacy"):
        assert results[stack].status is StackStatus.UNCHANGED and results[stack].since, stack

    asked.clear()  # plan --all plans everything: nothing to ask
    terraform.planned.clear()
    runner.plan(list(org.stacks), MANAGEMENT, ids, everything=True, drift_for=drift_for)
    assert asked == {} and sorted(terraform.planned) == sorted(org.stacks)


# --------------------------------------------------------------------------- end to end

ORG = """\
organization: {name: drifty, email: cloud@drifty.example.com, region: eu-central-1}
groups:
  developers: {policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
products:
  shop:
    users:
      bob: {groups: [developers]}
    environments:
      dev: {mfa: optional}
      prod: {mfa: optional}
"""


@pytest.fixture(scope="module")
def world(provider_mirror, tmp_path_factory):
    """The small organization applied on an emulator of its own, then planned clean."""
    from awsenvs.sandbox import Emulator, environ

    workdir = tmp_path_factory.mktemp("plan-drift")
    source = workdir / "source.yaml"
    source.write_text(ORG)
    with Emulator() as emulator:
        env, path = seed_rehearsal(emulator, provider_mirror, workdir, source)

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(path), *args],
                                  cwd=workdir, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)

        applied = cli("apply", "--yes")
        assert applied.returncode == 0, applied.stderr[-3000:]
        with environ(env):
            accounts = {a["Name"]: a["Id"] for a in boto3.client("organizations").list_accounts()["Accounts"]}
        yield cli, lambda: environ(env), accounts


def _row_of(output: str, stack: str) -> str:
    """The summary table's row of a stack."""
    return next(line for line in output.splitlines() if line.startswith("│") and line.strip("│ ").startswith(f"{stack} "))


def _drift_rows(cli) -> list[dict]:
    audit = cli("audit", "--json")
    assert audit.returncode in (0, 1), audit.stderr[-3000:]  # 1: the emulator's root user has no MFA
    rows = json.loads(audit.stdout)
    # A read that failed is no drift (its own row): say so, not "no drift".
    failed_reads = [r for r in rows if r["check"] == "organization" and r["status"] != "pass"]
    assert not failed_reads, failed_reads
    return [r for r in rows if r["check"] == "drift"]


def _iam(accounts: dict[str, str], name: str):
    return aws.assume_role_session(accounts[name], "OrganizationAccountAccessRole").client("iam")


def _assert_clean(cli) -> None:
    """A plain plan finds every stack unchanged (no drift to plan), and audit no drift."""
    proc = cli("plan")
    assert proc.returncode == 0, proc.stderr[-3000:]
    for stack in ("management", "shop-dev", "shop-prod"):
        assert "unchanged since" in _row_of(proc.stderr, stack), stack
    assert _drift_rows(cli) == []


@pytest.mark.e2e
def test_just_applied_a_plain_plan_plans_nothing(world):
    _assert_clean(world[0])


@pytest.mark.e2e
def test_a_detached_group_policy_is_planned_by_plain_plan_and_restored_by_apply(world):
    """shop-dev's group loses its policy (terraform holds the attachment), shop-prod gets a
    user by hand (no state holds it): plan plans shop-dev alone, saying why; apply restores
    the policy and leaves the user, as audit's rows said it would."""
    cli, boto, accounts = world
    with boto():
        _iam(accounts, "shop_dev").detach_group_policy(GroupName="developers", PolicyArn=READ_ONLY)
        _iam(accounts, "shop_prod").create_user(UserName="mallory")
    rows = {r["account"].split(" ")[0]: r for r in _drift_rows(cli)}
    assert set(rows) == {"shop-dev", "shop-prod"}, rows
    assert rows["shop-dev"]["finding"].startswith("policies of group developers: expected") and \
        rows["shop-dev"]["restore"] == RESTORED_BY_APPLY
    assert "not in org.yaml: mallory" in rows["shop-prod"]["finding"]
    assert rows["shop-prod"]["restore"] == ("apply leaves what it did not make: delete them, or list them under "
                                            "products.shop.environments.prod.unmanaged.users")

    plan = cli("plan")
    assert plan.returncode == 2, plan.stderr[-3000:]
    assert "changes" in _row_of(plan.stderr, "shop-dev")
    for stack in ("management", "shop-prod"):
        assert "unchanged since" in _row_of(plan.stderr, stack), stack
    assert f"shop-dev: drift: {rows['shop-dev']['finding']}" in plan.stderr
    assert "mallory" not in plan.stderr  # apply would not remove it: no plan for it

    apply = cli("apply", "--yes")
    assert apply.returncode == 0, apply.stderr[-3000:]
    with boto():
        attached = _iam(accounts, "shop_dev").list_attached_group_policies(GroupName="developers")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [READ_ONLY]
    assert [r["account"].split(" ")[0] for r in _drift_rows(cli)] == ["shop-prod"]  # the user is still there
    with boto():
        _iam(accounts, "shop_prod").delete_user(UserName="mallory")
    _assert_clean(cli)


@pytest.mark.e2e
def test_a_detached_guardrail_is_planned_in_the_management_stack(world):
    """The guardrail SCP detached from the product OU (terraform holds the attachment) and
    another SCP attached there by hand (none holds it): plan plans management for the first."""
    cli, boto, _ = world
    with boto():
        organizations = boto3.client("organizations")
        root = organizations.list_roots()["Roots"][0]["Id"]
        shop = next(ou["Id"] for ou in organizations.list_organizational_units_for_parent(ParentId=root)
                    ["OrganizationalUnits"] if ou["Name"] == "shop")
        guardrails = next(p["Id"] for p in organizations.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
                          if p["Name"] == "awsenvs-shop-guardrails")
        organizations.detach_policy(PolicyId=guardrails, TargetId=shop)
        extra = organizations.create_policy(
            Name="someone-elses", Description="by hand", Type="SERVICE_CONTROL_POLICY",
            Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}',
        )["Policy"]["PolicySummary"]["Id"]
        organizations.attach_policy(PolicyId=extra, TargetId=shop)
    rows = {r["finding"]: r["restore"] for r in _drift_rows(cli)}
    detached = "SCP awsenvs-shop-guardrails: expected attached to OU shop; live detached"
    assert rows == {
        detached: RESTORED_BY_APPLY,
        "SCPs of OU shop: expected awsenvs-shop-guardrails; live also someone-elses (not in org.yaml)":
            "apply leaves what it did not make: detach it, or list it under products.shop.unmanaged.policies",
    }

    plan = cli("plan")
    assert plan.returncode == 2, plan.stderr[-3000:]
    assert "changes" in _row_of(plan.stderr, "management")
    for stack in ("shop-dev", "shop-prod"):
        assert "unchanged since" in _row_of(plan.stderr, stack), stack
    assert f"management: drift: {detached}" in plan.stderr and "someone-elses" not in plan.stderr

    apply = cli("apply", "--yes")
    assert apply.returncode == 0, apply.stderr[-3000:]
    assert [r["finding"] for r in _drift_rows(cli)] == [
        "SCPs of OU shop: expected awsenvs-shop-guardrails; live also someone-elses (not in org.yaml)"]
    with boto():
        boto3.client("organizations").detach_policy(PolicyId=extra, TargetId=shop)
    _assert_clean(cli)
