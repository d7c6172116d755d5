#!/usr/bin/env python3
"""A bounded soak of a real `cognate serve` process, loopback only.

Mixed load from worker threads for --duration seconds: SignUp + AdminConfirmSignUp,
InitiateAuth USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH, GetUser, gateway calls
(a route behind the Cognito authorizer to a small local upstream) with valid and
with tampered tokens, and concurrent AdminUpdateUserAttributes on the same few
users from several writer threads (each writer owns one custom attribute).

Checks, each failing the run (exit 1):
  * no 5xx answer (nor a refused connection) anywhere;
  * every answer is the one expected of its kind (valid tokens pass the gateway,
    tampered ones get 401, a fresh sign-up can sign in, ...);
  * no lost write: at the end every shared user holds, in each writer's
    attribute, the last value that writer saw acknowledged;
  * memory flat after warm-up: the server's RSS at the end is at most
    --max-rss-growth (default 25 %) above its RSS at one third of the run.

Prints requests/s, p50/p99 latency per kind, RSS over time and the 5xx count,
and writes the same as JSON with --json. Python threads + requests from the e2e
venv; the client shares the machine with the server (note that in figures).

  .venv-e2e/bin/python scripts/soak.py --bin target/release/cognate --duration 300
"""
from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

POOL = "us-east-1_SoakPool1"
CLIENT = "soakclient00000000000001"
PASSWORD = "Soak-Passw0rd!"
WRITERS = 4  # concurrent admin writers, one custom attribute each
SHARED_USERS = 3  # users all writers update at once
CT = "application/x-amz-json-1.1"
PREFIX = "AWSCognitoIdentityProviderService."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(gateway_port: int, upstream_port: int) -> str:
    schema = "\n".join(f"      - {{name: w{i}, type: String, mutable: true}}" for i in range(WRITERS))
    users = "\n".join(
        f"      - {{username: shared{i}, password: '{PASSWORD}', attributes: {{email: shared{i}@example.com}}}}"
        for i in range(SHARED_USERS))
    return f"""pools:
  - id: {POOL}
    name: soak
    schema:
{schema}
    clients:
      - id: {CLIENT}
        name: soak-app
        explicit_auth_flows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    users:
      - {{username: seed, password: '{PASSWORD}', attributes: {{email: seed@example.com}}}}
{users}
gateway:
  listen: 127.0.0.1:{gateway_port}
  apis:
    - name: soak
      stage: dev
      authorizers:
        pool: {{type: cognito, pools: [{POOL}], clients: [{CLIENT}]}}
      routes:
        - {{method: GET, path: /items, authorizer: pool, integration: {{type: http, url: "http://127.0.0.1:{upstream_port}"}}}}
"""


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def sigv4(body: bytes, target: str, host: str) -> dict[str, str]:
    """A SigV4-signed header set (development mode takes any well-formed one;
    this one is also correct for the key below)."""
    key_id, secret, region = "AKIASOAK", "soak-secret", "us-east-1"
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"content-type": CT, "host": host, "x-amz-date": amz_date, "x-amz-target": target}
    names = sorted(headers)
    signed = ";".join(names)
    canonical = "\n".join(["POST", "/", "", "".join(f"{k}:{headers[k]}\n" for k in names), signed,
                           hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/cognito-idp/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, "cognito-idp", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
                                f"SignedHeaders={signed}, Signature={sig}")
    return headers


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.unexpected: list[str] = []
        self.server_errors = 0

    def record(self, kind: str, status: int, seconds: float, ok: bool, detail: str = ""):
        with self.lock:
            self.latency[kind].append(seconds)
            self.statuses[kind][status] += 1
            if status >= 500 or status == 0:
                self.server_errors += 1
            if not ok and len(self.unexpected) < 50:
                self.unexpected.append(f"{kind}: {status} {detail[:200]}")


class Soak:
    def __init__(self, url: str, gateway: str, stats: Stats, stop: threading.Event):
        self.url, self.gateway, self.stats, self.stop = url, gateway, stats, stop
        self.host = url.split("//", 1)[1]
        self.users_lock = threading.Lock()
        self.users: list[str] = ["seed"]
        self.tokens: list[dict] = []  # recent AuthenticationResults
        self.counter = itertools.count()
        self.last_written: dict[tuple[int, int], str] = {}  # (writer, user) -> value acknowledged last

    # -- one call ---------------------------------------------------------
    def call(self, s: requests.Session, kind: str, op: str, body: dict, admin=False, expect=(200,)):
        data = json.dumps(body).encode()
        headers = sigv4(data, PREFIX + op, self.host) if admin else {"content-type": CT, "x-amz-target": PREFIX + op}
        started = time.perf_counter()
        try:
            r = s.post(self.url + "/", data=data, headers=headers, timeout=30)
            status, text = r.status_code, r.text
        except requests.RequestException as e:
            status, text = 0, f"{type(e).__name__}: {e}"
        elapsed = time.perf_counter() - started
        ok = status in expect
        self.stats.record(kind, status, elapsed, ok, f"{op} {text}")
        return (json.loads(text) if ok and text else None), status

    def gateway_call(self, s: requests.Session, kind: str, token: str, expect: int):
        started = time.perf_counter()
        try:
            r = s.get(self.gateway + "/dev/items", headers={"authorization": token}, timeout=30)
            status, text = r.status_code, r.text
        except requests.RequestException as e:
            status, text = 0, f"{type(e).__name__}: {e}"
        self.stats.record(kind, status, time.perf_counter() - started, status == expect, text)

    # -- the mix ------------------------------------------------------------
    def sign_up(self, s):
        name = f"u{os.getpid()}x{next(self.counter)}"
        out, _ = self.call(s, "SignUp", "SignUp", {
            "ClientId": CLIENT, "Username": name, "Password": PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": f"{name}@example.com"}]})
        if out is None:
            return
        out, _ = self.call(s, "AdminConfirmSignUp", "AdminConfirmSignUp",
                           {"UserPoolId": POOL, "Username": name}, admin=True)
        if out is not None:
            with self.users_lock:
                self.users.append(name)

    def login(self, s):
        with self.users_lock:
            name = random.choice(self.users)
        out, _ = self.call(s, "InitiateAuth(password)", "InitiateAuth", {
            "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": CLIENT,
            "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD}})
        if out is not None:
            with self.users_lock:
                self.tokens.append(out["AuthenticationResult"])
                del self.tokens[:-200]

    def some_tokens(self):
        with self.users_lock:
            return random.choice(self.tokens) if self.tokens else None

    def refresh(self, s):
        t = self.some_tokens()
        if t:
            self.call(s, "InitiateAuth(refresh)", "InitiateAuth", {
                "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": CLIENT,
                "AuthParameters": {"REFRESH_TOKEN": t["RefreshToken"]}})

    def get_user(self, s):
        t = self.some_tokens()
        if t:
            self.call(s, "GetUser", "GetUser", {"AccessToken": t["AccessToken"]})

    def gateway_valid(self, s):
        t = self.some_tokens()
        if t:
            self.gateway_call(s, "gateway(valid)", "Bearer " + t["IdToken"], 200)

    def gateway_invalid(self, s):
        t = self.some_tokens()
        if t:
            head, payload, sig = t["IdToken"].split(".")
            bad = random.choice([
                f"{head}.{payload}.{sig[:-4]}AAAA",  # signature
                f"{head}.{payload[:-2]}xx.{sig}",  # payload
                "not-a-token",
                f"{head}.{payload}",
            ])
            self.gateway_call(s, "gateway(invalid)", "Bearer " + bad, 401)

    def worker(self, seed: int):
        rnd = random.Random(seed)
        mix = ([self.sign_up] * 1 + [self.login] * 2 + [self.refresh] * 2 + [self.get_user] * 3
               + [self.gateway_valid] * 4 + [self.gateway_invalid] * 2)
        with requests.Session() as s:
            while not self.stop.is_set():
                rnd.choice(mix)(s)

    def writer(self, w: int):
        """Admin writes: this writer's own attribute on every shared user, in turn."""
        with requests.Session() as s:
            n = 0
            while not self.stop.is_set():
                n += 1
                u = n % SHARED_USERS
                value = f"{w}-{n}"
                out, _ = self.call(s, "AdminUpdateUserAttributes", "AdminUpdateUserAttributes", {
                    "UserPoolId": POOL, "Username": f"shared{u}",
                    "UserAttributes": [{"Name": f"custom:w{w}", "Value": value}]}, admin=True)
                if out is not None:
                    self.last_written[(w, u)] = value

    def lost_writes(self) -> list[str]:
        lost = []
        with requests.Session() as s:
            for u in range(SHARED_USERS):
                out, status = self.call(s, "AdminGetUser(check)", "AdminGetUser",
                                        {"UserPoolId": POOL, "Username": f"shared{u}"}, admin=True)
                attrs = {a["Name"]: a["Value"] for a in (out or {}).get("UserAttributes", [])}
                for w in range(WRITERS):
                    want = self.last_written.get((w, u))
                    if want is not None and attrs.get(f"custom:w{w}") != want:
                        lost.append(f"shared{u} custom:w{w}: {attrs.get(f'custom:w{w}')!r}, last acknowledged {want!r}")
        return lost


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/cognate")
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--workers", type=int, default=12)
    ap.add_argument("--sample-every", type=float, default=5)
    ap.add_argument("--max-rss-growth", type=float, default=0.25)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--server-arg", action="append", default=[], help="more `cognate serve` flags")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cognate-soak-"))
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port, gport = free_port(), free_port()
    (work / "cognate.yaml").write_text(config(gport, upstream.server_address[1]))
    log = open(work / "cognate.log", "wb")
    cmd = [args.bin, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data"),
           "--config", str(work / "cognate.yaml"), "--log", "warn", *args.server_arg]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url, gateway = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{gport}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                print((work / "cognate.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                print("soak: the server did not start", file=sys.stderr)
                return 1
            try:
                if requests.get(url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)

        stats, stop = Stats(), threading.Event()
        soak = Soak(url, gateway, stats, stop)
        with requests.Session() as s:  # a first token, so every kind has work at once
            soak.login(s)
        threads = [threading.Thread(target=soak.worker, args=(i,)) for i in range(args.workers)]
        threads += [threading.Thread(target=soak.writer, args=(w,)) for w in range(WRITERS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        samples: list[tuple[float, int]] = []
        while (elapsed := time.monotonic() - started) < args.duration:
            samples.append((round(elapsed, 1), rss_kib(proc.pid)))
            if proc.poll() is not None:
                break
            time.sleep(min(args.sample_every, max(0.0, args.duration - elapsed)))
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        samples.append((round(elapsed, 1), rss_kib(proc.pid) if proc.poll() is None else 0))
        lost = soak.lost_writes()
        alive = proc.poll() is None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        upstream.shutdown()
        log.close()

    # -- figures --------------------------------------------------------------
    third = min(samples, key=lambda s: abs(s[0] - elapsed / 3))[1]
    end = samples[-1][1]
    growth = (end - third) / third if third else float("inf")
    kinds = {}
    print(f"soak: {elapsed:.0f} s, {args.workers} workers + {WRITERS} admin writers, server pid {proc.pid}")
    print(f"{'kind':26} {'count':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  statuses")
    total = 0
    for kind in sorted(stats.latency):
        lat = stats.latency[kind]
        total += len(lat)
        kinds[kind] = {"count": len(lat), "per_s": round(len(lat) / elapsed, 1),
                       "p50_ms": round(pct(lat, 50) * 1000, 1), "p99_ms": round(pct(lat, 99) * 1000, 1),
                       "statuses": dict(stats.statuses[kind])}
        k = kinds[kind]
        print(f"{kind:26} {k['count']:7} {k['per_s']:7} {k['p50_ms']:7} {k['p99_ms']:7}  {k['statuses']}")
    print(f"{'all':26} {total:7} {total / elapsed:7.1f}")
    print("RSS (MiB) over time: " + ", ".join(f"{t:.0f}s {r / 1024:.0f}" for t, r in samples))
    print(f"RSS at 1/3: {third / 1024:.1f} MiB, at the end: {end / 1024:.1f} MiB, growth {growth * 100:+.1f} %")
    print(f"5xx or refused: {stats.server_errors}; unexpected answers: {len(stats.unexpected)}; "
          f"lost writes: {len(lost)}; users signed up: {len(soak.users) - 1}")
    for u in stats.unexpected[:20]:
        print("  unexpected:", u)
    for l in lost:
        print("  lost write:", l)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "duration_s": round(elapsed, 1), "workers": args.workers, "writers": WRITERS, "kinds": kinds,
            "rss_kib": samples, "rss_growth": round(growth, 4), "server_errors": stats.server_errors,
            "unexpected": stats.unexpected, "lost_writes": lost}, indent=1))
    failures = []
    if not alive:
        failures.append("the server died")
    if stats.server_errors:
        failures.append(f"{stats.server_errors} 5xx or refused")
    if stats.unexpected:
        failures.append(f"{len(stats.unexpected)} unexpected answers")
    if lost:
        failures.append(f"{len(lost)} lost writes")
    if growth > args.max_rss_growth:
        failures.append(f"RSS grew {growth * 100:.1f} % after warm-up (limit {args.max_rss_growth * 100:.0f} %)")
    if failures:
        print("soak: FAILED: " + "; ".join(failures) + f" (server log: {work / 'cognate.log'})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("soak: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
