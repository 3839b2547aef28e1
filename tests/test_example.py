"""The example app under examples/: another product composing the constructs with typed inputs."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

APP = ROOT / "examples" / "product_app"


def test_the_example_app_synthesizes_and_validates(tmp_path, terraform):
    proc = subprocess.run([sys.executable, str(APP / "main.py"), str(tmp_path / "out")],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    stack = tmp_path / "out" / "stacks" / "analytics-sandbox"
    document = json.loads((stack / "cdk.tf.json").read_text())
    resources = document["resource"]

    assert resources["aws_iam_account_alias"]["alias"]["account_alias"] == "acme-analytics-sandbox"
    assert "max_password_age" not in resources["aws_iam_account_password_policy"]["password_policy"]  # 0: off
    assert set(resources["aws_iam_user_login_profile"]) == {"dana"}  # eli: console false
    trust = {name: json.loads(role["assume_role_policy"])["Statement"][0]["Principal"]["AWS"]
             for name, role in resources["aws_iam_role"].items()}
    assert trust == {"analysts_mfa": ["${aws_iam_user.dana.arn}", "${aws_iam_user.eli.arn}"],
                     "engineers_mfa": ["${aws_iam_user.eli.arn}"]}

    terraform.init(stack, backend=False)
    result = json.loads(terraform.run(["validate", "-json"], cwd=stack, check=False).stdout)
    assert result["valid"], result["diagnostics"]
