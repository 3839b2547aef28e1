"""Member accounts' settings set from the management account: alternate contacts and opt-in regions.

Both go through AWS Account Management with the member's `account_id`, which needs trusted
access for account.amazonaws.com (config adds it to the organization's list), so they
depend on the organization resource.  A region's request waits for AWS for up to
REGION_OPT_TIMEOUT, and the region requests are chained so that AWS's quotas of concurrent
region-opt requests hold whatever Terraform's -parallelism: the k-th request of an account
waits for its (k-6)-th, the n-th of the organization for its (n-50)-th (awsenvs.config.names).
"""

from __future__ import annotations

from cdktn import ITerraformDependable, TerraformLocal, Token
from cdktn_provider_aws.account_alternate_contact import AccountAlternateContact
from cdktn_provider_aws.account_region import AccountRegion, AccountRegionTimeouts
from constructs import Construct

from awsenvs.config import (
    REGION_OPT_TIMEOUT,
    REGION_REQUESTS_PER_ACCOUNT,
    REGION_REQUESTS_PER_ORGANIZATION,
    Environment,
)


class AccountSettings(Construct):
    """Each environment's contacts (one resource per kind) and its listed opt-in regions
    (`regions` enabled, `disable_regions` disabled; a region listed in neither is left as it is)."""

    def __init__(self, scope: Construct, id: str, environments: tuple[Environment, ...], account_ids: dict[str, str],
                 depends_on: list[ITerraformDependable]) -> None:
        super().__init__(scope, id)
        requests: list[AccountRegion] = []  # every region request, in order: the organization's chain
        for env in environments:
            account_id = account_ids[env.stack]
            own: list[AccountRegion] = []  # this account's: its chain
            for contact in env.contacts:
                resource = _contact(self, f"contact-{env.stack}-{contact.kind}", account_id, contact.contact_type,
                                    contact.name, contact.title, contact.email, contact.phone, depends_on)
                resource.override_logical_id(env.contact_address(contact).split(".", 1)[1])
            for region, enabled in (*((r, True) for r in env.regions), *((r, False) for r in env.disable_regions)):
                after = [*_waits_for(own, REGION_REQUESTS_PER_ACCOUNT), *_waits_for(requests, REGION_REQUESTS_PER_ORGANIZATION)]
                resource = _region(self, f"region-{env.stack}-{region}", account_id, region, enabled, [*depends_on, *after])
                resource.override_logical_id(env.region_address(region).split(".", 1)[1])
                own.append(resource)
                requests.append(resource)


class AccountSettingsModule(Construct):
    """The same contacts and opt-in regions, for the exported `account_settings` Terraform module.

    `var.accounts` (by a label of the caller's) gives each account's id, contacts (by kind)
    and the regions to enable and to disable; every contact and region is a `for_each`
    resource made by the helpers `AccountSettings` uses.  A `for_each` cannot chain its
    instances as `AccountSettings` does, so AWS's six concurrent region requests per account
    are the caller's to respect (`terraform apply -parallelism=6`, the module's README).
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        contacts = TerraformLocal(self, "contacts", "${merge([for label, account in var.accounts : "
                                  "{for kind, contact in account.contacts : \"${label}/${kind}\" => "
                                  "merge(contact, {account_id = account.account_id, type = upper(kind)})}]...)}")
        contacts.override_logical_id("contacts")
        regions = TerraformLocal(self, "regions", "${merge([for label, account in var.accounts : merge("
                                 "{for region in account.regions : \"${label}/${region}\" => "
                                 "{account_id = account.account_id, region = region, enabled = true}}, "
                                 "{for region in account.disable_regions : \"${label}/${region}\" => "
                                 "{account_id = account.account_id, region = region, enabled = false}})]...)}")
        regions.override_logical_id("regions")
        contact = _contact(self, "contact", "${each.value.account_id}", "${each.value.type}", "${each.value.name}",
                           "${each.value.title}", "${each.value.email}", "${each.value.phone}", None)
        contact.override_logical_id("contact")
        contact.add_override("for_each", "${local.contacts}")
        region = _region(self, "region", "${each.value.account_id}", "${each.value.region}",
                         Token.as_any("${each.value.enabled}"), None)
        region.override_logical_id("region")
        region.add_override("for_each", "${local.regions}")


# -- the resources both constructs make, with the same settings ------------------------------


def _contact(scope: Construct, id: str, account_id: str, contact_type: str, name: str, title: str, email: str,
             phone: str, depends_on: list[ITerraformDependable] | None) -> AccountAlternateContact:
    return AccountAlternateContact(scope, id, account_id=account_id, alternate_contact_type=contact_type, name=name,
                                   title=title, email_address=email, phone_number=phone, depends_on=depends_on)


def _region(scope: Construct, id: str, account_id: str, region: str, enabled,
            depends_on: list[ITerraformDependable] | None) -> AccountRegion:
    return AccountRegion(scope, id, account_id=account_id, region_name=region, enabled=enabled, depends_on=depends_on,
                         timeouts=AccountRegionTimeouts(create=REGION_OPT_TIMEOUT, update=REGION_OPT_TIMEOUT))


def _waits_for(chain: list[AccountRegion], width: int) -> list[AccountRegion]:
    """What the next request of `chain` waits for so that at most `width` run at once: the
    request `width` places before it (the chains by position modulo `width` are sequential)."""
    return [chain[-width]] if len(chain) >= width else []

