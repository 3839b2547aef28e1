"""IAM in one account: groups, users, memberships, console logins, and MFA enforcement."""

from __future__ import annotations

import json

from cdktn import TerraformResourceLifecycle
from cdktn_provider_aws.iam_group import IamGroup
from cdktn_provider_aws.iam_group_policy import IamGroupPolicy
from cdktn_provider_aws.iam_group_policy_attachment import IamGroupPolicyAttachment
from cdktn_provider_aws.iam_policy import IamPolicy
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktn_provider_aws.iam_user import IamUser
from cdktn_provider_aws.iam_user_group_membership import IamUserGroupMembership
from cdktn_provider_aws.iam_user_login_profile import IamUserLoginProfile
from cdktn_provider_aws.iam_user_policy_attachment import IamUserPolicyAttachment
from constructs import Construct

from awsenvs.config import MANAGED_BY, MFA_POLICY_NAME, Environment, tf_name

# What a user may do before signing in with MFA: set up their own MFA device, change the
# initial password (first sign-in), and nothing else. From the AWS IAM User Guide example
# "Allows MFA-authenticated IAM users to manage their own credentials", plus sts:AssumeRole
# on this account's MFA roles (whose trust policies themselves demand MFA), because the
# AWS CLI assumes those roles with the user's long-term keys and an MFA code.
_SELF_SERVICE_WITHOUT_MFA = [
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:GetMFADevice",
    "iam:ListMFADevices",
    "iam:ListVirtualMFADevices",
    "iam:ResyncMFADevice",
    "iam:ChangePassword",
    "iam:GetAccountPasswordPolicy",
    "sts:GetSessionToken",
]


def require_mfa_policy(account_id: str, admin_role_names: list[str]) -> dict:
    """The self-managed MFA policy: deny all but MFA/password self-service without MFA."""
    # `$${...}` is Terraform's escape for a literal `${...}`: an IAM policy variable.
    own_user = f"arn:aws:iam::{account_id}:user/$${{aws:username}}"
    no_mfa = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    statements = [
        {"Sid": "AllowViewAccountInfo", "Effect": "Allow",
         "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], "Resource": "*"},
        {"Sid": "AllowChangeOwnPassword", "Effect": "Allow",
         "Action": ["iam:ChangePassword", "iam:GetUser"], "Resource": own_user},
        {"Sid": "AllowManageOwnVirtualMFADevice", "Effect": "Allow",
         "Action": ["iam:CreateVirtualMFADevice"], "Resource": f"arn:aws:iam::{account_id}:mfa/*"},
        {"Sid": "AllowManageOwnUserMFA", "Effect": "Allow",
         "Action": ["iam:DeactivateMFADevice", "iam:EnableMFADevice", "iam:GetMFADevice",
                    "iam:ListMFADevices", "iam:ResyncMFADevice"],
         "Resource": own_user},
        {"Sid": "AllowManageOwnAccessKeysWithMFA", "Effect": "Allow",
         "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys",
                    "iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed"],
         "Resource": own_user},
        {"Sid": "DenyAllExceptListedIfNoMFA", "Effect": "Deny",
         "NotAction": [*_SELF_SERVICE_WITHOUT_MFA, "sts:AssumeRole"],
         "Resource": "*", "Condition": no_mfa},
    ]
    if admin_role_names:
        statements.append(
            {"Sid": "DenyAssumingOtherRolesIfNoMFA", "Effect": "Deny", "Action": "sts:AssumeRole",
             "NotResource": [f"arn:aws:iam::{account_id}:role/{name}" for name in admin_role_names],
             "Condition": no_mfa}
        )
    else:
        statements[-1]["NotAction"].remove("sts:AssumeRole")
    return {"Version": "2012-10-17", "Statement": statements}


def mfa_trust_policy(account_id: str) -> dict:
    """Trust this account's principals, only with MFA; IAM policies pick which users."""
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }],
    }


class Iam(Construct):
    """Groups with their policies, users in their groups, console logins; MFA if required.

    `account_id` may be a Terraform expression (the account stack's variable).  No access
    keys are created: users make their own after first sign-in, so none sit in state.
    """

    def __init__(self, scope: Construct, id: str, env: Environment, account_id: str) -> None:
        super().__init__(scope, id)
        tags = {"managed-by": MANAGED_BY}
        self.groups: dict[str, IamGroup] = {}
        for group in env.groups:
            resource = IamGroup(self, f"group-{group.name}", name=group.name)
            resource.override_logical_id(group.tf_name)
            self.groups[group.name] = resource
            for policy_arn in group.policies:
                attachment = IamGroupPolicyAttachment(
                    self, f"group-{group.name}-{policy_arn}", group=resource.name, policy_arn=policy_arn
                )
                attachment.override_logical_id(tf_name(group.name, policy_arn.rsplit("/", 1)[-1]))

        self.users: dict[str, IamUser] = {}
        for user in env.users:
            resource = IamUser(self, f"user-{user.name}", name=user.name, tags=tags)
            resource.override_logical_id(user.tf_name)
            self.users[user.name] = resource
            if user.groups:
                membership = IamUserGroupMembership(
                    self,
                    f"membership-{user.name}",
                    user=resource.name,
                    groups=[self.groups[g].name for g in user.groups],
                )
                membership.override_logical_id(user.tf_name)
            if user.console:
                login = IamUserLoginProfile(
                    self,
                    f"login-{user.name}",
                    user=resource.name,
                    password_reset_required=True,
                    pgp_key=user.pgp_key,
                    # The password is set once, then owned by the user: never reset it.
                    lifecycle=TerraformResourceLifecycle(
                        ignore_changes=["password_length", "password_reset_required", "pgp_key"]
                    ),
                )
                login.override_logical_id(user.tf_name)

        if env.mfa_required:
            self._require_mfa(env, account_id, tags)

    def _require_mfa(self, env: Environment, account_id: str, tags: dict[str, str]) -> None:
        policy = IamPolicy(
            self,
            "require-mfa",
            name=MFA_POLICY_NAME,
            description="Deny all but MFA and password self-service until signed in with MFA",
            policy=json.dumps(require_mfa_policy(account_id, [g.admin_role_name for g in env.groups])),
            tags=tags,
        )
        policy.override_logical_id("require_mfa")
        for user in env.users:
            attachment = IamUserPolicyAttachment(
                self, f"require-mfa-{user.name}", user=self.users[user.name].name, policy_arn=policy.arn
            )
            attachment.override_logical_id(tf_name("require_mfa", user.name))

        # The AWS CLI honours mfa_serial only on role profiles, so each group gets a role
        # with the group's policies that can only be assumed with MFA.
        for group in env.groups:
            role = IamRole(
                self,
                f"mfa-role-{group.name}",
                name=group.admin_role_name,
                description=f"{group.name} with MFA (assumed by the awsenvs CLI profiles)",
                assume_role_policy=json.dumps(mfa_trust_policy(account_id)),
                max_session_duration=3600 * 4,
                tags=tags,
            )
            role.override_logical_id(tf_name(group.admin_role_name))
            for policy_arn in group.policies:
                attachment = IamRolePolicyAttachment(
                    self, f"mfa-role-{group.name}-{policy_arn}", role=role.name, policy_arn=policy_arn
                )
                attachment.override_logical_id(tf_name(group.admin_role_name, policy_arn.rsplit("/", 1)[-1]))
            # Members may assume their group's role (admins could anyway; others need this).
            assume = IamGroupPolicy(
                self,
                f"assume-{group.name}",
                name=f"assume-{group.admin_role_name}",
                group=self.groups[group.name].name,
                policy=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role.arn}],
                }),
            )
            assume.override_logical_id(tf_name("assume", group.admin_role_name))
