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

from typing import Mapping, Sequence

from cdktn import Postcondition, TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_aws.data_aws_ssoadmin_instances import DataAwsSsoadminInstances
from cdktn_provider_aws.identitystore_group import IdentitystoreGroup
from cdktn_provider_aws.identitystore_group_membership import IdentitystoreGroupMembership
from cdktn_provider_aws.identitystore_user import IdentitystoreUser, IdentitystoreUserEmails, IdentitystoreUserName
from cdktn_provider_aws.ssoadmin_account_assignment import SsoadminAccountAssignment
from cdktn_provider_aws.ssoadmin_managed_policy_attachment import SsoadminManagedPolicyAttachment
from cdktn_provider_aws.ssoadmin_permission_set import SsoadminPermissionSet
from constructs import Construct

from awsenvs.config import IDENTITY_CENTER_OUTPUT, MANAGED_BY, Assignment, Group, User, tf_name

_INSTANCES = "identity_center"


class IdentityCenter(Construct):
    """Users, groups, memberships, permission sets and assignments of one organization.

    `account_ids` maps each environment's stack to its account id (a Terraform reference to
    the account resource, or the adopted account's literal id).
    """

    def __init__(self, scope: Construct, id: str, people: Sequence[User], groups: Sequence[Group],
                 assignments: Sequence[Assignment], account_ids: Mapping[str, str]) -> None:
        super().__init__(scope, id)
        instances = DataAwsSsoadminInstances(
            self, "instances",
            lifecycle=TerraformResourceLifecycle(postcondition=[Postcondition(
                condition="${length(self.arns) > 0}",
                error_message="IAM Identity Center is not enabled in this region of the management account: enable "
                              "it in the console (IAM Identity Center > Enable), then plan again.",
            )]),
        )
        instances.override_logical_id(_INSTANCES)
        instance_arn = f"${{tolist(data.aws_ssoadmin_instances.{_INSTANCES}.arns)[0]}}"
        store_id = f"${{tolist(data.aws_ssoadmin_instances.{_INSTANCES}.identity_store_ids)[0]}}"

        users: dict[str, IdentitystoreUser] = {}
        for person in people:
            given, family = person.given_and_family_name
            user = IdentitystoreUser(
                self, f"user-{person.name}", identity_store_id=store_id, user_name=person.name,
                display_name=person.display_name, name=IdentitystoreUserName(given_name=given, family_name=family),
                emails=IdentitystoreUserEmails(value=person.email, primary=True),
            )
            user.override_logical_id(person.tf_name)
            users[person.name] = user

        identity_groups: dict[str, IdentitystoreGroup] = {}
        permission_sets: dict[str, SsoadminPermissionSet] = {}
        attachments: dict[str, list[SsoadminManagedPolicyAttachment]] = {}
        for group in groups:
            identity_group = IdentitystoreGroup(self, f"group-{group.name}", identity_store_id=store_id,
                                                display_name=group.name, description=f"{group.name} (managed by awsenvs)")
            identity_group.override_logical_id(group.tf_name)
            identity_groups[group.name] = identity_group
            permission_set = SsoadminPermissionSet(
                self, f"permission-set-{group.name}", instance_arn=instance_arn, name=group.permission_set_name,
                description=group.permission_set_description, session_duration=group.session_duration,
                tags={"managed-by": MANAGED_BY},
            )
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

        for person in people:
            for group in person.groups:
                membership = IdentitystoreGroupMembership(
                    self, f"member-{group}-{person.name}", identity_store_id=store_id,
                    group_id=identity_groups[group].group_id, member_id=users[person.name].user_id,
                )
                membership.override_logical_id(tf_name(group, person.name))

        for assignment in assignments:
            resource = SsoadminAccountAssignment(
                self, f"assignment-{assignment.tf_name}", instance_arn=instance_arn,
                permission_set_arn=permission_sets[assignment.group.name].arn,
                principal_type="USER", principal_id=users[assignment.user.name].user_id,
                target_type="AWS_ACCOUNT", target_id=account_ids[assignment.environment.stack],
                # The permission set is provisioned into the account with its policies, not before.
                depends_on=attachments[assignment.group.name],
            )
            resource.override_logical_id(assignment.tf_name)

        TerraformOutput(
            scope, IDENTITY_CENTER_OUTPUT,
            description="IAM Identity Center: the identity store id (access portal https://<id>.awsapps.com/start) and instance ARN",
            value={"identity_store_id": store_id, "instance_arn": instance_arn},
        )
