"""Shared, session-scoped fixtures: each organization is synthesized once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from awsenvs import config
from awsenvs.synth import synthesize
from awsenvs.terraform import Terraform, find_provider_mirror

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "org.yaml"
TWO_PRODUCTS = ROOT / "tests" / "fixtures" / "two-products.yaml"
IDENTITY_CENTER = ROOT / "examples" / "identity-center.yaml"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# The longest files first (as `make test`'s --durations shows them): with `--dist loadfile
# --no-loadscope-reorder` (the Makefile) the two workers take files in collection order.
# xdist's own order, files with the most tests first, left the newcomer's path (one long
# test) to run alone at the end: CI took 27 minutes of its 30.  Longest first, the workers
# finish together.  Within a file the order stays (its tests share fixtures).
LONGEST_FIRST = ("test_e2e_remote_state.py", "test_newcomer.py", "test_ci_door.py", "test_package.py",
                 "test_elevation.py", "test_adopted_settings.py", "test_e2e.py", "test_identity_center.py",
                 "test_import_e2e.py", "test_recovery.py")


def pytest_collection_modifyitems(session, config, items) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest as collected


def assert_rejected(text: str, message: str) -> None:
    """org.yaml `text` is refused, one of its problems (each one line) containing `message`."""
    with pytest.raises(config.ConfigError) as excinfo:
        config.parse(text, Path("org.yaml"))
    problems = excinfo.value.problems
    assert any(message in problem for problem in problems), problems
    assert all("\n" not in problem for problem in problems)


def as_from_a_terminal() -> None:
    """preexec_fn of a child that is to get Ctrl-C as from a terminal: SIGINT at its default,
    whatever this test run inherited (a shell's background job starts with it ignored, and
    Python then never turns it into KeyboardInterrupt)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*args: str, cwd: Path) -> "subprocess.CompletedProcess":
    """`python main.py ARGS` in `cwd`, output captured as text."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, capture_output=True, text=True)


def local_state_addresses(path: Path) -> list[str]:
    """Addresses in a local state file (types.names of managed resources with instances); [] without one."""
    import json

    if not path.exists():
        return []
    resources = json.loads(path.read_text()).get("resources", [])
    return [f"{r['type']}.{r['name']}" for r in resources if r.get("instances") and r["mode"] == "managed"]


def in_process_moto_env(monkeypatch, tmp_path: Path, region: str) -> None:
    """Environment for real boto3 against moto's in-process mock (moto.mock_aws): dummy
    keys, no endpoint or profile of the session's, AWS config files of the test's own."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))


@pytest.fixture(scope="session")
def provider_mirror() -> Path:
    mirror = find_provider_mirror()
    if mirror is None:
        pytest.fail("no AWS provider filesystem mirror found: set TF_PROVIDER_MIRROR")
    return mirror


@pytest.fixture(scope="session")
def terraform(provider_mirror) -> Terraform:
    env = dict(os.environ, TF_PROVIDER_MIRROR=str(provider_mirror))
    return Terraform(env=env)


class Synthesized:
    """One synthesized organization: its model and the parsed JSON of each stack."""

    def __init__(self, org: config.Org, outdir: Path) -> None:
        import json

        self.org = org
        self.outdir = outdir
        self.stacks = {
            stack: json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()) for stack in org.stacks
        }

    def resources(self, stack: str, type_: str) -> dict:
        return self.stacks[stack].get("resource", {}).get(type_, {})


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> dict[str, Synthesized]:
    result = {}
    for name, path in (("example", EXAMPLE), ("two", TWO_PRODUCTS), ("identity_center", IDENTITY_CENTER)):
        org = config.load(path)
        outdir = tmp_path_factory.mktemp(f"synth-{name}")
        synthesize(org, outdir, state_dir=outdir / "state")
        result[name] = Synthesized(org, outdir)
    return result


CLOUD_STATE = "state:\n  backend: cloud\n  cloud: {organization: acme-tfc, project: platform, workspace_prefix: acme-}\n"
S3_STATE = "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n"


def cloud_org_text(text: str | None = None) -> str:
    """An org.yaml (default: two-products) with state in Terraform Cloud, which needs the
    management account's id."""
    text = TWO_PRODUCTS.read_text() if text is None else text
    return text.replace("  region: eu-central-1\n", '  region: eu-central-1\n  management_account_id: "111111111111"\n', 1) + CLOUD_STATE


@pytest.fixture(scope="session")
def bootstrap_stacks(tmp_path_factory):
    """The bootstrap stack of an s3 org, and of a cloud org where shop-dev's account does
    not exist yet (no id known)."""
    import json

    from awsenvs.synth import write_bootstrap_stack

    out = {}
    s3_path = tmp_path_factory.mktemp("bootstrap-s3") / "org.yaml"
    s3_path.write_text(TWO_PRODUCTS.read_text() + S3_STATE)
    s3_org = config.load(s3_path)
    out["s3"] = (s3_org, json.loads((write_bootstrap_stack(s3_org, s3_path.parent / "cdktf.out", ()) / "cdk.tf.json").read_text()))
    cloud_path = tmp_path_factory.mktemp("bootstrap-cloud") / "org.yaml"
    cloud_path.write_text(cloud_org_text())
    cloud_org = config.load(cloud_path)
    ids = {env.stack: "3333333333" + str(i).zfill(2) for i, env in enumerate(cloud_org.environments) if env.stack != "shop-dev"}
    roles = cloud_org.run_roles(ids)
    out["cloud"] = (cloud_org, json.loads((write_bootstrap_stack(cloud_org, cloud_path.parent / "cdktf.out", roles) / "cdk.tf.json").read_text()), roles)
    # The same with GitHub Actions (ci.github): its roles beside the run roles, and an account
    # stack's read role (shop-prod: mfa required, so its own MFA roles are there too).
    github_path = tmp_path_factory.mktemp("bootstrap-github") / "org.yaml"
    github_path.write_text(cloud_org_text() + GITHUB_CI)
    github_org = config.load(github_path)
    github_roles = github_org.run_roles(ids)
    outdir = github_path.parent / "cdktf.out"
    document = json.loads((write_bootstrap_stack(github_org, outdir, github_roles) / "cdk.tf.json").read_text())
    synthesize(github_org, outdir)
    account = json.loads((outdir / "stacks" / "shop-prod" / "cdk.tf.json").read_text())
    out["github"] = (github_org, document, github_roles, account)
    return out


GITHUB_CI = "ci:\n  github: {repository: acme/infra}\n"


@pytest.fixture(scope="session")
def exported_modules(tmp_path_factory, provider_mirror) -> Path:
    """`export-modules DIR` run once through the CLI: DIR holds a folder per module, example/ and README.md."""
    import subprocess
    import sys

    target = tmp_path_factory.mktemp("exported") / "modules"
    env = dict(os.environ, TF_PROVIDER_MIRROR=str(provider_mirror))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "export-modules", str(target)],
                          cwd=target.parent, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return target


# --------------------------------------------------------------------------- end to end


class Rehearsal:
    """An organization rehearsed in the local emulator: its config copy, env, and helpers."""

    def __init__(self, workdir: Path, env: dict[str, str], config_path: Path) -> None:
        self.workdir = workdir
        self.env = env
        self.config_path = config_path
        self.org = config.load(config_path)

    def cli(self, *args: str, env: dict[str, str] | None = None, input_: str | None = None):
        import subprocess
        import sys

        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--config", str(self.config_path), *args],
            cwd=self.workdir, env=env or self.env, capture_output=True, text=True,
            input=input_, stdin=None if input_ is not None else subprocess.DEVNULL,
        )

    def state_files(self) -> list[Path]:
        return sorted(self.org.state.local_dir.glob("*.tfstate")) if self.org.state.local_dir.exists() else []

    def boto(self):
        """Run boto3 code against the emulator: `with rehearsal.boto(): ...`."""
        from awsenvs.sandbox import environ

        return environ(self.env)


@pytest.fixture(scope="session")
def emulator():
    from awsenvs.sandbox import Emulator

    with Emulator() as running:
        yield running


@pytest.fixture(scope="session")
def rehearsal(emulator, provider_mirror, tmp_path_factory) -> Rehearsal:
    """The two-product organization, seeded in the emulator (adopted account, organization)."""
    workdir = tmp_path_factory.mktemp("e2e")
    env, path = seed_rehearsal(emulator, provider_mirror, workdir, TWO_PRODUCTS, seed_leftovers)
    return Rehearsal(workdir, env, path)


LEFTOVER_POLICY = "awsenvs-billing-guardrails"
LEFTOVER_BUDGET = "awsenvs-billing-legacy-monthly"


def seed_leftovers() -> None:
    """What an interrupted apply (or a hand-made start) leaves behind under awsenvs' names:
    billing's guardrail policy with other text, unattached, and the adopted billing-legacy
    account's budget with another amount.  Apply must adopt both, not fail on duplicates."""
    import boto3

    from awsenvs import aws

    client = boto3.client("organizations")
    client.create_policy(Name=LEFTOVER_POLICY, Description="made by hand", Type="SERVICE_CONTROL_POLICY",
                         Content='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}')
    legacy = next(a["Id"] for a in client.list_accounts()["Accounts"] if a["Email"] == "old-billing@acme.example.com")
    budgets = aws.assume_role_session(legacy, "OrganizationAccountAccessRole").client("budgets")
    budgets.create_budget(AccountId=legacy, Budget={"BudgetName": LEFTOVER_BUDGET, "BudgetLimit": {"Amount": "1.0", "Unit": "USD"},
                                                    "TimeUnit": "MONTHLY", "BudgetType": "COST"})


def seed_rehearsal(emulator, provider_mirror: Path, workdir: Path, source: Path, seed_more=None) -> tuple[dict[str, str], Path]:
    """Seed an emulator for `source` (its organization, the accounts it adopts, and whatever
    `seed_more()` adds with boto3); returns the environment and the rehearsal's org.yaml."""
    from awsenvs import aws
    from awsenvs.sandbox import environ, rehearsal_config

    (workdir / "home" / ".aws").mkdir(parents=True)
    env = emulator.environment(workdir / "home")
    env.update(TF_PROVIDER_MIRROR=str(provider_mirror), CDKTF_OUTDIR=str(workdir / "cdktf.out"))
    org = config.load(source)
    with environ(env):
        organization_id, adopted = aws.seed_emulator(org)
        management = aws.caller_account()
        if seed_more:
            seed_more()
    return env, rehearsal_config(org, organization_id, adopted, management, workdir / "org.yaml")


def accounts_in_new_ou(organizations, root: str, ou_name: str, accounts: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Made by hand on the emulator: an OU under the root and accounts moved into it
    (`accounts`: key -> (account name, root email)); returns key -> account id."""
    ou = organizations.create_organizational_unit(ParentId=root, Name=ou_name)["OrganizationalUnit"]["Id"]
    ids = {}
    for key, (name, email) in accounts.items():
        ids[key] = organizations.create_account(AccountName=name, Email=email)["CreateAccountStatus"]["AccountId"]
        organizations.move_account(AccountId=ids[key], SourceParentId=root, DestinationParentId=ou)
    return ids

