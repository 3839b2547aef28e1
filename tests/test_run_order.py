"""The run wing's pure rooms, without terraform: apply's launch order as data (run/order.py),
the one confirmation (run/confirm.py) and the typed state view (run/state.py)."""

from __future__ import annotations

import json

import pytest

from awsenvs.results import StackStatus
from awsenvs.run.confirm import Confirmation, Protected, Refused, confirm
from awsenvs.run.order import Batch, Step, launch_order
from awsenvs.run.stackdir import SavedPlan
from awsenvs.run.state import StackState
from awsenvs.terraform import PlanSummary, TerraformError

SELECTED = ("management", "shop-dev", "shop-prod", "web-dev")


def _saved(**statuses: StackStatus | None) -> dict[str, SavedPlan | None]:
    return {stack.replace("_", "-"): None if status is None else SavedPlan(stack.replace("_", "-"), None, status,
                                                                            PlanSummary(1))
            for stack, status in statuses.items()}


def test_retirements_go_first_then_management_then_the_accounts_it_creates_then_the_rest():
    saved = _saved(management=StackStatus.CHANGES, shop_dev=StackStatus.CHANGES, shop_prod=StackStatus.WAITING,
                   web_dev=StackStatus.UNCHANGED)
    assert launch_order(SELECTED, saved, ["shop-qa"]) == (
        Batch(Step.RETIRE, ("shop-qa",)),
        Batch(Step.MANAGEMENT, ("management",), needs=Step.RETIRE),
        Batch(Step.CREATED, ("shop-prod",), needs=Step.MANAGEMENT),
        # the created ones are applied with the rest, once planned
        Batch(Step.REST, ("shop-dev", "shop-prod", "web-dev")),
    )


def test_empty_batches_are_left_out():
    saved = _saved(management=StackStatus.NO_CHANGES, shop_dev=StackStatus.CHANGES, shop_prod=None,
                   web_dev=StackStatus.CHANGES)
    assert launch_order(SELECTED, saved) == (Batch(Step.MANAGEMENT, ("management",), needs=Step.RETIRE),
                                             Batch(Step.REST, ("shop-dev", "shop-prod", "web-dev")))


def test_without_the_management_stack_a_waiting_stack_is_still_planned_once_its_account_exists():
    """`apply --stack shop-prod` after an earlier run's management apply created the account:
    the CREATED batch plans it (its id is in the management stack's outputs by then); the
    launch loop finds its need met, as the management stack is not in this run."""
    saved = _saved(shop_prod=StackStatus.WAITING)
    assert launch_order(("shop-prod",), saved) == (Batch(Step.CREATED, ("shop-prod",), needs=Step.MANAGEMENT),
                                                   Batch(Step.REST, ("shop-prod",)))


def test_a_retirement_alone_is_one_batch():
    assert launch_order(("management",), _saved(management=StackStatus.CHANGES), ["shop-qa", "web-qa"])[0] == \
        Batch(Step.RETIRE, ("shop-qa", "web-qa"))


class Answers:
    def __init__(self, *answers: str) -> None:
        self.answers, self.prompts = list(answers), []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


PROD = Protected("shop-prod", "shop_prod", "mfa: required", "1 to add")


def test_the_confirmation_asks_its_question_then_each_protected_account_name():
    answers = Answers("yes", "shop_prod")
    confirm(Confirmation("Apply the plans above?", "never asked", (PROD,)), answers, yes=False)
    assert answers.prompts == ["Apply the plans above? Type yes",
                               "shop-prod is protected (mfa: required); about to apply 1 to add. Type its account name "
                               "(shop_prod) to apply"]
    with pytest.raises(Refused, match="^not confirmed; nothing applied$"):
        confirm(Confirmation("Apply?", "never asked", (PROD,)), Answers("no"), yes=False)
    with pytest.raises(Refused, match="^shop-prod: account name not confirmed; nothing applied$"):
        confirm(Confirmation(protected=(PROD,)), Answers("yes"), yes=False)


def test_without_a_terminal_the_confirmation_refuses_unless_yes():
    with pytest.raises(Refused, match=r"^refusing to apply shop-prod \(mfa: required\) without a terminal"):
        confirm(Confirmation("Apply?", "the question's own refusal", (PROD,)), None, yes=False)
    with pytest.raises(Refused, match="^the question's own refusal$"):
        confirm(Confirmation("Apply?", "the question's own refusal"), None, yes=False)
    confirm(Confirmation(), None, yes=False)  # nothing to ask: goes on
    confirm(Confirmation("Apply?", "", (PROD,)), None, yes=True)  # --yes


def test_the_state_view_reads_what_terraform_writes(tmp_path):
    resources = [
        {"mode": "managed", "type": "aws_iam_user", "name": "alice",
         "instances": [{"attributes": {"name": "alice"}}]},
        {"mode": "managed", "type": "aws_organizations_organization", "name": "org",
         "instances": [{"status": "tainted", "attributes": {"id": "o-1"}}]},
        {"mode": "data", "type": "aws_caller_identity", "name": "current", "instances": [{"attributes": {}}]},
    ]
    path = tmp_path / "management.tfstate"
    path.write_text(json.dumps({"version": 4, "serial": 7, "lineage": "l-1", "resources": resources, "outputs": {
        "account_ids": {"value": {"shop-dev": "111111111111"}, "type": ["map", "string"]}}}))
    state = StackState.read_file(path)
    assert (state.serial, state.lineage) == (7, "l-1")
    assert state.addresses == {"aws_iam_user.alice", "aws_organizations_organization.org"}  # no data sources
    assert state.tainted == {"aws_organizations_organization.org"}
    assert state.users == ["alice"] and state.attributes("aws_organizations_organization.org") == {"id": "o-1"}
    assert state.created_account_ids == {"shop-dev": "111111111111"} and state.holds_anything
    assert not StackState.read_file(tmp_path / "none.tfstate").holds_anything  # no state yet
    assert StackState.decode("") == StackState()
    path.write_text("{ cut short")
    with pytest.raises(TerraformError, match="not a readable state file"):
        StackState.read_file(path)
