"""From a validated `OrgSpec` to the `Org` model: every derived name, and the rules across fields."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from awsenvs.config.errors import ConfigError
from awsenvs.config.model import (
    BreakGlass,
    Budget,
    Contact,
    DataPerimeter,
    Elevation,
    Environment,
    GitHubCi,
    Group,
    Guardrails,
    Org,
    PasswordPolicy,
    Product,
    StateConfig,
    Unmanaged,
    User,
)
from awsenvs.config.names import (
    ACCOUNT_EMAIL_MAX,
    ACCOUNT_NAME_MAX,
    ACCOUNT_PRINCIPAL,
    CONTACT_KINDS,
    ALIAS_RE,
    BUCKET_RE,
    CRON_RE,
    GITHUB_BRANCH_RE,
    GITHUB_ENVIRONMENT_RE,
    GITHUB_REPOSITORY_RE,
    HOSTNAME_RE,
    DEFAULT_ROLE_NAME,
    DEFAULT_SESSION_HOURS,
    ELEVATION_MAX_SECONDS,
    ELEVATION_MIN_SECONDS,
    IAM_GROUP_RE,
    IAM_ROLE_RE,
    IAM_PRINCIPAL,
    IAM_USER_RE,
    IDENTITY_CENTER_PRINCIPAL,
    MANAGEMENT_STACK,
    MFA_GROUP_NAME,
    NAME_RE,
    OPT_IN_REGIONS,
    PERMISSION_SET_DESCRIPTION_RE,
    PERMISSION_SET_RE,
    PROFILE_RE,
    REGION_RE,
    RESOURCE_CONTROL_POLICY,
    START_URL_RE,
    SERVICE_CONTROL_POLICY,
    SUSPENDED_OU,
    TFC_ORGANIZATION_RE,
    TFC_PROJECT_RE,
    WORKSPACE_RE,
    duration_seconds,
    default_alias,
    tf_name,
)
from awsenvs.config.schema import BudgetSpec, ContactsSpec, ElevationSpec, EnvironmentSpec, GuardrailsSpec, OrgSpec, ProductSpec, UserSpec


@lru_cache(maxsize=1)
def known_regions() -> dict[str, str]:
    """Region -> partition (`aws`, `aws-cn`, ...) for every region botocore knows: what
    `allowed_regions` may name.  Read from botocore's endpoints data file, which each release
    refreshes (a data file, no AWS call: botocore is installed with boto3 anyway)."""
    import botocore

    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    return {region: partition["partition"] for partition in data["partitions"] for region in partition["regions"]}


def _elevation(fail, epath: str, env_spec: EnvironmentSpec, users, identity_center: bool, backend: str) -> Elevation:
    """The environment's `elevation` (default: 4 hours, no approvers), and what eligible
    groups need: with IAM users an MFA role to grant (`mfa: required`; Identity Center asks
    for MFA at sign-in), and a place beside the state for the record (not Terraform Cloud)."""
    spec = env_spec.elevation or ElevationSpec()
    eligible = next((u for u in users if u.eligible), None)
    if env_spec.elevation is not None and eligible is None:
        fail(f"{epath}.elevation", "no user of this environment has eligible groups: add `eligible: [GROUP]` to a "
                                   "user, or remove elevation")
    seconds = duration_seconds(spec.max)
    if not ELEVATION_MIN_SECONDS <= seconds <= ELEVATION_MAX_SECONDS:
        fail(f"{epath}.elevation.max", f"{spec.max!r}: a grant lasts 15m to 12h (the longest session AWS gives a role "
                                       "or permission set); longer is standing access: put the group in the user's groups")
    if eligible is not None:
        where = f"{epath}.users.{eligible.name}.eligible"
        if not identity_center and env_spec.mfa != "required":
            fail(where, "eligible groups need mfa: required (a grant is a statement in the group's MFA role trust, "
                        "which exists only there): set mfa: required, or assign the group instead")
        if backend == "cloud":
            fail(where, "eligible groups keep their grants beside the state (the state folder, or the S3 state "
                        "bucket), and Terraform Cloud keeps no files of awsenvs': use s3 or local state, or assign "
                        "the group instead")
    return Elevation(seconds, tuple(dict.fromkeys(spec.approvers)))


def _unmanaged(fail, epath: str, env_spec: EnvironmentSpec, users, groups) -> Unmanaged:
    """`unmanaged`: with IAM users, what the account holds besides its managed users and groups
    (never one of them); with Identity Center, `groups` are those whose assignments in the
    account are left alone (they may be awsenvs' own groups)."""
    spec = env_spec.unmanaged
    if spec is None:
        return Unmanaged()
    for kind, names, managed in (("users", spec.users, {u.name for u in users}), ("groups", spec.groups, {g.name for g in groups})):
        both = sorted(set(names) & managed)
        if both:
            fail(f"{epath}.unmanaged.{kind}", f"{both[0]!r} is managed here too: remove it from one of them")
    return Unmanaged(tuple(spec.users), tuple(spec.groups), tuple(spec.policies))


def _budget(spec: BudgetSpec | None) -> Budget | None:
    if spec is None:
        return None
    return Budget(monthly_usd=spec.monthly_usd, alert_emails=tuple(dict.fromkeys(spec.alert_emails)),
                  thresholds_percent=tuple(sorted(set(spec.thresholds_percent))))


def _overridden(default, override, key: str):
    """`key` of the most specific spec that sets it (`budget: null` sets it to none)."""
    return getattr(override, key) if key in override.model_fields_set else default


def _contacts(levels: list[ContactsSpec | None]) -> tuple[Contact, ...]:
    """Each kind from the most specific `contacts` block that sets it (org, product,
    environment; `kind: null` there: none)."""
    chosen: dict[str, object] = {}
    for spec in levels:
        if spec is not None:
            chosen.update({kind: getattr(spec, kind) for kind in CONTACT_KINDS if kind in spec.model_fields_set})
    return tuple(Contact(kind, c.name, c.title, c.email, c.phone) for kind, c in chosen.items() if c is not None)


def _regions(fail, epath: str, ppath: str, key: str, top: OrgSpec, product: ProductSpec, env: EnvironmentSpec,
             guardrails: Guardrails | None, home: str) -> tuple[str, ...]:
    """`regions` or `disable_regions` of an environment (the most specific list wins), each an
    opt-in region inside the product's allowed_regions; problems name where the list is."""
    where, listed = next(((path, getattr(spec, key)) for path, spec in ((epath, env), (ppath, product), ("", top))
                          if key in spec.model_fields_set), ("", None))
    field = f"{where}.{key}" if where else key
    for region in listed or ():
        if region not in known_regions():
            fail(field, f"{region!r} is not an AWS region (e.g. af-south-1, eu-south-2)")
        elif region not in OPT_IN_REGIONS:
            fail(field, f"{region!r} is enabled in every account by default (not an opt-in region) and cannot be "
                        f"{'disabled' if key == 'disable_regions' else 'enabled'}: remove it")
        elif guardrails is not None and guardrails.allowed_regions and region not in guardrails.allowed_regions \
                and key == "regions":
            fail(field, f"{region!r} is outside the guardrails' allowed_regions of {ppath.split('.')[-1]} (it would be "
                        "enabled, then denied): add it there, or remove it here")
        elif key == "disable_regions" and region == home:
            fail(field, f"{region!r} is the environment's own region ({epath}): its stack works there; keep it")
    return tuple(dict.fromkeys(listed or ()))


def _check_cloud(fail, state: StateConfig, management_account_id: str | None, envs: list[Environment]) -> None:
    """What a remote run (state.backend: cloud) needs that a local one does not."""
    # A remote run has no local guard in front of it: each stack checks the account it
    # runs in (awsenvs/stacks.py), and the management stack can only check against this.
    if management_account_id is None:
        fail("organization.management_account_id", "required with state.backend cloud: remote runs have no "
                   "local guard, so each stack checks the account it runs in against it; set it to your management "
                   "account's id")
    for env in envs:
        if env.cli_profile:
            fail(f"products.{env.product}.environments.{env.name}.profile",
                       "state.backend cloud runs remotely, where there is no ~/.aws/config to read a profile from: "
                       "reach this account through a role instead (remove profile; set role_name), or keep state in s3")
    for stack in [MANAGEMENT_STACK, *(env.stack for env in envs)]:
        workspace = state.workspace(stack)
        if not WORKSPACE_RE.match(workspace):
            fail("state.cloud.workspace_prefix", f"workspace {workspace!r}: letters, digits, '-' and '_' only (max 90)")
        if not IAM_ROLE_RE.match(state.run_role_name(stack)):
            fail("state.cloud.workspace_prefix", f"the run role of workspace {workspace!r}, {state.run_role_name(stack)}, "
                       "is longer than 64 characters (IAM's limit): use a shorter workspace_prefix")
    if not HOSTNAME_RE.match(state.cloud.hostname):
        fail("state.cloud.hostname", f"{state.cloud.hostname!r} is not a host name (e.g. app.terraform.io; no scheme, no port)")
    if not TFC_ORGANIZATION_RE.match(state.cloud.organization):
        fail("state.cloud.organization", f"{state.cloud.organization!r}: letters, digits, '-' and '_' only (max 40)")
    if state.cloud.project is not None and not TFC_PROJECT_RE.match(state.cloud.project):
        fail("state.cloud.project", f"{state.cloud.project!r}: letters, digits, spaces, '-' and '_' only (max 40)")


def _github(fail, spec: OrgSpec, backend: str, management_account_id: str | None) -> GitHubCi | None:
    """ci.github, checked: its names become the roles' trust subjects (StringEquals)."""
    github = spec.ci.github if spec.ci is not None else None
    if github is None:
        return None
    if backend == "local":
        fail("ci.github", "needs state.backend s3 or cloud: CI runners keep no files between runs, so a local state "
                          "would be lost with the runner; set state.backend (then run bootstrap)")
    elif management_account_id is None and backend != "cloud":  # cloud's own rule says it already
        fail("organization.management_account_id", "required with ci.github: each account's read-only role for "
                                                   "pull requests trusts the GitHub plan role in the management account "
                                                   "by its ARN, and the roles' policies name it; set it to your "
                                                   "management account's id")
    if not GITHUB_REPOSITORY_RE.match(github.repository):
        fail("ci.github.repository", f"{github.repository!r} is not OWNER/NAME of a GitHub repository (e.g. acme/infra)")
    if not GITHUB_BRANCH_RE.match(github.default_branch):
        fail("ci.github.default_branch", f"{github.default_branch!r} is not a branch name (letters, digits, '.', '_', "
                                         "'-', '/')")
    for key in ("environment", "protected_environment"):
        if not GITHUB_ENVIRONMENT_RE.match(getattr(github, key)):
            fail(f"ci.github.{key}", f"{getattr(github, key)!r}: letters, digits, '.', '_' and '-' only")
    if github.environment == github.protected_environment:
        fail("ci.github.protected_environment", f"must differ from ci.github.environment ({github.environment!r}): "
                                                "only it requires a reviewer")
    if not CRON_RE.match(github.drift.schedule):
        fail("ci.github.drift.schedule", f"{github.drift.schedule!r} is not a cron expression (five fields, e.g. "
                                         "'23 4 * * *', in UTC)")
    return GitHubCi(github.repository, github.default_branch, github.environment, github.protected_environment,
                    github.drift.schedule, github.drift.plan_all)


def _derive(spec: OrgSpec, path: Path) -> Org:
    """Every rule is checked and every problem collected, so that one `validate` names them
    all (ConfigError.problems); the model is built only when there are none."""
    source = path.name
    problems: list[str] = []

    def fail(field_path: str, message: str) -> None:
        problems.append(f"{source}: {field_path}: {message}")

    org = spec.organization
    if not NAME_RE.match(org.name.lower().replace(".", "-")):
        fail("organization.name", f"{org.name!r} must start with a letter and use letters, digits, '-' or '_' (max 31)")
    if not REGION_RE.match(org.region):
        fail("organization.region", f"{org.region!r} is not an AWS region name (e.g. eu-west-1)")
    if not spec.products:
        fail("products", "empty: define at least one product with one environment")

    for kind in ("trusted_services", "policy_types"):
        both = set(getattr(org, kind)) & set(getattr(org, f"disable_{kind}"))
        if both:
            fail(f"organization.disable_{kind}", f"{sorted(both)[0]!r} is also listed in organization.{kind}: keep it in one of them")

    identity_center = org.access == "identity_center"
    if identity_center and IDENTITY_CENTER_PRINCIPAL in org.disable_trusted_services:
        fail("organization.disable_trusted_services",
                   f"{IDENTITY_CENTER_PRINCIPAL!r}: access identity_center needs Identity Center's trusted access; keep it")
    if org.sso_start_url is not None and not START_URL_RE.match(org.sso_start_url):
        fail("organization.sso_start_url", f"{org.sso_start_url!r} is not the access portal's URL (https://<subdomain>"
                                           ".awsapps.com/start: IAM Identity Center > Settings > Identity source)")
    if org.sso_start_url is not None and not identity_center:
        fail("organization.sso_start_url", "only for organization.access identity_center (the access portal); remove it")
    if org.centralized_root and IAM_PRINCIPAL in org.disable_trusted_services:
        fail("organization.disable_trusted_services",
                   f"{IAM_PRINCIPAL!r}: organization.centralized_root needs IAM's trusted access; keep it, "
                   "or set centralized_root: false")
    groups: dict[str, Group] = {}
    for name, group_spec in spec.groups.items():
        if not IAM_GROUP_RE.match(name):
            fail(f"groups.{name}", "not a valid IAM group name (1-128 of letters, digits and +=,.@_-)")
        if name == MFA_GROUP_NAME:
            fail(f"groups.{name}", "this name is reserved for the group awsenvs puts every user of an mfa: required account in; rename yours")
        if len(f"{name}-mfa") > 64:
            fail(f"groups.{name}", "too long: its MFA role <group>-mfa must fit IAM's 64 characters (use at most 60)")
        if identity_center and not PERMISSION_SET_RE.match(name):
            fail(f"groups.{name}", "access identity_center makes it a permission set name: 1-32 of letters, digits and +=,.@_- (rename it)")
        policy_names = [arn.rsplit("/", 1)[-1] for arn in group_spec.policies]
        twice = next((n for n in policy_names if policy_names.count(n) > 1), None)
        if twice:  # the attachments' Terraform names are the group's and the policy's
            fail(f"groups.{name}.policies", f"two policies named {twice!r}: awsenvs names attachments by policy name; keep one")
        if identity_center:
            customer = next((arn for arn in group_spec.policies if ":iam::aws:policy/" not in arn), None)
            if customer:  # AttachManagedPolicyToPermissionSet takes AWS managed policies only
                fail(f"groups.{name}.policies", f"{customer!r}: with access identity_center only AWS managed policies "
                                                      "(arn:aws:iam::aws:policy/...) can be attached to a permission set")
        if group_spec.session_hours is not None and not identity_center:
            fail(f"groups.{name}.session_hours", "only for organization.access identity_center (the permission set's session); remove it")
        if group_spec.description is not None and not identity_center:
            fail(f"groups.{name}.description", "only for organization.access identity_center (the permission set's "
                                               "description); remove it")
        elif group_spec.description is not None and not PERMISSION_SET_DESCRIPTION_RE.match(group_spec.description):
            odd = next((c for c in group_spec.description if not PERMISSION_SET_DESCRIPTION_RE.match(c)), "")
            fail(f"groups.{name}.description", f"AWS takes only tabs, line breaks and printable Latin-1 characters in a "
                                               f"permission set's description: {odd!r} is not one; rewrite it")
        groups[name] = Group(name=name, policies=tuple(group_spec.policies),
                             session_hours=group_spec.session_hours or DEFAULT_SESSION_HOURS,
                             description=group_spec.description)

    def user(field_path: str, name: str, user_spec: UserSpec) -> User:
        if not IAM_USER_RE.match(name):
            fail(field_path, "not a valid IAM user name (1-64 of letters, digits and +=,.@_-)")
        for group in user_spec.groups:
            if group not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                fail(f"{field_path}.groups", f"unknown group {group!r} (groups: {known}); define it under groups")
        if identity_center:
            for key, what in (("email", "their Identity Center sign-in email"), ("name", "their display name, e.g. 'Maria Lopez'")):
                if getattr(user_spec, key) is None:
                    fail(f"{field_path}.{key}", f"organization.access identity_center needs each user's {key}: {what}")
        for group in user_spec.eligible:
            if group not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                fail(f"{field_path}.eligible", f"unknown group {group!r} (groups: {known}); define it under groups")
            elif group in user_spec.groups:
                fail(f"{field_path}.eligible", f"{group!r} is one of the user's groups already (standing access): "
                                               "keep it in groups or in eligible, not both")
        # An unknown group is reported above and left out: the rest of the checks go on.
        return User(name=name, groups=tuple(g for g in user_spec.groups if g in groups), console=user_spec.console,
                    pgp_key=user_spec.pgp_key, email=user_spec.email, display_name=user_spec.name,
                    eligible=tuple(dict.fromkeys(g for g in user_spec.eligible if g in groups)))

    local, domain = org.email.split("@", 1)
    products: list[Product] = []
    user_definitions: dict[str, User] = {}  # field path where a user is written -> that user
    for product_name, product_spec in spec.products.items():
        ppath = f"products.{product_name}"
        if not NAME_RE.match(product_name):
            fail(ppath, "product names start with a lowercase letter and use a-z, 0-9, '-' or '_' (max 31)")
        if not product_spec.environments:
            fail(f"{ppath}.environments", "empty: a product needs at least one environment")
        product_users = {
            name: user(f"{ppath}.users.{name}", name, user_spec) for name, user_spec in product_spec.users.items()
        }
        envs: list[Environment] = []
        env_specs: dict[str, EnvironmentSpec] = {}
        for env_name, env_spec in product_spec.environments.items():
            epath = f"{ppath}.environments.{env_name}"
            env_spec = env_spec or EnvironmentSpec()
            if not NAME_RE.match(env_name):
                fail(epath, "environment names start with a lowercase letter and use a-z, 0-9, '-' or '_' (max 31)")
            dashed = f"{product_name}-{env_name}".replace("_", "-")

            if env_spec.users is None:
                users = tuple(product_users.values())
            elif isinstance(env_spec.users, list):
                for name in env_spec.users:
                    if name not in product_users:
                        fail(f"{epath}.users", f"user {name!r} is not defined under {ppath}.users")
                users = tuple(product_users[name] for name in env_spec.users if name in product_users)
            else:
                users = tuple(user(f"{epath}.users.{n}", n, s) for n, s in env_spec.users.items())
            _unique_tf_names(fail, f"{epath}.users", [u.name for u in users])
            # Where each user in use is written: the product's users, or the environment's own.
            users_path = f"{epath}.users" if isinstance(env_spec.users, dict) else f"{ppath}.users"
            for u in users:
                user_definitions.setdefault(f"{users_path}.{u.name}", u)

            email = env_spec.email or f"{local}{'-' if '+' in local else '+'}{dashed}@{domain}"
            if len(email) > ACCOUNT_EMAIL_MAX:
                fail(f"{epath}.email", f"{email!r} is longer than {ACCOUNT_EMAIL_MAX} characters; set a shorter one")
            alias = env_spec.alias or default_alias(org.name, product_name, env_name)
            if not ALIAS_RE.match(alias):
                derived = "" if env_spec.alias else " (derived; set alias to override)"
                fail(f"{epath}.alias", f"{alias!r}{derived} must be 3-63 lowercase letters, digits or single hyphens, starting and ending with a letter or digit")
            account_name = env_spec.account_name or f"{product_name}_{env_name}"
            if not 1 <= len(account_name) <= ACCOUNT_NAME_MAX:
                fail(f"{epath}.account_name", f"{account_name!r} must be 1-{ACCOUNT_NAME_MAX} characters")
            role_name = env_spec.role_name or DEFAULT_ROLE_NAME
            if not IAM_ROLE_RE.match(role_name):
                fail(f"{epath}.role_name", f"{role_name!r} is not a valid IAM role name")
            if env_spec.profile is not None:
                if not PROFILE_RE.match(env_spec.profile):
                    fail(f"{epath}.profile", f"{env_spec.profile!r} is not a valid CLI profile name")
                if env_spec.account_id is None:
                    fail(f"{epath}.profile", "a CLI profile is for an existing (invited) account: set account_id too")
                if env_spec.role_name is not None:
                    fail(f"{epath}.profile", "set either profile or role_name, not both")
            region = env_spec.region or org.region
            if env_spec.region is not None and not REGION_RE.match(region):  # an inherited one is reported once
                fail(f"{epath}.region", f"{region!r} is not an AWS region name (e.g. eu-west-1)")
            policy = env_spec.password_policy or spec.password_policy
            budget = _overridden(_overridden(spec.budget, product_spec, "budget"), env_spec, "budget")
            contacts = _contacts([org.contacts, product_spec.contacts, env_spec.contacts])
            # An eligible group's role is there before any grant (a grant is a statement in its trust).
            used_groups = tuple(groups[g] for g in dict.fromkeys(g for u in users for g in (*u.groups, *u.eligible)))
            elevation = _elevation(fail, epath, env_spec, users, identity_center, spec.state.backend)
            envs.append(
                Environment(
                    product=product_name,
                    name=env_name,
                    account_name=account_name,
                    email=email,
                    alias=alias,
                    stack=dashed,
                    mfa_required=env_spec.mfa == "required",
                    account_id=env_spec.account_id,
                    role_name=role_name,
                    cli_profile=env_spec.profile,
                    region=region,
                    users=users,
                    groups=used_groups,
                    password_policy=PasswordPolicy(**policy.model_dump()),
                    org_name=org.name,
                    budget=_budget(budget),
                    unmanaged=_unmanaged(fail, epath, env_spec, users, () if identity_center else used_groups),
                    contacts=contacts,
                    elevation=elevation,
                )
            )
            env_specs[env_name] = env_spec
        if "guardrails" in product_spec.model_fields_set and product_spec.guardrails is None:
            fail(f"{ppath}.guardrails", "null: set the guardrails to turn off to false instead "
                                              "(e.g. {deny_root_user: false}); a product without the key inherits the top-level ones")
        guardrails, data_perimeter = _guardrails(fail, ppath, spec.guardrails, product_spec.guardrails, envs)
        envs = _outside_data_perimeter(fail, ppath, product_name, data_perimeter, envs, env_specs)
        for i, env in enumerate(envs):  # opt-in regions: checked against the product's guardrails
            epath = f"{ppath}.environments.{env.name}"
            regions = {key: _regions(fail, epath, ppath, key, spec, product_spec, env_specs[env.name], guardrails, env.region)
                       for key in ("regions", "disable_regions")}
            both = sorted(set(regions["regions"]) & set(regions["disable_regions"]))
            if both:
                fail(f"{epath}.disable_regions", f"{both[0]!r} is also in its regions (to enable): keep it in one of them")
            envs[i] = replace(env, **regions)
        if product_spec.ou is not None and product_spec.ou.strip() != product_spec.ou:
            fail(f"{ppath}.ou", f"{product_spec.ou!r} starts or ends with a space; write the OU's name as AWS shows it")
        if product_spec.ou == SUSPENDED_OU:
            fail(f"{ppath}.ou", f"{SUSPENDED_OU!r} is where awsenvs parks retired accounts; choose another OU")
        products.append(Product(name=product_name, environments=tuple(envs), guardrails=guardrails, ou=product_spec.ou,
                                unmanaged_policies=tuple(product_spec.unmanaged.policies) if product_spec.unmanaged else (),
                                data_perimeter=data_perimeter))

    all_envs = [env for product in products for env in product.environments]
    _check_collisions(fail, all_envs, org.management_account_id)
    if identity_center:
        _check_people(fail, user_definitions)
    _unique_tf_names(fail, "products", [p.name for p in products])
    ou_names = [p.ou_name for p in products]
    for twice in sorted({n for n in ou_names if ou_names.count(n) > 1}):
        fail("products", f"two products use the OU {twice!r}: each product has an OU of its own (set ou: on one of them)")

    guarded = [p.name for p in products if p.guardrails is not None]
    if guarded and SERVICE_CONTROL_POLICY in org.disable_policy_types:
        fail("organization.disable_policy_types",
                   f"{SERVICE_CONTROL_POLICY!r}: the guardrails of {guarded[0]} are service control policies; keep it, "
                   f"or turn them off (guardrails: {{deny_leave_organization: false, protect_baseline: false, deny_root_user: false}})")

    perimeter = [p.name for p in products if p.data_perimeter is not None]
    if perimeter and RESOURCE_CONTROL_POLICY in org.disable_policy_types:
        fail("organization.disable_policy_types",
             f"{RESOURCE_CONTROL_POLICY!r}: the data perimeter of {perimeter[0]} is a resource control policy; keep it, "
             "or set guardrails.data_perimeter: false")
    account_settings = next((e.stack for e in all_envs if e.has_account_settings), None)
    if account_settings and ACCOUNT_PRINCIPAL in org.disable_trusted_services:
        fail("organization.disable_trusted_services",
             f"{ACCOUNT_PRINCIPAL!r}: the contacts and regions of {account_settings} are set through AWS Account "
             "Management's trusted access; keep it, or remove contacts and regions")

    state = spec.state
    if state.backend == "s3" and state.s3 is None:
        fail("state.s3", "backend s3 needs state.s3: {bucket: NAME, region: REGION}")
    if state.backend == "cloud" and state.cloud is None:
        fail("state.cloud", "backend cloud needs state.cloud: {organization: NAME}")
    if state.backend == "s3" and state.s3 is not None and not BUCKET_RE.match(state.s3.bucket):
        fail("state.s3.bucket", f"{state.s3.bucket!r} is not an S3 bucket name (3-63 lowercase letters, digits, '.' or '-')")
    if state.backend == "s3" and state.s3 is not None and not REGION_RE.match(state.s3.region):
        fail("state.s3.region", f"{state.s3.region!r} is not an AWS region name (e.g. eu-west-1)")
    state_config = StateConfig(
        backend=state.backend,
        local_dir=(path.parent / state.path / org.name).resolve(),
        s3=state.s3,
        cloud=state.cloud,
    )
    if state.backend == "cloud" and state.cloud is not None:
        _check_cloud(fail, state_config, org.management_account_id, all_envs)
    github = _github(fail, spec, state.backend, org.management_account_id)
    if problems:  # the model's own derivations below assume a valid org.yaml
        raise ConfigError.of(problems)
    model = Org(
        name=org.name,
        email=org.email,
        region=org.region,
        management_account_id=org.management_account_id,
        organization_id=org.organization_id,
        # Identity Center and centralized root access work only with their trusted access on,
        # guardrails only with SCPs enabled: added when missing.
        trusted_services=tuple(dict.fromkeys([*org.trusted_services, *([IDENTITY_CENTER_PRINCIPAL] if identity_center else []),
                                              *([IAM_PRINCIPAL] if org.centralized_root else []),
                                              *([ACCOUNT_PRINCIPAL] if account_settings else [])])),
        policy_types=tuple(dict.fromkeys([*org.policy_types, *([SERVICE_CONTROL_POLICY] if guarded else []),
                                          *([RESOURCE_CONTROL_POLICY] if perimeter else [])])),
        disable_trusted_services=tuple(dict.fromkeys(org.disable_trusted_services)),
        disable_policy_types=tuple(dict.fromkeys(org.disable_policy_types)),
        state=state_config,
        groups=tuple(groups.values()),
        products=tuple(products),
        source=path,
        access=org.access,
        centralized_root=org.centralized_root,
        sso_start_url=org.sso_start_url.rstrip("/") if org.sso_start_url else None,
        on_retire=org.on_retire,
        github=github,
        break_glass=(BreakGlass(tuple(org.break_glass.users), org.break_glass.alert_email)
                     if org.break_glass is not None else None),
    )
    people = {person.name for person in model.people}
    if org.break_glass is not None:
        for name in org.break_glass.users:
            if not IAM_USER_RE.match(name):
                fail("organization.break_glass.users", f"{name!r} is not a valid IAM user name (1-64 of letters, digits "
                                                       "and +=,.@_-)")
            elif name in people:
                fail("organization.break_glass.users", f"{name!r} is also a user of a product: break-glass users stand "
                                                       "apart (no groups, no elevation); give the emergency user its own "
                                                       "name, e.g. breakglass-1")
        if len(set(org.break_glass.users)) != len(org.break_glass.users):
            fail("organization.break_glass.users", "a name is listed twice: list each emergency user once")
    for env in model.environments:
        for approver in env.elevation.approvers:
            if approver not in people:
                fail(f"products.{env.product}.environments.{env.name}.elevation.approvers",
                     f"{approver!r} is not a user of the organization (users: {', '.join(sorted(people)) or 'none'})")
    if identity_center:
        # One namespace for the whole organization in the management stack: Terraform names
        # that collide there would merge two people (or groups) into one resource.
        people_unique = _unique_tf_names(fail, "users", [person.name for person in model.people])
        groups_unique = _unique_tf_names(fail, "groups", [group.name for group in model.groups])
        if people_unique and groups_unique:  # else the memberships collide because of those
            _unique_tf_names(fail, "users", [f"{group}_{person.name}" for person in model.people for group in person.groups])
        profiles: dict[str, str] = {}
        names: dict[str, str] = {}
        for assignment in (*model.assignments, *model.eligible_assignments):
            env = assignment.environment
            where = f"products.{env.product}.environments.{env.name}.users.{assignment.user.name}"
            other = names.setdefault(assignment.tf_name, where)
            if other != where:
                fail(where, f"its access to {env.stack} as {assignment.group.name} gets the Terraform name "
                                  f"{assignment.tf_name!r}, like {other}'s; rename a user, group or environment")
            clash = profiles.setdefault(assignment.profile_name, where)
            if clash != where:
                fail(where, f"its profile {assignment.profile_name!r} (for group {assignment.group.name}) "
                                  f"collides with {clash}'s; rename a user or a group")
    if problems:
        raise ConfigError.of(problems)
    return model


def _guardrails(fail, ppath: str, organization_wide: GuardrailsSpec, product: GuardrailsSpec | None,
                envs: list[Environment]) -> tuple[Guardrails | None, DataPerimeter | None]:
    """The product's guardrails (its SCP; None when all are off) and data perimeter (its RCP;
    None when off): org.yaml's top-level block with the keys the product sets."""
    values = organization_wide.model_dump()
    if product is not None:
        values.update(product.model_dump(include=product.model_fields_set))

    def where(key: str) -> str:  # the block the value came from
        return f"{ppath}.guardrails.{key}" if product is not None and key in product.model_fields_set else f"guardrails.{key}"

    regions = values["allowed_regions"]
    if regions is not None and not regions:
        fail(where("allowed_regions"), "empty: it would deny every region; list regions, or remove the key for all")
    elif regions is not None:
        unknown = [r for r in regions if r not in known_regions()]
        if unknown:
            fail(where("allowed_regions"), f"{unknown[0]!r} is not an AWS region (e.g. eu-west-1, us-east-1)")
        partitions = sorted({known_regions()[r] for r in regions if r in known_regions()})
        if len(partitions) > 1:
            fail(where("allowed_regions"), f"mixes partitions ({', '.join(partitions)}): an organization lives in one")
        outside = next((env for env in envs if env.region not in regions), None)
        if outside is not None:
            fail(where("allowed_regions"),
                       f"{outside.stack} works in {outside.region}, which the guardrail would deny (its own stack could "
                       f"not apply there): add {outside.region}, or set that environment's region")
    if values["protect_baseline"]:
        through_profile = next((env for env in envs if env.cli_profile is not None), None)
        if through_profile is not None:
            fail(where("protect_baseline"),
                       f"would lock the runner out of {through_profile.stack}: it is managed through the CLI profile "
                       f"{through_profile.cli_profile!r}, not a role the policy can exempt, so its own applies would be "
                       f"denied; set protect_baseline: false under {ppath}.guardrails, or give it a role_name")
    guardrails = Guardrails(
        deny_leave_organization=values["deny_leave_organization"],
        protect_baseline=values["protect_baseline"],
        deny_root_user=values["deny_root_user"],
        allowed_regions=tuple(dict.fromkeys(regions or ())),
    )
    perimeter = values["data_perimeter"]
    data_perimeter = None
    if perimeter is not None:
        trusted = perimeter["trusted_accounts"]
        own = next((env for env in envs if env.account_id in trusted), None)
        if own is not None:
            fail(where("data_perimeter"), f"{own.account_id} is {own.stack}, inside the organization: list only "
                                          "outside accounts under trusted_accounts")
        data_perimeter = DataPerimeter(tuple(dict.fromkeys(trusted)))
    return (guardrails if guardrails.enabled else None), data_perimeter


def _outside_data_perimeter(fail, ppath: str, product: str, perimeter: DataPerimeter | None, envs: list[Environment],
                            env_specs: dict[str, EnvironmentSpec]) -> list[Environment]:
    """An environment's `data_perimeter: false` keeps its account out of the product's data
    perimeter; `true` only says it is in one, so the product must have it, and a product whose
    every account is out has no perimeter to attach."""
    for env in envs:
        if env_specs[env.name].data_perimeter and perimeter is None:
            fail(f"{ppath}.environments.{env.name}.data_perimeter", f"true, but {product} has no data perimeter: turn it "
                 f"on under {ppath}.guardrails (or guardrails); an environment can only leave its product's")
    out = [env.name for env in envs if env_specs[env.name].data_perimeter is False]
    if perimeter is not None and envs and len(out) == len(envs):
        fail(f"{ppath}.environments.{out[-1]}.data_perimeter",
             f"false for every environment of {product}: set {ppath}.guardrails.data_perimeter: false instead")
    return [replace(env, outside_data_perimeter=env.name in out) for env in envs]


def _check_collisions(fail, envs: list[Environment], management_account_id: str | None) -> None:
    """Derived names must stay unique: AWS needs unique emails and aliases, we need unique stacks."""
    reported: set[tuple[str, str]] = set()
    for attribute, what in (
        ("stack", "stack name"),
        ("account_name", "account name"),
        ("alias", "account alias"),
        ("tf_name", "Terraform name"),
    ):
        seen: dict[str, Environment] = {}
        for env in envs:
            value = getattr(env, attribute)
            other = seen.get(value)
            # One line per pair of environments: names derived alike collide in several ways.
            if other is not None and (env.stack, other.stack) not in reported:
                reported.add((env.stack, other.stack))
                fail(
                    f"products.{env.product}.environments.{env.name}",
                    f"{what} {value!r} collides with products.{other.product}.environments.{other.name}; rename one",
                )
            seen[value] = env
    emails: dict[str, Environment] = {}
    for env in envs:
        key = env.email.lower()  # AWS compares root emails case-insensitively
        other = emails.get(key)
        if other is not None and (env.stack, other.stack) not in reported:
            fail(
                f"products.{env.product}.environments.{env.name}.email",
                f"{env.email!r} is already the root email of products.{other.product}.environments.{other.name}; each account needs its own",
            )
        emails[key] = env
    ids: dict[str, Environment] = {}
    for env in envs:
        if env.account_id is None:
            continue
        if env.account_id == management_account_id:
            fail(
                f"products.{env.product}.environments.{env.name}.account_id",
                f"{env.account_id} is the management account; environments need member accounts",
            )
        if env.account_id in ids:
            other = ids[env.account_id]
            fail(
                f"products.{env.product}.environments.{env.name}.account_id",
                f"{env.account_id} is already used by products.{other.product}.environments.{other.name}",
            )
        ids[env.account_id] = env
    stacks = {env.stack for env in envs}
    if MANAGEMENT_STACK in stacks:
        fail("products", f"no environment may derive the stack name {MANAGEMENT_STACK!r}")


def _check_people(fail, definitions: dict[str, User]) -> None:
    """identity_center: one identity per user name, so every definition of a user (keyed by
    the field path where org.yaml writes it) must agree on email and display name, and two
    people cannot share an email.  A definition used by several environments is checked
    once, at the place the user wrote it."""
    first: dict[str, tuple[str, User]] = {}
    emails: dict[str, str] = {}
    for where, user in definitions.items():
        if user.name in first:
            other_where, other = first[user.name]
            differing = [(key, label) for key, label in (("email", "email"), ("display_name", "name"))
                         if getattr(user, key) != getattr(other, key) and getattr(user, key) is not None
                         and getattr(other, key) is not None]  # a missing one is reported already
            if len(differing) == 1:
                key, label = differing[0]
                fail(f"{where}.{label}", f"{getattr(user, key)!r} differs from {other_where}.{label} "
                                         f"({getattr(other, key)!r}): one person is one Identity Center user; "
                                         "write the same in both places")
            elif differing:
                values = ", ".join(f"{label} {getattr(user, key)!r}" for key, label in differing)
                others = ", ".join(f"{label} {getattr(other, key)!r}" for key, label in differing)
                fail(where, f"{values} differ from {other_where} ({others}): one person is one Identity Center "
                            "user; write the same in both places")
            continue
        first[user.name] = (where, user)
        if user.email is None:  # reported as missing already
            continue
        owner = emails.setdefault(user.email.lower(), user.name)
        if owner != user.name:
            fail(f"{where}.email", f"{user.email!r} is already {owner!r}'s email; each person needs their own")


def _unique_tf_names(fail, field_path: str, names: list[str]) -> bool:
    """Whether the names stay apart once made Terraform names (each collision is reported)."""
    seen: dict[str, str] = {}
    unique = True
    for name in names:
        key = tf_name(name)
        if key in seen:
            fail(f"{field_path}.{name}", f"collides with {seen[key]!r} once made a Terraform name; rename one")
            unique = False
        seen[key] = name
    return unique
