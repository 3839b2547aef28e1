"""The emulator's own fills (awsenvs/moto_server.py), through boto3 against the real server:
what they answer, and that their refusals are errors (an HTTP status, not a 200); and its
fault injection (awsenvs/emulator_faults.py), as boto3 and the Terraform provider meet it."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from awsenvs import aws
from awsenvs.config import OPT_IN_REGIONS
from awsenvs.emulator_faults import CONTROL_PATH, FAULTS_ENV
from awsenvs.sandbox import Emulator, SandboxError, environ
from awsenvs.terraform import MIRROR_ENV, Terraform

pytestmark = pytest.mark.e2e

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """This module's own emulator (its fault rules reach no other module's tests), with an
    organization; boto3 talks to it for the whole module."""
    home = tmp_path_factory.mktemp("emulator-home")
    with Emulator() as emulator, environ(emulator.environment(home)):
        boto3.client("organizations").create_organization(FeatureSet="ALL")
        yield emulator


@pytest.fixture(scope="module")
def emulated(server):
    member = boto3.client("organizations").create_account(AccountName="m", Email="m@acme.example.com")
    return boto3.client("account"), member["CreateAccountStatus"]["AccountId"]


@pytest.fixture
def faults(server):
    """The emulator, its fault rules cleared after the test."""
    yield server
    server.clear_faults()


def _code(call) -> str:
    return _refusal(call)[1]


def _refusal(call) -> tuple[int, str]:
    """(HTTP status, error code) of a call that must fail."""
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], excinfo.value.response["Error"]["Code"]


def test_an_opt_in_region_starts_disabled_and_is_enabled_and_disabled_from_the_management_account(emulated):
    account, member = emulated
    assert account.get_region_opt_status(AccountId=member, RegionName="af-south-1")["RegionOptStatus"] == "DISABLED"
    account.enable_region(AccountId=member, RegionName="af-south-1")
    assert account.get_region_opt_status(AccountId=member, RegionName="af-south-1")["RegionOptStatus"] == "ENABLED"
    enabled = account.list_regions(AccountId=member, RegionOptStatusContains=["ENABLED"])["Regions"]
    assert enabled == [{"RegionName": "af-south-1", "RegionOptStatus": "ENABLED"}]
    account.disable_region(AccountId=member, RegionName="af-south-1")
    assert account.get_region_opt_status(AccountId=member, RegionName="af-south-1")["RegionOptStatus"] == "DISABLED"
    statuses = {r["RegionName"]: r["RegionOptStatus"] for r in account.list_regions(AccountId=member)["Regions"]}
    assert statuses["us-east-1"] == "ENABLED_BY_DEFAULT" and statuses["eu-south-2"] == "DISABLED"
    assert {r for r, status in statuses.items() if status != "ENABLED_BY_DEFAULT"} == set(OPT_IN_REGIONS) & set(statuses)


def test_the_region_fills_refuse_as_aws_does(emulated):
    account, member = emulated
    assert _code(lambda: account.enable_region(AccountId=member, RegionName="us-east-1")) == "ValidationException"
    assert _code(lambda: account.get_region_opt_status(AccountId=member, RegionName="mars-1")) == "ValidationException"
    # Not a member of the caller's organization: not the caller's to change.
    assert _code(lambda: account.enable_region(AccountId="999999999999", RegionName="af-south-1")) == "AccessDeniedException"


def test_enabling_a_region_twice_is_refused_as_aws_refuses_it(emulated):
    """AWS's answer to EnableRegion of an enabled (or enabling) region
    (hashicorp/terraform-provider-aws#41430)."""
    account, member = emulated
    account.enable_region(AccountId=member, RegionName="me-south-1")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        account.enable_region(AccountId=member, RegionName="me-south-1")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Unable to switch region status because of its current opt-in status" in str(refused.value)
    account.disable_region(AccountId=member, RegionName="me-south-1")


def test_renaming_an_account_outside_the_organization_is_refused(emulated):
    account, _ = emulated
    assert _code(lambda: account.put_account_name(AccountId="999999999999", AccountName="x")) == "AccessDeniedException"


def test_alternate_contacts_are_moto_s_own(emulated):
    account, member = emulated
    account.put_alternate_contact(AccountId=member, AlternateContactType="SECURITY", Name="Sec", Title="Security",
                                  EmailAddress="sec@acme.example.com", PhoneNumber="+1 206 555 0100")
    contact = account.get_alternate_contact(AccountId=member, AlternateContactType="SECURITY")["AlternateContact"]
    assert (contact["Name"], contact["PhoneNumber"]) == ("Sec", "+1 206 555 0100")
    assert _code(lambda: account.get_alternate_contact(AccountId=member, AlternateContactType="BILLING")) == \
        "ResourceNotFoundException"


def test_a_closed_account_s_state_is_closed_not_suspended(server):
    """AWS keeps State SUSPENDED for accounts it suspends; one closed by its owner is
    PENDING_CLOSURE, then CLOSED (its older Status: SUSPENDED)."""
    from awsenvs.live.organization import read_organization

    organizations = boto3.client("organizations")
    closing = organizations.create_account(AccountName="c", Email="c@acme.example.com")["CreateAccountStatus"]["AccountId"]
    organizations.close_account(AccountId=closing)
    account = organizations.describe_account(AccountId=closing)["Account"]
    assert (account["State"], account["Status"]) == ("CLOSED", "SUSPENDED")
    assert read_organization().account_by_id(closing).closed


def test_repeated_organizations_calls_are_refused_as_aws_refuses_them(emulated):
    organizations = boto3.client("organizations")
    root = organizations.list_roots()["Roots"][0]["Id"]
    _, member = emulated
    accounts = organizations.list_accounts()["Accounts"]

    # CreateAccount with an email an account has: the request fails, no second account.
    status = organizations.create_account(AccountName="again", Email="m@acme.example.com")["CreateAccountStatus"]
    assert (status["State"], status["FailureReason"]) == ("FAILED", "EMAIL_ALREADY_EXISTS") and "AccountId" not in status
    assert organizations.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"] == status
    assert status in organizations.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]
    assert status not in organizations.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert organizations.list_accounts()["Accounts"] == accounts
    # The management account's email, and a closed account's: AWS never gives a root email again.
    management_email = organizations.describe_organization()["Organization"]["MasterAccountEmail"]
    closed = organizations.create_account(AccountName="closed", Email="closed@acme.example.com")["CreateAccountStatus"]
    organizations.close_account(AccountId=closed["AccountId"])
    for email in (management_email, "closed@acme.example.com"):
        again = organizations.create_account(AccountName="again", Email=email)["CreateAccountStatus"]
        assert (again["State"], again["FailureReason"]) == ("FAILED", "EMAIL_ALREADY_EXISTS")

    assert _refusal(lambda: organizations.move_account(AccountId=member, SourceParentId=root, DestinationParentId=root)) \
        == (400, "DuplicateAccountException")
    policy = organizations.create_policy(Name="twice", Description="attached twice", Type="SERVICE_CONTROL_POLICY",
                                         Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}')
    policy_id = policy["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=policy_id, TargetId=member)
    assert _refusal(lambda: organizations.attach_policy(PolicyId=policy_id, TargetId=member)) \
        == (400, "DuplicatePolicyAttachmentException")
    organizations.enable_policy_type(RootId=root, PolicyType="TAG_POLICY")
    assert _refusal(lambda: organizations.enable_policy_type(RootId=root, PolicyType="TAG_POLICY")) \
        == (400, "PolicyTypeAlreadyEnabledException")  # moto's own answer


# One call of each protocol: its service (signing name), the rule's action for it, and the call.
CALLS = {
    "json": ("organizations", "DescribeOrganization", lambda client: client.describe_organization()),
    "query": ("iam", "ListUsers", lambda client: client.list_users()),
    "rest-json": ("account", "POST /listRegions", lambda client: client.list_regions()),
    "rest-xml": ("s3", "GET /", lambda client: client.list_buckets()),
}


def _throttling(error: botocore.exceptions.ClientError) -> bool:
    """Whether botocore's standard retries take this error for throttling (and so back off)."""
    return ThrottledRetryableChecker().is_retryable(RetryContext(attempt_number=1, parsed_response=error.response))


@pytest.mark.parametrize("protocol", CALLS)
def test_throttles_and_server_errors_come_in_the_protocol_s_own_format_and_are_retried(faults, protocol):
    service, action, call = CALLS[protocol]
    # S3 throttles with 503 SlowDown; the other services with 400.
    throttle_status = 503 if protocol == "rest-xml" else 400
    for fault, status, throttling in (({"fault": "throttle"}, throttle_status, True), ({"fault": "5xx"}, 500, False),
                                      ({"fault": "5xx", "status": 503}, 503, False)):
        rule = {"service": service, "action": action, "times": 1, **fault}
        faults.inject(rule)
        with pytest.raises(botocore.exceptions.ClientError) as excinfo:
            call(boto3.client(service, config=NO_RETRIES))
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == status, excinfo.value.response
        assert _throttling(excinfo.value) == throttling, excinfo.value.response
        faults.inject(rule)
        assert call(boto3.client(service))["ResponseMetadata"]["RetryAttempts"] == 1
        assert [(r["matched"], r["injected"], r["actions"]) for r in faults.injected()] == [(2, 1, [action])]


def test_a_rule_selects_calls_by_service_and_action_patterns_and_the_first_rule_matching_a_call_owns_it(faults):
    iam, sts = boto3.client("iam", config=NO_RETRIES), boto3.client("sts", config=NO_RETRIES)
    faults.inject({"service": "iam", "action": "List*", "fault": "throttle"},
                  {"service": "sts", "fault": "5xx", "skip": 1, "times": 1},
                  {"fault": "5xx"})  # the rest: every other signed call
    assert _code(iam.list_users) == _code(iam.list_groups) == "Throttling"
    sts.get_caller_identity()  # skipped
    assert _code(sts.get_caller_identity) == "InternalFailure"
    sts.get_caller_identity()  # past `times`: the sts rule owns the call, and lets it through
    assert _code(iam.get_account_summary) == "InternalFailure"
    urllib.request.urlopen(f"{faults.endpoint}/moto-api/").close()  # not an AWS call: never faulted
    assert [(r["matched"], r["injected"], r["actions"]) for r in faults.injected()] == [
        (2, 2, ["ListUsers", "ListGroups"]), (3, 1, ["GetCallerIdentity"]), (1, 1, ["GetAccountSummary"])]


def test_a_seed_repeats_a_probabilistic_schedule(faults):
    sts = boto3.client("sts", config=NO_RETRIES)
    rule = {"service": "sts", "action": "GetCallerIdentity", "fault": "5xx", "probability": 0.5, "skip": 2}

    def failures(seed: int) -> list[bool]:
        faults.inject(rule, seed=seed)
        outcomes = []
        for _ in range(16):
            try:
                sts.get_caller_identity()
                outcomes.append(False)
            except botocore.exceptions.ClientError:
                outcomes.append(True)
        return outcomes

    first = failures(7)
    assert failures(7) == first
    assert failures(8) != first
    # As documented: the rule's k-th matching call draws the k-th number of Random("SEED:RULE"),
    # the skipped ones too.
    draws = random.Random("7:0")
    assert first == [k >= 2 and draw < 0.5 for k, draw in enumerate([draws.random() for _ in range(16)])]
    assert any(first) and not all(first[2:])


def test_a_lost_response_is_retried_by_boto3_and_the_retry_meets_the_call_already_done(faults):
    lost_once = {"service": "iam", "action": "CreateUser", "fault": "lost", "times": 1}
    faults.inject(lost_once)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        boto3.client("iam", config=NO_RETRIES).create_user(UserName="unheard")
    boto3.client("iam").get_user(UserName="unheard")  # performed, though its caller never heard back

    faults.inject(lost_once)
    iam = aws.new_session().client("iam")  # awsenvs' own retries (aws.RETRY_MODE, aws.MAX_ATTEMPTS)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        iam.create_user(UserName="retried")
    response = excinfo.value.response
    assert (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]) == (409, "EntityAlreadyExists")
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert [(r["matched"], r["injected"]) for r in faults.injected()] == [(2, 1)]


def test_the_provider_retries_a_lost_create_and_fails_on_the_user_it_made(faults, provider_mirror, tmp_path):
    """A real `terraform apply` (AWS provider, Go SDK v2): CreateUser's response is lost, the
    SDK retries, the retry finds the user: EntityAlreadyExists, the user in AWS, not in state."""
    (tmp_path / "home").mkdir()
    (tmp_path / "main.tf.json").write_text(json.dumps({
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},  # the mirror's
        "provider": {"aws": {"region": "us-east-1"}},
        "resource": {"aws_iam_user": {"lost": {"name": "made-unheard"}}},
    }))
    terraform = Terraform(env={**faults.environment(tmp_path / "home"), MIRROR_ENV: str(provider_mirror)})
    terraform.init(tmp_path)
    faults.inject({"service": "iam", "action": "CreateUser", "fault": "lost", "times": 1})
    applied = terraform.run(["apply", "-auto-approve", "-input=false", "-no-color"], cwd=tmp_path, check=False)
    assert applied.returncode == 1
    assert "StatusCode: 409" in applied.stderr and "EntityAlreadyExists" in applied.stderr, applied.stderr
    assert [(r["matched"], r["injected"]) for r in faults.injected()] == [(2, 1)]  # two attempts, the first lost
    boto3.client("iam").get_user(UserName="made-unheard")
    assert terraform.state_list(tmp_path) == []


def test_the_control_endpoint_sets_reads_and_clears_the_rules_and_refuses_bad_ones(faults):
    url = f"{faults.endpoint}{CONTROL_PATH}"

    def control(method: str, document=None) -> tuple[int, dict]:
        body = None if document is None else json.dumps(document).encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body, method=method)) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as exc:
            return exc.code, json.load(exc)

    status, report = control("POST", {"seed": 3, "rules": [{"service": "sts", "fault": "throttle", "times": 2}]})
    assert status == 200 and report["seed"] == 3
    assert report["rules"] == [{"fault": "throttle", "service": "sts", "action": "*", "times": 2, "probability": 1.0,
                                "skip": 0, "status": 500, "matched": 0, "injected": 0, "actions": []}]
    assert _code(boto3.client("sts", config=NO_RETRIES).get_caller_identity) == "Throttling"
    assert control("GET")[1]["rules"][0]["actions"] == ["GetCallerIdentity"]
    status, cleared = control("DELETE")
    assert status == 200 and (cleared["seed"], cleared["rules"]) == (0, [])
    assert cleared["instance"] and cleared["instance"] == control("GET")[1]["instance"]  # which emulator answers
    for bad, problem in (([{"fault": "explode"}], "fault 'explode'"), ([{"fault": "lost", "times": 0}], "times 0"),
                         ([{"fault": "lost", "when": "now"}], "unknown rule field(s) when"),
                         ({"rules": [{"fault": "5xx", "status": 502}]}, "status 502")):
        status, answer = control("POST", bad)
        assert status == 400 and problem in answer["message"], answer
    with pytest.raises(SandboxError, match="probability 2"):
        faults.inject({"fault": "throttle", "probability": 2})
    assert faults.injected() == []  # a refused set leaves the rules as they were
    # A signed request to the same path is an AWS call (S3, path style): never the control endpoint.
    assert _code(lambda: boto3.client("s3").get_object(Bucket="_awsenvs", Key="faults")) == "NoSuchBucket"


def test_the_rules_can_be_set_when_the_emulator_starts(tmp_path, monkeypatch):
    monkeypatch.setenv(FAULTS_ENV, json.dumps({"seed": 1, "rules": [{"service": "sts", "fault": "throttle", "times": 1}]}))
    with Emulator() as started, environ(started.environment(tmp_path)):
        assert _code(boto3.client("sts", config=NO_RETRIES).get_caller_identity) == "Throttling"
        assert [(r["service"], r["injected"]) for r in started.injected()] == [("sts", 1)]
    monkeypatch.setenv(FAULTS_ENV, '[{"fault": "slow"}]')
    with pytest.raises(SandboxError, match="exited at start"):
        Emulator().start()
