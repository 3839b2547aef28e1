"""Output at scale: the summary lists what a person must look at and counts the rest; the
progress shows the running stacks and the outcomes that matter (issue 11)."""

from __future__ import annotations

import io

from rich.console import Console

from awsenvs.progress import (PROGRESS_LISTS_ALL_UP_TO, RECENT_FAILURES_SHOWN, SUMMARY_LISTS_ALL_UP_TO, Progress,
                              live_view, matters, quiet_counts_line, summary_table)
from awsenvs.results import StackResult, StackStatus
from awsenvs.terraform import PlanSummary


def _render(renderable) -> str:
    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(renderable)
    return console.export_text()


def _org(size: int) -> list[StackResult]:
    """`size` results: s1 and s2 with changes, s3 failed, then alternately no changes and unchanged."""
    results = [StackResult("s1", StackStatus.CHANGES, "111111111111", PlanSummary(add=1)),
               StackResult("s2", StackStatus.CHANGES, "222222222222", PlanSummary(change=2)),
               StackResult("s3", StackStatus.FAILED, "333333333333", error="AccessDenied")]
    for i in range(4, size + 1):
        if i % 2:
            results.append(StackResult(f"s{i}", StackStatus.UNCHANGED, f"{i:012d}", since="2025-01-02T03:04"))
        else:
            results.append(StackResult(f"s{i}", StackStatus.NO_CHANGES, f"{i:012d}", PlanSummary()))
    return results


def _rows(text: str) -> list[str]:
    """The stacks that have a row in a rendered summary table."""
    return [line.split("│")[1].strip() for line in text.splitlines()
            if line.startswith("│") and line.split("│")[1].strip() not in ("", "stack")]


def test_unchanged_is_a_status_with_nothing_pending():
    assert StackStatus("unchanged") is StackStatus.UNCHANGED
    assert not StackStatus.UNCHANGED.pending
    assert [s for s in StackStatus if s.pending] == [StackStatus.CHANGES, StackStatus.WAITING, StackStatus.RETIRE]
    assert StackResult("a", StackStatus.UNCHANGED, since="2025-01-02").since == "2025-01-02"
    assert StackResult("a", StackStatus.NO_CHANGES).since is None


def test_a_big_org_lists_the_stacks_to_look_at_and_counts_the_quiet_ones():
    text = _render(summary_table(_org(200), "Plan"))
    assert _rows(text) == ["s1", "s2", "s3"]
    assert "failed: AccessDenied" in text
    # 197 quiet: s4..s200, the 99 even ones planned with no changes, the 98 odd ones unchanged
    line = ("99 stacks with no changes, 98 unchanged since their last clean plan"
            " (not planned: no drift that apply restores; `plan --all` plans them too)")
    assert line in text
    assert text.count("unchanged") == 1


def test_a_small_org_lists_every_stack():
    results = _org(SUMMARY_LISTS_ALL_UP_TO)
    text = _render(summary_table(results, "Plan"))
    assert _rows(text) == [r.stack for r in results]
    assert "unchanged since 2025-01-02T03:04" in text
    # Skipped stacks are counted even when listed: the line says why, and how to plan them anyway.
    assert "3 unchanged since their last clean plan" in text and "plan --all" in text


def test_every_stack_quiet_is_one_line():
    results = [StackResult(f"s{i}", StackStatus.UNCHANGED, since="2025-01-02") for i in range(150)]
    results += [StackResult(f"n{i}", StackStatus.NO_CHANGES) for i in range(12)]
    text = _render(summary_table(results, "Plan"))
    assert text.strip().splitlines() == [
        "Plan: 12 stacks with no changes, 150 unchanged since their last clean plan"
        " (not planned: no drift that apply restores; `plan --all` plans them too)"]


def test_the_quiet_counts_read_as_words():
    assert quiet_counts_line([StackResult("a", StackStatus.CHANGES)]) is None
    assert quiet_counts_line([StackResult("a", StackStatus.NO_CHANGES)]) == "1 stack with no changes"
    assert quiet_counts_line([StackResult("a", StackStatus.UNCHANGED)]) == (
        "1 stack unchanged since its last clean plan (not planned: no drift that apply restores; `plan --all` plans them too)")


def test_an_apply_summary_lists_applied_and_failed_and_counts_the_rest():
    results = [StackResult(f"s{i}", StackStatus.NO_CHANGES) for i in range(30)]
    results[4] = StackResult("s4", StackStatus.APPLIED, summary=PlanSummary(add=3))
    results[9] = StackResult("s9", StackStatus.WAITING)
    text = _render(summary_table(results, "Apply"))
    assert _rows(text) == ["s4", "s9"]
    assert "28 stacks with no changes" in text and "last clean plan" not in text


def _plain(stacks: list[str]) -> tuple[Progress, io.StringIO]:
    out = io.StringIO()
    return Progress(Console(file=out, width=200), stacks), out


def _run_plan(progress: Progress, stacks: list[str]) -> None:
    """What the runner reports for a plan: s1 plans changes, s3 fails, s5 waits, the rest change nothing."""
    for stack in stacks:
        for phase in ("looking up", "init", "planning"):
            progress.update(stack, phase)
        progress.update(stack, "planning", "1 aws_s3_bucket.a")
        if stack == "s1":
            progress.update(stack, "planned", "+1 ~0 -0")
        elif stack == "s3":
            progress.update(stack, StackStatus.FAILED, "AccessDenied")
        elif stack == "s5":
            progress.update(stack, StackStatus.WAITING, "the management stack creates it")
        elif stack == "s7":
            progress.update(stack, "planned", "+0 ~0 -0 import 2")
        else:
            progress.update(stack, "planned", "+0 ~0 -0")


def test_plain_lines_for_many_stacks_are_only_those_that_matter():
    stacks = [f"s{i}" for i in range(1, 201)]
    progress, out = _plain(stacks)
    with progress:
        _run_plan(progress, stacks)
        progress.update("s1", "applying")
        progress.update("s1", StackStatus.APPLIED, "+1 ~0 -0")
        progress.update("s8", StackStatus.NO_CHANGES)
        progress.update("s9", StackStatus.UNCHANGED, "since 2025-01-02")
    assert out.getvalue().splitlines() == [
        "s1: planned +1 ~0 -0",
        "s3: failed AccessDenied",
        "s5: waiting for account the management stack creates it",
        "s7: planned +0 ~0 -0 import 2",
        "s1: applied +1 ~0 -0",
    ]


def test_plain_lines_for_a_few_stacks_are_every_phase_change():
    stacks = [f"s{i}" for i in range(1, PROGRESS_LISTS_ALL_UP_TO + 1)]
    progress, out = _plain(stacks)
    with progress:
        _run_plan(progress, stacks)
    lines = out.getvalue().splitlines()
    assert lines[:4] == ["s1: looking up", "s1: init", "s1: planning", "s1: planned +1 ~0 -0"]
    assert "s2: planned +0 ~0 -0" in lines
    assert len(lines) == 4 * len(stacks)


def test_phases_that_matter():
    assert matters(StackStatus.FAILED, "x") and matters(StackStatus.APPLIED) and matters("waiting", "account")
    assert matters("planned", "+0 ~1 -0") and not matters("planned", "+0 ~0 -0")
    assert not any(matters(p) for p in ("queued", "looking up", "init", "planning", "applying",
                                        StackStatus.NO_CHANGES, StackStatus.UNCHANGED))


def test_the_live_view_of_many_stacks_is_the_running_and_latest_failed_ones_and_counts():
    rows = {f"s{i}": ("queued", "") for i in range(1, 202)}
    for i in range(1, 144):
        rows[f"s{i}"] = ("planned", "+0 ~0 -0") if i % 3 else (StackStatus.UNCHANGED, "")
    rows["s144"] = (StackStatus.FAILED, "AccessDenied")
    rows["s145"] = ("planning", "3 aws_s3_bucket.a")
    rows["s146"] = ("init", "")
    rows["s147"] = ("waiting", "account not ready")
    shown, counts = live_view(rows, ["s144"])
    assert shown == [("s145", "planning", "3 aws_s3_bucket.a"), ("s146", "init", ""),
                     ("s147", "waiting", "account not ready"), ("s144", StackStatus.FAILED, "AccessDenied")]
    assert counts == "done 143/201 · failed 1 · queued 54"


def test_the_live_view_keeps_the_latest_failures_and_every_row_of_a_few_stacks():
    rows = {f"s{i}": (StackStatus.FAILED, f"error {i}") for i in range(1, 21)}
    rows["s2"] = ("planned", "+0 ~0 -0")  # failed, then planned again: no longer a failure
    shown, counts = live_view(rows, [f"s{i}" for i in range(1, 21)])
    assert [stack for stack, _, _ in shown] == ["s20", "s19", "s18"][:RECENT_FAILURES_SHOWN]
    assert counts == "done 1/20 · failed 19 · queued 0"
    few = {f"s{i}": ("queued", "") for i in range(PROGRESS_LISTS_ALL_UP_TO)}
    assert live_view(few) == ([(s, "queued", "") for s in few], None)


def test_progress_on_a_terminal_renders_the_short_live_table():
    stacks = [f"s{i}" for i in range(1, 51)]
    out = io.StringIO()
    with Progress(Console(force_terminal=True, file=out, width=200), stacks) as progress:
        for stack in stacks[:40]:
            progress.update(stack, "planned", "+0 ~0 -0")
        progress.update("s41", StackStatus.FAILED, "AccessDenied")
        progress.update("s42", "planning", "2 aws_iam_role.r")
        text = _render(progress._table())
    assert [" ".join(line.split()) for line in text.splitlines()] == [
        "s42 planning 2 aws_iam_role.r", "s41 failed AccessDenied", "done 40/50 · failed 1 · queued 8"]
    assert "s1 " not in out.getvalue()  # no plain lines on a terminal
