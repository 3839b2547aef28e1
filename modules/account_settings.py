"""Member accounts' settings set from the management account: alternate contacts and opt-in regions.

Both go through AWS Account Management with the member's `account_id`, which needs trusted
access for account.amazonaws.com (config adds it to the organization's list), so they
depend on the organization resource.  A region's request waits for AWS for up to
REGION_OPT_TIMEOUT, and the region requests are chained so that AWS's quotas of concurrent
region-opt requests hold whatever Terraform's -parallelism: the k-th request of an account
waits for its (k-6)-th, the n-th of the organization for its (n-50)-th (awsenvs.config.names).
"""

from __future__ import annotations

from cdktn import ITerraformDependable
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
                resource = AccountAlternateContact(
                    self, f"contact-{env.stack}-{contact.kind}", account_id=account_id,
                    alternate_contact_type=contact.contact_type, name=contact.name, title=contact.title,
                    email_address=contact.email, phone_number=contact.phone, depends_on=depends_on,
                )
                resource.override_logical_id(env.contact_address(contact).split(".", 1)[1])
            for region, enabled in (*((r, True) for r in env.regions), *((r, False) for r in env.disable_regions)):
                after = [*_waits_for(own, REGION_REQUESTS_PER_ACCOUNT), *_waits_for(requests, REGION_REQUESTS_PER_ORGANIZATION)]
                resource = AccountRegion(self, f"region-{env.stack}-{region}", account_id=account_id, region_name=region,
                                         enabled=enabled, depends_on=[*depends_on, *after],
                                         timeouts=AccountRegionTimeouts(create=REGION_OPT_TIMEOUT, update=REGION_OPT_TIMEOUT))
                resource.override_logical_id(env.region_address(region).split(".", 1)[1])
                own.append(resource)
                requests.append(resource)


def _waits_for(chain: list[AccountRegion], width: int) -> list[AccountRegion]:
    """What the next request of `chain` waits for so that at most `width` run at once: the
    request `width` places before it (the chains by position modulo `width` are sequential)."""
    return [chain[-width]] if len(chain) >= width else []

