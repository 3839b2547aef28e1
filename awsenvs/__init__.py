"""awsenvs: AWS accounts for a product's environments, as code.

The repository keeps the layout DESIGN.md shows (`modules/` and `templates/` at the top,
beside `main.py`), and a wheel installs them inside this package (setuptools
`package-dir`), so that nothing generic like `modules` lands in site-packages.  Either way
they are `awsenvs.modules` (the CDK constructs) and `awsenvs.TEMPLATES` (the jinja2
templates): in a checkout or an editable install this file maps the top-level folders in.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CHECKOUT = _HERE.parent


def _top_level(name: str) -> Path:
    """Where a folder of the repository's top level is: inside the package (a wheel) or beside it."""
    inside = _HERE / name
    return inside if inside.is_dir() else _CHECKOUT / name


MODULES = _top_level("modules")
TEMPLATES = _top_level("templates")
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

if MODULES.parent == _CHECKOUT and f"{__name__}.modules" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        f"{__name__}.modules", MODULES / "__init__.py", submodule_search_locations=[str(MODULES)]
    )
    _modules = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _modules
    _spec.loader.exec_module(_modules)


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (a container's cpuset counts),
    not every core of the host."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (macOS)
        return os.cpu_count() or 1
