"""The one error base: every failure an operator can act on is one line and one exit code.

Modules raise their own subclass (ConfigError, TerraformError, GuardError, …) with the exit
code its kind of failure means; the CLI maps them to a printed line and a process exit code
in one place (`awsenvs.cli.main`), like Sceptre's `catch_exceptions`.
"""

from __future__ import annotations

import re

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class AwsenvsError(Exception):
    """One line for the operator; `exit_code` 1 (a failure) unless the subclass says 2 (bad input)."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    def within(self, context: str) -> "AwsenvsError":
        """The same error, its line prefixed with what was being done (`reading account ids: …`)."""
        self.args = (f"{context}: {self}",)
        return self


def shorten(text: str, width: int) -> str:
    """`text` on one line of at most `width` characters, cut at a word, never mid-word
    (`Backend configuration changed: …`): for progress lines; the summary keeps the whole."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0] if " " in text[: width - 1] else text[: width - 1]
    return cut.rstrip(" ,;:") + "…"


class Unreachable(AwsenvsError):
    """AWS (or the state backend's host) does not answer: connection refused, no such host, a
    timeout.  Every later call would fail the same way, after its own retries, so a run
    starts nothing after the first one and says it once (`stopped`)."""

    def __init__(self, endpoint: str, reason: str, service: str | None = "AWS") -> None:
        super().__init__(f"{service} cannot be reached at {endpoint}: {reason}" if service else
                         f"{endpoint} cannot be reached: {reason}")

    def stopped(self, nothing: str) -> "Unreachable":
        """The same error, saying what the run did not do after it (`nothing was planned after it`)."""
        self.args = (f"{self}; {nothing}",)
        return self


# How a connection that never got an answer is worded by Python's sockets (through botocore)
# and by Go's net package (terraform and its providers), as Unreachable's reason.
_NO_ANSWER = ((re.compile(r"connection refused", re.IGNORECASE), "connection refused"),
              (re.compile(r"no such host|name or service not known|nodename nor servname|temporary failure in name "
                          r"resolution", re.IGNORECASE), "no such host"),
              (re.compile(r"i/o timeout|timed out|connect timeout", re.IGNORECASE), "timed out"),
              (re.compile(r"network is unreachable|no route to host", re.IGNORECASE), "network is unreachable"))


def no_answer(text: str) -> str | None:
    """Why a connection got no answer, from an error's text (None: it was answered)."""
    return next((reason for pattern, reason in _NO_ANSWER if pattern.search(text)), None)


# AWS's answers to credentials that no longer work: a session token that expired (ExpiredToken,
# ExpiredTokenException), or keys or a token AWS does not know (InvalidClientTokenId, and
# UnrecognizedClientException from the JSON services)
# (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html); and botocore's own
# errors when an IAM Identity Center (SSO) profile's session has expired.
STALE_CREDENTIALS = ("ExpiredToken", "InvalidClientTokenId", "UnrecognizedClientException", "TokenRetrievalError",
                     "UnauthorizedSSOTokenError", "SSOTokenLoadError")
STALE_CREDENTIALS_HINT = ("these credentials are expired or unknown to AWS: refresh the session (`aws sso login "
                          "--profile <profile>` for an IAM Identity Center profile), or use new access keys")


def with_credentials_hint(message: str, code: str = "") -> str:
    """`message`, with what to do when AWS refused the credentials themselves (one line)."""
    if any(stale in f"{code} {message}" for stale in STALE_CREDENTIALS):
        return f"{message}; {STALE_CREDENTIALS_HINT}"
    return message


class BadInput(AwsenvsError):
    """An option or argument that cannot be used (the CLI's own checks)."""

    exit_code = EXIT_BAD_INPUT
