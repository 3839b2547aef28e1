"""The Terraform adapter: the typed plan view on recorded `terraform show -json` output, and
plan summaries from real terraform (its built-in terraform_data resource: no provider, no AWS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from awsenvs.terraform import TERRAFORM_GOGC, Plan, PlanSummary, Terraform, resource_changes

FIXTURE = Path(__file__).parent / "fixtures" / "plan-show.json"


def test_resource_changes_view_of_a_recorded_plan():
    changes = {c.address: c for c in resource_changes(json.loads(FIXTURE.read_text()))}
    assert changes["aws_iam_user.alice"].action == "create"
    assert changes["aws_iam_account_alias.alias"].action == "replace" and changes["aws_iam_account_alias.alias"].importing
    assert changes["aws_iam_group.developers"].action == "import" and changes["aws_iam_group.developers"].changes
    assert changes["aws_organizations_account.shop_qa"].action == "forget"
    assert not changes["aws_iam_group.sysadmins"].changes
    summary = PlanSummary.of(c for c in changes.values() if c.changes)
    # replace counts as one add and one destroy; three imports, whatever else they do.
    assert summary == PlanSummary(add=2, change=1, destroy=2, imports=3, forget=1)


def _config(directory: Path, document: dict) -> None:
    (directory / "main.tf.json").write_text(json.dumps(document))


def test_plan_summary_comes_from_the_exit_code_never_a_missing_event(tmp_path):
    terraform = Terraform()
    resource = {"resource": {"terraform_data": {"a": {"input": "one"}, "b": {"input": "two"}}}}
    _config(tmp_path, resource)
    terraform.init(tmp_path)
    plan = tmp_path / "p.tfplan"
    planned = terraform.plan(tmp_path, plan)
    assert planned.summary == PlanSummary(add=2)
    # Each resource's change comes from terraform's planned_change events.
    assert sorted((c.action, c.address) for c in planned.changes) == [("create", "terraform_data.a"),
                                                                       ("create", "terraform_data.b")]
    terraform.apply(tmp_path, plan)
    assert terraform.plan(tmp_path, plan) == Plan(PlanSummary())  # exit code 0

    # An output-only change: no resource changes, but something to apply.
    _config(tmp_path, {**resource, "output": {"x": {"value": "new"}}})
    assert terraform.plan(tmp_path, plan).summary.changes

    # An update and a replacement, each named with its action.
    _config(tmp_path, {"resource": {"terraform_data": {"a": {"input": "changed"},
                                                       "b": {"input": "two", "triggers_replace": ["x"]}}}})
    assert {c.address: c.action for c in terraform.plan(tmp_path, plan).changes} == {
        "terraform_data.a": "update", "terraform_data.b": "replace"}

    # A `removed` block (forget) alone: terraform's own change_summary counts nothing.
    _config(tmp_path, {"resource": {"terraform_data": {"a": {"input": "one"}}},
                       "removed": [{"from": "terraform_data.b", "lifecycle": {"destroy": False}}]})
    planned = terraform.plan(tmp_path, plan)
    assert planned.summary == PlanSummary(forget=1)
    assert [(c.action, c.address) for c in planned.changes] == [("forget", "terraform_data.b")]
    terraform.apply(tmp_path, plan)
    assert terraform.state_list(tmp_path) == ["terraform_data.a"]


def test_relative_paths_reach_terraform_absolute(tmp_path, monkeypatch):
    """A relative stack folder and plan file (what `cdktf.out/...` is from the checkout's root)
    work: terraform runs in the folder and would resolve `-out=` inside it otherwise."""
    stack = tmp_path / "cdktf.out" / "stacks" / "s"
    stack.mkdir(parents=True)
    _config(stack, {"resource": {"terraform_data": {"a": {"input": "one"}}}})
    monkeypatch.chdir(tmp_path)
    terraform = Terraform()
    relative = Path("cdktf.out/stacks/s")
    terraform.init(relative)
    assert terraform.plan(relative, relative / "awsenvs.tfplan").summary == PlanSummary(add=1)
    assert (stack / "awsenvs.tfplan").is_file() and not (stack / "cdktf.out").exists()
    assert [c.address for c in terraform.show_plan(relative, relative / "awsenvs.tfplan")] == ["terraform_data.a"]
    terraform.apply(relative, relative / "awsenvs.tfplan")
    assert terraform.state_list(relative) == ["terraform_data.a"]


def test_terraform_runs_with_a_lazier_go_gc_unless_the_user_chose_one():
    assert Terraform(env={"PATH": os.environ["PATH"]}).env["GOGC"] == TERRAFORM_GOGC
    assert Terraform(env={"PATH": os.environ["PATH"], "GOGC": "off"}).env["GOGC"] == "off"


def test_the_mirror_is_found_where_the_sandbox_finds_it(tmp_path):
    """No TF_PROVIDER_MIRROR: the usual plugin folders (the same ones everywhere); the user's
    own provider_installation config wins over them; none and no registry: one line saying
    what to set."""
    from awsenvs.terraform import find_provider_mirror

    home = tmp_path / "home"
    mirror = home / ".terraform.d" / "plugins"
    (mirror / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    found = find_provider_mirror(env)
    assert found is not None  # /opt/tf-plugins on this machine comes first, else ~/.terraform.d/plugins
    terraform = Terraform(env=env)
    assert terraform.mirror == found
    assert str(found) in Path(terraform.env["TF_CLI_CONFIG_FILE"]).read_text()  # installs from it only

    own = tmp_path / "terraform.rc"
    own.write_text('provider_installation {\n  direct {}\n}\n')
    theirs = Terraform(env={**env, "TF_CLI_CONFIG_FILE": str(own)})
    assert theirs.mirror is None and theirs.env["TF_CLI_CONFIG_FILE"] == str(own)


def test_an_unreachable_registry_is_one_line_saying_what_to_set(tmp_path):
    import pytest

    from awsenvs.terraform import TerraformError

    own = tmp_path / "terraform.rc"
    own.write_text('provider_installation {\n  direct {}\n}\n')
    # The registry out of reach for sure: a proxy nobody listens on.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TF_CLI_CONFIG_FILE": str(own),
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    _config(tmp_path, {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}}})
    with pytest.raises(TerraformError) as excinfo:
        Terraform(env=env).init(tmp_path)
    message = str(excinfo.value)
    assert message.startswith("terraform cannot install the AWS provider: the registry is out of reach and no provider "
                              "mirror was found; set TF_PROVIDER_MIRROR"), message
    assert "\n" not in message


def test_relative_binary_and_path_variables_reach_terraform_absolute(tmp_path, monkeypatch):
    """TERRAFORM_BIN=./bin/terraform, AWS_CONFIG_FILE=.aws/config: terraform runs in each stack's
    folder, where they would name other files."""
    import shutil

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "terraform").symlink_to(shutil.which("terraform"))
    monkeypatch.chdir(tmp_path)
    terraform = Terraform(binary="./bin/terraform", env={"PATH": os.environ["PATH"], "AWS_CONFIG_FILE": ".aws/config",
                                                         "TF_PLUGIN_CACHE_DIR": "cache"})
    assert terraform.binary == str(tmp_path / "bin" / "terraform")
    assert terraform.env["AWS_CONFIG_FILE"] == str(tmp_path / ".aws" / "config")
    assert terraform.env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache")
    assert terraform.version


def test_ctrl_c_outside_a_run_hands_terraform_one_sigint_and_waits_for_it(tmp_path):
    """A Ctrl-C in a verb without the run's own handling (bootstrap, tree, password): the
    terminal's SIGINT reaches only awsenvs (terraform has its own process group), which then
    gives terraform exactly one SIGINT and waits for it to stop, never leaving it running."""
    import signal
    import threading
    import time

    import pytest

    marks = tmp_path / "marks"
    fake = tmp_path / "terraform"
    fake.write_text(f'#!/bin/sh\ntrap \'echo INT >> {marks}; sleep 0.5; echo stopped >> {marks}; exit 1\' INT\n'
                    f'echo started >> {marks}\nwhile true; do sleep 0.1; done\n')
    fake.chmod(0o755)
    terraform = Terraform(binary=str(fake), env={"PATH": os.environ["PATH"]})

    def press_ctrl_c() -> None:
        deadline = time.monotonic() + 10
        while not marks.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # what a terminal does to awsenvs' own group

    # Python's Ctrl-C, whatever this run inherited (a background job starts with SIGINT ignored).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=press_ctrl_c, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            terraform.run(["apply"], cwd=tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert marks.read_text().split() == ["started", "INT", "stopped"]  # one SIGINT, and it was waited for


def test_a_failure_of_creates_that_met_existing_objects_names_them():
    """Only when every error names its resource and says its object exists (the answers AWS
    gives the retry of a create whose response was lost) can the run import and go on."""
    from awsenvs.terraform import Diagnostic, existing_objects

    user = Diagnostic("error", "creating IAM User (tom)", "operation error IAM: CreateUser, https response error "
                      "StatusCode: 409, EntityAlreadyExists: User with name tom already exists.", "aws_iam_user.tom")
    account = Diagnostic("error", "waiting for AWS Organizations Account (shop_dev) create", "unexpected state "
                         "'FAILED', wanted target 'SUCCEEDED'. last error: EMAIL_ALREADY_EXISTS",
                         "aws_organizations_account.shop_dev")
    other = Diagnostic("error", "creating IAM Group (x)", "AccessDenied", "aws_iam_group.x")
    assert existing_objects([user, account, user]) == ("aws_iam_user.tom", "aws_organizations_account.shop_dev")
    assert existing_objects([user, other]) == ()
    assert existing_objects([Diagnostic("error", "EntityAlreadyExists", "")]) == ()  # no resource named
    assert existing_objects([]) == ()


def test_an_update_names_each_attribute_it_changes_old_and_new(tmp_path):
    """The plan's event stream says only `update`; what it changes, old -> new, comes from the
    saved plan (read only when something is updated or replaced) and reaches the change lines:
    plain values, lists by what they gain and lose, a JSON document (a policy's text) as a diff
    with --detail."""
    from awsenvs.results import change_lines

    terraform = Terraform()
    old_policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]})
    new_policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})
    _config(tmp_path, {"resource": {"terraform_data": {
        "session": {"input": "PT8H"}, "types": {"input": ["SERVICE_CONTROL_POLICY"]}, "policy": {"input": old_policy}}}})
    terraform.init(tmp_path)
    plan = tmp_path / "p.tfplan"
    created = terraform.plan(tmp_path, plan)
    assert all(not c.attributes for c in created.changes)  # creates: nothing to compare
    terraform.apply(tmp_path, plan)
    _config(tmp_path, {"resource": {"terraform_data": {
        "session": {"input": "PT4H"}, "types": {"input": ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"]},
        "policy": {"input": new_policy}}}})
    changes = {c.address: c for c in terraform.plan(tmp_path, plan).changes}
    session = {a.name: a for a in changes["terraform_data.session"].attributes}
    assert (session["input"].before, session["input"].after) == ("PT8H", "PT4H")
    assert session["output"].unknown  # computed from input at apply

    lines = change_lines(tuple(changes.values()))
    assert '           input: "PT8H" -> "PT4H"' in lines
    assert '           input: + "RESOURCE_CONTROL_POLICY"' in lines
    assert "           input: the document changes (+1 -1 lines; --detail shows the diff)" in lines
    detailed = change_lines(tuple(changes.values()), detail=True)
    assert '             -      "Action": "ec2:*",' in detailed and '             +      "Action": "s3:*",' in detailed
