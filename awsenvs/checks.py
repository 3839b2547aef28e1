"""Refusals before planning: what the live organization does not allow, decided from facts.

Why each check exists (the emulator accepts what real AWS refuses):
- Trusted services and policy types: `aws_organizations_organization` disables whatever
  its lists omit (both are Optional, not Computed, in the provider:
  https://github.com/hashicorp/terraform-provider-aws/blob/v5.100.0/internal/service/organizations/organization.go),
  and disabling a policy type detaches every policy of that type
  (https://docs.aws.amazon.com/organizations/latest/userguide/disable-policy-type.html).
  So a plan that would disable anything org.yaml does not name under `disable_*` is
  refused before Terraform runs.
  Disabling trusted access also stops that service's work across the organization
  (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_services.html).
- Adoption, and accounts created before: the provider's `email` forces a new account
  (internal/service/organizations/account.go, ForceNew), which `prevent_destroy` turns into
  Terraform's error for the whole management plan, so a root email that differs from the
  live one is refused, with the live value, before Terraform runs.  The management account
  can change a member's root email since June 2024, but only through Account Management's
  StartPrimaryEmailUpdate and a code sent to the new address
  (https://docs.aws.amazon.com/accounts/latest/reference/API_StartPrimaryEmailUpdate.html),
  which no apply can answer: done first on AWS, org.yaml then follows.  A created account's
  name is renamed in place (account:PutAccountName); an adopted one's must match, so that
  org.yaml says what people see.  A created account closed outside awsenvs reads as gone
  to the provider, which would create it again: refused as well.
"""

from __future__ import annotations

from typing import Callable, Mapping

from awsenvs import aws
from awsenvs.config import Environment, Org
from awsenvs.errors import EXIT_BAD_INPUT, AwsenvsError
from awsenvs.live.facts import LiveIdentityCenter, LiveOrganization


class PreflightError(AwsenvsError):
    """The live organization does not allow this plan; nothing was run."""


class AdoptionError(PreflightError):
    """org.yaml disagrees with an account it adopts: a fix in org.yaml is needed."""

    exit_code = EXIT_BAD_INPUT


def check_organization(org: Org, live: LiveOrganization | None) -> None:
    """Refuse a plan that would disable a live trusted service or policy type org.yaml does not name."""
    if live is None:
        if org.organization_id:
            raise AdoptionError(
                f"organization.organization_id is {org.organization_id}, but these credentials' account has no "
                "organization: use the management account's credentials"
            )
        return
    if org.organization_id and org.organization_id != live.id:
        raise AdoptionError(
            f"organization.organization_id is {org.organization_id}, but these credentials' organization is "
            f"{live.id}: fix organization_id (or the credentials)"
        )
    problems = [
        f"trusted service {s} (add it to organization.trusted_services to keep it, or to "
        "organization.disable_trusted_services to disable it)"
        for s in sorted(live.trusted_services - set(org.trusted_services) - set(org.disable_trusted_services))
    ] + [
        f"policy type {t} (add it to organization.policy_types to keep it, or to organization.disable_policy_types "
        "to disable it, which detaches every policy of that type)"
        for t in sorted(live.policy_types - set(org.policy_types) - set(org.disable_policy_types))
    ]
    if problems:
        raise PreflightError(
            f"the organization {live.id} has enabled what {org.source.name} does not list, and applying would "
            f"disable it: {'; '.join(problems)}"
        )


def _protected(org: Org, env: Environment) -> bool:
    guardrails = next(p for p in org.products if p.name == env.product).guardrails
    return guardrails is not None and guardrails.protect_baseline


def check_adoptions(org: Org, live: LiveOrganization | None) -> None:
    """Adopted accounts must be members, not closed, with the root email and name org.yaml says;
    every mismatch of every adopted account is named at once, one line each."""
    problems = []
    for env in org.environments:
        if not env.adopted:
            continue
        where = f"products.{env.product}.environments.{env.name}"
        account = live.account_by_id(env.account_id) if live else None
        if account is None:
            problems.append(
                f"{where}.account_id: {env.account_id} is not a member of the organization: invite it first, "
                f"and create the role {env.role_name} in it (or set profile:"
                + (", with guardrails.protect_baseline: false for its product)" if _protected(org, env) else ")")
            )
            continue
        if account.closed:  # the provider would find no account, and Terraform plan a new one
            problems.append(
                f"{where}.account_id: {env.account_id} is closed ({account.lifecycle}): remove the environment, or "
                "have AWS Support reopen the account first (within 90 days of closing it)")
            continue
        if account.email.lower() != env.email.lower():
            problems.append(
                f"{where}.email: the account's root email is {account.email!r}, not {env.email!r}: "
                f"set email: {account.email} (a different email would make Terraform replace the account; to change "
                "it, use Account Management's StartPrimaryEmailUpdate first)"
            )
        if account.name != env.account_name:
            problems.append(
                f"{where}.account_name: the account is named {account.name!r}, not {env.account_name!r}: "
                f"set account_name: {account.name!r}"
            )
    if problems:
        raise AdoptionError("\n".join(f"{org.source.name}: {line}" for line in problems))


def check_created_accounts(org: Org, live: LiveOrganization | None, managed_ids: Mapping[str, str]) -> None:
    """Accounts the management stack created, compared with the live ones by id (as adoption
    is): a root email org.yaml changed, or an account closed outside awsenvs, would make the
    provider replace or re-create the account (its `email` forces a new account, which
    prevent_destroy turns into Terraform's error for the whole management plan; a closed
    account reads as gone and is planned anew: internal/service/organizations/account.go).
    Each is refused in one line saying what to do; a changed name is renamed in place
    (account:PutAccountName) and needs nothing here.  An environment with no account yet whose
    root email is a closed account's (one retired with `on_retire: close`, then put back) is
    refused too: AWS never gives a closed account's email to another account
    (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-closing.html;
    CreateAccountStatus EMAIL_ALREADY_EXISTS), so creating it would fail at apply."""
    if live is None:
        return
    problems = []
    for env in org.environments:
        account_id = managed_ids.get(env.stack)
        where = f"products.{env.product}.environments.{env.name}"
        if not env.adopted and account_id is None:
            closed = live.closed_account(account_id, env.email)  # by its email: no id yet
            if closed is not None:
                problems.append(f"{where}: its root email {env.email} is that of account {closed.id} ({closed.name}), "
                                f"which is closed ({closed.lifecycle}), and AWS does not give a closed account's email "
                                "to a new one: remove the environment again, or have AWS Support reopen that account "
                                f"(within 90 days of closing it) and set account_id: \"{closed.id}\", or give the "
                                "environment another email")
            continue
        if env.adopted:
            continue
        account = live.account_by_id(account_id)
        if account is None or account.closed:
            status = f"status {account.lifecycle}" if account else "no longer in the organization"
            problems.append(f"{where}: its account {account_id} was closed or removed outside awsenvs ({status}), and "
                            "would be created again: remove the environment from org.yaml (awsenvs then retires it), "
                            "or reopen the account first (within 90 days of closing it: AWS Support)")
        elif account.email.lower() != env.email.lower():
            problems.append(f"{where}.email: account {account_id}'s root email is {account.email!r}, not {env.email!r}, "
                            "and Terraform would replace the account to change it: set email back to "
                            f"{account.email}, or change it on AWS first (Account Management StartPrimaryEmailUpdate, then "
                            "AcceptPrimaryEmailUpdate with the code sent to the new address) and then here")
    if problems:
        raise AdoptionError("\n".join(f"{org.source.name}: {line}" for line in problems))


def check_adopted_roles(org: Org, live: LiveOrganization | None,
                        assume: Callable[[str, str], object] = aws.assume_role_session) -> None:
    """An account adopted into a product with protect_baseline must already have its managing
    role: once the management stack moves it into the guarded OU, the guardrail lets nobody but
    that role create it, so a missing role could not be added afterwards.  Checked for the
    accounts org.yaml adopts by id and for invited ones found by their root email (accounts
    Organizations created come with the role)."""
    for product in org.products:
        if product.guardrails is None or not product.guardrails.protect_baseline:
            continue
        for env in product.environments:
            found = live.account_by_email(env.email) if live and not env.adopted else None
            account_id = env.account_id or (found.id if found and found.joined == "INVITED" else None)
            # A pull request's read-only plan may not assume the managing role: the apply
            # on merge, which does, checks it before anything moves.
            if account_id is None or env.cli_profile or env.reading_role:
                continue
            try:
                assume(account_id, env.role_name)
            except aws.AwsError as exc:
                if "AccessDenied" not in str(exc):
                    raise  # throttling, expired credentials, network: not a missing role
                raise PreflightError(
                    f"products.{env.product}.environments.{env.name}.role_name: cannot assume {env.role_name} in "
                    f"{account_id} (AccessDenied): create it there before adopting the account, because once "
                    f"in OU {product.ou_name} the protect_baseline guardrail lets only that role create it"
                ) from None


def management_account_access(org: Org, live: LiveIdentityCenter, management_id: str) -> tuple[list[str], list[str]]:
    """Identity Center's assignments in the management account, as `<principal> as <permission
    set>`: (those of a user, group or permission set awsenvs manages; everyone else's).

    The Terraform Cloud run role may change awsenvs' permission sets, and, since Identity
    Store's actions name no account and IAM cannot scope them to groups or users it does not
    know (service authorization reference, list_awsidentitystore.html), add members to any
    group and change any user.  awsenvs itself never assigns anything there (the role is
    denied it); an assignment made by hand there is a way from that token to the management
    account: refused before planning when awsenvs manages one of its parts, and named by
    audit in every case."""
    users = {person.name for person in org.people}
    groups = {f"group:{group.name}" for group in org.groups}
    sets = {group.permission_set_name for group in org.groups}
    ours, others = [], []
    for principal, permission_set in sorted(live.access(management_id)):
        (ours if principal in users | groups or permission_set in sets else others).append(f"{principal} as {permission_set}")
    return ours, others


def check_management_account_access(org: Org, live: LiveIdentityCenter | None, management_id: str | None) -> None:
    """Refuse to plan while a user, group or permission set awsenvs manages is assigned in the
    management account (see management_account_access)."""
    if live is None or management_id is None:
        return
    ours, _ = management_account_access(org, live, management_id)
    if ours:
        raise PreflightError(
            f"IAM Identity Center assigns what awsenvs manages in the management account {management_id}: "
            f"{', '.join(ours)}; through it, a change of that group's members, that user or that permission set (an "
            "org.yaml edit, or a token of the Terraform Cloud run role) would reach the management account: remove the "
            "assignment (IAM Identity Center > AWS accounts > the management account), or take it out of org.yaml; "
            "nothing was planned")



def check_ci_plan_role(org: Org, plan_role_exists: bool | None) -> None:
    """ci.github: each account stack's read role trusts the GitHub plan role by its ARN, and
    IAM refuses a trust policy naming a role that does not exist (MalformedPolicyDocument:
    Invalid principal; the emulator does not: "IAM role principals",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles):
    refuse before planning until bootstrap has made it.  None (unreadable: a CI job's own role,
    which bootstrap made beside it) passes."""
    github = org.github
    if github is None or plan_role_exists is not False:
        return
    raise PreflightError(f"ci.github: the role {github.plan_role_name} is not in the management account yet, and each "
                         f"account stack's {github.read_role_name} role trusts it (IAM refuses to trust a role that does "
                         "not exist): run `make bootstrap` first, which makes it")
