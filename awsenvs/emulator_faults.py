"""Fault injection for the local AWS emulator (awsenvs/moto_server.py): throttling, server
errors and lost responses on chosen AWS calls, on a seeded schedule, so that the tests can
put awsenvs, boto3 and the Terraform provider in the states a real network and a busy AWS
produce (issue 33: "a way forward from every state").

WSGI middleware in front of moto's app.  A rule selects calls and says what happens to them:

    {"service": "iam", "action": "CreateUser", "fault": "lost", "times": 1}

- `service`: the SigV4 signing name of the request's credential scope (`organizations`,
  `iam`, `sts`, `s3`, `account`, `sso`, `identitystore`, `budgets`, ...); default `*`.
- `action`: the operation.  JSON protocols (Organizations, SSO Admin, Budgets, Identity
  Store): the name after the dot of `X-Amz-Target`; query protocols (IAM, STS): the `Action`
  parameter, from the form body or the query string; REST protocols (S3, Account
  Management): `METHOD /path` as sent, e.g. `POST /putAccountName` or
  `PUT /acme-tfstate/shop-dev.tfstate`, which names the operation and its resource.
  Both are shell-style patterns (`fnmatch`: `*`, `?`, `[...]`); default `*`.
- `fault`: `throttle`: the protocol's own throttling error, retried as throttling by
  botocore and the Go SDK (the provider): HTTP 400 `ThrottlingException` (JSON, REST-JSON)
  or `Throttling` (query), and S3's HTTP 503 `SlowDown`;  `5xx`: HTTP `status` 500
  (default; `InternalFailure`, S3 `InternalError`) or 503 (`ServiceUnavailable`), which
  both SDKs retry.  Neither performs the call.  `lost`: moto performs the call, then the
  connection is closed before a byte of the answer is sent: the client reads EOF, as when a
  response is lost on the network, and learns nothing of what happened.
- how often: every matching call after the first `skip` (default 0), each with
  `probability` (default 1), at most `times` in all (default: no limit).  The draws of rule
  number i (from 0) come from `random.Random(f"{seed}:{i}")`: the same seed and the same
  order of matching calls give the same faults, whatever the other rules meet.

A call is counted by the first rule it matches, and only by it: put narrow rules first.
Only AWS requests (signed with SigV4) meet faults; moto's own /moto-api/ never does.

The rules are set at start from AWSENVS_EMULATOR_FAULTS, JSON `{"seed": 0, "rules": [...]}`
(or a bare list of rules), and at run time through the control endpoint `/_awsenvs/faults`:
POST the same JSON to replace them, GET what each rule did (`matched` calls, `injected`
faults, the `actions` it faulted, in order), DELETE to clear them; each answers with that
report.  No S3 bucket name can start with `_` and no AWS REST path does, and only an
unsigned request reaches the endpoint: it is never taken for an AWS call.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import random
import re
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from http import HTTPStatus
from urllib.parse import parse_qs

FAULTS_ENV = "AWSENVS_EMULATOR_FAULTS"
CONTROL_PATH = "/_awsenvs/faults"
INSTANCE_ENV = "AWSENVS_EMULATOR_INSTANCE"  # set by sandbox.Emulator, answered by the control path
FAULTS = ("throttle", "5xx", "lost")
SERVER_ERROR_STATUSES = (500, 503)

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Call:
    """What an AWS request is: its service (signing name), its action and its protocol
    (`json`, `query`, `rest-json` or `rest-xml`), which decides the error's format."""

    service: str
    action: str
    protocol: str


def identify(environ: dict) -> Call | None:
    """The AWS call of a WSGI request, or None when it is not one (unsigned).  A form body
    is read to find its `Action`, and put back for moto."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")) or \
        _CREDENTIAL_SCOPE.search("Credential=" + query.get("X-Amz-Credential", [""])[0])  # presigned URLs
    if scope is None:
        return None
    service = scope.group(1)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return Call(service, target.rpartition(".")[2], "json")
    action = query.get("Action", [""])[0]
    if not action and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(_read_body(environ).decode("utf-8", "replace")).get("Action", [""])[0]
    if action:
        return Call(service, action, "query")
    # S3 is the one REST-XML service the project calls; Account Management is REST-JSON.
    return Call(service, f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '/')}",
                "rest-xml" if service == "s3" else "rest-json")


def _read_body(environ: dict) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked: read to its end
        body = stream.read()
    else:
        body = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


@dataclass
class Rule:
    """Which calls meet which fault, and how often (see the module doc)."""

    fault: str
    service: str = "*"
    action: str = "*"
    times: int | None = None
    probability: float = 1.0
    skip: int = 0
    status: int = 500

    @classmethod
    def parse(cls, data: dict) -> "Rule":
        """A rule from its JSON object; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError(f"a rule is a JSON object, not {data!r}")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown rule field(s) {', '.join(sorted(unknown))}")
        if "fault" not in data:
            raise ValueError(f"a rule names its fault: one of {', '.join(FAULTS)}")
        rule = cls(**data)
        if rule.fault not in FAULTS:
            raise ValueError(f"fault {rule.fault!r}: one of {', '.join(FAULTS)}")
        if not isinstance(rule.service, str) or not isinstance(rule.action, str):
            raise ValueError("service and action are patterns (strings)")
        if rule.times is not None and not (_whole(rule.times) and rule.times >= 1):
            raise ValueError(f"times {rule.times!r}: a whole number from 1")
        if not (_whole(rule.skip) and rule.skip >= 0):
            raise ValueError(f"skip {rule.skip!r}: a whole number from 0")
        if isinstance(rule.probability, bool) or not isinstance(rule.probability, (int, float)) \
                or not 0 < rule.probability <= 1:
            raise ValueError(f"probability {rule.probability!r}: above 0, at most 1")
        if rule.status not in SERVER_ERROR_STATUSES:
            raise ValueError(f"status {rule.status!r}: one of {', '.join(map(str, SERVER_ERROR_STATUSES))} (5xx)")
        return rule

    def selects(self, call: Call) -> bool:
        return fnmatch.fnmatchcase(call.service, self.service) and fnmatch.fnmatchcase(call.action, self.action)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class _Progress:
    """What one rule met so far, and its own random draws."""

    draws: random.Random
    matched: int = 0
    actions: list[str] = field(default_factory=list)


class Schedule:
    """The rules in force and what each did; thread-safe (the server runs a thread per request)."""

    def __init__(self, rules: Iterable[Rule] = (), seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.replace(list(rules), seed)

    @classmethod
    def parse(cls, document) -> tuple[list[Rule], int]:
        """(rules, seed) from `{"seed": N, "rules": [...]}` or a bare list of rules."""
        if isinstance(document, list):
            document = {"rules": document}
        if not isinstance(document, dict) or set(document) - {"seed", "rules"}:
            raise ValueError('expected {"seed": N, "rules": [...]} or a list of rules')
        seed = document.get("seed", 0)
        if not _whole(seed):
            raise ValueError(f"seed {seed!r}: a whole number")
        rules = document.get("rules", [])
        if not isinstance(rules, list):
            raise ValueError("rules: a list")
        return [Rule.parse(r) for r in rules], seed

    @classmethod
    def from_environment(cls) -> "Schedule":
        text = os.environ.get(FAULTS_ENV, "").strip()
        return cls(*cls.parse(json.loads(text))) if text else cls()

    def replace(self, rules: list[Rule], seed: int) -> None:
        with self._lock:
            self.seed = seed
            self.rules = rules
            self._progress = [_Progress(random.Random(f"{seed}:{i}")) for i in range(len(rules))]

    def decide(self, call: Call) -> Rule | None:
        """The rule whose fault this call meets, or None; counts the call."""
        with self._lock:
            for rule, progress in zip(self.rules, self._progress):
                if not rule.selects(call):
                    continue
                progress.matched += 1
                draw = progress.draws.random()  # one per matching call: the schedule depends on their order only
                due = progress.matched > rule.skip and (rule.times is None or len(progress.actions) < rule.times)
                if not due or draw >= rule.probability:
                    return None  # the call is this rule's: no later rule sees it
                progress.actions.append(call.action)
                return rule
            return None

    def report(self) -> dict:
        with self._lock:
            return {"seed": self.seed, "rules": [
                {**asdict(rule), "matched": progress.matched, "injected": len(progress.actions),
                 "actions": list(progress.actions)}
                for rule, progress in zip(self.rules, self._progress)]}

    @property
    def active(self) -> bool:
        return bool(self.rules)


class FaultInjection:
    """WSGI middleware: AWS calls meet the schedule's faults; the control endpoint sets it."""

    def __init__(self, app, schedule: Schedule) -> None:
        self.app = app
        self.schedule = schedule

    def __call__(self, environ: dict, start_response):
        if environ.get("PATH_INFO") == CONTROL_PATH and "HTTP_AUTHORIZATION" not in environ:
            return self._control(environ, start_response)
        call = identify(environ) if self.schedule.active else None
        rule = self.schedule.decide(call) if call else None
        if rule is None:
            return self.app(environ, start_response)
        if rule.fault == "lost":
            return self._lose_response(environ)
        return _error_response(call, rule, start_response)

    def _lose_response(self, environ: dict):
        """moto performs the call; its answer is dropped and the connection shut before any
        of it is sent.  werkzeug takes the ConnectionError as a client gone, and logs nothing."""
        answer = self.app(environ, lambda status, headers, exc_info=None: lambda data: None)
        try:
            for _ in answer:
                pass
        finally:
            if hasattr(answer, "close"):
                answer.close()
        environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("awsenvs fault injection: the response is lost")

    def _control(self, environ: dict, start_response):
        method = environ["REQUEST_METHOD"]
        try:
            if method == "POST":
                self.schedule.replace(*Schedule.parse(json.loads(_read_body(environ) or b"{}")))
            elif method == "DELETE":
                self.schedule.replace([], 0)
            elif method != "GET":
                return _answer(start_response, "405 Method Not Allowed", {"message": "GET, POST or DELETE"})
        except ValueError as exc:  # not JSON, or not rules
            return _answer(start_response, "400 Bad Request", {"message": str(exc)})
        # Which emulator answers: the one its starter launched, not another on a port reused (sandbox.Emulator).
        return _answer(start_response, "200 OK", {**self.schedule.report(), "instance": os.environ.get(INSTANCE_ENV, "")})


def _answer(start_response, status: str, document: dict):
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# (status, code, message) of each injected error, by fault and error format.  Both SDKs
# classify these codes as throttling (botocore's standard retries, the Go SDK v2's
# DefaultThrottleErrorCodes) and retry any 500 or 503.
_THROTTLING = {"query": (400, "Throttling", "Rate exceeded"), "json": (400, "ThrottlingException", "Rate exceeded"),
               "rest-json": (400, "ThrottlingException", "Rate exceeded"),
               "rest-xml": (503, "SlowDown", "Please reduce your request rate.")}
_SERVER_ERRORS = {500: ("InternalFailure", "We encountered an internal error. Please try again."),
                  503: ("ServiceUnavailable", "Service is unable to handle request.")}


def _error_response(call: Call, rule: Rule, start_response):
    if rule.fault == "throttle":
        status, code, message = _THROTTLING[call.protocol]
    else:
        status, (code, message) = rule.status, _SERVER_ERRORS[rule.status]
        if call.protocol == "rest-xml" and status == 500:
            code = "InternalError"  # S3's name for it
    request_id = str(uuid.uuid4())
    if call.protocol == "query":
        kind = "Sender" if status < 500 else "Receiver"
        body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    elif call.protocol == "rest-xml":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
                f"<RequestId>{request_id}</RequestId></Error>")
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:
        body = json.dumps({"__type": code, "message": message})
        content_type = "application/x-amz-json-1.1" if call.protocol == "json" else "application/json"
        headers = [("Content-Type", content_type), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)]
    encoded = body.encode()
    start_response(f"{status} {HTTPStatus(status).phrase}",
                   [*headers, ("Content-Length", str(len(encoded)))])
    return [encoded]
