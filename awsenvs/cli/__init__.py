"""The CLI: one thin command per verb, wiring options to small helpers.

Exit codes scripts can rely on: 0 ok (for `plan`: no changes), 1 a failure (terraform,
AWS, a refused confirmation or a failed audit check), 2 bad input (org.yaml, options),
except for `plan`, whose 2 means "there are changes" and every failure is 1 (like
`terraform plan -detailed-exitcode`); 130 interrupted (Ctrl-C).  Every failure is one `error:` line (org.yaml: one per problem),
never a traceback: an unexpected one names itself as a bug (AWSENVS_DEBUG=1 shows it).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.markup import escape

from awsenvs import usable_cores
from awsenvs.errors import (EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, AwsenvsError, BadInput, shorten,
                            with_credentials_hint)

# Each command imports what it uses (org.yaml's validation alone, pydantic, costs ~0.15 s):
# `--help` answers at once, and `plan` starts its synth worker before anything else.
if TYPE_CHECKING:
    from awsenvs.config import Org

# Ours, and of no interest to an operator (jsii warns about Node 20's end of life).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Off a terminal (a pipe, CI logs) rich would wrap and crop at 80 columns: print wide.
_WIDTH = None if sys.stdout.isatty() else 200
out = Console(soft_wrap=True, width=_WIDTH)
err = Console(stderr=True, soft_wrap=True, width=_WIDTH)


def _error(message: str) -> None:
    """One `error:` line per line of the message (org.yaml's problems come several at once)."""
    for line in message.splitlines() or [""]:
        err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)


def _org(ctx: click.Context) -> Org:
    from awsenvs.config import load

    return load(ctx.obj["config"])


def _outdir() -> Path:
    # The CDK CLI passes its output folder in CDKTF_OUTDIR.  It may be relative, as typed
    # (and shown): the terraform adapter makes every path it hands terraform absolute.
    return Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "-c", default="org.yaml", show_default=True, metavar="PATH", envvar="AWSENVS_CONFIG",
    help="The organization file (make: ORG=PATH).",
)
@click.pass_context
def cli(ctx: click.Context, config: str) -> None:
    """awsenvs: AWS accounts for a product's environments, as code.

    Reads org.yaml (an AWS Organization with one OU per product and one account per
    environment), synthesizes Terraform with CDK Terrain, and runs it safely.

    \b
    Typical flow:
      python main.py sandbox       rehearse it all offline against a local AWS emulator
      python main.py validate      check org.yaml
      python main.py tree          look at the organization it describes
      python main.py bootstrap     state bucket or Terraform Cloud run roles (s3/cloud)
      python main.py plan          guard, plan every stack, show a summary
      python main.py apply         apply exactly those plans
      python main.py profiles --write   CLI profiles into ~/.aws/config
      python main.py signin        console sign-in links
      python main.py password USER --stack STACK   hand over an initial password
      python main.py audit         check the live accounts
      python main.py import        write org.yaml from an organization made by hand
      python main.py export-modules DIR   Terraform modules for plain-Terraform teams
    Without a command, synthesizes (so cdktf.json's app works with the CDK CLI).
    Exit codes: 0 ok, 1 failure, 2 bad input, 130 interrupted; plan: 0 no changes,
    2 changes, 1 any failure.
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    if ctx.invoked_subcommand is None:
        ctx.invoke(synth)


@cli.command()
@click.option("--hcl", is_flag=True, help="Write terraform-fmt formatted HCL (cdk.tf) instead of JSON, for review or VCS-driven "
              "runs; the ids of existing accounts become the account_id defaults (read from the management stack's state).")
@click.option("--force", is_flag=True, help="Rebuild every stack, even those unchanged since the last synth.")
@click.pass_context
def synth(ctx: click.Context, hcl: bool = False, force: bool = False) -> None:
    """Write the Terraform of every stack into cdktf.out/stacks/<stack>/.

    One stack `management` (organization, OUs, accounts) and one per environment
    (alias, password policy, IAM). Only stacks whose part of org.yaml (or the code)
    changed are rebuilt; folders of stacks org.yaml no longer has are removed.
    """
    from awsenvs.synth import synthesize

    org = _org(ctx)
    outdir = _outdir()
    account_ids = {}
    if hcl:  # the committed files run without awsenvs: the ids it knows become the defaults
        from awsenvs.run.workflow import known_account_ids

        _state_access(org)
        with err.status("Reading the ids of created accounts (the management stack's state)…"):
            account_ids = known_account_ids(org, outdir)
    with err.status("Synthesizing (loading the AWS bindings takes a few seconds)…"):
        done = synthesize(org, outdir, hcl=hcl, force=force, account_ids=account_ids)
    err.print(synth_summary(done, outdir), markup=False, highlight=False)


def synth_summary(done, outdir: Path) -> str:
    """One line: how many stacks were rebuilt, kept and removed, naming the first few."""
    from awsenvs.results import names_text

    line = f"{len(done.stacks)} stacks in {outdir}/stacks: {len(done.rebuilt)} rebuilt, {done.kept} unchanged"
    if done.removed:
        line += f", {len(done.removed)} removed ({names_text(done.removed)})"
    return line + (f"; rebuilt: {names_text(done.rebuilt)}" if done.rebuilt else "")


@cli.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Check org.yaml: schema, AWS naming rules, collisions of derived names, guardrails
    (known regions, policies within Organizations' size limit, nothing that locks the runner
    out), budgets, contacts (emails, phone numbers) and opt-in regions. Writes nothing."""
    from awsenvs.modules.guardrail_policies import data_perimeter_policies, guardrail_policies
    from awsenvs.run.explain import perimeter_warning

    org = _org(ctx)
    policies = guardrail_policies(org)  # refuses a service control policy over the size limit
    data_perimeter_policies(org)  # and a resource control policy
    accounts = len(org.environments)
    users = len({u.name for env in org.environments for u in env.users})
    budgets = sum(1 for env in org.environments if env.budget is not None)
    out.print(
        f"{org.source}: ok: {len(org.products)} product(s), {accounts} account(s), {users} user(s), "
        f"guardrails on {len(policies)} OU(s), {budgets} budget(s), stacks: {', '.join(org.stacks)}",
        highlight=False,
    )
    for product, env in org.adopted_in_data_perimeter:
        out.print(f"note: {perimeter_warning(product, env)}", markup=False, highlight=False)


@cli.command("export-modules")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files changed since the last export (your edits are lost).")
def export_modules(directory: Path, force: bool) -> None:
    """Write reusable Terraform modules into DIRECTORY: organization, guardrails,
    account_settings, identity_center, account and iam, with example/main.tf wiring them.

    For teams that run plain Terraform (or a private module registry) instead of this
    runner: the same constructs as the stacks, driven by typed module variables, each
    module a main.tf with a README.md of its inputs and outputs; DIRECTORY/README.md says
    what is not exported. Needs no org.yaml. The folder is yours to edit: exporting again
    refuses to overwrite a file changed since the last export, unless --force.
    """
    from awsenvs.export import export_modules as export

    with err.status("Writing the modules (loading the AWS bindings takes a few seconds)…"):
        written = export(directory, force=force)
    for folder in written:
        err.print(f"Wrote {folder}/main.tf" + ("" if folder.name == "example" else " and README.md"),
                  markup=False, highlight=False)
    err.print(f"Wrote {Path(directory).absolute() / 'README.md'}: what is exported, how to apply it, what is left out",
              markup=False, highlight=False)


@cli.command()
@click.pass_context
def tree(ctx: click.Context) -> None:
    """Show the organization as a tree: management, OUs, accounts (with the ids state knows),
    groups, users, MFA, guardrails and budgets.

    Account ids: adopted ones from org.yaml, created ones from the management stack's state
    (a local state file is read directly; s3 or cloud state through terraform)."""
    from awsenvs.terraform import TerraformError
    from awsenvs.tree import org_tree
    from awsenvs.run.workflow import known_account_ids

    org = _org(ctx)
    _state_access(org)
    try:
        with err.status("Reading the ids of created accounts (the management stack's state)…"):
            account_ids = known_account_ids(org, _outdir())
    except TerraformError as exc:
        err.print(f"[yellow]warning:[/] {escape(str(exc))}; created accounts are shown without ids", highlight=False)
        account_ids = dict(org.adopted_account_ids)
    out.print(org_tree(org, account_ids))


MAX_WORKERS = 32
DEFAULT_WORKERS = min(usable_cores(), MAX_WORKERS)


def _selection(f):
    for decorator in reversed([
        click.option("--stack", "stacks", multiple=True, metavar="STACK", help="Only this stack (repeatable): management, <product>-<env>."),
        click.option("--product", "products", multiple=True, metavar="P", help="Only this product's stacks (repeatable); management comes along."),
        click.option("--env", "envs", multiple=True, metavar="E", help="Only this environment in every product (repeatable)."),
        click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, MAX_WORKERS),
                     help="Stacks planned or applied at once (default: this machine's cores; terraform's provider start-up is CPU-bound)."),
        click.option("--detail", is_flag=True, help="List every resource change of each stack (default: the first few and a count)."),
    ]):
        f = decorator(f)
    return f


def _guard(org: Org):
    """The account guard of a run: STS asked once, later calls check more member ids against it."""
    from awsenvs import aws

    caller: list[str] = []

    def guard(member_ids: dict[str, str]) -> str:
        result = aws.guard(org, member_ids, caller[0] if caller else None)
        if result.warning and not caller:
            err.print(f"[yellow]warning:[/] {escape(result.warning)}", highlight=False)
        caller[:] = [result.account_id]
        return result.account_id

    return guard


def _ask():
    """How to ask the operator, or None without a terminal."""
    return (lambda prompt: click.prompt(prompt, default="", show_default=False, err=True)) if sys.stdin.isatty() else None


def _session(ctx: click.Context, stacks, products, envs, workers, everything: bool = False, detail: bool = False):
    from awsenvs import aws
    from awsenvs.preflight import LiveChecks
    from awsenvs.terraform import Terraform
    from awsenvs.run.workflow import Run

    org = _org(ctx)
    selected = list(org.select(tuple(stacks), tuple(products), tuple(envs)))
    aws.connect(org)
    stopping = threading.Event()  # the run's interrupt: the runner, the waits and the look-ups see it
    guard, live = _guard(org), LiveChecks(org, stopping)
    if org.state.backend == "cloud" and not aws.has_credentials():
        # The runs happen in Terraform Cloud with the workspaces' own credentials, and each
        # stack checks the account it runs in (awsenvs/stacks.py); nothing here can look.
        err.print("note: no local AWS credentials: the local account guard and the live look-ups (trusted services, "
                  "adopted accounts, imports, retiring removed environments, waiting for new accounts, drift of "
                  "unchanged stacks) are skipped; "
                  "each stack checks its account in its Terraform Cloud run", markup=False, highlight=False)
        guard, live = (lambda member_ids: org.management_account_id), None
    return Run(org, selected, err, _outdir(), guard, _ask(), workers, Terraform(), live, everything, detail,
               stopping=stopping)


@cli.command()
@_selection
@click.option("--all", "everything", is_flag=True,
              help="Plan every selected stack with terraform, also those unchanged since their last clean plan "
                   "and without drift: terraform's own check of everything it manages.")
@click.pass_context
def plan(ctx: click.Context, stacks, products, envs, workers, detail, everything) -> None:
    """Synthesize, guard the account, and plan the stacks that changed to saved plan files.

    A stack whose synthesized config, account id, state (serial and lineage), locked
    provider versions and terraform version are all as at its last clean plan (no
    changes) or apply is reported as "unchanged since <time>" without running terraform,
    unless its live objects differ from org.yaml where apply restores them (drift: the
    comparisons of `audit`, at API speed): then it is planned, with one note per
    difference.  `plan --all` plans every stack with terraform, which also compares what
    audit does not (account names and tags, opt-in regions, root access).

    Before planning, looks at the live organization: refuses (exit 1) a plan that would
    disable a trusted service or policy type org.yaml does not list, refuses (exit 2) an
    adopted account whose email or name differs from org.yaml, and imports what already
    exists (accounts, OUs, IAM objects) instead of creating it twice. Shows a table per
    stack (account, add / change / destroy / import / forget, "waiting for account" until
    the management stack has created it, "retire" for an environment removed from
    org.yaml), each stack's resource changes (the first few and a count; --detail lists
    all), and one line per import saying why.

    Ctrl-C stops gracefully: no stack starts after it, running terraform finishes cleanly.

    \b
    Exit code: 0 no changes anywhere, 2 changes, 1 an error (bad input too: the guard,
    org.yaml, an option, a stack failed), 130 interrupted.  Through make: see the README.
    """
    from awsenvs.synth import Worker

    try:
        # Started first: it loads the AWS bindings while org.yaml is read (stopped if nothing is stale).
        with Worker() as worker:
            from awsenvs.run import workflow
            from awsenvs.runlock import run_lock

            session = _session(ctx, stacks, products, envs, workers, everything, detail)
            with run_lock(session.org, "plan"):
                _, code = workflow.plan(session, worker)
    except AwsenvsError as exc:
        if exc.exit_code == EXIT_BAD_INPUT:  # plan's 2 means "changes": bad input is a failure here
            exc.exit_code = EXIT_FAILED
        raise
    ctx.exit(code)


@cli.command()
@_selection
@click.option("--yes", "-y", is_flag=True, help="Do not ask; needed without a terminal to apply protected (mfa: required) environments.")
@click.pass_context
def apply(ctx: click.Context, stacks, products, envs, workers, detail, yes) -> None:
    """Apply exactly the saved plans that `plan` showed: management first, then accounts in parallel.

    If org.yaml or the code changed since the plans were made, or the last apply was
    interrupted, plans again and shows the changes first. Before touching an `mfa:
    required` environment, retiring a removed one, or changing an adopted account's alias,
    asks you to type its account name (unless --yes; with no terminal and no --yes it
    refuses). Accounts the management stack creates are waited for (their role must be
    assumable), then planned and applied right after it. A retired environment's account
    moves to the Suspended OU and leaves state; nothing is destroyed or closed.

    Lists what it is about to apply before it asks or applies.  With nothing to apply it
    applies nothing and exits 0, terminal or not.  Ctrl-C stops gracefully: no stack starts
    after it; the running terraform finishes its operations in flight and writes its state.

    \b
    Exit code: 0 all applied (or nothing to apply), 1 a stack failed or the apply was
    refused, 130 interrupted.
    """
    from awsenvs.run import workflow
    from awsenvs.runlock import run_lock

    session = _session(ctx, stacks, products, envs, workers, detail=detail)
    with run_lock(session.org, "apply"):
        _, code = workflow.apply(session, yes)
    ctx.exit(code)


@cli.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask; needed without a terminal.")
@click.pass_context
def bootstrap(ctx: click.Context, yes: bool) -> None:
    """Create what state.backend needs before the first plan, in the management account.

    \b
    s3:    the state bucket: versioning, default encryption, public access block, a
           TLS-only bucket policy (locking uses a lock file in it: nothing else needed).
           Then each stack's local state (from runs with state.backend local) is moved
           into it, after a confirmation, and the local files into a private backup.
    cloud: the OIDC provider of the Terraform Cloud host and a role per stack workspace,
           trusted by that workspace's runs only (management: Organizations; an account
           stack: assume its account's role); then prints the workspace variables to set
           (TFC_AWS_PROVIDER_AUTH, TFC_AWS_RUN_ROLE_ARN). Run it again after the first
           apply of management: new accounts' roles then get their permission.
           Local state is moved into the stacks' workspaces the same way as for s3.
    local: nothing to do.

    Kept in Terraform as its own stack, `bootstrap`, with local state
    (<state.path>/<organization>/bootstrap.tfstate; if it is lost, the next run imports
    what exists). Guards the account, imports what already exists, shows the plan and
    asks before applying (like apply); a second run changes nothing.

    \b
    Exit code: 0 done (or nothing to do), 1 a failure or refused, 2 bad input.
    """
    from awsenvs import aws
    from awsenvs.run import bootstrap as bootstrap_
    from awsenvs.reconcile import bootstrap_imports
    from awsenvs.runlock import run_lock
    from awsenvs.terraform import Terraform

    org = _org(ctx)
    aws.connect(org)
    b = bootstrap_.Bootstrap(org, _outdir(), err, Terraform(), _guard(org), _ask(), bootstrap_imports)
    with run_lock(org, "bootstrap"):
        code = bootstrap_.run(b, yes)
    ctx.exit(code)


@cli.command()
@click.option("--write", is_flag=True, help="Merge the profiles into the AWS config file (between # BEGIN/END awsenvs).")
@click.option("--file", "path", default=None, metavar="PATH", help="The AWS config file. Default: $AWS_CONFIG_FILE or ~/.aws/config.")
@click.option("--dry-run", is_flag=True, help="With --write: show the unified diff, change nothing.")
@click.option("--user", "users", multiple=True, metavar="NAME", help="Only this user's profiles (repeatable): a person writes their own into their own config.")
@click.pass_context
def profiles(ctx: click.Context, write: bool, path: str | None, dry_run: bool, users: tuple[str, ...]) -> None:
    """AWS CLI profiles <product>_<env>_<user> for every user of every environment.

    Without --write, prints the block; --user NAME keeps only that person's profiles.

    \b
    iam_users: `mfa: required` environments get a role profile (role_arn, mfa_serial,
    source_profile <profile>_keys, role_session_name = the user) because the AWS CLI honours
    mfa_serial only on role profiles; mfa_serial is the serial of the user's real TOTP
    device, looked up in the account (boto3). A user with no such device yet gets only
    the key profile and a printed next step.
    identity_center: one [sso-session <organization>] (the access portal) and a profile per
    account assignment (sso_account_id, sso_role_name = the permission set); a user's
    further groups in the same environment get <profile>_<group>. Sign in with
    `aws sso login --sso-session <organization>` (AWS CLI version 2; version 1 has no
    `aws sso login`).

    Never writes a [default] profile, never a secret; the old file is backed up beside it
    and the write is atomic (mode 0600).
    """
    from awsenvs import aws
    from awsenvs import profiles as profiles_
    from awsenvs.live import iam as live_iam

    org = _org(ctx)
    for user in users:
        _person(org, user)
    managed = _managed(org)
    serials = {}
    looked_up = [env for env in org.environments if env.mfa_required and env.account_id_from(managed.account_ids)]
    if not org.identity_center and looked_up:
        aws.connect(org)
        _guard(org)(managed.account_ids)  # the users' MFA devices are read through the management account
        try:
            with err.status("Looking up the users' MFA devices…"):
                serials = live_iam.mfa_serials(org, managed.account_ids)
        except aws.AwsError as exc:
            raise exc.within("looking up MFA devices (needs the management account's credentials)") from None
    found = profiles_.profiles_for(org, managed.account_ids, serials, managed.identity_store_id, users)
    for env in found.waiting:
        err.print(f"[yellow]skipped[/] {env.stack}: its account does not exist yet (run apply)", highlight=False)
    block = profiles_.render(org, found.profiles, found.sso_session)
    if not write:
        click.echo(block, nl=False)
    else:
        target = Path(path).expanduser() if path else profiles_.aws_config_path()
        try:
            result = profiles_.write(target, block, dry_run=dry_run)
        except OSError as exc:
            raise AwsenvsError(f"{target}: {exc.strerror or exc}") from None
        if dry_run:
            click.echo(result.diff or f"{target}: no changes", nl=not result.diff)
        elif result.changed:
            backup = f" (previous file backed up as {result.backup})" if result.backup else ""
            err.print(f"Wrote {len(found.profiles)} profiles to {target}{backup}", markup=False, highlight=False)
        else:
            err.print(f"{target}: already up to date", markup=False, highlight=False)
        if result.replaced:
            err.print(f"set back to {org.source.name}'s (keys awsenvs owns in its profiles): "
                      f"{'; '.join(result.replaced)}", markup=False, highlight=False)
        if result.has_default:
            err.print("[yellow]warning:[/] " + escape(f"{target} has a [default] profile: commands without --profile may hit the wrong account"), highlight=False)
    if found.sso_session:
        err.print(f"Sign in with: aws sso login --sso-session {found.sso_session.name}  (portal {found.sso_session.start_url}; "
                  "needs AWS CLI version 2: version 1 has no `aws sso login`)", markup=False, highlight=False)
    if found.setups:
        err.print("After creating your access keys at first sign-in, run:")
        for setup in found.setups:
            err.print(f"  {setup.user.name:<12} {setup.command}", markup=False, highlight=False)
    if found.without_mfa:
        err.print("No MFA device yet, so no role profile (mfa: required): register an authenticator app "
                  "(console: Security credentials > Assign MFA device), then run `profiles --write` again:")
        for setup in found.without_mfa:
            err.print(f"  {setup.user.name:<12} {setup.environment.profile_name(setup.user)}  "
                      f"(sign in at {setup.environment.signin_url})", markup=False, highlight=False)


def _person(org: Org, name: str):
    """The user `--user NAME` names (one of org.people), else bad input listing them."""
    person = next((u for u in org.people if u.name == name), None)
    if person is None:
        known = ", ".join(sorted(u.name for u in org.people)) or "none"
        raise BadInput(f"--user {name}: no such user in {org.source.name} (users: {known})")
    return person


def _state_access(org: Org) -> None:
    """With state in S3, terraform reads it with the environment's AWS profile: check that
    profile first (one line naming it), as every verb that calls AWS does (aws.connect)."""
    if org.state.backend == "s3":
        from awsenvs import aws

        aws.connect(org)


def _managed(org: Org):
    from awsenvs.terraform import TerraformError
    from awsenvs.run.workflow import managed

    _state_access(org)
    try:
        return managed(org, _outdir())
    except TerraformError as exc:
        raise exc.within("reading the management stack's outputs") from None


def _account_ids(org: Org) -> dict[str, str]:
    return _managed(org).account_ids


@cli.command()
@click.option("--html", "html_path", default=None, metavar="PATH", help="Also write a static HTML page of the links (a bookmark per account).")
@click.option("--user", "user", default=None, metavar="NAME", help="Instead: the message to send this colleague (where and as whom they sign in, their first sign-in, their AWS CLI profiles).")
@click.pass_context
def signin(ctx: click.Context, html_path: str | None, user: str | None) -> None:
    """Console sign-in links of every account.

    iam_users: https://<alias>.signin.aws.amazon.com/console per account. identity_center:
    the AWS access portal (organization.sso_start_url, else https://<identity store
    id>.awsapps.com/start) and, per account assignment, the portal's direct link into that
    account with that permission set.

    --user NAME prints the message to send that colleague instead (no secret in it: an IAM
    user's initial passwords are handed over apart, with `password`).
    """
    from rich.table import Table

    from awsenvs.profiles import IDENTITY_CENTER_FIRST_SIGN_IN, portal_url, render_signin_page, write_page

    org = _org(ctx)
    if user is not None and html_path:
        raise BadInput("--user and --html: choose one (the page is everyone's links, --user one colleague's message)")
    person = _person(org, user) if user is not None else None
    managed = _managed(org)
    ids = managed.account_ids
    if person is not None:
        from awsenvs.welcome import welcome

        message = welcome(org, ids, managed.identity_store_id, person)
        click.echo(message.message, nl=False)
        for note in message.notes:
            err.print(f"note: {note}", markup=False, highlight=False)
        return
    table = Table(title="Console sign-in", title_justify="left")
    if org.identity_center:
        portal = portal_url(org, managed.identity_store_id)
        out.print(f"Access portal: {portal}", highlight=False)
        for column in ("product", "environment", "account", "MFA", "user", "permission set", "direct link"):
            table.add_column(column)
        for a in org.assignments:
            env, account_id = a.environment, a.environment.account_id_from(ids)
            table.add_row(env.product, env.name, account_id or "not created yet", "required" if env.mfa_required else "optional",
                          a.user.name, a.group.permission_set_name,
                          a.console_url(portal, account_id) if account_id else "-")
    else:
        for column in ("product", "environment", "account", "MFA", "sign-in URL", "profiles"):
            table.add_column(column)
        for env in org.environments:
            table.add_row(env.product, env.name, env.account_id_from(ids) or "not created yet",
                          "required" if env.mfa_required else "optional", env.signin_url,
                          " ".join(env.profile_name(u) for u in env.users))
    out.print(table)
    if org.identity_center:
        err.print(f"note: {IDENTITY_CENTER_FIRST_SIGN_IN}", markup=False, highlight=False)
    if html_path:
        write_page(Path(html_path), render_signin_page(org, ids, managed.identity_store_id))
        err.print(f"Wrote {html_path}", markup=False, highlight=False)


@cli.command()
@click.argument("user")
@click.option("--stack", required=True, metavar="STACK", help="The environment's stack, e.g. autochart-prod.")
@click.option("--force", is_flag=True, help="Print even when standard output is not a terminal (a pipe or a file).")
@click.pass_context
def password(ctx: click.Context, user: str, stack: str, force: bool) -> None:
    """Show USER's initial console password in STACK once, to hand it over.

    Only to a terminal (a password in a pipe or a file ends up in logs and backups; --force
    if you really mean it), with the account, sign-in URL and profile name. With a pgp_key,
    shows the ciphertext and how the user decrypts it. If the user has signed in already
    (IAM PasswordLastUsed), there is nothing to hand over. Read from the stack's state,
    never written anywhere.

    \b
    Exit code: 0 shown (or nothing to hand over), 1 refused or not found, 2 bad input.
    """
    from awsenvs import aws
    from awsenvs import password as password_
    from awsenvs.live import iam as live_iam
    from awsenvs.terraform import TerraformError
    from awsenvs.run.workflow import login_profile

    org = _org(ctx)
    if org.identity_center:
        raise BadInput("organization.access is identity_center: there are no IAM console passwords to hand over; "
                       "people sign in at the access portal (see `signin`)")
    try:
        env = org.environment_by_stack(stack)
    except StopIteration:
        raise BadInput(f"--stack {stack}: no such environment (stacks: {', '.join(org.stacks[1:])})") from None
    person = next((u for u in env.users if u.name == user), None)
    if person is None:
        known = ", ".join(u.name for u in env.users) or "none"
        raise BadInput(f"{user}: not a user of {stack} (users: {known})")
    if not person.console:
        raise BadInput(f"{user}: has no console login in {stack} (console: false)")
    if not sys.stdout.isatty() and not force:
        raise AwsenvsError("refusing to write a password to a pipe or a file (standard output is not a terminal): "
                   "run it in a terminal, or pass --force")
    aws.connect(org)
    ids = _account_ids(org)
    account_id = env.account_id_from(ids)
    if account_id is None:
        raise AwsenvsError(f"{stack}: its account does not exist yet (run apply)")
    _guard(org)(ids)
    when = password_.last_used(live_iam.read_user(aws.member_session(account_id, env.role_name, env.cli_profile), user))
    if when is not None:
        err.print(password_.already_signed_in(person, when), markup=False, highlight=False)
        return
    try:
        attributes = login_profile(org, _outdir(), stack, f"aws_iam_user_login_profile.{person.tf_name}")
    except TerraformError as exc:
        raise exc.within(f"reading the state of {stack}") from None
    handoff = password_.handoff(env, person, account_id, attributes or {})
    if not (handoff.password or handoff.encrypted_password):
        raise AwsenvsError(f"{user}: no initial password in the state of {stack} (not applied yet, or a login that "
                   "existed before awsenvs adopted it): nothing to hand over")
    for line in password_.lines(handoff):
        click.echo(line)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON instead of a table.")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 64),
              help="Accounts checked at once (threads: the checks wait on AWS, not the CPU).")
@click.pass_context
def audit(ctx: click.Context, as_json: bool, workers: int) -> None:
    """Check the live accounts (boto3, through the role the stacks use) and your local AWS config.

    \b
    Management account: its root user has MFA and no access keys.
    Per member account: its root user has no credentials at all (password, access keys, MFA
    device, signing certificates: with centralized root access none are needed), alias as
    configured, password policy at least the configured one, and
      iam_users: exactly the configured users, and in mfa: required accounts an MFA
        device for every console user;
      identity_center: exactly the configured account assignments (user, permission set)
        and no IAM user with a console password; Identity Center's MFA setting has no read
        API, so it is listed as a manual check with its console path.
    Locally: no [default] profile, and each managed profile with keys belongs to its
    account (STS).
    Drift: every object awsenvs manages compared with org.yaml, one `drift` row per
    difference.  A failed row says what restores it (JSON: "restore"): `make plan`, then
    `make apply` for what terraform holds; the hand work for what it does not (an extra
    user or SCP), or listing it under `unmanaged` in org.yaml.
    Exit code: 0 all pass (manual checks do not fail), 1 any check fails, 2 bad input.
    """
    import json

    from rich.table import Table

    from awsenvs import audit as audit_
    from awsenvs import aws
    from awsenvs.profiles import aws_config_path, aws_credentials_path

    org = _org(ctx)
    aws.connect(org)
    ids = _account_ids(org)
    _guard(org)(ids)  # the member accounts are read through the management account's role into them
    with err.status("Auditing the accounts…"):
        rows = audit_.audit(org, ids, aws_config_path(), aws_credentials_path(), workers=workers)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        table = Table(title="Audit", title_justify="left")
        for column in ("check", "account", "status", "finding"):
            table.add_column(column)
        for row in rows:
            style = {"pass": "green", "fail": "bold red"}.get(row.status, "dim")
            restore = f"\n[dim]restore: {escape(row.restore)}[/]" if row.restore else ""
            table.add_row(escape(row.check), row.account, f"[{style}]{row.status}[/]", escape(row.finding) + restore)
        out.print(table)
    ctx.exit(EXIT_FAILED if any(r.status == audit_.FAIL for r in rows) else EXIT_OK)


@cli.command("import")
@click.option("--output", "-o", default=None, metavar="FILE",
              help="Where to write the org.yaml; - prints it. Default: the --config path (org.yaml).")
@click.option("--role", "role_name", default="OrganizationAccountAccessRole", show_default=True, metavar="NAME",
              help="The role each member account is read through (and its stack will use).")
@click.option("--force", is_flag=True, help="Replace an existing file (it is backed up beside it first).")
@click.option("--workers", default=16, show_default=True, type=click.IntRange(1, 64),
              help="Member accounts read at once.")
@click.pass_context
def import_(ctx: click.Context, output: str | None, role_name: str, force: bool, workers: int) -> None:
    """Write an org.yaml that describes the live organization as it is.

    Run it with the management account's credentials, for an organization made by hand:
    it reads the organization (OUs, accounts, policies), each member account's IAM
    through --role, and IAM Identity Center in the run's region (AWS_REGION), and writes
    a product per OU and an environment per account, adopted by id, email and name as
    they are.  Every decision is explained in a comment beside it; the summary says what
    was found, written and left out.  The first plan of the file then creates, moves and
    replaces no account, user or group: it imports them and adds awsenvs' baseline.

    \b
    Exit codes: 0 written, 1 failure (no permission to read the organization, not the
    management account), 2 the file exists (--force) or bad input.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from awsenvs import aws
    from awsenvs import importing

    output = output or ctx.obj["config"]
    importing.check_output(output, force)
    region = aws.connect(None)
    columns = (TextColumn("reading accounts"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("", total=None)
        result = importing.import_organization(
            region, role_name, output, workers,
            on_accounts=lambda n: bar.update(task, total=n),
            on_account=lambda m: bar.update(task, advance=1, description=m.account.name))
    if result.path is None:
        click.echo(result.written.text, nl=False)
    for line in result.written.found:
        err.print(f"found: {line}", markup=False, highlight=False)
    for line in result.written.left_out:
        err.print(f"left out: {line}", markup=False, highlight=False)
    if result.path is not None:
        backup = f" (the old one is in {result.backup})" if result.backup else ""
        err.print(f"wrote {result.path} ({result.written.counts}){backup}: read its comments, then "
                  f"`{_prog_name()} --config {result.path} validate` and `plan`", markup=False, highlight=False)


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the scratch directory (state, cdktf.out, sandbox home) for a look afterwards.")
@click.pass_context
def sandbox(ctx: click.Context, keep: bool) -> None:
    """Rehearse everything offline against a local AWS emulator (moto).

    Starts the emulator on a free 127.0.0.1 port, creates the accounts org.yaml adopts
    inside it, applies every stack with real Terraform, plans again (must be no changes),
    prints the tree and the profiles (written into a sandbox home, never your ~/.aws),
    then stops the emulator. Your state, cdktf.out and ~/.aws stay untouched.
    """
    from awsenvs import sandbox as sandbox_

    org = _org(ctx)
    try:
        code = sandbox_.run(org, err, keep=keep)
    except AwsenvsError as exc:
        raise exc.within("sandbox") from None
    ctx.exit(code)


def _prog_name() -> str:
    """`main.py` when run as the repository's entry point, else the console script's name."""
    return "main.py" if Path(sys.argv[0]).name == "main.py" else "awsenvs"


DEBUG_ENV = "AWSENVS_DEBUG"  # non-empty: an unexpected error shows its traceback


def main(argv: list[str] | None = None) -> int:
    """The one place where failures become a printed line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name=_prog_name(), standalone_mode=False)
    except AwsenvsError as exc:
        _error(str(exc))
        return exc.exit_code
    except click.UsageError as exc:
        exc.show()
        return usage_exit_code(exc, sys.argv[1:] if argv is None else argv)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort as exc:
        # click turns a Ctrl-C (and an end of input at a prompt) into Abort.
        if isinstance(exc.__context__ or exc.__cause__, KeyboardInterrupt):
            err.print("interrupted", markup=False, highlight=False)
            return EXIT_INTERRUPTED
        err.print("aborted (no answer: end of input); nothing more was done", markup=False, highlight=False)
        return EXIT_FAILED
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the net under everything: one line, never a traceback
        if os.environ.get(DEBUG_ENV):
            raise
        _error(unexpected(exc))
        return EXIT_FAILED
    return code if isinstance(code, int) else EXIT_OK


def usage_exit_code(exc: click.UsageError, argv: list[str]) -> int:
    """A usage error (an unknown verb or option, an option without its value) is bad input,
    2, except on a command line that runs `plan`, whose 2 means "changes" (terraform
    -detailed-exitcode): there it is a failure, 1.  click cannot always tell the verb (an
    unquoted path split in two, `--config my orgs/org.yaml plan`, makes `orgs/org.yaml` the
    verb), so a command line holding the word `plan` anywhere counts as plan's: a script
    reading 2 as "changes planned" is never told so by a typo."""
    verb = exc.ctx.command.name if exc.ctx is not None else None
    return EXIT_FAILED if verb == "plan" or "plan" in argv else EXIT_BAD_INPUT


def unexpected(exc: BaseException) -> str:
    """One line for an error no code path turned into an AwsenvsError: an AWS call's
    (botocore's own errors, an answer it could not parse), or a bug."""
    module = type(exc).__module__ or ""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if module.startswith(("botocore", "boto3", "urllib3")):
        return with_credentials_hint(f"AWS: {type(exc).__name__}: {shorten(text, 400)}", type(exc).__name__)
    return (f"unexpected {type(exc).__name__}: {text} (a bug in awsenvs: please report it with the command you ran; "
            f"{DEBUG_ENV}=1 shows the traceback)")
