"""Stack statuses and the one error mapper: exit codes scripts rely on."""

from __future__ import annotations

import pytest

from awsenvs.cli import main
from awsenvs.errors import AwsenvsError
from awsenvs.results import StackResult, StackStatus, exit_code_for_plan
from conftest import EXAMPLE


@pytest.mark.parametrize(("statuses", "code"), [
    ([StackStatus.NO_CHANGES, StackStatus.NO_CHANGES], 0),
    ([StackStatus.NO_CHANGES, StackStatus.CHANGES], 2),
    ([StackStatus.NO_CHANGES, StackStatus.WAITING], 2),
    ([StackStatus.RETIRE], 2),
    ([StackStatus.CHANGES, StackStatus.FAILED], 1),
])
def test_plan_exit_code_follows_terraforms_detailed_exitcode(statuses, code):
    assert exit_code_for_plan([StackResult(f"s{i}", s) for i, s in enumerate(statuses)]) == code


def test_a_status_reads_as_its_words_and_round_trips_through_a_record():
    assert f"{StackStatus.WAITING}" == "waiting for account"
    assert StackStatus("no changes") is StackStatus.NO_CHANGES


def test_within_prefixes_the_line_and_keeps_the_exit_code():
    error = AwsenvsError("denied", exit_code=2).within("reading account ids")
    assert (str(error), error.exit_code) == ("reading account ids: denied", 2)


def test_errors_become_one_line_and_their_exit_code(tmp_path, capsys):
    (tmp_path / "org.yaml").write_text("organization: {}\nproducts: {}\nbogus: 1\n")
    assert main(["--config", str(tmp_path / "org.yaml"), "validate"]) == 2
    printed = capsys.readouterr().err
    assert printed.startswith("error: ") and "Traceback" not in printed
    assert main(["--config", str(EXAMPLE), "password", "alice", "--stack", "nowhere-dev"]) == 2
    assert "--stack nowhere-dev: no such environment" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "missing.yaml"), "validate"]) == 2
    assert main(["--config", str(tmp_path / "missing.yaml"), "plan"]) == 1  # plan's 2 means "changes"


def test_a_failing_paginated_aws_call_is_one_line_not_a_traceback():
    import boto3
    from botocore.stub import Stubber

    from awsenvs import aws

    client = boto3.client("sso-admin", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_client_error("list_permission_sets", "AccessDeniedException", "not allowed")
        with pytest.raises(aws.AwsError, match="list_permission_sets: AccessDeniedException: not allowed"):
            aws.pages(client, "list_permission_sets", "PermissionSets", InstanceArn="arn:aws:sso:::instance/ssoins-1234567890abcdef")


def test_change_lines_put_what_is_lost_first_and_stay_compact():
    from awsenvs.results import CHANGES_SHOWN, change_lines
    from awsenvs.terraform import ResourceChange

    changes = tuple(ResourceChange(f"aws_iam_user.u{i}", "aws_iam_user", ("create",)) for i in range(8)) + (
        ResourceChange("aws_iam_account_alias.alias", "aws_iam_account_alias", ("delete", "create"), importing=True),
        ResourceChange("aws_iam_group.g", "aws_iam_group", ("update",), importing=True),
        ResourceChange("aws_iam_user.old", "aws_iam_user", ("delete",)),
    )
    lines = change_lines(changes)
    assert len(lines) == CHANGES_SHOWN + 1
    assert lines[0].split() == ["-/+", "replace", "(import)", "aws_iam_account_alias.alias"]
    assert lines[1].split() == ["-", "destroy", "aws_iam_user.old"]
    assert lines[2].split() == ["~", "update", "(import)", "aws_iam_group.g"]
    assert lines[-1] == "  … and 6 more (--detail lists them)"
    assert len(change_lines(changes, detail=True)) == len(changes)


def test_an_interruption_says_what_finished_and_what_did_not():
    from awsenvs.results import interruption_line

    results = [StackResult("management", StackStatus.APPLIED), StackResult("a", StackStatus.INTERRUPTED),
               StackResult("b", StackStatus.NOT_STARTED), StackResult("c", StackStatus.NOT_STARTED)]
    assert interruption_line(results) == ("Interrupted (Ctrl-C): finished 1 (management); stopped in flight 1 (a); "
                                          "not started 2 (b, c)")


def test_shorten_cuts_at_a_word_never_in_one():
    from awsenvs.errors import shorten

    text = 'Backend configuration changed: A change in the backend configuration has been detected, use "terraform init"'
    short = shorten(text, 60)
    assert len(short) <= 60 and short.endswith("…") and text.startswith(short[:-1])
    assert text[len(short) - 1] == " "  # cut where a word ended
    assert shorten("a  b\nc", 60) == "a b c"
