"""Profiles: rendering, and the merge into a real AWS config file on disk."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from awsenvs import profiles
from awsenvs.config import load
from conftest import ROOT, TWO_PRODUCTS

IDS = {"shop-dev": "111111111111", "shop-staging": "222222222222", "shop-prod": "333333333333",
       "billing-prod": "444444444444"}  # billing-legacy is adopted: 210987654321

USER_BEFORE = (
    "# my own settings, keep them\n"
    "[default]\n"
    "region   =  us-west-2\n"
    "\n\n"
    "[profile personal]   \n"
    "region=eu-north-1\n"
    "  ; odd indented comment\n"
)
USER_AFTER = "\n[profile after]\nregion = ap-south-1\n# trailing comment without newline"


@pytest.fixture(scope="module")
def org():
    return load(TWO_PRODUCTS)


# Real devices: bob's is named freely in the console; carol has a hardware token.  alice
# (shop-prod) has none yet.
SERIALS = {("shop-prod", "bob"): "arn:aws:iam::333333333333:mfa/bob-phone",
           ("billing-prod", "carol"): "GAHT12345678", ("shop-prod", "alice"): None}


@pytest.fixture(scope="module")
def block(org) -> str:
    return profiles.render(org, profiles.profiles_for(org, IDS, SERIALS).profiles)


def test_rendered_profiles(org, block):
    parser = configparser.ConfigParser()
    parser.read_string(block)
    names = [s.removeprefix("profile ") for s in parser.sections()]
    assert "default" not in names
    assert "shop_dev_bob" in names and "billing_legacy_carol" in names
    dev = parser["profile shop_dev_bob"]
    assert dict(dev) == {"region": "eu-central-1", "output": "json"}
    prod = parser["profile shop_prod_bob"]
    assert prod["role_arn"] == "arn:aws:iam::333333333333:role/developers-mfa"
    assert prod["mfa_serial"] == "arn:aws:iam::333333333333:mfa/bob-phone"
    assert prod["source_profile"] == "shop_prod_bob_keys"
    assert prod["role_session_name"] == "bob"  # the role's trust policy demands it
    assert prod["duration_seconds"] == "14400"
    assert "profile shop_prod_bob_keys" in parser
    carol = parser["profile billing_prod_carol"]
    assert carol["role_arn"] == "arn:aws:iam::444444444444:role/sysadmins-mfa"
    assert carol["mfa_serial"] == "GAHT12345678"
    # No device yet: only the key profile, never a role profile that cannot work.
    assert "profile shop_prod_alice" not in parser and "profile shop_prod_alice_keys" in parser
    for section in parser.sections():
        assert not {"aws_access_key_id", "aws_secret_access_key"} & set(parser[section])


def test_users_without_a_totp_device_are_listed(org):
    found = profiles.profiles_for(org, IDS, SERIALS)
    assert [(s.environment.stack, s.user.name) for s in found.without_mfa] == [("shop-prod", "alice")]


def test_one_users_profiles_only(org):
    everyone = profiles.profiles_for(org, IDS, SERIALS)
    bob = profiles.profiles_for(org, IDS, SERIALS, users=("bob",))
    assert {p.name for p in bob.profiles} == {p.name for p in everyone.profiles if "_bob" in p.name} != set()
    assert {s.user.name for s in bob.setups} == {"bob"} and bob.without_mfa == []


def test_identity_center_profiles_share_one_sso_session():
    from conftest import IDENTITY_CENTER

    org = load(IDENTITY_CENTER)
    ids = {"shop-dev": "111111111111", "shop-prod": "222222222222", "billing-prod": "333333333333"}
    found = profiles.profiles_for(org, ids, identity_store_id="d-1234567890", users=("tom",))
    assert found.sso_session.start_url == "https://d-1234567890.awsapps.com/start"
    assert {(p.name, p.sso_account_id, p.sso_role_name) for p in found.profiles} == {
        ("shop_dev_tom", "111111111111", "developers"), ("billing_prod_tom", "333333333333", "developers")}
    block = profiles.render(org, found.profiles, found.sso_session)
    parser = configparser.ConfigParser()
    parser.read_string(block)
    assert parser["sso-session acme"]["sso_registration_scopes"] == "sso:account:access"
    assert parser["profile shop_dev_tom"]["sso_session"] == "acme" and "default" not in parser
    with pytest.raises(profiles.AwsenvsError, match="apply the management stack first"):
        profiles.profiles_for(org, ids)

    # A customized portal (organization.sso_start_url) is the sso_start_url, whatever the store's id.
    from awsenvs.config import parse

    custom = parse(IDENTITY_CENTER.read_text().replace(
        "access: identity_center", "access: identity_center\n  sso_start_url: https://acme.awsapps.com/start"))
    found = profiles.profiles_for(custom, ids, identity_store_id="d-1234567890", users=("tom",))
    assert "sso_start_url = https://acme.awsapps.com/start" in profiles.render(custom, found.profiles, found.sso_session)
    assert profiles.profiles_for(custom, ids).sso_session.start_url == "https://acme.awsapps.com/start"  # before any apply


def test_totp_serial_skips_fido_keys_and_picks_the_first_enabled():
    from datetime import datetime

    from awsenvs.live.iam import totp_serial

    fido = {"SerialNumber": "arn:aws:iam::1:u2f/user/bob/fidosecuritykey1-ABC", "EnableDate": datetime(2024, 1, 1)}
    phone = {"SerialNumber": "arn:aws:iam::1:mfa/bob-phone", "EnableDate": datetime(2025, 1, 1)}
    token = {"SerialNumber": "GAHT12345678", "EnableDate": datetime(2024, 6, 1)}
    assert totp_serial([fido]) is None
    assert totp_serial([fido, phone]) == phone["SerialNumber"]
    assert totp_serial([phone, token, fido]) == token["SerialNumber"]
    assert totp_serial([]) is None


def test_environments_without_account_are_skipped(org):
    found = profiles.profiles_for(org, {})
    assert [e.stack for e in found.waiting] == ["shop-dev", "shop-staging", "shop-prod", "billing-prod"]
    assert {p.name for p in found.profiles} == {"billing_legacy_carol"}
    assert [s.command for s in found.setups] == ["aws configure --profile billing_legacy_carol"]


def test_merge_preserves_user_bytes_and_is_idempotent(tmp_path, block):
    path = tmp_path / "config"
    original = USER_BEFORE + USER_AFTER
    path.write_text(original)
    first = profiles.write(path, block)
    assert first.changed and first.backup is not None and first.has_default
    assert first.backup.read_text() == original
    text = path.read_text()
    assert text.startswith(original)  # appended after every byte of the user's
    assert text.count(profiles.BEGIN) == 1 and text.count(profiles.END) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # User content on both sides of the block survives a rewrite byte for byte.
    before, managed, _ = profiles.split(text)
    path.write_text(before + managed + USER_AFTER)
    second = profiles.write(path, block)
    assert not second.changed and second.backup is None
    assert path.read_text() == before + managed + USER_AFTER
    assert len(list(tmp_path.glob("config.*.bak"))) == 1


def test_stale_profiles_leave_the_block(tmp_path, org, block):
    path = tmp_path / "config"
    path.write_text(USER_BEFORE)
    profiles.write(path, block)
    found = profiles.profiles_for(org, {})  # only the adopted account's profile now
    profiles.write(path, profiles.render(org, found.profiles))
    text = path.read_text()
    assert "shop_dev_bob" not in text and "billing_legacy_carol" in text
    assert text.startswith(USER_BEFORE)


def test_collision_is_refused_and_file_untouched(tmp_path, block):
    path = tmp_path / "config"
    original = USER_BEFORE + "[profile shop_dev_bob]\nregion = us-east-1\n"
    path.write_text(original)
    with pytest.raises(profiles.ProfileError, match=r"\[profile shop_dev_bob\] is already defined outside"):
        profiles.write(path, block)
    assert path.read_text() == original
    assert list(tmp_path.iterdir()) == [path]


def test_dry_run_shows_a_diff_and_writes_nothing(tmp_path, block):
    path = tmp_path / "config"
    path.write_text(USER_BEFORE)
    result = profiles.write(path, block, dry_run=True)
    assert result.changed and "+[profile shop_dev_bob]" in result.diff
    assert path.read_text() == USER_BEFORE
    assert list(tmp_path.iterdir()) == [path]


def test_crash_during_rename_leaves_the_original(tmp_path, block, monkeypatch):
    path = tmp_path / "config"
    path.write_text(USER_BEFORE)

    def failing_replace(src, dst):
        raise OSError("simulated crash mid-write")

    monkeypatch.setattr(profiles.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        profiles.write(path, block)
    assert path.read_text() == USER_BEFORE
    assert list(tmp_path.iterdir()) == [path]  # no temp file left, and no backup of a file that did not change


def _configure_set(text: str, profile: str, key: str, value: str) -> str:
    """What `aws configure set <key> <value> --profile <profile>` does to the config file: the
    key is set in the profile's section, where it is (inside the awsenvs block)."""
    header = f"[profile {profile}]\n"
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    body = text[start:] if end < 0 else text[start:end]
    lines = [line for line in body.splitlines() if not line.startswith(f"{key} =")]
    at = next((i for i, line in enumerate(lines) if not line.strip() or line.startswith("#")), len(lines))
    lines.insert(at, f"{key} = {value}")
    return text[:start] + "\n".join(lines) + ("\n" if end < 0 else "") + ("" if end < 0 else text[end:])


def test_keys_a_user_set_in_awsenvs_profiles_are_kept_and_owned_ones_named(tmp_path, block):
    """`aws configure set ... --profile <awsenvs profile>` writes into the block: a key awsenvs
    does not write stays there, one it owns is set back and named."""
    path = tmp_path / "config"
    path.write_text(USER_BEFORE)
    profiles.write(path, block)
    edited = _configure_set(path.read_text(), "shop_dev_bob", "cli_pager", "")
    edited = _configure_set(edited, "shop_dev_bob", "region", "us-east-1")
    edited = _configure_set(edited, "shop_prod_bob", "s3", "\n  max_concurrent_requests = 20")
    path.write_text(edited)

    result = profiles.write(path, block)
    assert result.replaced == ("shop_dev_bob region us-east-1 -> eu-central-1",)
    parser = configparser.ConfigParser()
    parser.read_string(profiles.split(path.read_text())[1])
    assert dict(parser["profile shop_dev_bob"]) == {"region": "eu-central-1", "output": "json", "cli_pager": ""}
    assert parser["profile shop_prod_bob"]["s3"].split() == ["max_concurrent_requests", "=", "20"]
    assert path.read_text().startswith(USER_BEFORE)
    again = profiles.write(path, block)  # the kept keys are no change
    assert not again.changed and again.replaced == ()


def test_new_file_gets_only_the_block(tmp_path, block):
    path = tmp_path / "new" / "config"
    result = profiles.write(path, block)
    assert result.changed and result.backup is None
    assert path.read_text() == block
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_cli_collision_exits_2(tmp_path, terraform):
    config = tmp_path / "config"
    config.write_text("[profile billing_legacy_carol]\nregion = us-east-1\n")
    env = dict(terraform.env, CDKTF_OUTDIR=str(tmp_path / "out"))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(TWO_PRODUCTS),
                           "profiles", "--write", "--file", str(config)],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "billing_legacy_carol" in proc.stderr and "Traceback" not in proc.stderr
    assert config.read_text() == "[profile billing_legacy_carol]\nregion = us-east-1\n"


def test_cli_names_in_one_line_the_owned_keys_it_sets_back(tmp_path, terraform):
    config = tmp_path / "config"
    env = dict(terraform.env, CDKTF_OUTDIR=str(tmp_path / "out"))
    command = [sys.executable, str(ROOT / "main.py"), "--config", str(TWO_PRODUCTS), "profiles", "--write", "--file", str(config)]
    assert subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True).returncode == 0
    config.write_text(_configure_set(_configure_set(config.read_text(), "billing_legacy_carol", "region", "us-east-1"),
                                     "billing_legacy_carol", "cli_pager", ""))
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("set back")]
    assert line == "set back to two-products.yaml's (keys awsenvs owns in its profiles): billing_legacy_carol region " \
                   "us-east-1 -> eu-central-1"
    assert "cli_pager = \n" in config.read_text() and not list(tmp_path.glob("config.*.bak.*"))


def test_the_header_names_the_file_the_profiles_come_from(tmp_path):
    """A file named otherwise than org.yaml is the one to edit, and the header says so."""
    from awsenvs.config import load

    mine = tmp_path / "my-org.yaml"
    mine.write_text(TWO_PRODUCTS.read_text())
    org = load(mine)
    header = profiles.render(org, profiles.profiles_for(org, {}).profiles).splitlines()[1]
    assert header == "# Managed by awsenvs from my-org.yaml: edit my-org.yaml and run `profiles --write`, not this block."


def test_a_colleague_without_console_sign_in_is_not_told_to_create_keys_there():
    """`signin --user`'s message for a user with `console: false`: they cannot sign in to create
    their own access keys, so the message says they come apart and the admin's notes say to
    create them (no initial password to hand over)."""
    from awsenvs.config import parse
    from awsenvs.welcome import welcome

    text = TWO_PRODUCTS.read_text().replace("bob: {groups: [developers]}", "bob: {groups: [developers], console: false}")
    assert "console: false" in text
    org = parse(text, TWO_PRODUCTS)
    [bob] = [u for u in org.people if u.name == "bob"]
    found = welcome(org, IDS, None, bob)
    assert "create your access keys" not in found.message
    assert "Your access keys (you have no console sign-in): I send them to you separately" in found.message
    assert not any(note.startswith("hand over bob's initial password") for note in found.notes)
    assert [n for n in found.notes if "console: false" in n] == [
        f"bob has no console sign-in in {stack} (console: false): create the access key there (IAM > Users > bob > "
        "Security credentials > Create access key) and hand it over apart" for stack in ("shop-dev", "shop-prod")]
