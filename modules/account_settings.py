"""Member accounts' settings set from the management account: alternate contacts and opt-in regions.

Both go through AWS Account Management with the member's `account_id`, which needs trusted
access for account.amazonaws.com (config adds it to the organization's list), so they
depend on the organization resource.
"""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_aws.account_alternate_contact import AccountAlternateContact
from cdktn_provider_aws.account_region import AccountRegion
from constructs import Construct

from awsenvs.config import Environment


class AccountSettings(Construct):
    """Each environment's contacts (one resource per kind) and its listed opt-in regions
    (`regions` enabled, `disable_regions` disabled; a region listed in neither is left as it is)."""

    def __init__(self, scope: Construct, id: str, environments: tuple[Environment, ...], account_ids: dict[str, str],
                 depends_on: list[ITerraformDependable]) -> None:
        super().__init__(scope, id)
        for env in environments:
            account_id = account_ids[env.stack]
            for contact in env.contacts:
                resource = AccountAlternateContact(
                    self, f"contact-{env.stack}-{contact.kind}", account_id=account_id,
                    alternate_contact_type=contact.contact_type, name=contact.name, title=contact.title,
                    email_address=contact.email, phone_number=contact.phone, depends_on=depends_on,
                )
                resource.override_logical_id(env.contact_address(contact).split(".", 1)[1])
            for region, enabled in (*((r, True) for r in env.regions), *((r, False) for r in env.disable_regions)):
                resource = AccountRegion(self, f"region-{env.stack}-{region}", account_id=account_id, region_name=region,
                                         enabled=enabled, depends_on=depends_on)
                resource.override_logical_id(env.region_address(region).split(".", 1)[1])
