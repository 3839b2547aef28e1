"""ConfigError: what org.yaml (and the choice of stacks from it) fails with."""

from __future__ import annotations

from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError


class ConfigError(AwsenvsError):
    """A problem in org.yaml, worded as one line: `<field path>: <what is wrong and what to do>`."""

    exit_code = EXIT_BAD_INPUT
