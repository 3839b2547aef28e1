"""Org controls (issue 28): the data perimeter's RCP, alternate contacts, opt-in regions and
closing retired accounts within CloseAccount's quota: org.yaml's rules, the synthesized
JSON, the Terraform Cloud role's policy, the quota on recorded and emulated answers.
End to end on the emulator: tests/test_lifecycle.py (test_org_controls_...)."""

from __future__ import annotations

import datetime
import json
import textwrap
from dataclasses import replace

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from awsenvs import drift
from awsenvs.config import OPT_IN_REGIONS, load, parse
from awsenvs.live.facts import LiveAccount, LiveOrganization
from awsenvs.retire import CloseQuota, Retirement, close, close_quota, plan_closures
from awsenvs.sandbox import not_rehearsed
from awsenvs.synth import synthesize
from awsenvs.run.explain import environments_guarded_by
from conftest import EXAMPLE, TWO_PRODUCTS, Synthesized, assert_rejected, in_process_moto_env, run_cli

CONTACT = "{name: Sec, title: Security, email: sec@acme.example.com, phone: '+1 206 555 0100'}"
BASE = textwrap.dedent(f"""\
    organization:
      name: acme
      email: cloud@acme.example.com
      region: eu-west-1
      contacts:
        security: {CONTACT}
        billing: {{name: Fin, title: Finance, email: fin@acme.example.com, phone: '(206) 555-0101'}}
    guardrails:
      data_perimeter: {{trusted_accounts: ['111122223333']}}
    regions: [af-south-1]
    groups:
      sysadmins:
        policies: [arn:aws:iam::aws:policy/AdministratorAccess]
    products:
      shop:
        users:
          alice: {{groups: [sysadmins]}}
        environments:
          dev:
            mfa: optional
            contacts: {{billing: null, operations: {{name: Ops, title: On call, email: ops@acme.example.com, phone: '555 0102'}}}}
          prod: {{mfa: required, regions: [eu-south-2], disable_regions: [af-south-1]}}
      data:
        guardrails: {{data_perimeter: false}}
        regions: []
        environments:
          lake: {{mfa: optional}}
    """)


# --------------------------------------------------------------------------- org.yaml


def test_the_defaults_change_nothing():
    for path in (EXAMPLE, TWO_PRODUCTS):
        org = load(path)
        assert org.on_retire == "park"
        assert "RESOURCE_CONTROL_POLICY" not in org.policy_types and "account.amazonaws.com" not in org.trusted_services
        assert all(p.data_perimeter is None for p in org.products)
        assert all(not (e.contacts or e.regions or e.disable_regions) for e in org.environments)


def test_the_most_specific_contact_of_each_kind_wins_and_null_leaves_it_out():
    org = parse(BASE)
    contacts = {env.stack: {c.kind: c.name for c in env.contacts} for env in org.environments}
    assert contacts["shop-dev"] == {"security": "Sec", "operations": "Ops"}  # billing: null there
    assert contacts["shop-prod"] == {"security": "Sec", "billing": "Fin"}
    assert contacts["data-lake"] == {"security": "Sec", "billing": "Fin"}
    assert org.environment_by_stack("shop-dev").contacts[0].contact_type == "SECURITY"


def test_the_most_specific_region_list_wins():
    org = parse(BASE)
    regions = {env.stack: (env.regions, env.disable_regions) for env in org.environments}
    assert regions == {"shop-dev": (("af-south-1",), ()), "shop-prod": (("eu-south-2",), ("af-south-1",)),
                       "data-lake": ((), ())}


def test_data_perimeter_is_overridable_per_product_and_enables_what_it_needs():
    org = parse(BASE)
    shop, data = org.products
    assert shop.data_perimeter.trusted_accounts == ("111122223333",) and data.data_perimeter is None
    assert shop.data_perimeter_policy_name == "awsenvs-shop-data-perimeter"
    assert "RESOURCE_CONTROL_POLICY" in org.policy_types  # enabled in the root only when used
    assert "account.amazonaws.com" in org.trusted_services  # contacts and regions go through Account Management
    assert parse(BASE.replace("data_perimeter: {trusted_accounts: ['111122223333']}", "data_perimeter: true")
                 ).products[0].data_perimeter.trusted_accounts == ()


def _on(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


REJECTIONS = {
    "a phone number with letters": (_on(BASE, "'+1 206 555 0100'", "'call me'"),
                                    "organization.contacts.security.phone: 'call me' is not a phone number"),
    "an unquoted phone number": (_on(BASE, "'+1 206 555 0100'", "2065550100"),
                                 "organization.contacts.security.phone: 2065550100: quote the phone number"),
    "a contact's email": (_on(BASE, "sec@acme.example.com", "sec-at-acme"),
                          "organization.contacts.security.email: 'sec-at-acme' is not a valid email address"),
    "a contact without a title": (_on(BASE, "title: On call, ", ""),
                                  "products.shop.environments.dev.contacts.operations.title: required"),
    "a region that is on by default": (_on(BASE, "regions: [af-south-1]", "regions: [eu-west-1]"),
                                       "regions: 'eu-west-1' is enabled in every account by default (not an opt-in region)"),
    "an unknown region": (_on(BASE, "regions: [eu-south-2]", "regions: [eu-soth-2]"),
                          "products.shop.environments.prod.regions: 'eu-soth-2' is not an AWS region"),
    "a region outside allowed_regions": (
        _on(BASE, "data_perimeter: {trusted_accounts: ['111122223333']}",
            "data_perimeter: {trusted_accounts: ['111122223333']}\n  allowed_regions: [eu-west-1, eu-south-2]"),
        "regions: 'af-south-1' is outside the guardrails' allowed_regions of shop"),
    "a region both enabled and disabled": (_on(BASE, "disable_regions: [af-south-1]", "disable_regions: [eu-south-2]"),
                                           "products.shop.environments.prod.disable_regions: 'eu-south-2' is also in its regions"),
    "the environment's own region disabled": (
        _on(BASE, "prod: {mfa: required,", "prod: {mfa: required, region: af-south-1,"),
        "products.shop.environments.prod.disable_regions: 'af-south-1' is the environment's own region"),
    "resource control policies disabled": (
        _on(BASE, "region: eu-west-1\n", "region: eu-west-1\n  disable_policy_types: [RESOURCE_CONTROL_POLICY]\n"),
        "organization.disable_policy_types: 'RESOURCE_CONTROL_POLICY': the data perimeter of shop is a resource control policy"),
    "Account Management's trusted access disabled": (
        _on(BASE, "region: eu-west-1\n", "region: eu-west-1\n  disable_trusted_services: [account.amazonaws.com]\n"),
        "organization.disable_trusted_services: 'account.amazonaws.com': the contacts and regions of shop-dev"),
    "a trusted account that is one of the organization's": (
        _on(_on(BASE, "'111122223333'", "'210987654321'"), "dev:\n", "dev:\n        account_id: '210987654321'\n"),
        "guardrails.data_perimeter: 210987654321 is shop-dev, inside the organization"),
    "a trusted account that is no account id": (_on(BASE, "'111122223333'", "'1111'"),
                                                "guardrails.data_perimeter.trusted_accounts.0: '1111' is not an AWS account id"),
    "data_perimeter neither on, off nor accounts": (_on(BASE, "{trusted_accounts: ['111122223333']}", "strict"),
                                                    "guardrails.data_perimeter: 'strict': use true, false or {trusted_accounts:"),
    "on_retire misspelt": (_on(BASE, "region: eu-west-1\n", "region: eu-west-1\n  on_retire: delete\n"),
                           "organization.on_retire:"),
    "an environment in a data perimeter its product does not have": (
        _on(BASE, "      lake: {mfa: optional}", "      lake: {mfa: optional, data_perimeter: true}"),
        "products.data.environments.lake.data_perimeter: true, but data has no data perimeter"),
    "every environment out of its product's data perimeter": (
        _on(_on(BASE, "        mfa: optional\n", "        mfa: optional\n        data_perimeter: false\n"),
            "prod: {mfa: required,", "prod: {mfa: required, data_perimeter: false,"),
        "products.shop.environments.prod.data_perimeter: false for every environment of shop: set "
        "products.shop.guardrails.data_perimeter: false instead"),
}


@pytest.mark.parametrize("text, message", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_rejections_name_the_field(text, message):
    assert_rejected(text, message)


@pytest.mark.parametrize("case", ["a phone number with letters", "an unknown region", "a region outside allowed_regions",
                                  "resource control policies disabled"])
def test_validate_exits_2_with_one_line(tmp_path, case):
    text, message = REJECTIONS[case]
    (tmp_path / "org.yaml").write_text(text)
    proc = run_cli("validate", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_refuses_a_data_perimeter_over_the_size_limit(tmp_path):
    accounts = ", ".join(f"'{100000000000 + i}'" for i in range(400))
    (tmp_path / "org.yaml").write_text(_on(BASE, "['111122223333']", f"[{accounts}]"))
    proc = run_cli("validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert "products.shop.guardrails.data_perimeter: the resource control policy would be over Organizations' 5120" \
        in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_tree_shows_the_data_perimeter_regions_contacts_and_closing(tmp_path):
    (tmp_path / "org.yaml").write_text(_on(BASE, "region: eu-west-1\n", "region: eu-west-1\n  on_retire: close\n"))
    shown = " ".join(run_cli("tree", cwd=tmp_path).stdout.split())
    assert "data perimeter: RCP awsenvs-shop-data-perimeter organization's principals and AWS services only, " \
           "and accounts 111122223333" in shown
    assert "regions eu-south-2 disabled af-south-1" in shown and "regions af-south-1" in shown
    assert "contacts security sec@acme.example.com, operations ops@acme.example.com" in shown
    assert "retired accounts: parked in the Suspended OU, then closed" in shown


def test_the_sandbox_says_what_it_cannot_rehearse():
    said = " ".join(not_rehearsed(parse(_on(BASE, "region: eu-west-1\n", "region: eu-west-1\n  on_retire: close\n"))))
    assert "data perimeter enforcement" in said and "no outside principal, anonymous reader or CloudFront origin access identity is denied" in said
    assert "20% of the member accounts (at least 250, at most 1000)" in said
    assert "opt-in regions" in said and "closing retired accounts" in said


# --------------------------------------------------------------------------- synthesized


@pytest.fixture(scope="module")
def controls(tmp_path_factory) -> Synthesized:
    path = tmp_path_factory.mktemp("controls-yaml") / "org.yaml"
    path.write_text(_on(BASE, "region: eu-west-1\n", "region: eu-west-1\n  on_retire: close\n"))
    org = load(path)
    outdir = tmp_path_factory.mktemp("synth-controls")
    synthesize(org, outdir, state_dir=outdir / "state")
    return Synthesized(org, outdir)


def test_the_data_perimeter_is_an_rcp_on_its_product_ou_naming_the_organization(controls):
    policies = controls.resources("management", "aws_organizations_policy")
    perimeter = policies["awsenvs_shop_data_perimeter"]
    assert perimeter["type"] == "RESOURCE_CONTROL_POLICY"
    assert "awsenvs_data_data_perimeter" not in policies  # data: data_perimeter: false
    [statement] = json.loads(perimeter["content"])["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Resource"]) == ("Deny", "*", "*")
    for service in ("s3:*", "kms:*", "sqs:*", "secretsmanager:*", "sts:AssumeRole"):
        assert service in statement["Action"]
    # Outside identity providers' users (OIDC, SAML) belong to no organization: never denied here.
    assert not {"sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "sts:*"} & set(statement["Action"])
    outside = statement["Condition"]["StringNotEqualsIfExists"]
    assert outside["aws:PrincipalOrgID"] == "${aws_organizations_organization.organization.id}"
    assert outside["aws:PrincipalAccount"] == ["111122223333"]
    assert statement["Condition"]["BoolIfExists"] == {"aws:PrincipalIsAWSService": "false"}
    attachment = controls.resources("management", "aws_organizations_policy_attachment")["awsenvs_shop_data_perimeter"]
    assert attachment["target_id"] == "${aws_organizations_organizational_unit.shop.id}"
    organization = controls.resources("management", "aws_organizations_organization")["organization"]
    assert "RESOURCE_CONTROL_POLICY" in organization["enabled_policy_types"]
    assert "account.amazonaws.com" in organization["aws_service_access_principals"]


WEBSITE = _on(BASE, "        mfa: optional\n", "        mfa: optional\n        account_id: '210987654321'\n"
                                                 "        data_perimeter: false\n")


def test_an_environment_out_of_the_data_perimeter_moves_its_rcp_onto_the_other_accounts(tmp_path, terraform):
    """An RCP on the OU reaches every account in it, and a dp:exclude:identity tag exempts no
    S3 general purpose bucket unless S3 ABAC is on for it: the way out that works is to attach
    the RCP to each covered account and not to the one out."""
    path = tmp_path / "org.yaml"
    path.write_text(WEBSITE)
    org = load(path)
    shop = org.products[0]
    assert [e.stack for e in shop.perimeter_environments] == ["shop-prod"] and shop.data_perimeter_per_account
    synthesize(org, tmp_path / "out", state_dir=tmp_path / "state")
    attachments = Synthesized(org, tmp_path / "out").resources("management", "aws_organizations_policy_attachment")
    assert "awsenvs_shop_data_perimeter" not in attachments  # not on the OU
    prod = attachments["awsenvs_shop_data_perimeter_prod"]
    assert (prod["policy_id"], prod["target_id"]) == ("${aws_organizations_policy.awsenvs_shop_data_perimeter.id}",
                                                      "${aws_organizations_account.shop_prod.id}")
    assert "awsenvs_shop_data_perimeter_dev" not in attachments
    assert environments_guarded_by(org, {"aws_organizations_policy_attachment.awsenvs_shop_data_perimeter_prod"})
    terraform.init(tmp_path / "out" / "stacks" / "management")
    assert [d for d in terraform.validate(tmp_path / "out" / "stacks" / "management") if d.severity == "error"] == []


def test_the_data_perimeter_s_way_out_is_drift_when_the_rcp_reaches_it_and_imported_when_it_exists():
    from awsenvs.reconcile import guardrail_imports

    org = parse(WEBSITE)
    shop = org.products[0]
    prod = LiveAccount("222222222222", "shop_prod", org.environment_by_stack("shop-prod").email, "ACTIVE")
    website = LiveAccount("210987654321", "shop_dev", org.environment_by_stack("shop-dev").email, "ACTIVE")
    live = LiveOrganization("o-abcdefghij", "r-x", frozenset(), frozenset(), (prod, website), {"shop": "ou-shop"},
                            {shop.data_perimeter_policy_name: "p-rcp"})
    texts = {"p-rcp": __import__("awsenvs.modules.guardrail_policies", fromlist=["x"]).data_perimeter_policies(
        org, live.id)["shop"]}
    perimeter = __import__("awsenvs.modules.guardrail_policies", fromlist=["x"]).data_perimeter_policies(org, live.id)
    assert drift.data_perimeter_differences(org, live, {"p-rcp": frozenset({prod.id})}, perimeter, texts) == []
    findings = [d.finding for d in drift.data_perimeter_differences(
        org, live, {"p-rcp": frozenset({"ou-shop", website.id})}, perimeter, texts)]
    assert findings == [
        "RCP awsenvs-shop-data-perimeter: expected attached to the accounts of shop it covers, not the OU; live attached "
        "to OU shop, reaching the accounts out of it",
        "RCP awsenvs-shop-data-perimeter: expected not attached to shop-dev (data_perimeter: false); live attached to "
        "210987654321",
        "RCP awsenvs-shop-data-perimeter: expected attached to shop-prod (222222222222); live detached"]
    imports = guardrail_imports(org, live, {"p-rcp": frozenset({prod.id})})
    assert [(i.address, i.id) for i in imports] == [
        ("aws_organizations_policy.awsenvs_shop_data_perimeter", "p-rcp"),
        ("aws_organizations_policy_attachment.awsenvs_shop_data_perimeter_prod", "222222222222:p-rcp")]


def test_the_first_time_a_data_perimeter_reaches_an_adopted_account_the_plan_says_what_it_denies():
    from awsenvs.run.explain import management_notes
    from awsenvs.terraform import ResourceChange

    org = parse(_on(BASE, "        mfa: optional\n", "        mfa: optional\n        account_id: '210987654321'\n"))
    ou_attachment = ResourceChange("aws_organizations_policy_attachment.awsenvs_shop_data_perimeter",
                                   "aws_organizations_policy_attachment", ("create",))
    [note] = management_notes(org, "management", [ou_attachment])
    assert note.startswith("the data perimeter awsenvs-shop-data-perimeter reaches the adopted account shop-dev "
                           "(210987654321): there anyone outside the organization is denied its S3 buckets")
    assert "anonymous requests included (a public bucket, an S3 website endpoint)" in note
    assert "CloudFront origin access identities (OAI" in note
    assert "set data_perimeter: false under products.shop.environments.dev" in note
    assert "exempts no S3 bucket unless S3 ABAC is on for it" in note
    adopted_now = ResourceChange("aws_organizations_account.shop_dev", "aws_organizations_account", ("update",), importing=True)
    assert management_notes(org, "management", [adopted_now]) == (note,)  # moved into an OU that has it
    assert management_notes(org, "management", [replace(ou_attachment, actions=("update",))]) == ()  # not the first time
    assert management_notes(parse(WEBSITE), "management", [ou_attachment]) == ()  # out of it


def test_validate_says_which_adopted_accounts_a_data_perimeter_reaches(tmp_path):
    (tmp_path / "org.yaml").write_text(_on(BASE, "        mfa: optional\n",
                                           "        mfa: optional\n        account_id: '210987654321'\n"))
    proc = run_cli("validate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    [note] = [line for line in proc.stdout.splitlines() if line.startswith("note:")]
    assert note.startswith("note: the data perimeter awsenvs-shop-data-perimeter reaches the adopted account shop-dev")
    (tmp_path / "org.yaml").write_text(WEBSITE)
    assert "note:" not in run_cli("validate", cwd=tmp_path).stdout


def test_contacts_and_regions_are_set_from_the_management_stack(controls):
    contacts = controls.resources("management", "aws_account_alternate_contact")
    assert sorted(contacts) == ["data_lake_billing", "data_lake_security", "shop_dev_operations", "shop_dev_security",
                                "shop_prod_billing", "shop_prod_security"]
    operations = contacts["shop_dev_operations"]
    assert (operations["account_id"], operations["alternate_contact_type"], operations["phone_number"]) == (
        "${aws_organizations_account.shop_dev.id}", "OPERATIONS", "555 0102")
    assert operations["depends_on"] == ["aws_organizations_organization.organization"]  # trusted access first
    regions = {name: (r["account_id"], r["region_name"], r["enabled"])
               for name, r in controls.resources("management", "aws_account_region").items()}
    assert regions == {
        "shop_dev_af_south_1": ("${aws_organizations_account.shop_dev.id}", "af-south-1", True),
        "shop_prod_eu_south_2": ("${aws_organizations_account.shop_prod.id}", "eu-south-2", True),
        "shop_prod_af_south_1": ("${aws_organizations_account.shop_prod.id}", "af-south-1", False),
    }
    for stack in ("shop-dev", "shop-prod", "data-lake"):  # nothing of it in the account stacks
        assert not controls.resources(stack, "aws_account_alternate_contact")
        assert not controls.resources(stack, "aws_account_region")


def test_the_management_stack_with_every_control_validates_on_the_pinned_provider(controls, terraform):
    """Timeouts, chains, per-account attachments: arguments 5.100.0 (the pinned provider) knows."""
    stack = controls.outdir / "stacks" / "management"
    assert controls.stacks["management"]["terraform"]["required_providers"]["aws"]["version"] == "~> 5.100.0"
    terraform.init(stack)
    assert [d for d in terraform.validate(stack) if d.severity == "error"] == []


def test_a_region_waits_for_aws_hours_not_the_provider_s_hour(controls):
    """EnableRegion can take several hours; aws_account_region waits 60 minutes by default
    (provider v5.100.0 internal/service/account/region.go), and a timed-out request leaves
    nothing in state."""
    for region in controls.resources("management", "aws_account_region").values():
        assert region["timeouts"] == {"create": "12h", "update": "12h"}


def _waves(resources: dict) -> list[list[str]]:
    """The region requests as Terraform can run them, given unlimited parallelism and equal
    durations: each wave starts when everything its members depend on is done."""
    done: set[str] = set()
    waves = []
    while len(done) < len(resources):
        ready = [name for name, r in resources.items() if name not in done
                 and all(d.split(".")[1] in done for d in r["depends_on"] if d.startswith("aws_account_region."))]
        waves.append(ready)
        done.update(ready)
    return waves


def test_region_requests_keep_within_aws_s_concurrency_quotas(tmp_path):
    """AWS Account Management: 6 concurrent region-opt requests per account, 50 per
    organization (https://docs.aws.amazon.com/accounts/latest/reference/quotas.html), whatever
    Terraform's -parallelism: the requests are chained."""
    regions = sorted(OPT_IN_REGIONS)[:9]
    envs = "".join(f"      e{i}: {{mfa: optional}}\n" for i in range(7))
    text = _on(BASE, "regions: [af-south-1]", f"regions: [{', '.join(regions)}]")
    text = _on(text, "    environments:\n      lake: {mfa: optional}\n", "    environments:\n" + envs)
    text = _on(text, "    regions: []\n", "")
    path = tmp_path / "org.yaml"
    path.write_text(text)
    org = load(path)
    synthesize(org, tmp_path / "out", state_dir=tmp_path / "state")
    resources = Synthesized(org, tmp_path / "out").resources("management", "aws_account_region")
    assert len(resources) > 50  # 9 accounts, most with 9 regions
    account_of = {name: r["account_id"] for name, r in resources.items()}
    for wave in _waves(resources):
        assert len(wave) <= 50
        assert max(sum(account_of[n] == a for n in wave) for a in set(account_of.values())) <= 6
    assert all("aws_organizations_organization.organization" in r["depends_on"] for r in resources.values())


def test_a_changed_contact_or_region_is_a_change_to_the_environment_it_belongs_to(controls):
    org = controls.org
    prod = org.environment_by_stack("shop-prod")
    assert environments_guarded_by(org, {prod.region_address("af-south-1")}) == (prod,)
    assert environments_guarded_by(org, {prod.contact_address(prod.contacts[0])}) == (prod,)
    shop = [e.stack for e in environments_guarded_by(org, {org.products[0].data_perimeter_addresses[0]})]
    assert shop == ["shop-dev", "shop-prod"]


def _denied_unconditionally(policy: dict, action: str) -> bool:
    """Whether a Deny without any condition covers `action` on every resource (IAM's
    wildcards in Action; Resource "*"): nothing a caller can set or tag lifts it."""
    import fnmatch

    def actions(statement: dict) -> list[str]:
        return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]

    return any(s["Effect"] == "Deny" and "Condition" not in s and s["Resource"] == "*"
               and any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions(s))
               for s in policy["Statement"])


@pytest.mark.parametrize("on_retire", ["close", "park"])
def test_the_terraform_cloud_role_may_never_close_an_account(controls, on_retire):
    """CloseAccount runs from the operator's credentials (retire.close); a leaked workspace
    token must not close prod: every awsenvs account carries managed-by=awsenvs, and
    organizations:* would let it tag any other one first, so no tag condition holds."""
    from awsenvs.modules.bootstrap_policies import management_run_policy

    org = controls.org if on_retire == "close" else load(TWO_PRODUCTS)
    assert org.on_retire == on_retire
    policy = management_run_policy(org)
    for action in ("organizations:CloseAccount", "organizations:RemoveAccountFromOrganization",
                   "organizations:DeleteOrganization", "organizations:LeaveOrganization"):
        assert _denied_unconditionally(policy, action), action
    assert not _denied_unconditionally(policy, "organizations:TagResource")  # what the stacks do stays allowed
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert ("MemberAccountSettings" in statements) == (on_retire == "close")  # controls sets contacts and regions


# --------------------------------------------------------------------------- audit: contacts


def test_contacts_drift_names_each_kind_that_differs():
    env = parse(BASE).environment_by_stack("shop-prod")
    same = {"security": ("Sec", "Security", "sec@acme.example.com", "+1 206 555 0100"),
            "billing": ("Fin", "Finance", "fin@acme.example.com", "(206) 555-0101"), "operations": None}
    assert drift.contact_differences(env, same) == []
    changed = {**same, "billing": None, "operations": ("Someone", "x", "x@example.com", "1")}  # operations: not org.yaml's
    [difference] = drift.contact_differences(env, changed)
    assert difference.finding == "billing contact: expected Fin, Finance, fin@acme.example.com, (206) 555-0101; live none"


# --------------------------------------------------------------------------- contacts and regions that exist


def test_a_contact_set_before_awsenvs_is_imported_and_the_plan_says_what_replaces_it():
    """The first apply on an adopted account would overwrite its contacts unseen (a plain
    create, PutAlternateContact): imported instead, so the plan shows an update, and why."""
    from awsenvs.reconcile import contact_imports

    org = parse(BASE)
    ids = {"shop-dev": "111111111111", "shop-prod": "222222222222"}  # data-lake: not created yet
    live = {"111111111111": {"security": ("Old", "CISO", "old@acme.example.com", "1"), "operations": None, "billing": None},
            "222222222222": {"security": ("Sec", "Security", "sec@acme.example.com", "+1 206 555 0100"),
                             "billing": None, "operations": ("Ops", "x", "x@acme.example.com", "2")}}
    read = []
    imports = contact_imports(org, ids, frozenset({"aws_account_alternate_contact.shop_prod_billing"}),
                              lambda account_id: read.append(account_id) or live[account_id])
    assert [(i.address, i.id) for i in imports] == [
        ("aws_account_alternate_contact.shop_dev_security", "111111111111/SECURITY"),
        ("aws_account_alternate_contact.shop_prod_security", "222222222222/SECURITY")]  # operations: not org.yaml's there
    assert imports[0].reason == ("existing security contact of shop-dev, set before awsenvs: Old, CISO, old@acme.example.com, "
                                 "1; replaced by org.yaml's: Sec, Security, sec@acme.example.com, +1 206 555 0100")
    assert imports[1].reason == "existing security contact of shop-prod (as org.yaml sets it)"
    assert read == ["111111111111", "222222222222"]
    everything = frozenset(org.environment_by_stack(s).contact_address(c) for s in ids for c in org.environment_by_stack(s).contacts)
    assert contact_imports(org, ids, everything, lambda account_id: pytest.fail("nothing to read")) == []


def test_a_contact_org_yaml_no_longer_sets_is_forgotten_never_deleted():
    """`billing: null`, or `contacts` removed: the provider's delete would call
    DeleteAlternateContact; a `removed` block lets go of it instead, and the plan says so."""
    from awsenvs.run.explain import management_notes
    from awsenvs.reconcile import released_contacts
    from awsenvs.terraform import ResourceChange

    org = parse(BASE)  # shop-dev: billing null
    held = frozenset({"aws_account_alternate_contact.shop_dev_billing", "aws_account_alternate_contact.shop_dev_security",
                      "aws_account_alternate_contact.shop_old_billing"})  # shop-old: a retired stack's, left to retire
    assert released_contacts(org, held) == ["aws_account_alternate_contact.shop_dev_billing"]
    document = yaml.safe_load(BASE)  # `contacts` removed everywhere
    del document["organization"]["contacts"]
    del document["products"]["shop"]["environments"]["dev"]["contacts"]
    none = parse(yaml.safe_dump(document))
    assert all(not env.contacts for env in none.environments)
    assert released_contacts(none, held) == ["aws_account_alternate_contact.shop_dev_billing",
                                             "aws_account_alternate_contact.shop_dev_security"]
    [note] = management_notes(org, "management", [
        ResourceChange("aws_account_alternate_contact.shop_dev_billing", "aws_account_alternate_contact", ("forget",)),
        ResourceChange("aws_account_alternate_contact.shop_dev_security", "aws_account_alternate_contact", ("update",))])
    assert note.startswith("the billing contact of shop-dev is no longer org.yaml's: forgotten, it stays on AWS as it is")


@pytest.mark.parametrize("status, imported", [
    ("ENABLING", "is ENABLING since an earlier apply (interrupted, or past its wait): this apply waits for AWS to finish"),
    ("ENABLED", "af-south-1 is already ENABLED in shop-dev"),
    ("DISABLED", None), ("DISABLING", None),
])
def test_a_region_request_under_way_is_imported_not_made_again(status, imported):
    """An apply killed or timed out while AWS enabled a region left nothing in state (the
    provider saves it once done): the next plan imports it instead of a new EnableRegion."""
    from awsenvs.reconcile import region_imports

    org = parse(BASE)
    imports = region_imports(org, {"shop-dev": "111111111111"}, frozenset(),
                             lambda account_id, region: status if (account_id, region) == ("111111111111", "af-south-1")
                             else pytest.fail(f"read {account_id} {region}"))
    if imported is None:
        assert imports == []
    else:
        [region] = imports
        assert (region.address, region.id) == ("aws_account_region.shop_dev_af_south_1", "111111111111,af-south-1")
        assert imported in region.reason
    assert region_imports(org, {"shop-dev": "111111111111"}, frozenset({"aws_account_region.shop_dev_af_south_1"}),
                          lambda *_: pytest.fail("held: nothing to read")) == []


def test_a_region_to_disable_already_disabling_is_imported():
    from awsenvs.reconcile import region_imports

    org = parse(BASE)
    statuses = {"eu-south-2": "DISABLED", "af-south-1": "DISABLING"}
    [region] = region_imports(org, {"shop-prod": "222222222222"}, frozenset(), lambda _, region: statuses[region])
    assert region.address == "aws_account_region.shop_prod_af_south_1" and "DISABLING" in region.reason


# --------------------------------------------------------------------------- closing within the quota


def _live(members: int, closed: int = 0) -> LiveOrganization:
    accounts = [LiveAccount(f"{100000000000 + i}", f"a{i}", f"a{i}@x.io", "ACTIVE") for i in range(members)]
    accounts += [LiveAccount(f"{200000000000 + i}", f"c{i}", f"c{i}@x.io", "SUSPENDED") for i in range(closed)]
    return LiveOrganization("o-abcdefghij", "r-abcd", frozenset(), frozenset(), tuple(accounts), {})


def _retiring(n: int) -> list[Retirement]:
    return [Retirement(f"shop-old{i}", f"{300000000000 + i}", f"old{i}", f"old{i}@x.io") for i in range(n)]


class _NoTags:
    def get_paginator(self, name):
        raise AssertionError("no closed accounts, nothing to read")


@pytest.mark.parametrize("members, limit", [(3, 250), (1250, 250), (2000, 400), (20000, 1000)])
def test_the_quota_is_twenty_percent_of_the_members_at_least_250_at_most_1000(members, limit):
    assert close_quota(_live(members), client=_NoTags()).limit == limit


def test_only_what_fits_the_quota_is_closed_the_rest_stays_parked_saying_when():
    today = datetime.date(2026, 12, 1)
    quota = CloseQuota(10, [datetime.date(2026, 11, 5)] * 8, today)
    planned = plan_closures(_retiring(3), quota)
    assert [r.closes for r in planned] == [True, True, False]
    assert "then closed (CloseAccount allows 10 closures per 30 days in this organization; awsenvs closed 8" in planned[0].closing
    assert planned[2].closing.startswith("it stays parked: over the quota") and "closed from 2026-12-05" in planned[2].closing


def test_closing_dates_the_account_and_counts_it(monkeypatch, tmp_path):
    from moto import mock_aws

    in_process_moto_env(monkeypatch, tmp_path, "us-east-1")
    with mock_aws():
        client = boto3.client("organizations")
        client.create_organization(FeatureSet="ALL")
        ids = [client.create_account(AccountName=f"a{i}", Email=f"a{i}@x.io")["CreateAccountStatus"]["AccountId"]
               for i in range(2)]
        old = ids[1]  # closed by awsenvs 40 days ago: no longer counted
        client.tag_resource(ResourceId=old, Tags=[{"Key": "awsenvs-closed-at", "Value": "2026-10-22"}])
        client.close_account(AccountId=old)
        live = LiveOrganization("o-x", "r-x", frozenset(), frozenset(),
                                tuple(LiveAccount(a["Id"], a["Name"], a["Email"], a["Status"])
                                      for a in client.list_accounts()["Accounts"]), {})
        quota = close_quota(live, client, today=datetime.date(2026, 12, 1))
        assert (quota.limit, quota.recent) == (250, [])
        note = close(Retirement("shop-a0", ids[0], "a0", "a0@x.io", closes=True), quota, client)
        assert client.describe_account(AccountId=ids[0])["Account"]["Status"] == "SUSPENDED"
        tags = {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceId=ids[0])["Tags"]}
    assert tags["awsenvs-closed-at"] == "2026-12-01" and quota.recent == [datetime.date(2026, 12, 1)]
    assert note == f"account {ids[0]} is closed; AWS Support can reopen it until 2027-03-01 (90 days), after that it is gone for good"


def test_over_the_quota_nothing_is_closed():
    quota = CloseQuota(10, [datetime.date(2026, 11, 20)] * 10, datetime.date(2026, 12, 1))
    note = close(_retiring(1)[0], quota, client=_NoTags())
    assert note.startswith("account 300000000000 stays parked in the Suspended OU, over CloseAccount's quota")
    assert "close it from 2026-12-20 on: aws organizations close-account --account-id 300000000000" in note


def test_when_aws_refuses_for_the_quota_the_account_stays_parked_untagged():
    """AWS also counts closures made outside awsenvs: its recorded refusal
    (ConstraintViolationException, Reason CLOSE_ACCOUNT_QUOTA_EXCEEDED)."""
    client = boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    retirement = _retiring(1)[0]
    with Stubber(client) as stub:
        stub.add_response("tag_resource", {}, {"ResourceId": retirement.account_id,
                                               "Tags": [{"Key": "awsenvs-closed-at", "Value": "2026-12-01"}]})
        stub.add_client_error("close_account", "ConstraintViolationException", "You have exceeded close account quota",
                              400, response_meta={}, modeled_fields={"Reason": "CLOSE_ACCOUNT_QUOTA_EXCEEDED"})
        stub.add_response("untag_resource", {}, {"ResourceId": retirement.account_id, "TagKeys": ["awsenvs-closed-at"]})
        quota = CloseQuota(10, [], datetime.date(2026, 12, 1))
        note = close(retirement, quota, client)
        stub.assert_no_pending_responses()
    assert "stays parked in the Suspended OU, AWS refused: its CloseAccount quota is used up" in note
    assert quota.left == 0  # and the run's other retirements stay parked too


def test_a_retired_accounts_contacts_and_regions_leave_state_and_are_never_destroyed():
    """Its account is parked or closed: deleting its contacts there would fail or be pointless."""
    from awsenvs.preflight import LiveChecks

    retiring = [Retirement("shop-old", "300000000000", "old", "old@x.io")]
    held = frozenset({"aws_organizations_account.shop_old", "aws_account_alternate_contact.shop_old_security",
                      "aws_account_region.shop_old_af_south_1", "aws_account_alternate_contact.shop_dev_security"})
    _, forget = LiveChecks(parse(BASE)).lifecycle("management", None, retiring, held)
    assert forget == ["aws_organizations_account.shop_old", "aws_account_alternate_contact.shop_old_security",
                      "aws_account_region.shop_old_af_south_1"]


def test_apply_shows_terraform_s_progress_while_a_region_is_enabled():
    """Terraform says every 10 s that a slow resource is still being made (apply_progress)."""
    from awsenvs.progress import EventCounter, Report
    from awsenvs.terraform import parse_event

    shown = []
    counter = EventCounter(Report(phase=lambda stack, phase, detail: shown.append((stack, phase, detail))),
                       "management", "applying", "apply_complete", total=3)
    for line in (
        {"type": "apply_complete", "@message": "aws_organizations_policy.p: Creation complete",
         "hook": {"resource": {"addr": "aws_organizations_policy.p"}, "action": "create"}},
        {"type": "apply_progress", "@message": "aws_account_region.shop_dev_af_south_1: Still creating... [1m10s elapsed]",
         "hook": {"resource": {"addr": "aws_account_region.shop_dev_af_south_1"}, "action": "create", "elapsed_seconds": 70}},
    ):
        counter(parse_event(json.dumps(line)))
    assert shown[-1] == ("management", "applying",
                         "1/3 aws_account_region.shop_dev_af_south_1: Still creating... [1m10s elapsed]")


@pytest.mark.parametrize("code, reason, why, when", [
    ("ConstraintViolationException", "CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED", "only so many closures in progress",
     "in a few minutes, once the closures in progress are done"),
    ("ConcurrentModificationException", None, "another request is changing the account", "in a few minutes"),
    ("ConflictException", None, "does not allow it now", "once `aws organizations describe-account` shows it ACTIVE"),
    ("TooManyRequestsException", None, "AWS throttled the request", "in a few minutes"),
    ("InternalFailure", None, "AWS failed internally", "in a few minutes"),
    ("AccessDeniedException", None, "these credentials may not close accounts", "with credentials allowed"),
    ("ConstraintViolationException", "SOME_NEW_REASON", "AWS refused: ", "once its cause is fixed"),
])
def test_every_other_refusal_leaves_the_account_parked_untagged_saying_when(code, reason, why, when):
    """CloseAccount's documented refusals besides the quota: the retirement is done, the
    account stays parked, its date tag is taken off (it was not closed), and the summary
    says why and when to close it, with the command."""
    client = boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    retirement = _retiring(1)[0]
    with Stubber(client) as stub:
        stub.add_response("tag_resource", {}, {"ResourceId": retirement.account_id,
                                               "Tags": [{"Key": "awsenvs-closed-at", "Value": "2026-12-01"}]})
        stub.add_client_error("close_account", code, "refused", 400, response_meta={},
                              modeled_fields={"Reason": reason} if reason else None)
        stub.add_response("untag_resource", {}, {"ResourceId": retirement.account_id, "TagKeys": ["awsenvs-closed-at"]})
        quota = CloseQuota(250, [], datetime.date(2026, 12, 1))
        note = close(retirement, quota, client)
        stub.assert_no_pending_responses()
    assert note.startswith("account 300000000000 stays parked in the Suspended OU, not closed: ")
    assert why in note and code in note and (reason or "") in note
    assert f"close it {when}" in note and note.endswith("aws organizations close-account --account-id 300000000000")
    assert quota.left == 250  # nothing counted: the next retirement of the run still tries


def test_an_account_gone_since_it_was_parked_has_nothing_to_close():
    client = boto3.client("organizations", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    retirement = _retiring(1)[0]
    with Stubber(client) as stub:
        stub.add_response("tag_resource", {}, {"ResourceId": retirement.account_id,
                                               "Tags": [{"Key": "awsenvs-closed-at", "Value": "2026-12-01"}]})
        stub.add_client_error("close_account", "AccountNotFoundException", "gone", 400)
        note = close(retirement, CloseQuota(250, [], datetime.date(2026, 12, 1)), client)
    assert note == "account 300000000000 is no longer in the organization: nothing to close"


def test_the_plan_says_why_the_organization_changes_when_contacts_and_a_perimeter_come():
    """Contacts (and regions) need AWS Account Management's trusted access, a data perimeter the
    RCP type, which makes AWS attach RCPFullAWSAccess everywhere: `~ update ...organization`
    gets one line per service and type saying which org.yaml setting needs it and what follows
    (the attributes as the AWS provider names them in the saved plan)."""
    from awsenvs.run.explain import management_notes
    from awsenvs.terraform import AttributeChange, ResourceChange

    org = parse(BASE)
    organization = ResourceChange("aws_organizations_organization.organization", "aws_organizations_organization",
                                  ("update",), attributes=(
        AttributeChange("aws_service_access_principals", ["iam.amazonaws.com"],
                        ["account.amazonaws.com", "iam.amazonaws.com"]),
        AttributeChange("enabled_policy_types", ["SERVICE_CONTROL_POLICY"],
                        ["RESOURCE_CONTROL_POLICY", "SERVICE_CONTROL_POLICY"])))
    trusted, rcp = management_notes(org, "management", [organization])
    assert trusted.startswith("the organization turns on trusted access for account.amazonaws.com: the contacts or "
                              "opt-in regions org.yaml sets (shop-dev")
    assert "can then change every member account's alternate contacts and regions" in trusted
    assert rcp.startswith("the organization enables the policy type RESOURCE_CONTROL_POLICY: the data perimeter of shop "
                          "is an RCP; AWS attaches its RCPFullAWSAccess RCP to the root, every OU and every account")
    assert management_notes(org, "management", [replace(organization, attributes=())]) == ()  # nothing to say why of
