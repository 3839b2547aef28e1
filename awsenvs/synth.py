"""Synthesis with a fingerprint: an unchanged org.yaml (and code) reuses the previous output.

The fingerprint covers the org.yaml text, the synth options, this package's and the
constructs' source, and the binding versions, so any change that could alter the output
re-synthesizes.  The runner uses the same fingerprint to know whether saved plans are
still those of the current configuration.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from importlib import metadata
from pathlib import Path

from awsenvs import MODULES
from awsenvs.config import Org
from awsenvs.terraform import TerraformError

FINGERPRINT_FILE = ".awsenvs-fingerprint"
_CODE_DIRS = (Path(__file__).parent, MODULES)
_PACKAGES = ("cdktn", "cdktn-provider-aws", "constructs")


def fingerprint(org: Org, outdir: Path, state_dir: Path | None, hcl: bool) -> str:
    digest = hashlib.sha256()
    digest.update(org.source.read_bytes())
    digest.update(json.dumps([str(outdir.resolve()), str(state_dir), hcl]).encode())
    for directory in _CODE_DIRS:
        # rglob: subpackages (awsenvs/config/) shape the output too; the relative path
        # tells their files from top-level ones of the same name (config/errors.py, errors.py).
        for source in sorted(directory.rglob("*.py")):
            digest.update(source.relative_to(directory).as_posix().encode() + source.read_bytes())
    for package in _PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}".encode())
    return digest.hexdigest()


def synthesize(org: Org, outdir: Path, state_dir: Path | None = None, hcl: bool = False, force: bool = False) -> bool:
    """Write outdir/stacks/<stack>/ for every stack. Returns False when the previous synth was reused."""
    outdir = Path(outdir)
    stamp = outdir / FINGERPRINT_FILE
    current = fingerprint(org, outdir, state_dir, hcl)
    stack_files = [outdir / "stacks" / s / ("cdk.tf" if hcl else "cdk.tf.json") for s in org.stacks]
    if not force and stamp.exists() and stamp.read_text() == current and all(f.exists() for f in stack_files):
        return False

    # Imported here: loading the AWS bindings costs seconds, and a reused synth needs none.
    from awsenvs.stacks import SynthOptions, build_app

    stamp.unlink(missing_ok=True)
    for stack in org.stacks:  # a leftover of the other format would be loaded too, and conflict
        (stack_dir(outdir, stack) / "cdk.tf").unlink(missing_ok=True)
    build_app(org, SynthOptions(outdir=outdir, state_dir=state_dir)).synth()
    if hcl:
        try:
            convert_to_hcl([stack_dir(outdir, s) for s in org.stacks])
        except TerraformError as exc:
            raise exc.within("writing HCL") from None
    stamp.write_text(current)
    return True


def convert_to_hcl(directories: list[Path]) -> None:
    """cdk.tf.json -> terraform-fmt formatted cdk.tf, block structure from the provider schema."""
    from awsenvs.hcl import Schemas, to_hcl
    from awsenvs.terraform import Terraform

    terraform = Terraform()
    # Every stack uses the same provider: read its schema once, in a scratch directory
    # holding only the provider requirement (a backend would need initializing first).
    with tempfile.TemporaryDirectory(prefix="awsenvs-schema-") as scratch:
        requirement = json.loads((directories[0] / "cdk.tf.json").read_text())["terraform"]["required_providers"]
        (Path(scratch) / "providers.tf.json").write_text(json.dumps({"terraform": {"required_providers": requirement}}))
        terraform.init(Path(scratch), backend=False)
        schemas = Schemas(terraform.providers_schema(Path(scratch)))
    for directory in directories:
        source = directory / "cdk.tf.json"
        (directory / "cdk.tf").write_text(to_hcl(json.loads(source.read_text()), schemas))
        source.unlink()
    terraform.fmt(directories)


def stack_dir(outdir: Path, stack: str) -> Path:
    return Path(outdir) / "stacks" / stack


def write_retired_stack(org: Org, outdir: Path, stack: str, state_dir: Path | None = None) -> Path:
    """The backend-only config of an environment removed from org.yaml, to empty its state."""
    from awsenvs.stacks import RetiredStack, SynthOptions
    from cdktn import App

    app = App(outdir=str(outdir), stack_traces=False)
    RetiredStack(app, org, stack, SynthOptions(outdir=Path(outdir), state_dir=state_dir))
    directory = stack_dir(outdir, stack)
    manifest = Path(outdir) / "manifest.json"
    kept = manifest.read_bytes() if manifest.exists() else None
    app.synth()
    if kept is not None:  # the manifest describes the synthesized org, not this leftover
        manifest.write_bytes(kept)
    return directory
