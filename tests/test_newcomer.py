"""The newcomer's path is the test: the README's commands, run as a user types them.

From the root of a copy of the checkout (its tracked files; the virtualenvs linked, as a
clone has them after its first `make` target), with relative paths and the default
output folder, through the `make` targets and `.venv/bin/python main.py ...` exactly as
the README shows them, with a fake HOME and only AWS_REGION set, against the project's
emulator over https (what S3 state needs).  The README and this module are kept in step:
every command line of the README's `sh` blocks must have its step here (and every step
here its line there), or `test_the_readme_and_this_module_are_in_step` fails.

The organization is a newcomer's: a management account with an organization and one
legacy member account, adopted by the shipped org.yaml once its id, root email and name
are the live ones.  On the way come the mistakes newcomers make: three problems in one
org.yaml, an adopted account whose email and name differ, an AWS_PROFILE that does not
exist, a member account's credentials, and S3 state before `bootstrap`.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import boto3
import pytest
import yaml

from awsenvs.sandbox import Emulator, environ
from conftest import ROOT

pytestmark = pytest.mark.e2e

README = ROOT / "README.md"
LEGACY_NAME, LEGACY_EMAIL = "Legacy", "paul+legacy@winterwindsoftware.com"
BUCKET = "winterwindsoftware-tfstate"
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\r")


# --------------------------------------------------------------------------- the README's commands


def readme_commands(text: str | None = None) -> list[str]:
    """Every command of the README's `sh` blocks, in order, as typed (a trailing `# …` cut)."""
    text = README.read_text() if text is None else text
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


# --------------------------------------------------------------------------- running them


@dataclass
class Result:
    code: int
    output: str  # stdout and stderr together, as a terminal shows them (escape codes removed)


class Newcomer:
    """A copy of the checkout, its environment, and the emulator it talks to."""

    def __init__(self, root: Path, home: Path, env: dict[str, str]) -> None:
        self.root, self.home, self.env = root, home, env

    def run(self, command: str, env: dict[str, str] | None = None, timeout: float = 600) -> Result:
        """`command` through bash in the checkout's root, without a terminal (as in CI)."""
        proc = subprocess.run(["bash", "-c", command], cwd=self.root, env=env or self.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return Result(proc.returncode, proc.stdout)

    def run_in_terminal(self, command: str, answer: Callable[[str], str | None], timeout: float = 600) -> Result:
        """`command` on a pseudo-terminal, the way a person runs it: each prompt it shows
        (`…: ` at the end of its output) gets `answer(prompt)`."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))  # 200 columns: no wrapped prompts
        proc = subprocess.Popen(["bash", "-c", command], cwd=self.root, env={**self.env, "TERM": "xterm"},
                                stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        raw, answered, deadline = b"", {}, time.monotonic() + timeout  # prompt -> times answered
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:  # the terminal's other side closed: the command is done
                        break
                    if not chunk:
                        break
                    raw += chunk
                    text = ANSI.sub("", raw.decode(errors="replace"))
                    prompts = re.findall(r"([^\n]*: )$", text)
                    prompt = prompts[-1] if prompts else None
                    if prompt and text.count(prompt) > answered.get(prompt, 0) and (reply := answer(prompt)) is not None:
                        answered[prompt] = text.count(prompt)
                        os.write(master, reply.encode() + b"\n")
                elif proc.poll() is not None:
                    break
            else:
                proc.kill()
                pytest.fail(f"{command}: still running after {timeout}s:\n{ANSI.sub('', raw.decode(errors='replace'))[-3000:]}")
        finally:
            os.close(master)
        return Result(proc.wait(), ANSI.sub("", raw.decode(errors="replace")))

    def edit_org(self, old: str, new: str) -> None:
        path = self.root / "org.yaml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    def boto(self):
        """The test's own boto3 calls (boto3 reads AWS_DEFAULT_REGION, not AWS_REGION)."""
        return environ({**self.env, "AWS_DEFAULT_REGION": self.env["AWS_REGION"]})

    def local_states(self) -> list[str]:
        folder = self.root / "state" / "winterwindsoftware"
        return sorted(p.name for p in folder.glob("*.tfstate")) if folder.is_dir() else []


def account_names(reply_for: dict[str, str] | None = None) -> Callable[[str], str | None]:
    """The answers a person gives: the account name each protected prompt asks for, yes."""
    def answer(prompt: str) -> str | None:
        asked = re.search(r"Type its account name \(([^)]+)\) to apply: $", prompt)
        if asked:
            return asked.group(1)
        if prompt.endswith("Type yes: "):
            return "yes"
        return None
    return answer


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output and "BrokenPipeError" not in result.output, result.output[-3000:]


def error_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("error: ")]


def _copy_checkout(target: Path) -> Path:
    """The checkout's files as a clone has them (tracked, plus any not ignored yet)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)  # mtimes kept: make finds .venv up to date
    for venv in (".venv", ".venv-checkov"):
        if (ROOT / venv).exists():
            (target / venv).symlink_to(ROOT / venv)
    return target


def _newcomer_env(home: Path, emulator: Emulator | None) -> dict[str, str]:
    """A user's shell: their PATH and tools, a HOME of their own, nothing of awsenvs' or AWS's
    set but AWS_REGION (and, for the emulator, its endpoint and dummy keys)."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "CDKTF_", "AWSENVS_", "TF_", "MAKE"))  # MAKEFLAGS, MAKELEVEL: `make test`'s own
            and k not in ("HOME", "PYTHONPATH", "MFLAGS")}
    if os.environ.get("TF_PROVIDER_MIRROR"):  # a machine whose mirror is not in a usual folder
        keep["TF_PROVIDER_MIRROR"] = os.environ["TF_PROVIDER_MIRROR"]
    # jsii's unpacked bindings (~500 MB) stay where they are: what a real HOME has after its first run.
    from awsenvs.sandbox import JSII_CACHE_ENV, _jsii_package_cache

    keep.setdefault(JSII_CACHE_ENV, str(_jsii_package_cache(dict(os.environ))))
    keep.update(HOME=str(home), AWS_REGION="eu-west-1")
    if emulator is not None:
        keep.update(AWS_ENDPOINT_URL=emulator.endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                    AWS_CA_BUNDLE=str(emulator.certificate))
    return keep


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory):
    with Emulator(tls=True) as emulator:
        base = tmp_path_factory.mktemp("newcomer")
        home = base / "home"
        home.mkdir()
        root = _copy_checkout(base / "awsenvs")
        yield Newcomer(root, home, _newcomer_env(home, emulator))


# --------------------------------------------------------------------------- the steps


def first_plan(n: Newcomer) -> None:
    """`make plan` on the newcomer's org.yaml: first the mistakes, then the real plan."""
    # The legacy account's root email and name are not org.yaml's (derived) ones.
    mismatch = n.run("make plan")
    assert mismatch.code == 2, mismatch.output[-3000:]
    lines = error_lines(mismatch)
    # Both mismatches at once, each with the live value to copy.
    assert any(".legacy.email: the account's root email is 'paul+legacy@winterwindsoftware.com'" in l for l in lines), lines
    assert any(".legacy.account_name: the account is named 'Legacy'" in l for l in lines), lines
    no_traceback(mismatch)
    n.edit_org("        mfa: required\n      dev:", f"        mfa: required\n        email: {LEGACY_EMAIL}\n"
                                                    f"        account_name: {LEGACY_NAME}\n      dev:")

    missing = n.run("AWS_PROFILE=nope make plan")
    assert missing.code == 2  # make's own code: the tool's is in its "Error 1" line
    assert "make: *** [Makefile" in missing.output and "Error 1" in missing.output
    assert error_lines(missing) == [f"error: AWS_PROFILE=nope: no such profile in {n.home}/.aws/config or "
                                    f"{n.home}/.aws/credentials (profiles there: mine); set AWS_PROFILE to the management "
                                    "account's profile, or add that profile (`aws configure --profile nope`)"]
    no_traceback(missing)

    plan = n.run("make plan")
    assert plan.code == 0, plan.output[-3000:]  # make: the plan ran; it found changes and says so
    assert "make plan: changes planned (awsenvs exit 2)" in plan.output
    for line in ("+ create           aws_organizations_account.autochart_dev",
                 "autochart-dev: waiting for account (created when the management stack is applied)",
                 # both of management's imports explained, the look-up's and the adoption org.yaml declares
                 "management: import aws_organizations_organization.organization: existing organization o-",
                 f"management: import aws_organizations_account.autochart_legacy: adopted account {n.legacy_id}",
                 "autochart-dev (+7 ~0 -0) (once its account exists)"):
        assert line in plan.output, line
    assert "tightened" not in plan.output  # the folders it just made are owner-only from the start
    assert "… and" in plan.output and "(--detail lists them)" in plan.output  # compact: a few per stack
    assert not list((n.root / "cdktf.out" / "stacks").glob("*/cdktf.out"))  # no relative path reached terraform
    # The tool's own exit code, as a script reads it: 2, there are changes.
    direct = n.run(".venv/bin/python main.py plan")
    assert direct.code == 2, direct.output[-3000:]


def first_apply(n: Newcomer) -> None:
    result = n.run_in_terminal("make apply", account_names())
    assert result.code == 0, result.output[-4000:]
    # What it applies is listed before anything is asked or applied.
    shown, asked_at = result.output.find("About to apply:"), result.output.find("Type its account name")
    assert -1 < shown < asked_at, result.output[-4000:]
    assert "aws_organizations_account.autochart_dev" in result.output[shown:asked_at]
    asked = re.findall(r"Type its account name \(([^)]+)\) to apply", result.output)
    assert sorted(set(asked)) == ["Legacy", "autochart_prod"], asked  # the mfa: required ones, by their live names
    no_traceback(result)
    with n.boto():
        client = boto3.client("organizations")
        accounts = {a["Name"]: a["Id"] for a in client.list_accounts()["Accounts"]}
        features = boto3.client("iam").list_organizations_features()["EnabledFeatures"]
    assert {"Legacy", "autochart_dev", "autochart_prod"} <= set(accounts)
    assert accounts["Legacy"] == n.legacy_id  # adopted, not created again
    assert sorted(features) == ["RootCredentialsManagement", "RootSessions"]  # centralized root, rehearsed as written
    n.accounts = accounts


def plan_again(n: Newcomer) -> None:
    result = n.run("make plan")
    assert result.code == 0, result.output[-3000:]
    assert "changes planned" not in result.output
    assert "4 stacks unchanged since their last clean plan" in result.output
    # Nothing to apply: no terminal and no --yes needed, nothing refused.
    idle = n.run("make apply")
    assert idle.code == 0 and "Apply: nothing to apply" in idle.output, idle.output[-3000:]


def validate(n: Newcomer) -> None:
    # The newcomer makes org.yaml theirs: the legacy account is the one in their organization.
    n.edit_org('account_id: "210987654321"', f'account_id: "{n.legacy_id}"')
    # Three mistakes in one org.yaml, named at once, one line each.
    original = (n.root / "org.yaml").read_text()
    n.edit_org("mfa: optional", "mfa: sometimes")
    n.edit_org("email: paul@winterwindsoftware.com", "email: paul-at-winterwindsoftware.com")
    n.edit_org("policies: [arn:aws:iam::aws:policy/AdministratorAccess]", "policies: [AdministratorAccess]")
    wrong = n.run("make validate")
    (n.root / "org.yaml").write_text(original)
    assert wrong.code == 2
    lines = error_lines(wrong)
    assert len(lines) == 4, wrong.output
    for fragment in ("organization.email: 'paul-at-winterwindsoftware.com' is not a valid email address",
                     "groups.sysadmins.policies: 'AdministratorAccess' is not an IAM policy ARN",
                     "products.autochart.environments.dev.mfa: 'sometimes' is not allowed",
                     "org.yaml: 3 problems: fix them, then run validate again"):
        assert any(fragment in line for line in lines), (fragment, lines)
    no_traceback(wrong)

    result = n.run("make validate")
    assert result.code == 0, result.output
    assert "org.yaml: ok: 1 product(s), 3 account(s)" in result.output


def tree(n: Newcomer) -> None:
    result = n.run("make tree")
    assert result.code == 0, result.output
    if hasattr(n, "accounts"):  # after the apply: the ids state knows, no "not created yet"
        assert n.accounts["autochart_dev"] in result.output and "not created yet" not in result.output
    else:
        assert "autochart_dev  not created yet" in result.output and f"adopted {n.legacy_id}" in result.output


def profiles(n: Newcomer) -> None:
    result = n.run("make profiles")
    assert result.code == 0, result.output
    assert "[profile autochart_dev_paul]" in result.output and "[default]" not in result.output
    assert "from org.yaml: edit org.yaml and run" in result.output


def profiles_write(n: Newcomer) -> None:
    result = n.run("make profiles ARGS=--write")
    assert result.code == 0, result.output
    config = n.home / ".aws" / "config"
    text = config.read_text()
    assert "# BEGIN awsenvs" in text and "[profile autochart_dev_paul]" in text and "[default]" not in text
    assert text.startswith(OWN_CONFIG)  # the user's own profile, byte for byte
    assert config.stat().st_mode & 0o777 == 0o600
    assert list((n.home / ".aws").glob("config.*.bak"))  # the previous file, backed up


def signin(n: Newcomer) -> None:
    result = n.run("make signin")
    assert result.code == 0, result.output
    assert "https://winterwindsoftware-autochart-dev.signin.aws.amazon.com/console" in result.output


def audit(n: Newcomer) -> None:
    result = n.run("make audit")
    # The emulator's management root has no MFA and paul enrolled no device: failures, found.
    assert result.code == 2 and "Error 1" in result.output, result.output[-3000:]
    for row in ("root credentials", "alias", "password policy", "no [default] profile"):
        assert row in result.output, row
    assert "│ drift" not in result.output, result.output[-3000:]  # as applied: every managed object as org.yaml says
    no_traceback(result)


def plan_all(n: Newcomer) -> None:
    result = n.run("make plan ARGS=--all")
    assert result.code == 0, result.output[-3000:]
    assert "changes planned" not in result.output and result.output.count("no changes") >= 4


def plan_some(n: Newcomer) -> None:
    result = n.run('make plan ARGS="--product autochart --env dev"')
    assert result.code == 0, result.output[-3000:]
    table = [line for line in result.output.splitlines() if line.startswith("│")]
    assert sorted(line.split("│")[1].strip() for line in table) == ["autochart-dev", "management"], table


def synth_hcl(n: Newcomer) -> None:
    result = n.run("make synth ARGS=--hcl")
    assert result.code == 0, result.output[-3000:]
    stacks = n.root / "cdktf.out" / "stacks"
    assert sorted(p.parent.name for p in stacks.glob("*/cdk.tf")) == ["autochart-dev", "autochart-legacy",
                                                                       "autochart-prod", "management"]
    assert n.accounts["autochart_dev"] in (stacks / "autochart-dev" / "cdk.tf").read_text()  # the real id as default


def export_modules(n: Newcomer) -> None:
    result = n.run("make export-modules")
    assert result.code == 0, result.output[-3000:]
    for module in ("organization", "account", "iam"):
        assert (n.root / "terraform-modules" / module / "main.tf").is_file(), module


def password(n: Newcomer) -> None:
    command = ".venv/bin/python main.py password paul --stack autochart-prod"
    piped = n.run(command)
    assert piped.code == 1 and "refusing to write a password to a pipe" in piped.output
    shown = n.run_in_terminal(command, lambda prompt: None)
    assert shown.code == 0, shown.output
    assert "Initial console password of paul in autochart_prod" in shown.output
    assert re.search(r"password     \S{8,}", shown.output), shown.output


def member_credentials(n: Newcomer) -> None:
    """A member account's credentials, with management_account_id unset (as org.yaml ships)."""
    with n.boto():
        creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{n.accounts['autochart_dev']}:role/"
                                                        "OrganizationAccountAccessRole",
                                                RoleSessionName="newcomer")["Credentials"]
    env = {**n.env, "AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
           "AWS_SESSION_TOKEN": creds["SessionToken"]}
    for command in ("make plan", "make audit"):
        result = n.run(command, env=env)
        assert result.code == 2, result.output[-3000:]
        [line] = error_lines(result)
        assert f"account {n.accounts['autochart_dev']}, the member account of stack autochart-dev" in line, line
        assert "awsenvs needs the management account's credentials" in line
        assert 'set organization.management_account_id: "123456789012"' in line
        no_traceback(result)


def readme_state_block() -> str:
    """The `state:` block the README tells a newcomer to put into org.yaml for S3."""
    return re.search(r"^```yaml\n(state:\n.*?)^```", README.read_text(), flags=re.M | re.S).group(1)


def bootstrap(n: Newcomer) -> None:
    """The README's move from local state to S3: org.yaml edited as it shows, then bootstrap."""
    block = readme_state_block()
    assert f"bucket: {BUCKET}" in block
    n.edit_org("state:\n  backend: local                       # local | s3 | cloud\n", block)
    before = n.local_states()
    assert "management.tfstate" in before
    # Before bootstrap: plan refuses to start from an empty remote state.
    early = n.run("make plan")
    assert early.code == 2 and "run `bootstrap`, which moves it into the new backend" in early.output, early.output[-2000:]
    no_traceback(early)

    refused = n.run("make bootstrap")  # no terminal, no --yes: nothing applied
    assert refused.code == 2 and "refusing to apply the bootstrap plan above" in refused.output
    result = n.run_in_terminal("make bootstrap", account_names())
    assert result.code == 0, result.output[-4000:]
    assert "moving it to s3://winterwindsoftware-tfstate/awsenvs/<stack>.tfstate" in result.output
    no_traceback(result)
    assert n.local_states() == ["bootstrap.tfstate"]  # bootstrap's own stays local; the others moved
    [backup] = (n.root / "state" / "winterwindsoftware").glob("moved-*")
    assert sorted(p.name for p in backup.glob("*.tfstate")) == sorted(s for s in before if s != "bootstrap.tfstate")
    assert backup.stat().st_mode & 0o777 == 0o700
    assert f"the local files are kept in {backup}" in result.output
    with n.boto():
        s3 = boto3.client("s3")
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [f"awsenvs/{stack}.tfstate" for stack in sorted(("management", "autochart-legacy", "autochart-dev",
                                                                     "autochart-prod"))]


def readme_ci_block() -> str:
    """The `ci:` block the README's team section tells a newcomer to add to org.yaml."""
    return re.search(r"^```yaml\n(ci:\n.*?)^```", README.read_text(), flags=re.M | re.S).group(1)


CI_PLAN_ROLE = "arn:aws:iam::123456789012:role/awsenvs-github-plan"


def bootstrap_ci(n: Newcomer) -> None:
    """The README's team door: the `ci:` block added as it shows, first without the management
    account's id (org.yaml ships it commented out: a newcomer's mistake), then with it."""
    path = n.root / "org.yaml"
    path.write_text(path.read_text() + readme_ci_block())
    forgot = n.run("make bootstrap")
    assert forgot.code == 2, forgot.output[-3000:]
    [line] = error_lines(forgot)
    assert "organization.management_account_id: required with ci.github" in line, line
    no_traceback(forgot)
    n.edit_org('  # management_account_id: "123456789012"', '  management_account_id: "123456789012"')
    result = n.run_in_terminal("make bootstrap", account_names())
    assert result.code == 0, result.output[-4000:]
    assert CI_PLAN_ROLE in result.output and "arn:aws:iam::123456789012:role/awsenvs-github-apply" in result.output
    assert "`make ci`" in result.output
    no_traceback(result)


def apply_ci(n: Newcomer) -> None:
    """The next apply gives every member account the plan role's read-only way in."""
    result = n.run_in_terminal("make apply", account_names())
    assert result.code == 0, result.output[-4000:]
    no_traceback(result)
    from awsenvs import aws

    with n.boto():
        for name, account_id in n.accounts.items():
            if account_id == "123456789012":
                continue
            iam = aws.assume_role_session(account_id, "OrganizationAccountAccessRole").client("iam")
            trust = iam.get_role(RoleName="awsenvs-github-read")["Role"]["AssumeRolePolicyDocument"]
            assert CI_PLAN_ROLE in str(trust), (name, trust)


def ci_workflows(n: Newcomer) -> None:
    """`make ci` in a folder that is no git repository: beside org.yaml, and it says so."""
    result = n.run("make ci")
    assert result.code == 0, result.output[-3000:]
    written = sorted(p.name for p in (n.root / ".github" / "workflows").glob("*.yml"))
    assert written == ["awsenvs-apply.yml", "awsenvs-drift.yml", "awsenvs-plan.yml"], written
    no_traceback(result)


def plan_after_bootstrap(n: Newcomer) -> None:
    result = n.run("make plan")
    assert result.code == 0, result.output[-3000:]
    assert "changes planned" not in result.output and result.output.count("no changes") == 4


OWN_CONFIG = "[profile mine]\nregion = eu-west-1\n"


def sandbox(n: Newcomer) -> None:
    (n.home / ".aws").mkdir(exist_ok=True)
    (n.home / ".aws" / "config").write_text(OWN_CONFIG)
    result = n.run("make sandbox", env={k: v for k, v in n.env.items() if k not in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                                                                    "AWS_SECRET_ACCESS_KEY", "AWS_CA_BUNDLE")})
    assert result.code == 0, result.output[-4000:]
    for expected in ("Adoption rehearsal: autochart-legacy 210987654321 is",
                     "ok  second plan --all (must find no changes) (exit 0)",
                     "[profile autochart_prod_paul_keys]", "No MFA device yet",
                     "https://winterwindsoftware-autochart-prod.signin.aws.amazon.com/console",
                     "root MFA", "root credentials", "Emulator stopped",
                     # the default guardrails and centralized root access are applied; only what the emulator
                     # cannot evaluate is listed as not rehearsed
                     "not rehearsed  centralized root access: it is enabled in the emulator",
                     "not rehearsed  guardrail enforcement"):
        assert expected in result.output, expected
    assert "not rehearsed  budget alerts" not in result.output  # org.yaml sets no budget
    assert (n.home / ".aws" / "config").read_text() == OWN_CONFIG  # the sandbox wrote into a home of its own
    assert not (n.root / "state").exists() and not (n.root / "cdktf.out").exists()
    no_traceback(result)


def import_org(n: Newcomer) -> None:
    """The README's import of the organization as it now is (awsenvs made it: a round trip)."""
    taken = n.run("make import")  # the mistake first: org.yaml is there, and import never overwrites it
    assert taken.code == 2 and [line for line in error_lines(taken)] == [
        "error: org.yaml: already exists; import writes a new org.yaml: choose another --output, or pass --force to "
        "replace it (a backup is kept beside it)"], taken.output[-2000:]
    result = n.run('make import ARGS="--output imported.yaml"')
    assert result.code == 0, result.output[-4000:]
    no_traceback(result)
    written = yaml.safe_load((n.root / "imported.yaml").read_text())
    environments = written["products"]["autochart"]["environments"]
    assert {e["account_id"] for e in environments.values()} == {n.accounts["autochart_dev"], n.accounts["autochart_prod"],
                                                                 n.legacy_id}
    assert "found: product autochart (OU autochart): " in result.output


def validate_imported(n: Newcomer) -> None:
    result = n.run("make validate ORG=imported.yaml")
    assert result.code == 0, result.output
    assert "imported.yaml: ok: 1 product(s), 3 account(s)" in result.output


def make_test(n: Newcomer) -> None:
    """`make test` is this suite: CI runs it (.ci/run), so it is not run again from in here."""
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# Each README command, and what running it must show (README order).
STEPS: dict[str, Callable[[Newcomer], None]] = {
    "make sandbox": sandbox,
    "make test": make_test,
    "make validate": validate,
    "make tree": tree,
    "make plan": None,  # three times in the README: first_plan, plan_again, plan_after_bootstrap (see below)
    "make apply": None,  # twice in the README: first_apply, apply_ci (see below)
    "make profiles": profiles,
    "make profiles ARGS=--write": profiles_write,
    "make signin": signin,
    "make audit": audit,
    "make plan ARGS=--all": plan_all,
    'make plan ARGS="--product autochart --env dev"': plan_some,
    "make synth ARGS=--hcl": synth_hcl,
    "make export-modules": export_modules,
    ".venv/bin/python main.py password paul --stack autochart-prod": password,
    "make bootstrap": None,  # twice: bootstrap (state into S3), bootstrap_ci (GitHub's roles)
    "make ci": ci_workflows,
    'make import ARGS="--output imported.yaml"': import_org,
    "make validate ORG=imported.yaml": validate_imported,
}
PLANS = [first_plan, plan_again, plan_after_bootstrap]  # the README's `make plan` lines, in order
BOOTSTRAPS = [bootstrap, bootstrap_ci]
APPLIES = [first_apply, apply_ci]
REPEATED = {"make plan": PLANS, "make bootstrap": BOOTSTRAPS, "make apply": APPLIES}


def test_the_readme_and_this_module_are_in_step():
    commands = readme_commands()
    assert commands, "no sh blocks in the README"
    not_run = [c for c in commands if c not in STEPS]
    assert not not_run, f"README commands this test does not run: {not_run}"
    assert [c for c in STEPS if c not in commands] == [], "steps for commands the README no longer shows"
    for command, steps in REPEATED.items():
        assert commands.count(command) == len(steps), command


def test_readme_commands_parse_as_typed():
    text = "x\n```sh\nmake plan                 # guard, plan\n# a comment\n\nmake apply\n```\n```yaml\nx: 1\n```\n"
    assert readme_commands(text) == ["make plan", "make apply"]


def test_the_newcomers_path(newcomer):
    """Every README command in README order, on one organization, the mistakes on the way."""
    n = newcomer
    with n.boto():  # the newcomer's AWS: an organization with one legacy account
        client = boto3.client("organizations")
        client.create_organization(FeatureSet="ALL")
        n.legacy_id = client.create_account(AccountName=LEGACY_NAME, Email=LEGACY_EMAIL)["CreateAccountStatus"]["AccountId"]
    repeated = {command: iter(steps) for command, steps in REPEATED.items()}
    for command in readme_commands():
        step = next(repeated[command]) if command in repeated else STEPS[command]
        step(n)
        if step is first_apply:
            tree(n)  # again, now that the accounts exist
            member_credentials(n)
