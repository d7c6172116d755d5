"""A declarative YAML config: explicit ids, seeded users, re-applied on every start;
and a bad file is refused up front with its name and line."""

from __future__ import annotations

import re
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import (
    PASSWORD, CognateServer, error_code, pool_config, render_config,
)

POOL_ID = "us-east-1_TestPool1"
CLIENT_ID = "3c4v73qlc19bp0mevm94f5a4co"
SEEDED = {"username": "seeded", "password": PASSWORD,
          "attributes": {"email": "seeded@example.com", "email_verified": "true"}}


def todo_config(name: str = "todo-user-pool", **kw) -> str:
    return render_config(pool_config(POOL_ID, name, client_id=CLIENT_ID, users=[SEEDED], **kw))


def test_seeded_user_logs_in(server, boto_client) -> None:
    srv = server(config=todo_config())
    idp = boto_client(srv)
    pool = idp.describe_user_pool(UserPoolId=POOL_ID)["UserPool"]
    assert pool["Name"] == "todo-user-pool", pool
    assert pool.get("AutoVerifiedAttributes") == ["email"], pool
    client = idp.describe_user_pool_client(UserPoolId=POOL_ID, ClientId=CLIENT_ID)["UserPoolClient"]
    assert client["ClientName"] == "todo-app-client", client

    user = idp.admin_get_user(UserPoolId=POOL_ID, Username="seeded")
    assert user["UserStatus"] == "CONFIRMED", f"a seeded user with a password is CONFIRMED: {user}"
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs.get("email") == "seeded@example.com" and attrs.get("email_verified") == "true", attrs

    public = idp.initiate_auth(ClientId=CLIENT_ID, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "seeded", "PASSWORD": PASSWORD})
    assert public["AuthenticationResult"]["IdToken"], public
    admin = idp.admin_initiate_auth(UserPoolId=POOL_ID, ClientId=CLIENT_ID, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "seeded", "PASSWORD": PASSWORD})
    assert idp.get_user(AccessToken=admin["AuthenticationResult"]["AccessToken"])["Username"] == "seeded"


def test_config_changes_apply_on_restart_and_ids_stay(server, boto_client) -> None:
    srv = server(config=todo_config(password_policy={"MinimumLength": 8}))
    idp = boto_client(srv)
    assert idp.describe_user_pool(UserPoolId=POOL_ID)["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"] == 8
    # State made through the API must survive the config being re-applied.
    idp.sign_up(ClientId=CLIENT_ID, Username="api_user", Password="Nine9ch!r",
                UserAttributes=[{"Name": "email", "Value": "api@example.com"}])
    idp.admin_confirm_sign_up(UserPoolId=POOL_ID, Username="api_user")

    srv.stop()
    srv.write_config(todo_config(name="todo-user-pool-renamed", password_policy={"MinimumLength": 12}))
    srv.start()
    idp = boto_client(srv)

    pool = idp.describe_user_pool(UserPoolId=POOL_ID)["UserPool"]
    assert pool["Id"] == POOL_ID, pool
    assert pool["Name"] == "todo-user-pool-renamed", f"renamed pool not applied on restart: {pool['Name']!r}"
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12, pool["Policies"]
    pools = [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]]
    assert pools == [POOL_ID], f"re-applying the config must not duplicate the pool: {pools}"
    clients = [c["ClientId"] for c in idp.list_user_pool_clients(UserPoolId=POOL_ID)["UserPoolClients"]]
    assert clients == [CLIENT_ID], clients

    # The new policy is enforced, not just reported.
    with pytest.raises(ClientError) as info:
        idp.sign_up(ClientId=CLIENT_ID, Username="short_pw", Password="Nine9ch!r",
                    UserAttributes=[{"Name": "email", "Value": "short@example.com"}])
    assert error_code(info.value) == "InvalidPasswordException", info.value.response

    for username, password in (("seeded", PASSWORD), ("api_user", "Nine9ch!r")):
        r = idp.initiate_auth(ClientId=CLIENT_ID, AuthFlow="USER_PASSWORD_AUTH",
                              AuthParameters={"USERNAME": username, "PASSWORD": password})
        assert r["AuthenticationResult"]["AccessToken"], f"{username} cannot log in after restart: {r}"


def run_serve_expecting_failure(tmp_path, config_text: str, name: str) -> tuple[subprocess.CompletedProcess, str]:
    """Start `cognate serve` on a bad config; it must exit (non-zero) within 5 s."""
    srv = CognateServer(tmp_path)
    path = srv.write_config(config_text, name=name)
    try:
        p = subprocess.run(srv.command(), capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        timed_out = e
    else:
        return p, str(path)
    err = timed_out.stderr.decode(errors="replace") if isinstance(timed_out.stderr, bytes) else timed_out.stderr
    pytest.fail(
        f"`cognate serve --config {path.name}` with a bad config was still running after 5 s "
        f"(it should refuse to start).\nstderr so far:\n{err}", pytrace=False,
    )


def assert_points_at(p: subprocess.CompletedProcess, path: str, line: int) -> None:
    shown = f"exit code {p.returncode}\n--- stderr ---\n{p.stderr}\n--- stdout ---\n{p.stdout}"
    assert p.returncode != 0, f"cognate serve accepted a bad config:\n{shown}"
    name = path.rsplit("/", 1)[-1]
    assert name in p.stderr, f"stderr does not name the config file {name!r}:\n{shown}"
    line_re = re.compile(rf"(line\s*{line}\b|:{line}:\d+|:{line}\b)", re.IGNORECASE)
    assert line_re.search(p.stderr), f"stderr does not give line {line} of {name}:\n{shown}"


BAD_UNKNOWN_KEY = f"""\
pools:
  - id: {POOL_ID}
    name: todo-user-pool
    colour_scheme: purple
    clients:
      - id: {CLIENT_ID}
        name: todo-app-client
"""

BAD_WRONG_TYPE = f"""\
pools:
  - id: {POOL_ID}
    name: todo-user-pool
    clients:
      - id: {CLIENT_ID}
        name: todo-app-client
        explicit_auth_flows: 42
"""


@pytest.mark.parametrize(
    "name,text,line",
    [("unknown-key.yaml", BAD_UNKNOWN_KEY, 4), ("wrong-type.yaml", BAD_WRONG_TYPE, 7)],
    ids=["unknown-key", "wrong-type"],
)
def test_bad_config_is_refused_with_file_and_line(tmp_path, name: str, text: str, line: int) -> None:
    p, path = run_serve_expecting_failure(tmp_path, text, name)
    assert_points_at(p, path, line)


def test_good_config_helper_is_accepted(tmp_path) -> None:
    """Guards the two tests above: the same file without the fault starts fine."""
    text = BAD_UNKNOWN_KEY.replace("    colour_scheme: purple\n", "")
    srv = CognateServer(tmp_path, config_text=text)
    try:
        srv.start()
    finally:
        srv.stop()


def test_the_config_file_can_name_the_database(server, boto_client) -> None:
    from conftest import fresh_postgres_database, postgres_server_url

    url = fresh_postgres_database()
    srv = server(config=f"database: {url}\n" + todo_config(), start=False)
    srv.database = None  # no --database flag: the file decides
    srv.start()
    assert "(PostgreSQL)" in srv.logs(), srv.logs()
    idp = boto_client(srv)
    tokens = idp.initiate_auth(ClientId=CLIENT_ID, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": "seeded", "PASSWORD": PASSWORD})
    assert "AccessToken" in tokens["AuthenticationResult"]
    count = subprocess.run(["psql", url, "-qAt", "-c", "SELECT count(*) FROM users"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert count == "1"
    assert postgres_server_url()


def test_a_bad_database_in_the_config_is_refused(tmp_path) -> None:
    srv = CognateServer(tmp_path)
    srv.database = None
    path = srv.write_config("database: mysql://db/cognate\n" + todo_config(), name="db.yaml")
    p = subprocess.run(srv.command(), capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "db.yaml" in p.stderr and "database" in p.stderr and "expected sqlite:PATH" in p.stderr, p.stderr
    assert path.is_file()
