"""A thin adapter over the terraform CLI (subprocess). It knows Terraform, not AWS.

One class owns the binary, the environment and the CLI config; Terraform's JSON comes in,
small immutable views go out.  `TERRAFORM_BIN` may name `tofu`.  When
`TF_PROVIDER_MIRROR` names a filesystem mirror, a CLI config that installs providers only
from it is written and used (offline machines have no registry); otherwise the user's own
Terraform configuration applies untouched.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from awsenvs.errors import AwsenvsError

MIRROR_ENV = "TF_PROVIDER_MIRROR"
# State, plans and backups can hold secrets: whatever terraform creates is owner-only.
TERRAFORM_UMASK = 0o077
# Go's garbage collector for terraform and its provider plugins (GOGC, inherited by the
# plugins it starts), unless the user set one.  Each command decodes the AWS provider's
# whole schema, which is CPU-bound allocation; at Go's default (100) a small stack's
# `terraform plan` spent ~5 CPU-seconds, at 400 ~4, for ~7% more peak memory (580 -> 620
# MB), measured on this project's 2-core machine; `plan --all` runs stacks in parallel,
# so CPU is its limit (docs/benchmarks.md).  GC pacing changes no result.  GOGC:
# https://pkg.go.dev/runtime#hdr-Environment_Variables (hashicorp/go-plugin starts each
# plugin with terraform's environment).
TERRAFORM_GOGC = "400"


class TerraformError(AwsenvsError):
    """A failed terraform command, worded from its diagnostics (never a traceback)."""


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""

    def __str__(self) -> str:
        detail = " ".join(self.detail.split())
        return f"{self.summary}: {detail}" if detail else self.summary


@dataclass(frozen=True)
class PlanSummary:
    add: int = 0
    change: int = 0
    destroy: int = 0
    imports: int = 0
    forget: int = 0  # objects leaving state without being destroyed (`removed` blocks)

    @property
    def changes(self) -> bool:
        return bool(self.add or self.change or self.destroy or self.imports or self.forget)

    @classmethod
    def of(cls, changes: Iterable["ResourceChange"]) -> "PlanSummary":
        counts = dict(add=0, change=0, destroy=0, imports=0, forget=0)
        for change in changes:
            counts["imports"] += change.importing
            counts["add"] += "create" in change.actions
            counts["change"] += "update" in change.actions
            counts["destroy"] += "delete" in change.actions
            counts["forget"] += "forget" in change.actions
        return cls(**counts)


@dataclass(frozen=True)
class ResourceChange:
    """One entry of `resource_changes` in `terraform show -json` of a plan."""

    address: str
    type: str
    actions: tuple[str, ...]
    importing: bool = False

    @property
    def action(self) -> str:
        """One word: create, update, delete, replace, forget, import (an import with no change), no-op."""
        if len(self.actions) == 2:
            return "replace"
        if self.actions == ("no-op",) and self.importing:
            return "import"
        return self.actions[0]

    @property
    def changes(self) -> bool:
        return self.actions != ("no-op",) or self.importing


def resource_changes(plan_json: dict) -> list[ResourceChange]:
    """The typed view of a plan's resource changes (`terraform show -json PLANFILE`)."""
    return [
        ResourceChange(
            address=raw["address"], type=raw.get("type", ""),
            actions=tuple(raw["change"]["actions"]), importing="importing" in raw["change"],
        )
        for raw in plan_json.get("resource_changes", [])
    ]


@dataclass(frozen=True)
class Event:
    """One line of terraform's -json event stream, reduced to what progress needs."""

    type: str
    message: str
    resource: str = ""
    action: str = ""
    changes: PlanSummary | None = None
    diagnostic: Diagnostic | None = None


def write_mirror_cli_config(mirror: Path, path: Path) -> Path:
    mirror = Path(mirror).resolve()
    path.write_text(
        "provider_installation {\n"
        f"  filesystem_mirror {{\n    path    = {json.dumps(str(mirror))}\n    include = [\"*/*/*\"]\n  }}\n"
        "  direct {\n    exclude = [\"*/*/*\"]\n  }\n"
        "}\n"
    )
    return path


@dataclass
class Terraform:
    binary: str = field(default_factory=lambda: os.environ.get("TERRAFORM_BIN", "terraform"))
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def __post_init__(self) -> None:
        resolved = shutil.which(self.binary)
        if resolved is None:
            raise TerraformError(f"{self.binary}: not found on PATH (install Terraform, or set TERRAFORM_BIN)")
        self.binary = resolved
        self.env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
        self.env.setdefault("GOGC", TERRAFORM_GOGC)
        mirror = self.env.get(MIRROR_ENV)
        if mirror:
            if not (Path(mirror) / "registry.terraform.io").is_dir():
                raise TerraformError(f"{MIRROR_ENV}={mirror}: not a provider mirror (no registry.terraform.io folder in it)")
            self._config_dir = tempfile.TemporaryDirectory(prefix="awsenvs-tfrc-")
            self.env["TF_CLI_CONFIG_FILE"] = str(
                write_mirror_cli_config(Path(mirror), Path(self._config_dir.name) / "terraform.rc")
            )

    # -- plain commands -----------------------------------------------------------------

    @functools.cached_property
    def version(self) -> str:
        """The binary's version (`terraform version -json`, asked once)."""
        return json.loads(self.run(["version", "-json"]).stdout)["terraform_version"]

    def run(self, args: list[str], cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [self.binary, *args], cwd=cwd, env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            umask=TERRAFORM_UMASK,
        )
        if check and proc.returncode != 0:
            raise TerraformError(_error_text(proc.stderr or proc.stdout, f"terraform {args[0]} failed"))
        return proc

    def fmt(self, directories: Iterable[Path]) -> None:
        for directory in directories:
            self.run(["fmt", "-no-color", "-list=false", "."], cwd=directory)

    def init(self, directory: Path, backend: bool = True) -> None:
        args = ["init", "-no-color", "-input=false"]
        if not backend:
            args.append("-backend=false")
        self.run(args, cwd=directory)

    def providers_schema(self, directory: Path) -> dict:
        return json.loads(self.run(["providers", "schema", "-json"], cwd=directory).stdout)

    def validate(self, directory: Path) -> list[Diagnostic]:
        proc = self.run(["validate", "-json", "-no-color"], cwd=directory, check=False)
        try:
            result = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise TerraformError(_error_text(proc.stderr, "terraform validate failed")) from None
        return [_diagnostic(d) for d in result.get("diagnostics", [])]

    def show_plan(self, directory: Path, planfile: Path) -> list[ResourceChange]:
        return resource_changes(json.loads(self.run(["show", "-json", "-no-color", str(planfile)], cwd=directory).stdout))

    def state_pull(self, directory: Path) -> dict:
        """The stack's raw state (any backend), as JSON; empty when there is none."""
        text = self.run(["state", "pull"], cwd=directory).stdout
        return json.loads(text) if text.strip() else {}

    def state_list(self, directory: Path) -> list[str]:
        """Addresses in the stack's state (no provider is started)."""
        proc = self.run(["state", "list", "-no-color"], cwd=directory, check=False)
        if proc.returncode != 0:
            if "No state file was found" in proc.stderr:
                return []
            raise TerraformError(_error_text(proc.stderr or proc.stdout, "terraform state list failed"))
        return [line for line in proc.stdout.splitlines() if line.strip()]

    def state_rm(self, directory: Path, addresses: list[str]) -> None:
        """Forget objects without destroying them."""
        if addresses:
            self.run(["state", "rm", "-no-color", "-lock-timeout=60s", *addresses], cwd=directory)

    def outputs(self, directory: Path) -> dict:
        """`terraform output -json` as {name: value}; empty when there is no state yet."""
        proc = self.run(["output", "-json", "-no-color"], cwd=directory, check=False)
        if proc.returncode != 0:
            return {}
        return {name: item.get("value") for name, item in json.loads(proc.stdout or "{}").items()}

    # -- streamed commands ---------------------------------------------------------------

    def plan(self, directory: Path, planfile: Path, on_event: Callable[[Event], None] | None = None) -> PlanSummary:
        # -detailed-exitcode: 0 no changes, 2 changes, 1 error.  The exit code decides;
        # the change_summary event only supplies counts, and when it is missing the
        # counts come from the saved plan itself, never a silent "no changes".
        args = ["plan", "-json", "-input=false", "-lock-timeout=60s", "-detailed-exitcode", f"-out={planfile}"]
        forgotten = []  # change_summary leaves out `removed` blocks' forgets: planned_change "remove"

        def watch(event: Event) -> None:
            if event.type == "planned_change" and event.action == "remove":
                forgotten.append(event.resource)
            if on_event:
                on_event(event)

        summary, code = self._stream(args, directory, watch, ok=(0, 2))
        streamed = summary is not None
        if not streamed:
            # No JSON events: a remote run (the `cloud` block) streams its own log instead
            # (internal/cloud/backend_plan.go renders it).  The saved plan decides, and when
            # it cannot be read either this fails: never a silent "no changes".
            try:
                summary = self._plan_file_summary(directory, planfile)
            except (TerraformError, json.JSONDecodeError, KeyError) as exc:
                raise TerraformError(f"cannot tell what the plan changes: terraform printed no JSON events and "
                                     f"`terraform show -json` of the saved plan failed ({exc})") from None
            if code == 0 and summary.changes:
                raise TerraformError(f"terraform plan exited 0 (no changes) but its saved plan has changes ({directory})")
        if code == 0:
            return PlanSummary()
        summary = replace(summary, forget=max(summary.forget, len(forgotten)))
        if not summary.changes and streamed:  # counted from the saved plan already otherwise
            summary = self._plan_file_summary(directory, planfile)
        if not summary.changes:  # changes only to outputs: still something to apply
            summary = PlanSummary(change=1)
        return summary

    def _plan_file_summary(self, directory: Path, planfile: Path) -> PlanSummary:
        return PlanSummary.of(c for c in self.show_plan(directory, planfile) if c.changes)

    def apply(self, directory: Path, planfile: Path, on_event: Callable[[Event], None] | None = None) -> PlanSummary:
        args = ["apply", "-json", "-input=false", "-lock-timeout=60s", str(planfile)]
        return self._stream(args, directory, on_event)[0] or PlanSummary()

    def _stream(self, args: list[str], cwd: Path, on_event, ok: tuple[int, ...] = (0,)) -> tuple[PlanSummary | None, int]:
        errors: list[Diagnostic] = []
        summary: PlanSummary | None = None
        other_lines: list[str] = []
        with subprocess.Popen(
            [self.binary, *args], cwd=cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, umask=TERRAFORM_UMASK,
        ) as proc:
            for line in proc.stdout:
                event = parse_event(line)
                if event is None:
                    other_lines.append(line)
                    continue
                if event.diagnostic and event.diagnostic.severity == "error":
                    errors.append(event.diagnostic)
                if event.changes is not None:
                    summary = event.changes
                if on_event:
                    on_event(event)
            returncode = proc.wait()
        if returncode not in ok:
            if errors:
                raise TerraformError(_explain("; ".join(str(e) for e in errors), cwd))
            raise TerraformError(_explain(_error_text("".join(other_lines), f"terraform {args[0]} failed (exit {returncode})"), cwd))
        return summary, returncode


def resource_attributes(state: dict, address: str) -> dict | None:
    """The attributes of a managed resource (type.name, single instance) in raw state JSON."""
    type_, _, name = address.partition(".")
    for resource in state.get("resources", []):
        if resource.get("mode") == "managed" and resource.get("type") == type_ and resource.get("name") == name:
            instances = resource.get("instances") or []
            return instances[0].get("attributes", {}) if instances else None
    return None


STALE_PLAN = "Saved plan is stale"


def _explain(message: str, cwd: Path) -> str:
    """Add what to do to the errors a crashed earlier run leaves behind."""
    if "acquiring the state lock" in message:
        return (f"{message} -- if no other awsenvs or terraform run is active, an interrupted run left this "
                f"lock: remove it with `terraform force-unlock <ID>` in {cwd} (the ID is in the message above)")
    return message


def parse_event(line: str) -> Event | None:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or "type" not in raw:
        return None
    hook = raw.get("hook") or {}
    resource = (hook.get("resource") or raw.get("change", {}).get("resource") or {}).get("addr", "")
    action = hook.get("action") or raw.get("change", {}).get("action", "")
    changes = None
    if raw["type"] == "change_summary":
        c = raw.get("changes", {})
        changes = PlanSummary(c.get("add", 0), c.get("change", 0), c.get("remove", 0), c.get("import", 0), c.get("forget", 0))
    diagnostic = _diagnostic(raw["diagnostic"]) if raw["type"] == "diagnostic" else None
    return Event(raw["type"], raw.get("@message", ""), resource, action, changes, diagnostic)


def _diagnostic(raw: dict) -> Diagnostic:
    return Diagnostic(raw.get("severity", "error"), raw.get("summary", ""), raw.get("detail", ""))


def _error_text(output: str, fallback: str) -> str:
    """The first 'Error: ...' of terraform's human output, on one line."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    lines = [line.strip(" │╷╵\t") for line in output.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            # Leave out where (`on main.tf line 3`) and the quoted source lines (`23:   },`).
            detail = " ".join(l for l in lines[index + 1 : index + 6]
                              if l and not l.startswith(("on ", "Error:")) and not re.match(r"^\d+:", l))
            return f"{line[len('Error:'):].strip()}: {detail}".rstrip(": ")
    text = " ".join(l for l in lines if l)
    return text[:500] or fallback


# Where Terraform's own docs put implied local mirrors, plus this project's usual /opt one.
_MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


def find_provider_mirror(env: dict[str, str] | None = None) -> Path | None:
    """TF_PROVIDER_MIRROR when set, else the first usual mirror folder holding hashicorp/aws."""
    env = os.environ if env is None else env
    if env.get(MIRROR_ENV):
        return Path(env[MIRROR_ENV])
    for candidate in _MIRROR_CANDIDATES:
        path = Path(candidate).expanduser()
        if (path / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return path
    return None
