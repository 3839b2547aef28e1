"""`export-modules DIR`: reusable Terraform modules made from the same constructs as the stacks.

For teams that use plain Terraform (or a private module registry) instead of the awsenvs
runner, one module per construct org.yaml can turn on (MODULES): `organization` (the
organization, OUs, accounts, centralized root access), `guardrails` (the SCPs and the data
perimeter's RCP), `account_settings` (alternate contacts, opt-in regions), `identity_center`
(people, groups, permission sets, assignments), `account` (alias, password policy) and `iam`
(IAM groups, users, logins, MFA), each a `main.tf` with typed variables and outputs and a
README of its inputs; `DIR/example/main.tf`, a root module wiring them for an Identity
Center team; and `DIR/README.md`, what is exported and what is left out (LEFT_OUT).

The folder is the colleague's to own and edit: `DIR/.awsenvs-export.json` records what
was written, and a new export refuses to overwrite a file that differs from it (edited, or
never written by export-modules) unless `force` says so.

Each module is a CDK Terrain stack whose constructs read module variables; its synthesized
JSON loses the provider configuration and the backend (a module gets its provider from the
caller and has no state of its own) and is converted to HCL like `synth --hcl`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from pathlib import Path
from typing import get_type_hints

from awsenvs import kernel  # noqa: F401 - first: it quiets the jsii kernel's exit
from cdktn import App, TerraformOutput, TerraformStack, TerraformVariable, TerraformVariableValidationConfig, Token
from cdktn_provider_aws.provider import AwsProvider
from constructs import Construct

from awsenvs import TEMPLATES
from awsenvs.config import (
    CONTACT_KINDS,
    DEFAULT_ROLE_NAME,
    DEFAULT_SESSION_HOURS,
    IAM_PRINCIPAL,
    MFA_GROUP_NAME,
    OPT_IN_REGIONS,
    PasswordPolicy,
    PasswordPolicySpec,
)
from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError
from awsenvs.modules.account import AccountBaseline
from awsenvs.modules.account_settings import AccountSettingsModule
from awsenvs.modules.guardrails import GuardrailsModule
from awsenvs.modules.iam import IamModule
from awsenvs.modules.identity_center import IdentityCenterModule
from awsenvs.modules.organization import OrganizationModule
from awsenvs.stacks import PROVIDER_CONSTRAINT
from awsenvs.synth import convert_to_hcl

# The construct each module is made from (awsenvs.modules.<file>.<class>): every construct
# the stacks build is here or in LEFT_OUT (tests/test_modules.py checks both lists).
MODULES = {
    "organization": "organization.Organization",
    "guardrails": "guardrails.Guardrails",
    "account_settings": "account_settings.AccountSettings",
    "identity_center": "identity_center.IdentityCenter",
    "account": "account.AccountBaseline",
    "iam": "iam.Iam",
}
MODULE_NAMES = tuple(MODULES)
# What the stacks build that is not exported, and why (DIR/README.md and docs/reuse.md say it).
LEFT_OUT = {
    "budget.MonthlyBudget": "Budgets (org.yaml's `budget`): not exported yet; an `aws_budgets_budget` in the "
                            "account's root module, or the `MonthlyBudget` construct in a CDK app, does the same.",
    "caller_check.CallerCheck": "The Terraform Cloud runs' account check: the providers' `allowed_account_ids` "
                                "(set in the example) refuse the wrong account in plain Terraform.",
    "bootstrap.StateBucket": "The S3 state bucket `bootstrap` makes: the state backend is the root module's own choice.",
    "bootstrap.RunRoles": "The Terraform Cloud run roles `bootstrap` makes: how runs get credentials is the "
                          "root module's own choice.",
    "bootstrap.GitHubRoles": "GitHub Actions' OIDC provider and the plan and apply roles `bootstrap` makes for the "
                             "workflows `ci github` writes: how a team's CI gets credentials is its own choice.",
    "ci_access.CiReadRole": "Each account's read-only role for those workflows' pull request plans: part of awsenvs' "
                            "CI, not of the account.",
    "break_glass.BreakGlassAccess": "The emergency IAM users of organization.break_glass and the alert on their "
                                    "sign-in: not exported yet; `aws_iam_user`s in an admin group whose policy denies "
                                    "all without MFA and access keys, and an EventBridge rule per sign-in region, do "
                                    "the same (docs/access.md).",
}
# The runner's steps around the resources, which a module cannot hold.
RUNNER_STEPS = (
    "the guard (credentials must be the management account's) and the typed confirmations before a protected "
    "account changes: plain Terraform has `allowed_account_ids` and its own review of `terraform plan`",
    "adopting existing accounts and objects: write `import` blocks yourself "
    "(`to = module.organization.aws_organizations_account.account[\"NAME\"]`, `id = ACCOUNT_ID`)",
    "an account's lifecycle: waiting for a new account and handing its id to the member providers (here: apply "
    "`-target=module.organization` first), retiring an environment (moving its account to the Suspended OU with "
    "its SCP, or closing it), untainting; `prevent_destroy` on the accounts and the organization stops a removal",
    "CLI profiles, sign-in links, `password`, `audit` and drift checks: tools that read org.yaml, not resources",
    "just-in-time grants of eligible groups (`elevate`, `approve`, `revoke`): a grant is written into the stacks "
    "from the record at the time; the `iam` and `identity_center` modules take standing groups only",
)
MANIFEST = ".awsenvs-export.json"
# optional() object attributes (1.3) and strcontains() (1.5) in the variables' types and validations.
MODULE_TERRAFORM = ">= 1.5"
_TF_TYPES = {bool: "bool", int: "number", str: "string"}


def export_modules(directory: Path, force: bool = False) -> list[Path]:
    """Write DIR/<module>/main.tf and README.md for every module, DIR/example/main.tf and
    DIR/README.md; returns the module folders (and the example's).

    Everything is made in a scratch folder beside DIR first (same filesystem, so the files
    move in with a rename), and a failure leaves DIR as it was.  A file that differs from
    what the last export wrote (DIR/.awsenvs-export.json) is the user's: refused unless `force`."""
    directory = Path(directory).absolute()
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".awsenvs-export-", dir=directory.parent) as scratch:
            return _export(directory, Path(scratch), force)
    except OSError as exc:
        raise AwsenvsError(f"{directory}: {exc.strerror or exc}") from None


def _export(directory: Path, scratch: Path, force: bool) -> list[Path]:
    app = App(outdir=str(scratch), stack_traces=False)
    for name in MODULE_NAMES:
        ModuleStack(app, name)
    app.synth()
    made = scratch / "modules"
    for name in MODULE_NAMES:
        document = json.loads((scratch / "stacks" / name / "cdk.tf.json").read_text())
        (made / name).mkdir(parents=True)
        (made / name / "cdk.tf.json").write_text(json.dumps(_as_module(document), indent=2))
        (made / name / "README.md").write_text(module_readme(name, document))
    convert_to_hcl([made / name for name in MODULE_NAMES])
    files = {f"{name}/{file}": (made / name / ("cdk.tf" if file == "main.tf" else file)).read_text()
             for name in MODULE_NAMES for file in ("main.tf", "README.md")}
    files["example/main.tf"] = (TEMPLATES / "export_example.tf").read_text()
    files["README.md"] = export_readme()
    _refuse_local_edits(directory, files, force)
    for relative, text in files.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = scratch / "staged" / relative
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_text(text)
        staged.replace(target)
    manifest = scratch / MANIFEST
    manifest.write_text(json.dumps({"files": {relative: _digest(text) for relative, text in files.items()}}, indent=2) + "\n")
    manifest.replace(directory / MANIFEST)
    return [directory / name for name in (*MODULE_NAMES, "example")]


def _digest(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def _refuse_local_edits(directory: Path, files: dict[str, str], force: bool) -> None:
    """Refuse (bad input, nothing written) when a file about to be replaced is not what the last
    export wrote: the exported folder is the user's to edit, and an edit is never lost silently."""
    if force:
        return
    try:
        recorded = json.loads((directory / MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    edited = []
    for relative in files:
        target = directory / relative
        if target.is_file() and recorded.get(relative) != _digest(target.read_bytes()):
            edited.append(target)
    if edited:
        others = f" (and {len(edited) - 1} more)" if len(edited) > 1 else ""
        raise AwsenvsError(
            f"{edited[0]}{others}: changed since export-modules wrote it, or not written by it: export into "
            "another folder and merge, or run again with --force to overwrite", exit_code=EXIT_BAD_INPUT)


def _as_module(document: dict) -> dict:
    """A stack's JSON as a module: no provider configuration, no backend, no CDK metadata;
    blocks in reading order (inputs, then resources, then outputs), meta-arguments first."""
    terraform = {"required_providers": document["terraform"]["required_providers"], "required_version": MODULE_TERRAFORM}
    module = {"terraform": terraform}
    for key in ("variable", "locals", "data", "resource", "output"):
        if key in document:
            module[key] = document[key]
    for resources in module.get("resource", {}).values():
        for name, body in resources.items():
            resources[name] = dict(sorted(body.items(), key=lambda item: item[0] not in ("count", "for_each")))
    return module


_OWNED = ("Exported by `awsenvs export-modules` from the constructs awsenvs' own stacks use. This copy is "
          "yours: change it as your team needs. Exporting again into the same folder replaces only the files "
          "it wrote that nobody changed since, and refuses otherwise (`--force` overwrites); "
          "`.awsenvs-export.json` records what it wrote.")


def module_readme(name: str, document: dict) -> str:
    """What the module is for, its inputs and outputs as Markdown tables (from its variables and outputs)."""
    lines = [f"# {name}", "", _PURPOSE[name], "", _OWNED, "",
             "## Inputs", "", "| name | type | default | description |", "|---|---|---|---|"]
    for variable, body in document.get("variable", {}).items():
        default = json.dumps(body["default"]) if "default" in body else "required"
        type_ = " ".join(body.get("type", "any").split())
        lines.append(f"| `{variable}` | `{type_}` | `{default}` | {body.get('description', '')} |")
    lines += ["", "## Outputs", "", "| name | description |", "|---|---|"]
    for output, body in document.get("output", {}).items():
        lines.append(f"| `{output}` | {body.get('description', '')} |")
    return "\n".join(lines) + "\n"


def export_readme() -> str:
    """DIR/README.md: the modules, the example, and what is not exported."""
    lines = ["# Terraform modules exported by awsenvs", "",
             "The AWS organization of a product's environments as plain Terraform modules, made from the same "
             "constructs as awsenvs' own stacks. Each folder is a module with typed variables, outputs and a README "
             "of its inputs.", "", "| module | what it makes | where it runs |", "|---|---|---|"]
    for name in MODULE_NAMES:
        lines.append(f"| [`{name}`]({name}/README.md) | {_PURPOSE[name].split('. ')[0]}. | {_WHERE[name]} |")
    lines += ["", "## The example", "",
              "`example/main.tf` wires them for a team that signs in through IAM Identity Center (the `iam` module "
              "replaces `identity_center` for a team of IAM users, one call per account). It validates offline "
              "(`terraform init` and `terraform validate` in `example/`). Make it yours (names, emails, regions), "
              "then, with the management account's credentials, apply it in two steps: the member accounts' "
              "providers need the ids of the accounts the first step creates.", "", "```sh",
              "terraform init", "terraform apply -target=module.organization", "terraform apply", "```", "",
              "Opt-in regions: AWS allows six region requests per account at once; when one account enables more "
              "than six regions in one apply, add `-parallelism=6`.", "",
              "## Exported folders are yours", "", _OWNED, "",
              "## What is not exported, and why", ""]
    for construct, why in LEFT_OUT.items():
        lines.append(f"- `{construct}`: {why[0].lower()}{why[1:]}")
    lines += ["", "What awsenvs' runner does around the resources, which no module can hold:", ""]
    lines += [f"- {step}." for step in RUNNER_STEPS]
    return "\n".join(lines) + "\n"


_WHERE = {
    "organization": "management account, once",
    "guardrails": "management account, once",
    "account_settings": "management account, once",
    "identity_center": "management account, once",
    "account": "each member account (a provider assuming its role)",
    "iam": "each member account (a provider assuming its role)",
}

_PURPOSE = {
    "organization": "The AWS Organization (feature set ALL, protected from destroy), one OU per product "
                    "and one member account per environment, and centralized root access (member accounts need "
                    f"no root credentials; it adds `{IAM_PRINCIPAL}` to the trusted services). Call it once, in "
                    "the management account.",
    "guardrails": "Service control policies on product OUs (or accounts): deny leaving the organization, protect "
                  "the baseline (only the managing roles change the alias, password policy and awsenvs' IAM "
                  "roles), deny the root user, deny regions outside a list with the global services exempt; and the "
                  "data perimeter, a resource control policy letting only the organization's principals (and "
                  "trusted outside accounts) at S3, KMS, STS and the other RCP services. The same statements as "
                  "awsenvs' stacks. Call it once, in the management account, once the organization enables "
                  "SERVICE_CONTROL_POLICY (and RESOURCE_CONTROL_POLICY for a data perimeter).",
    "account_settings": "Member accounts' alternate contacts (security, operations, billing) and opt-in regions "
                        "(enabled or disabled), set from the management account through AWS Account Management. "
                        "Call it once, in the management account, once the organization trusts "
                        "`account.amazonaws.com` (depends_on the organization module).",
    "identity_center": "IAM Identity Center: one user per person, one group and one permission set (its managed "
                       "policies and session length) per group, memberships, and account assignments that give a "
                       "person a group's permission set in one account (assignments name people, not groups, so "
                       "one account's list stays its own). Call it once, in the management account, in the region "
                       "where Identity Center is enabled (enable it in the console first). Nobody can sign in until "
                       "\"Send email OTP\" is on (IAM Identity Center > Settings > Authentication) or each user's "
                       "password is reset in the console: users made through the API get neither password nor email.",
    "account": "The baseline of one member account: its alias (the console sign-in URL) and IAM password "
               "policy. Call it once per account, with a provider that assumes the account's role.",
    "iam": "Groups with managed policies, users in their groups, console logins with a reset-at-first-sign-in "
           "password and, with `mfa_required`, the MFA enforcement awsenvs uses (a policy denying all but MFA "
           f"self-service without MFA, the `{MFA_GROUP_NAME}` group, and a `<group>-mfa` role per group that "
           "only its members can assume with MFA). For teams of IAM users, instead of identity_center. Call it "
           "once per account.",
}


def _password_policy_type() -> str:
    """org.yaml's password_policy keys as an object type with org.yaml's defaults."""
    defaults = PasswordPolicySpec().model_dump()
    hints = get_type_hints(PasswordPolicy)
    attributes = ", ".join(
        f"{field.name} = optional({_TF_TYPES[hints[field.name]]}, {json.dumps(defaults[field.name])})"
        for field in dataclasses.fields(PasswordPolicy)
    )
    return f"object({{{attributes}}})"


def _variable(scope: Construct, name: str, type_: str, description: str, default=None, validation=()) -> TerraformVariable:
    kwargs = {"default": default} if default is not None else {}
    variable = TerraformVariable(
        scope, name, type=type_, description=description, nullable=False,
        validation=[TerraformVariableValidationConfig(condition=c, error_message=m) for c, m in validation], **kwargs,
    )
    variable.override_logical_id(name)
    return variable


def _output(scope: Construct, name: str, value: str, description: str) -> None:
    # Construct ids are shared with the variables (an output may be named like one).
    TerraformOutput(scope, f"output-{name}", value=value, description=description).override_logical_id(name)


class ModuleStack(TerraformStack):
    def __init__(self, scope, name: str) -> None:
        super().__init__(scope, name)
        # Only to satisfy synthesis; the module's JSON drops it (the caller passes its provider).
        AwsProvider(self, "aws")
        self.add_override("terraform.required_providers.aws.version", PROVIDER_CONSTRAINT)
        getattr(self, f"_{name}")()

    def _organization(self) -> None:
        _variable(self, "trusted_services", "list(string)",
                 "Service principals with trusted access (e.g. sso.amazonaws.com). Every one the organization "
                 "has and this list lacks is DISABLED: list them all (aws organizations "
                 "list-aws-service-access-for-organization).")
        _variable(self, "policy_types", "list(string)",
                 "Policy types enabled in the root (e.g. SERVICE_CONTROL_POLICY). One the organization has and "
                 "this list lacks is DISABLED, detaching its policies.")
        _variable(self, "organizational_units", "set(string)", "OU names under the root, one per product.")
        _variable(self, "centralized_root", "bool",
                 f"Centralized root access: member accounts have no root credentials; the management account "
                 f"runs their privileged root tasks. Adds {IAM_PRINCIPAL} to trusted_services.", default=True)
        _variable(self, "accounts",
                 f'map(object({{email = string, organizational_unit = string, role_name = optional(string, "{DEFAULT_ROLE_NAME}"), '
                 "tags = optional(map(string), {})}))",
                 "Member accounts by account name: a unique root email (at most 64 characters), the OU "
                 "it belongs in (one of organizational_units), and the role Organizations creates in it.",
                 validation=[("${alltrue([for a in values(var.accounts) : length(a.email) <= 64])}",
                              "Account emails have at most 64 characters.")])
        OrganizationModule(self, "organization")
        _output(self, "organization_id", "${aws_organizations_organization.organization.id}", "The organization's id.")
        _output(self, "root_id", "${aws_organizations_organization.organization.roots[0].id}", "The root's id.")
        _output(self, "organizational_unit_ids", "${{for name, ou in aws_organizations_organizational_unit.ou : name => ou.id}}",
               "OU id by OU name.")
        _output(self, "account_ids", "${{for name, account in aws_organizations_account.account : name => account.id}}",
               "Account id by account name (for the providers of the account and iam modules).")

    def _account(self) -> None:
        alias = _variable(self, "alias", "string",
                          "The account alias: the console sign-in URL https://<alias>.signin.aws.amazon.com/console. "
                         "3-63 lower-case letters, digits and single hyphens, unique across AWS.",
                         validation=[('${can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.alias)) && !strcontains(var.alias, "--")}',
                                      "The alias must be 3-63 lower-case letters, digits and single hyphens.")])
        _variable(self, "password_policy", _password_policy_type(),
                  "The IAM password policy, with org.yaml's password_policy keys and defaults; 0 turns "
                  "reuse_prevention / max_age_days off.", default=PasswordPolicySpec().model_dump())

        hints = get_type_hints(PasswordPolicy)

        def setting(key: str):
            value = f"var.password_policy.{key}"
            if hints[key] is bool:
                return Token.as_any(f"${{{value}}}")
            # 0 means "off": the API rejects 0 for these two, null leaves them unset (as in the stacks).
            zero_is_off = key in ("reuse_prevention", "max_age_days")
            return Token.as_number(f"${{{value} == 0 ? null : {value}}}" if zero_is_off else f"${{{value}}}")

        AccountBaseline(self, "baseline", alias.string_value,
                        PasswordPolicy(**{field.name: setting(field.name) for field in dataclasses.fields(PasswordPolicy)}))
        _output(self, "alias", "${aws_iam_account_alias.alias.account_alias}", "The account alias.")

    def _iam(self) -> None:
        _variable(self, "groups", "map(object({policies = optional(list(string), [])}))",
                 "IAM groups by name, each with the ARNs of the managed policies it carries.",
                 validation=[("${length(var.groups) > 0}", "Give at least one group.")])
        _variable(self, "users",
                 "map(object({groups = optional(list(string), []), console = optional(bool, true), pgp_key = optional(string)}))",
                 "IAM users by name: their groups (keys of groups), whether they get a console login "
                 "(password reset at first sign-in), and an optional PGP key (keybase:NAME or base64) "
                 "encrypting the initial password in state.", default={})
        _variable(self, "mfa_required", "bool",
                 "Deny everything but MFA self-service until a user signs in with MFA, and give each "
                 "group a <group>-mfa role only its members can assume with MFA.", default=True)
        IamModule(self, "iam")
        _output(self, "user_arns", "${{for name, user in aws_iam_user.user : name => user.arn}}", "User ARN by user name.")
        _output(self, "group_names", "${[for name, group in aws_iam_group.group : group.name]}", "The groups' names.")
        _output(self, "mfa_role_arns", "${{for name, role in aws_iam_role.mfa_role : name => role.arn}}",
               "ARN of each group's MFA role by group name (empty without mfa_required).")



    def _guardrails(self) -> None:
        _variable(self, "organization_id", "string",
                  "The organization's id (the organization module's organization_id): the data perimeter lets "
                  "its principals in.")
        _variable(self, "centralized_root", "bool",
                  "As the organization module's: deny_root_user then still lets the management account's root "
                  "sessions (sts:AssumeRoot) act in member accounts.", default=True)
        _variable(self, "service_control_policies",
                  f'map(object({{targets = map(string), description = optional(string, "awsenvs guardrails"), '
                  "deny_leave_organization = optional(bool, true), protect_baseline = optional(bool, true), "
                  f'managing_roles = optional(list(string), ["{DEFAULT_ROLE_NAME}"]), mfa_roles = optional(list(string), []), '
                  "deny_root_user = optional(bool, true), allowed_regions = optional(list(string), [])}))",
                  "SCPs by policy name (awsenvs names them awsenvs-<product>-guardrails): the OU or account ids "
                  "they are attached to (targets, by a label of yours), and their guardrails. protect_baseline: "
                  "only managing_roles may change those roles, the alias and password policy, and (with "
                  "mfa_roles, the iam module's <group>-mfa roles of accounts with mfa_required) those roles and "
                  "the MFA policy and group. allowed_regions: empty allows every region.", default={},
                  validation=[("${alltrue([for p in values(var.service_control_policies) : "
                               "p.deny_leave_organization || p.protect_baseline || p.deny_root_user || "
                               "length(p.allowed_regions) > 0])}", "A service control policy needs at least one guardrail on.")])
        _variable(self, "data_perimeters",
                  'map(object({targets = map(string), description = optional(string, "awsenvs data perimeter"), '
                  "trusted_accounts = optional(list(string), [])}))",
                  "Data perimeter RCPs by policy name (awsenvs names them awsenvs-<product>-data-perimeter): the "
                  "OU or account ids they are attached to, and the outside accounts whose principals may still "
                  "reach the resources.", default={},
                  validation=[("${alltrue([for p in values(var.data_perimeters) : "
                               'alltrue([for a in p.trusted_accounts : can(regex("^[0-9]{12}$", a))])])}',
                               "trusted_accounts are 12-digit account ids.")])
        GuardrailsModule(self, "guardrails")
        _output(self, "service_control_policy_ids", "${{for name, policy in aws_organizations_policy.scp : name => policy.id}}",
                "SCP id by policy name.")
        _output(self, "data_perimeter_policy_ids",
                "${{for name, policy in aws_organizations_policy.data_perimeter : name => policy.id}}", "RCP id by policy name.")

    def _account_settings(self) -> None:
        kinds = ", ".join(f'"{kind}"' for kind in CONTACT_KINDS)
        regions = ", ".join(f'"{region}"' for region in sorted(OPT_IN_REGIONS))
        _variable(self, "accounts",
                  "map(object({account_id = string, contacts = optional(map(object({name = string, title = string, "
                  "email = string, phone = string})), {}), regions = optional(list(string), []), "
                  "disable_regions = optional(list(string), [])}))",
                  f"Member accounts by a label of yours (e.g. the account name): the account id, its alternate "
                  f"contacts by kind ({', '.join(CONTACT_KINDS)}), the opt-in regions to enable and those to "
                  "disable (a region listed in neither is left as it is).",
                  validation=[(f"${{alltrue([for a in values(var.accounts) : alltrue([for kind in keys(a.contacts) : "
                               f"contains([{kinds}], kind)])])}}",
                               f"Contact kinds are {', '.join(CONTACT_KINDS)}."),
                              (f"${{alltrue([for a in values(var.accounts) : alltrue([for r in concat(a.regions, "
                               f"a.disable_regions) : contains([{regions}], r)])])}}",
                               "regions and disable_regions list opt-in regions only (the others are always on).")])
        AccountSettingsModule(self, "account-settings")
        _output(self, "region_status", "${{for key, region in aws_account_region.region : key => region.opt_status}}",
                "Each listed region's opt status, by `<label>/<region>`.")

    def _identity_center(self) -> None:
        _variable(self, "groups",
                  f"map(object({{policies = optional(list(string), []), session_hours = optional(number, {DEFAULT_SESSION_HOURS}), description = optional(string)}}))",
                  "Groups by name, each an identity-store group and a permission set of the same name with these "
                  "managed policy ARNs and session length (hours).",
                  validation=[("${alltrue([for name, g in var.groups : length(name) <= 32 && g.session_hours >= 1 && "
                               "g.session_hours <= 12])}",
                               "Group names have at most 32 characters (permission set names) and sessions 1-12 hours.")])
        _variable(self, "users", "map(object({display_name = string, email = string, groups = optional(list(string), [])}))",
                  "People by user name (what they sign in with): their display name (`Given Family`), email "
                  "and groups. Users made through the API get no password and no email: turn on \"Send email "
                  "OTP\" once (Settings > Authentication > Standard authentication) or reset each one's password "
                  "in the console.", default={})
        _variable(self, "assignments", "map(object({user = string, group = string, account_id = string}))",
                  "Access by a label of yours known at plan time (e.g. shop-dev/maria/sysadmins): a user gets a "
                  "group's permission set in an account.", default={})
        IdentityCenterModule(self, "identity-center")
        store = "tolist(data.aws_ssoadmin_instances.identity_center.identity_store_ids)[0]"
        _output(self, "identity_store_id", f"${{{store}}}", "The identity store id.")
        _output(self, "instance_arn", "${tolist(data.aws_ssoadmin_instances.identity_center.arns)[0]}",
                "The Identity Center instance's ARN.")
        _output(self, "portal_url", f"https://${{{store}}}.awsapps.com/start",
                "The AWS access portal, where people sign in (if no alias is set for it).")
        _output(self, "permission_set_arns", "${{for name, set in aws_ssoadmin_permission_set.permission_set : name => set.arn}}",
                "Permission set ARN by group name.")
        _output(self, "user_ids", "${{for name, user in aws_identitystore_user.user : name => user.user_id}}",
                "Identity-store user id by user name.")
