"""Guardrails: one service control policy per product OU (text in `guardrail_policies`)."""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_aws.organizations_policy import OrganizationsPolicy
from cdktn_provider_aws.organizations_policy_attachment import OrganizationsPolicyAttachment
from constructs import Construct

from awsenvs.config import SERVICE_CONTROL_POLICY, Org
from awsenvs.modules.guardrail_policies import guardrail_policies


class Guardrails(Construct):
    """Each product with guardrails gets its SCP attached to its OU (`ou_ids`: product -> OU id).

    `depends_on` is the organization: a policy can only be created once the SCP policy type
    is enabled in the root, which the organization resource does.
    """

    def __init__(self, scope: Construct, id: str, org: Org, ou_ids: dict[str, str],
                 depends_on: list[ITerraformDependable]) -> None:
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
