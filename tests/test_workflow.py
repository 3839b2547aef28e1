"""Confirmation rules of apply, on the real model and saved-plan records (no AWS needed)."""

from __future__ import annotations

import pytest
from rich.console import Console

from awsenvs.config import load
from awsenvs.results import StackStatus
from awsenvs.runner import SavedPlan
from awsenvs.terraform import PlanSummary
from awsenvs.workflow import Refused, Session, _confirm
from conftest import EXAMPLE, IDENTITY_CENTER, TWO_PRODUCTS


def _session(ask):
    org = load(EXAMPLE)
    return Session(org, list(org.stacks), Console(quiet=True), EXAMPLE.parent, guard=lambda ids: "123456789012",
                   ask=ask, terraform=None)


def _saved(statuses: dict[str, str]) -> dict[str, SavedPlan]:
    return {s: SavedPlan(s, None, StackStatus(status), PlanSummary(1) if status == "changes" else None)
            for s, status in statuses.items()}


class Answers:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


def test_no_terminal_refuses_protected_environment_with_changes():
    saved = _saved({"management": "no changes", "autochart-dev": "changes", "autochart-prod": "changes"})
    with pytest.raises(Refused, match=r"autochart-prod \(mfa: required\)"):
        _confirm(_session(None), saved, replanned=False, yes=False)
    _confirm(_session(None), saved, replanned=False, yes=True)  # --yes


def test_no_terminal_applies_unprotected_saved_plans():
    saved = _saved({"management": "changes", "autochart-dev": "changes", "autochart-prod": "no changes",
                    "autochart-legacy": "no changes"})
    _confirm(_session(None), saved, replanned=False, yes=False)


def test_waiting_protected_account_needs_confirmation_too():
    saved = _saved({"management": "changes", "autochart-prod": StackStatus.WAITING})
    with pytest.raises(Refused):
        _confirm(_session(None), saved, replanned=False, yes=False)


def test_operator_must_type_the_account_name():
    saved = _saved({"autochart-dev": "changes", "autochart-prod": "changes", "autochart-legacy": "changes"})
    answers = Answers("autochart_legacy", "autochart_prod")
    _confirm(_session(answers), saved, replanned=False, yes=False)
    assert len(answers.prompts) == 2 and "autochart_prod" in answers.prompts[1]
    with pytest.raises(Refused, match="autochart-legacy: account name not confirmed"):
        _confirm(_session(Answers("prod")), saved, replanned=False, yes=False)


def test_replanned_changes_need_a_yes():
    saved = _saved({"autochart-dev": "changes"})
    with pytest.raises(Refused, match="nobody confirmed them"):
        _confirm(_session(None), saved, replanned=True, yes=False)
    with pytest.raises(Refused, match="not confirmed"):
        _confirm(_session(Answers("no")), saved, replanned=True, yes=False)
    _confirm(_session(Answers("yes")), saved, replanned=True, yes=False)


def test_the_prompt_restates_what_is_about_to_change():
    saved = {"autochart-prod": SavedPlan("autochart-prod", None, StackStatus.CHANGES, PlanSummary(1, 2, 0, 3),
                                         risks=("import aws_iam_account_alias.alias: alias change a -> b",))}
    answers = Answers("autochart_prod")
    _confirm(_session(answers), saved, replanned=False, yes=False)
    assert "1 to add, 2 to change, 0 to destroy, 3 to import (import aws_iam_account_alias.alias: alias change a -> b)" in answers.prompts[0]


def test_identity_center_access_changes_of_a_protected_environment_need_its_account_name():
    org = load(IDENTITY_CENTER)
    session = Session(org, list(org.stacks), Console(quiet=True), IDENTITY_CENTER.parent,
                      guard=lambda ids: "123456789012", ask=None, terraform=None)
    saved = {"management": SavedPlan("management", None, StackStatus.CHANGES, PlanSummary(1), touches=("shop-prod", "shop-dev"))}
    with pytest.raises(Refused, match="shop-prod, mfa: required"):
        _confirm(session, saved, replanned=False, yes=False)
    answers = Answers("shop_prod")
    session.ask = answers
    _confirm(session, saved, replanned=False, yes=False)
    assert len(answers.prompts) == 1 and "(shop_prod)" in answers.prompts[0]  # shop-dev is mfa: optional


def test_guardrail_changes_of_a_protected_environment_need_its_account_name():
    org = load(TWO_PRODUCTS)
    session = Session(org, list(org.stacks), Console(quiet=True), TWO_PRODUCTS.parent,
                      guard=lambda ids: "123456789012", ask=None, terraform=None)
    changed = {"aws_organizations_policy.awsenvs_billing_guardrails"}
    touches = tuple(env.stack for env in org.environments_guarded_by(changed))
    assert touches == ("billing-prod", "billing-legacy")
    saved = {"management": SavedPlan("management", None, StackStatus.CHANGES, PlanSummary(0, 1), touches=touches)}
    with pytest.raises(Refused, match="access, guardrails or account settings of billing-prod, mfa: required"):
        _confirm(session, saved, replanned=False, yes=False)
    answers = Answers("billing_prod")
    session.ask = answers
    _confirm(session, saved, replanned=False, yes=False)
    assert len(answers.prompts) == 1 and "(billing_prod)" in answers.prompts[0]  # billing-legacy is mfa: optional
    # The attachment counts too; another product's policy does not.
    assert [e.stack for e in org.environments_guarded_by({"aws_organizations_policy_attachment.awsenvs_shop_guardrails"})] == [
        "shop-dev", "shop-staging", "shop-prod"]
    assert org.environments_guarded_by({"aws_organizations_organizational_unit.shop"}) == ()
