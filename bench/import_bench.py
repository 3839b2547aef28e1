"""`import` of a 200-account organization on the emulator: time per account, threads vs one
account at a time, and the AWS calls per account (what real AWS bills in requests and
throttles).

Seeds the emulator with 50 OUs of 4 accounts, each holding an IAM group with a policy, two
users in it (one with a console password) and an alias.  Then, for several rounds, times
(a) `main.py import --output - --workers 1` (the baseline: one account after the other) and
(b) `main.py import --output -` (16 accounts at once), and counts the calls one in-process
read makes (botocore's before-call events of every session).  No target in DESIGN.md: the
numbers go into docs/benchmarks.md.

    .venv/bin/python bench/import_bench.py [--rounds N] [--products N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import boto3  # noqa: E402

from calls import counted_calls  # noqa: E402

from awsenvs import aws  # noqa: E402
from awsenvs.sandbox import Emulator, environ  # noqa: E402

ENVIRONMENTS = ("dev", "qa", "staging", "prod")


def seed(products: int) -> int:
    aws.connect(None)
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    count = 0
    for p in range(products):
        ou = org.create_organizational_unit(ParentId=root, Name=f"Product {p:02d}")["OrganizationalUnit"]["Id"]
        for env in ENVIRONMENTS:
            account_id = org.create_account(AccountName=f"product{p:02d}-{env}",
                                            Email=f"aws+p{p:02d}-{env}@acme.example.com")["CreateAccountStatus"]["AccountId"]
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ou)
            iam = aws.assume_role_session(account_id, "OrganizationAccountAccessRole").client("iam")
            iam.create_group(GroupName="developers")
            iam.attach_group_policy(GroupName="developers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
            for user in ("maria", "tom"):
                iam.create_user(UserName=user)
                iam.add_user_to_group(GroupName="developers", UserName=user)
            iam.create_login_profile(UserName="maria", Password="Initial-Passw0rd!", PasswordResetRequired=True)
            iam.create_account_alias(AccountAlias=f"acme-p{p:02d}-{env}")
            count += 1
    return count


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def calls_of_one_read(region: str) -> tuple[Counter, Counter]:
    """(calls in member accounts, calls in the management account) of one in-process read."""
    from awsenvs.orgyaml import snapshot

    with counted_calls() as (member, management):
        snapshot.read_snapshot(region, "OrganizationAccountAccessRole")
    return member, management


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--products", type=int, default=50)
    args = parser.parse_args()
    if args.rounds < 1 or args.products < 1:
        parser.error("--rounds and --products must be at least 1")
    with tempfile.TemporaryDirectory() as work, Emulator() as emulator:
        work = Path(work)
        (work / "home").mkdir()
        env = emulator.environment(work / "home")
        env["AWS_REGION"] = env.get("AWS_DEFAULT_REGION", "us-east-1")
        started = time.perf_counter()
        with environ(env):
            accounts = seed(args.products)
        print(f"- seeded {accounts} accounts in {time.perf_counter() - started:.0f} s")
        command = [sys.executable, str(ROOT / "main.py"), "import", "--output", "-"]
        one, threads = [], []
        for _ in range(args.rounds):
            one.append(timed([*command, "--workers", "1"], work, env))
            threads.append(timed(command, work, env))
        with environ(env):
            aws.connect(None)
            member, management = calls_of_one_read(env["AWS_REGION"])
    base, fast = statistics.median(one), statistics.median(threads)
    print(f"- `import --workers 1` (one account after the other): {base:.1f} s, {base / accounts * 1000:.0f} ms per account "
          f"(median of {args.rounds})")
    print(f"- `import` (16 accounts at once): {fast:.1f} s, {fast / accounts * 1000:.0f} ms per account, "
          f"**{fast / base:.2f}x** the baseline")
    per_account = sum(member.values()) / accounts
    print(f"- calls per member account: {per_account:.1f} ({', '.join(f'{k} {v / accounts:g}' for k, v in sorted(member.items()))}),"
          f" plus {sum(management.values())} in the management account ({', '.join(f'{k} {v}' for k, v in sorted(management.items()))})")


if __name__ == "__main__":
    main()
