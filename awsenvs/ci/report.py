"""A run's results as Markdown for people on GitHub: the pull request's comment and the job
summary (what `plan` prints: the summary table, each stack's changes, the notes), and the
drift issue (audit's failed rows).  Pure functions of results and rows.

Names, errors and findings come from org.yaml, AWS and terraform: every one is escaped, so a
`|` or a `<` in a message neither breaks a table nor opens an HTML tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from awsenvs.audit import FAIL, Finding
from awsenvs.drift import DRIFT
from awsenvs.progress import QUIET, SUMMARY_LISTS_ALL_UP_TO, quiet_counts_line
from awsenvs.results import StackResult, StackStatus, change_lines, counts_text, notes_of

PLAN_MARKER = "<!-- awsenvs:plan -->"  # finds the pull request's one comment again, to edit it in place
DRIFT_MARKER = "<!-- awsenvs:drift -->"
DRIFT_LABEL = "awsenvs-drift"  # the one open drift issue is the one with this label
CHANGES_OPEN_UP_TO = 15  # a stack's change lines shown open; more are collapsed in <details>
FAILED_STATUSES = (StackStatus.FAILED, StackStatus.INTERRUPTED, StackStatus.NOT_STARTED)
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]|~])")  # what marks up text anywhere in a line
_LINE_START = re.compile(r"^([#+=-])")  # what marks up a line only at its start: a heading, a list, a rule
_NUMBERED = re.compile(r"^(\d+)([.)])")  # a numbered list


def text(value: object) -> str:
    """`value` as literal text in Markdown (a table cell, a heading, a list item): HTML escaped,
    Markdown punctuation backslashed, on one line."""
    escaped = _MARKDOWN_SPECIALS.sub(r"\\\1", " ".join(str(value).split()))
    escaped = _NUMBERED.sub(r"\1\\\2", _LINE_START.sub(r"\\\1", escaped))
    return html.escape(escaped, quote=False)  # after: `&lt;` must not be backslashed


def code_block(lines: str | Iterable[str]) -> str:
    """A fenced block, its fence longer than any run of backticks in it."""
    body = lines if isinstance(lines, str) else "\n".join(lines)
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    return f"{fence}text\n{body}\n{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[str] = ()) -> str:
    """A Markdown table; the cells are Markdown already (escape them with `text`)."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if column in right else "---" for column in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _outcome(result: StackResult) -> str:
    if result.status in FAILED_STATUSES:
        return f"**{text(result.status)}**"
    if result.status is StackStatus.UNCHANGED and result.since:
        return text(f"unchanged since {result.since}")
    return text(result.status)


def summary(results: Sequence[StackResult]) -> str:
    """The summary table `plan` prints: up to SUMMARY_LISTS_ALL_UP_TO results a row each,
    past it the stacks a person must look at and one line counting the quiet ones."""
    listed = list(results) if len(results) <= SUMMARY_LISTS_ALL_UP_TO else [r for r in results if r.status not in QUIET]
    skipped = any(r.status is StackStatus.UNCHANGED for r in results)
    counted = quiet_counts_line(list(results)) if len(listed) < len(results) or skipped else None
    counts = ("add", "change", "destroy", "import", "forget")
    rows = []
    for result in listed:
        s = result.summary
        numbers = [str(n) for n in (s.add, s.change, s.destroy, s.imports, s.forget)] if s else [""] * len(counts)
        rows.append([text(result.stack), text(result.account_id or "-"), _outcome(result), *numbers])
    parts = [table(("stack", "account", "result", *counts), rows, right=counts)] if rows else []
    parts += [text(counted)] if counted else []
    return "\n\n".join(parts) or "No stacks."


def stack_changes(result: StackResult, open_up_to: int = CHANGES_OPEN_UP_TO) -> str:
    """A stack's resource changes (every one, as `plan --detail` lists them), under its name;
    collapsed in `<details>` past `open_up_to` lines."""
    lines = change_lines(result.changes, detail=True)
    when = " (once its account exists)" if result.status is StackStatus.WAITING else ""
    title = text(f"{result.stack} ({counts_text(result.summary)}){when}")
    if len(lines) <= open_up_to:
        return f"**{title}**\n\n{code_block(lines)}"
    return (f"<details><summary><b>{title}</b>: {len(lines)} lines</summary>\n\n{code_block(lines)}\n\n</details>")


def failure(result: StackResult) -> str:
    """Which stack the run could not finish, and why (its error whole, in a code block)."""
    why = result.error or {StackStatus.INTERRUPTED: "interrupted: terraform was stopped",
                           StackStatus.NOT_STARTED: "not started: the run stopped before it"}.get(result.status, "failed")
    return f"**{text(result.stack)}** ({text(result.status)}):\n\n{code_block(why.splitlines() or [why])}"


def bullets(lines: Iterable[str], markdown: Iterable[str] = ()) -> str:
    """A list: `lines` as text, then `markdown` as it is (awsenvs' own notes, with code spans)."""
    return "\n".join([*(f"- {text(line)}" for line in lines), *(f"- {line}" for line in markdown)])


def plan_comment(results: Sequence[StackResult], *, heading: str, notes: Sequence[str] = (),
                 run_url: str | None = None, error: str | None = None, command: str = "awsenvs ci plan") -> str:
    """The pull request's comment (and the job summary): the marker, the heading, the
    summary table, the failed stacks and why, each stack's changes, then the notes
    (`notes`: Markdown, any name in them escaped with `text`; the results' own are escaped here).
    `error`: what stopped the run as a whole (the guard, AWS, org.yaml), shown first."""
    parts = [PLAN_MARKER, f"### {text(heading)}"]
    if error:
        parts += ["#### Failed", code_block(error)]
    if results:
        parts.append(summary(results))
    failed = [r for r in results if r.status in FAILED_STATUSES]
    if failed:
        parts += ["#### Not planned", *(failure(r) for r in failed)]
    changed = [r for r in results if r.changes]
    if changed:
        parts += ["#### Changes", *(stack_changes(r) for r in changed)]
    if notes or notes_of(list(results)):
        parts += ["#### Notes", bullets(notes_of(list(results)), notes)]
    if run_url:
        parts.append(f"<sub>[The run]({run_url}) · `{command}`</sub>")
    return "\n\n".join(parts) + "\n"


def drift_rows(rows: Sequence[Finding]) -> list[Finding]:
    """The rows the drift issue lists: every failed check (drift, and what else failed: a
    root user without MFA, an account that could not be read: the issue never says clean
    while a check could not run)."""
    return [r for r in rows if r.status == FAIL]


def drift_issue(rows: Sequence[Finding], plan_results: Sequence[StackResult] | None = None,
                run_url: str | None = None, notes: Sequence[str] = ()) -> tuple[str, str]:
    """(title, body) of the drift issue: audit's failed rows as a table, what restores each,
    and with `plan --all`'s results the stacks terraform would change (`notes`: Markdown)."""
    failed = drift_rows(rows)
    planned = [r for r in plan_results or () if r.status.pending or r.status in FAILED_STATUSES]
    differing = sum(r.check == DRIFT for r in failed)
    if failed:
        what = [f"{differing} {'difference' if differing == 1 else 'differences'} from org.yaml"] if differing else []
        others = len(failed) - differing
        what += [f"{others} failed {'check' if others == 1 else 'checks'}"] if others else []
        title = f"awsenvs: drift, {' and '.join(what)}"
    elif planned:
        title = f"awsenvs: drift, {len(planned)} {'stack' if len(planned) == 1 else 'stacks'} with changes"
    else:
        title = "awsenvs: no drift"
    parts = [DRIFT_MARKER, f"### {text(title)}"]
    if failed:
        parts.append("`awsenvs audit` fails these checks (`drift`: where the live accounts differ from org.yaml):")
        parts.append(table(("check", "where", "finding", "restore"),
                           ([text(r.check), text(r.account), text(r.finding), text(r.restore) or "—"] for r in failed)))
    elif not planned:
        parts.append("Every check of `awsenvs audit` passes: the live accounts are as org.yaml says.")
    if plan_results is not None:
        parts.append("#### `plan --all`")
        if planned:
            parts.append("Terraform would change these stacks (what apply restores), or could not plan them:")
            parts.append(summary(planned))
            parts += [failure(r) for r in planned if r.status in FAILED_STATUSES]
            parts += [stack_changes(r) for r in planned if r.changes]
        else:
            parts.append("Terraform finds nothing to change in any stack.")
    if notes:
        parts += ["#### Notes", bullets((), notes)]
    parts.append("What restores a row: `make plan`, then `make apply` for what terraform holds; the hand work it names "
                 "for what it does not (or list the object under `unmanaged` in org.yaml). This issue is updated by "
                 "each scheduled check and closed when it finds none.")
    if run_url:
        parts.append(f"<sub>[The run]({run_url}) · `awsenvs ci drift`</sub>")
    return title, "\n\n".join(parts) + "\n"
