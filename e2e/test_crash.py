"""Crash safety: a write acknowledged to a client survives `kill -9` of the server.
Concurrent clients sign users up, confirm them and change their passwords; the
server is killed with SIGKILL in the middle of that load and started again on the
same database; every user whose sign-up was acknowledged exists, and signs in with
the last password whose change was acknowledged (or with the one whose change was
in flight when the server died: it may or may not have been committed)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from conftest import create_pool_and_client, make_boto_client, unique

FLOWS = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"]
WORKERS = 6


@dataclass
class Account:
    username: str
    acked: str | None = None  # the last password whose write was acknowledged
    pending: list[str] = field(default_factory=list)  # sent, never acknowledged
    signed_up: bool = False
    confirmed: bool = False


def test_acknowledged_writes_survive_kill_9(server) -> None:
    srv = server()
    idp = make_boto_client(srv)
    pool_id, client_id = create_pool_and_client(idp, flows=FLOWS, auto_verify_email=False)
    accounts: list[Account] = []
    lock = threading.Lock()
    dead = threading.Event()

    def work(w: int) -> None:
        client = make_boto_client(srv)
        mine: list[Account] = []
        n = 0
        while not dead.is_set():
            n += 1
            try:
                if not mine or n % 3 == 0:
                    a = Account(unique(f"w{w}"))
                    with lock:
                        accounts.append(a)
                    mine.append(a)
                    password = f"First-Passw0rd-{n}!"
                    a.pending.append(password)
                    client.sign_up(ClientId=client_id, Username=a.username, Password=password)
                    a.signed_up, a.acked = True, password
                    a.pending.remove(password)
                    client.admin_confirm_sign_up(UserPoolId=pool_id, Username=a.username)
                    a.confirmed = True
                else:
                    a = mine[n % len(mine)]
                    password = f"Changed-Passw0rd-{w}-{n}!"
                    a.pending.append(password)
                    client.admin_set_user_password(UserPoolId=pool_id, Username=a.username,
                                                   Password=password, Permanent=True)
                    a.acked, a.confirmed = password, True
                    a.pending.remove(password)
            except (BotoCoreError, ClientError, OSError):
                if dead.is_set():
                    return
                raise

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(WORKERS)]
    for t in threads:
        t.start()
    time.sleep(3)
    # SIGKILL: no shutdown, no flush, in the middle of the load. (The workers
    # are told first, so the errors of the requests it cuts off are expected.)
    dead.set()
    srv.proc.kill()
    srv.proc.wait()
    srv.proc = None
    for t in threads:
        t.join(timeout=60)

    srv.start()
    idp = make_boto_client(srv)
    acknowledged = [a for a in accounts if a.signed_up]
    assert len(acknowledged) >= 10, f"too little load before the kill: {len(acknowledged)} sign-ups"
    lost = []
    for a in acknowledged:
        try:
            user = idp.admin_get_user(UserPoolId=pool_id, Username=a.username)
        except ClientError as e:
            lost.append(f"{a.username}: {e.response['Error']['Code']}")
            continue
        if a.confirmed and user["UserStatus"] != "CONFIRMED":
            lost.append(f"{a.username}: confirmation lost ({user['UserStatus']})")
        candidates = [a.acked, *a.pending]
        if not any(signs_in(idp, client_id, a.username, p) for p in candidates):
            lost.append(f"{a.username}: none of {len(candidates)} password(s) works")
    assert not lost, lost


def signs_in(idp, client_id: str, username: str, password: str | None) -> bool:
    if password is None:
        return False
    try:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": username, "PASSWORD": password})
        return True
    except ClientError as e:
        # The right password of a user that is not confirmed yet.
        return e.response["Error"]["Code"] == "UserNotConfirmedException"
