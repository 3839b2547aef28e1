"""A way forward from every state, end to end on the emulator with real terraform.

States that real organizations and real networks produce, each reproduced as a user meets
it: retiring an environment in an organization made by hand, whose service control
policies were never turned on; and, with the emulator's fault injection, answers lost on
the way back (CreateAccount, MoveAccount, CreateUser), a retirement failing half way and a
CloseAccount refused.  The module has its own emulator: the steps change the
organization in ways the other end-to-end tests must not see.  Order matters and is the
file's order.
"""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
import yaml

from conftest import ROOT, local_state_addresses

pytestmark = pytest.mark.e2e

MANAGEMENT = "123456789012"  # moto's management account
EMAIL = "cloud@acme.example.com"
SCP = "SERVICE_CONTROL_POLICY"


class World:
    """The emulator, the organization seeded in it, and org.yaml as the steps change it."""

    def __init__(self, workdir, env, emulator) -> None:
        self.workdir, self.env, self.emulator = workdir, env, emulator
        self.config = workdir / "org.yaml"

    def document(self, policy_types=(), environments=("dev", "qa"), users=("maria",)) -> dict:
        """What `import` writes for an organization made in the console that never enabled
        service control policies: `policy_types: []`, guardrails off."""
        return {
            "organization": {"name": "acme", "email": EMAIL, "region": "eu-central-1",
                             "management_account_id": MANAGEMENT, "policy_types": list(policy_types),
                             "centralized_root": False},
            "guardrails": {"deny_leave_organization": False, "protect_baseline": False, "deny_root_user": False},
            "groups": {"developers": {"policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}},
            "products": {"shop": {
                "users": {user: {"groups": ["developers"]} for user in users},
                "environments": {env: {"mfa": "optional"} for env in environments},
            }},
        }

    def write(self, doc: dict) -> None:
        self.config.write_text(yaml.safe_dump(doc, sort_keys=False))

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=self.workdir, env=self.env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)

    def cli_with_fault(self, rule: dict, *args: str) -> tuple[subprocess.CompletedProcess, int]:
        """The CLI run while the emulator applies one fault rule; how many faults it injected."""
        self.emulator.inject(rule)
        try:
            proc = self.cli(*args)
            [report] = self.emulator.injected()
        finally:
            self.emulator.clear_faults()
        return proc, report["injected"]

    def boto(self):
        from awsenvs.sandbox import environ

        return environ(self.env)

    def state(self, stack: str) -> list[str]:
        return local_state_addresses(self.workdir / "state" / "acme" / f"{stack}.tfstate")

    def account(self, env: str) -> dict:
        with self.boto():
            accounts = boto3.client("organizations").list_accounts()["Accounts"]
        return next(a for a in accounts if a["Email"] == f"cloud+shop-{env}@acme.example.com")

    def member_iam(self, account_id: str):
        from awsenvs import aws

        with self.boto():
            return aws.assume_role_session(account_id, "OrganizationAccountAccessRole").client("iam")


def _said(proc: subprocess.CompletedProcess) -> str:
    """What the run printed, as one line of words (table borders and wrapping taken out)."""
    return " ".join(proc.stderr.translate(str.maketrans("│┃", "  ")).split())


def _errors(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def world(provider_mirror, tmp_path_factory):
    from awsenvs.sandbox import Emulator

    workdir = tmp_path_factory.mktemp("recovery")
    (workdir / "home" / ".aws").mkdir(parents=True)
    with Emulator() as emulator:
        env = emulator.environment(workdir / "home")
        env.update(TF_PROVIDER_MIRROR=str(provider_mirror))
        world = World(workdir, env, emulator)
        with world.boto():
            boto3.client("organizations").create_organization(FeatureSet="ALL")  # no policy type enabled
        world.write(world.document())
        yield world


def test_an_organization_without_service_control_policies_is_applied(world):
    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    with world.boto():
        roots = boto3.client("organizations").list_roots()["Roots"]
    assert roots[0]["PolicyTypes"] == []


def test_retiring_there_is_refused_up_front_while_org_yaml_leaves_the_policy_type_off(world):
    """Parking needs a service control policy: plan and apply refuse in one line, before
    anything is written (no password deleted, nothing leaves state)."""
    qa = world.account("qa")
    held = world.state("shop-qa")
    assert "aws_iam_user_login_profile.maria" in held
    world.write(world.document(environments=("dev",)))
    for args in (("plan",), ("apply", "--yes")):
        proc = world.cli(*args)
        assert proc.returncode == 1, proc.stderr[-4000:]
        [error] = _errors(proc)
        assert "retiring shop-qa parks its account in the Suspended OU under a service control policy, and the " \
               f"organization has {SCP} off: add it to organization.policy_types in org.yaml" in error
        assert "Traceback" not in proc.stderr
    assert world.state("shop-qa") == held
    assert world.member_iam(qa["Id"]).get_login_profile(UserName="maria")  # still able to sign in


def test_listing_the_policy_type_retires_it_in_one_apply(world):
    """With SERVICE_CONTROL_POLICY in org.yaml the retirement enables it first (the plan says
    so), parks the account, and the management stack, planned again after that, applies."""
    qa = world.account("qa")
    world.write(world.document(policy_types=(SCP,), environments=("dev",)))
    plan = world.cli("plan")
    assert plan.returncode == 2, plan.stderr[-4000:]
    assert f"retire shop_qa: removed from org.yaml; first {SCP} is enabled in the organization" in \
        " ".join(plan.stderr.split())

    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    with world.boto():
        org = boto3.client("organizations")
        root = org.list_roots()["Roots"][0]
        parent = org.list_parents(ChildId=qa["Id"])["Parents"][0]["Id"]
        ou = org.describe_organizational_unit(OrganizationalUnitId=parent)["OrganizationalUnit"]["Name"]
    assert {"Type": SCP, "Status": "ENABLED"} in root["PolicyTypes"]
    assert ou == "Suspended"
    assert world.state("shop-qa") == []
    assert "aws_organizations_account.shop_qa" not in world.state("management")
    iam = world.member_iam(qa["Id"])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="maria")
    again = world.cli("plan", "--all")
    assert again.returncode == 0, again.stderr[-4000:]


def test_a_tainted_account_is_untainted_before_planning_never_replaced(world):
    """What a failed follow-up of a create leaves (the account made, its move to the OU
    refused): terraform's taint, which prevent_destroy turns into an error at every plan."""
    dev = world.account("dev")
    management = world.workdir / "cdktf.out" / "stacks" / "management"
    taint = subprocess.run(["terraform", "taint", "aws_organizations_account.shop_dev"], cwd=management, env=world.env,
                           capture_output=True, text=True)
    assert taint.returncode == 0, taint.stderr
    plan = world.cli("plan")
    assert plan.returncode == 0, plan.stderr[-4000:]
    assert "untainted aws_organizations_account.shop_dev: a call that follows its create failed in an earlier apply" \
        in " ".join(plan.stderr.split())
    assert world.account("dev")["Id"] == dev["Id"]
    assert world.cli("plan", "--all").returncode == 0


def test_an_object_made_between_plan_and_apply_is_imported_in_the_same_run(world):
    """A create that meets its object (here made by hand after the plan; a lost response
    retried by the SDK meets the same 409): the stack is planned again with it imported and
    applied, in the same run, and the user's id is the one that existed."""
    world.write(world.document(policy_types=(SCP,), environments=("dev",), users=("maria", "tom")))
    plan = world.cli("plan")
    assert plan.returncode == 2, plan.stderr[-4000:]
    iam = world.member_iam(world.account("dev")["Id"])
    with world.boto():
        made = iam.create_user(UserName="tom")["User"]["UserId"]
    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    said = " ".join(proc.stderr.split())
    assert "shop-dev: aws_iam_user.tom existed already (a create whose answer was lost, or another run's): imported " \
           "and applied again in this run" in said
    with world.boto():
        assert iam.get_user(UserName="tom")["User"]["UserId"] == made
        assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="tom")["Groups"]] == ["developers"]
    assert world.cli("plan", "--all").returncode == 0


# --------------------------------------------------------------------------- a network that loses answers


def _accounts_with(world, env: str) -> list[dict]:
    with world.boto():
        accounts = boto3.client("organizations").list_accounts()["Accounts"]
    return [a for a in accounts if a["Email"] == f"cloud+shop-{env}@acme.example.com"]


def test_a_lost_create_account_answer_creates_no_second_account(world):
    """CreateAccount's answer lost: the provider's SDK sends it again, which AWS ends FAILED
    with EMAIL_ALREADY_EXISTS; the management stack is planned again with the account the
    first call made imported, in the same run, and the new account's stack is applied."""
    world.write(world.document(policy_types=(SCP,), environments=("dev", "staging"), users=("maria", "tom")))
    proc, injected = world.cli_with_fault(
        {"service": "organizations", "action": "CreateAccount", "fault": "lost", "times": 1},
        "apply", "--yes")
    assert injected == 1
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "management: aws_organizations_account.shop_staging existed already (a create whose answer was lost, or " \
           "another run's): imported and applied again in this run" in " ".join(proc.stderr.split())
    [staging] = _accounts_with(world, "staging")
    assert "aws_iam_user.maria" in world.state("shop-staging")
    assert world.cli("plan", "--all").returncode == 0


def test_a_lost_move_account_answer_taints_the_account_and_the_next_apply_finishes_it(world):
    """MoveAccount, the provider's follow-up of CreateAccount, answered DuplicateAccountException
    on its retry: terraform taints the new account (prevent_destroy would then refuse every
    plan); the next apply untaints it and finishes."""
    world.write(world.document(policy_types=(SCP,), environments=("dev", "staging", "test"), users=("maria", "tom")))
    failed, injected = world.cli_with_fault(
        {"service": "organizations", "action": "MoveAccount", "fault": "lost", "times": 1},
        "apply", "--yes")
    assert injected == 1
    assert failed.returncode == 1 and "DuplicateAccountException" in failed.stderr, failed.stderr[-4000:]
    management = json.loads((world.workdir / "state" / "acme" / "management.tfstate").read_text())
    [account] = [r for r in management["resources"] if r["name"] == "shop_test"]
    assert account["instances"][0].get("status") == "tainted"

    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "untainted aws_organizations_account.shop_test" in proc.stderr
    [test] = _accounts_with(world, "test")
    with world.boto():
        org = boto3.client("organizations")
        parent = org.list_parents(ChildId=test["Id"])["Parents"][0]["Id"]
        assert org.describe_organizational_unit(OrganizationalUnitId=parent)["OrganizationalUnit"]["Name"] == "shop"
    assert "aws_iam_user.maria" in world.state("shop-test")
    assert world.cli("plan", "--all").returncode == 0


def test_a_lost_create_user_answer_is_imported_in_the_same_run(world):
    world.write(world.document(policy_types=(SCP,), environments=("dev", "staging", "test"),
                               users=("maria", "tom", "ana")))
    proc, injected = world.cli_with_fault(
        {"service": "iam", "action": "CreateUser", "fault": "lost", "times": 1},
        "apply", "--yes", "--workers", "1")
    assert injected == 1
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "aws_iam_user.ana existed already (a create whose answer was lost, or another run's): imported and " \
           "applied again in this run" in " ".join(proc.stderr.split())
    for env in ("dev", "staging", "test"):
        iam = world.member_iam(world.account(env)["Id"])
        with world.boto():
            assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="ana")["Groups"]] == ["developers"]
    assert world.cli("plan", "--all").returncode == 0


def test_a_retirement_that_fails_half_way_is_finished_by_the_next_apply(world):
    """IAM answers every DeleteLoginProfile with a 5xx: the account is parked, its users not
    yet locked out; nothing leaves state and the management stack keeps the account.  The
    next apply, with IAM answering again, finishes the retirement."""
    test = world.account("test")
    world.write(world.document(policy_types=(SCP,), environments=("dev", "staging"), users=("maria", "tom", "ana")))
    failed, injected = world.cli_with_fault(
        {"service": "iam", "action": "DeleteLoginProfile", "fault": "5xx"},
        "apply", "--yes")
    assert injected >= 1
    assert failed.returncode == 1, failed.stderr[-4000:]
    said = _said(failed)
    assert "the next apply finishes this retirement" in said, failed.stderr[-3000:]
    assert "management: not applied: it lets go of the retired accounts only once their retirement succeeded" in said
    assert "aws_iam_user.maria" in world.state("shop-test")
    assert "aws_organizations_account.shop_test" in world.state("management")

    proc = world.cli("apply", "--yes")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert world.state("shop-test") == []
    assert "aws_organizations_account.shop_test" not in world.state("management")
    iam = world.member_iam(test["Id"])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="maria")
    assert world.cli("plan", "--all").returncode == 0


def test_a_close_account_refused_leaves_the_account_parked_and_the_retirement_done(world):
    """on_retire: close, and AWS answers CloseAccount with a 5xx (after boto3's retries):
    the account stays parked, the retirement and the management stack are done, and the
    summary says when to close it, with the command."""
    staging = world.account("staging")
    doc = world.document(policy_types=(SCP,), environments=("dev",), users=("maria", "tom", "ana"))
    doc["organization"]["on_retire"] = "close"
    world.write(doc)
    proc, injected = world.cli_with_fault(
        {"service": "organizations", "action": "CloseAccount", "fault": "5xx"},
        "apply", "--yes")
    assert injected >= 1
    assert proc.returncode == 0, proc.stderr[-4000:]
    said = _said(proc)
    assert f"account {staging['Id']} stays parked in the Suspended OU, not closed: AWS failed internally " \
           f"(InternalFailure); close it in a few minutes: aws organizations close-account --account-id {staging['Id']}" \
           in said
    with world.boto():
        org = boto3.client("organizations")
        assert org.describe_account(AccountId=staging["Id"])["Account"]["Status"] == "ACTIVE"
        tags = org.list_tags_for_resource(ResourceId=staging["Id"])["Tags"]
    assert "awsenvs-closed-at" not in {t["Key"] for t in tags}  # not closed: not counted against the quota
    assert "aws_organizations_account.shop_staging" not in world.state("management")
    assert world.cli("plan", "--all").returncode == 0
