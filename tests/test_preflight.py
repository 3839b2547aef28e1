"""The decisions of the live look-ups, on recorded facts (no AWS needed): what is refused,
what is imported, what is retired, and the readiness wait's retry logic."""

from __future__ import annotations

import pytest

from awsenvs import checks, reconcile, retire, waits
from awsenvs.config import load, parse
from awsenvs.checks import AdoptionError, PreflightError
from awsenvs.live.facts import LiveAccount, LiveOrganization
from awsenvs.live.iam import AccountProbe
from awsenvs.waits import NotYet
from conftest import TWO_PRODUCTS, in_process_moto_env


def _live(services=(), types=("SERVICE_CONTROL_POLICY",), accounts=(), ous=None, org_id="o-abcdefghij") -> LiveOrganization:
    return LiveOrganization(org_id, "r-root", frozenset(services), frozenset(types), tuple(accounts), ous or {})


LEGACY = LiveAccount("210987654321", "Billing (legacy)", "old-billing@acme.example.com", "ACTIVE")


@pytest.fixture(scope="module")
def org():
    return load(TWO_PRODUCTS)


def test_a_new_organization_has_nothing_to_lose(org):
    checks.check_organization(org, None)
    assert reconcile.management_imports(org, None) == []


def test_live_features_org_yaml_does_not_name_are_refused(org):
    live = _live(services=("sso.amazonaws.com", "ram.amazonaws.com"), types=("SERVICE_CONTROL_POLICY", "TAG_POLICY"))
    with pytest.raises(PreflightError) as excinfo:
        checks.check_organization(org, live)
    message = str(excinfo.value)
    assert excinfo.value.exit_code == 1
    assert "trusted service ram.amazonaws.com (add it to organization.trusted_services" in message
    assert "trusted service sso.amazonaws.com" in message
    assert "policy type TAG_POLICY (add it to organization.policy_types" in message
    assert "SERVICE_CONTROL_POLICY" not in message


def test_listed_or_explicitly_disabled_features_pass(tmp_path):
    text = TWO_PRODUCTS.read_text().replace(
        "region: eu-central-1",
        "region: eu-central-1\n  trusted_services: [sso.amazonaws.com]\n  disable_trusted_services: [ram.amazonaws.com]\n"
        "  disable_policy_types: [TAG_POLICY]")
    org = parse(text, tmp_path / "org.yaml")
    checks.check_organization(org, _live(services=("sso.amazonaws.com", "ram.amazonaws.com"),
                                            types=("SERVICE_CONTROL_POLICY", "TAG_POLICY")))


def test_organization_id_must_be_the_credentials_organization(tmp_path):
    text = TWO_PRODUCTS.read_text().replace("region: eu-central-1", "region: eu-central-1\n  organization_id: o-aaaaaaaaaa")
    org = parse(text, tmp_path / "org.yaml")
    with pytest.raises(AdoptionError, match="o-aaaaaaaaaa, but these credentials' organization is o-abcdefghij"):
        checks.check_organization(org, _live())


def test_adopted_account_must_be_a_member_with_the_configured_email_and_name(org):
    with pytest.raises(AdoptionError, match="210987654321 is not a member of the organization: invite it first"):
        checks.check_adoptions(org, _live())
    other_email = LiveAccount(LEGACY.id, LEGACY.name, "billing@acme.example.com", "ACTIVE")
    with pytest.raises(AdoptionError) as excinfo:
        checks.check_adoptions(org, _live(accounts=[other_email]))
    assert excinfo.value.exit_code == 2
    assert "products.billing.environments.legacy.email: the account's root email is 'billing@acme.example.com'" in str(excinfo.value)
    other_name = LiveAccount(LEGACY.id, "Billing", LEGACY.email, "ACTIVE")
    with pytest.raises(AdoptionError, match="account_name: the account is named 'Billing'"):
        checks.check_adoptions(org, _live(accounts=[other_name]))
    checks.check_adoptions(org, _live(accounts=[LEGACY]))
    # Both differences at once, one line each: a newcomer fixes them in one go.
    both = LiveAccount(LEGACY.id, "Billing", "billing@acme.example.com", "ACTIVE")
    with pytest.raises(AdoptionError) as excinfo:
        checks.check_adoptions(org, _live(accounts=[both]))
    lines = str(excinfo.value).splitlines()
    assert len(lines) == 2 and ".legacy.email: the account's root email is 'billing@acme.example.com'" in lines[0]
    assert ".legacy.account_name: the account is named 'Billing'" in lines[1]


def test_adopting_a_closed_account_is_refused_in_one_line(org):
    closed = LiveAccount(LEGACY.id, LEGACY.name, LEGACY.email, "SUSPENDED")
    with pytest.raises(AdoptionError) as excinfo:
        checks.check_adoptions(org, _live(accounts=[closed]))
    [line] = str(excinfo.value).splitlines()
    assert "products.billing.environments.legacy.account_id: 210987654321 is closed (SUSPENDED): remove the " \
           "environment, or have AWS Support reopen the account first" in line


def test_an_account_aws_suspended_is_adopted_not_refused_as_closed(org):
    suspended = LiveAccount(LEGACY.id, LEGACY.name, LEGACY.email, "SUSPENDED", state="SUSPENDED")
    checks.check_adoptions(org, _live(accounts=[suspended]))  # State SUSPENDED: AWS's, e.g. unpaid bills
    closed = LiveAccount(LEGACY.id, LEGACY.name, LEGACY.email, "SUSPENDED", state="CLOSED")
    with pytest.raises(AdoptionError, match="is closed \\(CLOSED\\)"):
        checks.check_adoptions(org, _live(accounts=[closed]))


def test_existing_organization_ous_and_accounts_are_imported_not_created(org):
    dev = LiveAccount("111111111111", "shop_dev", "CLOUD+shop-dev@acme.example.com", "ACTIVE")  # case differs
    imports = reconcile.management_imports(org, _live(accounts=[LEGACY, dev], ous={"shop": "ou-shop", "other": "ou-x"}))
    assert [(i.address, i.id) for i in imports] == [
        ("aws_organizations_organization.organization", "o-abcdefghij"),
        ("aws_organizations_organizational_unit.shop", "ou-shop"),
        ("aws_organizations_account.shop_dev", "111111111111"),
    ]  # the adopted account has its own import block already
    assert "found existing account 111111111111 for shop_dev" in imports[-1].reason
    assert "interrupted apply" in imports[-1].reason
    closed = LiveAccount("111111111111", "shop_dev", "cloud+shop-dev@acme.example.com", "SUSPENDED")
    assert [i.address for i in reconcile.management_imports(org, _live(accounts=[closed]))] == [
        "aws_organizations_organization.organization"]  # a closed account is never adopted


def test_import_addresses_are_those_the_stacks_synthesize(synthesized):
    s = synthesized["two"]
    env = s.org.environment_by_stack("shop-prod")
    addresses = {f"{type_}.{name}" for type_, items in s.stacks["shop-prod"]["resource"].items() for name in items}
    for user in env.users:
        assert f"aws_iam_user.{user.tf_name}" in addresses and f"aws_iam_user_login_profile.{user.tf_name}" in addresses
    for address in ("aws_iam_group.awsenvs_mfa_required", "aws_iam_role.sysadmins_mfa", "aws_iam_policy.require_mfa",
                    "aws_iam_account_alias.alias", "aws_iam_account_password_policy.password_policy"):
        assert address in addresses
    management = {f"{t}.{n}" for t, items in s.stacks["management"]["resource"].items() for n in items}
    dev = LiveAccount("111111111111", "shop_dev", "cloud+shop-dev@acme.example.com", "ACTIVE")
    for imported in reconcile.management_imports(s.org, _live(accounts=[dev], ous={"shop": "ou-1", "billing": "ou-2"})):
        assert imported.address in management
    assert retire.Retirement("shop-dev", "1", "", "").address in management  # the same name once retired


def test_an_alias_change_is_a_risk(org):
    env = org.environment_by_stack("billing-legacy")
    same = reconcile.alias_import(env, env.alias)
    assert not same.risky
    changed = reconcile.alias_import(env, "billing-old")
    assert changed.risky and changed.id == "billing-old"
    assert "https://billing-old.signin.aws.amazon.com/console stops working" in changed.reason


def test_environments_gone_from_org_yaml_are_retired(org):
    live = _live(accounts=[LiveAccount("999999999999", "shop_qa", "cloud+shop-qa@acme.example.com", "ACTIVE")])
    gone = retire.retirements(org, {"shop-dev": "111111111111", "shop-qa": "999999999999"}, live)
    assert gone == [retire.Retirement("shop-qa", "999999999999", "shop_qa", "cloud+shop-qa@acme.example.com")]
    assert gone[0].address == "aws_organizations_account.shop_qa"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_retry_backs_off_until_the_attempt_succeeds():
    clock, messages, calls = Clock(), [], []

    def attempt():
        calls.append(clock.now)
        if len(calls) < 5:
            raise NotYet("waiting for shop_dev to accept the role")
        return "ready"

    assert waits.retry(attempt, timeout=300, sleep=clock.sleep, clock=clock, on_retry=messages.append) == "ready"
    assert clock.sleeps == [2, 4, 8, 16]
    assert messages == ["waiting for shop_dev to accept the role"] * 4


def test_retry_gives_up_after_the_timeout_with_the_last_reason():
    clock = Clock()

    def never():
        raise NotYet("waiting for shop_dev to accept the role")

    with pytest.raises(PreflightError, match="gave up after 60s: waiting for shop_dev"):
        waits.retry(never, timeout=60, sleep=clock.sleep, clock=clock)
    assert sum(clock.sleeps) <= 60 and clock.sleeps[-1] == 20  # capped backoff


def test_retry_lets_other_errors_through_at_once():
    def broken():
        raise PreflightError("access denied for good")

    with pytest.raises(PreflightError, match="for good"):
        waits.retry(broken, timeout=60, sleep=lambda _: pytest.fail("slept"), clock=lambda: 0)


def test_readiness_wait_retries_access_denied_until_the_role_works(org, monkeypatch):
    from awsenvs import aws

    env = org.environment_by_stack("shop-dev")
    answers = [aws.AwsError("assume role ...: AccessDenied: not authorized"), aws.AwsError("assume role: AccessDenied"), None]

    def assume(account_id, role_name, session_name):
        assert (account_id, role_name) == ("111111111111", "OrganizationAccountAccessRole")
        answer = answers.pop(0)
        if answer:
            raise answer

    monkeypatch.setattr(aws, "assume_role_session", assume)
    clock, seen = Clock(), []
    waits.wait_for_role(env, "111111111111", seen.append, sleep=clock.sleep, clock=clock)
    assert answers == [] and len(seen) == 2
    assert seen[0] == "waiting for shop_dev (111111111111) to accept the role OrganizationAccountAccessRole"


class RecordedOrganizations:
    """Answers of the Organizations API as recorded for a CreateAccount an earlier run started."""

    def __init__(self, states: list[str]) -> None:
        self.states = states
        self.described = 0

    def list_create_account_status(self, States):
        assert States == ["IN_PROGRESS"]
        return {"CreateAccountStatuses": [
            {"Id": "car-1", "AccountName": "shop_dev", "State": "IN_PROGRESS"},
            {"Id": "car-2", "AccountName": "somebody_elses", "State": "IN_PROGRESS"},  # not ours: not waited for
        ]}

    def describe_create_account_status(self, CreateAccountRequestId):
        assert CreateAccountRequestId == "car-1"
        self.described += 1
        return {"CreateAccountStatus": {"Id": "car-1", "State": self.states.pop(0)}}


def test_a_pending_create_account_is_waited_for_not_repeated(org):
    client, clock, seen = RecordedOrganizations(["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]), Clock(), []
    assert waits.wait_for_account_creation(org, client, seen.append, sleep=clock.sleep, clock=clock) is True
    assert client.described == 3 and clock.sleeps == [2, 4]
    assert seen == ["account shop_dev is still being created (an earlier run asked for it)"] * 2


def test_the_runner_hands_the_lookups_the_addresses_its_state_holds(synthesized, tmp_path):
    """The managed resources in a stack's state (read from the file: no terraform) are what
    its look-ups skip; data sources are not resources to import."""
    import json

    from awsenvs.run.runner import Runner
    from awsenvs.terraform import Terraform

    s = synthesized["two"]
    runner = Runner(s.org, Terraform(), s.outdir, state_dir=tmp_path)
    assert runner.states.read("shop-dev").addresses == frozenset()  # no state yet
    resources = [{"mode": "managed", "type": "aws_iam_user", "name": "alice", "instances": []},
                 {"mode": "data", "type": "aws_caller_identity", "name": "current", "instances": []}]
    (tmp_path / "shop-dev.tfstate").write_text(json.dumps({"version": 4, "serial": 3, "lineage": "l", "resources": resources}))
    assert runner.states.read("shop-dev").addresses == {"aws_iam_user.alice"}


def _probe(env, account_id):
    from awsenvs import aws

    return AccountProbe(account_id, lambda: aws.member_session(account_id, env.role_name, env.cli_profile))


def test_account_lookups_skip_the_addresses_the_state_holds(org, synthesized, tmp_path, monkeypatch):
    """Real boto3 against moto's in-process mock: an address already in state is not looked
    up (importing it would be a no-op), so a user added to a product costs its own calls."""
    moto = pytest.importorskip("moto")
    from awsenvs import aws

    in_process_moto_env(monkeypatch, tmp_path, org.region)
    calls, sessions, real_member_session = [], [], aws.member_session

    def member_session(*args, **kwargs):  # observed, not replaced: counts the member account's API calls
        session = real_member_session(*args, **kwargs)
        sessions.append(session)
        session.events.register("before-call", lambda model, **_: calls.append(model.name))
        return session

    monkeypatch.setattr(aws, "member_session", member_session)
    env, account_id = org.environment_by_stack("shop-dev"), "111111111101"
    user = env.users[0]
    with moto.mock_aws():
        aws.assume_role_session(account_id, env.role_name).client("iam").create_user(UserName=user.name)
        found = reconcile.account_stack_imports(env, _probe(env, account_id))
        assert f"aws_iam_user.{user.tf_name}" in {i.address for i in found}
        looked_up_all = len(calls)

        calls.clear()
        held = frozenset({f"aws_iam_user.{user.tf_name}"})
        rest = reconcile.account_stack_imports(env, _probe(env, account_id), held=held)
        assert {i.address for i in rest} == {i.address for i in found} - held
        assert calls.count("GetUser") == len(env.users) - 1 and len(calls) < looked_up_all

        calls.clear()
        sessions.clear()
        config = synthesized["two"].stacks["shop-dev"]["resource"]
        everything = frozenset(f"{type_}.{name}" for type_, named in config.items() for name in named)
        # A converged stack: not a call, not even the assumed role's session.
        assert reconcile.account_stack_imports(env, _probe(env, account_id), held=everything) == []
        assert calls == [] and sessions == []


def test_created_accounts_are_compared_with_the_live_ones_by_id(org):
    """A created account's root email changed in org.yaml, or an account closed outside
    awsenvs: refused in one line each (the provider would replace it, or create it again);
    a changed name is fine: the provider renames in place (account:PutAccountName)."""
    dev = org.environment_by_stack("shop-dev")
    prod = org.environment_by_stack("shop-prod")
    managed = {"shop-dev": "111111111111", "shop-prod": "222222222222"}
    renamed = LiveAccount("111111111111", "shop_dev_old_name", dev.email, "ACTIVE")
    as_configured = LiveAccount("222222222222", prod.account_name, prod.email.upper(), "ACTIVE")  # emails: any case
    checks.check_created_accounts(org, _live(accounts=[renamed, as_configured, LEGACY]), managed)

    moved_email = LiveAccount("111111111111", dev.account_name, "someone-else@acme.example.com", "ACTIVE")
    closed = LiveAccount("222222222222", prod.account_name, prod.email, "SUSPENDED")
    with pytest.raises(AdoptionError) as excinfo:
        checks.check_created_accounts(org, _live(accounts=[moved_email, closed, LEGACY]), managed)
    first, second = str(excinfo.value).splitlines()
    assert first.startswith("two-products.yaml: products.shop.environments.dev.email: account 111111111111's root email "
                            "is 'someone-else@acme.example.com'")
    assert "set email back to someone-else@acme.example.com" in first and "StartPrimaryEmailUpdate" in first
    assert second.startswith("two-products.yaml: products.shop.environments.prod: its account 222222222222 was closed or "
                             "removed outside awsenvs (status SUSPENDED)")
    with pytest.raises(AdoptionError, match="no longer in the organization"):
        checks.check_created_accounts(org, _live(accounts=[renamed, LEGACY]), managed)
    # Retired and closed, then put back in org.yaml: no account yet, and its email is the closed one's.
    with pytest.raises(AdoptionError) as excinfo:
        checks.check_created_accounts(org, _live(accounts=[renamed, closed, LEGACY]), {"shop-dev": "111111111111"})
    [line] = str(excinfo.value).splitlines()
    assert line.startswith(f"two-products.yaml: products.shop.environments.prod: its root email {prod.email} is that of "
                           "account 222222222222")
    assert 'set account_id: "222222222222"' in line and "another email" in line
