"""Another product's CDK Terrain app composing the awsenvs constructs (outside org.yaml).

The analytics team keeps a sandbox account of its own, outside the company's org.yaml, and
wants the same baseline and IAM as the accounts awsenvs manages: the alias and password
policy, groups with managed policies, users with console logins, and MFA enforcement with a
`<group>-mfa` role per group.  It imports the constructs from the installed package
(`pip install awsenvs`) and gives them typed inputs instead of org.yaml.

    python main.py [OUTDIR]        # or `cdktn synth` with this folder's cdktf.json
    cd OUTDIR/stacks/analytics-sandbox && terraform init && terraform plan
"""

from __future__ import annotations

import sys

from cdktn import App, TerraformStack, TerraformVariable
from cdktn_provider_aws.provider import AwsProvider
from constructs import Construct

from awsenvs.config import Group, PasswordPolicy, User
from awsenvs.modules.account import AccountBaseline
from awsenvs.modules.iam import Iam
from awsenvs.stacks import PROVIDER_CONSTRAINT

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"


class AnalyticsSandbox(TerraformStack):
    def __init__(self, scope: Construct, name: str) -> None:
        super().__init__(scope, name)
        # The provider the awsenvs stacks are tested with (the bindings are generated for 6.x;
        # the constructs use nothing 6.x-only).
        self.add_override("terraform.required_providers.aws.version", PROVIDER_CONSTRAINT)
        account_id = TerraformVariable(self, "account_id", type="string", description="The sandbox account's id.")
        # Like the awsenvs stacks: Terraform refuses any other account, whatever the credentials.
        AwsProvider(self, "aws", region="eu-west-1", allowed_account_ids=[account_id.string_value])
        AccountBaseline(
            self, "baseline", alias="acme-analytics-sandbox",
            password_policy=PasswordPolicy(
                minimum_length=16, require_lowercase=True, require_uppercase=True, require_numbers=True,
                require_symbols=True, reuse_prevention=12, max_age_days=0, allow_users_to_change=True,
            ),
        )
        Iam(
            self, "iam",
            groups=[Group("analysts", (READ_ONLY,)), Group("engineers", (POWER_USER,))],
            users=[
                User("dana", groups=("analysts",), console=True, pgp_key=None),
                User("eli", groups=("engineers", "analysts"), console=False, pgp_key=None),
            ],
            mfa_required=True,
            account_id=account_id.string_value,
        )


def main(outdir: str = "cdktf.out") -> None:
    app = App(outdir=outdir)
    AnalyticsSandbox(app, "analytics-sandbox")
    app.synth()


if __name__ == "__main__":
    main(*sys.argv[1:2])
