"""Confirmation rules of apply, on the real model and saved-plan records (no AWS needed)."""

from __future__ import annotations

import pytest
from rich.console import Console

from awsenvs.config import load
from awsenvs.results import StackStatus
from awsenvs.run.stackdir import SavedPlan
from awsenvs.terraform import PlanSummary
from awsenvs.run.workflow import Refused, Run, _confirm
from awsenvs.run.explain import environments_guarded_by
from conftest import EXAMPLE, IDENTITY_CENTER, TWO_PRODUCTS


def _session(ask):
    org = load(EXAMPLE)
    return Run(org, list(org.stacks), Console(quiet=True), EXAMPLE.parent, guard=lambda ids: "123456789012",
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
    session = Run(org, list(org.stacks), Console(quiet=True), IDENTITY_CENTER.parent,
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
    session = Run(org, list(org.stacks), Console(quiet=True), TWO_PRODUCTS.parent,
                      guard=lambda ids: "123456789012", ask=None, terraform=None)
    changed = {"aws_organizations_policy.awsenvs_billing_guardrails"}
    touches = tuple(env.stack for env in environments_guarded_by(org, changed))
    assert touches == ("billing-prod", "billing-legacy")
    saved = {"management": SavedPlan("management", None, StackStatus.CHANGES, PlanSummary(0, 1), touches=touches)}
    with pytest.raises(Refused, match="access, guardrails or account settings of billing-prod, mfa: required"):
        _confirm(session, saved, replanned=False, yes=False)
    answers = Answers("billing_prod")
    session.ask = answers
    _confirm(session, saved, replanned=False, yes=False)
    assert len(answers.prompts) == 1 and "(billing_prod)" in answers.prompts[0]  # billing-legacy is mfa: optional
    # The attachment counts too; another product's policy does not.
    assert [e.stack for e in environments_guarded_by(org, {"aws_organizations_policy_attachment.awsenvs_shop_guardrails"})] == [
        "shop-dev", "shop-staging", "shop-prod"]
    assert environments_guarded_by(org, {"aws_organizations_organizational_unit.shop"}) == ()


# A team's organization (issue 38): tally's accounts have a security contact and an opt-in
# region (staging its own), its prod and ledger's prod are protected; auditors is carol's, in
# tally-dev only.
TEAM = """
organization: {name: quokka, email: cloud@quokka.example.com, region: eu-west-1, access: identity_center}
groups:
  sysadmins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess, arn:aws:iam::aws:policy/ReadOnlyAccess]}
  developers: {policies: [arn:aws:iam::aws:policy/PowerUserAccess]}
  auditors: {policies: [arn:aws:iam::aws:policy/SecurityAudit]}
products:
  tally:
    guardrails: {deny_root_user: true}
    contacts: {security: {name: Sec, title: Security, email: sec@quokka.example.com, phone: "+1 555 0100"}}
    regions: [af-south-1]
    users:
      ann: {groups: [sysadmins, developers], email: ann@quokka.example.com, name: Ann Lee}
      ben: {groups: [developers], email: ben@quokka.example.com, name: Ben Ng}
    environments:
      dev:
        mfa: optional
        users:
          ann: {groups: [sysadmins, developers], email: ann@quokka.example.com, name: Ann Lee}
          ben: {groups: [developers], email: ben@quokka.example.com, name: Ben Ng}
          carol: {groups: [auditors], email: carol@quokka.example.com, name: Carol Diaz}
      staging:
        mfa: optional
        contacts: {security: {name: Sec, title: Security, email: staging@quokka.example.com, phone: "+1 555 0100"}}
        regions: [af-south-1]
      prod: {mfa: required, users: [ann, ben]}
  ledger:
    guardrails: {deny_root_user: true}
    users:
      dan: {groups: [developers], email: dan@quokka.example.com, name: Dan Ro}
    environments:
      dev: {mfa: optional}
      prod: {mfa: required}
"""
STAGING = """      staging:
        mfa: optional
        contacts: {security: {name: Sec, title: Security, email: staging@quokka.example.com, phone: "+1 555 0100"}}
        regions: [af-south-1]
"""


def _assignments_gone(before: str, after: str) -> list[tuple[str, str]]:
    from awsenvs.config import parse

    gone = {a.address for a in parse(before).assignments} - {a.address for a in parse(after).assignments}
    assert gone  # the edit really removes assignments
    return [(address, "delete") for address in sorted(gone)]


# kind -> (org.yaml after the change, the management plan's changes (address, action), the
# environments the management stack holds that org.yaml no longer has, access touched,
# guardrails or account settings touched).
TOUCHES = {
    # ben moved out of tally's prod: prod's assignment goes, nothing else
    "assignment": (TEAM.replace("users: [ann, ben]", "users: [ann]"),
                   _assignments_gone(TEAM, TEAM.replace("users: [ann, ben]", "users: [ann]")), (),
                   ("tally-prod",), ()),
    # auditors removed: its permission set, its policy and carol's one assignment, in tally-dev
    "permission set": (TEAM.replace("auditors: {policies: [arn:aws:iam::aws:policy/SecurityAudit]}", "").replace(
                           "          carol: {groups: [auditors], email: carol@quokka.example.com, name: Carol Diaz}\n", ""),
                       [("aws_ssoadmin_permission_set.auditors", "delete"),
                        ("aws_ssoadmin_managed_policy_attachment.auditors_SecurityAudit", "delete"),
                        ("aws_ssoadmin_account_assignment.tally_dev_carol_auditors", "delete"),
                        ("aws_identitystore_user.carol", "delete"), ("aws_identitystore_group.auditors", "delete")], (),
                       ("tally-dev",), ()),
    # ReadOnlyAccess taken off sysadmins: where sysadmins is assigned (ann, tally's accounts)
    "group policy": (TEAM.replace(", arn:aws:iam::aws:policy/ReadOnlyAccess", ""),
                     [("aws_ssoadmin_managed_policy_attachment.sysadmins_ReadOnlyAccess", "delete")], (),
                     ("tally-dev", "tally-staging", "tally-prod"), ()),
    # tally's SCP changes; ledger's, made before awsenvs, is adopted as it is (an import, no change)
    "SCP": (TEAM.replace("deny_root_user: true", "deny_root_user: false", 1),
            [("aws_organizations_policy.awsenvs_tally_guardrails", "update"),
             ("aws_organizations_policy.awsenvs_ledger_guardrails", "import"),
             ("aws_organizations_policy_attachment.awsenvs_ledger_guardrails", "import")], (),
            (), ("tally-dev", "tally-staging", "tally-prod")),
    # staging's contact changes; prod's, already as org.yaml sets it, is imported
    "contacts": (TEAM.replace("staging@quokka", "security@quokka"),
                 [("aws_account_alternate_contact.tally_staging_security", "update"),
                  ("aws_account_alternate_contact.tally_prod_security", "import")], (),
                 (), ("tally-staging",)),
    # staging enables another region; prod's, already enabled, is imported
    "regions": (TEAM.replace("        regions: [af-south-1]\n", "        regions: [af-south-1, eu-south-1]\n"),
                [("aws_account_region.tally_staging_eu_south_1", "create"),
                 ("aws_account_region.tally_prod_af_south_1", "import")], (),
                (), ("tally-staging",)),
    # staging retired: its assignments go, its account, contacts and region leave state
    "retirement": (TEAM.replace(STAGING, ""),
                   [*_assignments_gone(TEAM, TEAM.replace(STAGING, "")),
                    ("aws_organizations_account.tally_staging", "forget"),
                    ("aws_account_alternate_contact.tally_staging_security", "forget"),
                    ("aws_account_region.tally_staging_af_south_1", "forget")], ("tally-staging",),
                   (), ()),
}


@pytest.mark.parametrize("kind", TOUCHES)
def test_each_kind_of_management_change_touches_only_the_environments_it_reaches(kind):
    """What the plan notes and the typed confirmations name: a management plan's change counts
    for the accounts it really reaches, and only those of them that are protected ask for
    their account names (issue 38: moving ben out of prod noted tally-dev's and
    tally-staging's access, retiring staging asked for tally_prod and ledger_prod)."""
    from awsenvs.config import parse
    from awsenvs.run.explain import touched_environments
    from awsenvs.terraform import ResourceChange

    text, planned, former, access, guardrails = TOUCHES[kind]
    org = parse(text)
    changes = [ResourceChange(address, address.split(".")[0], ("no-op",), importing=True) if action == "import"
               else ResourceChange(address, address.split(".")[0], (action,)) for address, action in planned]
    assert touched_environments(org, changes, former) == (access, guardrails)

    touches = tuple(dict.fromkeys((*access, *guardrails)))
    session = Run(org, list(org.stacks), Console(quiet=True), IDENTITY_CENTER.parent,
                      guard=lambda ids: "123456789012", ask=None, terraform=None)
    saved = {"management": SavedPlan("management", None, StackStatus.CHANGES, PlanSummary(1), touches=touches)}
    asked = ["tally_prod"] if "tally-prod" in touches else []  # ledger-prod is never reached
    answers = Answers(*asked)
    session.ask = answers
    _confirm(session, saved, replanned=False, yes=False)
    assert [p.split("Type its account name (")[1].split(")")[0] for p in answers.prompts] == asked
