"""Drift at API speed: `audit` vs `plan --all` over the same 20 applied accounts, in one run.

Applies a 20-account org (5 products of 4 environments, 5 users each, MFA roles in prod)
on the emulator, then for several rounds times (a) `main.py plan --all` (the baseline:
terraform and the provider per stack) and (b) `main.py audit --json` (every managed object
compared through the live reader), interleaved so that the machine's drift hits both.
Target (issue 27): (b) <= 0.1x (a).  Then counts the AWS calls of one in-process audit
(botocore's before-call events of every session) for the model of real AWS.

On the emulator one Python process (moto) answers every call, so audit's threads contend
for its CPU instead of overlapping network waits as on AWS: the ratio here is an upper
bound, and the calls per account, not the seconds, carry over to AWS.

    .venv/bin/python bench/drift_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calls import counted_calls  # noqa: E402
from plan_bench import rehearse, timed  # noqa: E402
from scale_bench import generated_org, write_org  # noqa: E402

from awsenvs import aws, config  # noqa: E402
from awsenvs.sandbox import Emulator, environ  # noqa: E402


def calls_of_one_audit(path: Path, work: Path) -> tuple[Counter, Counter, int]:
    """(calls in member accounts, calls in the management account, accounts) of one in-process audit."""
    from awsenvs import audit
    from awsenvs.run.outputs import managed

    org = config.load(path)
    aws.connect(org)
    with counted_calls() as (member, management):
        ids = managed(org, work / "cdktf.out").account_ids
        audit.audit(org, ids, work / "home" / ".aws" / "config", work / "home" / ".aws" / "credentials")
    return member, management, len(org.environments)


@contextmanager
def applied_org() -> Iterator[tuple[Path, dict[str, str], Path, list[str]]]:
    """The 20-account org applied on an emulator and planned once with `--all` (every stack
    initialized and clean), in a folder of its own: the folder, the environment, the org.yaml
    and the command that runs awsenvs on it."""
    with tempfile.TemporaryDirectory() as work, Emulator() as emulator:
        work = Path(work)
        source = write_org(work / "small.yaml", generated_org(5, 5))
        env, path = rehearse(emulator, config.load(source), work)
        awsenvs = [sys.executable, str(ROOT / "main.py"), "--config", str(path)]
        print("applying the 20-account org on the emulator…", file=sys.stderr)
        timed([*awsenvs, "apply", "--yes"], work, env)
        timed([*awsenvs, "plan", "--all"], work, env)
        yield work, env, path, awsenvs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    with applied_org() as (work, env, path, awsenvs):
        plans, audits, threaded = [], [], []
        for _ in range(args.rounds):
            plans.append(timed([*awsenvs, "plan", "--all"], work, env))
            # exit 1 is expected: the emulator's management root user has no MFA device
            audits.append(timed([*awsenvs, "audit", "--json", "--workers", "1"], work, env, ok=(0, 1)))
            threaded.append(timed([*awsenvs, "audit", "--json"], work, env, ok=(0, 1)))
        with environ(env):
            member, management, accounts = calls_of_one_audit(path, work)
    plan, audit, threads = statistics.median(plans), statistics.median(audits), statistics.median(threaded)
    ratios = sorted(a / p for p, a in zip(plans, audits))
    per_account = sum(member.values()) / accounts
    print(f"- `plan --all` over {accounts} accounts and the management stack: {plan:.2f} s (median of {args.rounds})")
    print(f"- `audit --json --workers 1`: {audit:.2f} s, **{audit / plan:.2f}x** `plan --all` (pairs "
          f"{ratios[0]:.2f}x-{ratios[-1]:.2f}x; target <= 0.1x)")
    print(f"- `audit --json` (16 accounts at once): {threads:.2f} s, {threads / plan:.2f}x `plan --all`")
    print(f"- calls per member account: {per_account:.1f} "
          f"({', '.join(f'{k} {v / accounts:g}' for k, v in sorted(member.items()))}), "
          f"plus {sum(management.values())} in the management account "
          f"({', '.join(f'{k} {v}' for k, v in sorted(management.items()))})")


if __name__ == "__main__":
    main()
