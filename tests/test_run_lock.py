"""Two runs at once: awsenvs' own run lock (one machine), and terraform's state lock (two machines).

- A second plan, apply or bootstrap while another holds the organization stops at once in
  one line naming the holder, touching nothing (the first run's saved plan stays); a
  holder that died holds nothing.  No emulator: the second run stops before any AWS call.
- Terraform's refusal of a state whose lock another run holds (S3's lock file) is named as
  a lock, who and since when from its lock info (terraform's text as recorded with the
  emulator's S3; end to end in test_e2e_remote_state.py).
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from awsenvs import config
from awsenvs.runlock import run_lock
from awsenvs.terraform import _explain
from tests.conftest import ROOT, TWO_PRODUCTS


@pytest.fixture
def org_path(tmp_path) -> Path:
    path = tmp_path / "org.yaml"
    path.write_text(TWO_PRODUCTS.read_text())
    return path


def _cli(org_path: Path, *args: str) -> subprocess.CompletedProcess:
    # An endpoint that answers nothing: a run that got past the lock would fail at the guard.
    env = {**os.environ, "CDKTF_OUTDIR": str(org_path.parent / "cdktf.out"), "AWS_ENDPOINT_URL": "https://127.0.0.1:9",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-1"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(org_path), *args], cwd=org_path.parent,
                          env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)


@pytest.mark.parametrize("verb", [("plan",), ("apply", "--yes"), ("bootstrap", "--yes")])
def test_a_second_run_stops_at_once_naming_the_first(org_path, verb):
    org = config.load(org_path)
    saved = org_path.parent / "cdktf.out" / "stacks" / "management"
    saved.mkdir(parents=True)
    # What the first run (an apply, here this test) has in flight: its plan and its "applying" mark.
    (saved / "awsenvs.tfplan").write_bytes(b"the first run's plan")
    (saved / "awsenvs-plan.json").write_text(json.dumps({"status": "applying"}))
    with run_lock(org, "apply"):
        since = datetime.now().strftime("%H:%M")
        proc = _cli(org_path, *verb)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines() == [
        f"error: another awsenvs run holds organization {org.name}: `apply` (pid {os.getpid()}, "
        f"{getpass.getuser()}@{socket.gethostname()}, since {since}): wait for it to finish"]
    assert (saved / "awsenvs.tfplan").read_bytes() == b"the first run's plan"  # nothing discarded
    assert json.loads((saved / "awsenvs-plan.json").read_text()) == {"status": "applying"}
    assert org.state.run_lock == org_path.parent / "state" / f"{org.name}.lock"
    assert org.state.run_lock.stat().st_mode & 0o077 == 0


def test_a_holder_that_died_holds_nothing(org_path):
    """A run killed while it held the lock (SIGKILL: no clean-up of its own) leaves its file
    behind, naming it; the OS released the lock with the process, so the next run takes it
    and writes over the file."""
    org = config.load(org_path)
    holder = subprocess.run([sys.executable, "-c", f"""
import os, signal
from awsenvs import config
from awsenvs.runlock import run_lock
with run_lock(config.load({str(org_path)!r}), "apply"):
    os.kill(os.getpid(), signal.SIGKILL)
"""], env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert holder.returncode == -signal.SIGKILL, holder.stderr
    left = json.loads(org.state.run_lock.read_text())
    assert left["verb"] == "apply" and left["pid"] != os.getpid()
    with run_lock(org, "plan"):
        now = json.loads(org.state.run_lock.read_text())
        assert (now["verb"], now["pid"]) == ("plan", os.getpid())


# --------------------------------------------------------------------------- terraform's state lock

# What terraform 1.11 printed (plan -json's diagnostic, flattened) when another run's lock
# file was in the emulator's bucket.
S3_LOCKED = (
    "Error acquiring the state lock: Error message: operation error S3: PutObject, https response error StatusCode: "
    "412, RequestID: wazjxmsRs8c7Qg6FmNaQJVxSI2nnLFkTSq7rVbPWEwKmkr2Qc4KC, HostID: 9Gjjt1m+cjU4OPvX9O9/8Rg=, api error "
    "PreconditionFailed: At least one of the pre-conditions you specified did not hold Lock Info: ID: "
    "1b6f1c2e-aaaa-bbbb-cccc-123456789abc Path: tiny-tfstate/awsenvs/management.tfstate Operation: OperationTypeApply "
    "Who: ann@ci-runner-7 Version: 1.11.0 Created: 2025-12-05 02:58:11.123456 +0000 UTC Info: Terraform acquires a "
    "state lock to protect the state from being written by multiple users at the same time. Please resolve the issue "
    'above and try again. For most commands, you can disable locking with the "-lock=false" flag, but this is not '
    "recommended.")


def test_terraforms_state_lock_is_named_as_a_lock():
    folder = Path("cdktf.out/stacks/management")
    assert _explain(S3_LOCKED, folder) == (
        "the state of management is locked by another run: apply by ann@ci-runner-7 since 2025-12-05 02:58 UTC (lock "
        "ID 1b6f1c2e-aaaa-bbbb-cccc-123456789abc): wait for it to finish, then run again; `terraform force-unlock "
        "1b6f1c2e-aaaa-bbbb-cccc-123456789abc` in cdktf.out/stacks/management only if that run is gone (it stopped "
        "without unlocking)")
    # Without lock info (another backend's wording): still a lock, the ID left to look up.
    assert _explain("Error acquiring the state lock: ConditionalCheckFailed", folder) == (
        "the state of management is locked by another run: wait for it to finish, then run again; `terraform "
        "force-unlock <ID>` in cdktf.out/stacks/management only if that run is gone (it stopped without unlocking)")
    assert _explain("Invalid provider configuration", folder) == "Invalid provider configuration"
