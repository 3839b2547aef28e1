"""Guardrails: one service control policy per product OU, and one resource control policy
(the data perimeter) per product OU that has it on (texts in `guardrail_policies`)."""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_aws.organizations_policy import OrganizationsPolicy
from cdktn_provider_aws.organizations_policy_attachment import OrganizationsPolicyAttachment
from constructs import Construct

from awsenvs.config import RESOURCE_CONTROL_POLICY, SERVICE_CONTROL_POLICY, Org
from awsenvs.modules.guardrail_policies import data_perimeter_policies, guardrail_policies


class Guardrails(Construct):
    """Each product with guardrails gets its SCP attached to its OU (`ou_ids`: product -> OU id),
    and each with a data perimeter its RCP: on its OU, or, when some of its environments are
    out of it (`data_perimeter: false`), on each of the others' accounts (`account_ids`: stack
    -> account id), since an RCP on the OU reaches every account in it.

    `depends_on` is the organization: a policy can only be created once its policy type
    is enabled in the root, which the organization resource does.  `organization_id` is
    the organization's id (a reference to it), which the data perimeter names.
    """

    def __init__(self, scope: Construct, id: str, org: Org, ou_ids: dict[str, str],
                 depends_on: list[ITerraformDependable], organization_id: str,
                 account_ids: dict[str, str] | None = None) -> None:
        super().__init__(scope, id)
        self.policies: dict[str, OrganizationsPolicy] = {}
        policies = guardrail_policies(org)  # product name -> SCP text, for the products with guardrails
        for product in (p for p in org.products if p.name in policies):
            policy = OrganizationsPolicy(
                self, f"policy-{product.name}",
                name=product.guardrails_policy_name,
                description=f"awsenvs guardrails of {product.name}: {', '.join(product.guardrails.enabled)}",
                type=SERVICE_CONTROL_POLICY,
                content=policies[product.name],
                depends_on=depends_on,
            )
            policy.override_logical_id(product.guardrails_tf_name)
            attachment = OrganizationsPolicyAttachment(
                self, f"attachment-{product.name}", policy_id=policy.id, target_id=ou_ids[product.name],
            )
            attachment.override_logical_id(product.guardrails_tf_name)
            self.policies[product.name] = policy
        for product_name, text in data_perimeter_policies(org, organization_id).items():
            product = next(p for p in org.products if p.name == product_name)
            trusted = product.data_perimeter.trusted_accounts
            policy = OrganizationsPolicy(
                self, f"data-perimeter-{product.name}",
                name=product.data_perimeter_policy_name,
                description=f"awsenvs data perimeter of {product.name}: only the organization's principals"
                            + (f" and {len(trusted)} trusted accounts" if trusted else ""),
                type=RESOURCE_CONTROL_POLICY,
                content=text,
                depends_on=depends_on,
            )
            policy.override_logical_id(product.data_perimeter_tf_name)
            if not product.data_perimeter_per_account:
                attachment = OrganizationsPolicyAttachment(
                    self, f"data-perimeter-attachment-{product.name}", policy_id=policy.id, target_id=ou_ids[product.name],
                )
                attachment.override_logical_id(product.data_perimeter_tf_name)
                continue
            for env in product.perimeter_environments:
                attachment = OrganizationsPolicyAttachment(
                    self, f"data-perimeter-attachment-{env.stack}", policy_id=policy.id, target_id=(account_ids or {})[env.stack],
                )
                attachment.override_logical_id(product.data_perimeter_account_address(env).split(".", 1)[1])
