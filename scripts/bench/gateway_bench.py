#!/usr/bin/env python3
"""Gateway benchmark: cognate's gateway against nginx and HAProxy, same upstream, same run.

Normally started through scripts/bench/gateway.sh, which installs wrk, nginx and haproxy
(apt-get, when root) and builds cognate first. Uses only the Python standard library
(plus the helpers of bench.py beside it) and wrk.

Cases, all GET requests to the same upstream (an nginx worker answering a fixed 11-byte JSON
body from memory, `return 200`):

  direct        wrk -> upstream
  nginx         wrk -> nginx reverse proxy, no auth (keepalive upstream pool) -> upstream
  cognate-off   wrk -> cognate gateway, route `authorizer: none` -> upstream
  cognate-warm  wrk -> cognate gateway, required Cognito authorizer, one valid ID token
                (verified-token cache warm) -> upstream
  cognate-sub   the same authorizer on a route that forwards only the caller's `sub`
                (`claim_headers: [sub]`, `claims_json: false`; cognate-warm forwards every
                claim as a header and all of them as JSON, the default)
  cognate-miss  the default route on a cognate started with `token_cache_size: 0` (cache off:
                every request decodes, parses and RSA-verifies the token)
  haproxy-jwt   wrk -> HAProxy 2.6, `jwt_verify` (RS256, the pool's public key as PEM) plus
                alg, iss, token_use and exp checks -> upstream

Every authenticated case sends the same `Authorization: Bearer <ID token>`. The cases run
interleaved, `--rounds` times, each after a 1 s discarded warm-up; the report gives the
median per case. Around every wrk run the script reads utime+stime of the proxy's processes
(the whole process tree for nginx) and of the upstream from /proc and divides by completed
requests; "others" is the CPU taken meanwhile by processes that are neither the proxy, the
upstream nor wrk (the noise on a shared machine).

Prints a Markdown report on stdout; JSON, configs, logs and raw wrk output go to
bench-results/gateway-<timestamp>/ at the repository root (git-ignored).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import (  # noqa: E402  (helpers shared with the cognito-local benchmark)
    CLK_TCK, ROOT, busy_ticks, cpu_model, fmt, forge, free_port, git_describe, loadavg, log,
    parse_wrk,
)

POOL_ID = "us-east-1_GwBench01"
CLIENT_ID = "gwbenchclient0000000000001"
USERNAME = "benchuser"
PASSWORD = "Passw0rd!Bench"
UPSTREAM_BODY = '{"ok":true}'

CASES = ["direct", "nginx", "cognate-off", "cognate-warm", "cognate-sub", "cognate-miss", "haproxy-jwt"]
LABELS = {
    "direct": "upstream directly",
    "nginx": "nginx, reverse proxy, no auth",
    "cognate-off": "cognate, `authorizer: none`",
    "cognate-warm": "cognate, required authorizer, cache warm, all claims forwarded",
    "cognate-sub": "cognate, required authorizer, cache warm, `sub` forwarded",
    "cognate-miss": "cognate, required authorizer, cache off",
    "haproxy-jwt": "HAProxy, `jwt_verify` + alg/iss/token_use/exp",
}


# --------------------------------------------------------------------------- processes


def tree_pids(pid: int) -> list[int]:
    """pid and all its descendants (nginx: master and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def proc_ticks(pid: int) -> int:
    """utime+stime of a process tree, in clock ticks (live children included)."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        total += int(rest[11]) + int(rest[12])
    return total


def rss_kib(pid: int) -> int:
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Proc:
    def __init__(self, name: str, argv: list[str], port: int, out_dir: str, health: str = "/",
                 cwd: str | None = None):
        self.name, self.argv, self.port, self.health, self.cwd = name, argv, port, health, cwd
        self.log_path = os.path.join(out_dir, f"{name}.log")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(self.argv, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                                         cwd=self.cwd)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} (log: {self.log_path})")
            try:
                status, _, _ = get(self.port, self.health)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} not ready after 30 s (log: {self.log_path})")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, body


def post_json(port: int, target: str, body: dict) -> dict:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/", body=json.dumps(body), headers={
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{target}",
        "Content-Type": "application/x-amz-json-1.1",
        # Well-formed dummy SigV4: cognate in development mode accepts it unchecked.
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/cognito-idp/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"{target} -> {r.status}: {data[:300]!r}")
    return json.loads(data)


# --------------------------------------------------------------------------- configs


def nginx_user_line() -> str:
    # As root nginx would switch its workers to `nobody`; keep them as the caller.
    return "user root;\n" if os.geteuid() == 0 else ""


def nginx_upstream_conf(d: str, port: int) -> str:
    return f"""{nginx_user_line()}worker_processes 1;
daemon off;
master_process on;
pid {d}/nginx-upstream.pid;
error_log {d}/nginx-upstream.error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/ub; proxy_temp_path {d}/up; fastcgi_temp_path {d}/uf;
    uwsgi_temp_path {d}/uu; scgi_temp_path {d}/us;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            default_type application/json;
            return 200 '{UPSTREAM_BODY}';
        }}
    }}
}}
"""


def nginx_proxy_conf(d: str, port: int, upstream: int, workers: int) -> str:
    return f"""{nginx_user_line()}worker_processes {workers};
daemon off;
master_process on;
pid {d}/nginx-proxy.pid;
error_log {d}/nginx-proxy.error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/pb; proxy_temp_path {d}/pp; fastcgi_temp_path {d}/pf;
    uwsgi_temp_path {d}/pu; scgi_temp_path {d}/ps;
    keepalive_requests 1000000;
    upstream backend {{
        server 127.0.0.1:{upstream};
        keepalive 128;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def haproxy_conf(port: int, upstream: int, threads: int, issuer: str, pem: str) -> str:
    unauthorized = "'{\"message\":\"Unauthorized\"}'"
    return f"""global
    nbthread {threads}
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 60s
    option http-keep-alive

frontend gw
    bind 127.0.0.1:{port}
    option forwardfor
    http-request set-var(txn.bearer) http_auth_bearer
    http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
    http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
    http-request set-var(txn.token_use) var(txn.bearer),jwt_payload_query('$.token_use')
    http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
    http-request set-var(txn.now) date()
    acl jwt_alg_ok var(txn.alg) -m str RS256
    acl jwt_iss_ok var(txn.iss) -m str {issuer}
    acl jwt_use_ok var(txn.token_use) -m str id
    acl jwt_exp_ok var(txn.exp),sub(txn.now) gt 0
    acl jwt_sig_ok var(txn.bearer),jwt_verify(txn.alg,"{pem}") -m int 1
    http-request return status 401 content-type application/json string {unauthorized} unless jwt_alg_ok jwt_iss_ok jwt_use_ok jwt_exp_ok jwt_sig_ok
    default_backend upstream

backend upstream
    http-reuse always
    server up1 127.0.0.1:{upstream} maxconn 1000
"""


def cognate_conf(pub_port: int, gw_port: int, upstream: int, cache_size: int | None) -> str:
    cache = f"  token_cache_size: {cache_size}\n" if cache_size is not None else ""
    return f"""pools:
  - id: {POOL_ID}
    name: gateway-bench
    clients:
      - id: {CLIENT_ID}
        name: gateway-bench
        explicit_auth_flows: [ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
    users:
      - username: {USERNAME}
        password: "{PASSWORD}"
        attributes: {{email: bench@example.com, email_verified: "true", name: Bench User}}
gateway:
  listen: 127.0.0.1:{gw_port}
{cache}  apis:
    - name: bench
      authorizers:
        pool: {{type: cognito, pools: [{POOL_ID}], clients: [{CLIENT_ID}]}}
      routes:
        - {{method: GET, path: /open, integration: {{type: http, url: "http://127.0.0.1:{upstream}"}}}}
        - {{method: GET, path: /auth, authorizer: pool, integration: {{type: http, url: "http://127.0.0.1:{upstream}"}}}}
        - {{method: GET, path: /auth-sub, authorizer: pool, claim_headers: [sub], claims_json: false, integration: {{type: http, url: "http://127.0.0.1:{upstream}"}}}}
"""


# --------------------------------------------------------------------------- keys


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _der_int(b: bytes) -> bytes:
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return _der(0x02, b)


def _b64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwk_to_pem(jwk: dict) -> str:
    """An RSA JWK as a SubjectPublicKeyInfo PEM (what HAProxy's jwt_verify loads)."""
    rsa_key = _der(0x30, _der_int(_b64url(jwk["n"])) + _der_int(_b64url(jwk["e"])))
    rsa_oid = bytes.fromhex("06092a864886f70d010101") + b"\x05\x00"
    spki = _der(0x30, _der(0x30, rsa_oid) + _der(0x03, b"\0" + rsa_key))
    b64 = base64.b64encode(spki).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


def token_kid(token: str) -> str:
    return json.loads(_b64url(token.split(".")[0]))["kid"]


# --------------------------------------------------------------------------- wrk


def run_wrk(port: int, path: str, headers: dict, conns: int, duration: float, threads: int,
            measured: dict[str, int], raw_path: str | None) -> dict:
    """measured: name -> pid of the processes whose CPU is read around the run."""
    threads = min(threads, conns)
    # wrk takes whole seconds (or a unit suffix); 0.5 -> 500ms.
    span = f"{duration:g}s" if float(duration).is_integer() else f"{int(duration * 1000)}ms"
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{span}", "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    before = {n: proc_ticks(p) for n, p in measured.items()}
    busy_before = busy_ticks()
    ru_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}) on port {port}{path}: {done.stderr.strip()[:300]}")
    out = done.stdout
    ru_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after = busy_ticks()
    after = {n: proc_ticks(p) for n, p in measured.items()}
    if raw_path:
        with open(raw_path, "w") as f:
            f.write(" ".join(c if "Bearer" not in c else "Authorization: Bearer <token>" for c in cmd)
                    + "\n" + out)
    res = parse_wrk(out)
    res["connections"] = conns
    cpu = {n: (after[n] - before[n]) / CLK_TCK for n in measured}
    res["cpu_s"] = cpu
    res["cpu_us_per_req"] = {n: (s / res["requests"] * 1e6 if res["requests"] else None) for n, s in cpu.items()}
    wrk_s = (ru_after.ru_utime + ru_after.ru_stime) - (ru_before.ru_utime + ru_before.ru_stime)
    res["wrk_cpu_s"] = wrk_s
    res["wrk_cpu_us_per_req"] = wrk_s / res["requests"] * 1e6 if res["requests"] else None
    others = (busy_after - busy_before) / CLK_TCK - sum(cpu.values()) - wrk_s
    res["others_cpu_cores"] = max(0.0, others / res["elapsed_s"]) if res["elapsed_s"] else None
    return res


def tool_version(argv: list[str]) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True)
    except OSError:
        return "not found"
    return ((r.stdout or "") + (r.stderr or "")).strip().splitlines()[0]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 s runs, 1 round (smoke test)")
    ap.add_argument("--duration", type=float, help="seconds per wrk run (default 8, --quick 2)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds of all cases (default 3, --quick 1)")
    ap.add_argument("--connections", default="64,16", help="comma-separated concurrencies (default 64,16)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                    help="nginx worker_processes / HAProxy nbthread (default: cores, like cognate's tokio workers)")
    ap.add_argument("--cases", default=",".join(CASES), help=f"subset of {','.join(CASES)}")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cognate"))
    ap.add_argument("--out", help="results directory (default bench-results/gateway-<timestamp>)")
    args = ap.parse_args()

    duration = args.duration or (2 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 3)
    conns = [int(c) for c in args.connections.split(",") if c]
    cases = [c for c in args.cases.split(",") if c]
    for c in cases:
        if c not in CASES:
            log(f"unknown case {c}")
            return 2
    # Absolute: nginx resolves relative paths against its -p prefix.
    out_dir = os.path.abspath(args.out or os.path.join(ROOT, "bench-results",
                                                       "gateway-" + time.strftime("%Y%m%d-%H%M%S")))
    os.makedirs(out_dir, exist_ok=True)
    for tool in ("wrk", "nginx", "haproxy"):
        if not shutil.which(tool):
            log(f"{tool} not found (Debian: apt-get install wrk nginx haproxy)")
            return 2
    if not os.access(args.binary, os.X_OK):
        log(f"{args.binary} not found: cargo build --release -p cognate")
        return 2
    cores = len(os.sched_getaffinity(0))
    results: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cores": cores, "cpu": cpu_model(),
        "kernel": platform.release(), "duration_s": duration, "rounds": rounds, "connections": conns,
        "wrk_threads": args.threads, "proxy_workers": args.workers, "loadavg_start": loadavg(),
        "cognate_commit": git_describe(),
        "versions": {"nginx": tool_version(["nginx", "-v"]), "haproxy": tool_version(["haproxy", "-v"]),
                     "wrk": tool_version(["wrk", "-v"])},
        "runs": {c: {str(n): [] for n in conns} for c in cases},
    }
    log(f"{cores} cores, load {results['loadavg_start']}, {rounds} round(s) of {duration} s runs -> {out_dir}")

    tmp = tempfile.mkdtemp(prefix="cognate-gw-bench-")
    # A private copy of the binary, so a concurrent `cargo build` cannot swap it mid-run.
    binary = os.path.join(tmp, "cognate")
    shutil.copy2(args.binary, binary)
    data_dir = os.path.join(tmp, "data")
    os.makedirs(data_dir)
    ports = {n: free_port() for n in ("upstream", "nginx", "haproxy", "cognate-api", "cognate-gw")}
    procs: dict[str, Proc] = {}

    def write(name: str, text: str) -> str:
        path = os.path.join(out_dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def cognate_proc(name: str, cache_size: int | None) -> Proc:
        conf = write(f"{name}.yaml", cognate_conf(ports["cognate-api"], ports["cognate-gw"], ports["upstream"],
                                                   cache_size))
        argv = [binary, "serve", "--listen", f"127.0.0.1:{ports['cognate-api']}", "--data-dir", data_dir,
                "--public-url", f"http://127.0.0.1:{ports['cognate-api']}", "--config", conf, "--log", "warn"]
        return Proc(name, argv, ports["cognate-gw"], out_dir, health="/open")

    cognate_variants = {"cognate": cognate_proc("cognate", None), "cognate-nocache": cognate_proc("cognate-nocache", 0)}
    running_cognate: list[str] = []

    def use_cognate(variant: str) -> Proc:
        """Only one cognate runs at a time (both use the same data directory, hence the same keys)."""
        if running_cognate and running_cognate[0] == variant:
            return cognate_variants[variant]
        for v in running_cognate:
            cognate_variants[v].stop()
        running_cognate.clear()
        cognate_variants[variant].start()
        running_cognate.append(variant)
        procs["cognate"] = cognate_variants[variant]
        return cognate_variants[variant]

    try:
        up_conf = write("nginx-upstream.conf", nginx_upstream_conf(tmp, ports["upstream"]))
        procs["upstream"] = Proc("nginx-upstream", ["nginx", "-p", tmp, "-e", os.path.join(tmp, "up-err.log"), "-c", up_conf],
                                 ports["upstream"], out_dir)
        procs["upstream"].start()
        use_cognate("cognate")
        auth = post_json(ports["cognate-api"], "AdminInitiateAuth", {
            "UserPoolId": POOL_ID, "ClientId": CLIENT_ID, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": USERNAME, "PASSWORD": PASSWORD}})["AuthenticationResult"]
        token = auth["IdToken"]
        issuer = f"http://127.0.0.1:{ports['cognate-api']}/{POOL_ID}"
        status, _, jwks_body = get(ports["cognate-api"], f"/{POOL_ID}/.well-known/jwks.json")
        kid = token_kid(token)
        jwk = next(k for k in json.loads(jwks_body)["keys"] if k["kid"] == kid)
        pem = write("pool-id-token-key.pem", jwk_to_pem(jwk))
        ng_conf = write("nginx-proxy.conf", nginx_proxy_conf(tmp, ports["nginx"], ports["upstream"], args.workers))
        procs["nginx"] = Proc("nginx-proxy", ["nginx", "-p", tmp, "-e", os.path.join(tmp, "px-err.log"), "-c", ng_conf],
                              ports["nginx"], out_dir)
        hp_conf = write("haproxy.cfg", haproxy_conf(ports["haproxy"], ports["upstream"], args.workers, issuer, pem))
        procs["haproxy"] = Proc("haproxy", ["haproxy", "-db", "-f", hp_conf], ports["haproxy"], out_dir)
        procs["nginx"].start()
        procs["haproxy"].start()

        bearer = {"Authorization": f"Bearer {token}"}
        # Where each case sends its requests, and which process is "the proxy".
        plan = {
            "direct": ("upstream", ports["upstream"], "/auth", bearer),
            "nginx": ("nginx", ports["nginx"], "/auth", bearer),
            "cognate-off": ("cognate", ports["cognate-gw"], "/open", bearer),
            "cognate-warm": ("cognate", ports["cognate-gw"], "/auth", bearer),
            "cognate-sub": ("cognate", ports["cognate-gw"], "/auth-sub", bearer),
            "cognate-miss": ("cognate", ports["cognate-gw"], "/auth", bearer),
            "haproxy-jwt": ("haproxy", ports["haproxy"], "/auth", bearer),
        }
        variant_of = {"cognate-off": "cognate", "cognate-warm": "cognate", "cognate-sub": "cognate",
                      "cognate-miss": "cognate-nocache"}

        # Checks before load: every case answers 200 with the token; the authorizing proxies
        # refuse a missing token and a forged signature.
        checks = {}
        for case in cases:
            if case in variant_of:
                use_cognate(variant_of[case])
            _, port, path, hdrs = plan[case]
            ok = get(port, path, hdrs)
            c = {"with_token": ok[0], "body": ok[2].decode(errors="replace")}
            if case in ("cognate-warm", "cognate-sub", "cognate-miss", "haproxy-jwt"):
                c["no_token"] = get(port, path)[0]
                c["forged_signature"] = get(port, path, {"Authorization": f"Bearer {forge(token)}"})[0]
                c["wrong_token_use"] = get(port, path, {"Authorization": f"Bearer {auth['AccessToken']}"})[0]
            checks[case] = c
            log(f"check {case}: {c}")
            if ok[0] != 200 or ok[2].decode(errors="replace") != UPSTREAM_BODY:
                raise RuntimeError(f"{case}: expected 200 {UPSTREAM_BODY}, got {ok[0]} {ok[2][:200]!r}")
            for k in ("no_token", "forged_signature", "wrong_token_use"):
                if k in c and c[k] != 401:
                    raise RuntimeError(f"{case}: {k} answered {c[k]}, expected 401")
        results["checks"] = checks

        for r in range(rounds):
            for case in cases:
                if case in variant_of:
                    use_cognate(variant_of[case])
                proxy, port, path, hdrs = plan[case]
                measured = {"proxy": procs[proxy].pid, "upstream": procs["upstream"].pid}
                if proxy == "upstream":
                    measured = {"proxy": procs["upstream"].pid}
                for c in conns:
                    run_wrk(port, path, hdrs, c, 1, args.threads, measured, None)  # warm-up, discarded
                    res = run_wrk(port, path, hdrs, c, duration, args.threads, measured,
                                  os.path.join(out_dir, f"wrk-{case}-c{c}-r{r + 1}.txt"))
                    res["proxy_rss_kib"] = rss_kib(measured["proxy"])
                    results["runs"][case][str(c)].append(res)
                    log(f"round {r + 1} {case:12} c={c:<3} {res['rps']:>9.0f} req/s  p50 {fmt(res['p50_ms'], '.2f')} ms"
                        f"  p99 {fmt(res['p99_ms'], '.2f')} ms  proxy {fmt(res['cpu_us_per_req']['proxy'], '.1f')} us/req"
                        f"  non-2xx {res['non2xx']}  sock-err {res['socket_errors']}  others {fmt(res['others_cpu_cores'], '.2f')}")
    finally:
        for v in running_cognate:
            cognate_variants[v].stop()
        for name in ("haproxy", "nginx", "upstream"):
            if name in procs:
                procs[name].stop()
        shutil.rmtree(tmp, ignore_errors=True)
    results["loadavg_end"] = loadavg()
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    report = render(results, cases, conns)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(report)
    print(report)
    log(f"wrote {out_dir}/results.json and report.md")
    return 0


def summary(runs: list[dict]) -> dict:
    return {
        "rps": med([r["rps"] for r in runs]),
        "p50": med([r["p50_ms"] for r in runs]),
        "p99": med([r["p99_ms"] for r in runs]),
        "proxy_cpu": med([r["cpu_us_per_req"]["proxy"] for r in runs]),
        "upstream_cpu": med([r["cpu_us_per_req"].get("upstream") for r in runs]),
        "wrk_cpu": med([r["wrk_cpu_us_per_req"] for r in runs]),
        "errors": sum(r["non2xx"] + r["socket_errors"] for r in runs),
        "others": med([r["others_cpu_cores"] for r in runs]),
        "rps_all": [r["rps"] for r in runs],
    }


def ratio_per_round(res: dict, a: str, b: str, c: str) -> tuple[float | None, list[float]]:
    ra, rb = res["runs"].get(a, {}).get(c, []), res["runs"].get(b, {}).get(c, [])
    rs = [x["rps"] / y["rps"] for x, y in zip(ra, rb) if y["rps"]]
    return (statistics.median(rs) if rs else None), rs


def render(res: dict, cases: list[str], conns: list[int]) -> str:
    L = []
    v = res["versions"]
    L.append(f"cognate {res['cognate_commit']}. Machine: {res['cores']} cores ({res['cpu']}), kernel {res['kernel']}, "
             f"{res['date']}; load average {res['loadavg_start']} at start, {res['loadavg_end']} at end.")
    L.append(f"{v['nginx']}; {v['haproxy']}; {v['wrk']}. wrk {res['wrk_threads']} threads, "
             f"{res['duration_s']:g} s per run, {res['rounds']} interleaved round(s), medians shown; "
             f"proxies with {res['proxy_workers']} workers/threads. Upstream: nginx, 1 worker, `return 200` "
             f"of a fixed 11-byte JSON body. wrk, proxy and upstream share the same cores.")
    L.append("")
    L.append("| case | conns | req/s | p50 ms | p99 ms | proxy CPU µs/req | upstream CPU µs/req | wrk CPU µs/req "
             "| non-2xx | others | req/s per round |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    sums = {}
    for c in conns:
        for case in cases:
            runs = res["runs"][case][str(c)]
            if not runs:
                continue
            s = sums[(case, c)] = summary(runs)
            L.append(f"| {LABELS[case]} | {c} | {s['rps']:.0f} | {fmt(s['p50'], '.2f')} | {fmt(s['p99'], '.2f')} | "
                     f"{fmt(s['proxy_cpu'], '.1f')} | {fmt(s['upstream_cpu'] if case != 'direct' else None, '.1f')} | "
                     f"{fmt(s['wrk_cpu'], '.1f')} | {s['errors']} | {fmt(s['others'], '.2f')} | "
                     f"{', '.join(f'{x:.0f}' for x in s['rps_all'])} |")
    L.append("")
    L.append("proxy CPU: utime+stime of the proxy's processes over completed requests (for \"upstream "
             "directly\", of the upstream). others: cores used during the run by processes that are neither "
             "proxy, upstream nor wrk (noise). Medians over rounds.")
    L.append("")
    L.append("| ratio (throughput, median of per-round ratios) | " + " | ".join(f"{c} conns" for c in conns) + " |")
    L.append("|---|" + "---|" * len(conns))
    pairs = [("cognate-warm", "nginx", "cognate auth (warm) ÷ nginx no auth"),
             ("cognate-warm", "haproxy-jwt", "cognate auth (warm) ÷ HAProxy jwt_verify"),
             ("cognate-miss", "haproxy-jwt", "cognate auth (cache off) ÷ HAProxy jwt_verify"),
             ("cognate-warm", "cognate-off", "cognate auth on (warm) ÷ auth off"),
             ("cognate-sub", "nginx", "cognate auth (warm, `sub` only) ÷ nginx no auth"),
             ("cognate-sub", "haproxy-jwt", "cognate auth (warm, `sub` only) ÷ HAProxy jwt_verify"),
             ("cognate-sub", "cognate-off", "cognate auth on (warm, `sub` only) ÷ auth off"),
             ("cognate-off", "nginx", "cognate auth off ÷ nginx no auth"),
             ("cognate-miss", "nginx", "cognate auth (cache off) ÷ nginx no auth")]
    for a, b, label in pairs:
        if a in cases and b in cases:
            cells = []
            for c in conns:
                m, rs = ratio_per_round(res, a, b, str(c))
                cells.append(f"{fmt(m, '.2f')}× ({', '.join(f'{x:.2f}' for x in rs)})")
            L.append(f"| {label} | " + " | ".join(cells) + " |")
    L.append("")
    if "direct" in cases:
        L.append("| p99 added over the upstream directly (ms) | " + " | ".join(f"{c} conns" for c in conns) + " |")
        L.append("|---|" + "---|" * len(conns))
        for case in cases:
            if case == "direct":
                continue
            cells = []
            for c in conns:
                a, b = sums.get((case, c)), sums.get(("direct", c))
                cells.append(fmt(a["p99"] - b["p99"], "+.2f") if a and b and a["p99"] is not None and b["p99"] is not None else "–")
            L.append(f"| {LABELS[case]} | " + " | ".join(cells) + " |")
        L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
