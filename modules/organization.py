"""The organization, one OU per product, one account per environment."""

from __future__ import annotations

from cdktn import TerraformOutput, TerraformResourceLifecycle
from cdktn_provider_aws.organizations_account import OrganizationsAccount
from cdktn_provider_aws.organizations_organization import OrganizationsOrganization
from cdktn_provider_aws.organizations_organizational_unit import OrganizationsOrganizationalUnit
from constructs import Construct

from awsenvs.config import ACCOUNT_IDS_OUTPUT, Environment, Org


class Organization(Construct):
    """The AWS Organization (feature set ALL) with an OU per product and its accounts.

    New environments get a new member account. Environments with an `account_id` are
    adopted: an import block brings the existing account into state, and the resource
    moves it into the product's OU. Nothing here is ever destroyed by accident: every
    account and the organization carry `prevent_destroy`, and `close_on_deletion` is off.
    """

    def __init__(self, scope: Construct, id: str, org: Org) -> None:
        super().__init__(scope, id)
        self.organization = OrganizationsOrganization(
            self,
            "organization",
            feature_set="ALL",
            # Set explicitly: in the provider both lists are Optional, not Computed, so an
            # unset list would disable every trusted service / policy type the live
            # organization has. The runner refuses a plan that would disable one that
            # org.yaml does not name under disable_* (awsenvs.preflight).
            aws_service_access_principals=sorted(org.trusted_services),
            enabled_policy_types=sorted(org.policy_types),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self.organization.override_logical_id("organization")
        if org.organization_id:
            self.organization.import_from(org.organization_id)

        root_id = self.organization.roots.get(0).id
        self.accounts: dict[str, OrganizationsAccount] = {}
        for product in org.products:
            ou = OrganizationsOrganizationalUnit(self, f"ou-{product.name}", name=product.ou_name, parent_id=root_id)
            ou.override_logical_id(product.tf_name)
            for env in product.environments:
                self.accounts[env.stack] = self._account(env, ou.id)

        TerraformOutput(
            scope,
            ACCOUNT_IDS_OUTPUT,
            description="Account id of every environment, by stack name",
            value={stack: account.id for stack, account in self.accounts.items()},
        )

    def _account(self, env: Environment, parent_id: str) -> OrganizationsAccount:
        account = OrganizationsAccount(
            self,
            f"account-{env.stack}",
            name=env.account_name,
            email=env.email,
            parent_id=parent_id,
            close_on_deletion=False,
            # role_name is only sent at creation and cannot be read back, so it is
            # left out for adopted accounts and ignored afterwards (provider docs).
            role_name=None if env.adopted else env.role_name,
            tags=env.tags,
            # iam_user_access_to_billing too is only sent at creation; a difference would
            # otherwise plan a replacement of the account.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True, ignore_changes=["role_name", "iam_user_access_to_billing"]),
        )
        account.override_logical_id(env.tf_name)
        if env.adopted:
            account.import_from(env.account_id)
        return account
