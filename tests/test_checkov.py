"""checkov scans every synthesized stack of both organizations and the exported modules, offline:
no failed check.

checkov lives in its own virtualenv (`make checkov-setup` creates .venv-checkov), because its
dependency pins conflict with the project's.  The checks it may skip are listed, with the
reason, in .checkov.yaml; everything else must pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CONFIG = ROOT / ".checkov.yaml"

# checkov makes no network call with these: no version check against PyPI when it starts,
# no policy metadata from the platform (--skip-download, in .checkov.yaml, does the same).
OFFLINE_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}

_NAME = re.compile(r'^ {6}"([^"]+)": \{')
_TYPE = re.compile(r'^ {4}"([^"]+)": \{')
_BLOCK = re.compile(r'^ {2}"([^"]+)": \{')


def _readable(data: dict) -> dict:
    """The stack as checkov's terraform_json parser can read it, every check-relevant block kept.

    That parser expects every top-level block to map names to objects, and skips the whole
    file as a parsing error otherwise.  Terraform JSON has two other shapes, which no check
    reads, and they are left out: blocks that are lists (`import` of adopted accounts in the
    management stack; `moved`, `removed`) and plain attributes of a block (`terraform`'s
    `required_version`).  Resources, data sources, providers, modules, variables, outputs
    and locals are kept whole.
    """
    readable = {}
    for block, body in data.items():
        if block in ("resource", "data", "provider", "locals", "//"):
            readable[block] = body
        elif isinstance(body, dict):
            readable[block] = {name: value for name, value in body.items() if isinstance(value, dict)}
    return readable


def _scan_copy(synthesized, root: Path, only: str | None = None) -> list[str]:
    """Copy every stack (of the `only` organization, if given), made readable, to
    root/<org>/<stack>/cdk.tf.json for checkov.

    Written with indent=2 so that a reported line range maps back to a resource address
    (see _address).
    """
    files = []
    for org_name, synth in synthesized.items():
        if only and org_name != only:
            continue
        for stack in synth.org.stacks:
            target = root / org_name / stack / "cdk.tf.json"
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(_readable(synth.stacks[stack]), indent=2) + "\n")
            files.append(f"/{org_name}/{stack}/cdk.tf.json")
    return files


def _address(root: Path, record: dict) -> str:
    """type.name of the resource a record points at: checkov's terraform_json runner names
    most of them `resource.<name>`, without the type."""
    try:
        lines = (root / record["file_path"].lstrip("/")).read_text().splitlines()
        above = lines[: record["file_line_range"][0] - 1]
        name = _NAME.match(lines[len(above)])
        type_ = next(m for m in map(_TYPE.match, reversed(above)) if m)
        block = next(m for m in map(_BLOCK.match, reversed(above)) if m)
    except (OSError, LookupError, StopIteration, TypeError):
        name = None
    if name is None or block.group(1) not in ("resource", "data"):
        return str(record.get("resource"))
    prefix = "data." if block.group(1) == "data" else ""
    return f"{prefix}{type_.group(1)}.{name.group(1)}"


def _checkov(root: Path, tmp_path: Path, config: Path = CONFIG) -> dict[str, list]:
    """checkov's results for every file under root: passed, failed, skipped, parsing errors."""
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed ({CHECKOV} is missing): run `make checkov-setup`")
    home = tmp_path / "home"  # no ~/.checkov.yaml of the developer's, no cache in the real home
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home), **OFFLINE_ENV)
    proc = subprocess.run(
        [str(CHECKOV), "--config-file", str(config), "--directory", str(root), "--output", "json", "--compact"],
        cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )
    assert proc.returncode in (0, 1), f"checkov exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    try:
        reports = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov printed no JSON report:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    reports = reports if isinstance(reports, list) else [reports]
    assert all("results" in report for report in reports), f"checkov found nothing to scan: {reports}"

    results = {"passed_checks": [], "failed_checks": [], "skipped_checks": [], "parsing_errors": []}
    for report in reports:
        assert report.get("check_type") in ("terraform", "terraform_json"), report.get("check_type")
        for key in results:
            results[key] += report["results"].get(key, [])
    assert not results["parsing_errors"], f"checkov could not parse: {results['parsing_errors']}\n{proc.stderr[-4000:]}"
    assert (proc.returncode == 0) == (not results["failed_checks"]), proc.stderr[-4000:]
    return results


def _scanned(results: dict) -> set[str]:
    return {r["file_path"] for key in ("passed_checks", "failed_checks", "skipped_checks") for r in results[key]}


def _fail_on(failed: list, root: Path, what: str) -> None:
    lines = sorted(
        f"{r['check_id']} {_address(root, r)} in {r['file_path'].lstrip('/')}:{'-'.join(map(str, r['file_line_range']))}"
        f" ({r['check_name']})"
        for r in failed
    )
    if failed:
        pytest.fail(f"checkov: {len(failed)} failed check(s); fix {what} (skips: .checkov.yaml):\n" + "\n".join(lines),
                    pytrace=False)


def test_checkov_finds_nothing(synthesized, tmp_path):
    root = tmp_path / "stacks"
    expected = _scan_copy(synthesized, root)
    results = _checkov(root, tmp_path)
    scanned = _scanned(results)
    assert scanned >= set(expected), f"checkov scanned nothing in: {sorted(set(expected) - scanned)}"
    _fail_on(results["failed_checks"], root, "the synthesized Terraform")


def test_checkov_finds_nothing_in_the_exported_modules(exported_modules, tmp_path):
    results = _checkov(exported_modules, tmp_path)
    # checkov has no check for aws_organizations_* resources: organization/main.tf is parsed
    # (no parsing error) but yields no result.
    assert _scanned(results) >= {"/account/main.tf", "/iam/main.tf"}
    _fail_on(results["failed_checks"], exported_modules, "the exported modules")


# The state bucket (bootstrap) has what its job needs (versioning, KMS default encryption,
# no public access, TLS only, old versions expiring) and not the rest of checkov's S3
# checks, each of which needs more infrastructure that a state bucket does not: another
# bucket to log into, a replica bucket in another region, a target for event notifications.
BOOTSTRAP_SKIPS = {
    "CKV_AWS_18": "access logging: needs a log bucket (itself failing this check)",
    "CKV_AWS_144": "cross-region replication: needs a second bucket in another region",
    "CKV2_AWS_62": "event notifications: nothing consumes them",
}


def test_checkov_finds_nothing_in_the_bootstrap_stacks(bootstrap_stacks, tmp_path):
    import yaml

    config = yaml.safe_load(CONFIG.read_text())
    config["skip-check"] = [*config["skip-check"], *BOOTSTRAP_SKIPS]
    with_skips = tmp_path / "bootstrap.yaml"
    with_skips.write_text(yaml.safe_dump(config))
    root = tmp_path / "stacks"
    for kind, (_, document, *_) in bootstrap_stacks.items():
        (root / kind).mkdir(parents=True)
        (root / kind / "cdk.tf.json").write_text(json.dumps(_readable(document), indent=2) + "\n")
    # ci.github: an account stack with its read role for pull requests' plans.
    (root / "github-account").mkdir()
    (root / "github-account" / "cdk.tf.json").write_text(json.dumps(_readable(bootstrap_stacks["github"][3]), indent=2) + "\n")
    results = _checkov(root, tmp_path, with_skips)
    assert _scanned(results) >= {"/s3/cdk.tf.json", "/cloud/cdk.tf.json", "/github/cdk.tf.json", "/github-account/cdk.tf.json"}
    assert {r["check_id"] for r in results["skipped_checks"]} <= set(BOOTSTRAP_SKIPS) | set(yaml.safe_load(CONFIG.read_text())["skip-check"])
    _fail_on(results["failed_checks"], root, "the bootstrap stack")


IAM_USER_SKIPS = {"CKV_AWS_273", "CKV2_AWS_22"}  # IAM users at all; IAM users with console access


def test_identity_center_stacks_need_none_of_the_iam_user_skips(synthesized, tmp_path):
    """Two skips in .checkov.yaml exist for the IAM-user model; with Identity Center access
    checkov runs without them and still finds nothing.  (CKV_AWS_274, AdministratorAccess,
    stays: the example's sysadmins permission set administers its accounts by design.)"""
    import yaml

    config = yaml.safe_load(CONFIG.read_text())
    assert IAM_USER_SKIPS <= set(config["skip-check"])
    config["skip-check"] = [c for c in config["skip-check"] if c not in IAM_USER_SKIPS]
    strict = tmp_path / "strict.yaml"
    strict.write_text(yaml.safe_dump(config))
    root = tmp_path / "stacks"
    expected = _scan_copy(synthesized, root, only="identity_center")
    results = _checkov(root, tmp_path, strict)
    assert _scanned(results) >= set(expected)
    assert not {r["check_id"] for r in results["skipped_checks"]} & IAM_USER_SKIPS
    _fail_on(results["failed_checks"], root, "the Identity Center stacks")
