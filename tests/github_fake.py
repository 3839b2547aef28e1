"""An in-memory GitHub for the tests (no GitHub is reachable here): the REST API endpoints
awsenvs' client calls, and the runner's OIDC id-token endpoint, on 127.0.0.1 at a free port.

    with FakeGitHub("acme/infra") as github:
        github.pull_request(7)
        environ = github.environ(event_name="pull_request", event_path=...)
        ...
        assert github.calls("PATCH") == [...]

Every request is recorded (method, path, query, JSON body, Authorization) for the tests to
assert on ("one comment, edited twice").  Answers follow GitHub's documented shapes
(https://docs.github.com/en/rest/issues, .../deployments/environments), as far as the client
reads them; a wrong token is 401, an unknown path 404, `fail()` makes the next matching call
answer an error as GitHub words it.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT = {"login": "github-actions[bot]", "type": "Bot"}
PERSON = {"login": "octocat", "type": "User"}


def make_jwt(claims: dict[str, Any]) -> str:
    """A JWT as GitHub's token service shapes it: header.payload.signature, base64url without
    padding (the signature is not a real one: nothing here verifies it)."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"typ": "JWT", "alg": "RS256", "kid": "fake"}
    return ".".join([part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(b"not-signed")])


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


@dataclass
class _Failure:
    method: str
    path: str  # a prefix of the path
    status: int
    message: str
    times: int = 1


@dataclass
class FakeGitHub:
    repository: str = "acme/infra"
    token: str = "ghs_fake_job_token"
    id_request_token: str = "fake-id-token-request-token"
    claims: dict[str, Any] = field(default_factory=dict)  # the id token's payload (audience added per request)
    requests: list[Request] = field(default_factory=list)
    issues: dict[int, dict] = field(default_factory=dict)  # issues and pull requests share numbers, as on GitHub
    comments: dict[int, dict] = field(default_factory=dict)  # comment id -> comment (its issue's number in "issue")
    environments: dict[str, dict] = field(default_factory=dict)
    # Per job (tests/ci_harness.py): its token request's bearer -> the claims of its OIDC token.
    job_tokens: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ set-up by a test

    def __enter__(self) -> "FakeGitHub":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet test output
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, answer = fake._answer(self.command, self.path, raw, self.headers.get("Authorization"))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "use FakeGitHub as a context manager"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environ(self, event_name: str = "schedule", event_path: str | None = None, **more: str) -> dict[str, str]:
        """GitHub's default environment variables of a job of this repository, pointing here."""
        environ = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": self.repository, "GITHUB_EVENT_NAME": event_name,
                   "GITHUB_API_URL": self.url, "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "4242",
                   "GITHUB_SHA": "0" * 40, "GITHUB_REF": "refs/heads/main", "GITHUB_TOKEN": self.token,
                   "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/_apis/id-token?api-version=2.0",
                   "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.id_request_token}
        if event_path:
            environ["GITHUB_EVENT_PATH"] = event_path
        return {**environ, **more}

    def id_token_request(self, claims: dict[str, Any]) -> tuple[str, str]:
        """A job's ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, whose token has these claims."""
        bearer = f"job-{len(self.job_tokens) + 1}-{id(claims)}"
        with self._lock:
            self.job_tokens[bearer] = dict(claims)
        return f"{self.url}/_apis/id-token?api-version=2.0", bearer

    def open_issues(self, label: str) -> list[dict]:
        return [i for i in self.issues.values()
                if i["state"] == "open" and label in {l["name"] for l in i.get("labels", [])}]

    def pull_request(self, number: int | None = None, title: str = "a change") -> int:
        with self._lock:
            number = number or next(self._numbers)
            self.issues[number] = {"number": number, "title": title, "body": "", "state": "open", "labels": [],
                                   "user": PERSON, "pull_request": {"url": f"/pulls/{number}"}}
            return number

    def comment(self, number: int, body: str, user: dict = PERSON) -> int:
        """A comment made by someone else (a person, by default)."""
        with self._lock:
            return self._add_comment(number, body, user)["id"]

    def environment(self, name: str, reviewers: int = 0) -> None:
        """A GitHub environment; `reviewers`: people its required_reviewers rule names."""
        rules = [{"id": 1, "type": "required_reviewers",
                  "reviewers": [{"type": "User", "reviewer": {"login": f"reviewer{i}"}} for i in range(reviewers)]}]
        self.environments[name] = {"name": name, "protection_rules": rules if reviewers else []}

    def fail(self, method: str, path: str, status: int, message: str, times: int = 1) -> None:
        """The next `times` calls of `method` on a path starting with `path` answer `status`."""
        self._failures.append(_Failure(method, path, status, message, times))

    def calls(self, method: str | None = None, path: str = "") -> list[Request]:
        return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(path)]

    def comments_on(self, number: int) -> list[dict]:
        return [c for c in self.comments.values() if c["issue"] == number]

    # ------------------------------------------------------------------ the API

    def _answer(self, method: str, target: str, raw: bytes, authorization: str | None) -> tuple[int, Any]:
        parts = urllib.parse.urlsplit(target)
        path, query = parts.path, dict(urllib.parse.parse_qsl(parts.query))
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return 400, {"message": "Problems parsing JSON"}
        with self._lock:
            self.requests.append(Request(method, path, query, body, authorization))
            for failure in self._failures:
                if failure.method == method and path.startswith(failure.path) and failure.times > 0:
                    failure.times -= 1
                    return failure.status, {"message": failure.message,
                                            "documentation_url": "https://docs.github.com/rest"}
            if path == "/_apis/id-token":
                bearer = (authorization or "").removeprefix("Bearer ")
                if bearer != self.id_request_token and bearer not in self.job_tokens:
                    return 401, {"message": "Bad credentials"}
                claims = {**self.job_tokens.get(bearer, self.claims),
                          "aud": query.get("audience", "https://github.com/" + self.repository.split("/")[0])}
                return 200, {"count": 1, "value": make_jwt(claims)}
            if authorization != f"Bearer {self.token}":
                return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            prefix = f"/repos/{self.repository}"
            if not path.startswith(prefix + "/"):
                return 404, {"message": "Not Found"}
            return self._route(method, path[len(prefix):].strip("/").split("/"), query, body)

    def _route(self, method: str, parts: list[str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        match (method, parts):
            case ("GET", ["issues", number, "comments"]) if number.isdigit():
                if int(number) not in self.issues:
                    return 404, {"message": "Not Found"}
                return 200, _page([self._public(c) for c in self.comments_on(int(number))], query)
            case ("POST", ["issues", number, "comments"]) if number.isdigit():
                if int(number) not in self.issues:
                    return 404, {"message": "Not Found"}
                if not isinstance(body, dict) or not isinstance(body.get("body"), str):
                    return 422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "missing_field"}]}
                if len(body["body"]) > 65536:
                    return 422, {"message": "Validation Failed",
                                 "errors": [{"message": "Body is too long (maximum is 65536 characters)"}]}
                return 201, self._public(self._add_comment(int(number), body["body"], BOT))
            case ("PATCH", ["issues", "comments", comment_id]) if comment_id.isdigit():
                comment = self.comments.get(int(comment_id))
                if comment is None:
                    return 404, {"message": "Not Found"}
                if comment["user"] != BOT:
                    return 403, {"message": "Resource not accessible by integration"}
                comment["body"] = body["body"]
                return 200, self._public(comment)
            case ("GET", ["issues"]):
                labels = set(filter(None, query.get("labels", "").split(",")))
                state = query.get("state", "open")
                found = [i for i in sorted(self.issues.values(), key=lambda i: i["number"])
                         if (state == "all" or i["state"] == state) and labels <= {l["name"] for l in i["labels"]}]
                return 200, _page(found, query)
            case ("POST", ["issues"]):
                if not body.get("title"):
                    return 422, {"message": "Validation Failed", "errors": [{"field": "title", "code": "missing_field"}]}
                number = next(self._numbers)
                while number in self.issues:
                    number = next(self._numbers)
                self.issues[number] = {"number": number, "title": body["title"], "body": body.get("body", ""),
                                       "state": "open", "labels": [{"name": n} for n in body.get("labels", [])],
                                       "user": BOT, "html_url": f"https://github.example/{self.repository}/issues/{number}"}
                return 201, self.issues[number]
            case ("PATCH", ["issues", number]) if number.isdigit():
                issue = self.issues.get(int(number))
                if issue is None:
                    return 404, {"message": "Not Found"}
                issue.update({k: body[k] for k in ("title", "body", "state", "state_reason") if k in body})
                return 200, issue
            case ("GET", ["environments", name]):
                environment = self.environments.get(urllib.parse.unquote(name))
                return (200, environment) if environment else (404, {"message": "Not Found"})
        return 404, {"message": "Not Found"}

    def _add_comment(self, number: int, body: str, user: dict) -> dict:
        comment = {"id": next(self._ids), "issue": number, "body": body, "user": user,
                   "html_url": f"https://github.example/{self.repository}/issues/{number}#issuecomment"}
        self.comments[comment["id"]] = comment
        return comment

    @staticmethod
    def _public(comment: dict) -> dict:
        return {k: v for k, v in comment.items() if k != "issue"}


def _page(items: list, query: dict[str, str]) -> list:
    """One page of a list, as GitHub pages (per_page at most 100, page from 1)."""
    per_page = min(int(query.get("per_page", 30)), 100)
    page = int(query.get("page", 1))
    return items[(page - 1) * per_page: page * per_page]
