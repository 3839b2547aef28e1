"""Guardrails: one service control policy per product OU, and one resource control policy
(the data perimeter) per product OU that has it on (texts in `guardrail_policies`)."""

from __future__ import annotations

import json

from cdktn import ITerraformDependable, TerraformLocal
from cdktn_provider_aws.organizations_policy import OrganizationsPolicy
from cdktn_provider_aws.organizations_policy_attachment import OrganizationsPolicyAttachment
from constructs import Construct

from awsenvs.config import RESOURCE_CONTROL_POLICY, SERVICE_CONTROL_POLICY, DataPerimeter, Org
from awsenvs.hcl import Expression, expression
from awsenvs.modules.guardrail_policies import (
    allowed_regions,
    data_perimeter_policies,
    data_perimeter_policy,
    deny_leave_organization,
    deny_root_user,
    guardrail_policies,
    mfa_baseline_arns,
    protect_baseline_statements,
)


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
            policy = _policy(self, f"policy-{product.name}", product.guardrails_policy_name,
                             f"awsenvs guardrails of {product.name}: {', '.join(product.guardrails.enabled)}",
                             SERVICE_CONTROL_POLICY, policies[product.name], depends_on)
            policy.override_logical_id(product.guardrails_tf_name)
            attachment = _attachment(self, f"attachment-{product.name}", policy.id, ou_ids[product.name])
            attachment.override_logical_id(product.guardrails_tf_name)
            self.policies[product.name] = policy
        for product_name, text in data_perimeter_policies(org, organization_id).items():
            product = next(p for p in org.products if p.name == product_name)
            trusted = product.data_perimeter.trusted_accounts
            policy = _policy(self, f"data-perimeter-{product.name}", product.data_perimeter_policy_name,
                             f"awsenvs data perimeter of {product.name}: only the organization's principals"
                             + (f" and {len(trusted)} trusted accounts" if trusted else ""),
                             RESOURCE_CONTROL_POLICY, text, depends_on)
            policy.override_logical_id(product.data_perimeter_tf_name)
            if not product.data_perimeter_per_account:
                attachment = _attachment(self, f"data-perimeter-attachment-{product.name}", policy.id, ou_ids[product.name])
                attachment.override_logical_id(product.data_perimeter_tf_name)
                continue
            for env in product.perimeter_environments:
                attachment = _attachment(self, f"data-perimeter-attachment-{env.stack}", policy.id,
                                         (account_ids or {})[env.stack])
                attachment.override_logical_id(product.data_perimeter_account_address(env).split(".", 1)[1])


class GuardrailsModule(Construct):
    """The same guardrails, for the exported `guardrails` Terraform module.

    `var.service_control_policies` and `var.data_perimeters` (by policy name) say which
    guardrails each policy holds and which targets (OU or account ids) it is attached to.
    The policy text is built in Terraform from the statements `guardrail_policies` writes
    for the stacks (the same functions, with the module's variables in place of org.yaml's
    values), so the module's SCP and RCP say what the stacks' say.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        scp = _policy(self, "scp", "${each.key}", "${each.value.description}", SERVICE_CONTROL_POLICY,
                      _guardrails_content(), None)
        _for_each(scp, "scp", "${var.service_control_policies}")
        _targets(self, "scp_targets", "service_control_policies")
        _for_each(_attachment(self, "scp-attachment", "${aws_organizations_policy.scp[each.value.policy].id}",
                              "${each.value.target_id}"), "scp", "${local.scp_targets}")

        rcp = _policy(self, "data-perimeter", "${each.key}", "${each.value.description}", RESOURCE_CONTROL_POLICY,
                      _data_perimeter_content(), None)
        _for_each(rcp, "data_perimeter", "${var.data_perimeters}")
        _targets(self, "data_perimeter_targets", "data_perimeters")
        _for_each(_attachment(self, "data-perimeter-attachment", "${aws_organizations_policy.data_perimeter[each.value.policy].id}",
                              "${each.value.target_id}"), "data_perimeter", "${local.data_perimeter_targets}")


def _guardrails_content() -> str:
    """guardrails_policy in Terraform: each guardrail's statements (JSON) when it is on."""
    managing = Expression('[for role in each.value.managing_roles : "arn:aws:iam::*:role/${role}"]')
    mfa_roles = Expression(f'concat({managing}, [for role in each.value.mfa_roles : "arn:aws:iam::*:role/${{role}}"], '
                           f'{expression(mfa_baseline_arns([]))})')
    regions = allowed_regions(())
    regions[0]["Condition"]["StringNotEquals"]["aws:RequestedRegion"] = Expression("each.value.allowed_regions")
    parts = [
        f"each.value.deny_leave_organization ? [{_json(deny_leave_organization())}] : []",
        f"each.value.protect_baseline ? [length(each.value.mfa_roles) > 0 ? "
        f"{_json(protect_baseline_statements(managing, mfa_roles, mfa=True))} : "
        f"{_json(protect_baseline_statements(managing, managing, mfa=False))}] : []",
        f"each.value.deny_root_user ? [var.centralized_root ? {_json(deny_root_user(True))} : "
        f"{_json(deny_root_user(False))}] : []",
        f"length(each.value.allowed_regions) > 0 ? [{_json(regions)}] : []",
    ]
    document = json.dumps('{"Version":"2012-10-17","Statement":[%s]}')
    return f'${{format({document}, join(",", concat({", ".join(parts)})))}}'


def _data_perimeter_content() -> str:
    """data_perimeter_policy in Terraform, with and without trusted outside accounts."""
    organization_id = Expression("var.organization_id")
    trusted = data_perimeter_policy(organization_id, DataPerimeter(trusted_accounts=("",)))
    trusted["Statement"][0]["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalAccount"] = Expression(
        "each.value.trusted_accounts")
    alone = data_perimeter_policy(organization_id, DataPerimeter())
    return (f"${{length(each.value.trusted_accounts) > 0 ? jsonencode({expression(trusted)}) : "
            f"jsonencode({expression(alone)})}}")


def _json(statements: list[dict]) -> str:
    """Statements as the JSON of their items joined by commas (an HCL string expression)."""
    return 'join(",", [' + ", ".join(f"jsonencode({expression(s)})" for s in statements) + "])"


def _targets(scope: Construct, name: str, variable: str) -> None:
    """One entry per (policy, target): `<policy>/<target label>` -> both (keys known at plan time)."""
    local = TerraformLocal(scope, name, f"${{merge([for name, policy in var.{variable} : "
                                        "{for label, id in policy.targets : \"${name}/${label}\" => "
                                        "{policy = name, target_id = id}}]...)}")
    local.override_logical_id(name)


# -- the resources both constructs make, with the same settings ------------------------------


def _policy(scope: Construct, id: str, name: str, description: str, type_: str, content: str,
            depends_on: list[ITerraformDependable] | None) -> OrganizationsPolicy:
    return OrganizationsPolicy(scope, id, name=name, description=description, type=type_, content=content,
                               depends_on=depends_on)


def _attachment(scope: Construct, id: str, policy_id: str, target_id: str) -> OrganizationsPolicyAttachment:
    return OrganizationsPolicyAttachment(scope, id, policy_id=policy_id, target_id=target_id)


def _for_each(resource, logical_id: str, expression_: str) -> None:
    resource.override_logical_id(logical_id)
    resource.add_override("for_each", expression_)
