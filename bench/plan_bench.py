"""No-change `plan` of the example org vs plain `terraform plan` over the same stacks, one after another.

Runs in one invocation against the local emulator: applies the example org once, then
interleaves, for several rounds, (a) plain `terraform plan -input=false` in each synthesized
stack directory in turn (the baseline), (b) `main.py plan --all --workers 1`, and (c)
`main.py plan --all` (one worker per core).  `--all`: a plain `plan` would skip every stack,
unchanged since the apply (bench/scale_bench.py measures that).  awsenvs' extra cost is process start, the
reused synth, the account guard (STS), `terraform output` of management and saving plan files.
Targets (DESIGN.md): (b) within 1.2x of (a); (c) faster than (a).

    .venv/bin/python bench/plan_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from awsenvs import aws, config  # noqa: E402
from awsenvs.sandbox import Emulator, environ, rehearsal_config  # noqa: E402
from awsenvs.terraform import Terraform, find_provider_mirror  # noqa: E402


def timed(cmd: list[str], cwd: Path, env: dict[str, str], ok=(0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return time.perf_counter() - start


def rehearse(emulator: Emulator, org: config.Org, work: Path) -> tuple[dict[str, str], Path]:
    """Seed the emulator for `org` (as the sandbox does); returns the environment to run
    awsenvs and terraform with, and the rehearsal's org.yaml in `work`."""
    (work / "home").mkdir()
    env = emulator.environment(work / "home")
    env.update(TF_PROVIDER_MIRROR=str(find_provider_mirror()), CDKTF_OUTDIR=str(work / "cdktf.out"),
               JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    with environ(env):
        organization_id, adopted = aws.seed_emulator(org)
        management = aws.caller_account()
    return env, rehearsal_config(org, organization_id, adopted, management, work / "org.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, Emulator() as emulator:
        work = Path(work)
        env, path = rehearse(emulator, config.load(ROOT / "org.yaml"), work)
        awsenvs = [sys.executable, str(ROOT / "main.py"), "--config", str(path)]
        timed([*awsenvs, "apply", "--yes"], work, env)
        timed([*awsenvs, "plan", "--all"], work, env)  # warm: init done, tfvars written
        # Plain terraform with the same CLI config (provider mirror) that awsenvs writes.
        plain_env = Terraform(env=dict(env)).env
        stacks = [work / "cdktf.out" / "stacks" / s for s in config.load(path).stacks]
        plain, serial, parallel = [], [], []
        for _ in range(args.rounds):
            plain.append(sum(timed(["terraform", "plan", "-input=false", "-lock-timeout=60s"], d, plain_env) for d in stacks))
            serial.append(timed([*awsenvs, "plan", "--all", "--workers", "1"], work, env))
            parallel.append(timed([*awsenvs, "plan", "--all"], work, env))
    base, one, four = (statistics.median(x) for x in (plain, serial, parallel))
    print(f"- plain `terraform plan` over {len(stacks)} stacks, one after another: {base:.2f} s (median of {args.rounds})")
    print(f"- `main.py plan --all --workers 1`: {one:.2f} s, **{one / base:.2f}x** the baseline (target <= 1.2x)")
    print(f"- `main.py plan --all` ({os.cpu_count()} workers): {four:.2f} s, **{four / base:.2f}x** the baseline (target < 1.0x)")


if __name__ == "__main__":
    main()
