"""awsenvs as an installed tool: the wheel, in a fresh virtualenv, used from outside the checkout.

Builds the wheel (`pip wheel .`), installs it with its dependencies into a new virtualenv,
and from a folder that is not the checkout runs the console script: --help, validate,
synth, export-modules and the whole sandbox against the emulator; and the example app
under examples/, importing the constructs from the installed package.  The constructs and templates are in
the package (`awsenvs.modules`, `awsenvs/templates`); no top-level `modules` is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv

import pytest

from awsenvs.terraform import find_provider_mirror
from conftest import ROOT, TWO_PRODUCTS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("package")
    wheels = work / "wheels"
    # Built from a copy: setuptools leaves build/ and *.egg-info in the source tree.
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "cdktf.out", "state", "build", "*.egg-info", ".pytest_cache", "__pycache__"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source)],
                           capture_output=True, text=True, cwd=work)
    assert build.returncode == 0, build.stderr[-3000:]
    [wheel] = wheels.glob("awsenvs-*.whl")
    venv.create(work / "venv", with_pip=True)
    python = work / "venv" / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
                             capture_output=True, text=True, cwd=work)
    assert install.returncode == 0, install.stderr[-3000:]
    outside = work / "outside"
    (outside / "home").mkdir(parents=True)
    # NODE_OPTIONS: this session's names the checkout's preload; the installed one must do.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDKTF_", "PYTHONPATH", "NODE_OPTIONS"))}
    env.update(HOME=str(outside / "home"), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    return work / "venv" / "bin", outside, env


def _run(installed, *args: str) -> subprocess.CompletedProcess:
    bin_dir, outside, env = installed
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=outside, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def test_the_wheel_has_no_top_level_modules_package(installed):
    proc = _run(installed, "python", "-c", "import modules")
    assert proc.returncode == 1 and "No module named 'modules'" in proc.stderr
    proc = _run(installed, "python", "-c", "import awsenvs, awsenvs.modules.iam as m; print(awsenvs.TEMPLATES, m.__file__)")
    assert proc.returncode == 0, proc.stderr
    assert "site-packages/awsenvs/templates" in proc.stdout and "site-packages/awsenvs/modules/iam.py" in proc.stdout
    # Every construct and every template of the checkout is installed.
    proc = _run(installed, "python", "-c", "import awsenvs, awsenvs.modules as m, pathlib; "
                "print(sorted(p.name for p in pathlib.Path(m.__file__).parent.glob('*.py'))); "
                "print(sorted(p.name for p in awsenvs.TEMPLATES.iterdir()))")
    assert proc.returncode == 0, proc.stderr
    constructs, templates = proc.stdout.splitlines()
    assert constructs == str(sorted(p.name for p in (ROOT / "awsenvs" / "modules").glob("*.py")))
    assert templates == str(sorted(p.name for p in (ROOT / "awsenvs" / "templates").iterdir()))
    # The jsii preload ships in the wheel, and importing awsenvs hands it to node.
    proc = _run(installed, "python", "-c", "import os, awsenvs; print(awsenvs.LAZY_BINDINGS.is_file(), os.environ['NODE_OPTIONS'])")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("True") and "site-packages/awsenvs/lazy_bindings.js" in proc.stdout


def test_the_console_script_validates_and_synthesizes_outside_the_checkout(installed):
    _, outside, _ = installed
    help_ = _run(installed, "awsenvs", "--help")
    assert help_.returncode == 0 and "Usage: awsenvs" in help_.stdout
    validate = _run(installed, "awsenvs", "--config", str(TWO_PRODUCTS), "validate")
    assert validate.returncode == 0, validate.stderr
    synth = _run(installed, "awsenvs", "--config", str(TWO_PRODUCTS), "synth")
    assert synth.returncode == 0, synth.stderr[-3000:]
    assert (outside / "cdktf.out" / "stacks" / "shop-prod" / "cdk.tf.json").exists()


def test_the_sandbox_runs_from_the_installed_package(installed):
    proc = _run(installed, "awsenvs", "--config", str(TWO_PRODUCTS), "sandbox")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "ok  second plan --all (must find no changes) (exit 0)" in output
    assert "[profile shop_dev_bob]" in output  # rendered from the packaged template


def test_another_cdk_app_imports_the_constructs_from_the_installed_package(installed):
    _, outside, _ = installed
    proc = _run(installed, "python", str(ROOT / "examples" / "product_app" / "main.py"), str(outside / "example"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (outside / "example" / "stacks" / "analytics-sandbox" / "cdk.tf.json").exists()


def test_the_installed_tool_exports_the_modules(installed):
    bin_dir, outside, env = installed
    mirror = os.environ.get("TF_PROVIDER_MIRROR") or str(find_provider_mirror())
    proc = subprocess.run([str(bin_dir / "awsenvs"), "export-modules", "modules"], cwd=outside,
                          env={**env, "TF_PROVIDER_MIRROR": mirror}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from awsenvs.export import MANIFEST, MODULES

    assert {p.name for p in (outside / "modules").iterdir()} == {*MODULES, "example", "README.md", MANIFEST}
    assert (outside / "modules" / "example" / "main.tf").is_file()  # the packaged template


def test_every_subpackage_is_in_the_wheel():
    """A folder of awsenvs/ that pyproject's packages does not list would be missing from
    the installed tool (the sandbox then fails at its first import)."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"awsenvs." + p.parent.relative_to(ROOT / "awsenvs").as_posix().replace("/", ".")
             for p in (ROOT / "awsenvs").rglob("__init__.py") if p.parent != ROOT / "awsenvs"}
    assert "awsenvs.modules" in found and found <= listed, sorted(found - listed)
