"""AWS lost in the middle of a run: said once, with an `error:` line, and nothing started after it.

The emulator answers awsenvs' own calls (the guard, the look-ups) and then terraform's
provider finds no endpoint (terraform runs through a wrapper that points it at a port where
nothing listens: the emulator lost between the look-ups and the plans, every time); then the
emulator stopped before the run: the guard's first call.  Each stack's row is one short line,
never the provider's "Cannot assume IAM Role … the most common causes are …".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from awsenvs.sandbox import Emulator, free_port
from tests.conftest import Rehearsal, seed_rehearsal
from tests.test_e2e_remote_state import ORG as TINY

pytestmark = pytest.mark.e2e

# The S3 rehearsal's organization without the account it creates: management and one adopted account.
ORG = TINY.replace("      dev: {}\n", "")


@pytest.fixture(scope="module")
def lost(provider_mirror, tmp_path_factory):
    """(the rehearsal, its emulator): stopped by the last test."""
    workdir = tmp_path_factory.mktemp("lost")
    (workdir / "source.yaml").write_text(ORG)
    with Emulator() as emulator:
        env, path = seed_rehearsal(emulator, provider_mirror, workdir, workdir / "source.yaml")
        yield Rehearsal(workdir, env, path), emulator


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_aws_lost_while_terraform_plans_is_said_once(lost, tmp_path):
    rehearsal, _ = lost
    nowhere = f"http://127.0.0.1:{free_port()}"
    wrapper = tmp_path / "terraform"
    wrapper.write_text(f'#!/bin/sh\nAWS_ENDPOINT_URL={nowhere} exec {shutil.which("terraform")} "$@"\n')
    wrapper.chmod(0o755)
    proc = rehearsal.cli("plan", "--all", "--workers", "1", env={**rehearsal.env, "TERRAFORM_BIN": str(wrapper)})
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert _errors(proc.stderr) == [f"error: AWS cannot be reached at {nowhere}: connection refused; nothing was "
                                    "planned after it"]
    output = " ".join(proc.stderr.replace("│", " ").split())
    assert f"failed: AWS cannot be reached at {nowhere}: connection refused" in output
    assert "not started" in output  # the account stack, queued behind management's failure
    assert "most common" not in output and "Cannot assume IAM Role" not in output and "Traceback" not in output


def test_aws_lost_before_the_run_is_said_once(lost):
    rehearsal, emulator = lost
    endpoint = emulator.endpoint
    emulator.stop()
    proc = rehearsal.cli("plan", "--all")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines() == [
        f"error: AWS cannot be reached at {endpoint}: connection refused (sts get-caller-identity); nothing was planned "
        "or applied"]


def test_only_an_endpoint_that_did_not_answer_is_unreachable():
    """Terraform's diagnostics, as its providers and backends word them: a request with no
    answer is named by its endpoint (AWS when the AWS SDK made it); a crashed provider plugin
    (a local socket) and an unreachable registry (explained on their own) are not."""
    from awsenvs.terraform import _unanswered

    provider = ("Cannot assume IAM Role: IAM Role (arn:aws:iam::829710784528:role/OrganizationAccountAccessRole) cannot be "
                "assumed. There are a number of possible causes of this - the most common are: * The credentials used "
                "in order to assume the role are invalid Error: operation error STS: AssumeRole, exceeded maximum number "
                'of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post '
                '"http://127.0.0.1:51545/": dial tcp 127.0.0.1:51545: connect: connection refused')
    assert str(_unanswered(provider)) == "AWS cannot be reached at http://127.0.0.1:51545: connection refused"
    cloud = ('Failed to request discovery document: Get "https://app.terraform.io/.well-known/terraform.json": dial '
             "tcp: lookup app.terraform.io on 127.0.0.53:53: no such host")
    assert str(_unanswered(cloud)) == "https://app.terraform.io cannot be reached: no such host"
    assert _unanswered('Plugin did not respond: rpc error: code = Unavailable desc = connection error: desc = "transport: '
                       'Error while dialing: dial unix /tmp/plugin1: connect: connection refused"') is None
    assert _unanswered('Failed to query available provider packages: could not connect to registry.terraform.io: Get '
                       '"https://registry.terraform.io/.well-known/terraform.json": dial tcp: lookup '
                       "registry.terraform.io: no such host") is None
