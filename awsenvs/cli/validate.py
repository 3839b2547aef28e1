"""`validate`: check org.yaml, write nothing."""

from __future__ import annotations

import click

from awsenvs.cli.common import load_org, out


@click.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Check org.yaml: schema, AWS naming rules, collisions of derived names, guardrails
    (known regions, policies within Organizations' size limit, nothing that locks the runner
    out), budgets, contacts (emails, phone numbers) and opt-in regions. Writes nothing."""
    from awsenvs.modules.guardrail_policies import data_perimeter_policies, guardrail_policies
    from awsenvs.run.explain import perimeter_warning

    org = load_org(ctx)
    policies = guardrail_policies(org)  # refuses a service control policy over the size limit
    data_perimeter_policies(org)  # and a resource control policy
    accounts = len(org.environments)
    users = len({u.name for env in org.environments for u in env.users})
    budgets = sum(1 for env in org.environments if env.budget is not None)
    out.print(
        f"{org.source}: ok: {len(org.products)} product(s), {accounts} account(s), {users} user(s), "
        f"guardrails on {len(policies)} OU(s), {budgets} budget(s), stacks: {', '.join(org.stacks)}",
        highlight=False,
    )
    for product, env in org.adopted_in_data_perimeter:
        out.print(f"note: {perimeter_warning(product, env)}", markup=False, highlight=False)
