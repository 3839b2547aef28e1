"""CI bench (issue 36): a pull request's plan in the 200-account org, and the CI job's set-up.

The pull request changes one product's users (scale_bench.generated_org's variant: a user
added to p01) in the generated 50 x 4 x 5 org (200 accounts, 201 stacks).  Its plan is
what `ci plan` does (awsenvs/cli/ci_jobs.py): `awsenvs.ci.changes.changed_stacks(head, base)`
picks the stacks, then `plan --all` of exactly those (`ci plan` plans them with
everything=True).  Timed, each round, against the `plan --all` of the 20-account 5 x 4
org applied on a second emulator (scale_bench's), run just before it in the same round:

- (a) choosing the stacks: parse the base and the head org.yaml, compare stack_inputs
  (in this process; median of 5 calls);
- (b) the plan of the chosen stacks as a CI job runs it: a fresh output folder (a job's
  checkout has no cdktf.out: synth of the chosen stacks and management only, as `plan`
  with a selection and `ci plan` do, `terraform init` of every planned stack), the state of the applied org (local here: management's outputs are read from
  its file; with s3 a job also runs `terraform state pull` for them);
- (b') the same plan with the output folder of earlier runs (a laptop's second plan:
  synth rebuilds only the changed stacks, every folder is initialized);
- (c) `plan --all` of the applied 20-account org;
- (d) once, after the rounds: a merge's apply job on the 20-account org after the same
  change (`apply --yes` in a fresh output folder: every stack planned, the changed ones
  applied), for the runner minutes of a merge.

terraform runs through a TERRAFORM_BIN wrapper that logs each call's start and end; the
time no terraform ran (the union of those intervals taken off the wall time) is awsenvs'
own part.  Set-up: the management stack of the 200-account org is applied on its emulator
(it creates the 200 accounts), then p01's four account stacks, so that their plans are
real terraform plans with the one new user to add.

The job's set-up: the awsenvs wheel (`pip wheel --no-deps`, built once) installed with its
dependencies from PyPI into a fresh virtualenv with an empty pip cache (PIP_CACHE_DIR),
then into a second fresh virtualenv with the cache the first filled: what
actions/setup-python's `cache: pip` gives a job on a cache miss and on a hit.  Where pip
reaches PyPI through a proxy that sends no caching headers (this machine's), pip's HTTP
cache stays empty and the second install downloads again; so the hit is also measured
as what it holds: every wheel already on disk (`--no-index --find-links`).

    .venv/bin/python bench/ci_bench.py [--rounds N] [--skip-plan] [--skip-setup] [--write]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from plan_bench import rehearse  # noqa: E402
from scale_bench import ENV, generated_org, timed, write_org  # noqa: E402

from awsenvs import config  # noqa: E402
from awsenvs.ci.changes import changed_stacks  # noqa: E402
from awsenvs.sandbox import Emulator  # noqa: E402

CHANGED_PRODUCT = "p01"  # the product generated_org's variant changes

# Logs "start end command" of each terraform call (bash's $EPOCHREALTIME: no extra process);
# appends of one short line are atomic, so calls running at once do not mix their lines.
WRAPPER = """#!/usr/bin/env bash
start=$EPOCHREALTIME
"$AWSENVS_BENCH_TERRAFORM" "$@"
code=$?
printf '%s %s %s\\n' "$start" "$EPOCHREALTIME" "$1" >> "$AWSENVS_BENCH_TERRAFORM_LOG"
exit $code
"""


class TerraformClock:
    """A TERRAFORM_BIN wrapper around the real terraform and the log of its calls."""

    def __init__(self, folder: Path) -> None:
        real = shutil.which("terraform")
        if real is None:
            raise SystemExit("terraform: not found on PATH")
        self.script, self.log = folder / "terraform", folder / "terraform-calls.log"
        self.script.write_text(WRAPPER)
        self.script.chmod(0o755)
        self.commands: Counter[str] = Counter()
        self.env = {"TERRAFORM_BIN": str(self.script), "AWSENVS_BENCH_TERRAFORM": real,
                    "AWSENVS_BENCH_TERRAFORM_LOG": str(self.log)}

    def wrap(self, env: dict[str, str]) -> dict[str, str]:
        return {**env, **self.env}

    def take(self) -> tuple[float, float, int]:
        """Since the last take: the seconds at least one terraform ran (overlapping calls
        counted once), their sum, and the number of calls; the log starts again.  The
        calls by subcommand are kept in `self.commands`."""
        lines = [line.split() for line in self.log.read_text().splitlines()] if self.log.exists() else []
        calls = sorted((float(start), float(end)) for start, end, *_ in lines)
        self.commands = Counter(command for _, _, command, *_ in lines)
        self.log.unlink(missing_ok=True)
        covered, reach = 0.0, float("-inf")
        for start, end in calls:
            if end > reach:
                covered += end - max(start, reach)
                reach = end
        return covered, sum(end - start for start, end in calls), len(calls)


def applied(emulator: Emulator, doc: dict, work: Path, *stack_sets: tuple[str, ...]) -> tuple[dict[str, str], Path]:
    """`doc` rehearsed on `emulator` in `work` and applied, stack set after stack set (none:
    every stack); returns the environment and the rehearsal's org.yaml."""
    work.mkdir()
    env, path = rehearse(emulator, config.load(write_org(work / "source.yaml", doc)), work)
    awsenvs = [sys.executable, str(ROOT / "main.py"), "--config", str(path)]
    for stacks in stack_sets or ((),):
        timed([*awsenvs, "apply", "--yes", *(f"--stack={s}" for s in stacks)], work, env)
    return env, path


def with_variant(rehearsed: dict, products: int, variant: int) -> dict:
    """The rehearsal's org.yaml with the changed product's users of `variant`."""
    users = generated_org(products, 5, variant=variant)["products"][CHANGED_PRODUCT]["users"]
    changed = {**rehearsed["products"][CHANGED_PRODUCT], "users": users}
    return {**rehearsed, "products": {**rehearsed["products"], CHANGED_PRODUCT: changed}}


def choose(base_text: str, head_text: str, path: Path) -> tuple[str, ...]:
    """What `ci plan` does before any synth: both org.yaml parsed as at one path, compared."""
    return changed_stacks(config.parse(head_text, path), config.parse(base_text, path)).stacks


def plan_lines(rounds: int, work: Path) -> list[str]:
    clock = TerraformClock(work)
    with Emulator() as big_emulator, Emulator() as small_emulator:
        print("applying the 20-account org on an emulator…", file=sys.stderr, flush=True)
        small_env, small_path = applied(small_emulator, generated_org(5, 5), work / "small")
        small = [sys.executable, str(ROOT / "main.py"), "--config", str(small_path)]
        timed([*small, "plan", "--all"], work / "small", small_env)  # warm: every stack initialized
        print("applying the 200-account org's management stack and p01's account stacks on another…",
              file=sys.stderr, flush=True)
        start = time.perf_counter()
        changed_product = tuple(f"{CHANGED_PRODUCT}-{env}" for env in ("dev", "test", "staging", "prod"))
        big_env, big_path = applied(big_emulator, generated_org(50, 5), work / "big", ("management",), changed_product)
        set_up = time.perf_counter() - start
        big = [sys.executable, str(ROOT / "main.py"), "--config", str(big_path)]
        base_text = big_path.read_text()
        rehearsed = yaml.safe_load(base_text)
        everything, choosing, fresh, warm, chosen = [], [], [], [], set()
        for i in range(rounds):
            everything.append((timed([*small, "plan", "--all"], work / "small", clock.wrap(small_env)), clock.take()))
            head_text = yaml.safe_dump(with_variant(rehearsed, 50, i + 1), sort_keys=False)
            calls = []
            for _ in range(5):
                started = time.perf_counter()
                stacks = choose(base_text, head_text, big_path)
                calls.append(time.perf_counter() - started)
            choosing.append(statistics.median(calls))
            chosen.add(stacks)
            big_path.write_text(head_text)
            selected = [f"--stack={s}" for s in stacks]
            job_outdir = work / "big" / f"job-{i}"  # a job's checkout: nothing synthesized, nothing initialized
            job_env = clock.wrap({**big_env, "CDKTF_OUTDIR": str(job_outdir)})
            fresh.append((timed([*big, "plan", "--all", *selected], work / "big", job_env, ok=(2,)), clock.take()))
            job_calls = clock.commands
            shutil.rmtree(job_outdir)
            warm.append((timed([*big, "plan", "--all", *selected], work / "big", clock.wrap(big_env), ok=(2,)),
                         clock.take()))
            big_path.write_text(base_text)
        # (d) the merge's apply job, once: on the 20-account org (every stack planned in a
        # fresh output folder, as a job's checkout has no clean records; the changed one applied).
        small_text = small_path.read_text()
        small_path.write_text(yaml.safe_dump(with_variant(yaml.safe_load(small_text), 5, 1), sort_keys=False))
        merge_env = clock.wrap({**small_env, "CDKTF_OUTDIR": str(work / "small" / "merge-job")})
        merge = (timed([*small, "apply", "--yes"], work / "small", merge_env), clock.take())
    if chosen != {changed_product}:
        raise SystemExit(f"changed_stacks chose {sorted(chosen)}, not {changed_product}: the bench measures something else")

    def own(run) -> float:
        wall, (covered, _, _) = run
        return wall - covered

    c_wall = statistics.median(w for w, _ in everything)
    c_own = statistics.median(own(r) for r in everything)
    a = statistics.median(choosing)
    lines = [
        f"- set-up: the 200-account org's management stack (200 accounts created) and p01's 4 account stacks "
        f"applied on an emulator: {set_up:.0f} s",
        f"- (c) `plan --all` of the applied 20-account org (21 stacks, {os.cpu_count()} workers): {c_wall:.2f} s "
        f"(median of {rounds}); terraform ran during {c_wall - c_own:.2f} s of it, awsenvs alone {c_own:.2f} s",
        f"- (a) choosing the stacks (`changed_stacks`: base and head org.yaml parsed, 201 stacks' inputs compared): "
        f"{a * 1000:.0f} ms, {a / c_wall:.3f}x (c); it chose {', '.join(changed_product)}",
    ]
    for name, runs in (("(b) the plan of those 4 stacks as a CI job runs it (fresh output folder: synth of the "
                        "4 and management, terraform init of the 4)", fresh),
                       ("(b') the same plan with the output folder of earlier runs (synth of the 4 changed stacks "
                        "only, folders initialized)", warm)):
        wall = statistics.median(w for w, _ in runs)
        calls = statistics.median(n for _, (_, _, n) in runs)
        terraform = statistics.median(covered for _, (covered, _, _) in runs)
        own_ratios = sorted((a + own(b)) / c for (c, _), b in zip(everything, runs))
        whole_ratios = sorted((a + b[0]) / c for (c, _), b in zip(everything, runs))
        own_median = statistics.median(own_ratios)
        lines += [
            f"- {name}: {wall:.2f} s, of which terraform ({calls:.0f} calls"
            f"{': ' + ', '.join(f'{n} {c}' for c, n in sorted(job_calls.items())) if runs is fresh else ''}) "
            f"{terraform:.2f} s",
            f"  - whole PR plan (a + b): **{statistics.median(whole_ratios):.2f}x** (c) "
            f"(pairs {whole_ratios[0]:.2f}x-{whole_ratios[-1]:.2f}x)",
            f"  - awsenvs' own part (a + b without terraform): {a + statistics.median(own(r) for r in runs):.2f} s, "
            f"**{own_median:.2f}x** (c) (pairs {own_ratios[0]:.2f}x-{own_ratios[-1]:.2f}x; target <= 0.1x: "
            f"{'met' if own_median <= 0.1 else '**not met**'})",
        ]
    merge_wall, (merge_terraform, _, merge_calls) = merge
    lines.append(
        f"- (d) a merge's apply job after the same change in the 20-account org (fresh output folder: all 21 stacks "
        f"planned, p01's 4 applied, `apply --yes`): {merge_wall:.2f} s, of which terraform ({merge_calls} calls) "
        f"{merge_terraform:.2f} s; {merge_wall / c_wall:.2f}x (c)")
    return lines


def setup_lines(work: Path) -> list[str]:
    """pip install of the awsenvs wheel into fresh virtualenvs: cold and warm pip cache."""
    source = work / "source"
    shutil.copytree(ROOT / "awsenvs", source / "awsenvs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)
    wheels, cache, files = work / "wheel", work / "pip-cache", work / "files"
    # PyPI alone, as a runner has it: no pip configuration files (this machine's name local
    # package folders, which pip would prefer and never cache), no find-links.
    pip_env = {k: v for k, v in ENV.items() if k not in ("PIP_CACHE_DIR", "PIP_NO_CACHE_DIR", "PIP_FIND_LINKS",
                                                         "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "VIRTUAL_ENV")}
    pip_env["PIP_CONFIG_FILE"] = os.devnull
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(wheels)],
                   check=True, env=pip_env, cwd=work)
    wheel = next(wheels.glob("awsenvs-*.whl"))
    cache.mkdir()

    def install(kind: str, *options: str) -> float:
        venv = work / f"venv-{kind}"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"pip install, {kind}…", file=sys.stderr, flush=True)
        seconds = timed([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *options, str(wheel)],
                        work, {**pip_env, "PIP_CACHE_DIR": str(cache)})
        shutil.rmtree(venv)
        return seconds

    cold = install("cold cache")
    cached = sum(f.stat().st_size for f in cache.rglob("*") if f.is_file()) / 2**20
    warm = install("warm cache")
    # What a cache hit holds, every file already here: the same files, downloaded apart (not
    # timed), installed without asking an index.
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(files), str(wheel)],
                   check=True, env=pip_env, cwd=work)
    local = install("files at hand", "--no-index", "--find-links", str(files))
    downloaded = sum(f.stat().st_size for f in files.iterdir()) / 2**20
    return [
        f"- `python -m pip install {wheel.name}` (with its dependencies, {downloaded:.0f} MB of wheels, from PyPI) "
        f"into a fresh virtualenv, empty pip cache: {cold:.1f} s; the cache then holds {cached:.1f} MB",
        f"- the same into another fresh virtualenv with that cache: {warm:.1f} s, **{warm / cold:.2f}x** the cold install",
        f"- the same with every wheel already on disk (`--no-index --find-links`: what a cache hit holds, no "
        f"download): {local:.1f} s, **{local / cold:.2f}x** the cold install",
    ]


def main() -> None:
    # A TERM ends it through the context managers: the emulators are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-plan", action="store_true")
    parser.add_argument("--skip-setup", action="store_true")
    parser.add_argument("--write", action="store_true", help="append the results to docs/benchmarks.md")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    lines = []
    with tempfile.TemporaryDirectory() as work:
        if not args.skip_plan:
            (Path(work) / "plan").mkdir()
            lines += plan_lines(args.rounds, Path(work) / "plan")
            print("\n".join(lines), flush=True)
        if not args.skip_setup:
            (Path(work) / "setup").mkdir()
            set_up = setup_lines(Path(work) / "setup")
            print("\n".join(set_up), flush=True)
            lines += set_up
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a") as doc:
            doc.write(f"\n### ci, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
