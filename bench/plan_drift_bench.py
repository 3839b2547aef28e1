"""Drift in a plain `plan`: one hand change in one of 20 applied accounts, against `plan --all`.

Applies the 20-account org of bench/drift_bench.py (5 products of 4 environments, 5 users
each) on the emulator, then for several rounds, interleaved so that the machine's drift
hits all alike: (a) `main.py plan --all` (terraform in every stack; leaves each clean),
(b) a plain `main.py plan` with nothing changed (every stack unchanged since its clean
record, each checked for drift at API speed), then a group's policy detached by hand in
one account (p02-dev) and (c) a plain `main.py plan`, which must find it and plan that
stack (exit 2; tests/test_plan_drift.py checks that it plans no other); the policy is
attached again by hand after it.  Target (issue 33):
(c) <= 0.25x (a), each (c) against the (a) of its own round.

`--before DIR`: also times (b) with the code in DIR (a checkout from before the drift
check, e.g. `git archive <commit> | tar -x -C DIR`), in its own output folder, to say
what the check costs a plan with nothing to do.

    .venv/bin/python bench/plan_drift_bench.py [--rounds N] [--before DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from drift_bench import applied_org  # noqa: E402
from plan_bench import timed  # noqa: E402

from awsenvs import aws  # noqa: E402
from awsenvs.sandbox import environ  # noqa: E402

DRIFTED = "p02-dev"  # the account changed by hand
POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"  # the developers group's, in generated_org


def _account_id(env: dict[str, str], stack: str) -> str:
    product, environment = stack.split("-")
    with environ(env):
        client = boto3.client("organizations")
        return next(a["Id"] for a in aws.pages(client, "list_accounts", "Accounts") if a["Name"] == f"{product}_{environment}")


def _developers_policy(env: dict[str, str], account_id: str, attached: bool) -> None:
    """Detach (or attach again) the developers group's policy in one account, as a person would."""
    with environ(env):
        iam = aws.assume_role_session(account_id, "OrganizationAccountAccessRole").client("iam")
        (iam.attach_group_policy if attached else iam.detach_group_policy)(GroupName="developers", PolicyArn=POLICY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a checkout of the code before, for (b)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    with applied_org() as (work, env, path, awsenvs):
        before = [sys.executable, str(args.before / "main.py"), "--config", str(path)] if args.before else None
        if before:
            before_env = {**env, "PYTHONPATH": str(args.before), "CDKTF_OUTDIR": str(work / "before.out")}
            timed([*before, "plan", "--all"], work, before_env)  # its own clean records
        drifted = _account_id(env, DRIFTED)
        everything, quiet, found, earlier = [], [], [], []
        for _ in range(args.rounds):
            everything.append(timed([*awsenvs, "plan", "--all"], work, env))
            quiet.append(timed([*awsenvs, "plan"], work, env))
            if before:
                earlier.append(timed([*before, "plan"], work, before_env))
            _developers_policy(env, drifted, attached=False)
            found.append(timed([*awsenvs, "plan"], work, env, ok=(2,)))  # 2: the drifted stack has changes
            _developers_policy(env, drifted, attached=True)
    median = statistics.median
    pairs = sorted(f / e for e, f in zip(everything, found))
    print(f"- `plan --all` over 20 accounts and the management stack: {median(everything):.2f} s "
          f"(median of {args.rounds})")
    print(f"- plain `plan` after one hand change in {DRIFTED} (21 stacks checked for drift, that one planned): "
          f"{median(found):.2f} s, **{median(pairs):.2f}x** `plan --all` (median of the pairs, "
          f"{pairs[0]:.2f}x-{pairs[-1]:.2f}x; target <= 0.25x)")
    print(f"- plain `plan` with nothing changed (21 stacks checked for drift, none planned): {median(quiet):.2f} s, "
          f"{median(quiet) / median(everything):.2f}x `plan --all`")
    if before:
        print(f"- the same with the code before ({args.before}): {median(earlier):.2f} s; the drift check adds "
              f"{median(quiet) - median(earlier):.2f} s ({median(quiet) / median(earlier):.2f}x)")


if __name__ == "__main__":
    main()
