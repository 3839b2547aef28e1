"""Mistakes answered in one line: every verb, through the real CLI, with real boto3.

An AWS_PROFILE that names no profile, an AWS answer botocore cannot parse, and org.yaml
problems all end in `error:` lines with the documented exit code, never a traceback.
Also: `tree` shows the ids the management stack's state knows, and the emulator's fills
for centralized root access answer as AWS documents them.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import EXAMPLE, ROOT, as_from_a_terminal


def _env(tmp_path: Path, **more: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDKTF_"))}
    env.update(HOME=str(home), AWS_REGION="eu-west-1", CDKTF_OUTDIR=str(tmp_path / "out"), **more)
    return env


def _cli(tmp_path: Path, *args: str, env: dict[str, str], config: Path = EXAMPLE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(config), *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


@pytest.mark.parametrize("args", [
    ("plan",), ("apply", "--yes"), ("profiles",), ("audit",), ("bootstrap",),
    ("password", "paul", "--stack", "autochart-legacy", "--force"),
])
def test_a_missing_profile_is_one_line_naming_it_and_the_files(tmp_path, args):
    env = _env(tmp_path, AWS_PROFILE="nope")
    proc = _cli(tmp_path, *args, env=env)
    assert proc.returncode == 1, proc.stderr
    home = Path(env["HOME"])
    assert proc.stderr.strip().splitlines() == [
        f"error: AWS_PROFILE=nope: no such profile in {home}/.aws/config or {home}/.aws/credentials (it has no "
        "profiles); set AWS_PROFILE to the management account's profile, or add that profile (`aws configure "
        "--profile nope`)"]


def test_the_missing_profile_line_lists_the_profiles_there(tmp_path):
    env = _env(tmp_path, AWS_PROFILE="acme-mgmt")
    (Path(env["HOME"]) / ".aws").mkdir()
    (Path(env["HOME"]) / ".aws" / "config").write_text("[profile acme-management]\nregion = eu-west-1\n[default]\n")
    proc = _cli(tmp_path, "audit", env=env)
    assert proc.returncode == 1
    assert "(profiles there: acme-management)" in proc.stderr and "Traceback" not in proc.stderr


class _NotAws(http.server.BaseHTTPRequestHandler):
    """Answers every request with an HTML error page: what a proxy or a broken endpoint gives."""

    def do_POST(self):  # noqa: N802 - http.server's name
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><html><title>500 Internal Server Error</title></html>")

    def log_message(self, *args):
        pass


def test_an_answer_botocore_cannot_parse_is_one_line(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _NotAws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = _env(tmp_path, AWS_ENDPOINT_URL=f"http://127.0.0.1:{server.server_port}", AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_MAX_ATTEMPTS="1")
        proc = _cli(tmp_path, "audit", env=env)
    finally:
        server.shutdown()
    assert proc.returncode == 1, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: AWS: ResponseParserError: Unable to parse response"), line
    assert "Traceback" not in proc.stderr


def test_an_unexpected_error_names_itself_as_a_bug():
    from awsenvs.cli import unexpected

    class Boom(Exception):
        pass

    assert unexpected(Boom("a\nb")) == ("unexpected Boom: a b (a bug in awsenvs: please report it with the command "
                                        "you ran; AWSENVS_DEBUG=1 shows the traceback)")


def test_help_lists_the_verbs_without_importing_one(tmp_path):
    """`--help` answers from the registry (awsenvs.cli.VERBS) alone: no verb's module is
    imported; each verb's module is imported when it is asked for."""
    probe = ("import sys; from awsenvs.cli import main; code = main(['--help']); "
             "verbs = sorted(m for m in sys.modules if m.startswith('awsenvs.cli.') and m != 'awsenvs.cli.common'); "
             "main(['plan', '--help']); "
             "print(code, verbs, sorted(m for m in sys.modules if m.startswith('awsenvs.cli.')))")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=_env(tmp_path), capture_output=True,
                          text=True, check=True)
    assert "Commands:" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "0 [] ['awsenvs.cli.common', 'awsenvs.cli.plan']"


def test_the_registry_names_every_verb_module_with_its_own_summary():
    """Each verb of VERBS is the command of its module, listed with the summary click derives
    from that command's own help (at any terminal width); every verb module is registered."""
    import click

    from awsenvs.cli import VERBS, cli

    ctx = cli.make_context("awsenvs", [])
    for verb, (_, summary) in VERBS.items():
        command = cli.get_command(ctx, verb)
        assert command is not None and command.name == verb
        for limit in (20, 45, 60, 10_000):
            assert click.Command(verb, help=summary).get_short_help_str(limit) == command.get_short_help_str(limit), verb
    from awsenvs.cli.ci import SUBCOMMANDS

    modules = {where.split(":")[0] for where, _ in (*VERBS.values(), *SUBCOMMANDS.values())}
    assert modules >= {f"awsenvs.cli.{path.stem}" for path in (ROOT / "awsenvs" / "cli").glob("*.py")
                       if path.stem not in ("__init__", "common")}


def test_the_ci_registry_names_every_subcommand_with_its_own_summary():
    """As VERBS: each `ci` subcommand of SUBCOMMANDS is the command of its module, listed with
    the summary click derives from that command's own help."""
    import click

    from awsenvs.cli.ci import SUBCOMMANDS, ci

    ctx = click.Context(ci)
    for name, (where, summary) in SUBCOMMANDS.items():
        module = where.split(":")[0]
        if not (ROOT / Path(*module.split("."))).with_suffix(".py").exists():
            continue  # its part of issue 36 is not merged yet
        command = ci.get_command(ctx, name)
        assert command is not None and command.name == name
        for limit in (20, 45, 60, 10_000):
            assert click.Command(name, help=summary).get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_an_unknown_verb_is_bad_input_with_a_suggestion(capsys):
    from awsenvs.cli import main

    assert main(["--config", str(EXAMPLE), "plna"]) == 2
    assert "Error: No such command 'plna'. Did you mean 'plan'?" in capsys.readouterr().err


def test_every_org_yaml_problem_is_its_own_error_line(tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text(EXAMPLE.read_text().replace("mfa: optional", "mfa: sometimes")
                      .replace('account_id: "210987654321"', 'account_id: "2109"'))
    proc = _cli(tmp_path, "validate", env=_env(tmp_path), config=config)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: org.yaml: products.autochart.environments.legacy.account_id: '2109' is not an AWS account id: use 12 "
        'digits, quoted ("012345678901")',
        "error: org.yaml: products.autochart.environments.dev.mfa: 'sometimes' is not allowed: use 'required' or "
        "'optional'",
        "error: org.yaml: 2 problems: fix them, then run validate again"]


def test_many_problems_are_capped_with_a_count():
    from awsenvs.config import ConfigError
    from awsenvs.config.errors import PROBLEMS_SHOWN

    error = ConfigError.of([f"org.yaml: products.p{i}: bad" for i in range(40)])
    lines = str(error).splitlines()
    assert len(lines) == PROBLEMS_SHOWN + 1 and len(error.problems) == 40
    assert lines[-1] == f"org.yaml: 40 problems (the first {PROBLEMS_SHOWN} shown): fix them, then run validate again"


def test_tree_shows_the_ids_the_management_state_knows(tmp_path):
    """Created accounts' ids come from the management stack's state (here a local state file,
    read without terraform), not only with an option."""
    config = tmp_path / "org.yaml"
    config.write_text(EXAMPLE.read_text())
    state = tmp_path / "state" / "winterwindsoftware"
    state.mkdir(parents=True)
    (state / "management.tfstate").write_text(json.dumps({
        "version": 4, "serial": 3, "lineage": "x", "resources": [],
        "outputs": {"account_ids": {"value": {"autochart-dev": "444444444444", "autochart-prod": "555555555555"},
                                    "type": ["map", "string"]}}}))
    proc = _cli(tmp_path, "tree", env=_env(tmp_path), config=config)
    assert proc.returncode == 0, proc.stderr
    assert "autochart_dev  444444444444" in proc.stdout and "autochart_prod  555555555555" in proc.stdout
    assert "not created yet" not in proc.stdout


def test_the_emulator_answers_centralized_root_access_as_aws_documents_it():
    """awsenvs/moto_server.py's fills: IAM's trusted access, then the features, only from the
    management account of an organization (the provider's aws_iam_organizations_features)."""
    import boto3

    from awsenvs.sandbox import Emulator, environ

    with Emulator() as emulator, environ(emulator.environment(Path("/nonexistent"))):
        iam, organizations = boto3.client("iam"), boto3.client("organizations")
        with pytest.raises(iam.exceptions.ClientError, match="OrganizationNotFoundException"):
            iam.list_organizations_features()
        organizations.create_organization(FeatureSet="ALL")
        with pytest.raises(iam.exceptions.ClientError, match="ServiceAccessNotEnabledException"):
            iam.enable_organizations_root_credentials_management()
        organizations.enable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
        assert iam.list_organizations_features()["EnabledFeatures"] == []
        iam.enable_organizations_root_credentials_management()
        answer = iam.enable_organizations_root_sessions()
        assert sorted(answer["EnabledFeatures"]) == ["RootCredentialsManagement", "RootSessions"]
        assert answer["OrganizationId"] == organizations.describe_organization()["Organization"]["Id"]
        assert iam.disable_organizations_root_sessions()["EnabledFeatures"] == ["RootCredentialsManagement"]
        member = organizations.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]["AccountId"]
        creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                                RoleSessionName="member")["Credentials"]
        as_member = boto3.client("iam", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"])
        with pytest.raises(iam.exceptions.ClientError, match="CallerIsNotManagementAccountException"):
            as_member.enable_organizations_root_sessions()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_ctrl_c_during_synth_is_one_line_and_leaves_nothing_behind(tmp_path):
    """A terminal's Ctrl-C reaches the whole foreground group: awsenvs and its jsii kernel
    (node).  The kernel ignores it (kernel_signals.js) and ends when awsenvs exits: no
    BrokenPipeError traceback, and jsii's temporary runtime folder is removed."""
    import signal
    import time

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = _env(tmp_path, TMPDIR=str(scratch))
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--config", str(EXAMPLE), "synth", "--force"],
                            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=as_from_a_terminal)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not list(scratch.rglob("jsii-runtime.js")):
        time.sleep(0.02)  # the kernel is up once jsii has unpacked its runtime
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == ["interrupted"], stderr
    assert list(scratch.iterdir()) == []


def test_aws_default_profile_is_read_first_as_botocore_does(tmp_path):
    env = _env(tmp_path, AWS_DEFAULT_PROFILE="gone", AWS_PROFILE="mine")
    (Path(env["HOME"]) / ".aws").mkdir()
    (Path(env["HOME"]) / ".aws" / "config").write_text("[profile mine]\nregion = eu-west-1\n")
    proc = _cli(tmp_path, "audit", env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: AWS_DEFAULT_PROFILE=gone: no such profile in "), proc.stderr


def test_member_credentials_are_refused_before_anything_reads_the_organization(tmp_path):
    """management_account_id unset and no id known for the account: its organization names
    its management account (DescribeOrganization), and the guard refuses in one line."""
    import boto3

    from awsenvs.sandbox import Emulator, environ

    with Emulator() as emulator:
        env = {**_env(tmp_path), **{k: v for k, v in emulator.environment(tmp_path / "home").items()
                                    if k.startswith("AWS_") and k != "AWS_DEFAULT_REGION"}}
        with environ({**env, "AWS_DEFAULT_REGION": "eu-west-1"}):
            organizations = boto3.client("organizations")
            organizations.create_organization(FeatureSet="ALL")
            member = organizations.create_account(AccountName="x", Email="x@example.com")["CreateAccountStatus"]["AccountId"]
            creds = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                                    RoleSessionName="member")["Credentials"]
        env.update(AWS_ACCESS_KEY_ID=creds["AccessKeyId"], AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                   AWS_SESSION_TOKEN=creds["SessionToken"])
        config = tmp_path / "org.yaml"
        config.write_text(EXAMPLE.read_text().replace('        account_id: "210987654321"\n', ""))  # nothing adopted
        proc = _cli(tmp_path, "plan", env=env, config=config)
    assert proc.returncode == 1, proc.stderr
    [line] = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
    assert line == (f"error: these credentials are for account {member}, a member account of organization "
                    f"{line.split('organization ')[1].split(' ')[0]} (not one of the accounts org.yaml knows so far), not "
                    "its management account 123456789012: awsenvs needs the management account's credentials "
                    '(AWS_PROFILE); set organization.management_account_id: "123456789012" in org.yaml so that the '
                    "guard checks it first")
    assert "Traceback" not in proc.stderr
    # Nothing written but the run lock, beside the state folder (taken before anything else).
    assert [path.name for path in (tmp_path / "state").iterdir()] == ["winterwindsoftware.lock"]


def test_a_wrong_management_account_id_is_named_when_the_credentials_manage_the_organization(tmp_path):
    """The credentials are the organization's management account, org.yaml's
    management_account_id another id (a typo): the line says org.yaml's id may be the wrong
    one, names both ids and what to set."""
    import boto3

    from awsenvs.sandbox import Emulator, environ

    with Emulator() as emulator:
        env = {**_env(tmp_path), **{k: v for k, v in emulator.environment(tmp_path / "home").items()
                                    if k.startswith("AWS_") and k != "AWS_DEFAULT_REGION"}}
        with environ({**env, "AWS_DEFAULT_REGION": "eu-west-1"}):
            organization = boto3.client("organizations").create_organization(FeatureSet="ALL")["Organization"]
            management = boto3.client("sts").get_caller_identity()["Account"]
        wrong = "111122223333"
        config = tmp_path / "org.yaml"
        config.write_text(EXAMPLE.read_text().replace("organization:\n",
                                                      f'organization:\n  management_account_id: "{wrong}"\n', 1))
        plan = _cli(tmp_path, "plan", env=env, config=config)
        audit = _cli(tmp_path, "audit", env=env, config=config)
    assert organization["MasterAccountId"] == management != wrong
    for proc in (plan, audit):
        assert proc.returncode == 1, proc.stderr
        assert [l for l in proc.stderr.splitlines() if l.startswith("error:")] == [
            f"error: these credentials are for account {management}, the management account of organization "
            f"{organization['Id']}, but organization.management_account_id in org.yaml is {wrong}: if {management} is "
            f'your management account, that id is the wrong one: set management_account_id: "{management}"; '
            f"otherwise switch to the credentials of {wrong} (AWS_PROFILE)"], proc.stderr
        assert "Traceback" not in proc.stderr


def test_the_jsii_kernel_exit_is_quiet_when_the_kernel_died_first(tmp_path):
    """awsenvs/kernel.py wraps jsii's kernel stop (a jsii upgrade that changes it fails here):
    a kernel already gone makes its goodbye write fail; the clean-up still runs, quietly."""
    import contextlib
    import threading

    from jsii._kernel.providers import process

    from awsenvs import kernel

    assert process._NodeProcess.stop is kernel._stop
    dead = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    dead.wait()  # jsii's goodbye ({"exit":0}) is buffered, then closing its stdin raises BrokenPipeError
    cleaned = []

    class Kernel:  # what jsii's stop reads of its _NodeProcess
        stop = kernel._stop  # jsii's stop unregisters its own atexit hook by this name
        _process = dead
        sink_thread = threading.Thread(target=lambda: None)
        _ctx_stack = contextlib.ExitStack()

    Kernel.sink_thread.start()
    Kernel._ctx_stack.callback(lambda: cleaned.append(True))
    kernel._stop(Kernel())
    assert cleaned == [True]


@pytest.mark.parametrize("args, code", [
    # An unquoted path split in two: click takes `orgs/org.yaml` for the verb.
    (("--config", "my", "orgs/org.yaml", "plan"), 1),
    (("plan", "--product"), 1),  # an option without its value
    (("plan", "--env"), 1),
    (("plan", "--nope"), 1),
    (("validat",), 2),  # every other verb's usage errors are bad input
    (("validate", "--nope"), 2),
    (("ci", "plan", "--nope"), 2),  # `ci plan` is another command: its 2 is bad input, as everywhere else
])
def test_a_usage_error_never_has_plans_changes_code(tmp_path, args, code):
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=tmp_path, env=_env(tmp_path),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == code, proc.stderr
    assert "Error:" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [
    ['ORG=my orgs/org.yaml'],  # as the shell hands over ORG="my orgs/org.yaml"
    ["ARGS=--env", "prod"],  # ARGS=--env prod, unquoted
    ["ARGS=--product"],
])
def test_make_plan_reports_a_usage_error_as_an_error(tmp_path, args):
    """`make plan` says "changes planned" only for plan's own exit 2, never for a mistake on
    the command line (the Makefile quotes ORG; a word make takes for a target is named)."""
    proc = subprocess.run(["make", "--no-print-directory", "plan", *args], cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode != 0, proc.stdout
    assert "changes planned" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_make_names_a_word_it_took_for_a_target(tmp_path):
    proc = subprocess.run(["make", "--no-print-directory", "prod"], cwd=ROOT, env=_env(tmp_path),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2
    assert "'prod' is not a target" in proc.stderr and "needs quotes" in proc.stderr


@pytest.mark.parametrize("code, message", [
    ("ExpiredToken", "The security token included in the request is expired"),
    ("InvalidClientTokenId", "The security token included in the request is invalid."),
    ("UnrecognizedClientException", "The security token included in the request is invalid."),
])
def test_credentials_aws_refuses_get_a_one_line_hint_to_refresh_them(code, message):
    """STS's and the JSON services' answers to expired or unknown credentials
    (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html)."""
    import boto3
    from botocore.stub import Stubber

    from awsenvs import aws

    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sts) as stub, pytest.raises(aws.AwsError) as raised:
        stub.add_client_error("get_caller_identity", code, message, 403)
        aws.call("sts get-caller-identity", sts.get_caller_identity)
    [line] = str(raised.value).splitlines()
    assert line.startswith(f"sts get-caller-identity: {code}: {message}")
    assert line.endswith("refresh the session (`aws sso login --profile <profile>` for an IAM Identity Center profile), "
                         "or use new access keys")


def test_an_expired_sso_session_gets_the_hint_and_other_errors_do_not():
    import botocore.exceptions

    from awsenvs import aws

    def expired():
        raise botocore.exceptions.TokenRetrievalError(provider="sso", error_msg="Token has expired and refresh failed")

    with pytest.raises(aws.AwsError, match=r"Token has expired and refresh failed; these credentials are expired"):
        aws.call("sts get-caller-identity", expired)
    with pytest.raises(aws.AwsError) as raised:
        aws.maybe("iam get-user", lambda: (_ for _ in ()).throw(botocore.exceptions.ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetUser")), ("NoSuchEntity",))
    assert "refresh the session" not in str(raised.value)


def test_signin_user_names_a_user_of_org_yaml_and_excludes_html(tmp_path):
    """`signin --user`: an unknown name is one line listing the users org.yaml knows; with
    --html (everyone's page) it is refused too: both before any state or AWS is read."""
    env = _env(tmp_path)
    unknown = _cli(tmp_path, "signin", "--user", "nobody", env=env)
    assert (unknown.returncode, unknown.stderr) == (2, "error: --user nobody: no such user in org.yaml (users: paul)\n")
    both = _cli(tmp_path, "signin", "--user", "paul", "--html", str(tmp_path / "page.html"), env=env)
    assert both.returncode == 2 and both.stderr.startswith("error: --user and --html: choose one"), both.stderr
    assert not (tmp_path / "page.html").exists()
