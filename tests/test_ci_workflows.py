"""`ci github`: the GitHub Actions workflows it writes, read back as YAML and validated
against GitHub's workflow schema (check-jsonschema's vendored copy), and how writing them
again treats the team's edits.  Through the CLI (awsenvs.cli.main, as main.py runs it); no
terraform, no emulator: the workflows' steps are run by the CI harness tests."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from awsenvs.cli import main
from awsenvs.config import load
from conftest import ROOT, TWO_PRODUCTS, cloud_org_text

WORKFLOWS = ("awsenvs-plan.yml", "awsenvs-apply.yml", "awsenvs-drift.yml")
S3_STATE = "state:\n  backend: s3\n  s3: {bucket: acme-tfstate, region: eu-west-1}\n"
CI = "ci:\n  github:\n    repository: acme/infra\n"
PLAN_ALL = "ci:\n  github:\n    repository: acme/infra\n    drift: {schedule: '5 1 * * 1-5', plan_all: true}\n"
MANAGEMENT = ("  region: eu-central-1\n", '  region: eu-central-1\n  management_account_id: "111111111111"\n')


def s3_org_text(ci: str = CI) -> str:
    return TWO_PRODUCTS.read_text().replace(*MANAGEMENT, 1) + S3_STATE + ci


ORGS = {"s3": s3_org_text(), "cloud": cloud_org_text() + CI, "plan_all": s3_org_text(PLAN_ALL)}


def repository(tmp_path: Path, text: str) -> tuple[Path, Path]:
    """A git repository holding org.yaml in a subfolder (the jobs' AWSENVS_CONFIG is its path there)."""
    root = tmp_path / "infra"
    (root / "accounts").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    config = root / "accounts" / "org.yaml"
    config.write_text(text)
    return root, config


def ci_github(capsys, config: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--config", str(config), "ci", "github", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def workflows(root: Path) -> dict[str, dict]:
    return {name: yaml.safe_load((root / ".github" / "workflows" / name).read_text()) for name in WORKFLOWS}


def texts(root: Path) -> dict[str, str]:
    folder = root / ".github" / "workflows"
    return {path.name: path.read_text() for path in sorted(folder.iterdir())} if folder.exists() else {}


def on(workflow: dict) -> dict:
    return workflow[True]  # YAML 1.1 (PyYAML) reads the key `on` as true; GitHub reads it as "on"


def steps(workflow: dict):
    for job in workflow["jobs"].values():
        yield from job["steps"]


def awsenvs_steps(workflow: dict) -> list[dict]:
    return [step for step in steps(workflow) if step.get("run", "").startswith("awsenvs ")]


def check_jsonschema(*files: Path) -> subprocess.CompletedProcess:
    executable = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert executable, "check-jsonschema is not installed: pip install -e '.[test]'"
    return subprocess.run([executable, "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind", list(ORGS))
def test_every_workflow_validates_against_githubs_schema(tmp_path, capsys, kind):
    root, config = repository(tmp_path, ORGS[kind])
    code, _, err = ci_github(capsys, config)
    assert code == 0, err
    assert sorted(texts(root)) == sorted(WORKFLOWS)
    assert {(root / ".github" / "workflows" / name).stat().st_mode & 0o777 for name in WORKFLOWS} == {0o644}
    proc = check_jsonschema(*(root / ".github" / "workflows" / name for name in WORKFLOWS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_workflow_github_would_refuse_fails_the_schema(tmp_path, capsys):
    """The check itself: a permission GitHub does not know fails it (so a pass means something)."""
    root, config = repository(tmp_path, ORGS["s3"])
    assert ci_github(capsys, config)[0] == 0
    plan = root / ".github" / "workflows" / "awsenvs-plan.yml"
    plan.write_text(plan.read_text().replace("  pull-requests: write\n", "  pull-requests: writ\n"))
    assert check_jsonschema(plan).returncode == 1


def test_events_permissions_environments_and_concurrency(tmp_path, capsys):
    root, config = repository(tmp_path, ORGS["s3"])
    assert ci_github(capsys, config)[0] == 0
    github = load(config).github
    plan, apply, drift = (workflows(root)[name] for name in WORKFLOWS)

    assert on(plan) == {"pull_request": {"branches": [github.default_branch]}}
    assert on(apply) == {"push": {"branches": [github.default_branch]}, "workflow_dispatch": None}
    assert on(drift) == {"schedule": [{"cron": github.drift_schedule}], "workflow_dispatch": None}

    # id-token: write everywhere; contents: read; each workflow one more, its own; nothing else.
    assert plan["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert apply["permissions"] == {"contents": "read", "id-token": "write", "actions": "read"}
    assert drift["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}
    for workflow in (plan, apply, drift):
        assert all("permissions" not in job for job in workflow["jobs"].values())

    assert plan["concurrency"] == {"group": "awsenvs-plan-${{ github.event.pull_request.number }}",
                                   "cancel-in-progress": True}
    assert apply["concurrency"] == {"group": "awsenvs-apply-acme", "cancel-in-progress": False}
    assert drift["concurrency"] == {"group": "awsenvs-drift-acme", "cancel-in-progress": False}

    assert list(plan["jobs"]) == ["plan"] and list(drift["jobs"]) == ["drift"]
    assert list(apply["jobs"]) == ["apply", "apply-protected"]
    first, protected = apply["jobs"]["apply"], apply["jobs"]["apply-protected"]
    assert first["environment"] == github.environment == "awsenvs"
    assert first["outputs"] == {"protected": "${{ steps.apply.outputs.protected }}"}
    assert first["if"] == "github.ref == 'refs/heads/main'"
    assert [step["run"] for step in first["steps"] if step.get("id") == "apply"] == ["awsenvs ci apply"]
    assert protected["environment"] == github.protected_environment == "awsenvs-production"
    assert protected["needs"] == "apply" and protected["if"] == "needs.apply.outputs.protected == 'true'"
    assert [step["run"] for step in awsenvs_steps({"jobs": {"p": protected}})] == ["awsenvs ci apply --protected"]
    assert [step["run"] for step in awsenvs_steps(plan)] == ["awsenvs ci plan"]
    assert [step["run"] for step in awsenvs_steps(drift)] == ["awsenvs ci drift"]
    assert all("environment" not in job for job in (*plan["jobs"].values(), *drift["jobs"].values()))


def test_every_job_sets_up_the_pinned_tools_and_assumes_its_role(tmp_path, capsys):
    from awsenvs.ci.workflows import TERRAFORM_VERSION

    root, config = repository(tmp_path, ORGS["s3"])
    assert ci_github(capsys, config)[0] == 0
    org = load(config)
    roles = {"plan": "arn:aws:iam::111111111111:role/awsenvs-github-plan",
             "apply": "arn:aws:iam::111111111111:role/awsenvs-github-apply"}
    role_of = {"awsenvs-plan.yml": roles["plan"], "awsenvs-apply.yml": roles["apply"], "awsenvs-drift.yml": roles["plan"]}
    for name, workflow in workflows(root).items():
        assert workflow["env"] == {"AWSENVS_CONFIG": "accounts/org.yaml", "AWS_REGION": org.region,
                                   "AWSENVS_PIP_SPEC": f"awsenvs=={importlib.metadata.version('awsenvs')}"}, name
        for job_id, job in workflow["jobs"].items():
            uses = [step.get("uses") or step["run"] for step in job["steps"]]
            assert uses == ["actions/checkout@v4", "actions/setup-python@v5", "hashicorp/setup-terraform@v3",
                            'python -m pip install "$AWSENVS_PIP_SPEC"', "aws-actions/configure-aws-credentials@v4",
                            uses[-1]], (name, job_id)
            checkout, python, terraform, _, credentials, command = job["steps"]
            assert checkout["with"] == {"fetch-depth": 0}
            assert python["with"]["python-version"] == "3.11" and python["with"]["cache"] == "pip"
            assert terraform["with"] == {"terraform_version": TERRAFORM_VERSION, "terraform_wrapper": False}
            assert credentials["with"]["role-to-assume"] == role_of[name]
            assert credentials["with"]["aws-region"] == org.region
            assert command["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}  # s3: no Terraform Cloud token
    for text in texts(root).values():  # ${{ }} never inside a run: (script injection); values come through env:
        assert all("${{" not in step.get("run", "") for step in steps(yaml.safe_load(text)))


def test_the_pinned_terraform_runs_every_stack():
    """The release the jobs install is at least what every stack requires (stacks.py)."""
    from awsenvs import stacks
    from awsenvs.ci.workflows import TERRAFORM_VERSION

    newest = stacks.required_terraform(stacks.IMPORT_BLOCKS, stacks.REMOVED_BLOCKS, stacks.S3_LOCKFILE,
                                       stacks.CLOUD_SAVED_PLANS).removeprefix(">= ")
    assert tuple(map(int, TERRAFORM_VERSION.split("."))) >= tuple(map(int, newest.split(".")))


def test_terraform_cloud_gets_its_token_and_drift_its_plan_all(tmp_path, capsys):
    root, config = repository(tmp_path / "cloud", ORGS["cloud"])
    assert ci_github(capsys, config)[0] == 0
    for name, workflow in workflows(root).items():
        for step in awsenvs_steps(workflow):
            assert step["env"] == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}",
                                   "TF_TOKEN_app_terraform_io": "${{ secrets.TF_API_TOKEN }}"}, name
        assert all("TF_TOKEN" not in str(step) for step in steps(workflow) if step not in awsenvs_steps(workflow))

    root, config = repository(tmp_path / "plan_all", ORGS["plan_all"])
    assert ci_github(capsys, config)[0] == 0
    drift = workflows(root)["awsenvs-drift.yml"]
    assert [step["run"] for step in awsenvs_steps(drift)] == ["awsenvs ci drift --plan-all"]
    assert on(drift)["schedule"] == [{"cron": "5 1 * * 1-5"}]


# The team's edits outside the blocks: a trigger, an env entry, a step, a job setting, a job.
THEIR_EDITS = [
    ("# <<< awsenvs: on\n", "  workflow_dispatch:\n"),
    ("# <<< awsenvs: env\n", "  TEAM_SETTING: kept\n"),
    ("# <<< awsenvs: plan.setup\n", "      - name: Lint org.yaml\n        run: yamllint accounts/org.yaml\n"),
    ("# <<< awsenvs: plan.run\n", "    timeout-minutes: 20\n  lint:\n    runs-on: ubuntu-latest\n"
                                  "    steps:\n      - run: echo ours\n"),
]


def _edit_outside(path: Path) -> None:
    text = path.read_text()
    for marker, added in THEIR_EDITS:
        assert marker in text
        text = text.replace(marker, marker + added)
    path.write_text(text)


def test_writing_again_keeps_the_teams_edits_outside_the_blocks(tmp_path, capsys):
    root, config = repository(tmp_path, ORGS["s3"])
    assert ci_github(capsys, config)[0] == 0
    plan = root / ".github" / "workflows" / "awsenvs-plan.yml"
    _edit_outside(plan)
    config.write_text(config.read_text().replace("    repository: acme/infra\n",
                                                 "    repository: acme/infra\n    default_branch: trunk\n"))

    code, _, err = ci_github(capsys, config)
    assert code == 0, err
    assert f"{plan}: updated" in err
    text = plan.read_text()
    assert all(marker + added in text for marker, added in THEIR_EDITS)
    workflow = workflows(root)["awsenvs-plan.yml"]
    assert on(workflow) == {"pull_request": {"branches": ["trunk"]}, "workflow_dispatch": None}
    assert workflow["env"]["TEAM_SETTING"] == "kept"
    assert [step.get("name") for step in workflow["jobs"]["plan"]["steps"]][-2:] == ["Lint org.yaml", "awsenvs ci plan"]
    assert workflow["jobs"]["plan"]["timeout-minutes"] == 20 and list(workflow["jobs"]) == ["plan", "lint"]
    assert check_jsonschema(plan).returncode == 0
    assert ci_github(capsys, config)[0] == 0 and plan.read_text() == text  # a third time: nothing to change


def test_a_block_edited_by_hand_is_refused_with_its_diff_then_overwritten_with_force(tmp_path, capsys):
    root, config = repository(tmp_path, ORGS["s3"])
    assert ci_github(capsys, config)[0] == 0
    plan = root / ".github" / "workflows" / "awsenvs-plan.yml"
    _edit_outside(plan)
    plan.write_text(plan.read_text().replace("  cancel-in-progress: true\n", "  cancel-in-progress: false\n"))
    # Also a change that would update every file: none may be written while one is refused.
    config.write_text(config.read_text().replace("    repository: acme/infra\n",
                                                 "    repository: acme/infra\n    environment: deploy\n"))
    before = texts(root)

    code, _, err = ci_github(capsys, config)
    assert code == 2
    assert texts(root) == before
    assert "-  cancel-in-progress: false\n+  cancel-in-progress: true\n" in err
    assert "block concurrency (as edited)" in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [line for line in err.splitlines()[-1:]]
    assert errors[0].startswith("error: .github/workflows/awsenvs-plan.yml: block concurrency edited by hand")
    assert "--force" in errors[0]

    code, _, err = ci_github(capsys, config, "--force")
    assert code == 0, err
    assert "your edits to concurrency overwritten" in err
    written = workflows(root)
    assert written["awsenvs-plan.yml"]["concurrency"]["cancel-in-progress"] is True
    assert written["awsenvs-apply.yml"]["jobs"]["apply"]["environment"] == "deploy"
    assert all(marker + added in plan.read_text() for marker, added in THEIR_EDITS)


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path, capsys):
    root, config = repository(tmp_path, ORGS["s3"])
    code, out, _ = ci_github(capsys, config, "--dry-run")
    assert code == 0
    assert not (root / ".github").exists()
    assert "+++ .github/workflows/awsenvs-apply.yml\n" in out and "+  group: \"awsenvs-apply-acme\"\n" in out

    assert ci_github(capsys, config)[0] == 0
    before = texts(root)
    config.write_text(config.read_text().replace("  region: eu-central-1\n", "  region: us-east-1\n", 1))
    code, out, err = ci_github(capsys, config, "--dry-run")
    assert code == 0 and texts(root) == before
    assert '-  AWS_REGION: "eu-central-1"\n+  AWS_REGION: "us-east-1"\n' in out
    assert "awsenvs-drift.yml: would be updated" in err


def test_a_file_awsenvs_did_not_write_is_kept_unless_forced(tmp_path, capsys):
    root, config = repository(tmp_path, ORGS["s3"])
    theirs = root / ".github" / "workflows" / "awsenvs-plan.yml"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("name: our own plan\non: push\njobs: {}\n")

    code, _, err = ci_github(capsys, config)
    assert code == 2
    assert texts(root) == {"awsenvs-plan.yml": "name: our own plan\non: push\njobs: {}\n"}
    assert "error: .github/workflows/awsenvs-plan.yml: it has no awsenvs blocks" in err

    assert ci_github(capsys, config, "--force")[0] == 0
    assert workflows(root)["awsenvs-plan.yml"]["name"] == "awsenvs plan"


def test_without_ci_github_it_says_what_to_add(tmp_path):
    root, config = repository(tmp_path, s3_org_text(ci=""))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(config), "ci", "github"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"error: {config}: ci.github: not set: add `ci: {{github: {{repository: OWNER/NAME}}}}` (the repository whose "
        "workflows plan and apply; docs/ci.md), run bootstrap, then ci github again"]
    assert not (root / ".github").exists()


def test_without_the_management_account_id_it_names_the_field(tmp_path, capsys):
    root, config = repository(tmp_path, TWO_PRODUCTS.read_text() + S3_STATE + CI)
    code, _, err = ci_github(capsys, config)
    assert code == 2
    assert len(err.splitlines()) == 1 and "organization.management_account_id: required with ci.github" in err
    assert not (root / ".github").exists()


def test_outside_a_git_repository_it_writes_beside_org_yaml_and_says_so(tmp_path, capsys):
    config = tmp_path / "org.yaml"
    config.write_text(ORGS["s3"])
    code, _, err = ci_github(capsys, config)
    assert code == 0, err
    assert f"note: {config} is not in a git repository: writing into its folder" in err
    assert sorted(texts(tmp_path)) == sorted(WORKFLOWS)
    assert workflows(tmp_path)["awsenvs-plan.yml"]["env"]["AWSENVS_CONFIG"] == "org.yaml"


def test_dir_chooses_the_repository_and_must_hold_org_yaml(tmp_path, capsys):
    root, config = repository(tmp_path, ORGS["s3"])
    code, _, err = ci_github(capsys, config, "--dir", str(root / "accounts"))
    assert code == 0, err
    assert workflows(root / "accounts")["awsenvs-plan.yml"]["env"]["AWSENVS_CONFIG"] == "org.yaml"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code, _, err = ci_github(capsys, config, "--dir", str(elsewhere))
    assert code == 2 and f"--dir {elsewhere}: {config} is not inside it" in err
    assert not (elsewhere / ".github").exists()


def test_a_block_this_release_adds_goes_where_it_belongs():
    """Merging into a file from a release without some block: the block is put after the one
    it follows; a block no longer written is dropped; the rest stays."""
    from awsenvs.ci.workflows import Block, join, merge, parse

    generated = join([Block("a", "a: 1\n"), Block("b", "b: 2\n"), Block("c", "c: 3\n")])
    existing = join(["# ours\n", Block("a", "a: 0\n"), "x: ours\n", Block("old", "old: 1\n"), Block("c", "c: 3\n")])
    merged = merge(existing, generated)
    assert merged.edited == ()
    parts = parse(merged.text)
    assert [part.name if isinstance(part, Block) else part for part in parts] == ["# ours\n", "a", "b", "x: ours\n", "c"]
    assert [part.body for part in parts if isinstance(part, Block)] == ["a: 1\n", "b: 2\n", "c: 3\n"]
    assert not any(part.edited for part in parts if isinstance(part, Block))


def test_broken_markers_are_refused_naming_the_line(tmp_path, capsys):
    root, config = repository(tmp_path, ORGS["s3"])
    assert ci_github(capsys, config)[0] == 0
    plan = root / ".github" / "workflows" / "awsenvs-plan.yml"
    plan.write_text(plan.read_text().replace("# <<< awsenvs: permissions\n", ""))
    before = texts(root)
    code, _, err = ci_github(capsys, config)
    assert code == 2 and texts(root) == before
    assert "its awsenvs markers are broken (line " in err and "block 'concurrency' opens inside block 'permissions'" in err
    assert ci_github(capsys, config, "--force")[0] == 0
    assert check_jsonschema(plan).returncode == 0
