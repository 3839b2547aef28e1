"""The team's door end to end: the workflows `ci github` writes, run by the harness
(tests/ci_harness.py) against the emulator, with GitHub's API faked (tests/github_fake.py).

One organization, two products (shop: dev and prod, mfa: required; blog: dev), state in
S3, `ci.github` set.  The operator runs `bootstrap` once (the state bucket, GitHub's OIDC
provider, the plan and apply roles) and `ci github`, commits, and from then on:

1. a push to main applies: the apply job holds the protected stacks back; the job in the
   protected environment refuses while that environment requires no reviewer, and applies
   them once it does;
2. a pull request that changes blog's users gets one comment listing only blog's stack,
   updated in place on the next push, and the same in the job summary;
3. merged, two pushes at once: the concurrency group runs them one after the other;
4. a scheduled run after changes made by hand opens the drift issue naming them (audit's
   rows, and the stack `plan --all` would change); the next one, after they are undone,
   updates the same issue.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import boto3
import pytest
import yaml

from awsenvs.sandbox import Emulator
from tests.ci_harness import Harness, environ_for_jobs
from tests.conftest import Rehearsal, seed_rehearsal
from tests.github_fake import FakeGitHub

pytestmark = pytest.mark.e2e

REPOSITORY = "acme/infra"
ORG = """
organization:
  name: door
  email: ops@door.example.com
  region: eu-west-1
groups:
  admins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess]}
guardrails: {deny_leave_organization: false, protect_baseline: false, deny_root_user: false}
products:
  shop:
    users: {ann: {groups: [admins]}}
    environments:
      dev: {}
      prod: {mfa: required}
  blog:
    users: {cy: {groups: [admins]}}
    environments:
      dev: {}
"""
STATE = {"backend": "s3", "s3": {"bucket": "door-tfstate", "region": "eu-west-1"}}
CI = {"github": {"repository": REPOSITORY, "drift": {"plan_all": True}}}
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=dev", "-c", "user.email=dev@door.example.com", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout.strip()


def _edit(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


class Door:
    def __init__(self, rehearsal: Rehearsal, harness: Harness, github: FakeGitHub) -> None:
        self.rehearsal, self.harness, self.github = rehearsal, harness, github
        self.repo = rehearsal.workdir

    def commit(self, message: str) -> str:
        _git(self.repo, "add", "-A")
        _git(self.repo, "commit", "-qm", message)
        return _git(self.repo, "rev-parse", "HEAD")

    def push(self, sha: str, before: str = "0" * 40):
        payload = {"ref": "refs/heads/main", "before": before, "after": sha, "repository": {"full_name": REPOSITORY}}
        return self.harness.run("awsenvs-apply.yml", "push", payload, sha, "refs/heads/main")

    def account_id(self, name: str) -> str:
        with self.rehearsal.boto():
            accounts = boto3.client("organizations").list_accounts()["Accounts"]
        return next(a["Id"] for a in accounts if a["Name"] == name)

    def iam_in(self, account_name: str):
        from awsenvs import aws

        with self.rehearsal.boto():
            return aws.assume_role_session(self.account_id(account_name), "OrganizationAccountAccessRole").client("iam")


@pytest.fixture(scope="module")
def door(provider_mirror, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("door")
    with Emulator(tls=True) as emulator, FakeGitHub(repository=REPOSITORY) as github:
        source = workdir / "source.yaml"
        source.write_text(ORG)
        env, path = seed_rehearsal(emulator, provider_mirror, workdir, source)
        source.unlink()
        _edit(path, lambda d: d.update(state=STATE, ci=CI))
        rehearsal = Rehearsal(workdir, env, path)
        (workdir / ".gitignore").write_text("home/\ncdktf.out/\nstate/\nstate.lock\n")
        _git(workdir, "init", "-q", "-b", "main")

        booted = rehearsal.cli("bootstrap", "--yes")
        assert booted.returncode == 0, booted.stderr[-3000:]
        written = rehearsal.cli("ci", "github")
        assert written.returncode == 0, written.stderr[-3000:]

        def assume(role_arn: str, token: str) -> dict[str, str]:
            with rehearsal.boto():
                keys = boto3.client("sts").assume_role_with_web_identity(
                    RoleArn=role_arn, RoleSessionName="github-actions", WebIdentityToken=token)["Credentials"]
            return {"AWS_ACCESS_KEY_ID": keys["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": keys["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": keys["SessionToken"]}

        def trust_of(role_arn: str) -> dict:
            with rehearsal.boto():
                document = boto3.client("iam").get_role(RoleName=role_arn.split("/")[-1])["Role"]["AssumeRolePolicyDocument"]
            return json.loads(document) if isinstance(document, str) else document

        runner_home = workdir / "runner-home"
        runner_home.mkdir()
        harness = Harness(workdir, REPOSITORY, environ_for_jobs(env, runner_home), github, assume, trust_of,
                          tmp_path_factory.mktemp("runs"))
        yield Door(rehearsal, harness, github)


@pytest.fixture(scope="module")
def main_commit(door):
    return door.commit("awsenvs: org.yaml and the workflows")


def _keep(name: str, text: str) -> None:
    """With AWSENVS_DOOR_ARTIFACTS=DIR, what GitHub would show is kept there to read."""
    folder = os.environ.get("AWSENVS_DOOR_ARTIFACTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / name).write_text(text)


def _failed_step(job) -> str:
    return next((s.output for s in job.steps if s.outcome == "failure"), "")


def test_a_push_applies_and_holds_the_protected_stack_for_a_reviewed_environment(door, main_commit):
    door.github.environment("awsenvs-production", reviewers=0)  # made on the fly by a first run: no rule
    first = door.push(main_commit)
    apply_job, protected_job = first.jobs["apply"], first.jobs["apply-protected"]
    assert apply_job.conclusion == "success", apply_job.log[-4000:]
    assert apply_job.environment == "awsenvs" and apply_job.outputs["protected"] == "true"
    assert "held for review" in apply_job.summary and "shop-prod" in apply_job.summary
    assert protected_job.conclusion == "failure" and protected_job.environment == "awsenvs-production"
    refusal = _failed_step(protected_job)
    _keep("push-apply-summary.md", apply_job.summary)
    _keep("push-apply-protected-refused.log", refusal)
    assert "requires no reviewer" in refusal and "Required reviewers" in refusal, refusal[-2000:]
    with door.rehearsal.boto():
        names = [a["Name"] for a in boto3.client("organizations").list_accounts()["Accounts"]]
    assert "door_shop_dev" in names or "shop_dev" in " ".join(names)

    door.github.environment("awsenvs-production", reviewers=1)
    again = door.push(main_commit)
    assert again.jobs["apply-protected"].conclusion == "success", again.jobs["apply-protected"].log[-4000:]
    _keep("push-again-apply-protected-summary.md", again.jobs["apply-protected"].summary)
    prod_iam = door.iam_in(next(n for n in _account_names(door) if n.endswith("shop_prod")))
    assert "ann" in [u["UserName"] for u in prod_iam.list_users()["Users"]]
    for name in _account_names(door):
        roles = [r["RoleName"] for r in door.iam_in(name).list_roles()["Roles"]]
        assert "awsenvs-github-read" in roles, (name, roles)


def _account_names(door) -> list[str]:
    with door.rehearsal.boto():
        accounts = boto3.client("organizations").list_accounts()["Accounts"]
    return [a["Name"] for a in accounts if a["Name"].endswith(("_dev", "_prod"))]


def test_a_pull_request_plans_only_its_product_in_one_comment(door, main_commit):
    door.github.pull_request(7)
    _git(door.repo, "checkout", "-q", "-b", "blog-users")
    _edit(door.rehearsal.config_path, lambda d: d["products"]["blog"]["users"].update(dee={"groups": ["admins"]}))
    head = door.commit("blog: dee joins")
    payload = {"number": 7, "pull_request": {"number": 7, "base": {"sha": main_commit, "ref": "main"},
                                             "head": {"sha": head, "ref": "blog-users"}}}
    run = door.harness.run("awsenvs-plan.yml", "pull_request", payload, head, "refs/pull/7/merge")
    job = run.jobs["plan"]
    assert job.conclusion == "success", job.log[-4000:]
    [comment] = [c["body"] for c in door.github.comments_on(7)]
    assert "blog-dev" in comment and "dee" in comment
    assert "shop-dev" not in comment and "shop-prod" not in comment
    assert comment.strip() in job.summary
    _keep("pull-request-comment.md", comment)
    _keep("pull-request-summary.md", job.summary)

    _edit(door.rehearsal.config_path, lambda d: d["products"]["blog"]["users"].update(eve={"groups": ["admins"]}))
    second = door.commit("blog: eve joins too")
    payload["pull_request"]["head"]["sha"] = second
    door.harness.run("awsenvs-plan.yml", "pull_request", payload, second, "refs/pull/7/merge")
    [updated] = [c["body"] for c in door.github.comments_on(7)]  # the same comment, edited: never one per push
    assert "eve" in updated and len(door.github.calls("PATCH", f"/repos/{REPOSITORY}/issues/comments/")) == 1
    _git(door.repo, "checkout", "-q", "main")
    _git(door.repo, "merge", "-q", "--no-ff", "blog-users", "-m", "Merge pull request #7")


def test_two_pushes_at_once_never_overlap(door):
    merged = _git(door.repo, "rev-parse", "HEAD")
    runs: list = []
    threads = [threading.Thread(target=lambda: runs.append(door.push(merged))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = sorted(runs, key=lambda r: r.started)
    assert first.concurrency_group == second.concurrency_group == "awsenvs-apply-door"
    assert second.started >= first.ended
    assert all(r.jobs["apply"].conclusion == "success" for r in runs), [r.jobs["apply"].log[-3000:] for r in runs]
    blog_iam = door.iam_in(next(n for n in _account_names(door) if "blog" in n))
    assert {"cy", "dee", "eve"} <= {u["UserName"] for u in blog_iam.list_users()["Users"]}


def test_a_scheduled_run_opens_the_drift_issue_and_updates_it(door):
    """A user made by hand and a policy detached by hand in shop's dev: the nightly run
    (`ci drift --plan-all`, through the read-only roles) opens the one drift issue naming
    both, and `plan --all`'s stack that would attach the policy again; once both are undone
    the next run updates the same issue, naming neither."""
    shop_dev = next(n for n in _account_names(door) if n.endswith("shop_dev"))
    iam = door.iam_in(shop_dev)
    iam.create_user(UserName="mallory")
    iam.detach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    sha = _git(door.repo, "rev-parse", "HEAD")
    payload = {"schedule": "23 4 * * *", "repository": {"full_name": REPOSITORY}}
    run = door.harness.run("awsenvs-drift.yml", "schedule", payload, sha, "refs/heads/main")
    job = run.jobs["drift"]
    assert job.conclusion == "success", job.log[-4000:]
    [issue] = door.github.open_issues("awsenvs-drift")
    body = issue["body"].replace("\\_", "_")
    assert "mallory" in body and f"policies of group admins: expected {ADMIN}" in body
    planned = body.split("#### `plan --all`")[1]
    assert "shop-dev" in planned and "aws_iam_group_policy_attachment" in planned
    assert "parked accounts" in body and "awsenvs-github-read" in body  # left out, and why
    assert job.summary.strip().endswith(issue["body"].strip())  # the job summary holds the same
    _keep("drift-issue.md", f"# {issue['title']}\n\n{issue['body']}")

    iam.delete_user(UserName="mallory")
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    run = door.harness.run("awsenvs-drift.yml", "schedule", payload, sha, "refs/heads/main")
    assert run.jobs["drift"].conclusion == "success", run.jobs["drift"].log[-4000:]
    # The same issue, updated.  (It stays open here: the emulator's management root user has
    # no MFA, a failed check the issue lists too; closing a clean one: tests/test_ci_github.py.)
    [again] = door.github.open_issues("awsenvs-drift")
    assert again["number"] == issue["number"] and "mallory" not in again["body"]
    assert "policies of group admins" not in again["body"].replace("\\_", "_")
