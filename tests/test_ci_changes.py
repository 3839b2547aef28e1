"""Which stacks a pull request plans (awsenvs/ci/changes.py): org.yaml against its base, in git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from awsenvs import config
from awsenvs.ci.changes import changed_stacks, pull_request_changes
from tests.conftest import IDENTITY_CENTER, TWO_PRODUCTS


def _edited(source: Path, edit) -> str:
    data = yaml.safe_load(source.read_text())
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


def _parse(text: str) -> config.Org:
    return config.parse(text, TWO_PRODUCTS)


def test_a_new_user_in_one_product_plans_only_that_products_accounts():
    base = config.load(TWO_PRODUCTS)
    head = _parse(_edited(TWO_PRODUCTS, lambda d: d["products"]["billing"]["users"].update(dan={"groups": ["developers"]})))
    changes = changed_stacks(head, base)
    assert changes.stacks == ("billing-prod", "billing-legacy")
    assert "2 of" in changes.why


def test_a_guardrail_change_plans_the_management_stack_only():
    base = config.load(TWO_PRODUCTS)
    head = _parse(_edited(TWO_PRODUCTS, lambda d: d["guardrails"].update(allowed_regions=["eu-central-1"])))
    assert changed_stacks(head, base).stacks == ("management",)


def test_with_identity_center_users_are_the_management_stacks():
    base = config.load(IDENTITY_CENTER)
    head = config.parse(_edited(IDENTITY_CENTER, lambda d: next(iter(d["products"].values()))["users"].update(
        newcomer={"groups": [next(iter(d["groups"]))], "email": "new@example.com", "name": "New Comer"})), IDENTITY_CENTER)
    assert "management" in changed_stacks(head, base).stacks


def test_a_removed_environment_plans_the_management_stack_that_retires_it():
    base = config.load(TWO_PRODUCTS)
    head = _parse(_edited(TWO_PRODUCTS, lambda d: d["products"]["shop"]["environments"].pop("staging")))
    changes = changed_stacks(head, base)
    assert changes.stacks == ("management",) and "shop-staging" in changes.why


def test_no_change_plans_nothing_and_code_or_no_base_plans_everything():
    org = config.load(TWO_PRODUCTS)
    assert changed_stacks(org, org).stacks == ()
    assert changed_stacks(org, None, ("awsenvs/stacks.py",)).stacks == org.stacks
    assert changed_stacks(org, None, base_problem="no base").stacks == org.stacks


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_against_the_base_commit_in_git(tmp_path):
    """The base is read from git; a change to the workflows' pin (code) plans every stack."""
    repo = tmp_path / "infra"
    (repo / "config").mkdir(parents=True)
    target = repo / "config" / "org.yaml"
    target.write_text(TWO_PRODUCTS.read_text())
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    target.write_text(_edited(TWO_PRODUCTS, lambda d: d["products"]["shop"]["users"].update(eve={"groups": ["developers"]})))
    _git(repo, "commit", "-qam", "eve")
    head = config.load(target)
    assert pull_request_changes(head, base).stacks == ("shop-dev", "shop-prod")  # staging lists its users
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "awsenvs-plan.yml").write_text("# pin changed\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "pin")
    changes = pull_request_changes(head, base)
    assert changes.stacks == head.stacks and "awsenvs-plan.yml" in changes.why
