"""The Terraform adapter: the typed plan view on recorded `terraform show -json` output, and
plan summaries from real terraform (its built-in terraform_data resource: no provider, no AWS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from awsenvs.terraform import TERRAFORM_GOGC, PlanSummary, Terraform, resource_changes

FIXTURE = Path(__file__).parent / "fixtures" / "plan-show.json"


def test_resource_changes_view_of_a_recorded_plan():
    changes = {c.address: c for c in resource_changes(json.loads(FIXTURE.read_text()))}
    assert changes["aws_iam_user.alice"].action == "create"
    assert changes["aws_iam_account_alias.alias"].action == "replace" and changes["aws_iam_account_alias.alias"].importing
    assert changes["aws_iam_group.developers"].action == "import" and changes["aws_iam_group.developers"].changes
    assert changes["aws_organizations_account.shop_qa"].action == "forget"
    assert not changes["aws_iam_group.sysadmins"].changes
    summary = PlanSummary.of(c for c in changes.values() if c.changes)
    # replace counts as one add and one destroy; three imports, whatever else they do.
    assert summary == PlanSummary(add=2, change=1, destroy=2, imports=3, forget=1)


def _config(directory: Path, document: dict) -> None:
    (directory / "main.tf.json").write_text(json.dumps(document))


def test_plan_summary_comes_from_the_exit_code_never_a_missing_event(tmp_path):
    terraform = Terraform()
    resource = {"resource": {"terraform_data": {"a": {"input": "one"}, "b": {"input": "two"}}}}
    _config(tmp_path, resource)
    terraform.init(tmp_path)
    plan = tmp_path / "p.tfplan"
    assert terraform.plan(tmp_path, plan) == PlanSummary(add=2)
    terraform.apply(tmp_path, plan)
    assert terraform.plan(tmp_path, plan) == PlanSummary()  # exit code 0

    # An output-only change: no resource changes, but something to apply.
    _config(tmp_path, {**resource, "output": {"x": {"value": "new"}}})
    assert terraform.plan(tmp_path, plan).changes

    # A `removed` block (forget) alone: terraform's own change_summary counts nothing.
    _config(tmp_path, {"resource": {"terraform_data": {"a": {"input": "one"}}},
                       "removed": [{"from": "terraform_data.b", "lifecycle": {"destroy": False}}]})
    assert terraform.plan(tmp_path, plan) == PlanSummary(forget=1)
    terraform.apply(tmp_path, plan)
    assert terraform.state_list(tmp_path) == ["terraform_data.a"]


def test_terraform_runs_with_a_lazier_go_gc_unless_the_user_chose_one():
    assert Terraform(env={"PATH": os.environ["PATH"]}).env["GOGC"] == TERRAFORM_GOGC
    assert Terraform(env={"PATH": os.environ["PATH"], "GOGC": "off"}).env["GOGC"] == "off"
