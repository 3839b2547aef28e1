"""Drift on recorded facts (no AWS): what awsenvs manages, compared with the live objects;
an account as just applied has no difference, each change is one, `unmanaged` is left alone."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from awsenvs import drift
from awsenvs.config import MFA_GROUP_NAME, parse
from awsenvs.live.facts import (
    LiveAccount,
    LiveBudget,
    LiveIam,
    LiveIamGroup,
    LiveIamRole,
    LiveIamUser,
    LiveIdentityCenter,
    LiveOrganization,
    LivePerson,
)
from awsenvs.modules.guardrail_policies import guardrail_policies
from awsenvs.modules.iam_policies import mfa_trust_policy, require_mfa_policy

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ACCOUNT = "111111111111"
ORG = """
organization: {name: acme, email: cloud@acme.example.com, region: eu-west-1}
groups:
  developers: {policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]}
  admins: {policies: [arn:aws:iam::aws:policy/AdministratorAccess]}
budget: {monthly_usd: 100, alert_emails: [ops@acme.example.com]}
products:
  shop:
    users:
      maria: {groups: [developers]}
      tom: {groups: [admins], console: false}
    environments:
      prod:
        unmanaged: {users: [ci-deploy], policies: [arn:aws:iam::aws:policy/PowerUserAccess]}
"""


@pytest.fixture(scope="module")
def org():
    return parse(ORG)


def _as_applied(env) -> LiveIam:
    """The account as the account stack leaves it."""
    policy = env.password_policy
    users = tuple(LiveIamUser(u.name, f"AIDA{u.name}", "/", (*u.groups, MFA_GROUP_NAME), u.console, 1, 0) for u in env.users)
    groups = (*(LiveIamGroup(g.name, "/", g.policies, (f"assume-{g.admin_role_name}",)) for g in env.groups),
              LiveIamGroup(MFA_GROUP_NAME, "/", (drift.mfa_policy_arn(ACCOUNT),), ()))
    roles = tuple(LiveIamRole(g.admin_role_name,
                              json.loads(json.dumps(mfa_trust_policy([f"arn:aws:iam::{ACCOUNT}:user/{u.name}"
                                                                      for u in env.members(g)])).replace("$${", "${")),
                              g.policies) for g in env.groups)
    mfa = json.loads(json.dumps(require_mfa_policy(ACCOUNT, [env.admin_role_arn(ACCOUNT, g) for g in env.groups])).replace("$${", "${"))
    return LiveIam(ACCOUNT, {}, (env.alias,), {
        "MinimumPasswordLength": policy.minimum_length, "RequireLowercaseCharacters": True, "RequireUppercaseCharacters": True,
        "RequireNumbers": True, "RequireSymbols": True, "PasswordReusePrevention": policy.reuse_prevention,
        "MaxPasswordAge": policy.max_age_days, "AllowUsersToChangePassword": True},
        users, groups, budgets=(LiveBudget(env.budget_name, "100.0", "USD"),), roles=roles,
        documents={drift.mfa_policy_arn(ACCOUNT): mfa})


def _findings(env, live) -> list[str]:
    return [d.finding for d in drift.account_differences(env, live, iam_users=True)]


def test_an_account_as_applied_has_no_drift(org):
    env = org.environments[0]
    live = _as_applied(env)
    assert _findings(env, live) == []
    # what it holds on purpose (org.yaml's unmanaged) is not drift either
    deploy = LiveIamUser("ci-deploy", "AIDAci", "/", (), False, 0, 1)
    developers = replace(live.group("developers"), managed=(READ_ONLY, "arn:aws:iam::aws:policy/PowerUserAccess"))
    assert _findings(env, replace(live, users=(*live.users, deploy),
                                  groups=(developers, *(g for g in live.groups if g.name != "developers")))) == []
    # a single principal written as a plain string (as IAM returns it) is the same trust
    role = live.role("admins-mfa")
    statement = {**role.trust["Statement"][0], "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/tom"}}
    same = replace(role, trust={**role.trust, "Statement": [statement]})
    assert _findings(env, replace(live, roles=tuple(same if r.name == "admins-mfa" else r for r in live.roles))) == []


def test_each_change_behind_awsenvs_back_is_one_difference(org):
    env = org.environments[0]
    live = _as_applied(env)
    maria = replace(live.user("maria"), groups=(MFA_GROUP_NAME,), console=False)
    changed = replace(
        live,
        users=(maria, live.user("tom"), LiveIamUser("mallory", "AIDAm", "/", (), True, 0, 0)),
        groups=tuple(replace(g, managed=()) if g.name == "developers" else g for g in live.groups),
        roles=tuple(r for r in live.roles if r.name != "admins-mfa"),
        documents={drift.mfa_policy_arn(ACCOUNT): {"Version": "2012-10-17", "Statement": []}},
        password_policy={**live.password_policy, "MinimumPasswordLength": 8},
        budgets=(LiveBudget(env.budget_name, "5.0", "USD"),),
    )
    found = _findings(env, changed)
    expected = ["IAM users: expected maria, tom; live mallory, maria, tom (not in org.yaml: mallory)",
                f"policies of group developers: expected {READ_ONLY}; live none (missing {READ_ONLY})",
                "groups of user maria: expected awsenvs-mfa-required, developers; live awsenvs-mfa-required (missing developers)",
                "console password of maria: expected one; live none",
                "role admins-mfa: expected exists; live missing",
                "policy awsenvs-require-mfa: expected the require-MFA text awsenvs writes; live changed text",
                "password policy minimum length: expected 14; live 8",
                f"budget {env.budget_name}: expected 100.0 USD; live 5.0 USD"]
    assert found == expected


def test_the_management_stack_and_identity_center(org):
    product = org.products[0]
    texts = guardrail_policies(org)
    live = LiveOrganization("o-abcdefghij", "r-root", frozenset(org.trusted_services), frozenset(org.policy_types),
                            (LiveAccount(ACCOUNT, "shop_prod", "x@y.z", "ACTIVE"),), {product.ou_name: "ou-shop"},
                            {product.guardrails_policy_name: "p-guard", "by-hand": "p-hand"})
    ids = {"shop-prod": ACCOUNT}
    clean = drift.management_differences(org, live, ids, {"ou-shop": ((ACCOUNT,), ("p-FullAWSAccess", "p-guard"))},
                                         texts, {"p-guard": texts[product.name]})
    assert clean == []
    changed = drift.management_differences(
        replace(org, trusted_services=(*org.trusted_services, "ram.amazonaws.com")), live, ids,
        {"ou-shop": ((), ("p-FullAWSAccess", "p-guard", "p-hand"))}, texts, {"p-guard": '{"Statement": []}'})
    assert [d.object for d in changed] == ["trusted services", f"account shop_prod ({ACCOUNT})", "SCPs of OU shop",
                                          f"SCP {product.guardrails_policy_name}"]
    assert "also by-hand (not in org.yaml)" in changed[2].finding
    with_hand = replace(org, products=(replace(product, unmanaged_policies=("by-hand",)),))
    assert drift.management_differences(with_hand, live, ids, {"ou-shop": ((ACCOUNT,), ("p-guard", "p-hand"))},
                                        texts, {"p-guard": texts[product.name]}) == []

    # Control Tower's own SCPs, left alone by prefix: the ones it makes anew when it updates too.
    tower = replace(org, products=(replace(product, unmanaged_policies=("aws-guardrails-*",)),))
    for name in ("aws-guardrails-AbCdEf", "aws-guardrails-XyZ123"):  # renamed by an update
        renamed = replace(live, policies={product.guardrails_policy_name: "p-guard", name: "p-tower"})
        assert drift.management_differences(tower, renamed, ids, {"ou-shop": ((ACCOUNT,), ("p-guard", "p-tower"))},
                                            texts, {"p-guard": texts[product.name]}) == []
    by_name = replace(org, products=(replace(product, unmanaged_policies=("aws-guardrails-AbCdEf",)),))
    [extra] = drift.management_differences(by_name, replace(live, policies={product.guardrails_policy_name: "p-guard",
                                                                             "aws-guardrails-XyZ123": "p-tower"}),
                                           ids, {"ou-shop": ((ACCOUNT,), ("p-guard", "p-tower"))}, texts,
                                           {"p-guard": texts[product.name]})
    assert "also aws-guardrails-XyZ123 (not in org.yaml)" in extra.finding  # a name alone: each rename is drift

    ic_org = _identity_center_org()
    sets = {g.name: f"arn:ps/{g.name}" for g in ic_org.groups}
    people = {p.name: LivePerson(f"u-{p.name}", p.name, p.display_name, p.email, *p.given_and_family_name) for p in ic_org.people}
    ic = LiveIdentityCenter("arn:instance", "d-1", {n: p.id for n, p in people.items()}, {g.name: f"g-{g.name}" for g in ic_org.groups},
                            {(f"g-{g}", f"u-{p.name}"): "m" for p in ic_org.people for g in p.groups}, sets,
                            {sets[g.name]: frozenset(g.policies) for g in ic_org.groups}, frozenset(), people=people,
                            sessions={sets[g.name]: g.session_duration for g in ic_org.groups})
    assert drift.identity_center_differences(ic_org, ic) == []
    moved = replace(ic, people={**people, "tom": replace(people["tom"], email="tom@elsewhere.example.com")},
                    memberships={k: v for k, v in ic.memberships.items() if k != ("g-developers", "u-maria")},
                    policies={**ic.policies, sets["admins"]: frozenset()})
    assert [d.object for d in drift.identity_center_differences(ic_org, moved)] == [
        "email of tom", "members of developers", "policies of permission set admins"]


def _identity_center_org():
    return parse(ORG.replace("region: eu-west-1}", "region: eu-west-1, access: identity_center}")
                 .replace("maria: {groups: [developers]}", "maria: {groups: [developers], email: m@acme.example.com, name: Maria Lopez}")
                 .replace("tom: {groups: [admins], console: false}", "tom: {groups: [admins], email: t@acme.example.com, name: Tom Berg}"))


def test_each_difference_says_what_restores_it(org):
    """What a stack's state holds, apply restores (the plain plan plans it); what none holds
    (added by hand) apply leaves: the remedy names the hand work or the org.yaml key."""
    env = org.environments[0]
    live = _as_applied(env)
    maria, tom = live.user("maria"), live.user("tom")
    changed = replace(
        live,
        users=(replace(maria, groups=(MFA_GROUP_NAME,), console=False), replace(tom, console=True),
               LiveIamUser("mallory", "AIDAm", "/", (), False, 0, 0)),
        groups=(*(replace(g, managed=(*g.managed, ADMIN)) if g.name == "developers" else g for g in live.groups),
                LiveIamGroup("by-hand", "/", (), ())),
    )
    restores = {d.finding.split(":")[0] + (" extra" if "not in org.yaml" in d.live else ""): d.restore
                for d in drift.account_differences(env, changed, iam_users=True)}
    leaves = "apply leaves what it did not make"
    assert restores == {
        "IAM users extra": f"{leaves}: delete them, or list them under products.shop.environments.prod.unmanaged.users",
        "IAM groups extra": f"{leaves}: delete them, or list them under products.shop.environments.prod.unmanaged.groups",
        "policies of group developers extra":
            f"{leaves}: detach them, or list them under products.shop.environments.prod.unmanaged.policies",
        "groups of user maria": drift.RESTORED_BY_APPLY,  # the membership is in state
        "console password of maria": drift.RESTORED_BY_APPLY,  # so is her login profile
        "console password of tom": f"{leaves}: delete the console password",  # console: false makes none
    }


def test_an_account_stack_also_differs_in_its_alias_and_a_missing_password_policy(org):
    env = org.environments[0]
    live = replace(_as_applied(env), aliases=("renamed-by-hand",), password_policy=None)
    assert _findings(env, live) == []  # audit shows both as rows of their own
    assert [(d.finding, d.restored_by_apply) for d in drift.account_stack_differences(env, live, iam_users=True)] == [
        (f"account alias: expected {env.alias}; live renamed-by-hand", True),
        ("password policy: expected exists; live missing", True)]
    assert drift.account_stack_differences(env, _as_applied(env), iam_users=True) == []


def test_trusted_services_apply_would_disable_are_refused_unless_org_yaml_disables_them(org):
    live = LiveOrganization("o-abcdefghij", "r-root", frozenset({*org.trusted_services, "ram.amazonaws.com"}),
                            frozenset(org.policy_types), (), {})
    [extra] = _trusted_services(drift.management_differences(org, live, {}, {}, {}, {}))
    assert "not in org.yaml: ram.amazonaws.com" in extra.live and not extra.restored_by_apply
    assert extra.restore.startswith("plan refuses to disable them: add them to organization.trusted_services")
    disabling = replace(org, disable_trusted_services=("ram.amazonaws.com",))
    [listed] = _trusted_services(drift.management_differences(disabling, live, {}, {}, {}, {}))
    assert "(disabled by org.yaml: ram.amazonaws.com)" in listed.live and listed.restored_by_apply


def _trusted_services(differences):
    return [d for d in differences if d.object == "trusted services"]


def test_assignments_missing_are_restored_and_extra_ones_left(org):
    ic_org = _identity_center_org()
    env = ic_org.environments[0]
    wanted = drift.configured_assignments(ic_org, env)
    assert drift.assignment_differences(ic_org, env, set(wanted)) == []
    [missing] = drift.assignment_differences(ic_org, env, wanted - {("maria", "developers")})
    assert missing.live == "missing: maria as developers" and missing.restored_by_apply
    [extra] = drift.assignment_differences(ic_org, env, {*wanted, ("group:auditors", "developers")})
    assert extra.live == "not configured: group:auditors as developers" and not extra.restored_by_apply
    assert "products.shop.environments.prod.unmanaged.groups" in extra.restore


def test_opt_in_regions_differ_as_terraform_reads_them():
    """An opt-in region org.yaml enables differs when it reads as disabled to the provider
    (DISABLED or DISABLING; ENABLING is an enable under way), and one it disables when it
    reads as enabled: apply restores both."""
    env = parse(ORG.replace("      prod:\n", "      prod:\n        regions: [af-south-1]\n"
                                              "        disable_regions: [ap-east-1]\n")).environments[0]
    for enabled in ("ENABLED", "ENABLING"):
        for disabled in ("DISABLED", "DISABLING"):
            assert drift.region_differences(env, {"af-south-1": enabled, "ap-east-1": disabled}) == []
    [off] = drift.region_differences(env, {"af-south-1": "DISABLED", "ap-east-1": "DISABLED"})
    assert off.finding == "region af-south-1: expected enabled; live DISABLED" and off.restored_by_apply
    assert [d.finding for d in drift.region_differences(env, {"af-south-1": "DISABLING", "ap-east-1": "ENABLED"})] == [
        "region af-south-1: expected enabled; live DISABLING", "region ap-east-1: expected disabled; live ENABLED"]
    assert drift.region_differences(parse(ORG).environments[0], {}) == []  # none named: none of awsenvs'


def test_a_closed_account_is_compared_in_nothing(org):
    """An environment whose account is closed (found by its id, else by its root email) is
    audit's one row: its parent outside the product OU is no difference; an account AWS
    suspended (State SUSPENDED) is not closed."""
    env = org.environments[0]
    closed = LiveAccount(ACCOUNT, env.account_name, env.email, "SUSPENDED", "CREATED", "CLOSED")
    live = LiveOrganization("o-abcdefghij", "r-root", frozenset(org.trusted_services), frozenset(org.policy_types),
                            (closed,), {"shop": "ou-shop"})
    ids = {env.stack: ACCOUNT}
    assert drift.closed_account(env, live, ids) == closed
    assert drift.closed_account(env, live, {}) == closed  # put back in org.yaml: found by its root email
    parents = [d for d in drift.management_differences(org, live, ids, {"ou-shop": ((), ())}, {}, {})
               if d.object.startswith("account ")]
    assert parents == []
    for account in (replace(closed, status="ACTIVE", state="ACTIVE"), replace(closed, state="SUSPENDED")):
        moved = replace(live, accounts=(account,))
        assert drift.closed_account(env, moved, ids) is None
        [parent] = [d for d in drift.management_differences(org, moved, ids, {"ou-shop": ((), ())}, {}, {})
                    if d.object.startswith("account ")]
        assert parent.live == "in another OU or the root"


def test_what_awsenvs_manages_assigned_in_the_management_account_is_a_difference_apply_leaves():
    """awsenvs assigns nothing in the management account: an assignment there of a permission
    set it manages (to anyone, here a person made by hand) is one difference, which no apply
    removes; someone else's permission set for someone else is none (audit's manual row)."""
    ic_org = _identity_center_org()
    management = "123456789012"
    sets = {"admins": "arn:ps/admins", "BreakGlass": "arn:ps/break-glass"}
    live = LiveIdentityCenter("arn:instance", "d-1", {"anna": "u-anna"}, {"break-glass": "g-bg"}, {}, sets, {},
                              frozenset({(management, sets["BreakGlass"], "GROUP", "g-bg")}))
    assert drift.management_account_differences(ic_org, live, management) == []
    by_hand = replace(live, assignments=live.assignments | {(management, sets["admins"], "USER", "u-anna")})
    [difference] = drift.management_account_differences(ic_org, by_hand, management)
    assert difference.finding == ("access assignments of the management account: expected none of awsenvs'; "
                                  "live anna as admins")
    assert not difference.restored_by_apply and "remove the assignment" in difference.restore
