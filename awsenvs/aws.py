"""AWS access of awsenvs (boto3): sessions, the account guard, emulator seeding; the reads of
the live organization are in awsenvs.live, the only other home of boto3 besides retire.py.

`AWS_ENDPOINT_URL` is honoured by boto3 and the Terraform provider alike, which is how the
sandbox and the end-to-end tests reach the local emulator: no special code path here.

Every command that calls AWS starts with `connect(org)`: it checks that the profile the
environment names exists and sets the region every session of the run uses (the default
session and every session made here: `new_session`), so that no call stops at boto3's "You
must specify a region" or a ProfileNotFound traceback; with S3 state, that the state bucket
is reached over https (`check_state_transport`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import botocore.loaders
import botocore.session

from awsenvs.config import Org
from awsenvs.errors import AwsenvsError, Unreachable, no_answer, with_credentials_hint


class AwsError(AwsenvsError):
    """An AWS call that failed, worded for an operator (one line)."""


class GuardError(AwsenvsError):
    """The credentials belong to the wrong account; nothing was run."""


def call(what: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except botocore.exceptions.NoCredentialsError:
        raise AwsError(f"{what}: no AWS credentials (set AWS_PROFILE to the management account's profile)") from None
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsError(with_credentials_hint(f"{what}: {error.get('Code', 'error')}: {error.get('Message', exc)}")) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise failed(what, exc) from None


def failed(what: str, exc: botocore.exceptions.BotoCoreError) -> AwsenvsError:
    """A call that got no AWS answer at all, in one line: Unreachable when the endpoint did
    not answer (after botocore's retries), else an AwsError naming `what`."""
    if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)):
        endpoint = urlsplit(exc.kwargs.get("endpoint_url", ""))
        reason = "timed out" if isinstance(exc, botocore.exceptions.ConnectTimeoutError) else \
            no_answer(str(exc.kwargs.get("error", ""))) or "no answer"
        return Unreachable(f"{endpoint.scheme}://{endpoint.netloc}", f"{reason} ({what})")
    return AwsError(with_credentials_hint(f"{what}: {exc}", type(exc).__name__))


def maybe(what: str, fn, missing: tuple[str, ...]):
    """`fn()`, or None when what it reads does not exist (AWS answers an error code in
    `missing`); any other failure is a one-line AwsError naming `what`."""
    try:
        return fn()
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in missing:
            return None
        raise AwsError(with_credentials_hint(f"{what}: {exc}")) from None
    except AwsError as exc:  # from `pages` (or `call`) inside fn, which report the code in their text
        if any(code in str(exc) for code in missing):
            return None
        raise
    except botocore.exceptions.BotoCoreError as exc:
        raise failed(what, exc) from None


_REGION: list[str] = []  # the run's region, once connect() has chosen it


# Throttled calls are retried with botocore's adaptive mode, which also slows the client
# down when AWS throttles (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html):
# audit and import read hundreds of accounts in threads.
RETRY_MODE, MAX_ATTEMPTS = "adaptive", 10


def _retries(core: botocore.session.Session) -> None:
    core.set_config_variable("retry_mode", RETRY_MODE)
    core.set_config_variable("max_attempts", MAX_ATTEMPTS)


def connect(org: Org | None, fallback_region: str = "us-east-1") -> str:
    """Start the run's AWS access; returns its region.

    The profile: `AWS_PROFILE` (or `AWS_DEFAULT_PROFILE`) must name a profile of the AWS
    config or credentials file, or this stops with one line naming both files.
    The region of every session: AWS_REGION (what Terraform and most SDKs read), else
    AWS_DEFAULT_REGION, else the profile's, else org.yaml's `organization.region`.  boto3
    reads only AWS_DEFAULT_REGION and the profile, and stops at "You must specify a region"
    without one; awsenvs always knows a region from org.yaml.
    """
    core = botocore.session.get_session()
    profile = core.get_config_variable("profile")  # as botocore reads it: AWS_DEFAULT_PROFILE, then AWS_PROFILE
    if profile and profile not in core.available_profiles:
        variable = next((v for v in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE") if os.environ.get(v) == profile), "AWS_PROFILE")
        raise AwsError(missing_profile(variable, profile, core))
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        try:
            region = core.get_scoped_config().get("region")
        except botocore.exceptions.BotoCoreError:
            region = None
    region = region or (org.region if org else fallback_region)
    _REGION[:] = [region]
    boto3.setup_default_session(region_name=region)
    _retries(boto3.DEFAULT_SESSION._session)
    if org is not None:
        check_state_transport(org)
    return region


def check_state_transport(org: Org) -> None:
    """With S3 state, the S3 endpoint must be https: the state bucket's policy (bootstrap's)
    denies every request made without TLS, on AWS as on the emulator.  Over an http endpoint
    (an emulator started without a certificate) every request to the bucket answers 403
    Forbidden, which terraform's S3 backend retries for about a minute before it fails, and
    bootstrap would have made the bucket before its first refusal: refuse at once, before
    anything is created, moved or planned.  The endpoint is the one boto3 resolves
    (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the config file's endpoint_url), as terraform's
    S3 backend does."""
    if org.state.backend != "s3":
        return
    endpoint = boto3.client("s3", region_name=org.state.s3.region).meta.endpoint_url
    if urlsplit(endpoint).scheme != "http":
        return
    setting = next((name for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL") if os.environ.get(name)),
                   "endpoint_url in the AWS config file")
    raise AwsError(f"the state bucket s3://{org.state.s3.bucket} allows TLS only (its policy denies plain http: every "
                   f"request would get 403 Forbidden), and the S3 endpoint is {endpoint} ({setting}): use https: "
                   "serve the endpoint with a certificate and set an https:// URL, with AWS_CA_BUNDLE naming the "
                   "certificate (the emulator: `-c cert.pem -k key.pem`, see docs/emulator.md)")


def missing_profile(variable: str, profile: str, core: botocore.session.Session) -> str:
    """The one line for a profile the AWS files do not have, naming both files (as botocore
    finds them: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/)."""
    files = [os.path.expanduser(core.get_config_variable(name)) for name in ("config_file", "credentials_file")]
    known = sorted(p for p in core.available_profiles if p != "default")
    listed = f"profiles there: {', '.join(known[:8])}{', …' if len(known) > 8 else ''}" if known else "it has no profiles"
    return (f"{variable}={profile}: no such profile in {files[0]} or {files[1]} ({listed}); set {variable} to the "
            f"management account's profile, or add that profile (`aws configure --profile {profile}`)")


def _default_region() -> str | None:
    if _REGION:
        return _REGION[0]
    return boto3.DEFAULT_SESSION.region_name if boto3.DEFAULT_SESSION else None


def has_credentials() -> bool:
    """Whether boto3 finds any credentials (environment, profile, SSO, instance role)."""
    try:
        return boto3._get_default_session().get_credentials() is not None
    except botocore.exceptions.BotoCoreError:
        return True  # some are configured but unusable: the guard's call says why


def caller_account(session: boto3.Session | None = None) -> str:
    session = session or boto3._get_default_session()
    return call("sts get-caller-identity", lambda: session.client("sts").get_caller_identity())["Account"]


def caller_person(session: boto3.Session | None = None) -> tuple[str | None, str]:
    """Who the credentials are, as a person AWS vouches for: (name, caller ARN).

    The name is an IAM user's (`user/NAME`), or an Identity Center session's
    (`assumed-role/AWSReservedSSO_<set>_<id>/NAME`: Identity Center names the session after
    the signed-in user).  Any other role session has the name its caller chose when it
    assumed the role (RoleSessionName), which names nobody: None."""
    session = session or boto3._get_default_session()
    arn = call("sts get-caller-identity", lambda: session.client("sts").get_caller_identity())["Arn"]
    kind, _, path = arn.split(":", 5)[-1].partition("/")
    if kind == "user":
        return path.rsplit("/", 1)[-1], arn
    role, _, name = path.partition("/")
    if kind == "assumed-role" and role.startswith("AWSReservedSSO_") and name:
        return name, arn
    return None, arn


def management_account_of_organization() -> tuple[str, str] | None:
    """(organization id, its management account id) of the credentials' organization, or
    None when their account belongs to none.  Any account of an organization may call
    DescribeOrganization (https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html)."""
    client = boto3.client("organizations")
    try:
        organization = client.describe_organization()["Organization"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "AWSOrganizationsNotInUseException":
            return None
        raise AwsError(with_credentials_hint(f"organizations describe-organization: {exc.response.get('Error', {}).get('Code')}: "
                                             f"{exc.response.get('Error', {}).get('Message', exc)}")) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise failed("organizations describe-organization", exc) from None
    return organization["Id"], organization["MasterAccountId"]


@dataclass(frozen=True)
class GuardResult:
    account_id: str
    warning: str | None = None


def guard(org: Org, member_account_ids: dict[str, str], caller: str | None = None) -> GuardResult:
    """The credentials must be the management account's, never a member account's.

    `member_account_ids` maps stack -> account id for every account the stacks manage
    that is known so far (adopted ones, and those in the management stack's outputs).
    `caller`: the account STS already returned, to check more ids without asking again.
    """
    first = caller is None
    actual = caller or caller_account()
    expected = org.management_account_id
    if expected and actual != expected:
        raise GuardError(_not_the_expected_account(org, actual, expected))
    set_it = ""
    if first and not expected:
        # Without management_account_id, the ids known so far may not name the account:
        # its organization says which account manages it.
        organization = management_account_of_organization()
        if organization is not None and organization[1] != actual:
            set_it = (f'; set organization.management_account_id: "{organization[1]}" in {org.source.name} so that '
                      "the guard checks it first")
            if actual not in member_account_ids.values():
                raise GuardError(
                    f"these credentials are for account {actual}, a member account of organization {organization[0]} "
                    f"(not one of the accounts {org.source.name} knows so far), not its management account "
                    f"{organization[1]}: awsenvs needs the management account's credentials (AWS_PROFILE){set_it}")
    for stack, account_id in member_account_ids.items():
        if actual == account_id:
            raise GuardError(
                f"these credentials are for account {actual}, the member account of stack {stack}, "
                f"not the management account: awsenvs needs the management account's credentials (AWS_PROFILE){set_it}"
            )
    warning = None
    if not expected:
        warning = (
            f"organization.management_account_id is not set: checked that {actual} is no member account; "
            f"set management_account_id: \"{actual}\" in {org.source.name} if that is your management account"
        )
    return GuardResult(actual, warning)


def _not_the_expected_account(org: Org, actual: str, expected: str) -> str:
    """Why the credentials of `actual` are refused when org.yaml expects `expected`: when
    `actual` manages its organization, org.yaml's id is the likelier mistake (a typo, an id
    copied from another account), so the line says how to correct either."""
    field = f"organization.management_account_id in {org.source.name}"
    try:
        organization = management_account_of_organization()
    except AwsError:  # cannot tell: the plain refusal
        organization = None
    if organization is not None and organization[1] == actual:
        return (f"these credentials are for account {actual}, the management account of organization "
                f"{organization[0]}, but {field} is {expected}: if {actual} is your management account, that id is "
                f'the wrong one: set management_account_id: "{actual}"; otherwise switch to the credentials of '
                f"{expected} (AWS_PROFILE)")
    return (f"these credentials are for account {actual}, but {field} is {expected}: switch to the management "
            "account's credentials (AWS_PROFILE)")


def sts_client():
    """An STS client of the credentials' own session, to share with worker threads: clients
    are thread safe once created, sessions (the default one behind `boto3.client` too) are not
    (https://boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html#multithreading-or-multiprocessing-with-clients,
    https://boto3.amazonaws.com/v1/documentation/api/latest/guide/session.html#multithreading-or-multiprocessing-with-sessions).
    Made once in the calling thread, it also resolves the credentials once (an MFA profile prompts once)."""
    return boto3.client("sts")


# One loader of botocore's data files (service models, endpoints) for every session made
# here: each new session would otherwise parse them again, about 0.1 s of CPU per account
# and client, which with hundreds of accounts (audit, the plan's look-ups) dominates.  The
# loader only caches parsed files; credentials and configuration stay per session.
_LOADER = botocore.loaders.create_loader(os.environ.get("AWS_DATA_PATH"))
_LOADER_LOCK = threading.Lock()


def new_session(**kwargs) -> boto3.Session:
    """A boto3 session of its own (thread-safe to hand to a worker thread) sharing the loader."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    _retries(core)
    with _LOADER_LOCK:  # each boto3 session adds boto3's data folder to the loader's paths: once is enough
        session = boto3.Session(botocore_session=core, **kwargs)
        _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))
    return session


def own_session() -> boto3.Session:
    """A session of the credentials' own (the management account's), thread-safe to hand
    on, in the run's region (boto3 alone would not read AWS_REGION: connect)."""
    return new_session(region_name=_default_region())


def assume_role_session(account_id: str, role_name: str, session_name: str = "awsenvs", sts=None) -> boto3.Session:
    """A session in a member account through the same role the account stacks use.

    `sts`: a client from `sts_client()`, required when called from a worker thread."""
    sts = sts or boto3.client("sts")
    creds = call(
        f"assume role {role_name} in {account_id}",
        sts.assume_role,
        RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}",
        RoleSessionName=session_name,
    )["Credentials"]
    return new_session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=_default_region(),
    )


def seed_emulator(org: Org) -> tuple[str, dict[str, str]]:
    """In the local emulator only: create the organization and the accounts org.yaml adopts.

    Returns the organization id and, per adopted stack, the emulator's id for the account
    (an emulator cannot create an account with a chosen id), so adoption can be rehearsed.
    """
    client = boto3.client("organizations")
    organization = call("create organization", client.create_organization, FeatureSet="ALL")["Organization"]
    ids = {}
    for env in org.environments:
        if env.adopted:
            status = call(
                f"create account {env.account_name}", client.create_account,
                AccountName=env.account_name, Email=env.email,
            )["CreateAccountStatus"]
            ids[env.stack] = status["AccountId"]
    return organization["Id"], ids


def pages(client, operation: str, key: str, **kwargs) -> list[dict]:
    """Every item of a paginated call, its failures as one-line AwsErrors (see `call`)."""
    return call(operation, lambda: [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]])


def member_session(account_id: str, role_name: str, cli_profile: str | None, sts=None) -> boto3.Session:
    """A session in a member account the way its stack reaches it (role, or a CLI profile);
    a new session per call, so each thread has its own (`sts`: see `assume_role_session`)."""
    if cli_profile:
        try:
            return _profile_session(cli_profile)
        except botocore.exceptions.ProfileNotFound:
            raise AwsError(f"profile {cli_profile!r} is not in your AWS config") from None
    return assume_role_session(account_id, role_name, "awsenvs-audit", sts=sts)


def _profile_session(profile: str) -> boto3.Session:
    """A named CLI profile's session, in this run's region when the profile names none."""
    session = new_session(profile_name=profile)
    return session if session.region_name else new_session(profile_name=profile, region_name=_default_region())


def profile_account(profile: str) -> str:
    """The account a CLI profile's own keys belong to (STS)."""
    return caller_account(_profile_session(profile))
