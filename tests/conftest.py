"""Shared, session-scoped fixtures: each organization is synthesized once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from awsenvs import config
from awsenvs.synth import synthesize
from awsenvs.terraform import Terraform, find_provider_mirror

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "org.yaml"
TWO_PRODUCTS = ROOT / "tests" / "fixtures" / "two-products.yaml"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def provider_mirror() -> Path:
    mirror = find_provider_mirror()
    if mirror is None:
        pytest.fail("no AWS provider filesystem mirror found: set TF_PROVIDER_MIRROR")
    return mirror


@pytest.fixture(scope="session")
def terraform(provider_mirror) -> Terraform:
    env = dict(os.environ, TF_PROVIDER_MIRROR=str(provider_mirror))
    return Terraform(env=env)


class Synthesized:
    """One synthesized organization: its model and the parsed JSON of each stack."""

    def __init__(self, org: config.Org, outdir: Path) -> None:
        import json

        self.org = org
        self.outdir = outdir
        self.stacks = {
            stack: json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text()) for stack in org.stacks
        }

    def resources(self, stack: str, type_: str) -> dict:
        return self.stacks[stack].get("resource", {}).get(type_, {})


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> dict[str, Synthesized]:
    result = {}
    for name, path in (("example", EXAMPLE), ("two", TWO_PRODUCTS)):
        org = config.load(path)
        outdir = tmp_path_factory.mktemp(f"synth-{name}")
        synthesize(org, outdir, state_dir=outdir / "state")
        result[name] = Synthesized(org, outdir)
    return result
