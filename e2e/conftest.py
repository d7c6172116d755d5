"""Fixtures for the end-to-end suite: a real `cognate serve` process driven by the
unmodified `aws` CLI (v1), boto3 and raw HTTP.

Everything that knows how to start the server, how its config file looks and where
its dev mail goes lives in this file, so a change of the server contract is a change
here only:

* ``COGNATE_BIN``      -> :func:`cognate_bin`
* ``cognate serve``    -> :class:`CognateServer`
* YAML config schema   -> :func:`render_config` / :func:`pool_config`
* dev mail outbox      -> :func:`read_outbox` / :func:`latest_code`
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest
import requests
import yaml
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
HEALTH_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
CLI_TIMEOUT_S = 60.0

POOL_ID_RE = re.compile(r"^us-east-1_[0-9A-Za-z]+$")
CLIENT_ID_RE = re.compile(r"^[a-z0-9]{26}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Flows the seeds' tutorials enable on their app client.
TUTORIAL_FLOWS = [
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]
PASSWORD = "Passw0rd!"


# ---------------------------------------------------------------------------
# Isolation from the machine's AWS configuration
# ---------------------------------------------------------------------------

_AWS_HOME = Path(tempfile.mkdtemp(prefix="cognate-e2e-aws-"))
atexit.register(shutil.rmtree, _AWS_HOME, ignore_errors=True)


def _clean_aws_env() -> dict[str, str]:
    """The environment every client runs in: dummy credentials, empty config files,
    no retries (a 5xx must surface, not be retried away), no pager."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    config_file = _AWS_HOME / "config"
    creds_file = _AWS_HOME / "credentials"
    config_file.touch()
    creds_file.touch()
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_CONFIG_FILE=str(config_file),
        AWS_SHARED_CREDENTIALS_FILE=str(creds_file),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
        AWS_RETRY_MODE="standard",
        AWS_EC2_METADATA_DISABLED="true",
    )
    # No HTTP proxy may sit between the clients and the loopback server.
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


CLIENT_ENV = _clean_aws_env()


def pytest_configure(config: pytest.Config) -> None:
    # boto3 and PyJWT run in this process: give it the same clean environment.
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[k]
    os.environ.update({k: v for k, v in CLIENT_ENV.items() if k.startswith("AWS_") or k.lower() == "no_proxy"})
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(k, None)


# ---------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------


def cognate_bin() -> Path:
    """The binary under test: $COGNATE_BIN, else <repo>/target/debug/cognate.
    Fails the calling test (never skips) when it is missing."""
    raw = os.environ.get("COGNATE_BIN")
    path = Path(raw) if raw else REPO_ROOT / "target" / "debug" / "cognate"
    path = path.resolve() if path.is_absolute() or (Path.cwd() / path).exists() else REPO_ROOT / path
    if not path.is_file() or not os.access(path, os.X_OK):
        how = f"COGNATE_BIN={raw!r}" if raw else "COGNATE_BIN is unset, so the default"
        pytest.fail(
            f"cognate binary not found: {how} -> {path} is not an executable file. "
            "Build it with `cargo build` or point COGNATE_BIN at the binary.",
            pytrace=False,
        )
    return path


def pytest_collection_finish(session: pytest.Session) -> None:
    """Without the binary every test would error the same way: say it once and stop."""
    if session.config.option.collectonly or not session.items:
        return
    try:
        cognate_bin()
    except pytest.fail.Exception as e:
        pytest.exit(str(e), returncode=pytest.ExitCode.TESTS_FAILED)


def listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` itself holds a listening TCP socket on `port`. A port
    that was free when probed may be taken by another test's server before ours
    binds it; that server would answer /health for ours."""
    if not os.path.exists("/proc/net/tcp"):
        return True
    suffix = f":{port:04X}"
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[1].endswith(suffix) and fields[3] == "0A":
                inodes.add(f"socket:[{fields[9]}]")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue
    return False


def sigv4_problem(url: str, headers, body: bytes, service: str,
                  secrets: dict[str, str], region: str) -> str | None:
    """Why a request to ``url`` is not signed as AWS checks it (botocore's own SigV4
    signer recomputes the signature) by one of ``secrets`` (access key id -> secret)
    for ``service`` in ``region``; None when it is."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = headers.get("Authorization", "")
    fields = dict(p.split("=", 1) for p in auth.removeprefix("AWS4-HMAC-SHA256 ").split(", "))
    key_id, _date, scope_region, scope_service, _ = fields["Credential"].split("/")
    if key_id not in secrets or (scope_region, scope_service) != (region, service):
        return f"credential scope {fields['Credential']}"
    signed = fields["SignedHeaders"].split(";")
    request = AWSRequest(
        method="POST", url=url, data=body,
        headers={k: v for k, v in headers.items() if k.lower() in signed and k.lower() != "host"})
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(key_id, secrets[key_id], headers.get("X-Amz-Security-Token")),
                       service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return None if expected == fields["Signature"] else "signature mismatch"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_LIVE_SERVERS: list["CognateServer"] = []


def postgres_server_url() -> str:
    """The PostgreSQL server the suite may create databases on ($COGNATE_TEST_POSTGRES_URL,
    set by scripts/test.sh). Fails the calling test (never skips) when it is unset."""
    url = os.environ.get("COGNATE_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(
            "COGNATE_TEST_POSTGRES_URL is unset: start a throw-away server with "
            '`eval "$(bash scripts/pg-test-cluster.sh start)"` (scripts/test.sh does)',
            pytrace=False,
        )
    return url


def fresh_postgres_database() -> str:
    """A new, empty database on the test PostgreSQL server; its URL."""
    server_url = postgres_server_url()
    name = f"cognate_e2e_{uuid.uuid4().hex[:16]}"
    subprocess.run(["psql", server_url, "-qAt", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True, timeout=60)
    return server_url.rsplit("/", 1)[0] + "/" + name


def store_args(srv: "CognateServer") -> list[str]:
    """The flags that point a tool command (export, import, rotate-keys) at a server's state."""
    return ["--data-dir", str(srv.data_dir)] + (["--database", srv.database] if srv.database else [])


def engine() -> str:
    """The database engine servers of this run use: COGNATE_E2E_ENGINE=postgres runs
    the whole suite on PostgreSQL (a fresh database per server); SQLite otherwise."""
    return os.environ.get("COGNATE_E2E_ENGINE", "sqlite")


class CognateServer:
    """One `cognate serve` process on a fixed port and data dir; it can be stopped and
    started again on the same port and data dir (so the issuer URL is stable). With
    ``database`` (a URL), or when the run's engine is PostgreSQL, its state is in that
    database instead of the data dir's SQLite file."""

    def __init__(self, base_dir: Path, config_text: str | None = None, port: int | None = None,
                 database: str | None = None):
        self.bin = cognate_bin()
        self.database = database or (fresh_postgres_database() if engine() == "postgres" else None)
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = base_dir / "cognate.log"
        self.config_path: Path | None = None
        if config_text is not None:
            self.write_config(config_text)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_url = self.url
        self.proc: subprocess.Popen | None = None
        self.exit_codes: list[int] = []
        # More `cognate serve` flags (e.g. --smtp-url) and environment, set before start().
        self.extra_args: list[str] = []
        self.extra_env: dict[str, str] = {}

    # -- configuration ------------------------------------------------------
    def write_config(self, config_text: str, name: str = "cognate.yaml") -> Path:
        self.config_path = self.base_dir / name
        self.config_path.write_text(config_text)
        return self.config_path

    def command(self) -> list[str]:
        cmd = [
            str(self.bin), "serve",
            "--listen", f"127.0.0.1:{self.port}",
            "--data-dir", str(self.data_dir),
            "--public-url", self.public_url,
        ]
        if self.config_path is not None:
            cmd += ["--config", str(self.config_path)]
        if self.database is not None:
            cmd += ["--database", self.database]
        return cmd + self.extra_args

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> "CognateServer":
        assert self.proc is None, "server already running"
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== {' '.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, "RUST_BACKTRACE": "1", **self.extra_env},
            )
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last = "no answer"
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                self.proc = None
                self.exit_codes.append(code)
                pytest.fail(
                    f"cognate serve exited with code {code} before answering /health.\n"
                    f"--- {self.log_path} ---\n{self.logs()}",
                    pytrace=False,
                )
            try:
                r = requests.get(f"{self.url}/health", timeout=1)
                if r.status_code == 200 and listens_on(self.proc.pid, self.port):
                    return self
                last = (f"HTTP {r.status_code}: {r.text[:200]}" if r.status_code != 200
                        else f"another process answers on port {self.port}")
            except requests.RequestException as e:
                last = f"{type(e).__name__}"
            time.sleep(0.05)
        self.stop()
        pytest.fail(
            f"cognate serve did not answer GET /health with 200 within {HEALTH_TIMEOUT_S:.0f} s "
            f"(last: {last}).\n--- {self.log_path} ---\n{self.logs()}",
            pytrace=False,
        )

    def stop(self) -> int | None:
        """SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                with open(self.log_path, "ab") as log:
                    log.write(b"\n===== (e2e) no exit 5 s after SIGTERM: killed\n")
        self.exit_codes.append(proc.returncode)
        return proc.returncode

    def restart(self) -> "CognateServer":
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log file)"

    # -- per-pool URLs --------------------------------------------------------
    def issuer(self, pool_id: str) -> str:
        return f"{self.public_url}/{pool_id}"

    def jwks_url(self, pool_id: str) -> str:
        return f"{self.issuer(pool_id)}/.well-known/jwks.json"

    def discovery_url(self, pool_id: str) -> str:
        return f"{self.issuer(pool_id)}/.well-known/openid-configuration"

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.jsonl"

    def __repr__(self) -> str:
        return f"<CognateServer {self.url} data={self.data_dir}>"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """On failure, attach the log of every cognate process alive for this test."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        shown = report.longreprtext
        for srv in list(_LIVE_SERVERS):
            log = srv.logs()
            if log.strip() and log not in shown:
                report.sections.append((f"cognate log {srv.log_path}", log[-20000:]))


def _server_factory(base: Callable[[], Path]):
    created: list[CognateServer] = []

    def make(config: str | None = None, *, start: bool = True, database: str | None = None) -> CognateServer:
        srv = CognateServer(base(), config_text=config, database=database)
        created.append(srv)
        _LIVE_SERVERS.append(srv)
        if start:
            srv.start()
        return srv

    def finish() -> None:
        for srv in created:
            srv.stop()
            if srv in _LIVE_SERVERS:
                _LIVE_SERVERS.remove(srv)

    return make, finish


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., CognateServer]]:
    """Factory: ``srv = server()`` or ``server(config=yaml_text)`` starts a cognate on a
    fresh data dir and returns it (``.url .port .data_dir .stop() .start() .restart()``).
    All servers are stopped at the end of the test."""
    make, finish = _server_factory(lambda: tmp_path_factory.mktemp("cognate"))
    yield make
    finish()


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CognateServer]:
    """One cognate shared by a test module whose tests each use their own pool."""
    make, finish = _server_factory(lambda: tmp_path_factory.mktemp("cognate-mod"))
    yield make()
    finish()


@pytest.fixture
def cognate(server: Callable[..., CognateServer]) -> CognateServer:
    """A fresh cognate with no config file."""
    return server()


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


def make_boto_client(srv: CognateServer):
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )
    return session.client(
        "cognito-idp",
        endpoint_url=srv.url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


@pytest.fixture
def boto_client() -> Callable[[CognateServer], Any]:
    """``idp = boto_client(srv)``: a boto3 cognito-idp client pointed at ``srv``."""
    return make_boto_client


@dataclass
class CliResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return (
            f"$ aws {' '.join(self.args)}\nexit code {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )


def _aws_command() -> list[str]:
    exe = Path(sys.executable).parent / "aws"
    if exe.is_file():
        return [str(exe)]
    if shutil.which("aws") and os.environ.get("E2E_ALLOW_SYSTEM_AWS"):
        return ["aws"]
    return [sys.executable, "-m", "awscli"]


class AwsCli:
    """Runs the real ``aws cognito-idp`` (v1) as a subprocess against one server."""

    def __init__(self, srv: CognateServer, cwd: Path):
        self.srv = srv
        self.cwd = cwd

    def run(self, *args: str, output: str = "json") -> CliResult:
        full = ["cognito-idp", *args, "--endpoint-url", self.srv.url, "--region", REGION, "--output", output]
        p = subprocess.run(
            _aws_command() + full, cwd=self.cwd, env=CLIENT_ENV, capture_output=True, text=True,
            timeout=CLI_TIMEOUT_S, stdin=subprocess.DEVNULL,
        )
        return CliResult(full, p.returncode, p.stdout, p.stderr)

    def __call__(self, *args: str) -> Any:
        """Run, require exit 0, return the parsed JSON output ({} for empty output)."""
        r = self.run(*args)
        assert r.returncode == 0, f"aws CLI failed:\n{r.describe()}"
        if not r.stdout.strip():
            return {}
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"aws CLI printed non-JSON output ({e}):\n{r.describe()}") from None

    def text(self, *args: str) -> str:
        r = self.run(*args, output="text")
        assert r.returncode == 0, f"aws CLI failed:\n{r.describe()}"
        return r.stdout.strip()

    def fails(self, *args: str) -> CliResult:
        r = self.run(*args)
        assert r.returncode != 0, f"expected the aws CLI to fail, it succeeded:\n{r.describe()}"
        return r


@pytest.fixture
def make_cli(tmp_path: Path) -> Callable[[CognateServer], AwsCli]:
    """``cli = make_cli(srv)`` for a server other than the default one."""
    return lambda srv: AwsCli(srv, tmp_path)


@pytest.fixture
def aws_cli(cognate: CognateServer, tmp_path: Path) -> AwsCli:
    """``aws_cli(*args)`` runs ``aws cognito-idp *args`` against the test's ``cognate``
    server, checks exit 0 and returns parsed JSON; ``.text()``, ``.run()``, ``.fails()``."""
    return AwsCli(cognate, tmp_path)


# ---------------------------------------------------------------------------
# Config file (YAML). The ONE place that knows the schema.
# ---------------------------------------------------------------------------


def pool_config(
    pool_id: str,
    name: str,
    *,
    client_id: str,
    client_name: str = "todo-app-client",
    flows: list[str] | None = None,
    users: list[dict[str, Any]] | None = None,
    auto_verified_attributes: list[str] | None = ("email",),
    password_policy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One pool entry of the config file.

    ``password_policy`` uses the API's names (``MinimumLength``...) and is translated
    to the file's snake_case keys here."""
    pool: dict[str, Any] = {"id": pool_id, "name": name}
    if auto_verified_attributes:
        pool["auto_verified_attributes"] = list(auto_verified_attributes)
    if password_policy:
        pool["password_policy"] = {_snake(k): v for k, v in password_policy.items()}
    pool["clients"] = [
        {
            "id": client_id,
            "name": client_name,
            "explicit_auth_flows": list(flows or TUTORIAL_FLOWS + ["ALLOW_USER_SRP_AUTH"]),
        }
    ]
    if users:
        pool["users"] = [
            {"username": u["username"], "password": u["password"], "attributes": dict(u.get("attributes", {}))}
            for u in users
        ]
    return pool


def render_config(*pools: dict[str, Any]) -> str:
    return yaml.safe_dump({"pools": list(pools)}, sort_keys=False, default_flow_style=False)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# ---------------------------------------------------------------------------
# Dev mail outbox
# ---------------------------------------------------------------------------


def read_outbox(srv: CognateServer) -> list[dict[str, Any]]:
    try:
        text = srv.outbox_path.read_text()
    except FileNotFoundError:
        return []
    # A line the server is still writing has no newline yet: not read.
    lines = text[: text.rfind("\n") + 1].splitlines()
    out = []
    for i, line in enumerate(lines, 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise AssertionError(f"{srv.outbox_path}:{i} is not JSON ({e}): {line!r}") from None
    return out


def latest_message(
    srv: CognateServer, username: str, *, pool_id: str | None = None, kind: str | None = None,
    after: int = 0, timeout: float = 5.0,
) -> dict[str, Any]:
    """The newest outbox message for ``username`` (optionally of ``kind`` / in ``pool_id``)
    among messages with index >= ``after``; waits up to ``timeout`` for it to appear."""
    deadline = time.monotonic() + timeout
    while True:
        msgs = read_outbox(srv)
        hits = [
            m for m in msgs[after:]
            if m.get("username") == username
            and (pool_id is None or m.get("pool_id") == pool_id)
            and (kind is None or m.get("kind") == kind)
        ]
        if hits:
            return hits[-1]
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no outbox message for username={username!r} pool_id={pool_id!r} kind={kind!r} "
                f"in {srv.outbox_path}; it holds {len(msgs)} message(s): {msgs[-5:]!r}"
            )
        time.sleep(0.05)


def latest_code(srv: CognateServer, username: str, **kw: Any) -> str:
    msg = latest_message(srv, username, **kw)
    code = msg.get("code")
    assert isinstance(code, str) and code, f"outbox message has no code: {msg!r}"
    return code


# ---------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_pool_and_client(idp, *, name: str | None = None, flows: list[str] | None = None,
                           auto_verify_email: bool = True, **pool_kw: Any) -> tuple[str, str]:
    """CreateUserPool + CreateUserPoolClient via boto3; returns (pool_id, client_id)."""
    kw: dict[str, Any] = {"PoolName": name or unique("pool"), **pool_kw}
    if auto_verify_email:
        kw.setdefault("AutoVerifiedAttributes", ["email"])
    pool = idp.create_user_pool(**kw)["UserPool"]
    client = idp.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName=unique("client"), ExplicitAuthFlows=flows or TUTORIAL_FLOWS
    )["UserPoolClient"]
    return pool["Id"], client["ClientId"]


def create_confirmed_user(idp, pool_id: str, username: str, password: str = PASSWORD,
                          email: str | None = None) -> None:
    """AdminCreateUser (no message) + AdminSetUserPassword(Permanent) => CONFIRMED."""
    attrs = [{"Name": "email", "Value": email or f"{username}@example.com"},
             {"Name": "email_verified", "Value": "true"}]
    idp.admin_create_user(UserPoolId=pool_id, Username=username, UserAttributes=attrs, MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)


def error_code(exc: BaseException) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def error_message(exc: BaseException) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Message", "")


# ---------------------------------------------------------------------------
# Hosted UI: the relying party's callback server, the pool domain's URLs and
# Debian's Chromium driven by Playwright (e2e/test_hosted_ui.py, test_oidc_rp.py)
# ---------------------------------------------------------------------------

ARTIFACTS_DIR = REPO_ROOT / "target" / "e2e-artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# Headless and quiet: without the background-networking flags Chromium dials
# out (component updates, sync, QUIC probes) into a closed network. Playwright
# gives every launch a fresh temporary user-data-dir of its own.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
    # Host-name mode of a pool domain: <domain>.auth.test is this machine.
    "--host-resolver-rules=MAP *.auth.test 127.0.0.1",
]
HOSTED_DOMAIN_SUFFIX = "auth.test"


class CallbackServer:
    """The relying party's side on ``http://localhost:<port>``: the OAuth
    redirect_uri (``/callback``), the sign-out URL (``/signed-out``) and an API
    backend behind the gateway (``/api/...``, answers the request's headers as JSON).
    Records every request it receives."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.requests: list[dict[str, Any]] = []
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, status: int, ctype: str, body: bytes,
                        headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                from urllib.parse import urlsplit
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                entry = {"method": self.command, "path": self.path,
                         "headers": {k.lower(): v for k, v in self.headers.items()},
                         "body": body.decode(errors="replace")}
                with lock:
                    outer.requests.append(entry)
                path = urlsplit(self.path).path
                if path.startswith("/api/"):
                    self._answer(200, "application/json", json.dumps(
                        {"path": self.path, "headers": entry["headers"]}).encode())
                elif path in ("/callback", "/signed-out"):
                    title = "Signed in" if path == "/callback" else "Signed out"
                    page = (f"<!doctype html><html><head><title>{title}</title></head>"
                            f"<body><h1 id=\"rp\">{title}</h1></body></html>").encode()
                    self._answer(200, "text/html; charset=utf-8", page)
                elif path == "/favicon.ico":
                    self._answer(204, "text/plain", b"")
                else:
                    self._answer(404, "text/plain", b"not found")

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    # Cognito accepts plain http only for localhost redirect URIs.
    @property
    def base(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def callback_url(self) -> str:
        return f"{self.base}/callback"

    @property
    def signout_url(self) -> str:
        return f"{self.base}/signed-out"

    @property
    def backend_url(self) -> str:
        """An ``http`` integration URL for the gateway (the path is appended)."""
        return f"http://127.0.0.1:{self.port}"

    def hits(self, path: str) -> list[dict[str, Any]]:
        return [r for r in list(self.requests) if r["path"].split("?")[0] == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def callback_server() -> Iterator[CallbackServer]:
    cb = CallbackServer()
    yield cb
    cb.close()


def hosted_ui_base(srv: CognateServer, domain: str) -> str:
    """Path-prefix form of a pool domain's base URL (the contract's local mode)."""
    return f"{srv.url}/domains/{domain}"


def hosted_ui_host_base(srv: CognateServer, domain: str) -> str:
    """Host-name form: ``http://<domain>.auth.test:<port>`` (Chromium maps it to 127.0.0.1)."""
    return f"http://{domain}.{HOSTED_DOMAIN_SUFFIX}:{srv.port}"


@dataclass
class HostedApp:
    """A pool with a domain and a public app client allowed the code and implicit
    grants with the callback server's URLs."""
    srv: CognateServer
    idp: Any
    pool_id: str
    client_id: str
    domain: str
    callback_url: str
    signout_url: str
    client_secret: str | None = None

    @property
    def base(self) -> str:
        return hosted_ui_base(self.srv, self.domain)

    def authorize_url(self, response_type: str = "token", *, scope: str = "openid email profile",
                      base: str | None = None, **extra: str) -> str:
        from urllib.parse import urlencode
        params = {"response_type": response_type, "client_id": self.client_id,
                  "redirect_uri": self.callback_url, "scope": scope, **extra}
        return f"{base or self.base}/oauth2/authorize?{urlencode(params)}"

    def token_url(self) -> str:
        return f"{self.base}/oauth2/token"


def create_hosted_app(srv: CognateServer, cb: CallbackServer, *, secret: bool = False,
                      flows: tuple[str, ...] = ("code", "implicit"),
                      scopes: tuple[str, ...] = ("openid", "email", "profile", "aws.cognito.signin.user.admin"),
                      auth_flows: tuple[str, ...] = (),
                      **pool_kw: Any) -> HostedApp:
    """CreateUserPool + CreateUserPoolDomain + CreateUserPoolClient (OAuth settings) via boto3;
    ``auth_flows`` are added to the client's ExplicitAuthFlows."""
    idp = make_boto_client(srv)
    kw: dict[str, Any] = {"PoolName": unique("hosted"), "AutoVerifiedAttributes": ["email"], **pool_kw}
    pool_id = idp.create_user_pool(**kw)["UserPool"]["Id"]
    domain = unique("ui")
    idp.create_user_pool_domain(UserPoolId=pool_id, Domain=domain)
    client = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName=unique("web"), GenerateSecret=secret,
        ExplicitAuthFlows=TUTORIAL_FLOWS + ["ALLOW_USER_SRP_AUTH", *auth_flows],
        CallbackURLs=[cb.callback_url], LogoutURLs=[cb.signout_url],
        SupportedIdentityProviders=["COGNITO"], AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=list(flows), AllowedOAuthScopes=list(scopes),
    )["UserPoolClient"]
    return HostedApp(srv, idp, pool_id, client["ClientId"], domain, cb.callback_url, cb.signout_url,
                     client.get("ClientSecret"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Debian Chromium per test module (per xdist worker), driven by
    Playwright's client. Fails (never skips) when the browser is missing."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `bash scripts/e2e-setup.sh` "
                    "(as root it apt-get installs Debian's chromium) or set E2E_CHROMIUM.", pytrace=False)
    from playwright.sync_api import sync_playwright
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                     env={k: v for k, v in os.environ.items()
                                          if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")})
        try:
            yield browser
        finally:
            browser.close()
    finally:
        pw.stop()


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page for one test. The last page
    shown is saved as target/e2e-artifacts/<test>.last.png for a look after the run."""
    context = chromium.new_context(viewport={"width": 1000, "height": 800}, locale="en-US")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        try:
            ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
            pg.screenshot(path=str(ARTIFACTS_DIR / f"{_artifact_name(request.node.nodeid)}.last.png"),
                          full_page=True, timeout=5_000)
        except Exception:  # noqa: BLE001 - an artifact never fails a test
            pass
        context.close()
