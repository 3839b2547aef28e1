"""The IAM policy documents of an account stack, as pure functions (no jsii): the require-MFA
policy, the MFA roles' trust and the group's assume-role policy.  modules/iam.py puts them in
the stack; audit's drift check (awsenvs.drift) compares the live ones with them."""

from __future__ import annotations


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


def require_mfa_policy(account_id: str, admin_role_arns: list[str]) -> dict:
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
    if admin_role_arns:
        statements.append(
            {"Sid": "DenyAssumingOtherRolesIfNoMFA", "Effect": "Deny", "Action": "sts:AssumeRole",
             "NotResource": admin_role_arns,
             "Condition": no_mfa}
        )
    else:
        statements[-1]["NotAction"].remove("sts:AssumeRole")
    return {"Version": "2012-10-17", "Statement": statements}


def mfa_trust_policy(member_arns: list[str], grants: list[tuple[str, str]] = ()) -> dict:
    """Trust exactly these users (a group's members), only with MFA, only as themselves;
    and each granted user (`grants`: user ARN, end) the same way until the grant's end
    (aws:CurrentTime, DateLessThan: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-currenttime).

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
    statements = [_assume_with_mfa(member_arns)] if member_arns else []
    for user_arn, until in grants:
        statements.append({**_assume_with_mfa(user_arn),
                           "Condition": {**_assume_with_mfa(user_arn)["Condition"],
                                         "DateLessThan": {"aws:CurrentTime": until}}})
    if not statements:
        # Only eligible users and no grant: nobody may assume it (a trust policy needs a statement).
        statements = [{"Sid": "NobodyUntilAGrant", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    return {"Version": "2012-10-17", "Statement": statements}


def _assume_with_mfa(principal) -> dict:
    return {
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
        "Condition": {
            "Bool": {"aws:MultiFactorAuthPresent": "true"},
            "StringEquals": {"sts:RoleSessionName": USERNAME},
        },
    }


def elevation_expiry_policy(role_id: str, active: list[tuple[str, str]], ended: list[tuple[str, str]]) -> dict:
    """The MFA role's inline policy that ends each grant's sessions on AWS's clock.

    A grant's trust statement only stops new sessions after its end (aws:CurrentTime is
    compared when AssumeRole is called); a session begun before lasts its duration.  So
    each of the role's sessions named after a granted user (`<role id>:<user>`: aws:userid
    of a role session, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable;
    the trust makes the session name the user's) is denied everything:
    - `active` (user, until): once aws:CurrentTime is past the grant's end;
    - `ended` (user, end): a grant that expired or was revoked, whose trust statement is
      gone: every session issued before its end (aws:TokenIssueTime, AWS's own way to revoke
      a role's sessions: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html),
      kept until the last of them has run out (one role session).
    An explicit deny wins over every allow
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)."""
    statements = [
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:userid": f"{role_id}:{user}"},
                       "DateGreaterThan": {"aws:CurrentTime": until}}}
        for user, until in active
    ] + [
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:userid": f"{role_id}:{user}"},
                       "DateLessThan": {"aws:TokenIssueTime": end}}}
        for user, end in ended
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def assume_role_policy(role_arn: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}


def permission_set_expiry_policy(active: list[tuple[str, str, str]], ended: list[tuple[str, str, str]]) -> dict:
    """identity_center: the permission set's inline policy that ends each grant of it on
    AWS's clock, as elevation_expiry_policy does for an MFA role.  The permission set is one
    role in every account it is assigned to (`AWSReservedSSO_<set>_<id>`), shared with the
    users who hold the group: a statement names the grant's user by the session (Identity
    Center names it after the user: aws:userid `<role id>:<user name>`) and its account
    (aws:PrincipalAccount).  `active` / `ended`: (user, account id, end)."""
    def statement(user: str, account: str, condition: dict) -> dict:
        return {"Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"StringLike": {"aws:userid": f"*:{user}"},
                              "StringEquals": {"aws:PrincipalAccount": account}, **condition}}

    return {"Version": "2012-10-17", "Statement": [
        *(statement(user, account, {"DateGreaterThan": {"aws:CurrentTime": until}}) for user, account, until in active),
        *(statement(user, account, {"DateLessThan": {"aws:TokenIssueTime": end}}) for user, account, end in ended),
    ]}


def break_glass_policy(account_id: str) -> dict:
    """The emergency users' own policy beside AdministratorAccess: until they sign in with
    MFA, only setting up their MFA device and changing the initial password (the same
    self-service the require-MFA policy leaves); never access keys of their own (console
    only: an explicit deny wins over the administrator's allow)."""
    own_user = f"arn:aws:iam::{account_id}:user/{USERNAME}"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyAllExceptMfaSetupWithoutMfa", "Effect": "Deny", "NotAction": _SELF_SERVICE_WITHOUT_MFA,
         "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
        {"Sid": "NoAccessKeys", "Effect": "Deny", "Action": ["iam:CreateAccessKey", "iam:UpdateAccessKey"],
         "Resource": own_user},
    ]}


def sign_in_event_pattern(users) -> dict:
    """EventBridge's match for a console sign-in of these IAM users, as CloudTrail delivers
    it (detail-type `AWS Console Sign In via CloudTrail`, userIdentity type IAMUser:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html)."""
    return {"source": ["aws.signin"], "detail-type": ["AWS Console Sign In via CloudTrail"],
            "detail": {"userIdentity": {"type": ["IAMUser"], "userName": sorted(users)}}}
