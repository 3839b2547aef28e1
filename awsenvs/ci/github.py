"""GitHub's side of a job: its environment variables, the event that started it, and the
REST API with the job's token (urllib: no client library for a handful of calls).

Everything here reads what GitHub gives every job (its default environment variables:
https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/store-information-in-variables#default-environment-variables)
and answers in one line when a call fails: the call, GitHub's status and message.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from awsenvs.errors import AwsenvsError, BadInput, shorten

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
API_VERSION = "2022-11-28"  # https://docs.github.com/en/rest/about-the-rest-api/api-versions
# An issue's or comment's body may hold at most this many characters (GitHub answers 422 past it).
BODY_LIMIT = 65536
PAGE_SIZE = 100  # GitHub's largest page of a list
TIMEOUT = 30  # seconds per call
MESSAGE_SHOWN = 300  # characters of GitHub's error message on the error line


class GitHubError(AwsenvsError):
    """A GitHub API call failed: the call, the status, GitHub's message (one line)."""


@dataclass(frozen=True)
class Job:
    """The GitHub Actions job this process runs in, from its environment variables."""

    repository: str  # OWNER/NAME
    event_name: str = ""
    event: Mapping[str, Any] = field(default_factory=dict)  # the webhook payload at GITHUB_EVENT_PATH
    sha: str = ""
    ref: str = ""
    api_url: str = DEFAULT_API_URL
    server_url: str = DEFAULT_SERVER_URL
    run_id: str = ""
    output_path: Path | None = None  # GITHUB_OUTPUT
    summary_path: Path | None = None  # GITHUB_STEP_SUMMARY
    token: str | None = field(default=None, repr=False)  # GITHUB_TOKEN
    id_token_url: str | None = None  # ACTIONS_ID_TOKEN_REQUEST_URL (with `permissions: id-token: write`)
    id_token_request_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], command: str = "this command") -> "Job":
        """The job, or bad input outside a GitHub Actions job (these commands need its event,
        its token and its files)."""
        repository = environ.get("GITHUB_REPOSITORY", "")
        if not repository:
            why = "GITHUB_REPOSITORY is not set" if environ.get("GITHUB_ACTIONS") else \
                "not in a GitHub Actions job (GITHUB_ACTIONS and GITHUB_REPOSITORY are not set)"
            raise BadInput(f"{why}: `{command}` runs in the workflows `awsenvs ci github` writes; "
                           "on a laptop use `plan`, `apply` and `audit`")
        event: Mapping[str, Any] = {}
        event_path = environ.get("GITHUB_EVENT_PATH")
        if event_path:
            try:
                event = json.loads(Path(event_path).read_text())
            except OSError as exc:
                raise BadInput(f"GITHUB_EVENT_PATH {event_path}: cannot be read ({exc.strerror or exc})") from None
            except json.JSONDecodeError as exc:
                raise BadInput(f"GITHUB_EVENT_PATH {event_path}: not JSON ({exc.msg}, line {exc.lineno})") from None
            if not isinstance(event, dict):
                raise BadInput(f"GITHUB_EVENT_PATH {event_path}: not a JSON object (GitHub's event payload)")

        def path(name: str) -> Path | None:
            return Path(environ[name]) if environ.get(name) else None

        return cls(repository=repository, event_name=environ.get("GITHUB_EVENT_NAME", ""), event=event,
                   sha=environ.get("GITHUB_SHA", ""), ref=environ.get("GITHUB_REF", ""),
                   api_url=(environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
                   server_url=(environ.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
                   run_id=environ.get("GITHUB_RUN_ID", ""), output_path=path("GITHUB_OUTPUT"),
                   summary_path=path("GITHUB_STEP_SUMMARY"), token=environ.get("GITHUB_TOKEN") or None,
                   id_token_url=environ.get("ACTIONS_ID_TOKEN_REQUEST_URL") or None,
                   id_token_request_token=environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN") or None)

    # ------------------------------------------------------------------ the job's files

    @property
    def run_url(self) -> str | None:
        """The page of this workflow run (its job summaries), None without GITHUB_RUN_ID."""
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}" if self.run_id else None

    def write_summary(self, markdown: str) -> bool:
        """Append `markdown` to the job summary (GITHUB_STEP_SUMMARY); False without one."""
        if self.summary_path is None:
            return False
        with self.summary_path.open("a", encoding="utf-8") as summary:
            summary.write(markdown if markdown.endswith("\n") else markdown + "\n")
        return True

    def set_output(self, name: str, value: str) -> bool:
        """A step output (`name=value` in GITHUB_OUTPUT; a value of several lines between
        delimiters, as GitHub reads them); False without GITHUB_OUTPUT."""
        if self.output_path is None:
            return False
        if "\n" in value:
            delimiter = f"awsenvs_{uuid.uuid4().hex}"
            line = f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
        else:
            line = f"{name}={value}\n"
        with self.output_path.open("a", encoding="utf-8") as output:
            output.write(line)
        return True

    @property
    def pull_request_number(self) -> int | None:
        """The pull request of a pull_request event (None for any other event)."""
        pull_request = self.event.get("pull_request")
        if isinstance(pull_request, Mapping) and isinstance(pull_request.get("number"), int):
            return pull_request["number"]
        return None

    @property
    def from_fork(self) -> bool:
        """A pull request whose head is another repository (a fork): its token is read-only."""
        pull_request = self.event.get("pull_request")
        if not isinstance(pull_request, Mapping):
            return False
        head_repo = (pull_request.get("head") or {}).get("repo") or {}
        return bool(head_repo.get("fork")) or head_repo.get("full_name", self.repository) != self.repository

    # ------------------------------------------------------------------ the REST API

    def upsert_comment(self, number: int, marker: str, body: str) -> tuple[str, dict]:
        """One comment of this bot per pull request: the one starting with `marker` is edited
        in place, else one is posted (`body` must start with `marker`).  Returns ("updated" | "created", the comment)."""
        body = fit_body(body, self.run_url)
        comments = self._list(f"/repos/{self.repository}/issues/{number}/comments",
                              f"list the comments of #{number}")
        # Ours starts with the marker (a person quoting it does not); with several, the bot's first
        # (the job's token is the bot's: it may edit no one else's comment).
        ours = [c for c in comments if (c.get("body") or "").lstrip().startswith(marker)]
        ours = sorted(ours, key=lambda c: (c.get("user") or {}).get("type") != "Bot")
        if ours:
            comment = self._call("PATCH", f"/repos/{self.repository}/issues/comments/{ours[0]['id']}",
                                 f"edit comment {ours[0]['id']} of #{number}", {"body": body})
            return "updated", comment
        return "created", self._call("POST", f"/repos/{self.repository}/issues/{number}/comments",
                                     f"comment on #{number}", {"body": body})

    def open_issue(self, label: str) -> dict | None:
        """The open issue (not a pull request) with `label`, the oldest if several."""
        issues = self._list(f"/repos/{self.repository}/issues", f"list the open issues labelled {label}",
                            {"labels": label, "state": "open", "sort": "created", "direction": "asc"})
        return next((i for i in issues if "pull_request" not in i), None)

    def upsert_issue(self, label: str, title: str, body: str) -> tuple[str, dict]:
        """One open issue with `label`: its title and body replaced, else it is opened with
        the label.  Returns ("updated" | "created", the issue)."""
        body = fit_body(body, self.run_url)
        issue = self.open_issue(label)
        if issue is not None:
            return "updated", self._call("PATCH", f"/repos/{self.repository}/issues/{issue['number']}",
                                         f"update issue #{issue['number']}", {"title": title, "body": body})
        return "created", self._call("POST", f"/repos/{self.repository}/issues", f"open an issue labelled {label}",
                                     {"title": title, "body": body, "labels": [label]})

    def close_issue(self, label: str, comment: str) -> dict | None:
        """Close the open issue with `label`, saying why in a comment; None when none is open."""
        issue = self.open_issue(label)
        if issue is None:
            return None
        number = issue["number"]
        self._call("POST", f"/repos/{self.repository}/issues/{number}/comments", f"comment on #{number}",
                   {"body": fit_body(comment, self.run_url)})
        return self._call("PATCH", f"/repos/{self.repository}/issues/{number}", f"close issue #{number}",
                          {"state": "closed", "state_reason": "completed"})

    def environment_reviewers(self, name: str) -> int | None:
        """How many reviewers the GitHub environment `name` requires (its required_reviewers
        protection rule; 0 without one), None when the repository has no such environment
        (https://docs.github.com/en/rest/deployments/environments#get-an-environment)."""
        path = f"/repos/{self.repository}/environments/{urllib.parse.quote(name, safe='')}"
        environment = self._call("GET", path, f"read environment {name}", missing_ok=True)
        if environment is None:
            return None
        rules = environment.get("protection_rules") or []
        return sum(len(rule.get("reviewers") or []) for rule in rules if rule.get("type") == "required_reviewers")

    def id_token_claims(self, audience: str) -> dict:
        """The claims of this job's OIDC token for `audience` (`environment`: the GitHub
        environment the job runs in).  Not verified: the runner itself hands it over
        (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect)."""
        if not self.id_token_url or not self.id_token_request_token:
            raise BadInput("ACTIONS_ID_TOKEN_REQUEST_URL is not set: the job needs `permissions: id-token: write` "
                           "(the workflows `awsenvs ci github` writes have it)")
        separator = "&" if "?" in self.id_token_url else "?"
        url = f"{self.id_token_url}{separator}audience={urllib.parse.quote(audience, safe='')}"
        answer = _send(urllib.request.Request(url, headers={"Authorization": f"Bearer {self.id_token_request_token}",
                                                            "Accept": "application/json", "User-Agent": "awsenvs"}),
                       "get the job's OIDC token", self.from_fork, missing_ok=False)
        token = (answer or {}).get("value")
        if not isinstance(token, str):
            raise GitHubError("get the job's OIDC token: the answer holds no token (`value`)")
        return jwt_claims(token)

    def _list(self, path: str, call: str, query: Mapping[str, str] | None = None) -> list[dict]:
        """Every item of a list call, page after page."""
        items: list[dict] = []
        page = 1
        while True:
            answer = self._call("GET", path, call, query={**(query or {}), "per_page": str(PAGE_SIZE), "page": str(page)})
            if not isinstance(answer, list):
                raise GitHubError(f"{call}: GitHub answered something other than a list")
            items += answer
            if len(answer) < PAGE_SIZE:
                return items
            page += 1

    def _call(self, method: str, path: str, call: str, body: Mapping | None = None, *,
              query: Mapping[str, str] | None = None, missing_ok: bool = False) -> Any:
        if not self.token:
            raise BadInput(f"GITHUB_TOKEN is not set (needed to {call}): give the step "
                           "`env: GITHUB_TOKEN: ${{ github.token }}`, as the workflows `awsenvs ci github` writes do")
        url = self.api_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        request = urllib.request.Request(
            url, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": API_VERSION, "User-Agent": "awsenvs",
                     **({"Content-Type": "application/json"} if body is not None else {})})
        return _send(request, call, self.from_fork, missing_ok)


def _send(request: urllib.request.Request, call: str, from_fork: bool, missing_ok: bool) -> Any:
    """The call's JSON answer (None: 404 and `missing_ok`), or a GitHubError line."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            text = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        if exc.code == 404 and missing_ok:
            return None
        raise GitHubError(_http_error_line(call, exc.code, exc.read().decode("utf-8", "replace"), from_fork)) from None
    except urllib.error.URLError as exc:
        host = urllib.parse.urlsplit(request.full_url).netloc
        raise GitHubError(f"GitHub API: {call}: {host} cannot be reached ({exc.reason})") from None
    except (TimeoutError, OSError) as exc:
        raise GitHubError(f"GitHub API: {call}: no answer ({exc})") from None
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise GitHubError(f"GitHub API: {call}: the answer is not JSON ({shorten(text, 120)})") from None


def _http_error_line(call: str, status: int, text: str, from_fork: bool) -> str:
    try:
        answer = json.loads(text)
        message = answer.get("message", "") if isinstance(answer, dict) else ""
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if isinstance(errors, list):  # 422: what was wrong with which field
            details = [e.get("message") or f"{e.get('field')} {e.get('code')}" for e in errors if isinstance(e, dict)]
            message = "; ".join(filter(None, [message, *details]))
    except json.JSONDecodeError:
        message = text
    line = f"GitHub API: {call}: {status} {shorten(message, MESSAGE_SHOWN) or '(no message)'}"
    if status == 403 and from_fork:
        line += ("; this pull request comes from a fork, whose jobs get a read-only GITHUB_TOKEN: awsenvs cannot "
                 "comment there (the plan is in the job summary)")
    elif status in (401, 403):
        line += "; the workflow's `permissions:` must grant what this call needs (`awsenvs ci github` writes them)"
    return line


def jwt_claims(token: str) -> dict:
    """A JWT's payload (its claims), decoded without checking its signature."""
    parts = token.split(".")
    if len(parts) != 3:
        raise GitHubError("the job's OIDC token is not a JWT (header.payload.signature)")
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, json.JSONDecodeError):
        raise GitHubError("the job's OIDC token's payload is not base64url JSON") from None
    if not isinstance(claims, dict):
        raise GitHubError("the job's OIDC token's payload is not a JSON object")
    return claims


def fit_body(body: str, run_url: str | None, limit: int = BODY_LIMIT) -> str:
    """`body` within GitHub's limit: past it, cut at a line, with what was left open (a code
    block, `<details>`) closed and a note pointing at the run's job summary, which keeps it all."""
    if len(body) <= limit:
        return body
    where = f"the job summary of [this run]({run_url})" if run_url else "the job summary of this run"
    note = (f"\n\n**Cut here:** the full text is longer than GitHub's limit of {limit} characters for a comment or "
            f"an issue; it is in {where}.\n")
    room = limit - len(note)
    while True:
        kept = body[:room]
        kept = kept[: kept.rfind("\n")] if "\n" in kept else kept
        fence = _open_fence(kept)
        closing = f"\n{fence}" if fence else ""
        closing += "\n\n</details>" * max(0, kept.count("<details>") - kept.count("</details>"))
        if len(kept) + len(closing) + len(note) <= limit:
            return kept + closing + note
        room -= len(closing)  # room for what closes it


def _open_fence(text: str) -> str | None:
    """The fence of a code block `text` leaves open (```` ``` ```` or longer), else None."""
    fence = None
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None:
            if stripped.startswith("```"):
                fence = "`" * (len(stripped) - len(stripped.lstrip("`")))
        elif stripped.startswith(fence) and not stripped.strip("`"):
            fence = None
    return fence


def environ_job(command: str) -> Job:
    """The job this process runs in (os.environ)."""
    return Job.from_environ(os.environ, command)
