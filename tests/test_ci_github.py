"""GitHub's side of the CI jobs: the job's environment, the REST client against an in-memory
GitHub (tests/github_fake.py: comments edited in place, the drift issue opened, updated and
closed, GitHub's errors as one line, environments' reviewers, the job's OIDC token), the
Markdown of a plan and of the drift issue, and who may apply protected stacks (ci/approval.py).  `ci drift`
end to end runs in the door's scheduled workflow (tests/test_ci_door.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from awsenvs.audit import FAIL, MANUAL, PASS, Finding
from awsenvs.ci import report
from awsenvs.ci.github import BODY_LIMIT, GitHubError, Job, fit_body, jwt_claims
from awsenvs.errors import BadInput
from awsenvs.results import StackResult, StackStatus
from awsenvs.terraform import AttributeChange, PlanSummary, ResourceChange
from github_fake import FakeGitHub, make_jwt


@pytest.fixture
def github():
    with FakeGitHub("acme/infra") as fake:
        yield fake


def _job(github: FakeGitHub, tmp_path: Path, event: dict | None = None, event_name: str = "schedule", **more) -> Job:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event or {}))
    environ = github.environ(event_name, str(event_path), GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
                            GITHUB_OUTPUT=str(tmp_path / "output"), **more)
    return Job.from_environ(environ, "awsenvs ci plan")


def _pull_request_event(number: int, fork: bool = False) -> dict:
    head = "someone/infra" if fork else "acme/infra"
    return {"action": "synchronize", "number": number,
            "pull_request": {"number": number, "head": {"repo": {"full_name": head, "fork": fork}},
                             "base": {"repo": {"full_name": "acme/infra"}}}}


# --------------------------------------------------------------------------- the job's environment


def test_outside_a_github_job_is_one_line_of_bad_input():
    with pytest.raises(BadInput) as excinfo:
        Job.from_environ({"HOME": "/home/me"}, "awsenvs ci drift")
    message = str(excinfo.value)
    assert "\n" not in message and "`awsenvs ci drift`" in message and "awsenvs ci github" in message
    assert excinfo.value.exit_code == 2


def test_ci_drift_on_a_laptop_stops_before_reading_anything(monkeypatch, capsys, tmp_path):
    from awsenvs.cli import main

    for name in ("GITHUB_ACTIONS", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--config", str(tmp_path / "missing.yaml"), "ci", "drift"]) == 2  # org.yaml not even read
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: not in a GitHub Actions job") and "`awsenvs ci drift`" in line


def test_a_bad_event_file_is_named(tmp_path):
    broken = tmp_path / "event.json"
    broken.write_text("{not json")
    with pytest.raises(BadInput, match=f"GITHUB_EVENT_PATH {re.escape(str(broken))}: not JSON"):
        Job.from_environ({"GITHUB_REPOSITORY": "acme/infra", "GITHUB_EVENT_PATH": str(broken)})


def test_the_job_reads_githubs_variables_and_writes_its_files(github, tmp_path):
    job = _job(github, tmp_path, _pull_request_event(7), "pull_request")
    assert job.pull_request_number == 7 and not job.from_fork
    assert job.run_url == "https://github.example/acme/infra/actions/runs/4242"
    assert _job(github, tmp_path).pull_request_number is None  # a schedule event

    assert job.write_summary("# one") and job.write_summary("two\n")
    assert (tmp_path / "summary.md").read_text() == "# one\ntwo\n"  # appended, as each step adds its part
    job.set_output("protected", "true")
    job.set_output("stacks", "a\nb")
    lines = (tmp_path / "output").read_text().splitlines()
    assert lines[0] == "protected=true"
    assert lines[1].startswith("stacks<<") and lines[2:4] == ["a", "b"] and lines[4] == lines[1].split("<<")[1]


# --------------------------------------------------------------------------- the REST client


def test_the_plan_comment_is_one_comment_edited_in_place_on_each_push(github, tmp_path):
    number = github.pull_request()
    github.comment(number, f"a person quoting it: {report.PLAN_MARKER}?")  # not the bot's: never edited
    job = _job(github, tmp_path, _pull_request_event(number), "pull_request")
    action, first = job.upsert_comment(number, report.PLAN_MARKER, f"{report.PLAN_MARKER}\nplan one")
    assert action == "created"
    for push in ("plan two", "plan three"):
        action, comment = job.upsert_comment(number, report.PLAN_MARKER, f"{report.PLAN_MARKER}\n{push}")
        assert action == "updated" and comment["id"] == first["id"]
    ours = [c for c in github.comments_on(number) if c["user"]["type"] == "Bot"]
    assert [c["body"] for c in ours] == [f"{report.PLAN_MARKER}\nplan three"]
    assert len(github.calls("POST", f"/repos/acme/infra/issues/{number}/comments")) == 1
    assert len(github.calls("PATCH", "/repos/acme/infra/issues/comments/")) == 2
    assert all(r.authorization == f"Bearer {github.token}" for r in github.requests)


def test_comments_are_found_past_the_first_page(github, tmp_path):
    number = github.pull_request()
    for n in range(120):
        github.comment(number, f"review {n}")
    job = _job(github, tmp_path, _pull_request_event(number), "pull_request")
    job.upsert_comment(number, report.PLAN_MARKER, f"{report.PLAN_MARKER} one")  # the 121st comment: on page 2
    job.upsert_comment(number, report.PLAN_MARKER, f"{report.PLAN_MARKER} two")
    assert len(github.calls("POST")) == 1 and len(github.calls("PATCH")) == 1
    assert {r.query["page"] for r in github.calls("GET")} == {"1", "2"}


def test_the_drift_issue_is_opened_updated_and_closed(github, tmp_path):
    job = _job(github, tmp_path)
    other = github.pull_request(title="a pull request with the label is no drift issue")
    github.issues[other]["labels"] = [{"name": report.DRIFT_LABEL}]
    assert job.close_issue(report.DRIFT_LABEL, "clean") is None  # none open: nothing to do
    assert github.calls("POST") == [] and github.calls("PATCH") == []

    action, issue = job.upsert_issue(report.DRIFT_LABEL, "drift: 1", "body one")
    assert action == "created" and issue["labels"] == [{"name": report.DRIFT_LABEL}]
    action, again = job.upsert_issue(report.DRIFT_LABEL, "drift: 2", "body two")
    assert action == "updated" and again["number"] == issue["number"]
    assert (github.issues[issue["number"]]["title"], github.issues[issue["number"]]["body"]) == ("drift: 2", "body two")

    closed = job.close_issue(report.DRIFT_LABEL, "No drift any more.")
    assert closed["number"] == issue["number"] and github.issues[issue["number"]]["state"] == "closed"
    assert [c["body"] for c in github.comments_on(issue["number"])] == ["No drift any more."]
    action, reopened = job.upsert_issue(report.DRIFT_LABEL, "drift: 1", "body three")
    assert action == "created" and reopened["number"] != issue["number"]  # a closed one stays closed


def test_a_refused_call_is_one_line_and_a_forks_read_only_token_is_explained(github, tmp_path):
    number = github.pull_request()
    github.fail("POST", f"/repos/acme/infra/issues/{number}/comments", 403, "Resource not accessible by integration")
    fork = _job(github, tmp_path, _pull_request_event(number, fork=True), "pull_request")
    with pytest.raises(GitHubError) as excinfo:
        fork.upsert_comment(number, report.PLAN_MARKER, "plan")
    message = str(excinfo.value)
    assert message.startswith(f"GitHub API: comment on #{number}: 403 Resource not accessible by integration; ")
    assert "fork" in message and "read-only GITHUB_TOKEN" in message and "\n" not in message
    assert excinfo.value.exit_code == 1

    github.fail("GET", "/repos/acme/infra/issues", 500, "Server Error")
    with pytest.raises(GitHubError, match=r"list the open issues labelled awsenvs-drift: 500 Server Error$"):
        _job(github, tmp_path).upsert_issue(report.DRIFT_LABEL, "t", "b")
    wrong_token = _job(github, tmp_path, GITHUB_TOKEN="expired")
    with pytest.raises(GitHubError, match="401 Bad credentials"):
        wrong_token.upsert_issue(report.DRIFT_LABEL, "t", "b")
    no_token = _job(github, tmp_path, GITHUB_TOKEN="")
    with pytest.raises(BadInput, match="GITHUB_TOKEN is not set"):
        no_token.upsert_issue(report.DRIFT_LABEL, "t", "b")


def test_environment_reviewers(github, tmp_path):
    github.environment("awsenvs-production", reviewers=2)
    github.environment("awsenvs")
    github.environment("a b/c", reviewers=1)  # a name to quote in the path
    job = _job(github, tmp_path)
    assert job.environment_reviewers("awsenvs-production") == 2
    assert job.environment_reviewers("awsenvs") == 0
    assert job.environment_reviewers("a b/c") == 1
    assert job.environment_reviewers("missing") is None


def test_the_jobs_oidc_token_claims(github, tmp_path):
    github.claims = {"sub": "repo:acme/infra:environment:awsenvs-production", "environment": "awsenvs-production",
                     "repository": "acme/infra"}
    claims = _job(github, tmp_path).id_token_claims("sts.amazonaws.com")
    assert claims["environment"] == "awsenvs-production" and claims["aud"] == "sts.amazonaws.com"
    [request] = github.calls("GET", "/_apis/id-token")
    assert request.query == {"api-version": "2.0", "audience": "sts.amazonaws.com"}
    assert request.authorization == f"Bearer {github.id_request_token}"
    with pytest.raises(BadInput, match="id-token: write"):
        _job(github, tmp_path, ACTIONS_ID_TOKEN_REQUEST_URL="").id_token_claims("sts.amazonaws.com")
    with pytest.raises(GitHubError, match="not a JWT"):
        jwt_claims("abc")
    assert jwt_claims(make_jwt({"a": "é"})) == {"a": "é"}  # base64url without padding


def test_a_body_past_githubs_limit_is_cut_with_a_link_to_the_run(github, tmp_path):
    changes = tuple(ResourceChange(f"aws_iam_user.user_{n:05d}", "aws_iam_user", ("create",)) for n in range(3000))
    results = [StackResult("shop-dev", StackStatus.CHANGES, "111111111111", PlanSummary(add=3000), changes=changes)]
    job = _job(github, tmp_path)
    body = report.plan_comment(results, heading="Plan", run_url=job.run_url)
    assert len(body) > BODY_LIMIT
    number = github.pull_request()
    job.upsert_comment(number, report.PLAN_MARKER, body)  # the fake refuses a body past the limit, as GitHub does
    [posted] = github.comments_on(number)
    assert len(posted["body"]) <= BODY_LIMIT and posted["body"].startswith(report.PLAN_MARKER)
    assert f"in the job summary of [this run]({job.run_url})" in posted["body"]
    kept = posted["body"].split("**Cut here:**")[0]
    assert kept.count("<details>") == kept.count("</details>") == 1  # closed where it was cut
    assert len(re.findall(r"^```", kept, re.MULTILINE)) % 2 == 0  # so is the code block
    assert fit_body("short", job.run_url) == "short"


# --------------------------------------------------------------------------- the Markdown


def _results() -> list[StackResult]:
    user = ResourceChange("aws_iam_user.alice", "aws_iam_user", ("create",))
    policy = ResourceChange("aws_iam_policy.mfa", "aws_iam_policy", ("update",),
                            attributes=(AttributeChange("description", "old", "new"),))
    many = tuple(ResourceChange(f"aws_iam_user.u{n:02d}", "aws_iam_user", ("create",)) for n in range(30))
    return [
        StackResult("management", StackStatus.UNCHANGED, "123456789012", since="2026-12-05 10:00"),
        StackResult("shop-dev", StackStatus.CHANGES, "111111111111", PlanSummary(add=1, change=1), changes=(user, policy),
                    notes=("imports aws_iam_user.bob: it exists already",)),
        StackResult("shop-prod", StackStatus.CHANGES, "222222222222", PlanSummary(add=30), changes=many),
        StackResult("bad|stack", StackStatus.FAILED, "333333333333",
                    error="Error: creating IAM User (x|y): <EntityAlreadyExists> `already` exists\nsecond line"),
    ]


def _table_rows(markdown: str) -> list[list[str]]:
    """A Markdown table's body rows, split at the unescaped pipes, as GitHub splits them."""
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[1:]]


def test_the_plan_comment_shows_what_plan_prints(tmp_path):
    results = _results()
    body = report.plan_comment(results, heading="Plan of #7 (2 stacks changed)",
                               notes=["only these stacks changed: shop-dev, shop-prod; the others are unchanged"],
                               run_url="https://github.example/acme/infra/actions/runs/1")
    assert body.startswith(report.PLAN_MARKER + "\n")
    rows = _table_rows(body)
    assert [row[0] for row in rows] == ["management", "shop-dev", "shop-prod", "bad\\|stack"]
    assert all(len(row) == 8 for row in rows)  # stack, account, result, add, change, destroy, import, forget
    assert rows[1][:5] == ["shop-dev", "111111111111", "changes", "1", "1"]
    assert rows[0][2] == "unchanged since 2026-12-05 10:00"
    assert rows[3][2] == "**failed**"
    # the failed stack's whole error, in a code block, its < and | as they are (no HTML there)
    assert "```text\nError: creating IAM User (x|y): <EntityAlreadyExists> `already` exists\nsecond line\n```" in body
    # shop-dev's two changes shown open, shop-prod's 30 collapsed
    assert "**shop-dev (+1 \\~1 -0)**" in body  # ~ escaped: GitHub strikes out text between tildes
    assert "+ create           aws_iam_user.alice" in body and 'description: "old" -> "new"' in body
    details = body.split("<details>")
    assert len(details) == 2 and "shop-prod" in details[1].split("</summary>")[0] and "aws_iam_user.u29" in details[1]
    assert "- only these stacks changed: shop-dev, shop-prod; the others are unchanged" in body
    assert "- shop-dev: imports aws\\_iam\\_user.bob: it exists already" in body
    assert "[The run](https://github.example/acme/infra/actions/runs/1)" in body


def test_markdown_and_html_in_names_and_messages_are_text():
    hostile = "x | y <img src=a onerror=b> *b* [l](u) `c`"
    cell = report.text(hostile)
    assert "<" not in cell and "|" not in cell.replace("\\|", "")
    assert cell == "x \\| y &lt;img src=a onerror=b&gt; \\*b\\* \\[l\\](u) \\`c\\`"
    rows = [Finding("drift", f"shop-dev ({hostile})", FAIL, f"policy | {hostile}", "make plan | apply")]
    _, body = report.drift_issue(rows)
    [row] = _table_rows(body)
    assert len(row) == 4 and row[1] == report.text(f"shop-dev ({hostile})")
    assert "<img" not in body


def test_the_drift_issue_lists_failed_rows_and_the_stacks_plan_all_would_change():
    rows = [
        Finding("root MFA", "management", PASS, "MFA on"),
        Finding("drift", "shop-dev (111111111111)", FAIL, "policies of group developers: expected X; live none",
                "make plan, then make apply"),
        Finding("drift", "shop-prod (222222222222)", FAIL, "IAM users: not in org.yaml: mallory", "delete them"),
        Finding("access", "billing-prod (333333333333)", FAIL, "AccessDenied"),
        Finding("Identity Center MFA", "management", MANUAL, "check it in the console"),
    ]
    title, body = report.drift_issue(rows, run_url="https://github.example/acme/infra/actions/runs/9",
                                     notes=["parked accounts are not checked here"])
    assert title == "awsenvs: drift, 2 differences from org.yaml and 1 failed check"
    assert body.startswith(report.DRIFT_MARKER)
    assert [row[:2] for row in _table_rows(body)] == [["drift", "shop-dev (111111111111)"],
                                                    ["drift", "shop-prod (222222222222)"],
                                                    ["access", "billing-prod (333333333333)"]]
    assert "not in org.yaml: mallory" in body and "- parked accounts are not checked here" in body
    assert "plan --all" not in body.split("#### Notes")[0].split("### ")[1]  # no plan results: no section

    plan = [StackResult("shop-dev", StackStatus.CHANGES, "111111111111", PlanSummary(change=1),
                        changes=(ResourceChange("aws_iam_group_policy_attachment.a", "x", ("create",)),)),
            StackResult("shop-prod", StackStatus.NO_CHANGES, "222222222222", PlanSummary())]
    title, body = report.drift_issue([rows[0]], plan)
    assert title == "awsenvs: drift, 1 stack with changes"
    section = body.split("#### `plan --all`")[1]
    assert "aws_iam_group_policy_attachment.a" in section and "shop-prod" not in section

    title, body = report.drift_issue([rows[0], rows[4]], [plan[1]])
    assert title == "awsenvs: no drift" and "Terraform finds nothing to change" in body


# --------------------------------------------------------------------------- the approval of ci apply --protected


def test_protected_stacks_are_applied_only_in_the_reviewed_environment(github, tmp_path):
    """ci/approval.py: the environment is the job's OIDC token's claim, and it must require a reviewer."""
    from awsenvs.ci import approval
    from awsenvs.config import GitHubCi
    from awsenvs.run.confirm import Refused

    ci = GitHubCi("acme/infra")
    job = _job(github, tmp_path, event_name="push")
    assert approval.approval(job, ci, protected=False).reviewed is False  # job 1: holds them back, checks nothing
    github.claims = {"sub": "repo:acme/infra:environment:awsenvs", "environment": "awsenvs"}
    with pytest.raises(Refused, match="this job runs in GitHub environment awsenvs .*not in awsenvs-production"):
        approval.approval(job, ci, protected=True)
    github.claims = {"sub": "repo:acme/infra:ref:refs/heads/main"}
    with pytest.raises(Refused, match="runs in no GitHub environment"):
        approval.approval(job, ci, protected=True)
    github.claims = {"sub": "repo:acme/infra:environment:awsenvs-production", "environment": "awsenvs-production"}
    with pytest.raises(Refused, match="awsenvs-production does not exist"):
        approval.approval(job, ci, protected=True)
    github.environment("awsenvs-production", reviewers=0)
    with pytest.raises(Refused, match="requires no reviewer.*Required reviewers"):
        approval.approval(job, ci, protected=True)
    github.environment("awsenvs-production", reviewers=2)
    assert approval.approval(job, ci, protected=True).reviewed is True
