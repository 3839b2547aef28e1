"""Per-account baseline: account alias and password policy."""

from __future__ import annotations

from cdktn_provider_aws.iam_account_alias import IamAccountAlias
from cdktn_provider_aws.iam_account_password_policy import IamAccountPasswordPolicy
from constructs import Construct

from awsenvs.config import ALIAS_ADDRESS, PASSWORD_POLICY_ADDRESS, PasswordPolicy


class AccountBaseline(Construct):
    """The alias (sign-in URL) and the IAM password policy of one account.

    The values may be Terraform expressions: the stacks pass org.yaml's values, the exported
    `account` module passes its variables (`awsenvs export-modules`), another CDK app its own.
    """

    def __init__(self, scope: Construct, id: str, alias: str, password_policy: PasswordPolicy) -> None:
        super().__init__(scope, id)
        alias_ = IamAccountAlias(self, "alias", account_alias=alias)
        alias_.override_logical_id(ALIAS_ADDRESS.split(".")[1])
        policy = password_policy
        resource = IamAccountPasswordPolicy(
            self,
            "password-policy",
            minimum_password_length=policy.minimum_length,
            require_lowercase_characters=policy.require_lowercase,
            require_uppercase_characters=policy.require_uppercase,
            require_numbers=policy.require_numbers,
            require_symbols=policy.require_symbols,
            # 0 means "off" in org.yaml; the API rejects 0 for both, null leaves them unset.
            # (An expression is passed on as it is: the exported module maps 0 to null itself.)
            password_reuse_prevention=policy.reuse_prevention or None,
            max_password_age=policy.max_age_days or None,
            allow_users_to_change_password=policy.allow_users_to_change,
        )
        resource.override_logical_id(PASSWORD_POLICY_ADDRESS.split(".")[1])

