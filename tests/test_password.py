"""The initial-password handoff's decisions, on recorded IAM answers (the emulator does not
track PasswordLastUsed)."""

from __future__ import annotations

from datetime import datetime, timezone

from awsenvs import password
from awsenvs.config import load
from conftest import TWO_PRODUCTS

# iam get-user of a user who has signed in (recorded shape; PasswordLastUsed is a datetime in boto3).
SIGNED_IN = {"User": {"UserName": "bob", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::111111111111:user/bob",
                      "CreateDate": datetime(2026, 11, 1, tzinfo=timezone.utc),
                      "PasswordLastUsed": datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)}}
NEVER = {"User": {"UserName": "bob", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::111111111111:user/bob",
                  "CreateDate": datetime(2026, 11, 1, tzinfo=timezone.utc)}}


def test_a_user_who_signed_in_has_nothing_to_hand_over():
    org = load(TWO_PRODUCTS)
    bob = org.environment_by_stack("shop-dev").users[1]
    when = password.last_used(SIGNED_IN)
    assert when == datetime(2026, 11, 2, 9, 30, tzinfo=timezone.utc)
    assert "bob signed in on 2026-11-02 09:30 UTC" in password.already_signed_in(bob, when)
    assert "nothing to hand over" in password.already_signed_in(bob, when)
    assert password.last_used(NEVER) is None


def test_handoff_lines_name_who_and_where():
    org = load(TWO_PRODUCTS)
    env = org.environment_by_stack("shop-prod")
    bob = env.users[1]
    plain = password.lines(password.handoff(env, bob, "333333333333", {"password": "s3cret-Initial"}))
    assert plain[-1] == "  password     s3cret-Initial"
    assert "https://acme-shop-production.signin.aws.amazon.com/console" in plain[1]
    assert "aws configure --profile shop_prod_bob_keys" in plain[2]  # mfa: required: the key profile
    assert "MFA device" in plain[3]
    encrypted = password.lines(password.handoff(env, bob, "333333333333", {"encrypted_password": "wcBMA...", "key_fingerprint": "ab12"}))
    assert "s3cret" not in "".join(encrypted)
    assert encrypted[-1] == "  echo 'wcBMA...' | base64 --decode | gpg --decrypt"
