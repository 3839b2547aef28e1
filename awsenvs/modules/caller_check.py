"""A stack's own account check, for runs that happen where awsenvs' guard does not (remote
Terraform Cloud runs, a VCS-driven workspace running the committed HCL).

The check is a postcondition on `data "aws_caller_identity"`: the data source has no
unknown inputs, so it is read while planning, and a failed postcondition is an error that
stops the plan, before anything is applied
(https://developer.hashicorp.com/terraform/language/expressions/custom-conditions).  A
`check` block would only warn (https://developer.hashicorp.com/terraform/language/checks).
It sits beside the provider's `allowed_account_ids`, which refuses the same mismatch for
the resources, and says in the run's output what to fix.
"""

from __future__ import annotations

from cdktn import Postcondition, TerraformResourceLifecycle
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct

from awsenvs.config import CALLER_CHECK_ADDRESS


class CallerCheck(Construct):
    """Fails the plan unless the run's credentials are in `expected_account` (a quoted
    literal or a Terraform expression such as `var.account_id`)."""

    def __init__(self, scope: Construct, id: str, expected_account: str, error_message: str) -> None:
        super().__init__(scope, id)
        caller = DataAwsCallerIdentity(self, "caller", lifecycle=TerraformResourceLifecycle(postcondition=[
            Postcondition(condition=f"${{self.account_id == {expected_account}}}", error_message=error_message),
        ]))
        caller.override_logical_id(CALLER_CHECK_ADDRESS.rsplit(".", 1)[1])
