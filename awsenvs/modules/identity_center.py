"""IAM Identity Center (organization.access: identity_center), in the management account.

One identity-store user per person and one group per org.yaml group with its members; one
permission set per group with the group's managed policies; and account assignments that
give each environment's users exactly their groups' permission sets in its account.

Assignments name users, not groups: a group is shared by every product, so assigning it to
an account would let everyone in it into every account it is assigned to, and a
per-environment user list (prod restricted to one person) would no longer hold.  The
identity-store groups exist for people to see who is in what (and for the portal).
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

from cdktn import Postcondition, TerraformLocal, TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_aws.data_aws_ssoadmin_instances import DataAwsSsoadminInstances
from cdktn_provider_aws.identitystore_group import IdentitystoreGroup
from cdktn_provider_aws.identitystore_group_membership import IdentitystoreGroupMembership
from cdktn_provider_aws.identitystore_user import IdentitystoreUser, IdentitystoreUserEmails, IdentitystoreUserName
from cdktn_provider_aws.ssoadmin_account_assignment import SsoadminAccountAssignment
from cdktn_provider_aws.ssoadmin_managed_policy_attachment import SsoadminManagedPolicyAttachment
from cdktn_provider_aws.ssoadmin_permission_set import SsoadminPermissionSet
from cdktn_provider_aws.ssoadmin_permission_set_inline_policy import SsoadminPermissionSetInlinePolicy
from constructs import Construct

from awsenvs.config import IDENTITY_CENTER_OUTPUT, MANAGED_BY, Assignment, Environment, Group, User, tf_name
from awsenvs.modules.iam_policies import permission_set_expiry_policy

_INSTANCES = "identity_center"


class IdentityCenter(Construct):
    """Users, groups, memberships, permission sets and assignments of one organization.

    `account_ids` maps each environment's stack to its account id (a Terraform reference to
    the account resource, or the adopted account's literal id).
    """

    def __init__(self, scope: Construct, id: str, people: Sequence[User], groups: Sequence[Group],
                 assignments: Sequence[Assignment], account_ids: Mapping[str, str],
                 environments: Sequence[Environment] = ()) -> None:
        """`environments`: their grants of eligible groups end on AWS's clock through their
        permission sets' inline policies (iam_policies.permission_set_expiry_policy)."""
        super().__init__(scope, id)
        instance_arn, store_id = _instances(self)

        users: dict[str, IdentitystoreUser] = {}
        for person in people:
            given, family = person.given_and_family_name
            user = _user(self, f"user-{person.name}", store_id, person.name, person.display_name, given, family, person.email)
            user.override_logical_id(person.tf_name)
            users[person.name] = user

        identity_groups: dict[str, IdentitystoreGroup] = {}
        permission_sets: dict[str, SsoadminPermissionSet] = {}
        attachments: dict[str, list[SsoadminManagedPolicyAttachment]] = {}
        for group in groups:
            identity_group = _group(self, f"group-{group.name}", store_id, group.name)
            identity_group.override_logical_id(group.tf_name)
            identity_groups[group.name] = identity_group
            permission_set = _permission_set(self, f"permission-set-{group.name}", instance_arn, group.permission_set_name,
                                             group.permission_set_description, group.session_duration)
            permission_set.override_logical_id(group.tf_name)
            permission_sets[group.name] = permission_set
            attachments[group.name] = []
            for policy_arn in group.policies:
                attachment = SsoadminManagedPolicyAttachment(
                    self, f"policy-{group.name}-{policy_arn}", instance_arn=instance_arn,
                    permission_set_arn=permission_set.arn, managed_policy_arn=policy_arn,
                )
                attachment.override_logical_id(tf_name(group.name, policy_arn.rsplit("/", 1)[-1]))
                attachments[group.name].append(attachment)

        for group in groups:
            active = [(g.user, account_ids[env.stack], g.until_text) for env in environments for g in env.grants_of(group)]
            ended = [(g.user, account_ids[env.stack], g.end_text) for env in environments for g in env.ended_grants_of(group)]
            if active or ended:
                expiry = SsoadminPermissionSetInlinePolicy(
                    self, f"elevation-expiry-{group.name}", instance_arn=instance_arn,
                    permission_set_arn=permission_sets[group.name].arn,
                    inline_policy=json.dumps(permission_set_expiry_policy(active, ended)))
                expiry.override_logical_id(group.tf_name)

        for person in people:
            for group in person.groups:
                membership = IdentitystoreGroupMembership(
                    self, f"member-{group}-{person.name}", identity_store_id=store_id,
                    group_id=identity_groups[group].group_id, member_id=users[person.name].user_id,
                )
                membership.override_logical_id(tf_name(group, person.name))

        for assignment in assignments:
            resource = _assignment(
                self, f"assignment-{assignment.tf_name}", instance_arn, permission_sets[assignment.group.name].arn,
                users[assignment.user.name].user_id, account_ids[assignment.environment.stack],
                # The permission set is provisioned into the account with its policies, not before.
                attachments[assignment.group.name],
            )
            resource.override_logical_id(assignment.tf_name)

        TerraformOutput(
            scope, IDENTITY_CENTER_OUTPUT,
            description="IAM Identity Center: the identity store id (access portal https://<id>.awsapps.com/start) and instance ARN",
            value={"identity_store_id": store_id, "instance_arn": instance_arn},
        )


class IdentityCenterModule(Construct):
    """The same Identity Center, for the exported `identity_center` Terraform module.

    People, groups and assignments arrive as maps (`var.users`, `var.groups`,
    `var.assignments`) and become `for_each` resources; the resources and their settings are
    the ones `IdentityCenter` makes (the helpers below).  An assignment names a user, a
    group (its permission set) and an account id, as the stacks' assignments do.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        instance_arn, store_id = _instances(self)
        # One entry per (group, policy) and per (group, member): `<group>/<policy arn>`, `<group>/<user>`.
        policies = TerraformLocal(self, "group_policies", "${merge([for name, group in var.groups : "
                                  "{for arn in group.policies : \"${name}/${arn}\" => {group = name, policy_arn = arn}}]...)}")
        policies.override_logical_id("group_policies")
        members = TerraformLocal(self, "memberships", "${merge([for name, user in var.users : "
                                 "{for group in user.groups : \"${group}/${name}\" => {group = group, user = name}}]...)}")
        members.override_logical_id("memberships")
        # `Maria Lopez` -> (Maria, Lopez); one word is both, as User.given_and_family_name.
        names = TerraformLocal(self, "names", "${{for name, user in var.users : name => "
                               "regex(\"^(\\\\S+)\\\\s*(.*)$\", trimspace(user.display_name))}}")
        names.override_logical_id("names")

        user = _user(self, "user", store_id, "${each.key}", "${each.value.display_name}", "${local.names[each.key][0]}",
                     "${local.names[each.key][1] != \"\" ? local.names[each.key][1] : local.names[each.key][0]}",
                     "${each.value.email}")
        _for_each(user, "user", "${var.users}")
        group = _group(self, "group", store_id, "${each.key}")
        _for_each(group, "group", "${var.groups}")
        permission_set = _permission_set(self, "permission-set", instance_arn, "${each.key}",
                                         "${coalesce(each.value.description, \"${each.key} (managed by awsenvs)\")}",
                                         "PT${each.value.session_hours}H")
        _for_each(permission_set, "permission_set", "${var.groups}")
        attachment = SsoadminManagedPolicyAttachment(
            self, "policy", instance_arn=instance_arn,
            permission_set_arn="${aws_ssoadmin_permission_set.permission_set[each.value.group].arn}",
            managed_policy_arn="${each.value.policy_arn}",
        )
        _for_each(attachment, "policy", "${local.group_policies}")
        membership = IdentitystoreGroupMembership(
            self, "member", identity_store_id=store_id, group_id="${aws_identitystore_group.group[each.value.group].group_id}",
            member_id="${aws_identitystore_user.user[each.value.user].user_id}",
        )
        _for_each(membership, "member", "${local.memberships}")
        assignment = _assignment(self, "assignment", instance_arn,
                                 "${aws_ssoadmin_permission_set.permission_set[each.value.group].arn}",
                                 "${aws_identitystore_user.user[each.value.user].user_id}", "${each.value.account_id}",
                                 [attachment])
        _for_each(assignment, "assignment", "${var.assignments}")


# -- the resources both constructs make, with the same settings ------------------------------


def _instances(scope: Construct) -> tuple[str, str]:
    """The organization's Identity Center instance: its ARN and identity store id (references)."""
    instances = DataAwsSsoadminInstances(
        scope, "instances",
        lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
            condition="${length(self.arns) > 0}",
            error_message="IAM Identity Center is not enabled in this region of the management account: enable "
                          "it in the console (IAM Identity Center > Enable), then plan again.",
        )]),
    )
    instances.override_logical_id(_INSTANCES)
    return (f"${{tolist(data.aws_ssoadmin_instances.{_INSTANCES}.arns)[0]}}",
            f"${{tolist(data.aws_ssoadmin_instances.{_INSTANCES}.identity_store_ids)[0]}}")


def _user(scope: Construct, id: str, store_id: str, user_name: str, display_name: str, given: str, family: str,
          email: str) -> IdentitystoreUser:
    return IdentitystoreUser(
        scope, id, identity_store_id=store_id, user_name=user_name, display_name=display_name,
        name=IdentitystoreUserName(given_name=given, family_name=family),
        emails=IdentitystoreUserEmails(value=email, primary=True),
    )


def _group(scope: Construct, id: str, store_id: str, name: str) -> IdentitystoreGroup:
    return IdentitystoreGroup(scope, id, identity_store_id=store_id, display_name=name,
                              description=f"{name} (managed by awsenvs)")


def _permission_set(scope: Construct, id: str, instance_arn: str, name: str, description: str,
                    session_duration: str) -> SsoadminPermissionSet:
    return SsoadminPermissionSet(
        scope, id, instance_arn=instance_arn, name=name, description=description,
        session_duration=session_duration, tags={"managed-by": MANAGED_BY},
    )


def _assignment(scope: Construct, id: str, instance_arn: str, permission_set_arn: str, user_id: str, account_id: str,
                depends_on: list) -> SsoadminAccountAssignment:
    return SsoadminAccountAssignment(
        scope, id, instance_arn=instance_arn, permission_set_arn=permission_set_arn,
        principal_type="USER", principal_id=user_id, target_type="AWS_ACCOUNT", target_id=account_id,
        depends_on=depends_on,
    )


def _for_each(resource, logical_id: str, expression: str) -> None:
    resource.override_logical_id(logical_id)
    resource.add_override("for_each", expression)
