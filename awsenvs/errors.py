"""The one error base: every failure an operator can act on is one line and one exit code.

Modules raise their own subclass (ConfigError, TerraformError, GuardError, …) with the exit
code its kind of failure means; the CLI maps them to a printed line and a process exit code
in one place (`awsenvs.cli.main`), like Sceptre's `catch_exceptions`.
"""

from __future__ import annotations

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
