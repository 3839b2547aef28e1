"""The CLI: the group, the registry of its verbs (one module per verb, awsenvs/cli/<verb>.py,
wiring options to small helpers; imported when the verb runs) and main(), the one place
where failures become an exit code.

Exit codes scripts can rely on: 0 ok (for `plan`: no changes), 1 a failure (terraform,
AWS, a refused confirmation or a failed audit check), 2 bad input (org.yaml, options),
except for `plan`, whose 2 means "there are changes" and every failure is 1 (like
`terraform plan -detailed-exitcode`); 130 interrupted (Ctrl-C).  Every failure is one `error:` line (org.yaml: one per problem),
never a traceback: an unexpected one names itself as a bug (AWSENVS_DEBUG=1 shows it).
"""

from __future__ import annotations

import importlib
import os
import sys
from gettext import gettext as _

import click
from click.exceptions import NoSuchCommand
from rich.markup import escape

from awsenvs.cli.common import err, prog_name
from awsenvs.errors import (EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, AwsenvsError, shorten,
                            with_credentials_hint)

# Ours, and of no interest to an operator (jsii warns about Node 20's end of life).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


# Every verb: where its click command lives, and the first sentence of its help (what
# `--help` lists, shortened as click shortens it).  `--help` answers from this table alone;
# a verb's module is imported when the verb runs or shows its own help (as pip's
# commands/__init__.py does), and each imports what it uses only when it runs.
VERBS: dict[str, tuple[str, str]] = {
    "synth": ("awsenvs.cli.synth:synth", "Write the Terraform of every stack into cdktf.out/stacks/<stack>/."),
    "validate": ("awsenvs.cli.validate:validate",
                 "Check org.yaml: schema, AWS naming rules, collisions of derived names, guardrails (known regions, "
                 "policies within Organizations' size limit, nothing that locks the runner out), budgets, contacts "
                 "(emails, phone numbers) and opt-in regions."),
    "export-modules": ("awsenvs.cli.export_modules:export_modules",
                       "Write reusable Terraform modules into DIRECTORY: organization, guardrails, account_settings, "
                       "identity_center, account and iam, with example/main.tf wiring them."),
    "tree": ("awsenvs.cli.tree:tree", "Show the organization as a tree: management, OUs, accounts (with the ids state "
             "knows), groups, users, MFA, guardrails and budgets."),
    "plan": ("awsenvs.cli.plan:plan", "Synthesize, guard the account, and plan the stacks that changed to saved plan files."),
    "apply": ("awsenvs.cli.apply:apply",
              "Apply exactly the saved plans that `plan` showed: management first, then accounts in parallel."),
    "bootstrap": ("awsenvs.cli.bootstrap:bootstrap",
                  "Create what state.backend needs before the first plan, in the management account."),
    "profiles": ("awsenvs.cli.profiles:profiles",
                 "AWS CLI profiles <product>_<env>_<user> for every user of every environment."),
    "signin": ("awsenvs.cli.signin:signin", "Console sign-in links of every account."),
    "password": ("awsenvs.cli.password:password", "Show USER's initial console password in STACK once, to hand it over."),
    "audit": ("awsenvs.cli.audit:audit",
              "Check the live accounts (boto3, through the role the stacks use) and your local AWS config."),
    "elevate": ("awsenvs.cli.elevate:elevate",
                "Grant USER one of their eligible groups in one environment until a time AWS enforces."),
    "approve": ("awsenvs.cli.approve:approve",
                "Approve the request ID (from `elevations`) with your own credentials, and apply the grant."),
    "revoke": ("awsenvs.cli.revoke:revoke", "End USER's grant of a group in one environment now, and apply it."),
    "elevations": ("awsenvs.cli.elevations:elevations",
                   "List the active grants and waiting requests: who, which group where, why, since and until."),
    "import": ("awsenvs.cli.import_org:import_", "Write an org.yaml that describes the live organization as it is."),
    "sandbox": ("awsenvs.cli.sandbox:sandbox", "Rehearse everything offline against a local AWS emulator (moto)."),
    "ci": ("awsenvs.cli.ci:ci",
           "Plan on every pull request, apply on merge behind an approval, drift on a schedule (GitHub Actions)."),
}


class LazyGroup(click.Group):
    """The commands of a registry (VERBS by default: name -> ("module:command", summary)),
    each imported when it is asked for."""

    registry: dict[str, tuple[str, str]] = VERBS

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.registry)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.registry:
            return None
        module, name = self.registry[cmd_name][0].split(":")
        return getattr(importlib.import_module(module), name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        try:
            return super().resolve_command(ctx, args)
        except NoSuchCommand as exc:  # click suggests from self.commands, empty here: suggest one of ours
            raise NoSuchCommand(exc.command_name, possibilities=list(self.registry), ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists commands, from the registry's summaries: no command module is imported."""
        limit = formatter.width - 6 - max(len(name) for name in self.registry)
        rows = [(name, click.Command(name, help=self.registry[name][1]).get_short_help_str(limit))
                for name in self.list_commands(ctx)]
        with formatter.section(_("Commands")):
            formatter.write_dl(rows)


def _error(message: str) -> None:
    """One `error:` line per line of the message (org.yaml's problems come several at once)."""
    for line in message.splitlines() or [""]:
        err.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
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
      python main.py elevate USER --env E --group G --for 2h --reason R   just-in-time access
      python main.py import        write org.yaml from an organization made by hand
      python main.py export-modules DIR   Terraform modules for plain-Terraform teams
      python main.py ci github     GitHub Actions: plan on pull requests, apply on merge
    Without a command, synthesizes (so cdktf.json's app works with the CDK CLI).
    Exit codes: 0 ok, 1 failure, 2 bad input, 130 interrupted; plan: 0 no changes,
    2 changes, 1 any failure.
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    ctx.obj["verb"] = ctx.invoked_subcommand  # for main(): plan's exit codes differ
    if ctx.invoked_subcommand is None:
        ctx.invoke(ctx.command.get_command(ctx, "synth"))


DEBUG_ENV = "AWSENVS_DEBUG"  # non-empty: an unexpected error shows its traceback


def main(argv: list[str] | None = None) -> int:
    """The one place where failures become a printed line and an exit code."""
    ran: dict = {}  # the group's ctx.obj: the config path and the verb it runs
    try:
        code = cli.main(args=argv, prog_name=prog_name(), standalone_mode=False, obj=ran)
    except AwsenvsError as exc:
        _error(str(exc))
        return bad_input_exit_code(ran.get("verb") == "plan") if exc.exit_code == EXIT_BAD_INPUT else exc.exit_code
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
    # `ci plan` is another command, with the usual codes (its 2 is bad input).
    ctx = exc.ctx
    plan_verb = ctx is not None and ctx.command.name == "plan" and not (ctx.parent and ctx.parent.command.name == "ci")
    plan_word = any(word == "plan" and not (i and argv[i - 1] == "ci") for i, word in enumerate(argv))
    return bad_input_exit_code(plan_verb or plan_word)


def bad_input_exit_code(plans: bool) -> int:
    """Bad input exits 2, except on `plan`'s command line (`plans`), whose 2 means "changes"
    (terraform -detailed-exitcode): there it is a failure, 1.  The one place this is decided,
    for a usage error and for an AwsenvsError alike."""
    return EXIT_FAILED if plans else EXIT_BAD_INPUT


def unexpected(exc: BaseException) -> str:
    """One line for an error no code path turned into an AwsenvsError: an AWS call's
    (botocore's own errors, an answer it could not parse), or a bug."""
    module = type(exc).__module__ or ""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if module.startswith(("botocore", "boto3", "urllib3")):
        return with_credentials_hint(f"AWS: {type(exc).__name__}: {shorten(text, 400)}", type(exc).__name__)
    return (f"unexpected {type(exc).__name__}: {text} (a bug in awsenvs: please report it with the command you ran; "
            f"{DEBUG_ENV}=1 shows the traceback)")
