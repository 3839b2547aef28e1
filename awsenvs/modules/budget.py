"""A monthly cost budget for one account, alerting by email."""

from __future__ import annotations

from cdktn_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetNotification
from constructs import Construct

from awsenvs.config import BUDGET_ADDRESS, Budget

# Each threshold alerts twice: when actual spend passes it, and when the month's forecast does.
NOTIFICATION_TYPES = ("ACTUAL", "FORECASTED")


class MonthlyBudget(Construct):
    """A COST budget, reset each month, in the account of the provider it is built with."""

    def __init__(self, scope: Construct, id: str, name: str, budget: Budget) -> None:
        super().__init__(scope, id)
        self.budget = BudgetsBudget(
            self, "budget",
            name=name,
            budget_type="COST",
            limit_amount=budget.amount,
            limit_unit="USD",
            time_unit="MONTHLY",
            notification=[
                BudgetsBudgetNotification(
                    comparison_operator="GREATER_THAN",
                    threshold=threshold,
                    threshold_type="PERCENTAGE",
                    notification_type=kind,
                    subscriber_email_addresses=list(budget.alert_emails),
                )
                for threshold in budget.thresholds_percent
                for kind in NOTIFICATION_TYPES
            ],
        )
        self.budget.override_logical_id(BUDGET_ADDRESS.split(".")[1])
