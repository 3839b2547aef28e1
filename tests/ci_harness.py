"""A GitHub Actions runner in miniature, for the workflows `awsenvs ci github` writes.

No GitHub is reachable here, so the harness does what the runner does with a workflow
file, as far as these workflows use it:

- the trigger: the event must be one of the workflow's `on:` events (branches filtered);
- jobs in the order of their `needs`, a job's `if:`, its `environment:`, `env:` and
  `outputs:`; the workflow's `concurrency:` group (runs of one group never overlap: a run
  waits for the one in progress, `cancel-in-progress: false`);
- each job in a fresh clone of the repository at the event's commit (a runner keeps no
  files), its `run:` steps in order with bash (`bash --noprofile --norc -eo pipefail`,
  GitHub's default shell), step `if:`, GitHub's environment variables (GITHUB_EVENT_NAME,
  GITHUB_EVENT_PATH with the event's payload, GITHUB_OUTPUT, GITHUB_ENV,
  GITHUB_STEP_SUMMARY, GITHUB_SHA, GITHUB_REF, GITHUB_REPOSITORY, ...), and the job's OIDC
  token request (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN, served by the fake GitHub API);
- `${{ }}` expressions of the simple forms the workflows use (contexts github, env,
  secrets, vars, steps, needs; `==`, `!=`, `&&`, `||`, `!`, success(), failure(),
  always()).

`uses:` steps are not run: checkout (the clone is made), setup-python (the tests' Python,
awsenvs installed: the workflows' own `pip install` step runs for real and finds it),
setup-terraform (terraform is on PATH), cache.  The one step replaced by the test is
aws-actions/configure-aws-credentials: the harness makes the job's token (its claims as
GitHub would sign them), checks the role's trust policy against those claims as STS would
(the emulator evaluates no condition), and calls the emulator's
AssumeRoleWithWebIdentity; the keys go into the job's environment as the action exports
them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Callable

import yaml

NO_OP_ACTIONS = ("actions/checkout@", "actions/setup-python@", "hashicorp/setup-terraform@", "actions/cache@")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"


def token_of(claims: dict) -> str:
    """A JWT with these claims, shaped as GitHub's (the emulator checks no signature)."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'RS256', 'typ': 'JWT', 'kid': 'harness'})}.{part(claims)}.c2lnbmF0dXJl"


def trust_allows(document: dict, issuer_host: str, claims: dict) -> bool:
    """Whether an IAM trust policy lets a web identity with these claims assume the role:
    an Allow of sts:AssumeRoleWithWebIdentity whose StringEquals / StringLike conditions on
    `<issuer>:aud` and `<issuer>:sub` all hold (IAM's rules for these operators: a list is
    any-of; StringLike's * and ?)."""
    for statement in document.get("Statement", []):
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        if statement.get("Effect") != "Allow" or "sts:AssumeRoleWithWebIdentity" not in actions:
            continue
        if not str(statement.get("Principal", {}).get("Federated", "")).endswith(f"oidc-provider/{issuer_host}"):
            continue
        if all(_condition_holds(operator, values, issuer_host, claims)
               for operator, values in statement.get("Condition", {}).items()):
            return True
    return False


def _condition_holds(operator: str, values: dict, issuer_host: str, claims: dict) -> bool:
    match = {"StringEquals": lambda have, want: have == want, "StringLike": fnmatch}.get(operator)
    if match is None:
        return False  # an operator this harness does not know never counts as satisfied
    for key, wanted in values.items():
        claim = claims.get(key.removeprefix(f"{issuer_host}:")) if key.startswith(f"{issuer_host}:") else None
        wanted = [wanted] if isinstance(wanted, str) else wanted
        if claim is None or not any(match(str(claim), w) for w in wanted):
            return False
    return True


# -- expressions --------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<num>\d+)|(?P<name>[A-Za-z_][\w.-]*(?:\(\))?))")


def evaluate(expression: str, context: dict) -> Any:
    """The value of one expression (without `${{ }}`)."""
    tokens, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        found = _TOKEN.match(expression, position)
        if not found or found.end() == position:
            raise ValueError(f"expression the harness cannot read: {expression!r}")
        tokens.append(found)
        position = found.end()
    parser = _Parser(tokens, context)
    value = parser.either()
    if parser.index != len(tokens):
        raise ValueError(f"expression the harness cannot read: {expression!r}")
    return value


@dataclass
class _Parser:
    tokens: list
    context: dict
    index: int = 0

    def _peek(self, kind: str, text: str | None = None) -> bool:
        if self.index >= len(self.tokens):
            return False
        token = self.tokens[self.index]
        return token.group(kind) is not None and (text is None or token.group(kind) == text)

    def either(self):
        value = self.both()
        while self._peek("op", "||"):
            self.index += 1
            other = self.both()
            value = value or other
        return value

    def both(self):
        value = self.compare()
        while self._peek("op", "&&"):
            self.index += 1
            other = self.compare()
            value = value and other
        return value

    def compare(self):
        value = self.unary()
        if self._peek("op", "==") or self._peek("op", "!="):
            op = self.tokens[self.index].group("op")
            self.index += 1
            other = self.unary()
            equal = str(value if value is not None else "") == str(other if other is not None else "")
            return equal if op == "==" else not equal
        return value

    def unary(self):
        if self._peek("op", "!"):
            self.index += 1
            return not self.unary()
        if self._peek("op", "("):
            self.index += 1
            value = self.either()
            self.index += 1
            return value
        token = self.tokens[self.index]
        self.index += 1
        if token.group("str") is not None:
            return token.group("str")[1:-1].replace("''", "'")
        if token.group("num") is not None:
            return int(token.group("num"))
        name = token.group("name")
        if name in ("true", "false"):
            return name == "true"
        if name.endswith("()"):
            return self.context["functions"][name[:-2]]()
        value: Any = self.context
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


def substitute(text: Any, context: dict) -> Any:
    """`${{ … }}` replaced in a string (a whole-string expression keeps its type)."""
    if not isinstance(text, str):
        return text
    whole = re.fullmatch(r"\$\{\{(.*?)\}\}", text.strip(), re.S)
    if whole:
        return evaluate(whole.group(1), context)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _text(evaluate(m.group(1), context)), text, flags=re.S)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# -- runs ---------------------------------------------------------------------------------

@dataclass
class StepRun:
    name: str
    outcome: str  # success, failure, skipped
    output: str = ""


@dataclass
class JobRun:
    job: str
    conclusion: str  # success, failure, skipped
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    environment: str = ""

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name}: {s.outcome}\n{s.output}" for s in self.steps)


@dataclass
class WorkflowRun:
    workflow: str
    jobs: dict[str, JobRun]
    concurrency_group: str | None
    started: float
    ended: float


class Groups:
    """Concurrency groups: one run at a time per group (GitHub queues the next)."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, group: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(group, threading.Lock())


@dataclass
class Harness:
    repository: Path  # the test's git repository (the "remote")
    repo_name: str  # OWNER/NAME
    base_env: dict[str, str]  # PATH, HOME, the emulator's endpoint, the provider mirror...
    github: Any  # the fake GitHub API (tests/github_fake.py)
    assume: Callable[[str, str], dict[str, str]]  # (role ARN, token) -> AWS_* credentials
    trust_of: Callable[[str], dict]  # role ARN -> its trust policy
    workdir: Path
    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    groups: Groups = field(default_factory=Groups)

    def run(self, workflow: str, event_name: str, payload: dict, sha: str, ref: str,
            environments: dict[str, str] | None = None) -> WorkflowRun:
        """Run `.github/workflows/<workflow>` at `sha` for one event.  `environments`: which
        jobs' GitHub environments exist, by name (else GitHub makes them on the fly)."""
        text = self._git("show", f"{sha}:.github/workflows/{workflow}")
        document = yaml.safe_load(text)
        triggers = document.get("on", document.get(True))
        if not self._triggered(triggers, event_name, payload, ref):
            raise AssertionError(f"{workflow} does not run on {event_name} ({ref})")
        # GitHub gives every run the secret GITHUB_TOKEN (the job's token).
        secrets = {"GITHUB_TOKEN": self.github.token, **self.secrets}
        base = {"github": self._github_context(event_name, payload, sha, ref), "secrets": secrets, "vars": self.vars,
                "env": {}, "functions": {}}
        concurrency = document.get("concurrency")
        group = None
        if concurrency is not None:
            group = str(substitute(concurrency["group"] if isinstance(concurrency, dict) else concurrency, base))
        lock = self.groups.lock(group) if group else threading.Lock()
        with lock:
            started = time.monotonic()
            jobs = self._jobs(workflow, document, base, event_name, payload, sha, ref)
            ended = time.monotonic()
        return WorkflowRun(workflow, jobs, group, started, ended)

    # -- the pieces --

    def _triggered(self, triggers, event_name: str, payload: dict, ref: str) -> bool:
        if isinstance(triggers, str):
            triggers = {triggers: None}
        elif isinstance(triggers, list):
            triggers = {t: None for t in triggers}
        if event_name not in triggers:
            return False
        spec = triggers[event_name] or {}
        branches = spec.get("branches") if isinstance(spec, dict) else None
        if not branches:
            return True
        branch = payload["pull_request"]["base"]["ref"] if event_name == "pull_request" else ref.removeprefix("refs/heads/")
        return any(fnmatch(branch, b) for b in branches)

    def _github_context(self, event_name: str, payload: dict, sha: str, ref: str) -> dict:
        return {"event_name": event_name, "event": payload, "sha": sha, "ref": ref, "repository": self.repo_name,
                "repository_owner": self.repo_name.split("/")[0], "token": self.github.token, "run_id": "4242",
                "server_url": "https://github.com", "api_url": self.github.url,
                "ref_name": ref.removeprefix("refs/heads/")}

    def _jobs(self, workflow: str, document: dict, base: dict, event_name: str, payload: dict, sha: str,
              ref: str) -> dict[str, JobRun]:
        done: dict[str, JobRun] = {}
        pending = dict(document["jobs"])
        while pending:
            ready = [j for j, spec in pending.items() if all(n in done for n in _needs(spec))]
            if not ready:
                raise AssertionError(f"{workflow}: jobs wait on each other: {list(pending)}")
            for job_id in ready:
                spec = pending.pop(job_id)
                needs = {n: {"outputs": done[n].outputs, "result": done[n].conclusion} for n in _needs(spec)}
                context = {**base, "needs": needs, "env": dict(_env(document.get("env"), base)),
                           "functions": {"success": lambda: all(done[n].conclusion == "success" for n in _needs(spec)),
                                         "failure": lambda: any(done[n].conclusion == "failure" for n in _needs(spec)),
                                         "always": lambda: True}}
                condition = str(spec.get("if", "success()"))
                if not re.search(r"\b(success|failure|always|cancelled)\(\)", condition):
                    condition = f"success() && ({condition.replace('${{', '').replace('}}', '')})"
                if not substitute(_wrapped(condition), context):
                    done[job_id] = JobRun(job_id, "skipped")
                    continue
                done[job_id] = self._job(job_id, spec, document, context, event_name, payload, sha, ref)
        return done

    def _job(self, job_id: str, spec: dict, document: dict, context: dict, event_name: str, payload: dict, sha: str,
             ref: str) -> JobRun:
        environment = spec.get("environment")
        if isinstance(environment, dict):
            environment = environment.get("name")
        environment = str(substitute(environment, context)) if environment else ""
        claims = self._claims(event_name, payload, sha, ref, environment)
        workspace = Path(tempfile.mkdtemp(prefix=f"{job_id}-", dir=self.workdir))
        self._clone(workspace, sha)
        runner_temp = Path(tempfile.mkdtemp(prefix="temp-", dir=self.workdir))
        event_path = runner_temp / "event.json"
        event_path.write_text(json.dumps(payload))
        token_url, token_request = self.github.id_token_request(claims)
        job_env = {**self.base_env, "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event_name,
                   "GITHUB_EVENT_PATH": str(event_path), "GITHUB_SHA": sha, "GITHUB_REF": ref,
                   "GITHUB_REF_NAME": ref.removeprefix("refs/heads/"), "GITHUB_REPOSITORY": self.repo_name,
                   "GITHUB_WORKSPACE": str(workspace), "GITHUB_RUN_ID": "4242", "GITHUB_JOB": job_id,
                   "GITHUB_WORKFLOW": document.get("name", ""), "GITHUB_SERVER_URL": "https://github.com",
                   "GITHUB_API_URL": self.github.url, "RUNNER_TEMP": str(runner_temp), "RUNNER_OS": "Linux"}
        if (document.get("permissions") or {}).get("id-token") == "write" or \
                (spec.get("permissions") or {}).get("id-token") == "write":
            job_env.update(ACTIONS_ID_TOKEN_REQUEST_URL=token_url, ACTIONS_ID_TOKEN_REQUEST_TOKEN=token_request)
        context = {**context, "env": {**context["env"], **_env(spec.get("env"), context)}, "steps": {}}
        run = JobRun(job_id, "success", environment=environment)
        added_env: dict[str, str] = {}
        summary_parts = []
        for index, step in enumerate(spec["steps"]):
            name = step.get("name") or step.get("uses") or f"step {index}"
            failed = run.conclusion == "failure"
            context["functions"] = {"success": lambda: not failed, "failure": lambda: failed, "always": lambda: True}
            condition = step.get("if", "success()")
            if not substitute(_wrapped(condition), context):
                run.steps.append(StepRun(name, "skipped"))
                continue
            step_env = {**context["env"], **added_env, **_env(step.get("env"), context)}
            outcome, output, outputs, more_env, summary = self._step(step, {**job_env, **step_env}, workspace,
                                                                   runner_temp, index, claims, context)
            added_env.update(more_env)
            summary_parts.append(summary)
            run.steps.append(StepRun(name, outcome, output))
            if step.get("id"):
                context["steps"][step["id"]] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
            if outcome == "failure" and not step.get("continue-on-error"):
                run.conclusion = "failure"
        run.summary = "".join(summary_parts)
        context["functions"] = {"success": lambda: run.conclusion == "success", "always": lambda: True,
                                "failure": lambda: run.conclusion == "failure"}
        run.outputs = {k: _text(substitute(v, context)) for k, v in (spec.get("outputs") or {}).items()}
        return run

    def _step(self, step: dict, env: dict[str, str], workspace: Path, runner_temp: Path, index: int, claims: dict,
              context: dict):
        """(outcome, output, outputs, env it adds, summary)."""
        uses = step.get("uses")
        if uses:
            if uses.startswith(CREDENTIALS_ACTION):
                given = {k: _text(substitute(v, context)) for k, v in (step.get("with") or {}).items()}
                return self._credentials(given, claims)
            if uses.startswith(NO_OP_ACTIONS):
                return "success", f"(harness: {uses} is the test machine's own set-up)", {}, {}, ""
            raise AssertionError(f"the harness does not know the action {uses}")
        files = {name: runner_temp / f"{name.lower()}-{index}" for name in ("GITHUB_OUTPUT", "GITHUB_ENV",
                                                                             "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.write_text("")
        script = runner_temp / f"step-{index}.sh"
        script.write_text(step["run"])
        cwd = workspace / step["working-directory"] if step.get("working-directory") else workspace
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd,
                              env={**env, **{k: str(v) for k, v in files.items()}}, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        return ("success" if proc.returncode == 0 else "failure", proc.stdout + proc.stderr,
                _key_values(files["GITHUB_OUTPUT"].read_text()), _key_values(files["GITHUB_ENV"].read_text()),
                files["GITHUB_STEP_SUMMARY"].read_text())

    def _credentials(self, given: dict[str, str], claims: dict):
        role = given.get("role-to-assume", "")
        audience = given.get("audience", "sts.amazonaws.com")
        claims = {**claims, "aud": audience}
        trust = self.trust_of(role)
        if not trust_allows(trust, "token.actions.githubusercontent.com", claims):
            return ("failure", f"Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity "
                               f"(harness: the trust of {role} does not allow sub {claims['sub']})", {}, {}, "")
        keys = self.assume(role, token_of(claims))
        region = given.get("aws-region", "")
        return "success", f"assumed {role} as {claims['sub']}", {}, {**keys, "AWS_REGION": region,
                                                                      "AWS_DEFAULT_REGION": region}, ""

    def _claims(self, event_name: str, payload: dict, sha: str, ref: str, environment: str) -> dict:
        """The claims of the job's OIDC token (GitHub's default subject template)."""
        if environment:
            subject = f"repo:{self.repo_name}:environment:{environment}"
        elif event_name == "pull_request":
            subject = f"repo:{self.repo_name}:pull_request"
        else:
            subject = f"repo:{self.repo_name}:ref:{ref}"
        claims = {"iss": "https://token.actions.githubusercontent.com", "sub": subject, "aud": "sts.amazonaws.com",
                  "repository": self.repo_name, "ref": ref, "sha": sha, "event_name": event_name,
                  "repository_owner": self.repo_name.split("/")[0]}
        if environment:
            claims["environment"] = environment
        return claims

    def _clone(self, workspace: Path, sha: str) -> None:
        subprocess.run(["git", "clone", "-q", str(self.repository), str(workspace)], check=True, capture_output=True)
        subprocess.run(["git", "checkout", "-q", sha], cwd=workspace, check=True, capture_output=True)

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.repository, check=True, capture_output=True, text=True).stdout


def _needs(spec: dict) -> list[str]:
    needs = spec.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def _env(block: dict | None, context: dict) -> dict[str, str]:
    return {k: _text(substitute(v, context)) for k, v in (block or {}).items()}


def _wrapped(condition: Any) -> Any:
    """An `if:` may leave out `${{ }}`."""
    if isinstance(condition, bool):
        return condition
    text = str(condition).strip()
    return text if text.startswith("${{") else f"${{{{ {text} }}}}"


def _key_values(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV lines: `name=value`, or `name<<DELIM` … `DELIM`."""
    values, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            name, delimiter = line.split("<<", 1)
            body = []
            for more in lines:
                if more == delimiter:
                    break
                body.append(more)
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def environ_for_jobs(emulator_env: dict[str, str], home: Path) -> dict[str, str]:
    """A runner's base environment: the test Python first on PATH (awsenvs installed), a
    HOME of its own, the emulator's endpoint, the provider mirror; no AWS keys (the
    credential step adds them)."""
    venv_bin = str(Path(os.sys.executable).parent)
    keep = ("TF_PROVIDER_MIRROR", "TF_CLI_CONFIG_FILE", "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "JSII_RUNTIME_PACKAGE_CACHE_ROOT", "PYTHONPATH")
    env = {k: v for k, v in emulator_env.items() if k in keep}
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    env.update(PATH=f"{venv_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", HOME=str(home), PIP_NO_INDEX="1",
               AWS_CONFIG_FILE=str(home / ".aws" / "config"), AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
               PIP_DISABLE_PIP_VERSION_CHECK="1", LANG="C.UTF-8")
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env
