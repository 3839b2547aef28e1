"""Per-account baseline: account alias and password policy."""

from __future__ import annotations

from cdktn_provider_aws.iam_account_alias import IamAccountAlias
from cdktn_provider_aws.iam_account_password_policy import IamAccountPasswordPolicy
from constructs import Construct

from awsenvs.config import Environment


class AccountBaseline(Construct):
    def __init__(self, scope: Construct, id: str, env: Environment) -> None:
        super().__init__(scope, id)
        alias = IamAccountAlias(self, "alias", account_alias=env.alias)
        alias.override_logical_id("alias")
        policy = env.password_policy
        password_policy = IamAccountPasswordPolicy(
            self,
            "password-policy",
            minimum_password_length=policy.minimum_length,
            require_lowercase_characters=policy.require_lowercase,
            require_uppercase_characters=policy.require_uppercase,
            require_numbers=policy.require_numbers,
            require_symbols=policy.require_symbols,
            password_reuse_prevention=policy.reuse_prevention or None,
            max_password_age=policy.max_age_days or None,
            allow_users_to_change_password=policy.allow_users_to_change,
        )
        password_policy.override_logical_id("password_policy")
