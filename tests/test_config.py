"""org.yaml: derivation of every name, and every rejection (one line, field path, exit 2)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from awsenvs.config import ConfigError, load, parse
from awsenvs.run.explain import environments_changed_by
from conftest import EXAMPLE, TWO_PRODUCTS, assert_rejected, run_cli

BASE = """\
organization:
  name: winterwindsoftware
  email: paul@winterwindsoftware.com
  region: eu-west-1
groups:
  sysadmins:
    policies: [arn:aws:iam::aws:policy/AdministratorAccess]
products:
  autochart:
    users:
      paul: {groups: [sysadmins]}
    environments:
      dev: {mfa: optional}
      prod: {mfa: required}
"""


def test_example_derives_the_blog_names():
    org = load(EXAMPLE)
    envs = {env.name: env for env in org.environments}
    assert org.stacks == ("management", "autochart-legacy", "autochart-dev", "autochart-prod")
    dev = envs["dev"]
    assert dev.account_name == "autochart_dev"
    assert dev.email == "paul+autochart-dev@winterwindsoftware.com"
    assert dev.alias == "winterwindsoftware-autochart-dev"
    assert dev.stack == "autochart-dev"
    assert [dev.profile_name(u) for u in dev.users] == ["autochart_dev_paul"]
    assert dev.signin_url == "https://winterwindsoftware-autochart-dev.signin.aws.amazon.com/console"
    assert not dev.mfa_required and envs["prod"].mfa_required
    assert envs["legacy"].adopted and envs["legacy"].account_id == "210987654321"
    assert not dev.adopted
    assert dev.role_arn("111122223333") == "arn:aws:iam::111122223333:role/OrganizationAccountAccessRole"
    assert dev.password_policy.minimum_length == 14 and dev.password_policy.reuse_prevention == 24
    assert dev.password_policy.max_age_days == 90


def test_environment_users_override_product_users_and_overrides_apply():
    org = load(TWO_PRODUCTS)
    env = {(e.product, e.name): e for e in org.environments}
    assert [u.name for u in env["shop", "dev"].users] == ["alice", "bob"]
    assert [u.name for u in env["shop", "staging"].users] == ["alice"]
    assert [g.name for g in env["shop", "staging"].groups] == ["sysadmins"]
    assert env["shop", "prod"].alias == "acme-shop-production"
    assert env["shop", "prod"].password_policy.minimum_length == 20
    assert env["shop", "prod"].password_policy.max_age_days == 60
    assert env["shop", "dev"].password_policy.minimum_length == 16  # organization default
    legacy = env["billing", "legacy"]
    assert legacy.email == "old-billing@acme.example.com"
    assert legacy.account_name == "Billing (legacy)"
    assert legacy.alias == "acme-billing-legacy"
    assert env["billing", "prod"].region == "eu-central-1"


def test_underscores_become_hyphens_in_stack_alias_and_email():
    org = parse(BASE.replace("autochart:", "auto_chart:").replace("dev: {", "dev_eu: {"))
    env = org.environments[0]
    assert env.account_name == "auto_chart_dev_eu"
    assert env.stack == "auto-chart-dev-eu"
    assert env.alias == "winterwindsoftware-auto-chart-dev-eu"
    assert env.email == "paul+auto-chart-dev-eu@winterwindsoftware.com"
    assert env.profile_name("paul") == "auto_chart_dev_eu_paul"


def test_plus_in_base_email_extends_the_tag():
    org = parse(BASE.replace("paul@", "ops+aws@"))
    assert org.environments[0].email == "ops+aws-autochart-dev@winterwindsoftware.com"


def test_organization_features_default_to_scps_and_only_iams_trusted_access():
    org = parse(BASE)
    assert org.policy_types == ("SERVICE_CONTROL_POLICY",)
    # centralized_root (on by default) needs IAM's trusted access; nothing else is trusted.
    assert org.trusted_services == ("iam.amazonaws.com",)
    assert org.disable_trusted_services == () and org.disable_policy_types == ()
    without = parse(BASE.replace("region: eu-west-1", "region: eu-west-1\n  centralized_root: false"))
    assert without.trusted_services == () and not without.centralized_root


def test_unquoted_account_id_is_accepted():
    text = BASE.replace("dev: {mfa: optional}", "dev: {mfa: optional, account_id: 210987654321}")
    assert parse(text).environments[0].account_id == "210987654321"


def test_select_stacks():
    org = load(TWO_PRODUCTS)
    assert org.select(products=("billing",)) == ("management", "billing-prod", "billing-legacy")
    assert org.select(envs=("prod",)) == ("management", "shop-prod", "billing-prod")
    assert org.select(stacks=("shop-dev",)) == ("shop-dev",)
    with pytest.raises(ConfigError, match="--stack nope"):
        org.select(stacks=("nope",))


def _edit(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


IC = _edit("region: eu-west-1", "region: eu-west-1\n  access: identity_center").replace(
    "paul: {groups: [sysadmins]}", "paul: {groups: [sysadmins], email: paul@winterwindsoftware.com, name: Paul Swail}")

REJECTIONS = {
    "identity center user without email": (
        IC.replace(", email: paul@winterwindsoftware.com", ""),
        "products.autochart.users.paul.email: organization.access identity_center needs each user's email",
    ),
    "identity center user without name": (
        IC.replace(", name: Paul Swail", ""),
        "products.autochart.users.paul.name: organization.access identity_center needs each user's name",
    ),
    "identity center group too long for a permission set": (
        IC.replace("  sysadmins:\n", "  " + "g" * 33 + ":\n").replace("[sysadmins]", "[" + "g" * 33 + "]"),
        "groups." + "g" * 33 + ": access identity_center makes it a permission set name",
    ),
    "session hours without identity center": (
        _edit("    policies: [arn:aws:iam::aws:policy/AdministratorAccess]",
              "    policies: [arn:aws:iam::aws:policy/AdministratorAccess]\n    session_hours: 2"),
        "groups.sysadmins.session_hours: only for organization.access identity_center",
    ),
    "session hours out of range": (
        IC.replace("    policies: [arn:aws:iam::aws:policy/AdministratorAccess]",
                   "    policies: [arn:aws:iam::aws:policy/AdministratorAccess]\n    session_hours: 13"),
        "groups.sysadmins.session_hours: Input should be less than or equal to 12",
    ),
    "description without identity center": (
        _edit("    policies: [arn:aws:iam::aws:policy/AdministratorAccess]",
              "    policies: [arn:aws:iam::aws:policy/AdministratorAccess]\n    description: ops"),
        "groups.sysadmins.description: only for organization.access identity_center",
    ),
    "description AWS does not take": (
        IC.replace("    policies: [arn:aws:iam::aws:policy/AdministratorAccess]",
                   "    policies: [arn:aws:iam::aws:policy/AdministratorAccess]\n    description: \"ops \u2192 prod\""),
        "groups.sysadmins.description: AWS takes only tabs, line breaks and printable Latin-1 characters in a permission set's description: '→' is not one",
    ),
    "one person, two emails": (
        IC.replace("      prod: {mfa: required}", "      prod:\n        mfa: required\n        users:\n"
                   "          paul: {groups: [sysadmins], email: paul@elsewhere.com, name: Paul Swail}"),
        "products.autochart.environments.prod.users.paul.email: 'paul@elsewhere.com' differs from "
        "products.autochart.users.paul.email ('paul@winterwindsoftware.com')",
    ),
    "identity center with a customer managed policy": (
        IC.replace("[arn:aws:iam::aws:policy/AdministratorAccess]", "[arn:aws:iam::123456789012:policy/Deploy]"),
        "groups.sysadmins.policies: 'arn:aws:iam::123456789012:policy/Deploy': with access identity_center only AWS managed",
    ),
    "two policies of one name": (
        _edit("[arn:aws:iam::aws:policy/AdministratorAccess]",
              "[arn:aws:iam::aws:policy/PowerUserAccess, arn:aws:iam::123456789012:policy/PowerUserAccess]"),
        "groups.sysadmins.policies: two policies named 'PowerUserAccess'",
    ),
    "identity center people whose Terraform names collide": (
        IC.replace("      prod: {mfa: required}", "      prod:\n        mfa: required\n        users:\n"
                   "          paul_s: {groups: [sysadmins], email: p2@winterwindsoftware.com, name: P Two}\n"
                   "  other:\n    users:\n      paul.s: {groups: [sysadmins], email: p3@winterwindsoftware.com, name: P Three}\n"
                   "    environments:\n      dev: {mfa: optional}"),
        "users.paul.s: collides with 'paul_s' once made a Terraform name",
    ),
    "identity center without its trusted access": (
        IC.replace("access: identity_center", "access: identity_center\n  disable_trusted_services: [sso.amazonaws.com]"),
        "organization.disable_trusted_services: 'sso.amazonaws.com': access identity_center needs",
    ),
    "unknown key": (
        _edit("dev: {mfa: optional}", "dev: {mfa: optional, colour: blue}"),
        "products.autochart.environments.dev.colour: unknown key",
    ),
    "unknown top-level key": (BASE + "extras: 1\n", "extras: unknown key"),
    "misspelt top-level key": (BASE.replace("organization:", "organisation:"), "organisation: unknown key (did you mean 'organization'?)"),
    "misspelt environment key": (
        _edit("dev: {mfa: optional}", "dev: {mfa: optional, acount_id: '210987654321'}"),
        "products.autochart.environments.dev.acount_id: unknown key (did you mean 'account_id'?)",
    ),
    "not a service principal": (
        _edit("region: eu-west-1", "region: eu-west-1\n  trusted_services: [sso]"),
        "organization.trusted_services.0: 'sso' is not a service principal",
    ),
    "unknown policy type": (
        _edit("region: eu-west-1", "region: eu-west-1\n  policy_types: [SCP]"),
        "organization.policy_types.0: 'SCP' is not allowed",
    ),
    "trusted and disabled at once": (
        _edit("region: eu-west-1", "region: eu-west-1\n  trusted_services: [sso.amazonaws.com]\n  disable_trusted_services: [sso.amazonaws.com]"),
        "organization.disable_trusted_services: 'sso.amazonaws.com' is also listed in organization.trusted_services",
    ),
    "reserved group name": (_edit("  sysadmins:\n", "  awsenvs-mfa-required:\n").replace("[sysadmins]", "[awsenvs-mfa-required]"),
                            "groups.awsenvs-mfa-required: this name is reserved"),
    "group name too long for its MFA role": (
        _edit("  sysadmins:\n", "  " + "g" * 61 + ":\n").replace("[sysadmins]", "[" + "g" * 61 + "]"),
        "groups." + "g" * 61 + ": too long",
    ),
    "bad email": (_edit("paul@winterwindsoftware.com", "paul-at-winterwind"), "organization.email: 'paul-at-winterwind' is not a valid email"),
    "bad override email": (
        _edit("dev: {mfa: optional}", "dev: {mfa: optional, email: 'x@'}"),
        "products.autochart.environments.dev.email: 'x@' is not a valid email",
    ),
    "duplicate root email": (
        _edit("prod: {mfa: required}", "prod: {mfa: required, email: paul+autochart-dev@winterwindsoftware.com}"),
        "products.autochart.environments.prod.email: 'paul+autochart-dev@winterwindsoftware.com' is already the root email of products.autochart.environments.dev",
    ),
    "invalid alias": (
        _edit("prod: {mfa: required}", "prod: {mfa: required, alias: Bad_Alias}"),
        "products.autochart.environments.prod.alias: 'Bad_Alias' must be 3-63 lowercase letters, digits or single hyphens",
    ),
    "alias with double hyphen": (
        _edit("prod: {mfa: required}", "prod: {mfa: required, alias: a--b}"),
        "products.autochart.environments.prod.alias: 'a--b' must be",
    ),
    "derived alias too long": (
        _edit("name: winterwindsoftware", "name: " + "w" * 31).replace("autochart:", "a" * 31 + ":"),
        "alias: '" + "w" * 31,
    ),
    "invalid IAM user name": (_edit("paul: {groups", "'paul smith': {groups"), "products.autochart.users.paul smith: not a valid IAM user name"),
    "invalid IAM group name": (_edit("  sysadmins:\n", "  'sys admins':\n"), "groups.sys admins: not a valid IAM group name"),
    "unknown group": (_edit("groups: [sysadmins]", "groups: [admins]"), "products.autochart.users.paul.groups: unknown group 'admins'"),
    "environment names an undefined user": (
        _edit("prod: {mfa: required}", "prod: {mfa: required, users: [paul, zoe]}"),
        "products.autochart.environments.prod.users: user 'zoe' is not defined under products.autochart.users",
    ),
    "account_id not 12 digits": (
        _edit("dev: {mfa: optional}", "dev: {mfa: optional, account_id: '12345'}"),
        "products.autochart.environments.dev.account_id: '12345' is not an AWS account id",
    ),
    "management account id not 12 digits": (
        _edit("region: eu-west-1", "region: eu-west-1\n  management_account_id: abc"),
        "organization.management_account_id: 'abc' is not an AWS account id",
    ),
    "mfa neither required nor optional": (
        _edit("dev: {mfa: optional}", "dev: {mfa: sometimes}"),
        "products.autochart.environments.dev.mfa: 'sometimes' is not allowed: use 'required' or 'optional'",
    ),
    "product names collide once derived": (
        _edit("  autochart:\n", "  auto_chart:\n") + "  auto-chart:\n    environments:\n      dev: {mfa: optional}\n",
        "products.auto-chart.environments.dev: stack name 'auto-chart-dev' collides with products.auto_chart",
    ),
    "empty products": (BASE.split("products:")[0] + "products: {}\n", "products: empty"),
    "product without environments": (BASE + "  billing:\n    environments: {}\n", "products.billing.environments: empty"),
    "missing organization": ("groups:" + BASE.split("groups:", 1)[1], "organization: required, but missing"),
    "duplicate key": (BASE + "groups: {}\n", "line 15, column 1: duplicate key 'groups'"),
    "yaml syntax error": (_edit("dev: {mfa: optional}", "dev: {mfa: optional"), "YAML error at line"),
    "adopted account is the management account": (
        _edit("region: eu-west-1", "region: eu-west-1\n  management_account_id: '123456789012'")
        .replace("dev: {mfa: optional}", "dev: {mfa: optional, account_id: '123456789012'}"),
        "account_id: 123456789012 is the management account",
    ),
    "bad policy arn": (_edit("arn:aws:iam::aws:policy/AdministratorAccess", "AdministratorAccess"), "groups.sysadmins.policies: 'AdministratorAccess' is not an IAM policy ARN"),
    "an unmanaged policy prefix that would leave every SCP alone": (
        _edit("  autochart:\n", "  autochart:\n    unmanaged: {policies: ['*']}\n"),
        "products.autochart.unmanaged.policies: '*': a policy's name, or a prefix ending in *"),
    "a star inside an unmanaged policy name": (
        _edit("  autochart:\n", "  autochart:\n    unmanaged: {policies: ['aws-*-guardrails']}\n"),
        "products.autochart.unmanaged.policies: 'aws-*-guardrails': a policy's name, or a prefix ending in *"),
}


# ci.github: its names become exact trust subjects, and CI needs remote state and the management account's id.
WITH_ID = _edit("region: eu-west-1", "region: eu-west-1\n  management_account_id: '111111111111'")
S3 = "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n"
CI = "ci:\n  github: {repository: acme/infra}\n"
REJECTIONS.update({
    "ci with local state": (WITH_ID + CI, "ci.github: needs state.backend s3 or cloud"),
    "ci without the management account id": (
        BASE + S3 + CI, "organization.management_account_id: required with ci.github: each account's read-only role"),
    "ci repository not owner/name": (WITH_ID + S3 + CI.replace("acme/infra", "acme"),
                                     "ci.github.repository: 'acme' is not OWNER/NAME"),
    "ci repository with a wildcard": (WITH_ID + S3 + CI.replace("acme/infra", "'acme/*'"),
                                      "ci.github.repository: 'acme/*' is not OWNER/NAME"),
    "ci environments equal": (
        WITH_ID + S3 + CI.replace("}", ", environment: deploy, protected_environment: deploy}"),
        "ci.github.protected_environment: must differ from ci.github.environment ('deploy')"),
})


@pytest.mark.parametrize("text, message", REJECTIONS.values(), ids=REJECTIONS.keys())
def test_rejections_name_the_field(text, message):
    assert_rejected(text, message)


def test_ci_with_cloud_state_names_the_missing_management_account_id_once():
    cloud = "state:\n  backend: cloud\n  cloud: {organization: acme-tfc}\n"
    with pytest.raises(ConfigError) as excinfo:
        parse(BASE + cloud + CI, Path("org.yaml"))
    named = [p for p in excinfo.value.problems if "organization.management_account_id" in p]
    assert len(named) == 1, excinfo.value.problems
    github = parse(WITH_ID + cloud + CI, Path("org.yaml")).github
    assert github.plan_subjects == ("repo:acme/infra:pull_request", "repo:acme/infra:ref:refs/heads/main")


def test_yaml_error_reports_the_line():
    text = _edit("dev: {mfa: optional}", "dev: {mfa: optional")
    with pytest.raises(ConfigError, match=r"line 1[345]"):
        parse(text)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="nope.yaml: file not found"):
        load(tmp_path / "nope.yaml")


_cli = run_cli


@pytest.mark.parametrize("case", ["invalid alias", "unknown group", "yaml syntax error"])
def test_cli_rejects_with_exit_2_one_line_and_writes_nothing(tmp_path, case):
    text, message = REJECTIONS[case]
    (tmp_path / "org.yaml").write_text(text)
    proc = _cli("synth", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "cdktf.out").exists()


def test_cli_missing_config(tmp_path):
    proc = _cli("--config", "missing.yaml", "validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert "missing.yaml: file not found" in proc.stderr


def test_cli_validate_and_tree(tmp_path):
    proc = _cli("--config", str(TWO_PRODUCTS), "validate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 product(s), 5 account(s)" in proc.stdout
    proc = _cli("--config", str(EXAMPLE), "tree", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for text in ("OU autochart", "autochart_prod", "paul+autochart-prod@winterwindsoftware.com",
                 "winterwindsoftware-autochart-legacy", "adopted 210987654321", "MFA required", "group sysadmins", "user paul"):
        assert text in proc.stdout
    assert not (tmp_path / "cdktf.out").exists()


def test_one_person_defined_two_ways_is_one_line_naming_the_field_and_both_values(tmp_path):
    # ben is written twice, in two products of two environments each: one line, at the place
    # the second definition is written (not once per environment it reaches).
    ledger = ("  ledger:\n    users:\n      ben: {groups: [sysadmins], email: ben.okafor@winterwindsoftware.com, "
              "name: NAME}\n    environments:\n      dev: {mfa: optional}\n      prod: {mfa: required}\n")
    text = IC.replace("paul: {groups: [sysadmins], email: paul@winterwindsoftware.com, name: Paul Swail}",
                      "ben: {groups: [sysadmins], email: ben@winterwindsoftware.com, name: Ben Okafor}") + ledger
    (tmp_path / "org.yaml").write_text(text.replace("NAME", "Ben Okafor"))
    proc = _cli("validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: org.yaml: products.ledger.users.ben.email: 'ben.okafor@winterwindsoftware.com' differs from "
        "products.autochart.users.ben.email ('ben@winterwindsoftware.com'): one person is one Identity Center user; "
        "write the same in both places"], proc.stderr
    # Both fields differ: one line naming both.
    (tmp_path / "org.yaml").write_text(text.replace("NAME", "Ben O"))
    proc = _cli("validate", cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert ("products.ledger.users.ben: email 'ben.okafor@winterwindsoftware.com', name 'Ben O' differ from "
            "products.autochart.users.ben (email 'ben@winterwindsoftware.com', name 'Ben Okafor')") in proc.stderr


def test_identity_center_assigns_each_environments_users_their_groups_permission_sets():
    from conftest import IDENTITY_CENTER

    org = load(IDENTITY_CENTER)
    assert org.identity_center and "sso.amazonaws.com" in org.trusted_services  # added: Identity Center needs it
    got = {(a.environment.stack, a.user.name, a.group.permission_set_name, a.profile_name) for a in org.assignments}
    assert got == {
        ("shop-dev", "maria", "developers", "shop_dev_maria"), ("shop-dev", "maria", "sysadmins", "shop_dev_maria_sysadmins"),
        ("shop-dev", "tom", "developers", "shop_dev_tom"),
        ("shop-prod", "maria", "developers", "shop_prod_maria"), ("shop-prod", "maria", "sysadmins", "shop_prod_maria_sysadmins"),
        ("billing-prod", "tom", "developers", "billing_prod_tom"),
    }  # prod restricted to maria: tom has nothing there
    people = {u.name: u for u in org.people}
    assert set(people) == {"maria", "tom"} and people["maria"].given_and_family_name == ("Maria", "Lopez")
    sysadmins = next(g for g in org.groups if g.name == "sysadmins")
    assert sysadmins.session_duration == "PT1H" and next(g for g in org.groups if g.name == "developers").session_duration == "PT4H"


def test_identity_center_changes_are_placed_in_the_environments_they_reach():
    from awsenvs.config.names import named_first
    from conftest import IDENTITY_CENTER

    org = load(IDENTITY_CENTER)

    def reached(*addresses: str) -> list[str]:
        return [env.stack for env in environments_changed_by(org, set(addresses))]

    assert reached("aws_ssoadmin_account_assignment.shop_prod_maria_sysadmins") == ["shop-prod"]
    assert reached("aws_ssoadmin_permission_set.sysadmins") == ["shop-dev", "shop-prod"]  # sysadmins is assigned there
    assert reached("aws_ssoadmin_managed_policy_attachment.developers_PowerUserAccess") == ["shop-dev", "shop-prod", "billing-prod"]
    assert reached("aws_identitystore_user.tom") == ["shop-dev", "billing-prod"]
    assert reached("aws_identitystore_group.developers", "aws_identitystore_group_membership.developers_tom") == []
    # A policy org.yaml no longer lists still names its group: where sysadmins is assigned.
    assert reached("aws_ssoadmin_managed_policy_attachment.sysadmins_ReadOnlyAccess") == ["shop-dev", "shop-prod"]
    # What names nothing org.yaml has, now or being retired, cannot be placed: every environment.
    every = [e.stack for e in org.environments]
    assert reached("aws_ssoadmin_account_assignment.legacy_ops_tom_developers") == every
    assert reached("aws_ssoadmin_managed_policy_attachment.auditors_SecurityAudit") == every
    assert [e.stack for e in environments_changed_by(org, {"aws_ssoadmin_account_assignment.legacy_ops_tom_developers"},
                                                         former_stacks=("legacy-ops",))] == []
    # A stack whose Terraform name begins another's: the assignment counts for both.
    assert named_first("aws_ssoadmin_account_assignment.shop_prod_eu_tom_developers",
                       ["shop-dev", "shop-prod", "shop-prod-eu"]) == ("shop-prod", "shop-prod-eu")


def test_portal_links_encode_the_permission_set_name():
    from awsenvs.config import Assignment, Group

    org = load(EXAMPLE)
    env = org.environments[0]
    link = Assignment(env, env.users[0], Group("ops+admins", ()), "p").console_url(
        org.access_portal("d-1234567890"), "111122223333")
    assert link == "https://d-1234567890.awsapps.com/start/#/console?account_id=111122223333&role_name=ops%2Badmins"


def test_a_customized_access_portal_url_wins_over_the_identity_stores():
    """The portal's subdomain can be customized (IAM Identity Center > Settings), which the
    identity store id cannot tell: organization.sso_start_url says it."""
    from conftest import IDENTITY_CENTER

    text = IDENTITY_CENTER.read_text().replace("access: identity_center",
                                               "access: identity_center\n  sso_start_url: https://acme.awsapps.com/start/")
    org = parse(text)
    assert org.access_portal("d-1234567890") == "https://acme.awsapps.com/start"  # the trailing slash dropped
    assert org.access_portal(None) == "https://acme.awsapps.com/start"
    assert parse(IDENTITY_CENTER.read_text()).access_portal("d-1234567890") == "https://d-1234567890.awsapps.com/start"
    assert_rejected(text.replace("https://acme.awsapps.com/start/", "acme.awsapps.com"),
                    "organization.sso_start_url: 'acme.awsapps.com' is not the access portal's URL")
    assert_rejected(EXAMPLE.read_text().replace("region: eu-west-1", "region: eu-west-1\n  sso_start_url: https://a.awsapps.com/start", 1),
                    "organization.sso_start_url: only for organization.access identity_center")


def test_the_tree_shows_sso_profile_names_only_with_identity_center():
    import io

    from rich.console import Console

    from awsenvs.tree import org_tree
    from conftest import IDENTITY_CENTER

    def rendered(org) -> str:
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(org_tree(org))
        return console.export_text()

    text = IDENTITY_CENTER.read_text()
    assert "shop_dev_maria_sysadmins" in rendered(parse(text, IDENTITY_CENTER))
    as_iam_users = text.replace("access: identity_center", "access: iam_users").replace("session_hours: 1", "")
    plain = rendered(parse(as_iam_users, IDENTITY_CENTER))
    assert "shop_dev_maria_sysadmins" not in plain and "profile shop_dev_maria" in plain
