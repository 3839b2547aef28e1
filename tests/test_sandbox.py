"""The sandbox's environment.  `make sandbox` itself, as a user types it on the example
org.yaml, runs in tests/test_newcomer.py (and from the installed wheel in test_package.py)."""

from __future__ import annotations

import sys


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


def test_the_rehearsal_changes_only_what_the_emulator_forces(tmp_path):
    """org.yaml is rehearsed as written: the copy differs only in the emulator's ids and in
    keeping state local (centralized_root, guardrails and the rest stay as they are)."""
    import yaml

    from awsenvs.config import load
    from awsenvs.sandbox import rehearsal_config
    from conftest import EXAMPLE

    org = load(EXAMPLE)
    copy = rehearsal_config(org, "o-abcdefghij", {"autochart-legacy": "333333333333"}, "123456789012", tmp_path / "org.yaml")
    original, rehearsed = yaml.safe_load(EXAMPLE.read_text()), yaml.safe_load(copy.read_text())
    assert rehearsed["organization"].pop("organization_id") == "o-abcdefghij"
    assert rehearsed["organization"].pop("management_account_id") == "123456789012"
    assert rehearsed["products"]["autochart"]["environments"]["legacy"].pop("account_id") == "333333333333"
    original["products"]["autochart"]["environments"]["legacy"].pop("account_id")
    original.pop("state")
    assert rehearsed == original
    assert "centralized_root" not in rehearsed["organization"]  # the default (on) is rehearsed


def test_the_sandbox_says_identity_center_users_need_a_first_password():
    from awsenvs.config import load
    from awsenvs.sandbox import not_rehearsed
    from conftest import EXAMPLE, IDENTITY_CENTER

    assert any("one-time password" in line for line in not_rehearsed(load(IDENTITY_CENTER)))
    assert not any("one-time password" in line for line in not_rehearsed(load(EXAMPLE)))
