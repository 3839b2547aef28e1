"""The local AWS emulator of `sandbox` and the end-to-end tests: moto's server, plus the
calls the AWS provider makes that moto does not answer.

Only gaps are filled, with what is true in the emulator, never a behaviour awsenvs relies
on.  moto answers a missing call with HTTP 500, and the provider then retries for minutes:
- IAM ListServiceSpecificCredentials: the provider lists a user's service-specific
  credentials (CodeCommit / Keyspaces passwords) before deleting it with `force_destroy`.
  Nobody in the emulator has such credentials, so the answer is an empty list.
- SSO Admin ListTagsForResource / TagResource / UntagResource: the provider reads and
  writes a permission set's tags.  They are kept on moto's own permission set object.
- SSO Admin DescribePermissionSetProvisioningStatus: the provider waits for the
  provisioning that attaching a policy starts; moto provisions at once, so it succeeded.
- Identity Store UpdateGroup / UpdateUser: the provider updates an adopted group's
  description or a user's names and email in place.  The attribute paths the provider
  sends are applied to moto's own objects; any other path is refused (HTTP 400), so a
  gap shows as an error, not as a silent success.
- Budgets DescribeSubscribersForNotification: the provider reads each notification's
  subscribers back; they are the ones moto stored with the notification.
- Budgets UpdateBudget: the provider changes an (adopted) budget's amount in place; the new
  budget replaces moto's stored one, its notifications kept.
- Budgets ListTagsForResource / TagResource / UntagResource (and the ResourceTags of
  CreateBudget, which moto drops): the provider reads and writes a budget's tags (the
  default `managed-by` tag).  They are kept per budget ARN beside moto's budgets.
- IAM GetAccountSummary's AccountPasswordPresent: moto omits the key; its root user has no
  password, so the answer is 0 (the audit's root credentials check reads it).
- Centralized root access (org.yaml's default `centralized_root: true`): Organizations'
  trusted access for `iam.amazonaws.com`, which moto refuses as an unknown service
  principal although AWS lists it (IAM and AWS Organizations:
  https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-iam.html),
  and IAM's EnableOrganizationsRootCredentialsManagement / EnableOrganizationsRootSessions,
  their Disable twins and ListOrganizationsFeatures, which moto lacks (the provider's
  aws_iam_organizations_features calls them).  They keep the enabled features on moto's
  organization and answer as AWS documents: only from the management account, only in an
  organization with all features and IAM's trusted access enabled, otherwise
  CallerIsNotManagementAccountException, OrganizationNotFoundException,
  OrganizationNotInAllFeaturesModeException or ServiceAccessNotEnabledException
  (https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableOrganizationsRootCredentialsManagement.html,
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListOrganizationsFeatures.html).
- Account Management PutAccountName: the provider renames a created account in place
  (aws_organizations_account's Update calls it when `name` changes); moto lacks the call.
  The name of moto's own account object is changed, as Organizations then lists it;
  only the management account may rename a member, as AWS allows
  (https://docs.aws.amazon.com/accounts/latest/reference/API_PutAccountName.html).
- Account Management EnableRegion / DisableRegion / GetRegionOptStatus / ListRegions: the
  provider's aws_account_region enables (or disables) an opt-in region of a member account
  from the management account and waits for its status; moto lacks the calls.  Each account
  keeps its regions' status on moto's Account Management backend: the opt-in regions
  (awsenvs.config.OPT_IN_REGIONS) start DISABLED, the others are ENABLED_BY_DEFAULT and
  cannot be changed (ValidationException, as on AWS).  A change passes through ENABLING or
  DISABLING for AWSENVS_EMULATOR_REGION_SECONDS (default 0: at once; AWS takes minutes to
  hours).  As AWS answers: enabling a region that is ENABLED or ENABLING is refused with
  ValidationException "Unable to switch region status because of its current opt-in status"
  (hashicorp/terraform-provider-aws#41430), enabling one that is DISABLING and disabling one
  that is ENABLING with ConflictException (EnableRegion's ConflictException; "you cannot
  disable the Region until the enabling process is fully completed").  Another account's
  regions are only the management account's to change, for a member of its organization
  (https://docs.aws.amazon.com/accounts/latest/reference/API_EnableRegion.html).
- S3 bucket policies: moto enforces a bucket policy's `Principal: "*"` statements but
  ignores their conditions, so the state bucket's TLS-only statement (Deny s3:* when
  `aws:SecureTransport` is false) would deny every request.  A statement whose only
  condition is `Bool aws:SecureTransport` applies only when the request's scheme matches:
  plain http requests are denied, as on AWS, and https ones (`Emulator(tls=True)`) are not.
- https: werkzeug wraps the listening socket, so every TLS handshake runs in its one accept
  thread, one after the other; under the load of parallel applies, clients queue there.  The
  handshake is moved to each connection's own thread (`_accept_then_handshake`).

Corrections where moto accepts a repeated Organizations call that AWS refuses, so that a
retry (after a lost response: the fault injection below) meets AWS's answer:
- CreateAccount with the root email of an account that exists, in any organization of the
  emulator, closed (SUSPENDED) ones included: the request ends FAILED with FailureReason
  EMAIL_ALREADY_EXISTS and no account is made (moto makes a second one).  AWS never gives a
  closed account's email to another account
  (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-closing.html,
  https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateAccountStatus.html).
  The failed request is kept for DescribeCreateAccountStatus and ListCreateAccountStatus.
- MoveAccount to the account's own parent: DuplicateAccountException
  (https://docs.aws.amazon.com/organizations/latest/APIReference/API_MoveAccount.html).
- CloseAccount: moto marks the account's State SUSPENDED, which AWS keeps for accounts it
  suspended (unpaid bills); a closed account's State is PENDING_CLOSURE, then CLOSED (its
  older Status SUSPENDED), so State is CLOSED here, at once
  (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_account_state.html).
- AttachPolicy of a policy the target already has: DuplicatePolicyAttachmentException
  (https://docs.aws.amazon.com/organizations/latest/APIReference/API_AttachPolicy.html); moto
  ignored it.  EnablePolicyType of an enabled type is moto's own
  PolicyTypeAlreadyEnabledException, as on AWS.

A correction where moto answers another question than AWS:
- SSO Admin ListAccountsForProvisionedPermissionSet: AWS lists the accounts a permission set
  is provisioned to, which CreateAccountAssignment does in the assignment's account
  (https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html);
  moto answered the caller's account whenever the set had been provisioned anywhere, and
  none otherwise.  Here: the accounts that hold an assignment of the set (an account whose
  last assignment was deleted stays provisioned on AWS; listing it or not changes no answer
  of ListAccountAssignments there).

Fault injection (awsenvs/emulator_faults.py, which describes the rules): moto's app is
served behind a middleware that throttles, fails or loses the responses of chosen calls on a
seeded schedule, set from AWSENVS_EMULATOR_FAULTS at start and through /_awsenvs/faults at
run time (from Python: awsenvs.sandbox.Emulator's inject, injected and clear_faults).

    python -m awsenvs.moto_server -H 127.0.0.1 -p PORT
    AWSENVS_EMULATOR_FAULTS='[{"service": "sts", "fault": "throttle", "times": 1}]' python -m awsenvs.moto_server ...
    curl -X POST http://127.0.0.1:PORT/_awsenvs/faults -d '[{"service": "iam", "action": "CreateUser", "fault": "lost"}]'
    curl http://127.0.0.1:PORT/_awsenvs/faults      # what each rule did; -X DELETE clears them
"""

from __future__ import annotations

import sys

import json
import os
import socket
import ssl
import time

from moto.account import urls as account_urls
from moto.account.responses import AccountResponse
from moto.budgets.responses import BudgetsResponse
from moto.core.responses import ActionResult
from awsenvs.config.derive import known_regions
from awsenvs.config.names import IAM_PRINCIPAL, OPT_IN_REGIONS
from moto.account.models import account_backends
from moto.iam.exceptions import IAMException
from moto.iam.models import AccountSummary
from moto.iam.responses import IamResponse
from moto.identitystore.responses import IdentityStoreResponse
from moto.core.utils import unix_time
from moto.organizations.exceptions import OrganizationsClientError
from moto.organizations.models import FakeAccount, FakeServiceAccess, OrganizationsBackend, organizations_backends
from moto.organizations.utils import make_random_create_account_status_id
from moto.s3.models import FakeBucket
import moto.server
from moto.server import main
from werkzeug.serving import ThreadedWSGIServer, run_simple
from moto.ssoadmin.models import SSOAdminBackend
from moto.ssoadmin.responses import SSOAdminResponse

from awsenvs.emulator_faults import FAULTS_ENV, FaultInjection, Schedule


def _accept_then_handshake(self: ThreadedWSGIServer):
    listening = self.socket
    if not isinstance(listening, ssl.SSLSocket):
        return listening.accept()
    connection, address = socket.socket.accept(listening)  # plain accept: no handshake here
    return listening.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address


def _handshake_in_own_thread(self: ThreadedWSGIServer, request, client_address) -> None:
    if isinstance(request, ssl.SSLSocket):
        try:
            request.do_handshake()
        except (OSError, ssl.SSLError):
            self.shutdown_request(request)
            return
    _process_request_thread(self, request, client_address)


_process_request_thread = ThreadedWSGIServer.process_request_thread


def _list_service_specific_credentials(self: IamResponse) -> ActionResult:
    return ActionResult({"ServiceSpecificCredentials": []})


def _permission_set(response: SSOAdminResponse):
    arn = response._get_param("ResourceArn")
    return response.ssoadmin_backend._find_permission_set(response._get_param("InstanceArn"), arn)


def _list_tags_for_resource(self: SSOAdminResponse) -> str:
    return json.dumps({"Tags": _permission_set(self).tags or []})


def _tag_resource(self: SSOAdminResponse) -> str:
    permission_set = _permission_set(self)
    new = {tag["Key"]: tag for tag in self._get_param("Tags") or []}
    permission_set.tags = [t for t in permission_set.tags or [] if t["Key"] not in new] + list(new.values())
    return "{}"


def _untag_resource(self: SSOAdminResponse) -> str:
    permission_set = _permission_set(self)
    keys = set(self._get_param("TagKeys") or [])
    permission_set.tags = [t for t in permission_set.tags or [] if t["Key"] not in keys]
    return "{}"


def _accounts_for_provisioned_permission_set(self: SSOAdminBackend, instance_arn: str, permission_set_arn: str) -> list[str]:
    return sorted({a.target_id for a in self.account_assignments
                   if a.instance_arn == instance_arn and a.permission_set_arn == permission_set_arn})


def _describe_permission_set_provisioning_status(self: SSOAdminResponse) -> str:
    return json.dumps({"PermissionSetProvisioningStatus": {
        "RequestId": self._get_param("ProvisionPermissionSetRequestId"), "Status": "SUCCEEDED",
        "AccountId": self.current_account, "CreatedDate": time.time(),
    }})


_GROUP_PATHS = {"displayName": "DisplayName", "description": "Description"}
_USER_PATHS = {"displayName": "DisplayName", "name.givenName": "GivenName", "name.familyName": "FamilyName",
               "name.formatted": "Formatted", "emails": "Emails"}


def _unsupported(path: str) -> tuple[int, dict, str]:
    return _error(400, "ValidationException", f"the emulator cannot update {path}")


def _update_group(self: IdentityStoreResponse):
    store = self.identitystore_backend.identity_stores[self._get_param("IdentityStoreId")]
    group_id = self._get_param("GroupId")
    group = store.groups[group_id]
    for operation in self._get_param("Operations") or []:
        field = _GROUP_PATHS.get(operation["AttributePath"])
        if field is None:
            return _unsupported(operation["AttributePath"])
        group = group._replace(**{field: operation.get("AttributeValue")})
    store.groups[group_id] = group
    return "{}"


def _update_user(self: IdentityStoreResponse):
    store = self.identitystore_backend.identity_stores[self._get_param("IdentityStoreId")]
    user_id = self._get_param("UserId")
    user = store.users[user_id]
    for operation in self._get_param("Operations") or []:
        path, value = operation["AttributePath"], operation.get("AttributeValue")
        field = _USER_PATHS.get(path)
        if field is None:
            return _unsupported(path)
        if path.startswith("name."):
            user = user._replace(Name=user.Name._replace(**{field: value}))
        else:
            user = user._replace(**{field: value})
    store.users[user_id] = user
    return "{}"


def _budget_tags(self: BudgetsResponse) -> dict[str, dict[str, str]]:
    if not hasattr(self.backend, "awsenvs_tags"):
        self.backend.awsenvs_tags = {}
    return self.backend.awsenvs_tags


def _describe_subscribers_for_notification(self: BudgetsResponse) -> str:
    budget = self.backend.budgets[self._get_param("AccountId")][self._get_param("BudgetName")]
    wanted = self._get_param("Notification")
    notification = next(n for n in budget.notifications if n.details == wanted)
    return json.dumps({"Subscribers": notification.subscribers, "NextToken": None})


def _budgets_list_tags_for_resource(self: BudgetsResponse) -> str:
    tags = _budget_tags(self).get(self._get_param("ResourceARN"), {})
    return json.dumps({"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]})


def _budgets_tag_resource(self: BudgetsResponse) -> str:
    tags = _budget_tags(self).setdefault(self._get_param("ResourceARN"), {})
    tags.update({t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []})
    return "{}"


def _budgets_untag_resource(self: BudgetsResponse) -> str:
    tags = _budget_tags(self).setdefault(self._get_param("ResourceARN"), {})
    for key in self._get_param("ResourceTagKeys") or []:
        tags.pop(key, None)
    return "{}"


def _update_budget(self: BudgetsResponse) -> str:
    budgets = self.backend.budgets[self._get_param("AccountId")]
    new = self._get_param("NewBudget")
    budget = budgets[new["BudgetName"]]
    budget.budget = {**budget.budget, **new}
    return "{}"


_moto_create_budget = BudgetsResponse.create_budget


def _create_budget(self: BudgetsResponse) -> str:
    result = _moto_create_budget(self)
    arn = f"arn:{self.partition}:budgets::{self._get_param('AccountId')}:budget/{self._get_param('Budget')['BudgetName']}"
    _budget_tags(self)[arn] = {t["Key"]: t["Value"] for t in self._get_param("ResourceTags") or []}
    return result


ROOT_CREDENTIALS_MANAGEMENT, ROOT_SESSIONS = "RootCredentialsManagement", "RootSessions"


class _RootAccessError(IAMException):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def _organization_for_root_access(self: IamResponse):
    """The caller's organization, when it may manage centralized root access (see the module doc)."""
    backend = organizations_backends[self.current_account][self.partition]
    if backend.org is None:
        if self.current_account in organizations_backends.master_accounts:
            raise _RootAccessError("CallerIsNotManagementAccountException",
                                   "The request was rejected because the account making the request is not the "
                                   "management account for the organization.")
        raise _RootAccessError("OrganizationNotFoundException", "The request was rejected because no organization "
                                                                "is associated with your account.")
    if backend.org.feature_set != "ALL":
        raise _RootAccessError("OrganizationNotInAllFeaturesModeException",
                               "The request was rejected because your organization does not have All features enabled.")
    if not any(service["ServicePrincipal"] == IAM_PRINCIPAL for service in backend.services):
        raise _RootAccessError("ServiceAccessNotEnabledException", "The request was rejected because trusted access "
                                                                   "is not enabled for IAM in AWS Organizations.")
    if not hasattr(backend.org, "awsenvs_root_features"):
        backend.org.awsenvs_root_features = []
    return backend.org


def _root_features(self: IamResponse, enable: str | None = None, disable: str | None = None) -> ActionResult:
    organization = _organization_for_root_access(self)
    features = organization.awsenvs_root_features
    if enable and enable not in features:
        features.append(enable)
    if disable in features:
        features.remove(disable)
    return ActionResult({"OrganizationId": organization.id, "EnabledFeatures": list(features)})


def _error(status: int, kind: str, message: str, **more):
    """An Account Management error response (moto reads a handler's status from its headers)."""
    return status, {"status": status, "x-amzn-ErrorType": kind}, json.dumps({"__type": kind, "message": message, **more})


def _put_account_name(self: AccountResponse):
    """A member's name, from its organization's management account (see the module doc)."""
    backend = organizations_backends[self.current_account][self.partition]
    account_id = self._get_param("AccountId") or self.current_account
    account = next((a for a in backend.accounts if a.id == account_id), None) if backend.org else None
    if account is None:
        return _error(403, "AccessDeniedException", f"{self.current_account} cannot rename {account_id}: not its organization's member")
    account.name = self._get_param("AccountName")
    return 200, {}, ""


def _region_target(self: AccountResponse):
    """(opt status by region of the account the request names, or an error response)."""
    account_id = self._get_param("AccountId") or self.current_account
    if account_id != self.current_account:
        backend = organizations_backends[self.current_account][self.partition]
        if not backend.org or not any(a.id == account_id for a in backend.accounts):
            return None, _error(403, "AccessDeniedException", f"{self.current_account} cannot manage the regions of {account_id}")
    backend = account_backends[account_id][self.partition]
    if not hasattr(backend, "region_opt_status"):
        backend.region_opt_status = {r: "DISABLED" if r in OPT_IN_REGIONS else "ENABLED_BY_DEFAULT"
                                     for r, partition in known_regions().items() if partition == "aws"}
    return backend.region_opt_status, None


REGION_SECONDS_ENV = "AWSENVS_EMULATOR_REGION_SECONDS"  # how long a region stays ENABLING or DISABLING
_REGION_CHANGING = {"ENABLED": "ENABLING", "DISABLED": "DISABLING"}  # the status a change to each passes through
_REGION_CONFLICTS = {"ENABLED": "DISABLING", "DISABLED": "ENABLING"}  # the change in progress each request refuses


def _settle(regions: dict) -> None:
    """Regions whose change is done by now take their new status (see _region_opt)."""
    for name, status in list(regions.items()):
        if isinstance(status, tuple) and time.monotonic() >= status[1]:
            regions[name] = status[0]


def _region_status(regions: dict, name: str) -> str:
    status = regions[name]
    return _REGION_CHANGING[status[0]] if isinstance(status, tuple) else status


def _region_opt(self: AccountResponse, status: str | None):
    """EnableRegion (status ENABLED), DisableRegion (DISABLED) or GetRegionOptStatus (None);
    a change in progress is kept as (the status it ends in, when)."""
    regions, error = _region_target(self)
    if error:
        return error
    _settle(regions)
    name = self._get_param("RegionName")
    if name not in regions:
        return _error(400, "ValidationException", f"unknown region {name}", reason="fieldValidationFailed")
    current = _region_status(regions, name)
    if status is None:
        return 200, {}, json.dumps({"RegionName": name, "RegionOptStatus": current})
    if current == "ENABLED_BY_DEFAULT":
        return _error(400, "ValidationException", f"{name} is enabled by default and cannot be enabled or disabled",
                      reason="invalidRegionOptTarget")
    if status == "ENABLED" and current in ("ENABLED", "ENABLING"):
        return _error(400, "ValidationException", "Unable to switch region status because of its current opt-in status.",
                      reason="invalidRegionOptTarget")
    if current == _REGION_CONFLICTS[status]:
        return _error(409, "ConflictException", f"{name} is {current}: wait until that is done")
    seconds = float(os.environ.get(REGION_SECONDS_ENV) or 0)
    regions[name] = (status, time.monotonic() + seconds) if seconds > 0 and current != status else status
    return 200, {}, ""


def _list_regions(self: AccountResponse):
    regions, error = _region_target(self)
    if error:
        return error
    _settle(regions)
    regions = {name: _region_status(regions, name) for name in regions}
    wanted = self._get_param("RegionOptStatusContains") or []
    return 200, {}, json.dumps({"Regions": [{"RegionName": r, "RegionOptStatus": status} for r, status in sorted(regions.items())
                                            if not wanted or status in wanted]})


_moto_account_summary = AccountSummary.summary_map.fget


def _summary_map(self: AccountSummary) -> dict:
    return {"AccountPasswordPresent": 0, **_moto_account_summary(self)}


def _failed_creations(backend: OrganizationsBackend) -> list[dict]:
    """The CreateAccountStatus of each request that failed (moto keeps only accounts)."""
    if not hasattr(backend, "awsenvs_failed_creations"):
        backend.awsenvs_failed_creations = []
    return backend.awsenvs_failed_creations


def _email_taken(email: str) -> bool:
    """Whether an account of any organization in the emulator has this root email, closed
    ones included (see the module doc)."""
    return any(account.email == email for by_partition in organizations_backends.values()
               for backend in by_partition.values() for account in backend.accounts)


_moto_create_account = OrganizationsBackend.create_account


def _create_account(self: OrganizationsBackend, **kwargs) -> dict:
    if self.org is None or not _email_taken(kwargs["Email"]):
        return _moto_create_account(self, **kwargs)
    now = unix_time()
    status = {"Id": make_random_create_account_status_id(), "AccountName": kwargs["AccountName"], "State": "FAILED",
              "FailureReason": "EMAIL_ALREADY_EXISTS", "RequestedTimestamp": now, "CompletedTimestamp": now}
    _failed_creations(self).append(status)
    return {"CreateAccountStatus": status}


_moto_describe_create_account_status = OrganizationsBackend.describe_create_account_status


def _describe_create_account_status(self: OrganizationsBackend, **kwargs) -> dict:
    failed = next((s for s in _failed_creations(self) if s["Id"] == kwargs["CreateAccountRequestId"]), None)
    return {"CreateAccountStatus": failed} if failed else _moto_describe_create_account_status(self, **kwargs)


_moto_list_create_account_status = OrganizationsBackend.list_create_account_status


def _list_create_account_status(self: OrganizationsBackend, **kwargs) -> dict:
    result = _moto_list_create_account_status(self, **kwargs)
    if not result["NextToken"] and "FAILED" in (kwargs.get("States") or ["FAILED"]):  # after moto's last page
        result["CreateAccountStatuses"] += _failed_creations(self)
    return result


_moto_move_account = OrganizationsBackend.move_account


def _move_account(self: OrganizationsBackend, **kwargs) -> None:
    if self.get_account_by_id(kwargs["AccountId"]).parent_id == kwargs["DestinationParentId"]:
        raise OrganizationsClientError("DuplicateAccountException",
                                       "That account is already present in the specified destination.")
    _moto_move_account(self, **kwargs)


_moto_attach_policy = OrganizationsBackend.attach_policy


def _attach_policy(self: OrganizationsBackend, **kwargs) -> None:
    target = next((t for t in (*self.ou, *self.accounts) if t.id == kwargs["TargetId"]), None)
    if target is not None and any(p.id == kwargs["PolicyId"] for p in target.attached_policies):
        raise OrganizationsClientError("DuplicatePolicyAttachmentException",
                                       "The selected policy is already attached to the specified target.")
    _moto_attach_policy(self, **kwargs)


_moto_close_account = FakeAccount.close


def _close_account(self: FakeAccount) -> None:
    _moto_close_account(self)
    self.state = "CLOSED"  # Status stays SUSPENDED, as AWS reports a closed account's (see the module doc)


_SECURE_TRANSPORT = "aws:SecureTransport"


def _bucket_permission(self: FakeBucket, action: str, resource: str):
    """moto's FakeBucket.get_permission, with the policy's `aws:SecureTransport` conditions
    decided by this request's scheme (see the module doc); the bucket is not changed."""
    from flask import has_request_context, request
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    secure = "true" if has_request_context() and request.is_secure else "false"
    document = json.loads(self.policy)
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    kept = []
    for statement in statements:
        condition = statement.get("Condition")
        if condition and list(condition) == ["Bool"] and list(condition["Bool"]) == [_SECURE_TRANSPORT]:
            if str(condition["Bool"][_SECURE_TRANSPORT]).lower() != secure:
                continue  # its condition does not hold: the statement does not apply
            statement = {k: v for k, v in statement.items() if k != "Condition"}
        kept.append(statement)
    return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(action, resource)


for cls, name, handler in (
    (IamResponse, "list_service_specific_credentials", _list_service_specific_credentials),
    (IamResponse, "enable_organizations_root_credentials_management",
     lambda self: _root_features(self, enable=ROOT_CREDENTIALS_MANAGEMENT)),
    (IamResponse, "enable_organizations_root_sessions", lambda self: _root_features(self, enable=ROOT_SESSIONS)),
    (IamResponse, "disable_organizations_root_credentials_management",
     lambda self: _root_features(self, disable=ROOT_CREDENTIALS_MANAGEMENT)),
    (IamResponse, "disable_organizations_root_sessions", lambda self: _root_features(self, disable=ROOT_SESSIONS)),
    (IamResponse, "list_organizations_features", _root_features),
    (AccountResponse, "put_account_name", _put_account_name),
    (AccountResponse, "enable_region", lambda self: _region_opt(self, "ENABLED")),
    (AccountResponse, "disable_region", lambda self: _region_opt(self, "DISABLED")),
    (AccountResponse, "get_region_opt_status", lambda self: _region_opt(self, None)),
    (AccountResponse, "list_regions", _list_regions),
    (SSOAdminResponse, "list_tags_for_resource", _list_tags_for_resource),
    (SSOAdminResponse, "tag_resource", _tag_resource),
    (SSOAdminResponse, "untag_resource", _untag_resource),
    (SSOAdminResponse, "describe_permission_set_provisioning_status", _describe_permission_set_provisioning_status),
    (IdentityStoreResponse, "update_group", _update_group),
    (IdentityStoreResponse, "update_user", _update_user),
    (BudgetsResponse, "describe_subscribers_for_notification", _describe_subscribers_for_notification),
    (BudgetsResponse, "update_budget", _update_budget),
    (BudgetsResponse, "list_tags_for_resource", _budgets_list_tags_for_resource),
    (BudgetsResponse, "tag_resource", _budgets_tag_resource),
    (BudgetsResponse, "untag_resource", _budgets_untag_resource),
):
    if not hasattr(cls, name):
        setattr(cls, name, handler)
BudgetsResponse.create_budget = _create_budget  # keeps moto's, adds the tags it drops
# moto's, with AWS's answers to repeated calls
OrganizationsBackend.create_account = _create_account
OrganizationsBackend.describe_create_account_status = _describe_create_account_status
OrganizationsBackend.list_create_account_status = _list_create_account_status
OrganizationsBackend.move_account = _move_account
OrganizationsBackend.attach_policy = _attach_policy
FakeAccount.close = _close_account
SSOAdminBackend.list_accounts_for_provisioned_permission_set = _accounts_for_provisioned_permission_set
for action in ("putAccountName", "enableRegion", "disableRegion", "getRegionOptStatus", "listRegions"):
    account_urls.url_paths.setdefault(f"{{0}}/{action}$", AccountResponse.dispatch)
if IAM_PRINCIPAL not in FakeServiceAccess.TRUSTED_SERVICES:
    FakeServiceAccess.TRUSTED_SERVICES.append(IAM_PRINCIPAL)
AccountSummary.summary_map = property(_summary_map)
FakeBucket.get_permission = _bucket_permission
ThreadedWSGIServer.get_request = _accept_then_handshake
ThreadedWSGIServer.process_request_thread = _handshake_in_own_thread


def _serving_with_faults(schedule: Schedule):
    """moto.server.main's run_simple, with moto's app behind the fault injection."""
    def run(hostname: str, port: int, application, **options) -> None:
        run_simple(hostname, port, FaultInjection(application, schedule), **options)
    return run


if __name__ == "__main__":
    try:
        faults = Schedule.from_environment()
    except ValueError as exc:
        sys.exit(f"{FAULTS_ENV}: {exc}")
    moto.server.run_simple = _serving_with_faults(faults)
    sys.exit(main())
