"""The commands the README and the quick start tell a new user to type, run as
typed, in a clean copy of the checkout.

The run command is read from README.md itself (the first line of a code block that
starts with `cargo run`), so the README and the code cannot drift apart: if the
command stops working on a fresh clone, these tests fail. Only the ports and the
data directory are moved (through the documented `COGNATE_LISTEN` /
`COGNATE_DATA_DIR` variables, or by replacing the documented port numbers), so the
tests do not collide with each other or with a cognate the developer is running.

The clean copy holds the files git tracks (and untracked files that are not
ignored): no `target/`, no `data/`, no virtualenv. It builds into this checkout's
`target/` (`CARGO_TARGET_DIR`), so the release build is made once per run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from conftest import CLIENT_ENV, REPO_ROOT, free_port

# One worker runs this module in order: one clean copy, one release build.
pytestmark = pytest.mark.xdist_group("readme")

# The first `cargo run --release` in a fresh CI run builds the release binary.
BUILD_TIMEOUT_S = 40 * 60.0
START_TIMEOUT_S = 60.0
SCRIPT_TIMEOUT_S = 300.0


# ---------------------------------------------------------------------------
# Reading the documents
# ---------------------------------------------------------------------------


def code_blocks(markdown: str) -> list[tuple[str, str, int]]:
    """Fenced code blocks as (language, text, offset of the block in the document)."""
    return [
        (m.group(1).strip(), m.group(2), m.start())
        for m in re.finditer(r"^```([^\n]*)\n(.*?)^```", markdown, re.M | re.S)
    ]


def block_after(markdown: str, heading: str, lang: str | None = None) -> str:
    """The first code block (of `lang`, if given) after the heading `heading`."""
    at = markdown.find(heading)
    assert at >= 0, f"README heading {heading!r} is gone"
    for block_lang, text, offset in code_blocks(markdown):
        if offset > at and (lang is None or block_lang == lang):
            return text
    raise AssertionError(f"no {lang or ''} code block after {heading!r}")


def commands(block: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments and blank lines dropped."""
    out: list[str] = []
    pending = ""
    for raw in block.splitlines():
        line = raw.rstrip()
        if pending:
            line = pending + " " + line.lstrip()
            pending = ""
        if line.endswith("\\"):
            pending = line[:-1].rstrip()
            continue
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            out.append(line)
    return out


def without_comment(command: str) -> str:
    """A command without its trailing `# ...` comment (none of ours quote a #)."""
    return re.sub(r"\s+#.*$", "", command).strip()


README = (REPO_ROOT / "README.md").read_text()
QUICKSTART = (REPO_ROOT / "examples" / "quickstart" / "README.md").read_text()


def readme_run_command() -> str:
    for _lang, text, _offset in code_blocks(README):
        for line in text.splitlines():
            if line.startswith("cargo run"):
                return line.strip()
    raise AssertionError("README.md has no code block with a line starting with `cargo run`")


# ---------------------------------------------------------------------------
# The clean copy and the processes started in it
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean_copy() -> Iterator[Path]:
    """The checkout's files (tracked, or untracked and not ignored), copied to a temp dir."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    root = Path(tempfile.mkdtemp(prefix="cognate-readme-"))
    for rel in filter(None, listed.split("\0")):
        src = REPO_ROOT / rel
        if not src.is_file():  # deleted in the work tree but not yet in the index
            continue
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    assert not (root / "target").exists() and not (root / "data").exists()
    yield root
    shutil.rmtree(root, ignore_errors=True)


def user_env(**extra: str) -> dict[str, str]:
    """What a user's shell has: PATH (with the e2e venv's `aws`), the clean AWS
    config, and this checkout's target dir so the release build is shared."""
    env = dict(CLIENT_ENV)
    venv_bin = REPO_ROOT / ".venv-e2e" / "bin"
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["CARGO_TARGET_DIR"] = str(REPO_ROOT / "target")
    env.pop("COGNATE_BIN", None)
    for k in [k for k in env if k.startswith("COGNATE_")]:
        del env[k]
    env.update(extra)
    return env


class Shell:
    """A command typed into a terminal and left running (its own process group)."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str], log: Path):
        self.command = command
        self.log = log
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_until(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"`{self.command}` exited with {self.proc.returncode} before {what}:\n{self.output()}",
                    pytrace=False,
                )
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        pytest.fail(f"`{self.command}`: not {what} after {timeout:.0f} s:\n{self.output()}", pytrace=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log_file.close()


# A well-formed SigV4 header with dummy credentials: enough for a server
# without admin credentials (development mode), as the aws CLI's signature is.
DUMMY_AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/cognito-idp/aws4_request, "
                       "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)


def list_user_pools(endpoint: str) -> requests.Response:
    return requests.post(
        endpoint,
        data=json.dumps({"MaxResults": 10}),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.ListUserPools",
            "Authorization": DUMMY_AUTHORIZATION,
        },
        timeout=5,
    )


def answers_list_user_pools(endpoint: str) -> bool:
    r = list_user_pools(endpoint)
    return r.status_code == 200 and "UserPools" in r.json()


def run_script(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )


def assert_ok(done: subprocess.CompletedProcess[str], what: str) -> None:
    assert done.returncode == 0, (
        f"{what} failed with {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )


@pytest.fixture(scope="module")
def readme_server(clean_copy: Path) -> Iterator[tuple[str, Path]]:
    """The README's run command, as written, in the clean copy; (endpoint, data dir)."""
    command = readme_run_command()
    assert command == "cargo run --release -- serve", f"the README's run command changed to {command!r}"
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="cognate-readme-data-"))
    shell = Shell(
        command,
        clean_copy,
        user_env(COGNATE_LISTEN=f"127.0.0.1:{port}", COGNATE_DATA_DIR=str(data_dir)),
        data_dir.parent / f"{data_dir.name}.log",
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        shell.wait_until(lambda: answers_list_user_pools(endpoint), BUILD_TIMEOUT_S, "answering ListUserPools")
        yield endpoint, data_dir
    finally:
        shell.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# The README's two commands
# ---------------------------------------------------------------------------


def test_the_readme_run_command_serves_the_cognito_api_from_a_clean_copy(readme_server) -> None:
    endpoint, data_dir = readme_server
    r = list_user_pools(endpoint)
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["UserPools"], list)
    assert (data_dir / "cognate.db").is_file(), "the embedded SQLite database is not in COGNATE_DATA_DIR"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    block = block_after(README, "Run the whole test suite", "sh")
    (test_command,) = commands(block)
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    execs = [line.strip() for line in ci.splitlines() if line.strip().startswith("exec ")]
    assert execs == [f"exec {test_command}"], f".ci/run runs {execs}, the README says {test_command!r}"
    assert (REPO_ROOT / test_command.split()[-1]).is_file()


def test_serve_help_lists_the_documented_flags(clean_copy: Path, readme_server) -> None:
    # After the run command, so the release build exists.
    command = re.search(r"`(cargo run --release -- serve --help)`", README)
    assert command, "README no longer tells how to list the options"
    done = run_script(command.group(1), clean_copy, user_env())
    assert_ok(done, command.group(1))
    for flag in re.findall(r"^\| `(--[a-z0-9-]+)", README, re.M):
        assert flag in done.stdout, f"README documents {flag}, `serve --help` does not list it"


# ---------------------------------------------------------------------------
# The README's walk-through and its config file
# ---------------------------------------------------------------------------


def test_the_readme_walk_through_runs_as_written(clean_copy: Path, readme_server, tmp_path: Path) -> None:
    endpoint, data_dir = readme_server
    script = block_after(README, "## A walk through the seeds' journey", "sh")
    assert "127.0.0.1:9229" in script
    script = script.replace("http://127.0.0.1:9229", endpoint)
    # The prose after the block: confirm a self-service sign-up with the emailed code.
    confirm = re.search(r"`(aws cognito-idp confirm-sign-up [^`]+)`", README)
    assert confirm, "README no longer says how to confirm a sign-up"
    confirm_cmd = (
        confirm.group(1)
        .replace("NAME", "jane_doe")
        .replace("CODE", """$(jq -r 'select(.username == "jane_doe") | .code' "$OUTBOX" | tail -1)""")
    )
    script += (
        "\naws cognito-idp sign-up --client-id $CLIENT --username jane_doe --password 'MySuperSecurePassw0rd!' "
        "--user-attributes Name=email,Value=jane@example.com $E\n"
        f"{confirm_cmd}\n"
        "aws cognito-idp admin-get-user --user-pool-id $POOL --username jane_doe --query UserStatus --output text $E\n"
    )
    done = run_script(script, tmp_path, user_env(OUTBOX=str(data_dir / "outbox.jsonl")))
    assert_ok(done, "the README's walk-through")
    out = done.stdout
    jwts = re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", out)
    assert len(jwts) >= 2, out  # the ID token printed by the first login, the refreshed tokens
    assert '"ChallengeName": "NEW_PASSWORD_REQUIRED"' not in out  # the challenge was answered
    assert '"Username": "joe_bloggs"' in out  # get-user
    assert '"keys"' in out and '"RS256"' in out  # the JWKS
    assert '"jwks_uri"' in out  # the discovery document
    assert out.rstrip().endswith("CONFIRMED"), out[-500:]


def test_the_readme_config_file_is_checked_and_served(clean_copy: Path, readme_server, tmp_path: Path) -> None:
    config = block_after(README, "## Declaring pools in a file", "yaml")
    (clean_copy / "cognate.yaml").write_text(config)
    block = block_after(README, "## Declaring pools in a file", "sh")
    check, serve = [without_comment(c) for c in commands(block)]
    assert check == "cargo run --release -- check-config cognate.yaml"
    assert serve == "cargo run --release -- serve --config cognate.yaml"

    done = run_script(check, clean_copy, user_env())
    assert_ok(done, check)
    assert "cognate.yaml: ok (1 pool(s))" in done.stdout

    # The documented form of a mistake: file, line, column and key.
    (clean_copy / "broken.yaml").write_text(config.replace("[ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]", "42"))
    done = run_script(check.replace("cognate.yaml", "broken.yaml"), clean_copy, user_env())
    assert done.returncode != 0
    assert re.search(r"broken\.yaml:\d+:\d+: key `pools\[0\]\.clients\[0\]\.explicit_auth_flows`", done.stderr), done.stderr

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    shell = Shell(
        serve,
        clean_copy,
        user_env(COGNATE_LISTEN=f"127.0.0.1:{port}", COGNATE_DATA_DIR=str(tmp_path / "data")),
        tmp_path / "serve.log",
    )
    try:
        shell.wait_until(lambda: answers_list_user_pools(endpoint), START_TIMEOUT_S, "answering ListUserPools")
        login = run_script(
            "aws cognito-idp admin-initiate-auth --user-pool-id us-east-1_TodoPool1 "
            "--client-id 3c4v73qlc19bp0mevm94f5a4co --auth-flow ADMIN_NO_SRP_AUTH "
            "--auth-parameters USERNAME=joe_bloggs,PASSWORD='MySuperSecurePassw0rd!' "
            f"--query AuthenticationResult.IdToken --output text --endpoint-url {endpoint}",
            tmp_path,
            user_env(),
        )
        assert_ok(login, "login as the config file's user")
        assert login.stdout.startswith("eyJ"), login.stdout
        # The README's key rotation, on the pool of its config file, beside the running server.
        rotate_block = block_after(README, "Signing keys rotate without refusing a valid token", "sh")
        (rotate,) = [without_comment(c) for c in commands(rotate_block)]
        assert "us-east-1_TodoPool1" in rotate
        done = run_script(rotate, clean_copy, user_env(COGNATE_DATA_DIR=str(tmp_path / "data")))
        assert_ok(done, rotate)
        assert done.stdout.count("new ") == 2 and "signing from" in done.stdout, done.stdout
    finally:
        shell.stop()


def test_the_readme_backup_commands_work(clean_copy: Path, readme_server, tmp_path: Path) -> None:
    endpoint, data_dir = readme_server
    # Something to back up, whatever ran before.
    requests.post(endpoint, data=json.dumps({"PoolName": "backup-me"}), timeout=10, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.CreateUserPool",
        "Authorization": DUMMY_AUTHORIZATION}).raise_for_status()
    block = block_after(README, "## State, backups and signing keys", "sh")
    export, restore = [without_comment(c) for c in commands(block)]
    assert export.startswith("cargo run --release -- export") and restore.startswith("cargo run --release -- import")
    # From the repository root, as a user types them; the server's data dir by its variable.
    done = run_script(export, clean_copy, user_env(COGNATE_DATA_DIR=str(data_dir)))
    assert_ok(done, export)
    assert (clean_copy / "backup.jsonl").is_file()
    done = run_script(restore, clean_copy, user_env())
    assert_ok(done, restore)
    assert re.search(r"imported [1-9]\d* pool\(s\)", done.stderr), done.stderr
    assert (clean_copy / "restored" / "cognate.db").is_file()


# ---------------------------------------------------------------------------
# examples/quickstart: four processes and the calls through the gateway
# ---------------------------------------------------------------------------

QUICKSTART_PORTS = (9229, 9230, 9001, 9002, 9003)


def test_the_quickstart_runs_as_written(clean_copy: Path, readme_server, tmp_path: Path) -> None:
    ports = {p: free_port() for p in QUICKSTART_PORTS}

    def moved(text: str) -> str:
        for old, new in ports.items():
            text = re.sub(rf"127\.0\.0\.1:{old}\b", f"127.0.0.1:{new}", text)
        return text

    config = clean_copy / "examples" / "quickstart" / "cognate.yaml"
    config.write_text(moved(config.read_text()))

    start_block, calls_block = [text for lang, text, _ in code_blocks(QUICKSTART) if lang == "sh"][:2]
    starts = [without_comment(c) for c in commands(start_block)]
    assert len(starts) == 4 and all(c.startswith("cargo run --release") for c in starts), starts
    env = user_env(
        COGNATE_LISTEN=f"127.0.0.1:{ports[9229]}",
        COGNATE_DATA_DIR=str(tmp_path / "data"),
        TODO_API_LISTEN=f"127.0.0.1:{ports[9001]}",
        HEADER_SERVICE_LISTEN=f"127.0.0.1:{ports[9002]}",
        AUTH_DEMO_LISTEN=f"127.0.0.1:{ports[9003]}",
    )
    # Started at once, as a user with four terminals would; the `cargo run`s take
    # turns on the build lock.
    shells: list[Shell] = []
    try:
        for i, command in enumerate(starts):
            shells.append(Shell(moved(command), clean_copy, env, tmp_path / f"process{i}.log"))
        endpoint = f"http://127.0.0.1:{ports[9229]}"
        shells[0].wait_until(lambda: answers_list_user_pools(endpoint), BUILD_TIMEOUT_S, "answering ListUserPools")
        for shell, port in zip(shells[1:], (9001, 9002, 9003)):
            url = f"http://127.0.0.1:{ports[port]}/"
            shell.wait_until(lambda url=url: requests.get(url, timeout=2) is not None, BUILD_TIMEOUT_S, f"listening on {url}")

        done = run_script(moved(calls_block), tmp_path, env)
        assert_ok(done, "the quick start's calls")
        out = done.stdout
        assert out.count('{"message":"Unauthorized"}') == 1, out
        assert '"title":"buy milk"' in out and '{"tasks":[{"done":false,"id":1,"title":"buy milk"}]}' in out, out
        assert '"state":"anonymous"' in out and '"state":"logged_in"' in out and '"user":"Joe Bloggs"' in out, out
        assert '{"userId":"N/A"}' in out, out
        assert re.search(r'\{"userId":"[0-9a-f-]{36}"\}', out), out
        assert "application/problem+json" in out, out
        assert "cognate_gateway_token_outcomes_total" in out, out
    finally:
        for shell in shells:
            shell.stop()
