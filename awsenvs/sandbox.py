"""`sandbox`: the whole workflow rehearsed offline against a local AWS emulator.

Starts moto's server on a free 127.0.0.1 port, points boto3 and Terraform at it with
`AWS_ENDPOINT_URL` and dummy keys (the same code path as real AWS), creates the accounts
org.yaml adopts inside the emulator, then runs the real commands (`apply --yes`, a second
`plan` that must find no changes, `tree`, `profiles`) as child processes in a scratch
directory whose HOME is a sandbox home: the real ~/.aws, state and cdktf.out stay untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from awsenvs.config import Org
from awsenvs.emulator_faults import CONTROL_PATH, INSTANCE_ENV
from awsenvs.errors import AwsenvsError
from awsenvs.terraform import MIRROR_ENV, find_provider_mirror

# Variables that would point a child at real accounts or the user's files.
_SCRUBBED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
             "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
             "TF_CLI_CONFIG_FILE", "TF_DATA_DIR", "CDKTF_OUTDIR", "AWSENVS_CONFIG")


JSII_CACHE_ENV = "JSII_RUNTIME_PACKAGE_CACHE_ROOT"


def _jsii_package_cache(env: dict[str, str]) -> Path:
    """Where jsii keeps extracted packages for this environment's HOME (its kernel's
    defaultCacheRoot: ~/Library/Caches/com.amazonaws.jsii on macOS, else ~/.cache/aws/jsii)."""
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "com.amazonaws.jsii" / "package-cache"
    return home / ".cache" / "aws" / "jsii" / "package-cache"


class SandboxError(AwsenvsError):
    """The rehearsal could not run (the emulator would not start, a fixture failed)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Emulator:
    """moto's server on 127.0.0.1; a context manager that always stops it.

    `tls=True` serves https with a certificate made for this run (its file is the
    environment's AWS_CA_BUNDLE, which boto3, the provider and the S3 backend all honour):
    what a TLS-only bucket policy needs to let requests through, as on AWS.

    `inject`, `injected` and `clear_faults` set and read the emulator's fault injection
    (rules and schedule: awsenvs.emulator_faults)."""

    port: int = 0
    process: subprocess.Popen | None = None
    tls: bool = False
    _scratch: tempfile.TemporaryDirectory | None = None

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def certificate(self) -> Path | None:
        return Path(self._scratch.name) / "cert.pem" if self.tls and self._scratch else None

    def start(self, timeout: float = 30, attempts: int = 3) -> "Emulator":
        """Start the server on `port` (default: a free one).  A free port can be taken by
        another process before the server binds it (several emulators starting at once):
        the server then exits, and it is started again on another port."""
        chosen = self.port
        for attempt in range(attempts):
            self.port = chosen or free_port()
            try:
                return self._start(timeout)
            except _PortTaken:
                if chosen or attempt == attempts - 1:
                    raise SandboxError(f"the AWS emulator could not listen on 127.0.0.1:{self.port}: the port is "
                                       "taken") from None
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> "Emulator":
        # The server runs in a scratch folder of its own: moto's request recorder (used by
        # tests) writes there, never into the caller's folder.
        self._scratch = tempfile.TemporaryDirectory(prefix="awsenvs-emulator-")
        instance = os.urandom(8).hex()
        env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true", **{INSTANCE_ENV: instance},
                   MOTO_RECORDER_FILEPATH=str(Path(self._scratch.name) / "recording.jsonl"))
        tls_args: list[str] = []
        if self.tls:
            key = Path(self._scratch.name) / "key.pem"
            _write_certificate(self.certificate, key)
            tls_args = ["-c", str(self.certificate), "-k", str(key)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "awsenvs.moto_server", "-H", "127.0.0.1", "-p", str(self.port), *tls_args],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            cwd=self._scratch.name,
        )
        context = self._client_context()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                if _port_in_use(self.port):
                    raise _PortTaken()
                raise SandboxError(f"the AWS emulator (moto server) exited at start with code {code}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}{CONTROL_PATH}", timeout=1, context=context) as answer:
                    if json.load(answer).get("instance") == instance:
                        return self
                time.sleep(0.2)  # another process's server on this port: ours exits when it cannot bind
            except (OSError, ValueError):
                time.sleep(0.2)
        self.stop()
        raise SandboxError(f"the AWS emulator did not answer on {self.endpoint} within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def _client_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=str(self.certificate)) if self.tls else None

    def inject(self, *rules: dict, seed: int = 0) -> None:
        """Make the AWS calls these rules select fail (replacing any rules set before), e.g.
        `inject({"service": "iam", "action": "CreateUser", "fault": "lost", "times": 1})`."""
        self._faults("POST", {"seed": seed, "rules": list(rules)})

    def injected(self) -> list[dict]:
        """Each rule as set, with what it did: `matched` calls, `injected` faults and the
        `actions` it faulted, in order."""
        return self._faults("GET")["rules"]

    def clear_faults(self) -> None:
        self._faults("DELETE")

    def _faults(self, method: str, document: dict | None = None) -> dict:
        body = json.dumps(document).encode() if document is not None else None
        request = urllib.request.Request(f"{self.endpoint}{CONTROL_PATH}", data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10, context=self._client_context()) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise SandboxError(f"the emulator refused the fault rules: {json.load(exc)['message']}") from None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def environment(self, home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for boto3 and terraform to talk to this emulator, with HOME in the sandbox."""
        env = {k: v for k, v in (base if base is not None else os.environ).items() if k not in _SCRUBBED}
        # jsii extracts each binding (~500 MB unpacked) into a cache under HOME; keep the
        # one under the real HOME, or every sandbox home would extract it again.
        env.setdefault(JSII_CACHE_ENV, str(_jsii_package_cache(env)))
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE=str(home / ".aws" / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
            HOME=str(home),
        )
        if self.tls:
            env["AWS_CA_BUNDLE"] = str(self.certificate)
        return env


def _write_certificate(certificate: Path, key: Path) -> None:
    """A self-signed certificate for 127.0.0.1, valid for a day (the emulator's https)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "awsenvs emulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(private, hashes.SHA256()))
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


@contextmanager
def environ(env: dict[str, str]):
    """Run in-process code (boto3) with this environment, then restore the original."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def rehearsal_config(org: Org, organization_id: str, adopted_ids: dict[str, str], management_id: str, target: Path) -> Path:
    """A copy of org.yaml for the emulator: its organization, its ids for adopted accounts,
    local state.  Nothing else is changed: every other setting is rehearsed as written."""
    data = yaml.safe_load(org.source.read_text())
    data["organization"]["organization_id"] = organization_id
    data["organization"]["management_account_id"] = management_id
    data.pop("state", None)  # local state inside the sandbox, whatever the real backend
    for env in org.environments:
        if env.stack in adopted_ids:
            environments = data["products"][env.product]["environments"]
            environments[env.name]["account_id"] = adopted_ids[env.stack]
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def not_rehearsed(org: Org) -> list[str]:
    """What of this org.yaml the emulator cannot run or cannot tell (listed in the summary)."""
    lines = []
    if org.centralized_root:
        lines.append("centralized root access: it is enabled in the emulator (awsenvs' fills), but the emulator has "
                     "no root users to take credentials from and no root sessions (sts:AssumeRoot)")
    if any(p.guardrails for p in org.products):
        lines.append("guardrail enforcement: the SCPs are created and attached to the product OUs, "
                     "but the emulator evaluates no policy, so nothing is denied")
    if any(env.adopted and not env.cli_profile for p in org.products if p.guardrails and p.guardrails.protect_baseline
           for env in p.environments):
        lines.append("that adopted accounts already have their managing role: the emulator lets any role be "
                     "assumed, so the check before planning always passes here")
    if any(p.data_perimeter for p in org.products):
        lines.append("data perimeter enforcement: the resource control policies are created and attached to the "
                     "product OUs (or their covered accounts), but the emulator evaluates no policy, so no outside "
                     "principal, anonymous reader or CloudFront origin access identity is denied")
    if any(env.regions or env.disable_regions for env in org.environments):
        lines.append("opt-in regions: the emulator (awsenvs' fills) turns a region on or off at once; on AWS it takes "
                     "minutes to hours, and the apply waits for it")
    if org.on_retire == "close":
        lines.append("closing retired accounts: the emulator closes at once and keeps no quota; on AWS CloseAccount "
                     "allows 20% of the member accounts (at least 250, at most 1000) per 30 days")
    if org.identity_center:
        lines.append("signing in to the access portal: the emulator has no portal; on AWS, users awsenvs creates "
                     "need a one-time password or the email OTP setting first (see `signin`)")
    if any(env.budget for env in org.environments):
        lines.append("budget alerts: the budgets are created, but the emulator has no spend and sends no email")
    if org.state.backend != "local":
        lines.append(f"state.backend {org.state.backend}: the rehearsal keeps local state; `bootstrap` and remote "
                     "state are rehearsed by the end-to-end tests (tests/test_e2e_remote_state.py), Terraform Cloud "
                     "runs nowhere here")
    return lines


def run(org: Org, console, keep: bool = False) -> int:
    """The sandbox flow; returns the exit code (0 when everything applied and converged)."""
    from awsenvs import aws

    mirror = find_provider_mirror()
    if mirror is None:
        raise SandboxError(
            "no AWS provider mirror found (looked at TF_PROVIDER_MIRROR and the usual plugin folders); "
            "the sandbox runs offline: set TF_PROVIDER_MIRROR to a folder holding registry.terraform.io/hashicorp/aws"
        )
    workdir = Path(tempfile.mkdtemp(prefix="awsenvs-sandbox-"))
    home = workdir / "home"
    (home / ".aws").mkdir(parents=True)
    try:
        with console.status("Starting the local AWS emulator (moto)…"), Emulator() as emulator:
            env = emulator.environment(home)
            env.update({MIRROR_ENV: str(mirror), "CDKTF_OUTDIR": str(workdir / "cdktf.out")})
            with environ(env):
                organization_id, adopted = aws.seed_emulator(org)
                management_id = aws.caller_account()
            console.print(f"Emulator on {emulator.endpoint}; provider mirror {mirror}; sandbox home {home}", markup=False, highlight=False)
            for stack, account_id in adopted.items():
                env_ = org.environment_by_stack(stack)
                console.print(f"Adoption rehearsal: {stack} {env_.account_id} is {account_id} in the emulator", markup=False, highlight=False)
            config = rehearsal_config(org, organization_id, adopted, management_id, workdir / "org.yaml")

            steps = [
                ("apply", ["apply", "--yes"], (0,)),
                # --all: terraform plans every stack again (a plain plan would skip them all,
                # each being unchanged since the apply).
                ("second plan --all (must find no changes)", ["plan", "--all"], (0,)),
                ("plan (every stack unchanged since: nothing planned)", ["plan"], (0,)),
                ("tree", ["tree"], (0,)),
                ("profiles --write (sandbox home)", ["profiles", "--write"], (0,)),
                ("sign-in links", ["signin", "--html", str(home / "signin.html")], (0,)),
                # The management account's root has no MFA in the emulator, and nobody enrolled
                # a device: failures expected.
                ("audit (findings expected: the emulator has no MFA devices)", ["audit"], (0, 1)),
            ]
            outcomes = []
            for title, args, ok_codes in steps:
                console.rule(f"sandbox: {title}")
                code = subprocess.run(
                    [sys.executable, "-m", "awsenvs", "--config", str(config), *args], env=env, cwd=workdir,
                ).returncode
                outcomes.append((title, code, code in ok_codes))
                if title == "apply" and code != 0:
                    break
                if args[0] == "profiles" and code == 0:  # what was written, without the hints again
                    console.print((home / ".aws" / "config").read_text(), markup=False, highlight=False)
        console.rule("sandbox: summary")
        for title, code, ok in outcomes:
            console.print(f"{'[green]ok[/]' if ok else '[red]FAILED[/]'}  {title} (exit {code})")
        for line in not_rehearsed(org):
            console.print(f"[yellow]not rehearsed[/]  {line}", highlight=False)
        console.print(f"Real ~/.aws, state and cdktf.out untouched. Emulator stopped.{' Kept ' + str(workdir) if keep else ''}")
        return 0 if all(ok for _, _, ok in outcomes) and len(outcomes) == len(steps) else 1
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


class _PortTaken(Exception):
    """The emulator's port was taken by another process before the server could bind it."""


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
