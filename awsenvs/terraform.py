"""A thin adapter over the terraform CLI (subprocess). It knows Terraform, not AWS.

One class owns the binary, the environment and the CLI config; Terraform's JSON comes in,
small immutable views go out.  `TERRAFORM_BIN` may name `tofu`.

Paths: every folder and file named on terraform's command line or in its environment (the
binary, a plan file, TF_CLI_CONFIG_FILE, AWS_CONFIG_FILE, ...) is made absolute here.
Terraform runs in the stack's folder, and resolves a relative `-out=` or plan file inside
it, not where awsenvs was started (`cdktf.out/stacks/x/awsenvs.tfplan` would become
`cdktf.out/stacks/x/cdktf.out/stacks/x/awsenvs.tfplan`).  The local backend's `path` in a
stack's config is relative on purpose: to the stack's folder, where terraform reads it.

Providers: a filesystem mirror (offline machines have no registry) is found the same way
as the sandbox finds it (`find_provider_mirror`: `TF_PROVIDER_MIRROR`, else the usual
plugin folders), unless the user's own Terraform CLI config says how to install providers
(`provider_installation`), which then applies untouched.  With a mirror, a CLI config that
installs providers only from it is written and used.

Interrupts: terraform runs in a process group of its own, so a Ctrl-C at the terminal
reaches only awsenvs, which hands each running terraform exactly one SIGINT (`interrupt`):
terraform's graceful stop (it finishes the operations in flight and writes its state; a
second SIGINT would make it exit at once).  Nothing starts after that.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from awsenvs.errors import AwsenvsError, Unreachable, no_answer, shorten

MIRROR_ENV = "TF_PROVIDER_MIRROR"
# Environment variables terraform (or its AWS provider and S3 backend) reads as file paths.
_PATH_VARIABLES = (MIRROR_ENV, "TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR", "AWS_CONFIG_FILE",
                   "AWS_SHARED_CREDENTIALS_FILE", "AWS_CA_BUNDLE", "AWS_WEB_IDENTITY_TOKEN_FILE")
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
    """A failed terraform command, worded from its diagnostics (never a traceback);
    `diagnostics`: its error diagnostics, when it streamed them (plan, apply)."""

    def __init__(self, *args, diagnostics: tuple["Diagnostic", ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)  # TerraformUnreachable's arguments are Unreachable's
        self.diagnostics = diagnostics


class TerraformInterrupted(TerraformError):
    """The command was stopped by an interrupt (Ctrl-C), or not started after one."""


class TerraformUnreachable(TerraformError, Unreachable):
    """Terraform (its provider, or its state backend) got no answer from an endpoint."""


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str = ""  # the resource it is about, when it is about one (apply's errors are)

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
class AttributeChange:
    """One top-level attribute an update or replacement changes: its value in state (for an
    import, the object as it is) and the planned one."""

    name: str
    before: object
    after: object
    unknown: bool = False  # the planned value is known only after apply
    sensitive: bool = False  # either value is sensitive: never shown


# Attributes left out of a change's attributes: `id`; `tags_all` repeats `tags` (plus the
# provider's default tags, which the stacks do not set).
_UNSHOWN_ATTRIBUTES = frozenset({"id", "tags_all"})


def attribute_changes(change: dict) -> tuple[AttributeChange, ...]:
    """The top-level attributes whose value differs between a `resource_changes` entry's
    `before` and `after` (`after_unknown`: computed at apply; `*_sensitive`: masked)."""
    before, after = change.get("before") or {}, change.get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict) or not change.get("before"):
        return ()
    unknown = change.get("after_unknown") or {}
    sensitive = {**_as_dict(change.get("before_sensitive")), **_as_dict(change.get("after_sensitive"))}
    found = []
    for name in sorted(set(before) | set(after) | set(unknown)):
        if name in _UNSHOWN_ATTRIBUTES:
            continue
        is_unknown = unknown.get(name) is True
        if not is_unknown and before.get(name) == after.get(name):
            continue
        if is_unknown and before.get(name) is None:
            continue  # computed, never set: nothing a reviewer could compare
        found.append(AttributeChange(name, before.get(name), None if is_unknown else after.get(name), is_unknown,
                                     _marked(sensitive.get(name))))
    return tuple(found)


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _marked(mark) -> bool:
    """Whether a `*_sensitive` mark (true, or a structure of marks for a nested value) marks anything."""
    if isinstance(mark, dict):
        return any(_marked(m) for m in mark.values())
    if isinstance(mark, list):
        return any(_marked(m) for m in mark)
    return mark is True


@dataclass(frozen=True)
class ResourceChange:
    """One entry of `resource_changes` in `terraform show -json` of a plan."""

    address: str
    type: str
    actions: tuple[str, ...]
    importing: bool = False
    # Updates and replacements: the attributes they change (read from the saved plan; the
    # plan's event stream does not carry them).
    attributes: tuple[AttributeChange, ...] = field(default=(), compare=False)

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


# planned_change events name one action per resource (terraform's internal/command/views/json/change.go):
# as the actions of `terraform show -json`, so that both give the same view.
_EVENT_ACTIONS = {"create": ("create",), "update": ("update",), "delete": ("delete",), "replace": ("delete", "create"),
                  "remove": ("forget",), "import": ("no-op",)}


@dataclass(frozen=True)
class Plan:
    """What one `terraform plan` found: its counts, and each resource it changes."""

    summary: PlanSummary
    changes: tuple[ResourceChange, ...] = ()


def planned_changes(events: Iterable["Event"]) -> tuple[ResourceChange, ...]:
    """The resource changes a plan's -json event stream announced (reads and moves left out)."""
    return tuple(ResourceChange(e.resource, e.resource_type, _EVENT_ACTIONS[e.action], e.importing)
                 for e in events if e.type == "planned_change" and e.action in _EVENT_ACTIONS)


def resource_changes(plan_json: dict) -> list[ResourceChange]:
    """The typed view of a plan's resource changes (`terraform show -json PLANFILE`)."""
    return [
        ResourceChange(
            address=raw["address"], type=raw.get("type", ""),
            actions=tuple(raw["change"]["actions"]), importing="importing" in raw["change"],
            attributes=attribute_changes(raw["change"]) if "update" in raw["change"]["actions"]
            or len(raw["change"]["actions"]) == 2 else (),
        )
        for raw in plan_json.get("resource_changes", [])
    ]


def with_attributes(changes: Iterable[ResourceChange], shown: Iterable[ResourceChange]) -> tuple[ResourceChange, ...]:
    """`changes` with the attributes `shown` (the saved plan's view) gives the same addresses."""
    by_address = {c.address: c.attributes for c in shown if c.attributes}
    return tuple(replace(c, attributes=by_address.get(c.address, c.attributes)) for c in changes)


@dataclass(frozen=True)
class Event:
    """One line of terraform's -json event stream, reduced to what progress needs."""

    type: str
    message: str
    resource: str = ""
    action: str = ""
    changes: PlanSummary | None = None
    diagnostic: Diagnostic | None = None
    importing: bool = False  # a planned_change of a resource an import block brings in
    resource_type: str = ""


def write_mirror_cli_config(mirror: Path, path: Path, kept: str = "") -> Path:
    """A Terraform CLI config installing providers only from `mirror`, after `kept` (the rest
    of a user's config)."""
    mirror = Path(mirror).resolve()
    path.write_text(
        (kept.rstrip() + "\n\n" if kept.strip() else "") +
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
        self.binary = str(Path(resolved).absolute())
        # Terraform runs in each stack's folder: a relative path in its environment would
        # mean another file there than for awsenvs (and boto3) in the folder it was started in.
        for name in _PATH_VARIABLES:
            if self.env.get(name) and not Path(self.env[name]).is_absolute():
                self.env[name] = str(Path(self.env[name]).absolute())
        self.env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
        self.env.setdefault("GOGC", TERRAFORM_GOGC)
        if self.env.get(MIRROR_ENV) and not (Path(self.env[MIRROR_ENV]) / "registry.terraform.io").is_dir():
            raise TerraformError(f"{MIRROR_ENV}={self.env[MIRROR_ENV]}: not a provider mirror (no registry.terraform.io "
                                 "folder in it)")
        explicit = bool(self.env.get(MIRROR_ENV))
        mirror = find_provider_mirror(self.env) if explicit or not own_provider_installation(self.env) else None
        self.mirror = mirror
        if mirror:
            self._config_dir = tempfile.TemporaryDirectory(prefix="awsenvs-tfrc-")
            # A mirror found in a usual folder keeps the rest of the user's CLI config
            # (credentials blocks, plugin_cache_dir: it has no provider_installation, or no
            # mirror would have been chosen); TF_PROVIDER_MIRROR replaces it, as documented.
            kept = "" if explicit else _user_cli_config(self.env)
            self.env["TF_CLI_CONFIG_FILE"] = str(
                write_mirror_cli_config(mirror, Path(self._config_dir.name) / "terraform.rc", kept)
            )
        self._running: set[subprocess.Popen] = set()
        self._interrupted = False
        # Reentrant: interrupt() runs in a signal handler, on whichever thread is inside a
        # `with self._lock` at that moment (the main thread may be starting a command).
        self._lock = threading.RLock()

    # -- processes ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _process(self, args: list[str], cwd: Path | None, **popen):
        """A running terraform: in its own process group (see the module doc), registered
        for `interrupt`; none starts once interrupted."""
        with self._lock:
            if self._interrupted:
                raise TerraformInterrupted(f"terraform {args[0]}: not started (interrupted)")
            proc = subprocess.Popen([self.binary, *args], cwd=_absolute(cwd) if cwd else None, env=self.env,
                                    stdin=subprocess.DEVNULL, text=True, umask=TERRAFORM_UMASK,
                                    start_new_session=True, **popen)
            self._running.add(proc)
        try:
            with proc:
                try:
                    yield proc
                except KeyboardInterrupt:
                    # Ctrl-C outside a run that handles it (workflow.interruptible): the
                    # terminal's SIGINT reached only awsenvs, so terraform gets it now, once,
                    # and is waited for (a second Ctrl-C is a second SIGINT: it stops at once).
                    self._stop_gracefully(proc)
                    raise
        finally:
            with self._lock:
                self._running.discard(proc)

    @staticmethod
    def _stop_gracefully(proc: subprocess.Popen) -> None:
        while proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            try:
                proc.communicate()  # drains its output (a full pipe would keep it from exiting)
            except KeyboardInterrupt:
                continue  # again: one more SIGINT, terraform's stop at once

    def interrupt(self) -> None:
        """Stop gracefully: one SIGINT to every running terraform, and start no other
        command (they raise TerraformInterrupted).  A second call sends a second SIGINT,
        on which terraform exits at once."""
        with self._lock:
            self._interrupted = True
            for proc in list(self._running):
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGINT)

    def _failure(self, message: str, cwd: Path | None, diagnostics: tuple[Diagnostic, ...] = ()) -> TerraformError:
        if self._interrupted:
            return TerraformInterrupted("interrupted (Ctrl-C): terraform stopped")
        return _unanswered(message) or TerraformError(_explain(message, cwd, self.mirror), diagnostics=diagnostics)

    # -- plain commands -----------------------------------------------------------------

    @functools.cached_property
    def version(self) -> str:
        """The binary's version (`terraform version -json`, asked once)."""
        return json.loads(self.run(["version", "-json"]).stdout)["terraform_version"]

    def run(self, args: list[str], cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        with self._process(args, cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            stdout, stderr = proc.communicate()
        result = subprocess.CompletedProcess([self.binary, *args], proc.returncode, stdout, stderr)
        if check and result.returncode != 0:
            raise self._failure(_error_text(stderr or stdout, f"terraform {args[0]} failed"), cwd)
        return result

    def fmt(self, directories: Iterable[Path]) -> None:
        for directory in directories:
            self.run(["fmt", "-no-color", "-list=false", "."], cwd=directory)

    def init(self, directory: Path, backend: bool = True, reconfigure: bool = False, cloud: bool = False) -> None:
        """`reconfigure`: take the backend as configured now, not the one the folder was
        initialized with (no migration: bootstrap pushes the state itself).

        `cloud`: the folder's configuration has a `cloud` block, for which Terraform refuses
        -reconfigure ("The -reconfigure option is for in-place reconfiguration of state
        backends only", internal/command/meta_backend.go, assertSupportedCloudInitOptions)
        and -migrate-state, and would otherwise want to migrate the last backend's state
        interactively (impossible with -input=false).  What -reconfigure does is ignore the
        folder's record of its last backend (`<data dir>/terraform.tfstate`), so that record
        is set aside and a plain init runs, which with no local state beside the config
        (the stacks' local state lives in the state folder, not there) migrates nothing;
        when that init fails (Terraform Cloud out of reach), the record is put back: the
        folder is left as it was."""
        args = ["init", "-no-color", "-input=false"]
        if not backend:
            args.append("-backend=false")
        if reconfigure and not cloud:
            args.append("-reconfigure")
        record = self._backend_record(directory)
        aside = record.with_name(record.name + ".awsenvs-aside")
        if reconfigure and cloud and record.is_file():
            os.replace(record, aside)
        try:
            self.run(args, cwd=directory)
        except BaseException:
            if aside.is_file() and not record.exists():
                os.replace(aside, record)
            raise
        aside.unlink(missing_ok=True)

    def _backend_record(self, directory: Path) -> Path:
        """Where terraform records the backend it last initialized `directory` on."""
        data_dir = Path(self.env.get("TF_DATA_DIR") or ".terraform")
        return (data_dir if data_dir.is_absolute() else Path(directory) / data_dir) / "terraform.tfstate"

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
        return resource_changes(json.loads(self.run(["show", "-json", "-no-color", str(_absolute(planfile))], cwd=directory).stdout))

    def state_pull(self, directory: Path) -> str:
        """The stack's state (any backend), as Terraform's JSON text (run.state decodes it);
        empty when there is none."""
        return self.run(["state", "pull"], cwd=directory).stdout

    def state_push(self, directory: Path, path: Path) -> None:
        """A state file into the stack's backend (never -force)."""
        self.run(["state", "push", "-lock-timeout=60s", str(_absolute(path))], cwd=directory)

    def state_list(self, directory: Path) -> list[str]:
        """Addresses in the stack's state (no provider is started)."""
        proc = self.run(["state", "list", "-no-color"], cwd=directory, check=False)
        if proc.returncode != 0:
            if "No state file was found" in proc.stderr:
                return []
            raise self._failure(_error_text(proc.stderr or proc.stdout, "terraform state list failed"), directory)
        return [line for line in proc.stdout.splitlines() if line.strip()]

    def state_rm(self, directory: Path, addresses: list[str]) -> None:
        """Forget objects without destroying them."""
        if addresses:
            self.run(["state", "rm", "-no-color", "-lock-timeout=60s", *addresses], cwd=directory)

    def untaint(self, directory: Path, address: str) -> None:
        """Take terraform's tainted mark off an object (the next plan updates it in place)."""
        self.run(["untaint", "-no-color", "-lock-timeout=60s", address], cwd=directory)

    # -- streamed commands ---------------------------------------------------------------

    def plan(self, directory: Path, planfile: Path, on_event: Callable[[Event], None] | None = None) -> Plan:
        # -detailed-exitcode: 0 no changes, 2 changes, 1 error.  The exit code decides;
        # the change_summary event only supplies counts, and when it is missing the
        # counts come from the saved plan itself, never a silent "no changes".
        args = ["plan", "-json", "-input=false", "-lock-timeout=60s", "-detailed-exitcode", f"-out={_absolute(planfile)}"]
        events: list[Event] = []  # planned_change: each resource's action (change_summary leaves out forgets)

        def watch(event: Event) -> None:
            if event.type == "planned_change":
                events.append(event)
            if on_event:
                on_event(event)

        summary, code = self._stream(args, directory, watch, ok=(0, 2))
        changes = planned_changes(events)
        streamed = summary is not None
        if not streamed:
            # No JSON events: a remote run (the `cloud` block) streams its own log instead
            # (internal/cloud/backend_plan.go renders it).  The saved plan decides, and when
            # it cannot be read either this fails: never a silent "no changes".
            try:
                changes = tuple(c for c in self.show_plan(directory, planfile) if c.changes)
            except (TerraformError, json.JSONDecodeError, KeyError) as exc:
                raise TerraformError(f"cannot tell what the plan changes: terraform printed no JSON events and "
                                     f"`terraform show -json` of the saved plan failed ({exc})") from None
            summary = PlanSummary.of(changes)
            if code == 0 and summary.changes:
                raise TerraformError(f"terraform plan exited 0 (no changes) but its saved plan has changes ({directory})")
        if code == 0:
            return Plan(PlanSummary())
        summary = replace(summary, forget=max(summary.forget, sum("forget" in c.actions for c in changes)))
        if not summary.changes and streamed:  # counted from the saved plan already otherwise
            changes = tuple(c for c in self.show_plan(directory, planfile) if c.changes)
            summary = PlanSummary.of(changes)
        elif streamed and any(c.action in ("update", "replace") for c in changes):
            # What an update changes, old -> new (an adopted object's import included), is in
            # the saved plan only: read once, for plans that update or replace something.
            changes = with_attributes(changes, self.show_plan(directory, planfile))
        if not summary.changes:  # changes only to outputs: still something to apply
            summary = PlanSummary(change=1)
        return Plan(summary, changes)

    def apply(self, directory: Path, planfile: Path, on_event: Callable[[Event], None] | None = None) -> PlanSummary:
        args = ["apply", "-json", "-input=false", "-lock-timeout=60s", str(_absolute(planfile))]
        return self._stream(args, directory, on_event)[0] or PlanSummary()

    def _stream(self, args: list[str], cwd: Path, on_event, ok: tuple[int, ...] = (0,)) -> tuple[PlanSummary | None, int]:
        errors: list[Diagnostic] = []
        summary: PlanSummary | None = None
        other_lines: list[str] = []
        with self._process(args, cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
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
                raise self._failure("; ".join(str(e) for e in errors), cwd, tuple(errors))
            raise self._failure(_error_text("".join(other_lines), f"terraform {args[0]} failed (exit {returncode})"), cwd)
        return summary, returncode


STALE_PLAN = "Saved plan is stale"


# What terraform says when it cannot install a provider, and when the cause is an
# unreachable registry.
_NO_PROVIDER = re.compile(r"Failed to query available provider packages|Failed to install provider|"
                          r"could not connect to registry", re.IGNORECASE)
_NO_REGISTRY = re.compile(r"could not connect|no such host|dial tcp|connection refused|i/o timeout|proxyconnect",
                          re.IGNORECASE)


# The "Lock Info" of terraform's refusal, as a diagnostic's detail flattened onto one line
# (Terraform 1.11, S3's lock file): "ID: … Path: … Operation: OperationTypeApply Who: ann@ci-7
# Version: 1.11.0 Created: 2025-12-05 02:58:11.123456 +0000 UTC Info: …" (Created is UTC).
_LOCK_ID = re.compile(r"Lock Info:\s*ID:\s*(\S+)")
_LOCK_OPERATION = re.compile(r"Operation:\s*OperationType(\w+)")
_LOCK_WHO = re.compile(r"Who:\s*(\S+)")
_LOCK_CREATED = re.compile(r"Created:\s*(\d{4}-\d\d-\d\d \d\d:\d\d)")


def _locked(message: str, cwd: Path | None) -> str:
    """Terraform's refusal to take a state's lock, named as a lock: another run holds it (on
    another machine: awsenvs' own run lock keeps two runs on one machine apart), who and since
    when from terraform's lock info, and the way out if that run is gone."""
    found = {name: match.group(1) for name, pattern in (("id", _LOCK_ID), ("operation", _LOCK_OPERATION),
                                                         ("who", _LOCK_WHO), ("created", _LOCK_CREATED))
             if (match := pattern.search(message))}
    operation = found.get("operation", "Invalid")  # Invalid: a command that names none (state push)
    holder = " ".join(part for part in (
        operation.lower() if operation != "Invalid" else "",
        f"by {found['who']}" if "who" in found else "",
        f"since {found['created']} UTC" if "created" in found else "",
        f"(lock ID {found['id']})" if "id" in found else "") if part)
    state = f"the state of {cwd.name}" if cwd else "the state"
    return (f"{state} is locked by another run{f': {holder}' if holder else ''}: wait for it to finish, then run "
            f"again; `terraform force-unlock {found.get('id', '<ID>')}`{f' in {cwd}' if cwd else ''} only if that "
            "run is gone (it stopped without unlocking)")


def _explain(message: str, cwd: Path | None, mirror: Path | None = None) -> str:
    """Add what to do to the errors another run's lock, a changed backend or a machine
    without a registry leave behind."""
    if "acquiring the state lock" in message:
        return _locked(message, cwd)
    if "Backend configuration changed" in message or "Backend initialization required" in message:
        return ("the stack's state backend changed (state.backend in org.yaml): run `bootstrap`, which moves each "
                f"stack's state into the new backend, then plan again ({cwd})")
    if _NO_PROVIDER.search(message) and mirror is not None:
        return (f"terraform cannot install the AWS provider from the mirror {mirror}: it holds no version the stack "
                f"accepts; refresh it (`terraform providers mirror DIR` on a connected machine) or set {MIRROR_ENV} to "
                f"another ({message})")
    if _NO_PROVIDER.search(message) and _NO_REGISTRY.search(message):
        return (f"terraform cannot install the AWS provider: the registry is out of reach and no provider mirror was "
                f"found; set {MIRROR_ENV} to a filesystem mirror (a folder holding registry.terraform.io/hashicorp/aws, "
                "made with `terraform providers mirror DIR` on a connected machine)")
    return message


# A request that got no answer, as Go's HTTP client words it inside terraform's diagnostics:
# `Post "http://127.0.0.1:5000/": dial tcp 127.0.0.1:5000: connect: connection refused`.
_NO_CONNECTION = re.compile(r'"(https?://[^/"]+)[^"]*":\s*dial tcp')


def _unanswered(message: str) -> TerraformUnreachable | None:
    """An endpoint that did not answer terraform, its provider or its state backend (not a
    provider registry: that failure has its own explanation).  The AWS SDK's errors say
    `operation error <service>`; any other host is the state backend's (Terraform Cloud).
    The provider's own wording around it ("Cannot assume IAM Role … the most common
    causes are …") is left out: none of its causes apply."""
    found = _NO_CONNECTION.search(message)
    reason = no_answer(message[found.end():]) if found else None
    if reason is None or _NO_PROVIDER.search(message):
        return None
    endpoint = found.group(1)
    aws = "operation error" in message or endpoint.removesuffix(".cn").endswith(".amazonaws.com")
    return TerraformUnreachable(endpoint, reason, "AWS" if aws else None)


def parse_event(line: str) -> Event | None:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or "type" not in raw:
        return None
    hook = raw.get("hook") or {}
    addressed = hook.get("resource") or raw.get("change", {}).get("resource") or {}
    resource, resource_type = addressed.get("addr", ""), addressed.get("resource_type", "")
    action = hook.get("action") or raw.get("change", {}).get("action", "")
    changes = None
    if raw["type"] == "change_summary":
        c = raw.get("changes", {})
        changes = PlanSummary(c.get("add", 0), c.get("change", 0), c.get("remove", 0), c.get("import", 0), c.get("forget", 0))
    diagnostic = _diagnostic(raw["diagnostic"]) if raw["type"] == "diagnostic" else None
    importing = "importing" in (raw.get("change") or {})
    return Event(raw["type"], raw.get("@message", ""), resource, action, changes, diagnostic, importing, resource_type)


def _diagnostic(raw: dict) -> Diagnostic:
    return Diagnostic(raw.get("severity", "error"), raw.get("summary", ""), raw.get("detail", ""), raw.get("address", ""))


# What AWS answers a create whose object exists: the SDK's retry of a create whose response
# was lost meets the object the first attempt made (IAM's EntityAlreadyExists, HTTP 409;
# Organizations' DuplicatePolicyException, DuplicateOrganizationalUnitException, and a
# CreateAccount request that ends FAILED with EMAIL_ALREADY_EXISTS; Budgets'
# DuplicateRecordException; Identity Store's and SSO Admin's ConflictException is left out:
# it also means other conflicts).
_ALREADY_EXISTS = re.compile(r"EntityAlreadyExists|DuplicatePolicyException|DuplicateOrganizationalUnitException|"
                             r"EMAIL_ALREADY_EXISTS|DuplicateRecordException")


def existing_objects(diagnostics: Iterable[Diagnostic]) -> tuple[str, ...]:
    """The resources whose create met an object that exists already, when that is all that
    failed (every error names its resource and says so); () otherwise."""
    diagnostics = tuple(diagnostics)
    if not diagnostics or not all(d.address and _ALREADY_EXISTS.search(f"{d.summary} {d.detail}") for d in diagnostics):
        return ()
    return tuple(dict.fromkeys(d.address for d in diagnostics))


# Where a diagnostic is (`on main.tf line 3, in terraform:`) and the source lines it quotes
# (`  3:   cloud {`, and the rule under an expression's values): left out of the one-line error.
_DIAGNOSTIC_SOURCE = re.compile(r"^on \S+ line \d+|^\d+:|^├─")


def _error_text(output: str, fallback: str) -> str:
    """The first 'Error: ...' of terraform's human output, whole (its summary and every
    sentence of its detail, which terraform wraps at 80 columns), on one line."""
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    raw = output.splitlines()
    for index, line in enumerate(raw):
        line = line.strip(" │╷╵\t")
        if not line.startswith("Error:"):
            continue
        detail = []
        for following in raw[index + 1:]:
            if following.strip().startswith("╵"):  # the end of a boxed diagnostic
                break
            text = following.strip(" │╷╵\t")
            if text.startswith(("Error:", "Warning:")):  # the next diagnostic
                break
            if text and not _DIAGNOSTIC_SOURCE.match(text):
                detail.append(text)
        return f"{line[len('Error:'):].strip()}: {' '.join(detail)}".rstrip(": ")
    text = " ".join(line.strip(" │╷╵\t") for line in raw if line.strip(" │╷╵\t"))
    return shorten(text, 500) or fallback


# Where Terraform's own docs put implied local mirrors, plus this project's usual /opt one.
_MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


def find_provider_mirror(env: dict[str, str] | None = None) -> Path | None:
    """TF_PROVIDER_MIRROR when set, else the first usual mirror folder holding hashicorp/aws
    (the sandbox, the tests and every Terraform run look in these same places)."""
    env = os.environ if env is None else env
    if env.get(MIRROR_ENV):
        return Path(env[MIRROR_ENV]).absolute()
    home = Path(env.get("HOME") or Path.home())
    for candidate in _MIRROR_CANDIDATES:
        path = home / candidate[2:] if candidate.startswith("~/") else Path(candidate)
        if (path / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return path
    return None


def _user_cli_config(env: dict[str, str]) -> str:
    """The user's Terraform CLI config (TF_CLI_CONFIG_FILE, else ~/.terraformrc), or ""."""
    configured = env.get("TF_CLI_CONFIG_FILE")
    path = Path(configured) if configured else Path(env.get("HOME") or Path.home()) / ".terraformrc"
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return ""


def own_provider_installation(env: dict[str, str]) -> bool:
    """Whether the user's Terraform CLI config says how to install providers: then it applies
    as it is, and no mirror is imposed."""
    return "provider_installation" in _user_cli_config(env)


def _absolute(path: Path | str) -> Path:
    return Path(path).absolute()
