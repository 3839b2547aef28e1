"""A stack's state as a frozen view: the one place that decodes Terraform's state JSON (as
tftest's TerraformState does), and where the run finds it.

Local state is read from its file: no terraform start, which with hundreds of stacks adds
up; other backends through `terraform state pull` (no provider is started either).  The
management stack's outputs hold the ids of the accounts it created (`account_ids`), also of
environments since removed from org.yaml (to retire).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from awsenvs.config import (
    ACCOUNT_IDS_OUTPUT,
    BOOTSTRAP_STACK,
    IAM_USER_RESOURCE,
    IDENTITY_CENTER_OUTPUT,
    MANAGEMENT_STACK,
    Org,
)
from awsenvs.errors import EXIT_BAD_INPUT
from awsenvs.private import private_dir, state_files, tighten
from awsenvs.results import names_text
from awsenvs.run.folder_backend import local_state_elsewhere
from awsenvs.synth import stack_dir
from awsenvs.terraform import Terraform, TerraformError


class LocalStateLeft(TerraformError):
    """state.backend is remote, but stacks still have local state files: moving them is bootstrap's."""


class StateNotFound(TerraformError):
    """No state beside org.yaml, while the stack folders were run with a state elsewhere:
    --config names another org.yaml than those runs used (bad input)."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class StackState:
    """What a stack's state holds (empty: none yet)."""

    resources: tuple[dict, ...] = ()
    outputs: Mapping[str, Any] = field(default_factory=dict)  # name -> value
    serial: int | None = None
    lineage: str | None = None

    @classmethod
    def decode(cls, text: str) -> StackState:
        """Terraform's state JSON (raises JSONDecodeError); empty text: no state."""
        raw = json.loads(text) if text.strip() else {}
        outputs = {name: item.get("value") for name, item in (raw.get("outputs") or {}).items()}
        return cls(tuple(raw.get("resources") or ()), outputs, raw.get("serial"), raw.get("lineage"))

    @classmethod
    def read_file(cls, path: Path) -> StackState:
        """A local state file (none there: empty)."""
        try:
            return cls.decode(path.read_text())
        except FileNotFoundError:
            return cls()
        except json.JSONDecodeError:
            raise TerraformError(f"{path}: not a readable state file (restore it from its .backup)") from None

    @classmethod
    def pull(cls, terraform: Terraform, directory: Path) -> StackState:
        """The state of an initialized stack folder, from its backend (any)."""
        return cls.decode(terraform.state_pull(directory))

    @property
    def holds_anything(self) -> bool:
        return bool(self.resources or self.outputs)

    @property
    def held(self) -> tuple:
        """What it holds (resources and outputs), whatever its lineage and serial."""
        return self.resources, dict(self.outputs)

    def _managed(self):
        return (r for r in self.resources if r.get("mode") == "managed")

    @property
    def addresses(self) -> frozenset[str]:
        """The managed resources' addresses (type.name)."""
        return frozenset(f"{r['type']}.{r['name']}" for r in self._managed())

    @property
    def tainted(self) -> frozenset[str]:
        """The managed resources with an instance terraform marked tainted."""
        return frozenset(f"{r['type']}.{r['name']}" for r in self._managed()
                         if any(i.get("status") == "tainted" for i in r.get("instances", [])))

    def attributes(self, address: str) -> dict | None:
        """The attributes of a managed resource (type.name, single instance)."""
        type_, _, name = address.partition(".")
        for resource in self._managed():
            if resource.get("type") == type_ and resource.get("name") == name:
                instances = resource.get("instances") or []
                return instances[0].get("attributes", {}) if instances else None
        return None

    @property
    def users(self) -> list[str]:
        """The IAM user names it holds (a retired stack's, before they leave it)."""
        return sorted(instance.get("attributes", {}).get("name")
                      for resource in self._managed() if resource.get("type") == IAM_USER_RESOURCE
                      for instance in resource.get("instances", []) if instance.get("attributes", {}).get("name"))

    @property
    def created_account_ids(self) -> dict[str, str]:
        """The management stack's: stack -> id of every account in its last outputs."""
        return dict(self.outputs.get(ACCOUNT_IDS_OUTPUT) or {})

    @property
    def identity_store_id(self) -> str | None:
        """The management stack's, with identity_center once applied."""
        return (self.outputs.get(IDENTITY_CENTER_OUTPUT) or {}).get("identity_store_id")


@dataclass(frozen=True)
class States:
    """Where the stacks of one org.yaml keep their state, and reading it (`init`: initializes a
    stack's folder before its remote state is pulled)."""

    org: Org
    outdir: Path
    terraform: Terraform
    init: Callable[[str], None]
    state_dir: Path | None = None  # the local backend's folder, when not org.yaml's (tests)

    def local_file(self, stack: str) -> Path:
        return self.state_dir / f"{stack}.tfstate" if self.state_dir else self.org.state.local_file(stack)

    @property
    def local_dir(self) -> Path:
        return self.state_dir or self.org.state.local_dir

    def secure(self, stack: str) -> list[str]:
        """Owner-only (local backend): the state folder and the stack's state files and
        backups; a note for each looser one tightened."""
        if self.org.state.backend != "local":
            return []
        notes = private_dir(self.local_dir)
        return notes + [note for note in (tighten(path) for path in state_files(self.local_dir)
                                          if path.name.split(".tfstate")[0] == stack) if note]

    def read(self, stack: str) -> StackState:
        if self.org.state.backend == "local":
            return StackState.read_file(self.local_file(stack))
        self.init(stack)
        return StackState.pull(self.terraform, stack_dir(self.outdir, stack))

    def created_account_ids(self) -> dict[str, str]:
        """Stack -> account id of every account in the management stack's last outputs,
        including environments since removed from org.yaml (to retire)."""
        return self.read(MANAGEMENT_STACK).created_account_ids

    def account_ids(self, created: Mapping[str, str] | None = None) -> dict[str, str]:
        """Known account ids by stack: adopted ones from org.yaml, the rest from `created`
        (default: the management stack's outputs), of the environments org.yaml has."""
        created = self.created_account_ids() if created is None else created
        ids = dict(self.org.adopted_account_ids)
        ids.update({stack: account_id for stack, account_id in created.items() if stack in self.org.stacks})
        return ids

    def account_ids_at_hand(self) -> dict[str, str]:
        """The account ids known without running terraform: with local state all of them (the
        management stack's state file is read), else the adopted ones (org.yaml)."""
        return self.account_ids() if self.org.state.backend == "local" else dict(self.org.adopted_account_ids)

    def check_no_local_state_left(self, stacks: Sequence[str]) -> None:
        """With a remote backend, a stack's local state file still in the state folder means
        its state was never moved: planning against the (empty) remote state would create
        everything again, so refuse and name the command that moves it."""
        if self.org.state.backend == "local":
            return
        left = [stack for stack in stacks if stack != BOOTSTRAP_STACK and self.local_file(stack).is_file()]
        if left:
            raise LocalStateLeft(
                f"state.backend is {self.org.state.backend}, but {names_text(left)} still "
                f"{'has' if len(left) == 1 else 'have'} local state in {self.local_dir}: run `bootstrap`, which moves it "
                "into the new backend (planning now would start from an empty state), or set state.backend back to "
                "local to plan from it as before")

    def check_found(self, stacks: Sequence[str]) -> None:
        """With the local backend, refuse (exit 2) when no stack has a state file where
        org.yaml says while the stack folders were run with state files elsewhere (see
        folder_backend.local_state_elsewhere): one line, before any stack is planned."""
        if self.org.state.backend != "local":
            return
        stacks = [stack for stack in stacks if stack != BOOTSTRAP_STACK]
        elsewhere = local_state_elsewhere((stack_dir(self.outdir, stack), self.local_file(stack)) for stack in stacks)
        if elsewhere is None:
            return
        raise StateNotFound(
            f"no state was found beside {self.org.source} (its state.path puts the stacks' state files in "
            f"{self.local_dir}), but the stacks in {self.outdir} were last run with their state in {elsewhere}, another "
            "org.yaml's (a copy in another folder, or state.path or organization.name changed): planning from here "
            "would start from an empty state and create everything again; nothing was planned: pass --config (ORG= "
            f"with make) the org.yaml those runs used, or move that state folder to {self.local_dir}")
