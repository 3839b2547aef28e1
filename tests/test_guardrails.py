"""Guardrails, centralized root access and budgets: org.yaml rules, the synthesized policy
text (what the emulator cannot enforce is checked by content), and the audit's root checks
on recorded GetAccountSummary answers."""

from __future__ import annotations

import json
import textwrap

import pytest

from awsenvs.audit import FAIL, MANUAL, PASS, management_root_mfa, member_root_credentials
from awsenvs.config import load, parse
from awsenvs.live.facts import LiveOrganization
from awsenvs.reconcile import guardrail_imports
from conftest import EXAMPLE, TWO_PRODUCTS, assert_rejected, run_cli

BASE = textwrap.dedent("""\
    organization:
      name: acme
      email: cloud@acme.example.com
      region: eu-west-1
    groups:
      sysadmins:
        policies: [arn:aws:iam::aws:policy/AdministratorAccess]
    products:
      shop:
        users:
          alice: {groups: [sysadmins]}
        environments:
          dev: {mfa: optional}
          prod: {mfa: required}
    """)


def _with(extra: str, product: str = "") -> str:
    """BASE with top-level keys `extra` and keys under products.shop `product`."""
    text = BASE.replace("groups:", extra + "groups:", 1) if extra else BASE
    return text.replace("  shop:\n", "  shop:\n" + textwrap.indent(product, "    "), 1) if product else text


# --------------------------------------------------------------------------- org.yaml


def test_defaults_are_the_safe_guardrails_centralized_root_and_no_budget():
    org = parse(BASE)
    shop = org.products[0]
    assert shop.guardrails.enabled == ("deny_leave_organization", "protect_baseline", "deny_root_user")
    assert shop.guardrails.allowed_regions == ()
    assert org.centralized_root and "iam.amazonaws.com" in org.trusted_services
    assert "SERVICE_CONTROL_POLICY" in org.policy_types
    assert all(env.budget is None for env in org.environments)


def test_a_product_overrides_only_the_guardrail_keys_it_sets():
    org = load(TWO_PRODUCTS)
    shop, billing = org.products
    assert shop.guardrails.allowed_regions == ("eu-central-1", "us-east-1") and shop.guardrails.deny_root_user
    assert billing.guardrails.allowed_regions == ()  # `allowed_regions: null` under the product
    assert not billing.guardrails.deny_root_user
    assert billing.guardrails.deny_leave_organization and billing.guardrails.protect_baseline  # inherited


def test_all_guardrails_off_means_no_policy_and_scps_are_not_added():
    off = "guardrails: {deny_leave_organization: false, protect_baseline: false, deny_root_user: false}\n"
    org = parse(_with(off).replace("region: eu-west-1", "region: eu-west-1\n  policy_types: []"))
    assert org.products[0].guardrails is None
    assert org.policy_types == ()


def test_the_most_specific_budget_wins_and_null_switches_it_off():
    org = load(TWO_PRODUCTS)
    budgets = {env.stack: env.budget for env in org.environments}
    assert budgets["shop-dev"].monthly_usd == 100 and budgets["shop-dev"].thresholds_percent == (80, 100)
    assert budgets["shop-staging"] is None
    assert budgets["shop-prod"].monthly_usd == 2500 and budgets["shop-prod"].thresholds_percent == (50, 90, 100)
    assert budgets["shop-prod"].alert_emails == ("oncall@acme.example.com", "finance@acme.example.com")
    assert budgets["billing-prod"].monthly_usd == 40.5 and budgets["billing-legacy"] == budgets["billing-prod"]
    assert org.environment_by_stack("shop-dev").budget_name == "awsenvs-shop-dev-monthly"


BUDGET = "budget: {monthly_usd: 50, alert_emails: [ops@acme.example.com]}\n"
REJECTIONS = {
    "unknown region": (_with("guardrails: {allowed_regions: [eu-west-1, eu-wset-2]}\n"),
                       "guardrails.allowed_regions: 'eu-wset-2' is not an AWS region"),
    "unknown region under a product": (_with("", "guardrails: {allowed_regions: [mars-north-1]}\n"),
                                       "products.shop.guardrails.allowed_regions: 'mars-north-1' is not an AWS region"),
    "empty region list": (_with("guardrails: {allowed_regions: []}\n"), "guardrails.allowed_regions: empty"),
    "an environment's own region denied": (
        _with("guardrails: {allowed_regions: [us-east-1]}\n"),
        "guardrails.allowed_regions: shop-dev works in eu-west-1, which the guardrail would deny",
    ),
    "budget without alert emails": (_with("budget: {monthly_usd: 50, alert_emails: []}\n"), "budget.alert_emails:"),
    "budget without an amount": (_with("budget: {alert_emails: [ops@acme.example.com]}\n"), "budget.monthly_usd: required"),
    "threshold below 1": (_with(BUDGET.replace("]}", "], thresholds_percent: [0, 100]}")), "budget.thresholds_percent.0:"),
    "threshold above 1000": (_with("", BUDGET.replace("]}", "], thresholds_percent: [1001]}")),
                             "products.shop.budget.thresholds_percent.0:"),
    "more thresholds than Budgets has notifications": (
        _with(BUDGET.replace("]}", "], thresholds_percent: [10, 20, 30, 40, 50, 60]}")), "budget.thresholds_percent:"),
    "bad alert email": (_with(BUDGET.replace("ops@acme.example.com", "ops-at-acme")), "budget.alert_emails.0: 'ops-at-acme' is not a valid email"),
    "environment budget typo": (BASE.replace("dev: {mfa: optional}", "dev: {mfa: optional, budget: {monthly_usd: 5, alert_emails: [a@b.io], treshold: 1}}"),
                                "products.shop.environments.dev.budget.treshold: unknown key"),
    "protect_baseline locks out a profile environment": (
        BASE.replace("dev: {mfa: optional}", "dev: {mfa: optional, account_id: '210987654321', profile: shop-dev-admin}"),
        "guardrails.protect_baseline: would lock the runner out of shop-dev: it is managed through the CLI profile 'shop-dev-admin'",
    ),
    "a product's guardrails null": (_with("", "guardrails: null\n"), "products.shop.guardrails: null: set the guardrails to turn off to false"),
    "regions of two partitions": (_with("guardrails: {allowed_regions: [eu-west-1, cn-north-1]}\n"),
                                  "guardrails.allowed_regions: mixes partitions (aws, aws-cn)"),
    "the top-level typo is named there even when the product overrides another key": (
        _with("guardrails: {allowed_regions: [eu-west-1, eu-wset-2]}\n", "guardrails: {deny_root_user: false}\n"),
        "org.yaml: guardrails.allowed_regions: 'eu-wset-2'",
    ),
    "budget amount yes": (_with("budget: {monthly_usd: yes, alert_emails: [ops@acme.example.com]}\n"), "budget.monthly_usd:"),
    "budget amount infinite": (_with("budget: {monthly_usd: .inf, alert_emails: [ops@acme.example.com]}\n"), "budget.monthly_usd:"),
    "budget amount below a cent": (_with("budget: {monthly_usd: 0.001, alert_emails: [ops@acme.example.com]}\n"), "budget.monthly_usd:"),
    "centralized root without IAM's trusted access": (
        BASE.replace("region: eu-west-1", "region: eu-west-1\n  disable_trusted_services: [iam.amazonaws.com]"),
        "organization.disable_trusted_services: 'iam.amazonaws.com': organization.centralized_root needs",
    ),
    "guardrails with SCPs disabled": (
        BASE.replace("region: eu-west-1", "region: eu-west-1\n  policy_types: []\n  disable_policy_types: [SERVICE_CONTROL_POLICY]"),
        "organization.disable_policy_types: 'SERVICE_CONTROL_POLICY': the guardrails of shop are service control policies",
    ),
}


@pytest.mark.parametrize("text, message", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_rejections_name_the_field(text, message):
    assert_rejected(text, message)


def test_protect_baseline_can_be_turned_off_for_a_profile_environment():
    text = BASE.replace("dev: {mfa: optional}", "dev: {mfa: optional, account_id: '210987654321', profile: shop-dev-admin}")
    org = parse(text.replace("  shop:\n", "  shop:\n    guardrails: {protect_baseline: false}\n"))
    assert not org.products[0].guardrails.protect_baseline


_cli = run_cli


@pytest.mark.parametrize("case", ["unknown region", "budget without alert emails", "protect_baseline locks out a profile environment"])
def test_validate_exits_2_with_one_line(tmp_path, case):
    text, message = REJECTIONS[case]
    (tmp_path / "org.yaml").write_text(text)
    proc = _cli("validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_refuses_a_policy_over_the_scp_size_limit(tmp_path):
    # Each group of an mfa: required environment adds its MFA role to protect_baseline.
    groups = "".join(f"  team-{i:03}-{'x' * 40}:\n    policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n" for i in range(80))
    members = ", ".join(f"team-{i:03}-{'x' * 40}" for i in range(80))
    text = BASE.replace("groups:\n", "groups:\n" + groups).replace("alice: {groups: [sysadmins]}", f"alice: {{groups: [{members}]}}")
    (tmp_path / "org.yaml").write_text(text)
    proc = _cli("validate", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert "products.shop.guardrails: the service control policy would be" in proc.stderr
    assert "over Organizations' 5120" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_validate_and_tree_show_guardrails_and_budgets(tmp_path):
    proc = _cli("--config", str(TWO_PRODUCTS), "validate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "guardrails on 2 OU(s), 4 budget(s)" in proc.stdout
    proc = _cli("--config", str(TWO_PRODUCTS), "tree", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    shop = proc.stdout.split("OU shop", 1)[1].split("OU billing", 1)[0]
    assert "SCP awsenvs-shop-guardrails" in shop
    assert "deny_leave_organization, protect_baseline, deny_root_user, regions eu-central-1, us-east-1" in shop
    assert "budget 2500 USD/month  alerts at 50%, 90%, 100% (actual, forecast)" in shop
    billing = proc.stdout.split("OU billing", 1)[1]
    assert "guardrails: deny_leave_organization, protect_baseline\n" in billing
    assert "budget 40.5 USD/month" in billing
    assert "centralized root access" in proc.stdout


# --------------------------------------------------------------------------- synthesized policies


def _policy(synthesized, org: str, product: str) -> dict:
    policy = synthesized[org].resources("management", "aws_organizations_policy")[f"awsenvs_{product}_guardrails"]
    assert policy["type"] == "SERVICE_CONTROL_POLICY" and policy["name"] == f"awsenvs-{product}-guardrails"
    assert len(policy["content"]) <= 5120
    return json.loads(policy["content"])


def _statement(document: dict, sid: str) -> dict | None:
    return next((s for s in document["Statement"] if s["Sid"] == sid), None)


def test_each_product_ou_gets_its_own_policy_never_the_root(synthesized):
    s = synthesized["two"]
    attachments = s.resources("management", "aws_organizations_policy_attachment")
    assert {a["target_id"] for a in attachments.values()} == {
        "${aws_organizations_organizational_unit.shop.id}", "${aws_organizations_organizational_unit.billing.id}"}
    for product, attachment in (("shop", attachments["awsenvs_shop_guardrails"]), ("billing", attachments["awsenvs_billing_guardrails"])):
        assert attachment["policy_id"] == f"${{aws_organizations_policy.awsenvs_{product}_guardrails.id}}"
    policies = s.resources("management", "aws_organizations_policy")
    assert all(p["depends_on"] == ["aws_organizations_organization.organization"] for p in policies.values())


def test_policy_denies_leaving_and_root_except_centralized_root_sessions(synthesized):
    shop = _policy(synthesized, "two", "shop")
    leave = _statement(shop, "DenyLeaveOrganization")
    assert leave["Effect"] == "Deny" and leave["Action"] == "organizations:LeaveOrganization"
    root = _statement(shop, "DenyRootUser")
    assert root["Effect"] == "Deny" and root["Action"] == "*" and root["Resource"] == "*"
    assert root["Condition"]["ArnLike"] == {"aws:PrincipalArn": "arn:aws:iam::*:root"}
    # Root sessions from the management account (sts:AssumeRoot) carry aws:AssumedRoot.
    assert root["Condition"]["Null"] == {"aws:AssumedRoot": "true"}
    assert _statement(_policy(synthesized, "two", "billing"), "DenyRootUser") is None  # turned off for billing


def _scp_denies(statement: dict, principal_arn: str, assumed_root: bool) -> bool:
    """IAM's rule for one Deny statement's conditions (all must hold): ArnNotLike on
    aws:PrincipalArn, and Null aws:AssumedRoot true (the key absent: no sts:AssumeRoot session)."""
    import fnmatch

    condition = statement["Condition"]
    holds = not any(fnmatch.fnmatchcase(principal_arn, p) for p in condition["ArnNotLike"]["aws:PrincipalArn"])
    if "Null" in condition:
        holds = holds and (condition["Null"]["aws:AssumedRoot"] == "true") == (not assumed_root)
    return holds


def test_the_suspended_ou_denies_all_but_the_managing_roles_and_central_root_sessions():
    """A parked account: its users and root user (password sign-in) can do nothing, while the
    management account's root sessions (sts:AssumeRoot) can still delete its root credentials
    or unlock a bucket policy, as deny_root_user allows them."""
    from awsenvs.modules.guardrail_policies import suspended_policy

    [statement] = suspended_policy(("OrganizationAccountAccessRole",))["Statement"]
    assert (statement["Effect"], statement["Action"], statement["Resource"]) == ("Deny", "*", "*")
    root = "arn:aws:iam::210987654321:root"
    assert _scp_denies(statement, "arn:aws:iam::210987654321:user/maria", assumed_root=False)
    assert _scp_denies(statement, root, assumed_root=False)  # its root user, signed in
    assert not _scp_denies(statement, root, assumed_root=True)  # a root session from the management account
    assert not _scp_denies(statement, "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole", assumed_root=False)


def test_protect_baseline_exempts_only_the_managing_role(synthesized):
    shop = _policy(synthesized, "two", "shop")
    iam = _statement(shop, "ProtectBaselineIam")
    managing = "arn:aws:iam::*:role/OrganizationAccountAccessRole"
    assert iam["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [managing]}}
    # shop-prod is mfa: required with alice (sysadmins) and bob (developers).
    assert set(iam["Resource"]) == {managing, "arn:aws:iam::*:role/sysadmins-mfa", "arn:aws:iam::*:role/developers-mfa",
                                    "arn:aws:iam::*:policy/awsenvs-require-mfa", "arn:aws:iam::*:group/awsenvs-mfa-required"}
    assert {"iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:CreatePolicyVersion", "iam:DetachGroupPolicy"} <= set(iam["Action"])
    assert not [a for a in iam["Action"] if a.startswith(("iam:Get", "iam:List"))]  # reads stay allowed
    settings = _statement(shop, "ProtectAccountSettings")
    assert settings["Resource"] == "*" and settings["Condition"] == iam["Condition"]
    assert set(settings["Action"]) == {"iam:CreateAccountAlias", "iam:DeleteAccountAlias",
                                       "iam:UpdateAccountPasswordPolicy", "iam:DeleteAccountPasswordPolicy"}


def test_identity_center_has_no_mfa_roles_to_protect(synthesized):
    s = synthesized["identity_center"]
    for name in s.resources("management", "aws_organizations_policy"):
        iam = _statement(json.loads(s.resources("management", "aws_organizations_policy")[name]["content"]), "ProtectBaselineIam")
        assert iam["Resource"] == ["arn:aws:iam::*:role/OrganizationAccountAccessRole"]


def test_allowed_regions_deny_everything_else_but_global_services(synthesized):
    regions = _statement(_policy(synthesized, "two", "shop"), "DenyOutsideAllowedRegions")
    assert regions["Effect"] == "Deny" and regions["Resource"] == "*"
    assert regions["Condition"] == {"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "us-east-1"]}}
    # Global services stay usable: IAM, STS (AWS: must be exempt), Organizations, Budgets, Route 53, CloudFront.
    assert {"iam:*", "sts:*", "organizations:*", "budgets:*", "route53:*", "cloudfront:*", "support:*"} <= set(regions["NotAction"])
    # ...and so do the account and billing pages, as in Control Tower's region deny control
    # (https://docs.aws.amazon.com/controltower/latest/controlreference/primary-region-deny-policy.html):
    # with EU-only regions, member accounts keep their contacts, region opt-in and billing.
    assert {"account:*", "billing:*", "payments:*", "tax:*", "invoicing:*", "freetier:*", "consolidatedbilling:*",
            "sso:*", "access-analyzer:*", "notifications:*"} <= set(regions["NotAction"])
    assert not any(a in ("s3:*", "ec2:*") or a.startswith(("ec2:Run", "s3:PutObject")) for a in regions["NotAction"])
    assert _statement(_policy(synthesized, "two", "billing"), "DenyOutsideAllowedRegions") is None


def test_the_longest_guardrails_org_yaml_allows_fit_organizations_limit():
    """Every guardrail on, every region of the partition allowed, and as many 60-character
    groups (the longest names allowed: their <group>-mfa roles) in an mfa: required
    environment as fit: the policy stays within 5,120 characters, one more group is refused."""
    from awsenvs.config import SCP_MAX_CHARACTERS, ConfigError
    from awsenvs.config.derive import known_regions
    from awsenvs.modules.guardrail_policies import guardrail_policies

    regions = sorted(r for r, partition in known_regions().items() if partition == "aws")

    def org(groups: int):
        names = [f"g{i:03}" + "x" * 56 for i in range(groups)]
        text = BASE.replace("groups:\n", "groups:\n" + "".join(
            f"  {n}:\n    policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n" for n in names), 1)
        text = text.replace("alice: {groups: [sysadmins]}", f"alice: {{groups: [{', '.join(['sysadmins', *names])}]}}")
        return parse(text.replace("groups:\n", f"guardrails: {{allowed_regions: [{', '.join(regions)}]}}\ngroups:\n", 1))

    fits = 0
    while fits < 200:
        try:
            text = guardrail_policies(org(fits + 1))["shop"]
        except ConfigError as exc:
            assert "products.shop.guardrails: the service control policy would be" in str(exc)
            break
        fits += 1
        assert len(text) <= SCP_MAX_CHARACTERS
    assert fits >= 10, fits  # Control Tower's exemptions leave room for a team's groups


def test_centralized_root_access_in_the_management_stack(synthesized):
    s = synthesized["example"]
    features = s.resources("management", "aws_iam_organizations_features")["centralized_root"]
    assert sorted(features["enabled_features"]) == ["RootCredentialsManagement", "RootSessions"]
    assert features["depends_on"] == ["aws_organizations_organization.organization"]
    organization = s.resources("management", "aws_organizations_organization")["organization"]
    assert "iam.amazonaws.com" in organization["aws_service_access_principals"]


def test_budgets_in_the_account_stacks(synthesized):
    s = synthesized["two"]
    assert s.resources("shop-staging", "aws_budgets_budget") == {}
    budget = s.resources("shop-prod", "aws_budgets_budget")["budget"]
    assert (budget["name"], budget["budget_type"], budget["time_unit"], budget["limit_unit"]) == (
        "awsenvs-shop-prod-monthly", "COST", "MONTHLY", "USD")
    assert float(budget["limit_amount"]) == 2500
    alerts = {(n["notification_type"], n["threshold"]) for n in budget["notification"]}
    assert alerts == {(kind, t) for kind in ("ACTUAL", "FORECASTED") for t in (50, 90, 100)}
    for notification in budget["notification"]:
        assert notification["threshold_type"] == "PERCENTAGE" and notification["comparison_operator"] == "GREATER_THAN"
        assert notification["subscriber_email_addresses"] == ["oncall@acme.example.com", "finance@acme.example.com"]
    assert float(s.resources("billing-legacy", "aws_budgets_budget")["budget"]["limit_amount"]) == 40.5


def test_budget_amounts_are_plain_decimals():
    from awsenvs.config import Budget

    assert [Budget(x, (), ()).amount for x in (100, 25.5, 0.01, 1000000.5)] == ["100.0", "25.5", "0.01", "1000000.5"]


# --------------------------------------------------------------------------- reconcile


def test_adopting_into_a_protected_ou_needs_the_managing_role_first():
    from awsenvs import aws
    from awsenvs.checks import PreflightError, check_adopted_roles
    from awsenvs.live.facts import LiveAccount

    org = load(TWO_PRODUCTS)  # billing-legacy is adopted; billing has protect_baseline
    tried = []

    def assume_denied(account_id: str, role_name: str):
        tried.append((account_id, role_name))
        raise aws.AwsError(f"assume role {role_name} in {account_id}: An error occurred (AccessDenied) when calling AssumeRole")

    with pytest.raises(PreflightError) as excinfo:
        check_adopted_roles(org, None, assume_denied)
    assert tried == [("210987654321", "OrganizationAccountAccessRole")]
    message = str(excinfo.value)
    assert message.startswith("products.billing.environments.legacy.role_name: cannot assume OrganizationAccountAccessRole")
    assert "lets only that role create it" in message and "\n" not in message
    check_adopted_roles(org, None, lambda account_id, role_name: None)  # the role is there: nothing to say

    def assume_throttled(account_id: str, role_name: str):
        raise aws.AwsError("assume role: An error occurred (Throttling) when calling AssumeRole")

    with pytest.raises(aws.AwsError, match="Throttling"):  # not reported as a missing role
        check_adopted_roles(org, None, assume_throttled)

    # An invited account found by its root email is checked too; one Organizations created is not.
    live = LiveOrganization("o-abcdefghij", "r-root", frozenset(), frozenset(), (
        LiveAccount("210987654321", "Billing (legacy)", "old-billing@acme.example.com", "ACTIVE", "INVITED"),
        LiveAccount("333333333333", "shop_dev", "cloud+shop-dev@acme.example.com", "ACTIVE", "INVITED"),
        LiveAccount("444444444444", "shop_prod", "cloud+shop-prod@acme.example.com", "ACTIVE", "CREATED"),
    ), {})
    tried.clear()
    with pytest.raises(PreflightError, match="products.shop.environments.dev.role_name"):
        check_adopted_roles(org, live, assume_denied)
    assert tried == [("333333333333", "OrganizationAccountAccessRole")]

    off = parse(TWO_PRODUCTS.read_text().replace("guardrails: {deny_root_user: false,", "guardrails: {protect_baseline: false, deny_root_user: false,"))
    tried.clear()
    with pytest.raises(PreflightError):  # shop still has protect_baseline
        check_adopted_roles(off, live, assume_denied)
    assert tried == [("333333333333", "OrganizationAccountAccessRole")]  # billing-legacy no longer checked


def test_centralized_root_access_already_on_is_imported():
    from awsenvs.live.organization import read_root_access_features
    from awsenvs.reconcile import root_access_imports

    org = load(EXAMPLE)
    live = LiveOrganization("o-abcdefghij", "r-root", frozenset({"iam.amazonaws.com"}), frozenset(), (), {})
    [imported] = root_access_imports(org, live, ("RootCredentialsManagement",))
    assert (imported.address, imported.id) == ("aws_iam_organizations_features.centralized_root", "o-abcdefghij")
    assert root_access_imports(org, live, ()) == [] and root_access_imports(org, None, ("RootSessions",)) == []
    off = parse(EXAMPLE.read_text().replace("region: eu-west-1", "region: eu-west-1\n  centralized_root: false", 1))
    assert root_access_imports(off, live, ("RootSessions",)) == []

    # ListOrganizationsFeatures as IAM answers it (recorded shapes), through botocore's Stubber.
    import boto3
    from botocore.stub import Stubber

    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(iam) as stub:
        stub.add_response("list_organizations_features", {"OrganizationId": "o-abcdefghij",
                                                          "EnabledFeatures": ["RootCredentialsManagement", "RootSessions"]})
        stub.add_client_error("list_organizations_features", "ServiceAccessNotEnabledException",
                              "Trusted access is not enabled for IAM")
        assert read_root_access_features(iam) == ("RootCredentialsManagement", "RootSessions")
        assert read_root_access_features(iam) == ()


# --------------------------------------------------------------------------- audit on recorded answers

# GetAccountSummary SummaryMaps as AWS returns them (trimmed to the keys the audit reads, plus
# one it ignores); a member account made by Organizations has no root credentials at all.
CLEAN_MEMBER = {"AccountPasswordPresent": 0, "AccountAccessKeysPresent": 0, "AccountMFAEnabled": 0,
                "AccountSigningCertificatesPresent": 0, "Users": 2}


def test_member_root_without_credentials_passes_and_without_mfa_too():
    row = member_root_credentials(CLEAN_MEMBER, "shop-dev (111111111111)", centralized_root=True)
    assert row.status == PASS and row.check == "root credentials"


@pytest.mark.parametrize("key, what", [
    ("AccountPasswordPresent", "a password"), ("AccountAccessKeysPresent", "access keys"),
    ("AccountMFAEnabled", "an MFA device"), ("AccountSigningCertificatesPresent", "signing certificates"),
])
def test_member_root_with_any_credential_fails_naming_it(key, what):
    row = member_root_credentials({**CLEAN_MEMBER, key: 1}, "shop-dev", centralized_root=True)
    assert row.status == FAIL and f"root user has {what}" in row.finding
    assert "IAM > Root access management" in row.finding


def test_member_root_fix_without_centralized_root_says_to_turn_it_on():
    row = member_root_credentials({**CLEAN_MEMBER, "AccountPasswordPresent": 1}, "shop-dev", centralized_root=False)
    assert row.status == FAIL and "set organization.centralized_root: true" in row.finding


def test_member_root_password_unreported_is_a_manual_check():
    # Older IAM endpoints answer without AccountPasswordPresent.
    summary = {k: v for k, v in CLEAN_MEMBER.items() if k != "AccountPasswordPresent"}
    row = member_root_credentials(summary, "shop-dev", centralized_root=True)
    assert row.status == MANUAL and "a password" in row.finding


def test_management_root_needs_mfa_and_no_keys():
    assert management_root_mfa({**CLEAN_MEMBER, "AccountMFAEnabled": 1}, "management").status == PASS
    assert management_root_mfa(CLEAN_MEMBER, "management").status == FAIL
    keys = management_root_mfa({**CLEAN_MEMBER, "AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1}, "management")
    assert keys.status == FAIL and "access keys" in keys.finding


def test_example_org_yaml_gets_the_default_guardrails():
    org = load(EXAMPLE)
    assert org.products[0].guardrails.enabled == ("deny_leave_organization", "protect_baseline", "deny_root_user")
