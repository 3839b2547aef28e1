"""The local AWS emulator of `sandbox` and the end-to-end tests: moto's server, plus the
read-only IAM calls the AWS provider makes that moto does not answer.

Only gaps are filled, with what is true in the emulator, never a behaviour awsenvs relies
on: the provider lists a user's service-specific credentials (CodeCommit / Keyspaces
passwords) before deleting it with `force_destroy`, moto answers that call with HTTP 500,
and the provider then retries for minutes.  Nobody in the emulator has such credentials,
so the answer is an empty list.

    python -m awsenvs.moto_server -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import sys

from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse
from moto.server import main


def _list_service_specific_credentials(self: IamResponse) -> ActionResult:
    return ActionResult({"ServiceSpecificCredentials": []})


if not hasattr(IamResponse, "list_service_specific_credentials"):
    IamResponse.list_service_specific_credentials = _list_service_specific_credentials

if __name__ == "__main__":
    sys.exit(main())
