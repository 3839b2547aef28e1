"""What the other verbs read from the stacks' state without a run (`tree`, `signin`,
`password`, `synth --hcl`, `bootstrap`): the ids of the accounts that exist, the Identity
Center store, a login profile.  Each builds the state view (state.py) it needs over the
synthesized stacks, initializing a folder as a run would (owner-only first)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from awsenvs.config import MANAGEMENT_STACK, Org
from awsenvs.run.stackdir import StackFolder
from awsenvs.run.state import StackState, States
from awsenvs.synth import synthesize, write_retired_stack
from awsenvs.terraform import Terraform, TerraformError


def states_of(org: Org, outdir: Path, terraform: Terraform) -> States:
    """The states of the stacks synthesized in `outdir` (reports nothing)."""
    outdir = Path(outdir).resolve()

    def init(stack: str) -> None:
        folder = StackFolder.of(outdir, stack)
        folder.secure()
        states.secure(stack)
        folder.init(terraform, org.state.backend != "local")

    states = States(org, outdir, terraform, init)
    return states


@dataclass(frozen=True)
class Managed:
    """What the management stack's outputs tell the other commands."""

    account_ids: dict[str, str]  # by stack: adopted ones (org.yaml) and created ones
    identity_store_id: str | None  # identity_center, once applied


def managed(org: Org, outdir: Path, terraform: Terraform | None = None) -> Managed:
    synthesize(org, outdir)
    states = states_of(org, outdir, terraform or Terraform())
    state = states.read(MANAGEMENT_STACK)
    return Managed(states.account_ids(state.created_account_ids), state.identity_store_id)


def login_profile(org: Org, outdir: Path, stack: str, address: str, terraform: Terraform | None = None) -> dict | None:
    """The attributes of a login profile in a stack's state (any backend), or None."""
    synthesize(org, outdir)
    terraform = terraform or Terraform()
    states = states_of(org, outdir, terraform)
    states.init(stack)
    return StackState.pull(terraform, StackFolder.of(outdir, stack).path).attributes(address)


def known_account_ids(org: Org, outdir: Path, terraform: Terraform | None = None) -> dict[str, str]:
    """The ids of the accounts that exist, by stack (`synth --hcl` and `bootstrap` write them
    into what runs without awsenvs).

    Adopted ones come from org.yaml; when org.yaml does not name them all, the created ones
    come from the management stack's outputs: its local state file, or with a remote
    backend its state, read through a folder holding only its backend (so the stacks in
    outdir, JSON or HCL, are not touched; with `cloud`, `terraform init` there creates the
    management workspace when it does not exist yet).  A state that cannot be read is an
    error, never "no accounts": what is written from these ids would lose the others."""
    ids = dict(org.adopted_account_ids)
    if all(env.stack in ids for env in org.environments):
        return ids
    terraform = terraform or Terraform()
    try:
        left = org.state.local_file(MANAGEMENT_STACK)
        if org.state.backend != "local" and left.is_file():
            # Not moved into the remote backend yet (bootstrap moves it, after reading these):
            # the local file is the management stack's state.
            return states_of(org, outdir, terraform).account_ids(StackState.read_file(left).created_account_ids)
        if org.state.backend == "local":
            return states_of(org, outdir, terraform).account_ids()
        with tempfile.TemporaryDirectory(prefix="awsenvs-management-state-") as scratch:
            write_retired_stack(org, Path(scratch), MANAGEMENT_STACK)  # its backend alone
            return states_of(org, Path(scratch), terraform).account_ids()
    except TerraformError as exc:
        login = " (Terraform Cloud: `terraform login` first)" if org.state.backend == "cloud" else ""
        raise TerraformError(f"cannot read the management stack's state{login}, which holds the ids of the accounts it "
                             f"created: {exc}") from None
