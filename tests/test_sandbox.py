"""`sandbox` as a user runs it: the example org.yaml, no emulator or mirror set up beforehand."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import EXAMPLE, ROOT

pytestmark = pytest.mark.e2e


def test_sandbox_rehearses_the_example_and_leaves_home_untouched(tmp_path):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[profile mine]\nregion = eu-west-1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_PROVIDER_MIRROR", "CDKTF_"))}
    env["HOME"] = str(home)
    real_state = ROOT / "state"
    state_before = sorted(real_state.rglob("*")) if real_state.exists() else []
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(EXAMPLE), "sandbox"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    for expected in ("Adoption rehearsal: autochart-legacy 210987654321 is",
                     "ok  second plan --all (must find no changes) (exit 0)",
                     "[profile autochart_prod_paul_keys]", "No MFA device yet",
                     "https://winterwindsoftware-autochart-prod.signin.aws.amazon.com/console",
                     "root MFA", "root credentials", "Emulator stopped",
                     # org.yaml has the default guardrails and centralized_root: said what was not rehearsed.
                     "not rehearsed  centralized root access", "not rehearsed  guardrail enforcement",
                     "not rehearsed  that adopted accounts already have their managing role"):
        assert expected in output, expected
    assert "not rehearsed  budget alerts" not in output  # org.yaml sets no budget
    assert (home / ".aws" / "config").read_text() == "[profile mine]\nregion = eu-west-1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # no state, cdktf.out or plans here
    assert (sorted(real_state.rglob("*")) if real_state.exists() else []) == state_before


def test_a_sandbox_home_shares_jsii_s_package_cache_with_the_real_home(tmp_path):
    """The emulator's environment moves HOME (so ~/.aws stays untouched), but not jsii's
    extracted bindings: every sandbox would unpack them again (~500 MB)."""
    from awsenvs.sandbox import JSII_CACHE_ENV, Emulator

    env = Emulator().environment(tmp_path / "sandbox-home", base={"HOME": "/home/someone"})
    assert env["HOME"] == str(tmp_path / "sandbox-home")
    expected = "/home/someone/" + ("Library/Caches/com.amazonaws.jsii" if sys.platform == "darwin" else ".cache/aws/jsii")
    assert env[JSII_CACHE_ENV] == expected + "/package-cache"
    chosen = Emulator().environment(tmp_path / "h", base={"HOME": "/home/someone", JSII_CACHE_ENV: "/elsewhere"})
    assert chosen[JSII_CACHE_ENV] == "/elsewhere"  # the user's own choice stays
