"""Incremental synth (issue 11): a stack is rebuilt only when its part of org.yaml changed,
and the files it keeps are exactly what a full synth writes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from awsenvs import synth
from awsenvs.config import load
from awsenvs.synth import FINGERPRINT_FILE, MANIFEST, stack_inputs, synthesize
from conftest import IDENTITY_CENTER, TWO_PRODUCTS


def _files(outdir: Path) -> dict[str, str]:
    return {p.parent.name: p.read_text() for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


def _step(doc: dict, change) -> dict:
    doc = json.loads(json.dumps(doc))
    change(doc)
    return doc


def _shop(doc):
    return doc["products"]["shop"]


# Each change is applied on top of the previous ones: (what, change, stacks it must rebuild).
CHANGES = [
    ("a user joins shop", lambda d: _shop(d)["users"].update({"dave": {"groups": ["developers"]}}),
     {"shop-dev", "shop-prod"}),  # staging lists its own users
    ("shop-prod's alias", lambda d: _shop(d)["environments"]["prod"].update({"alias": "acme-shop-live"}),
     {"shop-prod"}),  # the alias lives in the account stack only
    ("a group's policies", lambda d: d["groups"]["developers"]["policies"].append("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
     # management too: it keeps each account's groups (the guardrails name their MFA roles)
     {"management", "shop-dev", "shop-prod", "billing-prod", "billing-legacy"}),
    ("billing's guardrails", lambda d: d["products"]["billing"]["guardrails"].update({"deny_root_user": True}),
     {"management"}),
    ("the password policy", lambda d: d["password_policy"].update({"minimum_length": 18}),
     {"shop-dev", "shop-staging", "billing-prod", "billing-legacy"}),  # shop-prod sets its own length
    ("a budget", lambda d: d["budget"].update({"monthly_usd": 150}),
     {"shop-dev"}),  # staging has none, shop-prod and billing their own
    ("s3 state", lambda d: d.update({"state": {"backend": "s3", "s3": {"bucket": "acme-tfstate", "region": "eu-west-1"}}})
     or d["organization"].update({"management_account_id": "111111111111"}),
     {"management", "shop-dev", "shop-staging", "shop-prod", "billing-prod", "billing-legacy"}),
    # Every account stack makes the read role of pull requests' plans.
    ("ci.github", lambda d: d.update({"ci": {"github": {"repository": "acme/infra"}}}),
     {"management", "shop-dev", "shop-staging", "shop-prod", "billing-prod", "billing-legacy"}),
    ("an environment removed", lambda d: _shop(d)["environments"].pop("staging"), {"management"}),
]


def test_incremental_synth_writes_what_a_full_synth_writes(tmp_path):
    """After each change, the incremental outdir equals a fresh full synth of the same org.yaml,
    and only the stacks built from the changed part were rebuilt."""
    state = tmp_path / "state"
    incremental = tmp_path / "incremental"
    doc = yaml.safe_load(TWO_PRODUCTS.read_text())
    source = tmp_path / "org.yaml"
    source.write_text(yaml.safe_dump(doc))
    first = synthesize(load(source), incremental, state_dir=state)
    assert set(first.rebuilt) == set(first.stacks)
    for i, (what, change, expected) in enumerate(CHANGES):
        doc = _step(doc, change)
        source.write_text(yaml.safe_dump(doc))
        org = load(source)
        before = _files(incremental)
        done = synthesize(org, incremental, state_dir=state)
        full = tmp_path / f"full{i}"
        synthesize(org, full, state_dir=state, force=True)
        after = _files(incremental)
        assert after == _files(full), what
        changed = {s for s in org.stacks if before.get(s) != after.get(s)}
        assert changed <= set(done.rebuilt), f"{what}: output changed but not rebuilt: {changed - set(done.rebuilt)}"
        assert set(done.rebuilt) == expected, what
        # The manifest lists exactly the stacks, as cdktn's whole-app synth does.
        manifest = json.loads((incremental / MANIFEST).read_text())
        assert list(manifest["stacks"]) == list(org.stacks), what
    assert done.removed == ("shop-staging",)
    assert not (incremental / "stacks" / "shop-staging").exists()
    assert synthesize(org, incremental, state_dir=state).rebuilt == ()


def test_identity_center_users_live_in_the_management_stack(tmp_path):
    doc = yaml.safe_load(IDENTITY_CENTER.read_text())
    source = tmp_path / "org.yaml"
    source.write_text(yaml.safe_dump(doc))
    before = load(source)
    product = next(iter(doc["products"].values()))
    user = next(iter(product["users"]))
    product["users"][user]["groups"] = list(reversed(product["users"][user]["groups"])) + ["extra"]
    doc["groups"]["extra"] = {"policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}
    source.write_text(yaml.safe_dump(doc))
    after = load(source)
    assert stack_inputs(before, "management") != stack_inputs(after, "management")


def test_interrupted_synth_rebuilds_what_it_had_not_finished(tmp_path, monkeypatch):
    org = load(TWO_PRODUCTS)
    synthesize(org, tmp_path, state_dir=tmp_path / "state")
    recorded = json.loads((tmp_path / FINGERPRINT_FILE).read_text())
    recorded.pop("shop-dev")  # as a synth killed before it marked shop-dev done leaves it
    (tmp_path / FINGERPRINT_FILE).write_text(json.dumps(recorded))
    assert synthesize(org, tmp_path, state_dir=tmp_path / "state").rebuilt == ("shop-dev",)
    (tmp_path / "stacks" / "billing-prod" / "cdk.tf.json").unlink()
    assert synthesize(org, tmp_path, state_dir=tmp_path / "state").rebuilt == ("billing-prod",)


def test_many_stacks_are_built_in_worker_processes(tmp_path, monkeypatch):
    """Worker processes (one per core) write the same files as one process does."""
    org = load(TWO_PRODUCTS)
    single = tmp_path / "single"
    synthesize(org, single, state_dir=tmp_path / "state")
    monkeypatch.setattr(synth, "STACKS_PER_PROCESS", 2)
    monkeypatch.setattr(synth.os, "cpu_count", lambda: 2)
    spawned = []
    real_popen = synth.subprocess.Popen
    monkeypatch.setattr(synth.subprocess, "Popen", lambda *a, **k: spawned.append(a) or real_popen(*a, **k))
    workers = tmp_path / "workers"
    done = synthesize(org, workers, state_dir=tmp_path / "state")
    assert len(spawned) == 2 and set(done.rebuilt) == set(org.stacks)
    # Same relative layout: the local backend paths are relative to each outdir alike.
    assert _files(workers) == _files(single)
    assert not list(workers.glob(".awsenvs-staging*"))


def test_a_failing_worker_is_one_line_and_marks_nothing(tmp_path, monkeypatch):
    org = load(TWO_PRODUCTS)
    monkeypatch.setattr(synth, "STACKS_PER_PROCESS", 2)
    monkeypatch.setattr(synth.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(synth.sys, "executable", shutil.which("false"))
    with pytest.raises(synth.SynthError, match="synthesizing failed in a worker process"):
        synthesize(org, tmp_path, state_dir=tmp_path / "state")
    assert json.loads((tmp_path / FINGERPRINT_FILE).read_text()) == {}


def test_synth_prints_counts_and_the_rebuilt_stacks(tmp_path):
    from conftest import run_cli

    source = tmp_path / "org.yaml"
    source.write_text(TWO_PRODUCTS.read_text())
    first = run_cli("--config", str(source), "synth", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "6 stacks in cdktf.out/stacks: 6 rebuilt, 0 unchanged; rebuilt: management, shop-dev" in first.stderr
    doc = yaml.safe_load(source.read_text())
    doc["products"]["billing"]["users"]["dora"] = {"groups": ["developers"]}
    source.write_text(yaml.safe_dump(doc, sort_keys=False))  # the same order of products
    second = run_cli("--config", str(source), "synth", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "6 stacks in cdktf.out/stacks: 2 rebuilt, 4 unchanged; rebuilt: billing-prod, billing-legacy" in second.stderr


def test_a_worker_started_ahead_builds_what_one_process_builds(tmp_path):
    """`plan` starts its synth worker before it reads org.yaml (synth.Worker): however few
    stacks are stale, that worker builds them, and writes what an in-process synth writes."""
    org = load(TWO_PRODUCTS)
    synthesize(org, tmp_path / "single", state_dir=tmp_path / "state")
    with synth.Worker() as worker:
        done = synthesize(org, tmp_path / "ahead", state_dir=tmp_path / "state", worker=worker)
        assert set(done.rebuilt) == set(org.stacks)
    assert _files(tmp_path / "ahead") == _files(tmp_path / "single")
    with pytest.raises(ProcessLookupError):  # closed: its job done, it has exited and been reaped
        os.kill(worker.pid, 0)


def _descendants(pid: int) -> set[int]:
    try:
        children = {int(p) for task in Path(f"/proc/{pid}/task").iterdir()
                    for p in (task / "children").read_text().split()}
    except FileNotFoundError:
        return set()
    return children.union(*(_descendants(child) for child in children))


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_a_worker_with_nothing_to_build_is_stopped_with_its_node_runtime(tmp_path):
    """Nothing stale: the worker started ahead is stopped, and the jsii runtime it started
    (node, and the kernel process node starts) goes with it; no process is left behind."""
    import time

    worker = synth.Worker()
    deadline = time.monotonic() + 60
    while len(runtime := _descendants(worker.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # it loads the bindings at once: the jsii runtime starts within a second
    assert len(runtime) >= 2, f"the worker's jsii runtime did not start: {runtime}"
    org = load(TWO_PRODUCTS)
    synthesize(org, tmp_path, state_dir=tmp_path / "state")
    assert synthesize(org, tmp_path, state_dir=tmp_path / "state", worker=worker).rebuilt == ()
    worker.close()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in runtime) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in runtime)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_a_stopped_worker_leaves_no_temporary_files(tmp_path, monkeypatch):
    """jsii unpacks its runtime (~2 MB: bin/jsii-runtime.js, lib/) into a temporary folder
    it removes only when it exits normally; a worker with nothing to build is killed.  Its
    temporary files are its own folder's, removed by close()."""
    import tempfile
    import time

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    worker = synth.Worker()
    deadline = time.monotonic() + 60
    while not list(tmp_path.rglob("jsii-runtime.js")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.rglob("jsii-runtime.js")), "the worker's jsii runtime was not unpacked"
    worker.close()  # got no job: killed
    assert list(tmp_path.iterdir()) == []


def test_plan_starts_its_worker_before_it_imports_the_validation_or_boto3():
    """`plan` spawns its synth worker first (cli.plan): importing the CLI and the worker's
    module loads neither org.yaml's validation (pydantic, ~0.15 s) nor boto3, which the
    worker would otherwise wait behind."""
    import subprocess
    import sys

    probe = "import json, sys, awsenvs.cli, awsenvs.synth; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert [m for m in loaded if m.startswith(("awsenvs.config", "pydantic", "boto"))] == []


def test_plan_runs_no_terraform_when_the_synth_beside_it_fails(tmp_path, monkeypatch):
    """plan synthesizes beside the guard and the look-ups; the runner waits for it before
    terraform, so a synth that fails plans nothing and is the run's one error line."""
    from rich.console import Console

    from awsenvs.run import workflow
    from awsenvs.terraform import Terraform

    source = tmp_path / "org.yaml"
    source.write_text(TWO_PRODUCTS.read_text())
    org = load(source)
    monkeypatch.setattr(synth, "_worker_command", lambda: [
        synth.sys.executable, "-c", "import sys; sys.stdin.buffer.read(); sys.exit('the bindings are broken')"])
    ran = []

    def terraform_ran(self, args, *rest, **kwargs):  # observed: no terraform command may start
        ran.append(args)
        raise AssertionError(f"terraform {args[0]} ran")

    monkeypatch.setattr(Terraform, "run", terraform_ran)
    monkeypatch.setattr(Terraform, "_stream", terraform_ran)
    outdir = tmp_path / "cdktf.out"
    session = workflow.Run(org, list(org.stacks), Console(quiet=True), outdir, guard=lambda ids: "123456789012",
                               ask=None, terraform=Terraform())
    with pytest.raises(synth.SynthError, match="failed in a worker process: the bindings are broken"):
        workflow.plan(session, synth.Worker())
    assert ran == []
    assert not list(outdir.glob("stacks/*/*.tfvars.json")) and not list(outdir.glob("stacks/*/*.tfplan"))
