"""Incremental synthesis: each stack is rebuilt only when what it is built from changed.

A stack's fingerprint covers its part of the model (`stack_inputs`: an account stack
is built from its environment alone), the synth options, this package's and the
constructs' source, and the binding versions.  `synthesize` rebuilds and rewrites only the
stacks whose fingerprint changed (or whose file is missing), leaves the others' files as
they are, and removes the folders of stacks org.yaml no longer has.  The runner keeps the
same fingerprint in each saved plan's record, so a plan stays current as long as its own
stack does.

Building many stacks is spread over worker processes, one per core: the jsii round-trips
of one process keep about one core busy (its Python and its node runtime take turns), and
each process loads the bindings once: under a second, as only the AWS submodules used are
loaded (awsenvs/lazy_bindings.js; bench/scale_bench.py measures both).  Stacks
are built into a staging folder and moved into place, so an interrupted synth leaves
every stack either as it was or rebuilt, and unmarked: the next synth redoes it.

`plan` synthesizes beside its other work (synthesize_beside): a Worker started before
org.yaml is read loads the bindings while the command starts, and builds the stale stacks
on a thread while the guard and the live look-ups run; the runner leaves the stale stacks'
folders alone until synth is done, and runs no terraform before.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from awsenvs import usable_cores
from awsenvs.errors import AwsenvsError
from awsenvs.private import DIR_MODE
from awsenvs.terraform import TerraformError

if TYPE_CHECKING:  # imported where used: `plan` starts a Worker before it validates org.yaml (cli/plan.py)
    from awsenvs.config import Org

FINGERPRINT_FILE = ".awsenvs-fingerprint"  # JSON: stack -> fingerprint of its synthesized files
MANIFEST = "manifest.json"  # cdktn's list of stacks (the CDK CLI reads it)
_STAGING = ".awsenvs-staging-"
_BUILT = b"awsenvs-synth: built"  # a Worker's last line on stdout
# Below this many stacks per process a worker process is not worth its bindings' load.
STACKS_PER_PROCESS = 30
_CODE_DIR = Path(__file__).parent  # this package, the constructs (awsenvs/modules/) with it
_PACKAGES = ("cdktn", "cdktn-provider-aws", "constructs")


class SynthError(AwsenvsError):
    """A worker process failed to build its stacks."""


@dataclass(frozen=True)
class Synthesized:
    """What one synth did: the stacks rebuilt and the stacks removed; the rest were kept."""

    stacks: tuple[str, ...]
    rebuilt: tuple[str, ...]
    removed: tuple[str, ...] = ()

    @property
    def kept(self) -> int:
        return len(self.stacks) - len(self.rebuilt)

    def summary(self, outdir: Path) -> str:
        """One line: how many stacks were rebuilt, kept and removed, naming the first few."""
        from awsenvs.results import names_text

        line = f"{len(self.stacks)} stacks in {outdir}/stacks: {len(self.rebuilt)} rebuilt, {self.kept} unchanged"
        if self.removed:
            line += f", {len(self.removed)} removed ({names_text(self.removed)})"
        return line + (f"; rebuilt: {names_text(self.rebuilt)}" if self.rebuilt else "")


@functools.cache
def code_version() -> str:
    """The source of this package and the constructs, and the binding versions (read once
    per process: the code does not change under a running command)."""
    digest = hashlib.sha256()
    # rglob: subpackages (awsenvs/config/, the constructs in awsenvs/modules/) shape the output
    # too; the relative path tells their files from top-level ones of the same name
    # (config/errors.py, errors.py).
    for source in sorted(_CODE_DIR.rglob("*.py")):
        digest.update(source.relative_to(_CODE_DIR).as_posix().encode() + source.read_bytes())
    for package in _PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}".encode())
    return digest.hexdigest()


def stack_inputs(org: Org, stack: str) -> str:
    """The part of the model (org.yaml) one stack is synthesized from, as canonical text (the
    frozen dataclasses' repr): what its synth fingerprint covers besides the code.

    An account stack is built from its environment, the state settings and the access
    mode alone (and, with ci.github, the management account's id: its read role's trust).  The management stack is built from everything except what only the
    account stacks hold: each account's alias, password policy and budget, and with
    IAM users its users (their groups stay: the guardrails name each group's MFA role).
    tests/test_incremental_synth.py checks on real synths that a change of a stack's
    output always changes this text."""
    from awsenvs.config import MANAGEMENT_STACK

    if stack != MANAGEMENT_STACK:
        # Contacts, regions and the data perimeter's attachments are the management stack's.
        env = replace(org.environment_by_stack(stack), contacts=(), regions=(), disable_regions=(),
                      outside_data_perimeter=False)
        # ci.github: the read role, whose trust names the management account.
        ci = org.management_account_id if org.github is not None else None
        if org.identity_center:  # grants are assignments and permission set policies there
            env = replace(env, grants=(), ended_grants=())
        return repr((env, org.state, org.access, ci))
    only_in_account_stacks = {"alias": "", "password_policy": None, "budget": None}
    if not org.identity_center:
        # IAM users and their grants (statements in the MFA roles' trust) are the account stacks'.
        only_in_account_stacks.update(users=(), grants=(), ended_grants=())
    products = tuple(
        replace(p, environments=tuple(replace(env, **only_in_account_stacks) for env in p.environments))
        for p in org.products
    )
    return repr(replace(org, products=products, source=Path()))


def stack_fingerprints(org: Org, outdir: Path, state_dir: Path | None = None, hcl: bool = False,
                       account_ids: Mapping[str, str] | None = None) -> dict[str, str]:
    """Stack -> the fingerprint of everything its synthesized files depend on
    (`account_ids`: the defaults written beyond org.yaml's, see SynthOptions)."""
    account_ids = account_ids or {}
    common = json.dumps([code_version(), str(Path(outdir).resolve()), str(state_dir), hcl])
    return {stack: hashlib.sha256((common + stack_inputs(org, stack) + repr(account_ids.get(stack))).encode()).hexdigest()
            for stack in org.stacks}


def synthesize(org: Org, outdir: Path, state_dir: Path | None = None, hcl: bool = False,
               force: bool = False, account_ids: Mapping[str, str] | None = None,
               worker: Worker | None = None) -> Synthesized:
    """Bring outdir/stacks/<stack>/ up to date for every stack of org; see the module doc.
    `account_ids`: account stacks' `account_id` defaults beyond org.yaml's (`synth --hcl`).
    `worker`: a Worker started ahead, which builds (its share of) the stacks, however few;
    it is the caller's to close."""
    outdir, account_ids = Path(outdir), dict(account_ids or {})
    todo = _todo(org, outdir, state_dir, hcl, force, account_ids)
    return _bring_up_to_date(org, outdir, todo, state_dir, hcl, account_ids, worker)


@dataclass(frozen=True)
class _Todo:
    wanted: dict[str, str]  # stack -> fingerprint, of every stack of the org
    previous: dict[str, str]  # as recorded by the last synth
    stale: tuple[str, ...]  # to rebuild
    removed: tuple[str, ...]  # folders to remove: stacks org.yaml no longer has


def _todo(org: Org, outdir: Path, state_dir: Path | None, hcl: bool, force: bool,
          account_ids: dict[str, str], only: Sequence[str] | None = None) -> _Todo:
    wanted = stack_fingerprints(org, outdir, state_dir, hcl, account_ids)
    previous = _read_fingerprints(outdir)
    name = "cdk.tf" if hcl else "cdk.tf.json"
    stale = tuple(s for s in org.stacks if (only is None or s in only)
                  and (force or previous.get(s) != wanted[s] or not (stack_dir(outdir, s) / name).exists()))
    return _Todo(wanted, previous, stale, tuple(s for s in previous if s not in wanted))


def _bring_up_to_date(org: Org, outdir: Path, todo: _Todo, state_dir: Path | None, hcl: bool,
                      account_ids: dict[str, str], worker: Worker | None) -> Synthesized:
    wanted, previous, stale, removed = todo.wanted, todo.previous, todo.stale, todo.removed
    if not stale and not removed:
        return Synthesized(org.stacks, ())
    # Unmark what is about to change first: an interruption from here on rebuilds it next time.
    _write_fingerprints(outdir, {s: f for s, f in previous.items() if s in wanted and s not in stale})
    stacks_folder = (outdir / "stacks").resolve()
    for stack in removed:  # names read from a file: only ever a folder directly in stacks/
        if stack_dir(outdir, stack).resolve().parent == stacks_folder:
            shutil.rmtree(stack_dir(outdir, stack), ignore_errors=True)
    if stale:
        _build(org, stale, outdir, state_dir, account_ids, worker)
        if hcl:
            try:
                convert_to_hcl([stack_dir(outdir, s) for s in stale])
            except TerraformError as exc:
                raise exc.within("writing HCL") from None
    _update_manifest(outdir, org.stacks)
    # Only what is built (or was up to date) is recorded: stacks left out (`only`) stay stale.
    _write_fingerprints(outdir, {s: f for s, f in wanted.items() if s in stale or previous.get(s) == f})
    return Synthesized(org.stacks, stale, removed)


@dataclass(frozen=True)
class Synthesis:
    """A synth running beside its caller (synthesize_beside)."""

    changing: frozenset[str]  # the stacks it rebuilds or removes: their folders are its own until it is done
    future: Future[Synthesized]

    @property
    def running(self) -> bool:
        return not self.future.done()

    def wait(self) -> Synthesized:
        """Its result, once done; raises what it raised (SynthError)."""
        return self.future.result()

    def wait_for(self, stack: str, on_wait: Callable[[str], None], everything: bool = False) -> None:
        """Wait until it is done with `stack`'s folder when it rebuilds or removes that stack,
        or (`everything`: before terraform runs) until it is all done, so that a failed synth
        plans nothing; `on_wait`: told what is waited for, when it is still running.  Raises
        what it raised."""
        if not (everything or stack in self.changing):
            return
        if self.running:
            on_wait("synthesizing" if stack in self.changing else "waiting for synth")
        self.wait()


def synthesize_beside(org: Org, outdir: Path, worker: Worker, state_dir: Path | None = None,
                      only: Sequence[str] | None = None) -> Synthesis:
    """synthesize() on a thread of its own while the caller goes on (plan: the guard and
    the live look-ups), its jsii work in `worker` (started ahead: see Worker), which shares
    no GIL with the caller's threads; the worker is closed as soon as synth is done (at
    once when nothing is stale).  What is stale is decided here, before it starts: the
    caller leaves those stacks' folders alone, and waits for the rest before it runs
    terraform, and before it exits.  `only`: build no other stacks (a pull request's plan
    in CI, which plans only these, in a checkout where nothing was synthesized before)."""
    outdir = Path(outdir)
    try:
        todo = _todo(org, outdir, state_dir, False, False, {}, only)
    except BaseException:
        worker.close()
        raise
    pool = ThreadPoolExecutor(1, thread_name_prefix="synth")
    try:
        future = pool.submit(_bring_up_to_date, org, outdir, todo, state_dir, False, {}, worker)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task
    # Run once the result is out, on that thread: the waiters go on while the worker exits.
    future.add_done_callback(lambda _: worker.close())
    return Synthesis(frozenset(todo.stale + todo.removed), future)


def _build(org: Org, stacks: Sequence[str], outdir: Path, state_dir: Path | None, account_ids: dict[str, str],
           worker: Worker | None = None) -> None:
    """Synthesize these stacks into a staging folder (in worker processes when there are
    many, or when one was started ahead), then move each stack's file into place."""
    # A folder of this run's own: another command synthesizing at the same time has its own.
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=outdir))
    processes = min(usable_cores(), len(stacks) // STACKS_PER_PROCESS)
    shards = _shards(org, stacks, processes) if processes > 1 else [list(stacks)]
    folders = [staging / str(i) for i in range(len(shards))]
    if len(shards) == 1 and worker is None:
        build_stacks(org, shards[0], outdir, state_dir, folders[0], account_ids)
    else:
        _build_in_workers(org, shards, outdir, state_dir, folders, account_ids, worker)
    for folder, shard in zip(folders, shards):
        for stack in shard:
            target = stack_dir(outdir, stack)
            target.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)  # owner-only from the start: plans and tfvars go here
            (target / "cdk.tf").unlink(missing_ok=True)  # a leftover of the other format would be loaded too
            os.replace(folder / "stacks" / stack / "cdk.tf.json", target / "cdk.tf.json")
    shutil.rmtree(staging, ignore_errors=True)


def _shards(org: Org, stacks: Sequence[str], processes: int) -> list[list[str]]:
    """The stacks in `processes` shards of about equal work.  `management` holds every
    account, OU and guardrail: it costs about what one account stack costs per dozen
    accounts (measured on the 200-account org of bench/scale_bench.py)."""
    from awsenvs.config import MANAGEMENT_STACK

    weights = {stack: 1.0 for stack in stacks}
    if MANAGEMENT_STACK in weights:
        weights[MANAGEMENT_STACK] = 1 + len(org.environments) / 12
    shards: list[list[str]] = [[] for _ in range(processes)]
    loads = [0.0] * processes
    for stack in sorted(stacks, key=lambda s: -weights[s]):  # heaviest first, each to the lightest shard
        lightest = loads.index(min(loads))
        shards[lightest].append(stack)
        loads[lightest] += weights[stack]
    return [shard for shard in shards if shard]


def _worker_command() -> list[str]:
    """`python -m awsenvs.synth`, with -O when the bindings' optimized bytecode is there
    (`make setup` compiles it).  The generated bindings check every argument's type at run
    time under `if __debug__:` (typeguard); -O skips that, about a quarter of each jsii
    round-trip's cost.  The same calls run unoptimized in-process in the tests, where those
    checks stay on.  Without the compiled files, -O would compile the bindings at every run
    (seconds), so it is used only when they exist."""
    import importlib.util

    spec = importlib.util.find_spec("cdktn_provider_aws")
    optimized = spec is not None and spec.origin is not None and all(
        Path(importlib.util.cache_from_source(origin, optimization=1)).exists()
        for origin in (spec.origin, str(Path(spec.origin).parent / "iam_user" / "__init__.py"))
    )
    # -P: not the current folder first on sys.path (an awsenvs/ there is not this code).
    return [sys.executable, "-P", *(["-O"] if optimized else []), "-m", "awsenvs.synth"]


def _worker_env() -> dict[str, str]:
    """The workers import this very awsenvs (the folder it is in, first on their path)."""
    here = str(Path(__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (here, os.environ.get("PYTHONPATH"))))}


def build_stacks(org: Org, stacks: Sequence[str], outdir: Path, state_dir: Path | None, into: Path,
                 account_ids: dict[str, str]) -> None:
    """Synthesize these stacks into `into` (local backend paths stay relative to outdir)."""
    # Imported here: loading the AWS bindings costs seconds, and an unchanged org needs none.
    from awsenvs.stacks import SynthOptions, build_app

    into.mkdir(parents=True, exist_ok=True)
    build_app(org, SynthOptions(outdir=outdir, state_dir=state_dir, account_ids=account_ids), stacks, outdir=into).synth()


def _build_in_workers(org: Org, shards: list[list[str]], outdir: Path, state_dir: Path | None,
                      folders: list[Path], account_ids: dict[str, str], started: Worker | None = None) -> None:
    workers = [started or Worker()] + [Worker() for _ in shards[1:]]
    try:
        for worker, shard, folder in zip(workers, shards, folders):
            worker.send(org, shard, outdir, state_dir, folder, account_ids)
        failures = [failure for failure in (worker.wait() for worker in workers) if failure]
    finally:
        for worker in workers[1:] if started else workers:
            worker.close()
    if failures:
        raise SynthError(f"synthesizing failed in a worker process: {failures[0]}")


class Worker:
    """A `python -m awsenvs.synth` process: it loads the bindings at once, then builds the
    stacks of the one job it reads on stdin (build_stacks' arguments) and says so on
    stdout before it exits.  Loading the bindings is most of a small synth's time, so
    `plan` starts one before it reads org.yaml: the load runs while the caller reads
    org.yaml, imports boto3 and finds the stale stacks.  A worker that got no job is
    stopped by close()."""

    def __init__(self) -> None:
        self._log = tempfile.TemporaryFile()
        # Its temporary files (jsii extracts its runtime, ~2 MB, into a temporary folder it
        # removes only when it exits normally) go into a folder of its own, removed by
        # close(): a worker that got no job is killed, and would leave them behind.
        self._tmp = tempfile.mkdtemp(prefix="awsenvs-synth-worker-")
        # A process group of its own: a Ctrl-C at the terminal reaches the command, which
        # decides what stops, not the worker in the middle of writing a stack.
        self._process = subprocess.Popen(_worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._log, env={**_worker_env(), "TMPDIR": self._tmp},
                                         start_new_session=True)
        self._sent = False
        # close() runs twice, maybe at once: synthesize_beside's done-callback on the synth
        # thread, and the caller's `with` on its own (closing a pipe twice at once raises).
        self._closing = threading.Lock()
        self._closed = False

    @property
    def pid(self) -> int:
        return self._process.pid

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, org: Org, stacks: Sequence[str], outdir: Path, state_dir: Path | None, into: Path,
             account_ids: Mapping[str, str]) -> None:
        self._sent = True
        try:
            self._process.stdin.write(pickle.dumps((org, list(stacks), outdir, state_dir, into, dict(account_ids))))
            self._process.stdin.close()
        except BrokenPipeError:  # it died before reading: its exit code and output say why
            pass

    def wait(self) -> str | None:
        """None once it has built its stacks (its files are in place; it may still be
        exiting: the jsii runtime's shutdown takes a quarter of a second); else why not
        (the last line it printed)."""
        for line in self._process.stdout:
            if line.strip() == _BUILT:
                return None
        self._process.wait()
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self._process.returncode}"

    def close(self) -> None:
        """Wait for it to exit; stop it first if it got no job.  Safe to call again, from any thread."""
        with self._closing:
            if self._closed:
                return
            if not self._sent and self._process.poll() is None:
                self._process.kill()  # its node runtime ends with its stdin
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout, self._log):
                with contextlib.suppress(OSError):
                    stream.close()
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._closed = True


def _read_fingerprints(outdir: Path) -> dict[str, str]:
    try:
        recorded = json.loads((outdir / FINGERPRINT_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):  # none yet, or of an older awsenvs
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _write_fingerprints(outdir: Path, fingerprints: dict[str, str]) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / FINGERPRINT_FILE
    path.with_suffix(".tmp").write_text(json.dumps(fingerprints, indent=0) + "\n")
    os.replace(path.with_suffix(".tmp"), path)


def _update_manifest(outdir: Path, stacks: Sequence[str]) -> None:
    """cdktn's manifest as a whole-org synth writes it: every stack, in org order."""
    entries = {stack: {"name": stack, "constructPath": stack, "workingDirectory": f"stacks/{stack}",
                       "synthesizedStackPath": f"stacks/{stack}/cdk.tf.json",
                       "stackMetadataPath": f"stacks/{stack}/metadata.json", "annotations": [], "dependencies": []}
               for stack in stacks}
    (outdir / MANIFEST).write_text(json.dumps({"version": metadata.version("cdktn"), "stacks": entries}, indent=2))


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

    options = SynthOptions(outdir=Path(outdir), state_dir=state_dir)
    return _write_alone(org, Path(outdir), stack, lambda app: RetiredStack(app, org, stack, options))


def write_bootstrap_stack(org: Org, outdir: Path, roles: Sequence) -> Path:
    """The `bootstrap` stack (awsenvs.stacks.BootstrapStack) of these run roles; its folder."""
    from awsenvs.config import BOOTSTRAP_STACK
    from awsenvs.stacks import BootstrapStack, SynthOptions

    options = SynthOptions(outdir=Path(outdir))
    return _write_alone(org, Path(outdir), BOOTSTRAP_STACK, lambda app: BootstrapStack(app, org, options, roles))


def _write_alone(org: Org, outdir: Path, stack: str, add_stack) -> Path:
    """Synthesize one stack outside the org's set (staged, then moved in): the manifest and
    the other stacks stay as they are."""
    from awsenvs.stacks import new_app

    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=outdir))
    try:
        app = new_app(org, staging)
        add_stack(app)
        app.synth()
        target = stack_dir(outdir, stack)
        target.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.replace(staging / "stacks" / stack / "cdk.tf.json", target / "cdk.tf.json")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


if __name__ == "__main__":  # a Worker: build_stacks' arguments on stdin
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import awsenvs.stacks  # noqa: F401 - the bindings first: a worker is started before its job is known

    build_stacks(*pickle.loads(sys.stdin.buffer.read()))
    sys.stdout.buffer.write(_BUILT + b"\n")  # its files are in place: the caller goes on while jsii shuts down
    sys.stdout.flush()
