"""The blog's legacy account adopted with what it already holds, end to end on an emulator of
its own with real terraform: a public website bucket, alternate contacts set in its console,
and an opt-in region whose enabling an earlier apply left under way.

`import` writes the account out of the data perimeter and its contacts as they are; with the
perimeter turned on, the plan says what it denies in the other adopted account, shows the
contact it replaces and the region it waits for, and the apply attaches the RCP to that
account only, waits for the region without enabling it twice, and sets the contact; a
contact kind set to null later is forgotten, not deleted.  The emulator keeps a region
ENABLING for REGION_SECONDS (awsenvs.moto_server), as AWS does for minutes to hours.
Order matters and is the file's order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from conftest import ROOT, accounts_in_new_ou

pytestmark = pytest.mark.e2e

REGION = "eu-west-1"
REGION_SECONDS = 90  # an opt-in region stays ENABLING this long in this module's emulator
WEBSITE = "www.blog.example.com"
OLD_SECURITY = {"Name": "Old Agency", "Title": "Webmaster", "EmailAddress": "agency@example.com", "PhoneNumber": "+44 20 7946 0000"}


class Blog:
    def __init__(self, workdir: Path, env: dict[str, str], ids: dict[str, str]) -> None:
        self.workdir, self.env, self.ids = workdir, env, ids
        self.config = workdir / "org.yaml"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(self.config), *args],
                              cwd=self.workdir, env=self.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=1200)

    def boto(self):
        from awsenvs.sandbox import environ

        return environ(self.env)

    def edit(self, change) -> None:
        document = yaml.safe_load(self.config.read_text())
        change(document)
        self.config.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="module")
def blog(provider_mirror, tmp_path_factory):
    from awsenvs.moto_server import REGION_SECONDS_ENV
    from awsenvs.sandbox import Emulator, environ

    workdir = tmp_path_factory.mktemp("adopted-settings")
    (workdir / "home" / ".aws").mkdir(parents=True)
    previous = os.environ.get(REGION_SECONDS_ENV)
    os.environ[REGION_SECONDS_ENV] = str(REGION_SECONDS)  # the emulator inherits it when it starts
    try:
        emulator = Emulator().start()
    finally:
        os.environ.pop(REGION_SECONDS_ENV) if previous is None else os.environ.update({REGION_SECONDS_ENV: previous})
    try:
        env = emulator.environment(workdir / "home")
        env.update(TF_PROVIDER_MIRROR=str(provider_mirror), CDKTF_OUTDIR=str(workdir / "cdktf.out"), AWS_REGION=REGION)
        with environ(env):
            ids = _seed()
        yield Blog(workdir, env, ids)
    finally:
        emulator.stop()


def _seed() -> dict[str, str]:
    """The blog's organization made by hand: an OU with the legacy account (a public website
    bucket, a security contact set in its console) and a dev account."""
    from awsenvs import aws

    aws.connect(None)
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    org.enable_aws_service_access(ServicePrincipal="account.amazonaws.com")  # contacts are read and set from here
    ids = accounts_in_new_ou(org, org.list_roots()["Roots"][0]["Id"], "blog", {
        "legacy": ("Blog legacy", "blog-legacy@acme.example.com"), "dev": ("Blog dev", "blog-dev@acme.example.com")})
    s3 = aws.assume_role_session(ids["legacy"], "OrganizationAccountAccessRole").client("s3")
    s3.create_bucket(Bucket=WEBSITE, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=WEBSITE, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{WEBSITE}/*"}]}))
    boto3.client("account").put_alternate_contact(AccountId=ids["legacy"], AlternateContactType="SECURITY", **OLD_SECURITY)
    return ids


def _said(proc: subprocess.CompletedProcess) -> str:
    """stderr as one line: the summary's cells and wrapped notes joined."""
    return " ".join(proc.stderr.replace("│", " ").split())


def test_import_keeps_the_website_account_out_of_the_perimeter_and_writes_its_contacts(blog):
    imported = blog.cli("import", "--output", str(blog.config))
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert "1 accounts serve S3 content to anyone (legacy): written with data_perimeter: false" in _said(imported)
    text = blog.config.read_text()
    assert f"it serves S3 content to anyone: {WEBSITE} (by its bucket policy)" in " ".join(
        line.strip().lstrip("# ") for line in text.splitlines())
    envs = yaml.safe_load(text)["products"]["blog"]["environments"]
    assert envs["legacy"]["data_perimeter"] is False and "data_perimeter" not in envs["dev"]
    assert envs["legacy"]["contacts"] == {"security": {"name": "Old Agency", "title": "Webmaster",
                                                       "email": "agency@example.com", "phone": "+44 20 7946 0000"}}


def test_the_first_plan_says_what_the_perimeter_denies_which_contact_it_replaces_and_which_region_it_waits_for(blog):
    security = {"name": "Blog Security", "title": "Security", "email": "security@blog.example.com", "phone": "+1 206 555 0100"}

    def turn_on(document: dict) -> None:
        document["guardrails"]["data_perimeter"] = True
        legacy = document["products"]["blog"]["environments"]["legacy"]
        legacy["contacts"] = {"security": security}
        legacy["regions"] = ["af-south-1"]
        document["products"]["blog"]["environments"]["dev"]["contacts"] = {"billing": {**security, "name": "Blog Finance"}}

    blog.edit(turn_on)
    assert blog.cli("validate").returncode == 0
    with blog.boto():  # an earlier apply's request, still under way (interrupted, or past its wait)
        boto3.client("account").enable_region(AccountId=blog.ids["legacy"], RegionName="af-south-1")
    plan = blog.cli("plan")
    assert plan.returncode == 2, plan.stderr[-4000:]
    said = _said(plan)
    assert (f"the data perimeter awsenvs-blog-data-perimeter reaches the adopted account blog-dev ({blog.ids['dev']}): "
            "there anyone outside the organization is denied") in said
    assert "reaches the adopted account blog-legacy" not in said  # data_perimeter: false
    assert ("existing security contact of blog-legacy, set before awsenvs: Old Agency, Webmaster, agency@example.com, "
            "+44 20 7946 0000; replaced by org.yaml's: Blog Security") in said
    assert "af-south-1 in blog-legacy is ENABLING since an earlier apply" in said

    applied = blog.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stderr[-4000:]
    with blog.boto():
        org = boto3.client("organizations")
        rcp = next(p["Id"] for p in org.list_policies(Filter="RESOURCE_CONTROL_POLICY")["Policies"]
                   if p["Name"] == "awsenvs-blog-data-perimeter")
        targets = {t["TargetId"] for t in org.list_targets_for_policy(PolicyId=rcp)["Targets"]}
        account = boto3.client("account")
        region = account.get_region_opt_status(AccountId=blog.ids["legacy"], RegionName="af-south-1")["RegionOptStatus"]
        contact = account.get_alternate_contact(AccountId=blog.ids["legacy"], AlternateContactType="SECURITY")
    assert targets == {blog.ids["dev"]}  # not the OU, not the website's account
    assert region == "ENABLED"  # waited for: a second EnableRegion would have been refused
    assert contact["AlternateContact"]["Name"] == "Blog Security"
    assert blog.cli("plan", "--all").returncode == 0


def test_a_contact_kind_set_to_null_is_forgotten_and_stays_on_aws(blog):
    def billing_null(document: dict) -> None:
        document["products"]["blog"]["environments"]["dev"]["contacts"] = {"billing": None}

    blog.edit(billing_null)
    plan = blog.cli("plan")
    assert plan.returncode == 2, plan.stderr[-4000:]
    said = _said(plan)
    assert "forget aws_account_alternate_contact.blog_dev_billing" in said
    assert "the billing contact of blog-dev is no longer org.yaml's: forgotten, it stays on AWS as it is" in said
    applied = blog.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stderr[-4000:]
    with blog.boto():
        kept = boto3.client("account").get_alternate_contact(AccountId=blog.ids["dev"], AlternateContactType="BILLING")
    assert kept["AlternateContact"]["Name"] == "Blog Finance"
    assert blog.cli("plan", "--all").returncode == 0
    audited = json.loads(blog.cli("audit", "--json").stdout)
    assert not [r for r in audited if r["check"] == "drift"], [r for r in audited if r["check"] == "drift"]
