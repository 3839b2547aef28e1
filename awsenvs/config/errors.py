"""ConfigError: what org.yaml (and the choice of stacks from it) fails with."""

from __future__ import annotations

from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError

PROBLEMS_SHOWN = 25  # one validate run names at most this many problems (then counts the rest)


class ConfigError(AwsenvsError):
    """A problem in org.yaml, worded as one line: `<file>: <field path>: <what is wrong and
    what to do>`; with several problems, one such line each (`problems`)."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message, exit_code)
        self.problems: tuple[str, ...] = (message,)

    @classmethod
    def of(cls, problems: list[str]) -> "ConfigError":
        """Every problem found, one line each (the first PROBLEMS_SHOWN, then a count)."""
        problems = list(dict.fromkeys(problems))
        if len(problems) == 1:
            return cls(problems[0])
        shown = problems[:PROBLEMS_SHOWN]
        source = problems[0].split(":", 1)[0]
        rest = f" (the first {PROBLEMS_SHOWN} shown)" if len(problems) > PROBLEMS_SHOWN else ""
        error = cls("\n".join([*shown, f"{source}: {len(problems)} problems{rest}: fix them, then run validate again"]))
        error.problems = tuple(problems)
        return error
