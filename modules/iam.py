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
from constructs import Construct

from awsenvs.config import (
    MANAGED_BY,
    MFA_GROUP_NAME,
    MFA_POLICY_NAME,
    MFA_ROLE_MAX_SESSION_SECONDS,
    Environment,
    tf_name,
)

# What a user may do before signing in with MFA: set up their own MFA device, change the
# initial password (first sign-in), and nothing else. From the AWS IAM User Guide example
# "IAM: Allows MFA-authenticated IAM users to manage their own MFA device"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam_mfa-selfmanage.html),
# plus sts:AssumeRole on this account's MFA roles (whose trust policies themselves demand
# MFA), because the AWS CLI assumes those roles with the user's long-term keys and an MFA code.
_SELF_SERVICE_WITHOUT_MFA = [
    "iam:CreateVirtualMFADevice",
    "iam:DeleteVirtualMFADevice",
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

# `$${...}` is Terraform's escape for a literal `${...}`: an IAM policy variable.
USERNAME = "$${aws:username}"


def require_mfa_policy(account_id: str, admin_role_names: list[str]) -> dict:
    """The self-managed MFA policy: deny all but MFA/password self-service without MFA."""
    own_user = f"arn:aws:iam::{account_id}:user/{USERNAME}"
    no_mfa = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    statements = [
        {"Sid": "AllowViewAccountInfo", "Effect": "Allow",
         "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], "Resource": "*"},
        {"Sid": "AllowChangeOwnPassword", "Effect": "Allow",
         "Action": ["iam:ChangePassword", "iam:GetUser"], "Resource": own_user},
        # Device names are free in the console, so creation is allowed under any name.
        {"Sid": "AllowCreateVirtualMFADevice", "Effect": "Allow",
         "Action": ["iam:CreateVirtualMFADevice"], "Resource": f"arn:aws:iam::{account_id}:mfa/*"},
        # Deleting is limited to devices named after the user (`paul`, `paul-phone`): that
        # clears a half-finished enrolment, whose name could not be reused otherwise.  An
        # enabled device cannot be deleted before it is deactivated, which only its user may.
        {"Sid": "AllowDeleteOwnVirtualMFADevice", "Effect": "Allow",
         "Action": ["iam:DeleteVirtualMFADevice"],
         "Resource": [f"arn:aws:iam::{account_id}:mfa/{USERNAME}", f"arn:aws:iam::{account_id}:mfa/{USERNAME}-*"]},
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


def mfa_trust_policy(member_arns: list[str]) -> dict:
    """Trust exactly these users (a group's members), only with MFA, only as themselves.

    Naming the users (not the account root) means no other principal of the account can
    assume the role, whatever its own policies allow (e.g. PowerUserAccess's sts:*).  The
    users are named by ARN, so the roles depend on them: IAM refuses a trust policy naming a
    user that does not exist yet ("Invalid principal"), and keeps a deleted user's unique id
    in place of the ARN until the policy is saved again
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-users),
    which the next apply does (the live policy then differs from the configured ARNs).  The
    session name must be the caller's user name, so CloudTrail names the person
    (condition key sts:RoleSessionName with the aws:username variable:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_rolesessionname).
    """
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": member_arns},
            "Action": "sts:AssumeRole",
            "Condition": {
                "Bool": {"aws:MultiFactorAuthPresent": "true"},
                "StringEquals": {"sts:RoleSessionName": USERNAME},
            },
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
        mfa_group = self._mfa_group(env, account_id) if env.mfa_required else None

        self.users: dict[str, IamUser] = {}
        for user in env.users:
            # force_destroy: users create their own access keys and MFA devices, and
            # DeleteUser fails with DeleteConflict while any exist; removing a user from
            # org.yaml must still remove them
            # (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html).
            resource = IamUser(self, f"user-{user.name}", name=user.name, force_destroy=True, tags=tags)
            resource.override_logical_id(user.tf_name)
            self.users[user.name] = resource
            groups = [self.groups[g].name for g in user.groups] + ([mfa_group.name] if mfa_group else [])
            if groups:
                membership = IamUserGroupMembership(self, f"membership-{user.name}", user=resource.name, groups=groups)
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
            self._mfa_roles(env)

    def _mfa_group(self, env: Environment, account_id: str) -> IamGroup:
        """The group every user of the account is in, carrying the require-MFA policy."""
        group = IamGroup(self, "mfa-group", name=MFA_GROUP_NAME)
        group.override_logical_id(tf_name(MFA_GROUP_NAME))
        policy = IamPolicy(
            self,
            "require-mfa",
            name=MFA_POLICY_NAME,
            description="Deny all but MFA and password self-service until signed in with MFA",
            policy=json.dumps(require_mfa_policy(account_id, [g.admin_role_name for g in env.groups])),
            tags={"managed-by": MANAGED_BY},
        )
        policy.override_logical_id("require_mfa")
        attachment = IamGroupPolicyAttachment(self, "require-mfa-attachment", group=group.name, policy_arn=policy.arn)
        attachment.override_logical_id("require_mfa")
        return group

    def _mfa_roles(self, env: Environment) -> None:
        # The AWS CLI honours mfa_serial only on role profiles, so each group gets a role
        # with the group's policies that only its members can assume, with MFA.
        for group in env.groups:
            members = [self.users[u.name].arn for u in env.members(group)]
            role = IamRole(
                self,
                f"mfa-role-{group.name}",
                name=group.admin_role_name,
                description=f"{group.name} with MFA (assumed by the awsenvs CLI profiles)",
                assume_role_policy=json.dumps(mfa_trust_policy(members)),
                max_session_duration=MFA_ROLE_MAX_SESSION_SECONDS,
                tags={"managed-by": MANAGED_BY},
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
