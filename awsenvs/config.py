"""org.yaml: load, validate, and derive every name once.

Everything else in awsenvs (stacks, runner, profiles, tree, audit) reads the frozen
`Org` model built here; nothing else derives an account name, email, alias, stack or
profile on its own.  Errors are `ConfigError`: one line, naming the field path.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Sequence, get_args

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError

MANAGEMENT_STACK = "management"
DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
MANAGED_BY = "awsenvs"
MFA_POLICY_NAME = "awsenvs-require-mfa"
# Every user of an `mfa: required` account is in this group, which carries the MFA policy
# (policies attached to groups, not users: CIS / checkov CKV_AWS_40).
MFA_GROUP_NAME = "awsenvs-mfa-required"
# Maximum session of the `<group>-mfa` roles; profiles ask for exactly this much.
MFA_ROLE_MAX_SESSION_SECONDS = 4 * 3600
# Where the accounts of environments removed from org.yaml go (never closed by awsenvs).
SUSPENDED_OU = "Suspended"
# The management stack's policy types (Organizations EnablePolicyType values).
PolicyType = Literal[
    "AISERVICES_OPT_OUT_POLICY", "BACKUP_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2",
    "RESOURCE_CONTROL_POLICY", "SERVICE_CONTROL_POLICY", "TAG_POLICY",
]
SERVICE_PRINCIPAL_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")
# Terraform names shared by the stacks and the runner.
ACCOUNT_IDS_OUTPUT = "account_ids"  # management output: stack name -> account id
ACCOUNT_ID_VARIABLE = "account_id"  # account stacks' variable
ACCOUNT_TFVARS = "account.auto.tfvars.json"  # where the runner writes it

# AWS rules, quoted from the IAM / Organizations API references.
ALIAS_RE = re.compile(r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
IAM_USER_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
IAM_GROUP_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
IAM_ROLE_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
POLICY_ARN_RE = re.compile(r"^arn:aws[\w-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$")
# Product and environment names become parts of stack names, aliases, emails, profile
# names and Terraform identifiers, so they are kept to a safe alphabet.
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
REGION_RE = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
PROFILE_RE = re.compile(r"^[A-Za-z0-9_.@+=-]+$")
ACCOUNT_EMAIL_MAX = 64  # Organizations CreateAccount limit
ACCOUNT_NAME_MAX = 50


class ConfigError(AwsenvsError):
    """A problem in org.yaml, worded as one line: `<field path>: <what is wrong and what to do>`."""

    exit_code = EXIT_BAD_INPUT


# --------------------------------------------------------------------------- schema
# The raw shape of org.yaml.  `extra="forbid"` turns typos into errors naming the key.


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _account_id(value: Any) -> Any:
    # YAML reads an unquoted 210987654321 as an int; accept it when it is 12 digits.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is not None and (not isinstance(value, str) or not ACCOUNT_ID_RE.match(value)):
        raise ValueError(f"{value!r} is not an AWS account id: use 12 digits, quoted (\"012345678901\")")
    return value


def _email(value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not EMAIL_RE.match(value)):
        raise ValueError(f"{value!r} is not a valid email address")
    return value


def _service_principal(value: Any) -> Any:
    if not isinstance(value, str) or not SERVICE_PRINCIPAL_RE.match(value):
        raise ValueError(f"{value!r} is not a service principal (e.g. sso.amazonaws.com)")
    return value


AccountId = Annotated[str | None, BeforeValidator(_account_id)]
Email = Annotated[str, AfterValidator(_email)]
ServicePrincipal = Annotated[str, AfterValidator(_service_principal)]


class PasswordPolicySpec(_Spec):
    minimum_length: int = Field(14, ge=6, le=128)
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True
    reuse_prevention: int = Field(24, ge=0, le=24)
    max_age_days: int = Field(90, ge=0, le=1095)
    allow_users_to_change: bool = True


class GroupSpec(_Spec):
    policies: list[str] = []

    @field_validator("policies")
    @classmethod
    def _policy_arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not POLICY_ARN_RE.match(arn):
                raise ValueError(f"{arn!r} is not an IAM policy ARN (arn:aws:iam::aws:policy/NAME)")
        return value


class UserSpec(_Spec):
    groups: list[str] = []
    console: bool = True  # login profile (console password, reset at first sign-in)
    pgp_key: str | None = None  # encrypts the initial password in state: "keybase:NAME" or base64


class EnvironmentSpec(_Spec):
    account_id: AccountId = None  # set: an existing account, adopted (imported), never created
    mfa: Literal["required", "optional"] = "required"
    email: Email | None = None
    alias: str | None = None
    account_name: str | None = None
    role_name: str | None = None  # role the account stack assumes (default OrganizationAccountAccessRole)
    profile: str | None = None  # instead of assuming a role: a named CLI profile (invited accounts)
    region: str | None = None
    users: dict[str, UserSpec] | list[str] | None = None
    password_policy: PasswordPolicySpec | None = None


class ProductSpec(_Spec):
    users: dict[str, UserSpec] = {}
    environments: dict[str, EnvironmentSpec | None]


class OrganizationSpec(_Spec):
    name: str
    email: Email
    region: str = "us-east-1"
    management_account_id: AccountId = None
    organization_id: str | None = None  # set: adopt this existing organization (import)
    # Owned explicitly: the live organization's trusted services and policy types are
    # never disabled unless listed under disable_*; awsenvs refuses to plan otherwise.
    trusted_services: list[ServicePrincipal] = []
    policy_types: list[PolicyType] = ["SERVICE_CONTROL_POLICY"]
    disable_trusted_services: list[ServicePrincipal] = []
    disable_policy_types: list[PolicyType] = []

    @field_validator("organization_id")
    @classmethod
    def _org_id(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^o-[a-z0-9]{10,32}$", value):
            raise ValueError(f"{value!r} is not an organization id (o- and 10-32 lowercase letters or digits)")
        return value


class S3StateSpec(_Spec):
    bucket: str
    region: str
    key_prefix: str = "awsenvs"


class CloudStateSpec(_Spec):
    organization: str
    project: str | None = None
    workspace_prefix: str = ""


class StateSpec(_Spec):
    backend: Literal["local", "s3", "cloud"] = "local"
    path: str = "state"  # local backend: directory, relative to org.yaml
    s3: S3StateSpec | None = None
    cloud: CloudStateSpec | None = None


class OrgSpec(_Spec):
    organization: OrganizationSpec
    state: StateSpec = StateSpec()
    password_policy: PasswordPolicySpec = PasswordPolicySpec()
    groups: dict[str, GroupSpec] = {}
    products: dict[str, ProductSpec]


# --------------------------------------------------------------------------- the model
# Small immutable views that the constructs, runner, profiles and audit take.


@dataclass(frozen=True)
class PasswordPolicy:
    minimum_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_numbers: bool
    require_symbols: bool
    reuse_prevention: int
    max_age_days: int
    allow_users_to_change: bool


@dataclass(frozen=True)
class Group:
    name: str
    policies: tuple[str, ...]

    def members(self, users: "Sequence[User]") -> tuple["User", ...]:
        """The users in this group: the only principals its MFA role trusts."""
        return tuple(u for u in users if self.name in u.groups)

    @property
    def admin_role_name(self) -> str:
        """The MFA-requiring role of this group in `mfa: required` accounts."""
        return f"{self.name}-mfa"  # validated to fit IAM's 64 characters

    @property
    def tf_name(self) -> str:
        return tf_name(self.name)


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    console: bool
    pgp_key: str | None

    @property
    def tf_name(self) -> str:
        return tf_name(self.name)


@dataclass(frozen=True)
class Environment:
    product: str
    name: str
    account_name: str
    email: str
    alias: str
    stack: str
    mfa_required: bool
    account_id: str | None  # known up front only for adopted accounts
    role_name: str
    cli_profile: str | None
    region: str
    users: tuple[User, ...]
    groups: tuple[Group, ...]  # the groups its users belong to
    password_policy: PasswordPolicy
    org_name: str

    @property
    def adopted(self) -> bool:
        return self.account_id is not None

    def account_id_from(self, created: dict[str, str]) -> str | None:
        """Its account id: configured (adopted), else from `created` (stack -> id); None if unknown."""
        return self.account_id or created.get(self.stack)

    @property
    def key(self) -> str:
        """`<product>/<env>`, how people name an environment on the command line."""
        return f"{self.product}/{self.name}"

    @property
    def tf_name(self) -> str:
        return tf_name(self.product, self.name)

    @property
    def tags(self) -> dict[str, str]:
        return {"product": self.product, "environment": self.name, "managed-by": MANAGED_BY}

    @property
    def signin_url(self) -> str:
        return f"https://{self.alias}.signin.aws.amazon.com/console"

    def profile_name(self, user: User | str) -> str:
        return f"{self.product}_{self.name}_{getattr(user, 'name', user)}"

    def key_profile_name(self, user: User | str) -> str:
        """The profile holding a user's own access keys; role profiles of mfa: required use it."""
        return f"{self.profile_name(user)}_keys"

    def has_role_profile(self, user: User) -> bool:
        """Whether the user's profile assumes their group's MFA role (mfa: required) with keys kept apart."""
        return self.mfa_required and bool(user.groups)

    def own_keys_profile(self, user: User) -> str:
        """Where the user's own access keys go (`aws configure --profile ...`)."""
        return self.key_profile_name(user) if self.has_role_profile(user) else self.profile_name(user)

    def role_arn(self, account_id: str) -> str:
        """The role the account stack's provider assumes."""
        return f"arn:aws:iam::{account_id}:role/{self.role_name}"

    def admin_role_arn(self, account_id: str, group: Group) -> str:
        return f"arn:aws:iam::{account_id}:role/{group.admin_role_name}"

    def members(self, group: Group) -> tuple[User, ...]:
        """The users of this environment in `group`: the only principals its MFA role trusts."""
        return group.members(self.users)

    def group(self, name: str) -> Group:
        return next(g for g in self.groups if g.name == name)


@dataclass(frozen=True)
class Product:
    name: str
    environments: tuple[Environment, ...]

    @property
    def ou_name(self) -> str:
        return self.name

    @property
    def tf_name(self) -> str:
        return tf_name(self.name)


@dataclass(frozen=True)
class StateConfig:
    backend: str
    local_dir: Path  # local backend: where <stack>.tfstate files live
    s3: S3StateSpec | None
    cloud: CloudStateSpec | None

    def workspace(self, stack: str) -> str:
        prefix = self.cloud.workspace_prefix if self.cloud else ""
        return f"{prefix}{stack}"

    def s3_key(self, stack: str) -> str:
        prefix = self.s3.key_prefix.strip("/") if self.s3 else ""
        return f"{prefix}/{stack}.tfstate" if prefix else f"{stack}.tfstate"


@dataclass(frozen=True)
class Org:
    name: str
    email: str
    region: str
    management_account_id: str | None
    organization_id: str | None
    trusted_services: tuple[str, ...]
    policy_types: tuple[str, ...]
    disable_trusted_services: tuple[str, ...]
    disable_policy_types: tuple[str, ...]
    state: StateConfig
    groups: tuple[Group, ...]
    products: tuple[Product, ...]
    source: Path

    @property
    def environments(self) -> tuple[Environment, ...]:
        return tuple(env for product in self.products for env in product.environments)

    @property
    def adopted_account_ids(self) -> dict[str, str]:
        """Stack -> account id of the accounts org.yaml names (adopted); known without Terraform."""
        return {env.stack: env.account_id for env in self.environments if env.adopted}

    @property
    def stacks(self) -> tuple[str, ...]:
        return (MANAGEMENT_STACK, *(env.stack for env in self.environments))

    def environment_by_stack(self, stack: str) -> Environment:
        return next(env for env in self.environments if env.stack == stack)

    def select(
        self, stacks: tuple[str, ...] = (), products: tuple[str, ...] = (), envs: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        """Stacks chosen by --stack/--product/--env; `management` comes along unless stacks name it out."""
        unknown = [s for s in stacks if s not in self.stacks]
        if unknown:
            raise ConfigError(f"--stack {unknown[0]}: no such stack (stacks: {', '.join(self.stacks)})")
        for option, wanted, known in (
            ("--product", products, {p.name for p in self.products}),
            ("--env", envs, {e.name for e in self.environments}),
        ):
            missing = [w for w in wanted if w not in known]
            if missing:
                raise ConfigError(f"{option} {missing[0]}: not in {self.source.name} (known: {', '.join(sorted(known))})")
        if not (stacks or products or envs):
            return self.stacks
        chosen = [
            env.stack
            for env in self.environments
            if (not products or env.product in products) and (not envs or env.name in envs)
        ]
        if stacks:
            chosen = [s for s in self.stacks if s in stacks or (s in chosen and (products or envs))]
        elif MANAGEMENT_STACK not in chosen:
            chosen.insert(0, MANAGEMENT_STACK)
        return tuple(s for s in self.stacks if s in chosen)


def tf_name(*parts: str) -> str:
    """A Terraform identifier for a resource of these names (stable: it keys the state)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


# --------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which plain YAML silently overwrites."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load(path: str | Path = "org.yaml") -> Org:
    """Read, validate and derive; raises ConfigError with a one-line message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (create it, or pass --config PATH / ORG=PATH)") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse(text, path)


def parse(text: str, path: Path = Path("org.yaml")) -> Org:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{path}: YAML error at {where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML error: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with organization, groups and products at the top")
    try:
        spec = OrgSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_first_error(exc, path)) from None
    return _derive(spec, path)


def _first_error(exc: ValidationError, path: Path) -> str:
    errors = exc.errors()
    # A misspelt key also makes its correct spelling "missing": name the typo first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("function-", "list[", "dict[")))
    kind = err["type"]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(err["loc"][-1]), _known_keys(err["loc"]), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "check the spelling; see the org.yaml section of the README"
        message = f"unknown key ({hint})"
    elif kind == "missing":
        message = "required, but missing"
    elif kind == "literal_error":
        message = f"{err['input']!r} is not allowed: use {err['ctx']['expected']}"
    elif kind == "value_error":
        message = str(err["ctx"]["error"])
    else:
        message = f"{err['msg']} (got {err['input']!r})"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path.name}: {loc or '<top>'}: {message}{more}"


def _known_keys(loc: tuple) -> list[str]:
    """The keys org.yaml allows beside the last element of `loc` (for "did you mean")."""
    model: type[BaseModel] = OrgSpec
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        if field is not None:  # otherwise a name (product, user, ...) or a union branch
            model = _spec_in(field.annotation) or model
    return list(model.model_fields)


def _spec_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(_spec_in, get_args(annotation)) if m), None)


def _derive(spec: OrgSpec, path: Path) -> Org:
    where = path.name

    def fail(field_path: str, message: str) -> ConfigError:
        return ConfigError(f"{where}: {field_path}: {message}")

    org = spec.organization
    if not NAME_RE.match(org.name.lower().replace(".", "-")):
        raise fail("organization.name", f"{org.name!r} must start with a letter and use letters, digits, '-' or '_' (max 31)")
    if not REGION_RE.match(org.region):
        raise fail("organization.region", f"{org.region!r} is not an AWS region name (e.g. eu-west-1)")
    if not spec.products:
        raise fail("products", "empty: define at least one product with one environment")

    for kind in ("trusted_services", "policy_types"):
        both = set(getattr(org, kind)) & set(getattr(org, f"disable_{kind}"))
        if both:
            raise fail(f"organization.disable_{kind}", f"{sorted(both)[0]!r} is also listed in organization.{kind}: keep it in one of them")

    groups: dict[str, Group] = {}
    for name, group_spec in spec.groups.items():
        if not IAM_GROUP_RE.match(name):
            raise fail(f"groups.{name}", "not a valid IAM group name (1-128 of letters, digits and +=,.@_-)")
        if name == MFA_GROUP_NAME:
            raise fail(f"groups.{name}", "this name is reserved for the group awsenvs puts every user of an mfa: required account in; rename yours")
        if len(f"{name}-mfa") > 64:
            raise fail(f"groups.{name}", "too long: its MFA role <group>-mfa must fit IAM's 64 characters (use at most 60)")
        groups[name] = Group(name=name, policies=tuple(group_spec.policies))

    def user(field_path: str, name: str, user_spec: UserSpec) -> User:
        if not IAM_USER_RE.match(name):
            raise fail(field_path, "not a valid IAM user name (1-64 of letters, digits and +=,.@_-)")
        for group in user_spec.groups:
            if group not in groups:
                known = ", ".join(sorted(groups)) or "none defined"
                raise fail(f"{field_path}.groups", f"unknown group {group!r} (groups: {known}); define it under groups")
        return User(name=name, groups=tuple(user_spec.groups), console=user_spec.console, pgp_key=user_spec.pgp_key)

    local, domain = org.email.split("@", 1)
    products: list[Product] = []
    for product_name, product_spec in spec.products.items():
        ppath = f"products.{product_name}"
        if not NAME_RE.match(product_name):
            raise fail(ppath, "product names start with a lowercase letter and use a-z, 0-9, '-' or '_' (max 31)")
        if not product_spec.environments:
            raise fail(f"{ppath}.environments", "empty: a product needs at least one environment")
        product_users = {
            name: user(f"{ppath}.users.{name}", name, user_spec) for name, user_spec in product_spec.users.items()
        }
        envs: list[Environment] = []
        for env_name, env_spec in product_spec.environments.items():
            epath = f"{ppath}.environments.{env_name}"
            env_spec = env_spec or EnvironmentSpec()
            if not NAME_RE.match(env_name):
                raise fail(epath, "environment names start with a lowercase letter and use a-z, 0-9, '-' or '_' (max 31)")
            dashed = f"{product_name}-{env_name}".replace("_", "-")

            if env_spec.users is None:
                users = tuple(product_users.values())
            elif isinstance(env_spec.users, list):
                for name in env_spec.users:
                    if name not in product_users:
                        raise fail(f"{epath}.users", f"user {name!r} is not defined under {ppath}.users")
                users = tuple(product_users[name] for name in env_spec.users)
            else:
                users = tuple(user(f"{epath}.users.{n}", n, s) for n, s in env_spec.users.items())
            _unique_tf_names(fail, f"{epath}.users", [u.name for u in users])

            email = env_spec.email or f"{local}{'-' if '+' in local else '+'}{dashed}@{domain}"
            if len(email) > ACCOUNT_EMAIL_MAX:
                raise fail(f"{epath}.email", f"{email!r} is longer than {ACCOUNT_EMAIL_MAX} characters; set a shorter one")
            alias = env_spec.alias or f"{org.name}-{dashed}".lower().replace("_", "-").replace(".", "-")
            if not ALIAS_RE.match(alias):
                derived = "" if env_spec.alias else " (derived; set alias to override)"
                raise fail(f"{epath}.alias", f"{alias!r}{derived} must be 3-63 lowercase letters, digits or single hyphens, starting and ending with a letter or digit")
            account_name = env_spec.account_name or f"{product_name}_{env_name}"
            if not 1 <= len(account_name) <= ACCOUNT_NAME_MAX:
                raise fail(f"{epath}.account_name", f"{account_name!r} must be 1-{ACCOUNT_NAME_MAX} characters")
            role_name = env_spec.role_name or DEFAULT_ROLE_NAME
            if not IAM_ROLE_RE.match(role_name):
                raise fail(f"{epath}.role_name", f"{role_name!r} is not a valid IAM role name")
            if env_spec.profile is not None:
                if not PROFILE_RE.match(env_spec.profile):
                    raise fail(f"{epath}.profile", f"{env_spec.profile!r} is not a valid CLI profile name")
                if env_spec.account_id is None:
                    raise fail(f"{epath}.profile", "a CLI profile is for an existing (invited) account: set account_id too")
                if env_spec.role_name is not None:
                    raise fail(f"{epath}.profile", "set either profile or role_name, not both")
            region = env_spec.region or org.region
            if not REGION_RE.match(region):
                raise fail(f"{epath}.region", f"{region!r} is not an AWS region name (e.g. eu-west-1)")
            policy = env_spec.password_policy or spec.password_policy
            used_groups = tuple(groups[g] for g in dict.fromkeys(g for u in users for g in u.groups))
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
                )
            )
        products.append(Product(name=product_name, environments=tuple(envs)))

    all_envs = [env for product in products for env in product.environments]
    _check_collisions(fail, all_envs, org.management_account_id)
    _unique_tf_names(fail, "products", [p.name for p in products])

    state = spec.state
    if state.backend == "s3" and state.s3 is None:
        raise fail("state.s3", "backend s3 needs state.s3: {bucket: NAME, region: REGION}")
    if state.backend == "cloud" and state.cloud is None:
        raise fail("state.cloud", "backend cloud needs state.cloud: {organization: NAME}")
    return Org(
        name=org.name,
        email=org.email,
        region=org.region,
        management_account_id=org.management_account_id,
        organization_id=org.organization_id,
        trusted_services=tuple(dict.fromkeys(org.trusted_services)),
        policy_types=tuple(dict.fromkeys(org.policy_types)),
        disable_trusted_services=tuple(dict.fromkeys(org.disable_trusted_services)),
        disable_policy_types=tuple(dict.fromkeys(org.disable_policy_types)),
        state=StateConfig(
            backend=state.backend,
            local_dir=(path.parent / state.path / org.name).resolve(),
            s3=state.s3,
            cloud=state.cloud,
        ),
        groups=tuple(groups.values()),
        products=tuple(products),
        source=path,
    )


def _check_collisions(fail, envs: list[Environment], management_account_id: str | None) -> None:
    """Derived names must stay unique: AWS needs unique emails and aliases, we need unique stacks."""
    for attribute, what in (
        ("stack", "stack name"),
        ("account_name", "account name"),
        ("alias", "account alias"),
        ("tf_name", "Terraform name"),
    ):
        seen: dict[str, Environment] = {}
        for env in envs:
            value = getattr(env, attribute)
            if value in seen:
                other = seen[value]
                raise fail(
                    f"products.{env.product}.environments.{env.name}",
                    f"{what} {value!r} collides with products.{other.product}.environments.{other.name}; rename one",
                )
            seen[value] = env
    emails: dict[str, Environment] = {}
    for env in envs:
        key = env.email.lower()  # AWS compares root emails case-insensitively
        if key in emails:
            other = emails[key]
            raise fail(
                f"products.{env.product}.environments.{env.name}.email",
                f"{env.email!r} is already the root email of products.{other.product}.environments.{other.name}; each account needs its own",
            )
        emails[key] = env
    ids: dict[str, Environment] = {}
    for env in envs:
        if env.account_id is None:
            continue
        if env.account_id == management_account_id:
            raise fail(
                f"products.{env.product}.environments.{env.name}.account_id",
                f"{env.account_id} is the management account; environments need member accounts",
            )
        if env.account_id in ids:
            other = ids[env.account_id]
            raise fail(
                f"products.{env.product}.environments.{env.name}.account_id",
                f"{env.account_id} is already used by products.{other.product}.environments.{other.name}",
            )
        ids[env.account_id] = env
    stacks = {env.stack for env in envs}
    if MANAGEMENT_STACK in stacks:
        raise fail("products", f"no environment may derive the stack name {MANAGEMENT_STACK!r}")


def _unique_tf_names(fail, field_path: str, names: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        key = tf_name(name)
        if key in seen:
            raise fail(f"{field_path}.{name}", f"collides with {seen[key]!r} once made a Terraform name; rename one")
        seen[key] = name
