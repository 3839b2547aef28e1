"""The emulator's own fills (awsenvs/moto_server.py), through boto3 against the real server:
what they answer, and that their refusals are errors (an HTTP status, not a 200)."""

from __future__ import annotations

import boto3
import botocore.exceptions
import pytest

from awsenvs.config import OPT_IN_REGIONS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def emulated(tmp_path_factory):
    from awsenvs.sandbox import Emulator, environ

    home = tmp_path_factory.mktemp("emulator-home")
    with Emulator() as emulator, environ(emulator.environment(home)):
        organizations = boto3.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        member = organizations.create_account(AccountName="m", Email="m@acme.example.com")["CreateAccountStatus"]["AccountId"]
        yield boto3.client("account"), member


def _code(call) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        call()
    return excinfo.value.response["Error"]["Code"]


def test_an_opt_in_region_starts_disabled_and_is_enabled_and_disabled_from_the_management_account(emulated):
    account, member = emulated
    assert account.get_region_opt_status(AccountId=member, RegionName="af-south-1")["RegionOptStatus"] == "DISABLED"
    account.enable_region(AccountId=member, RegionName="af-south-1")
    assert account.get_region_opt_status(AccountId=member, RegionName="af-south-1")["RegionOptStatus"] == "ENABLED"
    enabled = account.list_regions(AccountId=member, RegionOptStatusContains=["ENABLED"])["Regions"]
    assert enabled == [{"RegionName": "af-south-1", "RegionOptStatus": "ENABLED"}]
    account.disable_region(AccountId=member, RegionName="af-south-1")
    assert account.get_region_opt_status(AccountId=member, RegionName="af-south-1")["RegionOptStatus"] == "DISABLED"
    statuses = {r["RegionName"]: r["RegionOptStatus"] for r in account.list_regions(AccountId=member)["Regions"]}
    assert statuses["us-east-1"] == "ENABLED_BY_DEFAULT" and statuses["eu-south-2"] == "DISABLED"
    assert {r for r, status in statuses.items() if status != "ENABLED_BY_DEFAULT"} == set(OPT_IN_REGIONS) & set(statuses)


def test_the_region_fills_refuse_as_aws_does(emulated):
    account, member = emulated
    assert _code(lambda: account.enable_region(AccountId=member, RegionName="us-east-1")) == "ValidationException"
    assert _code(lambda: account.get_region_opt_status(AccountId=member, RegionName="mars-1")) == "ValidationException"
    # Not a member of the caller's organization: not the caller's to change.
    assert _code(lambda: account.enable_region(AccountId="999999999999", RegionName="af-south-1")) == "AccessDeniedException"


def test_renaming_an_account_outside_the_organization_is_refused(emulated):
    account, _ = emulated
    assert _code(lambda: account.put_account_name(AccountId="999999999999", AccountName="x")) == "AccessDeniedException"


def test_alternate_contacts_are_moto_s_own(emulated):
    account, member = emulated
    account.put_alternate_contact(AccountId=member, AlternateContactType="SECURITY", Name="Sec", Title="Security",
                                  EmailAddress="sec@acme.example.com", PhoneNumber="+1 206 555 0100")
    contact = account.get_alternate_contact(AccountId=member, AlternateContactType="SECURITY")["AlternateContact"]
    assert (contact["Name"], contact["PhoneNumber"]) == ("Sec", "+1 206 555 0100")
    assert _code(lambda: account.get_alternate_contact(AccountId=member, AlternateContactType="BILLING")) == \
        "ResourceNotFoundException"
