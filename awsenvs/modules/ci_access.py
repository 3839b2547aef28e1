"""The read-only role a pull request's plan reaches a member account through (ci.github).

Each account stack makes `awsenvs-github-read` in its account, trusted by the management
account's GitHub plan role only, allowed to read what the account stack's plan refreshes
and the look-ups and `audit` read there.  Why a role of its own, not the member access role
with a session policy: bootstrap_policies.py's module doc.  The policy documents are there.
"""

from __future__ import annotations

import json

from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from awsenvs.config import CI_POLICY_NAME, CI_READ_POLICY_ADDRESS, CI_READ_ROLE_ADDRESS, GitHubCi
from awsenvs.modules.bootstrap_policies import github_read_role_policy, github_read_trust_policy


class CiReadRole(Construct):
    def __init__(self, scope: Construct, id: str, github: GitHubCi, management_account_id: str) -> None:
        super().__init__(scope, id)
        role = IamRole(self, "role", name=github.read_role_name,
                       description="Read-only: the plans of pull requests in GitHub Actions (awsenvs)",
                       assume_role_policy=json.dumps(github_read_trust_policy(management_account_id, github)))
        role.override_logical_id(CI_READ_ROLE_ADDRESS.split(".", 1)[1])
        policy = IamRolePolicy(self, "policy", role=role.name, name=CI_POLICY_NAME,
                               policy=json.dumps(github_read_role_policy()))
        policy.override_logical_id(CI_READ_POLICY_ADDRESS.split(".", 1)[1])
