"""One run's live look-ups before planning, in the order the workflow needs them.

The facts come from `awsenvs.live` (the one reader of the live organization); the
decisions are in `checks` (refusals), `reconcile` (import blocks), `waits` (account
creations and new accounts' roles), `retire` (parking an environment's account) and
`stack_drift` (what a stack unchanged since its clean record holds that org.yaml does not
say).  Nothing here runs Terraform.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Mapping, Sequence

from awsenvs import aws
from awsenvs.checks import (
    AdoptionError,
    PreflightError,
    check_adopted_roles,
    check_adoptions,
    check_ci_plan_role,
    check_created_accounts,
    check_management_account_access,
    check_organization,
)
from awsenvs.config import DEFAULT_ROLE_NAME, MANAGEMENT_STACK, SUSPENDED_OU, Org, account_settings_addresses
from awsenvs.live.bootstrap import management_role_exists
from awsenvs.live.facts import LiveOrganization
from awsenvs.live.iam import AccountProbe
from awsenvs.live.identity_center import read_identity_center
from awsenvs.live.organization import (
    account_client,
    read_alternate_contacts,
    read_guardrail_targets,
    read_organization,
    read_region_status,
    read_root_access_features,
)
from awsenvs.reconcile import (
    Import,
    account_stack_imports,
    contact_imports,
    guardrail_imports,
    break_glass_imports,
    identity_center_imports,
    management_imports,
    region_imports,
    released_contacts,
    root_access_imports,
)
from awsenvs.retire import (
    CloseQuota,
    Retirement,
    check_preconditions,
    close,
    close_quota,
    lock_out,
    park,
    plan_closures,
    retirements,
)
from awsenvs.stack_drift import account_stack_drift, management_stack_drift
from awsenvs.waits import wait_for_account_creation, wait_for_role

__all__ = ["AdoptionError", "Import", "LiveChecks", "PreflightError", "Retirement"]


class LiveChecks:
    """The live look-ups of one plan or apply, as the workflow uses them (workflow.Lookups).

    `stopping`: the run's interrupt; set, it cuts a wait's sleep short (the wait's
    callback then ends it, see workflow._waiting)."""

    def __init__(self, org: Org, stopping: threading.Event | None = None) -> None:
        self.org = org
        self._sleep = (lambda seconds: stopping.wait(seconds)) if stopping is not None else time.sleep
        self.organization: LiveOrganization | None = None
        self.guardrail_targets: dict[str, frozenset[str]] = {}
        self.root_access_features: tuple[str, ...] = ()
        self.close_quota: CloseQuota | None = None  # on_retire: close, shared by this run's retirements
        self.sts = None  # made in check(), on the calling thread; the stacks' look-ups share it
        self.account = None  # Account Management, made in check() when org.yaml sets contacts or regions

    def check(self, on_wait: Callable[[str], None] = lambda _: None) -> None:
        """Before anything is planned: wait out pending account creations, then refuse
        what would disable live features or adopt a mismatching account."""
        self.sts = aws.sts_client()
        # The management stack's look-ups of member accounts' contacts and regions share it.
        self.account = account_client() if any(env.has_account_settings for env in self.org.environments) else None
        self.organization = read_organization()
        if self.organization is not None and wait_for_account_creation(self.org, on_wait=on_wait, sleep=self._sleep):
            self.organization = read_organization()
        check_organization(self.org, self.organization)
        check_adoptions(self.org, self.organization)
        check_adopted_roles(self.org, self.organization)
        if self.org.github is not None and not self.org.reads_only:  # the plan role itself reads no IAM role
            check_ci_plan_role(self.org, management_role_exists(self.org.github.plan_role_name))
        self._check_management_account_access()
        self._read_management_facts()

    def _check_management_account_access(self) -> None:
        """With Identity Center: refuse every plan, whichever stacks it plans, while something
        awsenvs manages is assigned in the management account (checks.management_account_access:
        the way a Terraform Cloud token would reach it).  Reads that account's assignments only
        (no memberships)."""
        management = self.organization.management if self.organization is not None else None
        if not self.org.identity_center or management is None:
            return
        live = read_identity_center(self.org.region, [management.id], groups=())
        check_management_account_access(self.org, live, management.id)

    def reread(self) -> None:
        """Read the organization again after this run changed it (an apply that failed half
        way): the management stack's next look-ups then import what that apply made.  On
        the calling thread, as check()."""
        self.organization = read_organization()
        self._read_management_facts()

    def _read_management_facts(self) -> None:
        # Read here, on the calling thread (boto3's default session is not thread-safe; the
        # stacks' look-ups run in the runner's threads).
        self.guardrail_targets = read_guardrail_targets(self._guardrail_policy_ids())
        use_features = self.org.centralized_root and self.organization is not None
        self.root_access_features = read_root_access_features() if use_features else ()

    def check_created(self, managed_ids: dict[str, str]) -> None:
        """After the management stack's outputs are read: the accounts it created, as they are."""
        check_created_accounts(self.org, self.organization, managed_ids)

    def retirements(self, managed_ids: dict[str, str]) -> list[Retirement]:
        """The environments to retire, each checked for what the organization must allow
        before its first write (retire.check_preconditions; refused in one line)."""
        retiring = check_preconditions(self.org, self.organization, retirements(self.org, managed_ids, self.organization))
        if self.org.on_retire == "close" and retiring and self.organization is not None:
            self.close_quota = close_quota(self.organization)
            retiring = plan_closures(retiring, self.close_quota)
        return retiring

    def lifecycle(self, stack: str, account_id: str | None, retiring: list[Retirement],
                  held: frozenset[str] = frozenset()) -> tuple[list[Import], list[str]]:
        """(imports, addresses to forget) for a stack's plan (`held`: the stack's addresses
        already in its state: an account stack's, see account_stack_imports; the management
        stack's, of which a retired account's contacts and regions leave state with it, never
        destroyed: they belong to an account that is parked or closed)."""
        if stack == MANAGEMENT_STACK:
            imports = management_imports(self.org, self.organization)
            imports += guardrail_imports(self.org, self.organization, self.guardrail_targets)
            imports += root_access_imports(self.org, self.organization, self.root_access_features)
            if self.org.identity_center:
                ids = self._existing_account_ids()
                # A permission set not yet in state may be adopted: its plan says what stays on it.
                adopting = [g.permission_set_name for g in self.org.groups if g.permission_set_address not in held]
                live = read_identity_center(self.org.region, ids.values(), groups=[g.name for g in self.org.groups],
                                            reach=adopting)
                imports += identity_center_imports(self.org, live, ids, self._account_labels())
            imports += self._account_settings_imports(held)
            live = self.organization
            management = (live.management.id if live and live.management else None) or self.org.management_account_id
            if self.org.break_glass is not None and management is not None:
                imports += break_glass_imports(self.org, AccountProbe(management, aws.own_session), held)
            settings = sorted(held & frozenset().union(*(account_settings_addresses(r.stack) for r in retiring)))
            return imports, [*(r.address for r in retiring), *settings, *released_contacts(self.org, held)]
        env = self.org.environment_by_stack(stack)
        probe = AccountProbe(account_id, lambda: aws.member_session(account_id, env.acting_role_name, env.cli_profile, sts=self.sts))
        return account_stack_imports(env, probe, not self.org.identity_center, held=held,
                                     read_role=self.org.ci_read_role(env)), []

    def drift(self, stack: str, account_id: str, account_ids: Mapping[str, str]) -> list[str]:
        """What `apply` would restore in a stack whose clean record says unchanged: the
        differences audit finds there (stack_drift) that a Terraform state holds, one finding
        each.  What apply leaves (a user or an SCP added by hand) is audit's alone: planning
        for it would change nothing.  Runs in the runner's threads: an account stack's reads
        make a session of their own from the shared STS client; the management stack's
        start from the organization check() read."""
        if stack == MANAGEMENT_STACK:
            found = management_stack_drift(self.org, self.organization, account_ids)
        else:
            found = account_stack_drift(self.org.environment_by_stack(stack), account_id, not self.org.identity_center,
                                        sts=self.sts)
        return [d.finding for d in found if d.restored_by_apply]

    def _account_settings_imports(self, held: frozenset[str]) -> list[Import]:
        """Contacts set before awsenvs, and region requests already under way, in the accounts
        that exist (read only for what the management stack does not hold yet)."""
        if self.account is None:
            return []
        ids = self._existing_account_ids()
        return [*contact_imports(self.org, ids, held, lambda account_id: read_alternate_contacts(account_id, self.account)),
                *region_imports(self.org, ids, held, lambda account_id, region: read_region_status(account_id, region,
                                                                                                   self.account))]

    def _account_labels(self) -> dict[str, str]:
        """Account id -> `name (id)`, the management account named as such."""
        live = self.organization
        if live is None:
            return {}
        labels = {a.id: f"{a.name} ({a.id})" for a in live.accounts}
        if live.management is not None:
            labels[live.management.id] = f"the management account ({live.management.id})"
        return labels

    def _existing_account_ids(self) -> dict[str, str]:
        """Stack -> id of every configured account that exists: adopted, or found by its root email."""
        ids = dict(self.org.adopted_account_ids)
        for env in self.org.environments:
            account = self.organization.account_by_email(env.email) if self.organization else None
            if env.stack not in ids and account is not None and not account.closed:
                ids[env.stack] = account.id
        return ids

    def _guardrail_policy_ids(self) -> list[str]:
        """The ids of the guardrail and data perimeter policies org.yaml names that already exist."""
        live = self.organization
        if live is None:
            return []
        names = [*(p.guardrails_policy_name for p in self.org.products if p.guardrails is not None),
                 *(p.data_perimeter_policy_name for p in self.org.products if p.data_perimeter is not None)]
        return [live.policies[name] for name in names if name in live.policies]

    def wait_until_ready(self, stack: str, account_id: str, on_wait: Callable[[str], None]) -> None:
        wait_for_role(self.org.environment_by_stack(stack), account_id, on_wait, sleep=self._sleep)

    def lock_out(self, retirement: Retirement, users: Sequence[str]) -> int:
        return lock_out(retirement, users)

    def check_reachable(self, retirement: Retirement, users: Sequence[str]) -> None:
        """A retirement's IAM users lose their console passwords and access keys through
        the account's role (lock_out): it must be assumable before anything is written."""
        if not users or not retirement.active or self.org.reads_only:
            return  # a read-only plan (a pull request's) may not assume it: the apply checks it
        try:
            aws.member_session(retirement.account_id, DEFAULT_ROLE_NAME, None, sts=self.sts)
        except aws.AwsError as exc:
            raise PreflightError(
                f"its {len(users)} IAM users must lose their console passwords and access keys first, through "
                f"{DEFAULT_ROLE_NAME} in account {retirement.account_id}, which cannot be assumed ({exc}): restore "
                "that role, then plan again; nothing was changed") from None

    def park(self, retirement: Retirement) -> str | None:
        """Park the account (enabling what it needs first); what became of it, or None when
        it has left the organization or is closed (nothing to park, nobody to lock out)."""
        organization = read_organization()
        if organization is None:
            raise PreflightError("the organization is gone: nothing to retire into")
        if park(retirement, organization, self.org.managing_roles) is None:
            return None
        enabled = f"{' and '.join(retirement.enabling)} enabled in the organization; " if retirement.enabling else ""
        return f"{enabled}account {retirement.account_id} is in the {SUSPENDED_OU} OU (nothing runs there but the managing roles)"

    def close(self, retirement: Retirement) -> str | None:
        """on_retire: close: close a parked account within the quota; what became of it
        (None: on_retire: park, it stays parked)."""
        if self.org.on_retire != "close":
            return None
        if self.close_quota is None:
            organization = read_organization()
            if organization is None:
                raise PreflightError("the organization is gone: nothing to close")
            self.close_quota = close_quota(organization)
        return close(retirement, self.close_quota)
