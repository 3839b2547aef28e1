"""IAM in one account: groups, users, memberships, console logins, and MFA enforcement."""

from __future__ import annotations

import json

from typing import Callable, Sequence

from cdktn import TerraformLocal, TerraformResourceLifecycle, Token
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.iam_group import IamGroup
from cdktn_provider_aws.iam_group_policy import IamGroupPolicy
from cdktn_provider_aws.iam_group_policy_attachment import IamGroupPolicyAttachment
from cdktn_provider_aws.iam_policy import IamPolicy
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktn_provider_aws.iam_user import IamUser
from cdktn_provider_aws.iam_user_group_membership import IamUserGroupMembership
from cdktn_provider_aws.iam_user_login_profile import IamUserLoginProfile
from constructs import Construct

from awsenvs.config import (
    ELEVATION_EXPIRY_POLICY,
    MANAGED_BY,
    MFA_GROUP_NAME,
    MFA_POLICY_ADDRESS,
    MFA_POLICY_NAME,
    MFA_ROLE_MAX_SESSION_SECONDS,
    Grant,
    Group,
    User,
    grant_tags,
    tf_name,
)
from awsenvs.hcl import Expression, expression
from awsenvs.modules.iam_policies import (
    assume_role_policy,
    elevation_expiry_policy,
    mfa_trust_policy,
    require_mfa_policy,
)

MFA_GROUP_ID = tf_name(MFA_GROUP_NAME)

class Iam(Construct):
    """Groups with their policies, users in their groups, console logins; MFA if required.

    Typed inputs: the groups and users of one account (`awsenvs.config.Group` / `User`).
    `account_id` may be a Terraform expression (the account stack's variable).  No access
    keys are created: users make their own after first sign-in, so none sit in state.
    """

    def __init__(self, scope: Construct, id: str, groups: Sequence[Group], users: Sequence[User],
                 mfa_required: bool, account_id: str,
                 grants_of: Callable[[Group], Sequence[Grant]] = lambda group: (),
                 ended_grants_of: Callable[[Group], Sequence[Grant]] = lambda group: ()) -> None:
        """`grants_of` / `ended_grants_of`: a group's active grants, and those ended less than
        a session ago (the environment's, Environment.grants_of)."""
        super().__init__(scope, id)
        # A reference (`resource.name`) is a round-trip to the jsii runtime: each is read
        # once and reused (the same token), which matters with hundreds of stacks.
        self.groups: dict[str, IamGroup] = {}
        group_names: dict[str, str] = {}
        for group in groups:
            resource = IamGroup(self, f"group-{group.name}", name=group.name)
            resource.override_logical_id(group.tf_name)
            self.groups[group.name] = resource
            group_names[group.name] = resource.name
            for policy_arn in group.policies:
                attachment = IamGroupPolicyAttachment(
                    self, f"group-{group.name}-{policy_arn}", group=group_names[group.name], policy_arn=policy_arn
                )
                attachment.override_logical_id(tf_name(group.name, policy_arn.rsplit("/", 1)[-1]))
        mfa_group_names: list[str] = []
        if mfa_required:
            policy = require_mfa_policy(account_id, [f"arn:aws:iam::{account_id}:role/{g.admin_role_name}" for g in groups])
            mfa_group_names.append(_mfa_group(self, json.dumps(policy)).name)

        self.users: dict[str, IamUser] = {}
        user_arns: dict[str, str] = {}
        for user in users:
            resource = _user(self, f"user-{user.name}", user.name)
            resource.override_logical_id(user.tf_name)
            self.users[user.name] = resource
            user_name = resource.name
            names = [group_names[g] for g in user.groups] + mfa_group_names
            if names:
                membership = IamUserGroupMembership(self, f"membership-{user.name}", user=user_name, groups=names)
                membership.override_logical_id(user.tf_name)
            if user.console:
                _login(self, f"login-{user.name}", user_name, user.pgp_key).override_logical_id(user.tf_name)
            if mfa_required:
                user_arns[user.name] = resource.arn

        if mfa_required:
            # The AWS CLI honours mfa_serial only on role profiles, so each group gets a role
            # with the group's policies that only its members can assume, with MFA.
            # A grant of an eligible group is a statement for its user in the trust, with an end
            # AWS compares (aws:CurrentTime), and denies in the role's own policy that end the
            # sessions begun before (iam_policies.elevation_expiry_policy); a tag per grant
            # says whose it is on the role itself.
            for group in groups:
                members = [user_arns[u.name] for u in group.members(users)]
                active, ended = grants_of(group), ended_grants_of(group)
                granted = [(user_arns[g.user], g.until_text) for g in active]
                role = _mfa_role(self, f"mfa-role-{group.name}", group.name,
                                 json.dumps(mfa_trust_policy(members, granted)), grant_tags(active))
                role.override_logical_id(tf_name(group.admin_role_name))
                if active or ended:
                    expiry = IamRolePolicy(self, f"elevation-expiry-{group.name}", name=ELEVATION_EXPIRY_POLICY, role=role.name,
                                           policy=json.dumps(elevation_expiry_policy(
                                               role.unique_id, [(g.user, g.until_text) for g in active],
                                               [(g.user, g.end_text) for g in ended])))
                    expiry.override_logical_id(tf_name(group.admin_role_name, "elevation_expiry"))
                role_name = role.name
                for policy_arn in group.policies:
                    attachment = IamRolePolicyAttachment(
                        self, f"mfa-role-{group.name}-{policy_arn}", role=role_name, policy_arn=policy_arn
                    )
                    attachment.override_logical_id(tf_name(group.admin_role_name, policy_arn.rsplit("/", 1)[-1]))
                assume = _assume_role_policy(self, f"assume-{group.name}", group.admin_role_name,
                                             group_names[group.name], json.dumps(assume_role_policy(role.arn)))
                assume.override_logical_id(tf_name("assume", group.admin_role_name))


class IamModule(Construct):
    """The same IAM as `Iam`, for the exported `iam` Terraform module: driven by its variables.

    Groups and users arrive as maps (`var.groups`, `var.users`), so every resource is a
    `for_each` over them instead of a Python loop; the resources themselves, their settings
    and the policy documents are the ones `Iam` uses (the helpers below and the policy
    functions above).  The account id is the caller's (`aws_caller_identity`).
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        DataAwsCallerIdentity(self, "current").override_logical_id("current")
        account = "${data.aws_caller_identity.current.account_id}"
        # One entry per (group, policy): `<group>/<policy arn>` -> both.
        policies = TerraformLocal(self, "group_policies", "${merge([for name, group in var.groups : "
                                  "{for arn in group.policies : \"${name}/${arn}\" => {group = name, policy_arn = arn}}]...)}")
        policies.override_logical_id("group_policies")

        group = IamGroup(self, "group", name="${each.key}")
        _for_each(group, "group", "${var.groups}")
        attachment = IamGroupPolicyAttachment(self, "group-policy", group="${aws_iam_group.group[each.value.group].name}",
                                              policy_arn="${each.value.policy_arn}")
        _for_each(attachment, "group_policy", "${local.group_policies}")

        role_arns = Expression(f'[for name in keys(var.groups) : "arn:aws:iam::{account}:role/${{name}}-mfa"]')
        _mfa_group(self, _jsonencode(require_mfa_policy(account, role_arns)), count=Token.as_number("${var.mfa_required ? 1 : 0}"))

        user = _user(self, "user", "${each.key}")
        _for_each(user, "user", "${var.users}")
        membership = IamUserGroupMembership(
            self, "membership", user="${aws_iam_user.user[each.key].name}",
            groups=Token.as_list("${concat([for name in each.value.groups : aws_iam_group.group[name].name], "
                                 f"aws_iam_group.{MFA_GROUP_ID}[*].name)}}"),
        )
        _for_each(membership, "membership", "${{for name, user in var.users : name => user "
                                             "if length(user.groups) > 0 || var.mfa_required}}")
        login = _login(self, "login", "${aws_iam_user.user[each.key].name}", "${each.value.pgp_key}")
        _for_each(login, "login", "${{for name, user in var.users : name => user if user.console}}")

        members = Expression("[for name, user in var.users : aws_iam_user.user[name].arn if contains(user.groups, each.key)]")
        role = _mfa_role(self, "mfa-role", "${each.key}", _jsonencode(mfa_trust_policy(members)))
        _for_each(role, "mfa_role", "${var.mfa_required ? var.groups : {}}")
        role_attachment = IamRolePolicyAttachment(self, "mfa-role-policy", role="${aws_iam_role.mfa_role[each.value.group].name}",
                                                  policy_arn="${each.value.policy_arn}")
        _for_each(role_attachment, "mfa_role_policy", "${var.mfa_required ? local.group_policies : {}}")
        assume = _assume_role_policy(self, "assume", "${each.key}-mfa", "${aws_iam_group.group[each.key].name}",
                                     _jsonencode(assume_role_policy("${aws_iam_role.mfa_role[each.key].arn}")))
        _for_each(assume, "assume", "${var.mfa_required ? var.groups : {}}")


# -- the resources both constructs make, with the same settings ------------------------------


def _user(scope: Construct, id: str, name: str) -> IamUser:
    # force_destroy: users create their own access keys and MFA devices, and DeleteUser
    # fails with DeleteConflict while any exist; removing a user from org.yaml must still
    # remove them (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteUser.html).
    return IamUser(scope, id, name=name, force_destroy=True, tags={"managed-by": MANAGED_BY})


def _login(scope: Construct, id: str, user: str, pgp_key: str | None) -> IamUserLoginProfile:
    return IamUserLoginProfile(
        scope, id, user=user, password_reset_required=True, pgp_key=pgp_key,
        # The password is set once, then owned by the user: never reset it.
        lifecycle=TerraformResourceLifecycle(ignore_changes=["password_length", "password_reset_required", "pgp_key"]),
    )


def _mfa_group(scope: Construct, policy_json: str, count: float | None = None) -> IamGroup:
    """The group every user of the account is in, carrying the require-MFA policy.

    `count` (the module's `var.mfa_required ? 1 : 0`) makes all three conditional; the
    references then name instance 0."""
    at = "" if count is None else "[0]"
    group = IamGroup(scope, "mfa-group", name=MFA_GROUP_NAME, count=count)
    group.override_logical_id(MFA_GROUP_ID)
    policy = IamPolicy(
        scope,
        "require-mfa",
        name=MFA_POLICY_NAME,
        description="Deny all but MFA and password self-service until signed in with MFA",
        policy=policy_json,
        tags={"managed-by": MANAGED_BY},
        count=count,
    )
    policy.override_logical_id(MFA_POLICY_ADDRESS.split(".")[1])
    attachment = IamGroupPolicyAttachment(
        scope, "require-mfa-attachment", count=count,
        group=f"${{aws_iam_group.{MFA_GROUP_ID}{at}.name}}", policy_arn=f"${{{MFA_POLICY_ADDRESS}{at}.arn}}",
    )
    attachment.override_logical_id("require_mfa")
    return group


def _mfa_role(scope: Construct, id: str, group_name: str, trust_policy_json: str,
              tags: dict[str, str] | None = None) -> IamRole:
    return IamRole(
        scope,
        id,
        name=f"{group_name}-mfa",
        description=f"{group_name} with MFA (assumed by the awsenvs CLI profiles)",
        assume_role_policy=trust_policy_json,
        max_session_duration=MFA_ROLE_MAX_SESSION_SECONDS,
        tags={"managed-by": MANAGED_BY, **(tags or {})},
    )


def _assume_role_policy(scope: Construct, id: str, role_name: str, group: str, policy_json: str) -> IamGroupPolicy:
    # Members may assume their group's role (admins could anyway; others need this).
    return IamGroupPolicy(scope, id, name=f"assume-{role_name}", group=group, policy=policy_json)


def _jsonencode(document: dict) -> str:
    """A policy document as `jsonencode(...)` of an HCL object: its strings keep their
    references (`${each.key}`), Expressions (for expressions) stay expressions."""
    return "${jsonencode(" + expression(document) + ")}"


def _for_each(resource, logical_id: str, expression: str) -> None:
    resource.override_logical_id(logical_id)
    resource.add_override("for_each", expression)
