"""awsenvs: AWS accounts for a product's environments, as code.

The CDK constructs are the subpackage `awsenvs.modules`, the jinja2 templates the folder
`awsenvs/templates` (TEMPLATES): in a checkout, an editable install and a wheel alike.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent

TEMPLATES = _HERE / "templates"
LAZY_BINDINGS = _HERE / "lazy_bindings.js"
KERNEL_SIGNALS = _HERE / "kernel_signals.js"
EAGER_BINDINGS_ENV = "AWSENVS_EAGER_BINDINGS"  # non-empty: load every AWS binding, as plain jsii does


def _require(environ, preload: Path) -> None:
    """Add `--require <preload>` to NODE_OPTIONS once (read by the jsii kernel when it starts,
    at the first binding import of a process; the synth worker processes inherit it)."""
    # Quoted: NODE_OPTIONS splits on spaces (https://nodejs.org/api/cli.html#node_optionsoptions).
    option = "--require " + json.dumps(str(preload), ensure_ascii=False)
    current = environ.get("NODE_OPTIONS", "")
    if option not in current:
        environ["NODE_OPTIONS"] = f"{current} {option}".strip()


def load_bindings_lazily(environ=os.environ) -> None:
    """Have the jsii kernel load only the AWS provider submodules a synth uses (see
    lazy_bindings.js; a 200-account synth took ~2x as long without it).  The kernel reads
    NODE_OPTIONS when it starts, at the first binding import of a process: this runs when
    awsenvs is imported, before any, and the synth worker processes inherit it."""
    if environ.get(EAGER_BINDINGS_ENV) or not LAZY_BINDINGS.is_file():
        return
    _require(environ, LAZY_BINDINGS)


def keep_kernel_through_ctrl_c(environ=os.environ) -> None:
    """Have the jsii kernel ignore a Ctrl-C meant for awsenvs (see kernel_signals.js)."""
    if KERNEL_SIGNALS.is_file():
        _require(environ, KERNEL_SIGNALS)


load_bindings_lazily()
keep_kernel_through_ctrl_c()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (a container's cpuset counts),
    not every core of the host."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (macOS)
        return os.cpu_count() or 1
