"""`audit` checks the member accounts in threads: rows keep org.yaml's order, `workers`
bounds how many accounts are checked at once, and one account's failure is its own row.

The member checks are replaced by a slow recording stand-in (no AWS here), except in the last
test, which runs the real checks with real boto3 against moto's in-process mock."""

from __future__ import annotations

import threading
import time

import pytest

from awsenvs import audit as audit_
from awsenvs import aws
from awsenvs.audit import FAIL, PASS, Finding
from awsenvs.config import load
from conftest import TWO_PRODUCTS, in_process_moto_env

MANAGEMENT = "999999999999"
CLEAN_ROOT = {"AccountPasswordPresent": 0, "AccountAccessKeysPresent": 0, "AccountMFAEnabled": 1,
              "AccountSigningCertificatesPresent": 0}


@pytest.fixture
def org():
    return load(TWO_PRODUCTS)


@pytest.fixture
def ids(org):
    """An account id for every stack (the adopted one keeps its configured id)."""
    return {env.stack: env.account_id or f"1111111111{n:02d}" for n, env in enumerate(org.environments)}


@pytest.fixture
def management(monkeypatch):
    """The management account's answers (STS, GetAccountSummary): no AWS in these tests."""
    monkeypatch.setattr(aws, "caller_account", lambda session=None: MANAGEMENT)
    monkeypatch.setattr(audit_, "read_summary", lambda session=None: CLEAN_ROOT)
    monkeypatch.setattr(audit_, "_organization", lambda org, ids, rows: None)  # the management stack's drift: not here
    monkeypatch.setattr(audit_, "_parked", lambda live, rows: ())  # no Suspended OU


class SlowChecks:
    """Stands in for `_account_checks`: takes a while, like AWS calls, and counts how many run at once."""

    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.fail = fail or {}
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.threads: set[str] = set()

    def __call__(self, env, account_id, label, identity_center, centralized_root, sts=None):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(0.2)
            if env.stack in self.fail:
                raise self.fail[env.stack]
            return [Finding("alias", label, PASS, env.alias), Finding("users", label, PASS, "checked")]
        finally:
            with self.lock:
                self.running -= 1


def _audit(org, ids, tmp_path, **kwargs) -> list[Finding]:
    return audit_.audit(org, ids, tmp_path / "config", tmp_path / "credentials", **kwargs)


def _members(rows: list[Finding]) -> list[Finding]:
    return [r for r in rows if r.account not in ("management", "local") and not r.account.startswith("management ")]


def test_parallel_rows_keep_org_order_and_accounts_overlap(org, ids, tmp_path, management, monkeypatch):
    checks = SlowChecks()
    monkeypatch.setattr(audit_, "_account_checks", checks)
    rows = _audit(org, ids, tmp_path, workers=4)

    assert rows[0] == Finding("root MFA", f"management ({MANAGEMENT})", PASS, "root user has MFA and no access keys")
    labels = [f"{env.stack} ({ids[env.stack]})" for env in org.environments]
    assert [(r.account, r.check) for r in _members(rows)] == [(label, check) for label in labels
                                                               for check in ("alias", "users")]
    assert rows[len(labels) * 2 + 1:] and all(r.account == "local" for r in rows[len(labels) * 2 + 1:])
    assert checks.most >= 2 and checks.most <= 4
    assert all(name.startswith("audit") for name in checks.threads)


def test_one_worker_checks_one_account_at_a_time(org, ids, tmp_path, management, monkeypatch):
    checks = SlowChecks()
    monkeypatch.setattr(audit_, "_account_checks", checks)
    sequential = _audit(org, ids, tmp_path, workers=1)
    assert checks.most == 1

    monkeypatch.setattr(audit_, "_account_checks", SlowChecks())
    assert _audit(org, ids, tmp_path, workers=4) == sequential  # same rows, same order


def test_a_failing_account_is_its_own_fail_row_and_the_others_go_on(org, ids, tmp_path, management, monkeypatch):
    checks = SlowChecks(fail={"shop-staging": aws.AwsError("assume role OrganizationAccountAccessRole in 111111111101: "
                                                          "AccessDenied: not authorized"),
                              "billing-prod": KeyError("PasswordPolicy")})
    monkeypatch.setattr(audit_, "_account_checks", checks)
    members = _members(_audit(org, ids, tmp_path, workers=4))

    by_account: dict[str, list[Finding]] = {}
    for row in members:
        by_account.setdefault(row.account.split(" ")[0], []).append(row)
    assert list(by_account) == [env.stack for env in org.environments]
    assert by_account["shop-staging"] == [Finding("access", "shop-staging (111111111101)", FAIL,
                                                  "assume role OrganizationAccountAccessRole in 111111111101: "
                                                  "AccessDenied: not authorized")]
    assert by_account["billing-prod"] == [Finding("access", "billing-prod (111111111103)", FAIL,
                                                  "KeyError: 'PasswordPolicy'")]
    for stack in ("shop-dev", "shop-prod", "billing-legacy"):
        assert [r.status for r in by_account[stack]] == [PASS, PASS]


def test_an_account_not_created_yet_is_reported_without_a_thread_call(org, ids, tmp_path, management, monkeypatch):
    checks = SlowChecks()
    monkeypatch.setattr(audit_, "_account_checks", checks)
    del ids["shop-prod"]
    members = _members(_audit(org, ids, tmp_path, workers=4))
    assert Finding("account exists", "shop-prod", FAIL, "not created yet: run apply") in members
    assert [r.account for r in members].index("shop-prod") == 4  # after shop-dev's and shop-staging's two rows


def test_workers_must_be_positive(org, ids, tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        _audit(org, ids, tmp_path, workers=0)


def test_real_checks_in_threads_each_make_their_own_session(org, ids, tmp_path, monkeypatch):
    """The real member checks (assume role, IAM) with real boto3 against moto's in-process mock:
    parallel rows equal sequential ones, the threads share only the STS client made by the
    calling thread, and each account gets a session of its own."""
    moto = pytest.importorskip("moto")
    in_process_moto_env(monkeypatch, tmp_path, org.region)

    made_sts, calls, real_member_session = [], [], aws.member_session

    def sts_client():
        made_sts.append((aws.boto3.client("sts"), threading.current_thread().name))
        return made_sts[-1][0]

    def member_session(account_id, role_name, cli_profile, sts=None):
        session = real_member_session(account_id, role_name, cli_profile, sts=sts)
        calls.append((account_id, sts, session, threading.current_thread().name))
        return session

    monkeypatch.setattr(aws, "sts_client", sts_client)  # observed, not replaced
    monkeypatch.setattr(aws, "member_session", member_session)
    with moto.mock_aws():
        # Two accounts differ from the rest: a session that reached the wrong account would show.
        prod, staging = (aws.assume_role_session(ids[s], "OrganizationAccountAccessRole").client("iam")
                         for s in ("shop-prod", "shop-staging"))
        prod.create_account_alias(AccountAlias="acme-shop-production")
        staging.create_user(UserName="alice")
        sequential = _audit(org, ids, tmp_path, workers=1)
        calls.clear()
        parallel = _audit(org, ids, tmp_path, workers=4)

    assert parallel == sequential
    members = _members(parallel)
    assert {r.check for r in members} >= {"root credentials", "alias", "password policy", "users"}
    assert not [r for r in members if r.check == "access"], members  # every role was assumed
    # The root credentials row passes or is manual as in-process moto's GetAccountSummary has
    # the root keys or not: awsenvs.moto_server fills them in once a test module of this
    # worker imported it (its patches stay in the process), so it is left out here.
    passed = {(r.account.split(" ")[0], r.check) for r in members if r.status == PASS and r.check != "root credentials"}
    # ... and, where mfa: required, that nobody holds admin rights org.yaml does not give
    standing = {(env.stack, "standing admin") for env in org.environments if env.mfa_required}
    assert passed == {("shop-prod", "alias"), ("shop-staging", "users"), *standing}
    sts = made_sts[-1][0]
    assert made_sts[-1][1] == threading.current_thread().name
    assert sorted(c[0] for c in calls) == sorted(ids.values())
    assert all(c[1] is sts and c[3].startswith("audit") for c in calls)
    assert len({id(c[2]) for c in calls}) == len(calls)
