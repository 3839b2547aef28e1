"""Synth benchmark: example org synth vs the bare import of the AWS binding submodules it uses.

Each measurement runs in a fresh process, several rounds, in this one invocation, and the
ratios are what count (absolute seconds depend on the machine).  Target (DESIGN.md):
synth within 1.3x of the bare import; an unchanged org.yaml reuses the previous synth.

    .venv/bin/python bench/synth_bench.py [--rounds N] [--write]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")


def used_submodules() -> list[str]:
    found = set()
    for source in [*ROOT.glob("awsenvs/modules/*.py"), *ROOT.glob("awsenvs/*.py")]:
        found.update(re.findall(r"^from (cdktn_provider_aws\.\w+) import", source.read_text(), re.M))
    return sorted(found)


def timed(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and the peak RSS (MB) of the largest process in the run (python or node)."""
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=ENV, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="append the results to docs/benchmarks.md")
    args = parser.parse_args()

    modules = ["cdktn", "constructs", *used_submodules()]
    bare_import = [sys.executable, "-c", "import " + ", ".join(modules)]
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        synth = [sys.executable, str(ROOT / "main.py"), "--config", str(ROOT / "org.yaml"), "synth"]
        imports, synths, reused = [], [], []
        peak = 0
        for _ in range(args.rounds):  # interleaved, so drift hits both alike
            imports.append(timed(bare_import, work)[0])
            seconds, peak = timed([*synth, "--force"], work)
            synths.append(seconds)
            reused.append(timed(synth, work)[0])

    imp, syn, reu = (statistics.median(x) for x in (imports, synths, reused))
    lines = [
        f"- bare import of {len(modules)} modules ({', '.join(m.rsplit('.', 1)[-1] for m in modules)}): {imp:.2f} s (median of {args.rounds})",
        f"- `synth` of the example org (forced): {syn:.2f} s, **{syn / imp:.2f}x** the bare import (target <= 1.3x)",
        f"- `synth` with org.yaml unchanged (reused): {reu:.2f} s, **{reu / imp:.2f}x** the bare import",
        f"- peak RSS of the largest process (python or the jsii node runtime): {peak} MB (target < 1024 MB)",
    ]
    print("\n".join(lines))
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a") as doc:
            doc.write(f"\n### synth, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
