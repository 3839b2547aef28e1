"""The organization, one OU per product, one account per environment."""

from __future__ import annotations

from cdktn import TerraformOutput, TerraformResourceLifecycle, Token
from cdktn_provider_aws.iam_organizations_features import IamOrganizationsFeatures
from cdktn_provider_aws.organizations_account import OrganizationsAccount
from cdktn_provider_aws.organizations_organization import OrganizationsOrganization
from cdktn_provider_aws.organizations_organizational_unit import OrganizationsOrganizationalUnit
from constructs import Construct

from awsenvs.config import ACCOUNT_IDS_OUTPUT, IAM_PRINCIPAL, ROOT_ACCESS_ADDRESS, Org

# Centralized root access for member accounts: delete their root credentials and run
# privileged root tasks from the management account, so member accounts need none
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-enable-root-access.html).
ROOT_ACCESS_FEATURES = ["RootCredentialsManagement", "RootSessions"]


class Organization(Construct):
    """The AWS Organization (feature set ALL) with an OU per product and its accounts.

    New environments get a new member account. Environments with an `account_id` are
    adopted: an import block brings the existing account into state, and the resource
    moves it into the product's OU. Nothing here is ever destroyed by accident: every
    account and the organization carry `prevent_destroy`, and `close_on_deletion` is off.
    """

    def __init__(self, scope: Construct, id: str, org: Org) -> None:
        super().__init__(scope, id)
        self.organization = _organization(self, sorted(org.trusted_services), sorted(org.policy_types))
        if org.organization_id:
            self.organization.import_from(org.organization_id)

        if org.centralized_root:
            # Needs trusted access for iam.amazonaws.com, which config adds to the organization's list.
            _root_access(self, [self.organization])

        root_id = self.organization.roots.get(0).id
        self.accounts: dict[str, OrganizationsAccount] = {}
        self.ous: dict[str, OrganizationsOrganizationalUnit] = {}  # product name -> its OU
        for product in org.products:
            ou = OrganizationsOrganizationalUnit(self, f"ou-{product.name}", name=product.ou_name, parent_id=root_id)
            ou.override_logical_id(product.tf_name)
            self.ous[product.name] = ou
            ou_id = ou.id  # read once (a jsii round-trip), shared by its accounts
            for env in product.environments:
                account = _account(
                    self, f"account-{env.stack}", env.account_name, env.email, ou_id,
                    # role_name is only sent at creation and cannot be read back, so it is
                    # left out for adopted accounts (and ignored afterwards, see _account).
                    None if env.adopted else env.role_name, env.tags,
                )
                account.override_logical_id(env.tf_name)
                if env.adopted:
                    account.import_from(env.account_id)
                self.accounts[env.stack] = account

        TerraformOutput(
            scope,
            ACCOUNT_IDS_OUTPUT,
            description="Account id of every environment, by stack name",
            value={stack: account.id for stack, account in self.accounts.items()},
        )


class OrganizationModule(Construct):
    """The same organization, for the exported `organization` Terraform module.

    OUs and accounts arrive as variables (`var.organizational_units`, `var.accounts`) and
    become `for_each` resources; the organization and account resources, with their
    protections, are the ones `Organization` makes.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        # Centralized root access needs trusted access for IAM, added as config adds it for org.yaml.
        organization = _organization(
            self, Token.as_list(f'${{sort(distinct(concat(var.trusted_services, var.centralized_root ? ["{IAM_PRINCIPAL}"] : [])))}}'),
            Token.as_list("${var.policy_types}"))
        features = _root_access(self, [organization])
        features.add_override("count", "${var.centralized_root ? 1 : 0}")
        ou = OrganizationsOrganizationalUnit(self, "ou", name="${each.key}", parent_id=organization.roots.get(0).id)
        ou.override_logical_id("ou")
        ou.add_override("for_each", "${var.organizational_units}")
        account = _account(self, "account", "${each.key}", "${each.value.email}",
                           "${aws_organizations_organizational_unit.ou[each.value.organizational_unit].id}",
                           "${each.value.role_name}", Token.as_string_map("${each.value.tags}"))
        account.override_logical_id("account")
        account.add_override("for_each", "${var.accounts}")


def _root_access(scope: Construct, depends_on: list) -> IamOrganizationsFeatures:
    features = IamOrganizationsFeatures(scope, "root-access", enabled_features=ROOT_ACCESS_FEATURES, depends_on=depends_on)
    features.override_logical_id(ROOT_ACCESS_ADDRESS.split(".")[1])
    return features


def _organization(scope: Construct, trusted_services: list[str], policy_types: list[str]) -> OrganizationsOrganization:
    organization = OrganizationsOrganization(
        scope,
        "organization",
        feature_set="ALL",
        # Set explicitly: in the provider both lists are Optional, not Computed, so an
        # unset list would disable every trusted service / policy type the live
        # organization has. The runner refuses a plan that would disable one that
        # org.yaml does not name under disable_* (awsenvs.checks).
        aws_service_access_principals=trusted_services,
        enabled_policy_types=policy_types,
        lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
    )
    organization.override_logical_id("organization")
    return organization


def _account(scope: Construct, id: str, name: str, email: str, parent_id: str, role_name: str | None,
             tags: dict[str, str]) -> OrganizationsAccount:
    return OrganizationsAccount(
        scope,
        id,
        name=name,
        email=email,
        parent_id=parent_id,
        close_on_deletion=False,
        role_name=role_name,
        tags=tags,
        # role_name and iam_user_access_to_billing are only sent at creation (provider
        # docs); a difference would otherwise plan a replacement of the account.
        lifecycle=TerraformResourceLifecycle(prevent_destroy=True, ignore_changes=["role_name", "iam_user_access_to_billing"]),
    )
