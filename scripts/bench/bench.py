#!/usr/bin/env python3
"""Load benchmark: cognate against cognito-local, same operations, same run.

Normally started through scripts/bench/run.sh, which builds cognate and installs
cognito-local first. Uses only the Python standard library and wrk.

For each server it measures:
  * start-up time: spawn -> first 200 from GET /health on a fresh data dir (median of N)
  * idle RSS: VmRSS after setup and a 2 s idle
  * InitiateAuth (USER_PASSWORD_AUTH), GetUser and AdminGetUser throughput with wrk
    --latency (req/s, p50, p99, non-2xx, socket errors)
  * GET /health with wrk as a baseline (the HTTP floor of each server)
  * server CPU time per request: utime+stime of the server process from
    /proc/<pid>/stat before and after each wrk run, divided by completed requests
and, for cognate, the hash-bound login limit: cores / one argon2id verify time
(`cognate hash-bench`), measured in the same run.

Prints a Markdown report on stdout and writes JSON plus raw wrk output to
bench-results/<timestamp>/ at the repository root (git-ignored).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import resource
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"
# A well-formed SigV4 header with dummy credentials: cognate without admin
# credentials (development mode) accepts it unchecked; cognito-local ignores it.
AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/cognito-idp/aws4_request, "
                 "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)
USERNAME = "benchuser"
PASSWORD = "Passw0rd!"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    cwd: str
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log_path: str = ""

    def start(self) -> float:
        """Spawns the server; returns seconds from spawn to the first 200 from /health."""
        logf = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=logf, stderr=logf,
            stdin=subprocess.DEVNULL,
        )
        if logf is not subprocess.DEVNULL:
            logf.close()
        deadline = t0 + 60
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} during start-up"
                                   f" (log: {self.log_path})")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.0005)
        raise RuntimeError(f"{self.name} not ready after 60 s")

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

    def cpu_ticks(self) -> int:
        with open(f"/proc/{self.pid}/stat") as f:
            stat = f.read()
        # Fields after the ")" that closes comm; utime and stime are fields 14 and 15.
        rest = stat[stat.rindex(")") + 2:].split()
        return int(rest[11]) + int(rest[12])

    def status_kib(self, key: str) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise KeyError(key)

    def threads(self) -> int:
        return self.status_kib("Threads")


def cognate_server(binary: str, port: int, data_dir: str, log_path: str) -> Server:
    return Server(
        name="cognate",
        argv=[binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
              "--public-url", f"http://127.0.0.1:{port}", "--log", "warn"],
        port=port, cwd=data_dir, env=dict(os.environ), log_path=log_path,
    )


def cognito_local_server(port: int, work_dir: str, log_path: str) -> Server:
    """cognito-local reads .cognito/config.json from its working directory."""
    os.makedirs(os.path.join(work_dir, ".cognito"), exist_ok=True)
    config = {
        # Plain usernames (its default is email as the username attribute).
        "UserPoolDefaults": {"UsernameAttributes": []},
        "TokenConfig": {"IssuerDomain": f"http://127.0.0.1:{port}"},
    }
    with open(os.path.join(work_dir, ".cognito", "config.json"), "w") as f:
        json.dump(config, f)
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1")
    env.pop("DEBUG", None)
    env.pop("COGNITO_LOCAL_DEVMODE", None)
    entry = os.path.join(HERE, "node_modules", "cognito-local", "lib", "bin", "start.js")
    # node itself is the server process, so /proc/<pid> measures the server.
    return Server(name="cognito-local", argv=["node", entry], port=port, cwd=work_dir, env=env,
                  log_path=log_path)


# --------------------------------------------------------------------------- API


def call(port: int, op: str, body: dict) -> tuple[int, dict]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/", body=json.dumps(body),
              headers={"X-Amz-Target": TARGET_PREFIX + op, "Content-Type": CONTENT_TYPE,
                       "Authorization": AUTHORIZATION})
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = {"_raw": data.decode("utf-8", "replace")}
    return r.status, parsed


def must(port: int, op: str, body: dict) -> dict:
    status, out = call(port, op, body)
    if status != 200:
        raise RuntimeError(f"{op} on port {port} -> {status}: {out}")
    return out


def setup(port: int) -> dict:
    pool = must(port, "CreateUserPool", {"PoolName": "bench"})["UserPool"]["Id"]
    client = must(port, "CreateUserPoolClient", {
        "UserPoolId": pool, "ClientName": "bench",
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                              "ALLOW_REFRESH_TOKEN_AUTH"],
    })["UserPoolClient"]["ClientId"]
    must(port, "AdminCreateUser", {
        "UserPoolId": pool, "Username": USERNAME, "TemporaryPassword": "Temp-Passw0rd!",
        "MessageAction": "SUPPRESS",
        "UserAttributes": [{"Name": "email", "Value": "bench@example.com"}],
    })
    must(port, "AdminSetUserPassword", {
        "UserPoolId": pool, "Username": USERNAME, "Password": PASSWORD, "Permanent": True,
    })
    login = login_body(client)
    auth = must(port, "InitiateAuth", login)["AuthenticationResult"]
    return {"pool_id": pool, "client_id": client, "access_token": auth["AccessToken"]}


def login_body(client_id: str) -> dict:
    return {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
            "AuthParameters": {"USERNAME": USERNAME, "PASSWORD": PASSWORD}}


def forge(token: str) -> str:
    """Same header and payload, signature bytes altered (first byte flipped)."""
    head, payload, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[0] ^= 0xFF
    return f"{head}.{payload}.{base64.urlsafe_b64encode(bytes(raw)).decode().rstrip('=')}"


def checks(port: int, ctx: dict) -> dict:
    """Correctness checks before load: each benchmarked body answers 200 with the right
    user, and GetUser rejects a token whose signature was altered."""
    res = {}
    out = must(port, "GetUser", {"AccessToken": ctx["access_token"]})
    res["getuser_username"] = out.get("Username")
    out = must(port, "AdminGetUser", {"UserPoolId": ctx["pool_id"], "Username": USERNAME})
    res["admingetuser_username"] = out.get("Username")
    out = must(port, "InitiateAuth", login_body(ctx["client_id"]))
    res["login_ok"] = "AccessToken" in out.get("AuthenticationResult", {})
    status, out = call(port, "GetUser", {"AccessToken": forge(ctx["access_token"])})
    res["forged_token_status"] = status
    res["forged_token_error"] = "" if status == 200 else (out.get("__type") or out.get("code") or str(out)[:80])
    res["rejects_forged_token"] = status != 200
    return res


# --------------------------------------------------------------------------- wrk


def write_lua(path: str, op: str, body: dict) -> str:
    text = json.dumps(body, separators=(",", ":"))
    assert "]==]" not in text
    with open(path, "w") as f:
        f.write(
            'wrk.method = "POST"\n'
            f'wrk.headers["X-Amz-Target"] = "{TARGET_PREFIX}{op}"\n'
            f'wrk.headers["Content-Type"] = "{CONTENT_TYPE}"\n'
            f'wrk.headers["Authorization"] = "{AUTHORIZATION}"\n'
            f"wrk.body = [==[{text}]==]\n"
        )
    return path


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not m:
        raise ValueError(value)
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    res: dict = {"non2xx": 0, "socket_errors": 0}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    res["requests"] = int(m.group(1))
    res["elapsed_s"] = _ms(m.group(2) + m.group(3)) / 1000
    res["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = _ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["socket_errors"] = sum(int(x) for x in m.groups())
        res["socket_errors_detail"] = m.group(0)
    return res


def busy_ticks() -> int:
    """Busy clock ticks of the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        cpu = f.readline().split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in cpu[:8])
    return user + nice + system + irq + softirq + steal


def run_wrk(server: Server, lua: str | None, conns: int, duration: int, threads: int,
            raw_path: str | None) -> dict:
    """lua None: plain GET /health (the HTTP floor of the server)."""
    threads = min(threads, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    cmd += ["-s", lua, f"http://127.0.0.1:{server.port}/"] if lua else [f"http://127.0.0.1:{server.port}/health"]
    before = server.cpu_ticks()
    busy_before = busy_ticks()
    ru_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    ru_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after = busy_ticks()
    after = server.cpu_ticks()
    if raw_path:
        with open(raw_path, "w") as f:
            f.write(" ".join(cmd) + "\n" + out)
    res = parse_wrk(out)
    cpu_s = (after - before) / CLK_TCK
    res["server_cpu_s"] = cpu_s
    res["cpu_us_per_req"] = cpu_s / res["requests"] * 1e6 if res["requests"] else None
    res["server_cpu_cores"] = cpu_s / res["elapsed_s"] if res["elapsed_s"] else None
    wrk_cpu_s = (ru_after.ru_utime + ru_after.ru_stime) - (ru_before.ru_utime + ru_before.ru_stime)
    res["wrk_cpu_s"] = wrk_cpu_s
    # Everything else that ran on the machine meanwhile (other users' builds, etc.), in cores.
    others_s = (busy_after - busy_before) / CLK_TCK - cpu_s - wrk_cpu_s
    res["others_cpu_cores"] = max(0.0, others_s / res["elapsed_s"]) if res["elapsed_s"] else None
    res["connections"] = conns
    res["rss_after_kib"] = server.status_kib("VmRSS")
    return res


# --------------------------------------------------------------------------- helpers


def hash_bench(binary: str, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([binary, "hash-bench"], check=True, capture_output=True, text=True)
        runs.append(json.loads(out.stdout))
    ms = [r["argon2id_verify_ms"] for r in runs]
    return {"runs_ms": ms, "median_ms": statistics.median(ms), "params": runs[0]}


def startup_times(make: callable, n: int) -> list[float]:
    times = []
    for i in range(n):
        work = tempfile.mkdtemp(prefix="cognate-bench-start-")
        srv = make(work)
        try:
            times.append(srv.start())
        finally:
            srv.stop()
            shutil.rmtree(work, ignore_errors=True)
    return times


def git_describe() -> str:
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "--no-optional-locks", "-C", ROOT, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def fmt(v, spec=".0f", none="–"):
    return none if v is None else format(v, spec)


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 s runs, 3 start-ups (smoke test)")
    ap.add_argument("--duration", type=int, help="seconds per wrk run (default 10, --quick 3)")
    ap.add_argument("--connections", default="16,32,64",
                    help="comma-separated concurrencies for GetUser/AdminGetUser (default 16,32,64)")
    ap.add_argument("--login-connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--starts", type=int, help="start-up samples per server (default 5, --quick 3)")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cognate"))
    ap.add_argument("--no-cognito-local", action="store_true", help="benchmark cognate only")
    ap.add_argument("--out", help="results directory (default bench-results/<timestamp>)")
    args = ap.parse_args()

    duration = args.duration or (3 if args.quick else 10)
    starts = args.starts or (3 if args.quick else 5)
    conns = [int(c) for c in args.connections.split(",") if c]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = args.out or os.path.join(ROOT, "bench-results", stamp)
    os.makedirs(out_dir, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    if not os.access(args.binary, os.X_OK):
        log(f"{args.binary} not found: cargo build --release -p cognate")
        return 2
    with_cl = not args.no_cognito_local
    if with_cl and not os.path.exists(os.path.join(HERE, "node_modules", "cognito-local")):
        log("cognito-local not installed (run scripts/bench/run.sh or npm ci in scripts/bench)")
        return 2
    if not shutil.which("wrk"):
        log("wrk not found (apt-get install wrk)")
        return 2
    cl_version = None
    if with_cl:
        with open(os.path.join(HERE, "node_modules", "cognito-local", "package.json")) as f:
            cl_version = json.load(f)["version"]
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip() if with_cl else None

    results: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cores": cores, "cpu": cpu_model(),
        "kernel": platform.release(), "duration_s": duration, "wrk_threads": args.threads,
        "connections": conns, "login_connections": args.login_connections,
        "cognito_local_version": cl_version, "node_version": node_version,
        "loadavg_start": loadavg(), "servers": {},
    }
    log(f"{cores} cores, {results['cpu']}, load {results['loadavg_start']}, {duration} s runs -> {out_dir}")

    # A private copy of the binary, so a concurrent `cargo build` cannot swap it mid-run.
    bin_dir = tempfile.mkdtemp(prefix="cognate-bench-bin-")
    shutil.copy2(args.binary, os.path.join(bin_dir, "cognate"))
    args.binary = os.path.join(bin_dir, "cognate")
    results["cognate_commit"] = git_describe()

    # 1. Start-up time on fresh data dirs.
    log(f"start-up time, {starts} fresh starts each")
    su = {"cognate": startup_times(
        lambda d: cognate_server(args.binary, free_port(), d, os.path.join(out_dir, "cognate-startup.log")), starts)}
    if with_cl:
        su["cognito-local"] = startup_times(
            lambda d: cognito_local_server(free_port(), d, os.path.join(out_dir, "cognito-local-startup.log")), starts)

    # 2. Long-lived servers, set up, idle RSS.
    tmp = tempfile.mkdtemp(prefix="cognate-bench-")
    servers: dict[str, Server] = {}
    servers["cognate"] = cognate_server(args.binary, free_port(), os.path.join(tmp, "cognate"),
                                        os.path.join(out_dir, "cognate.log"))
    os.makedirs(servers["cognate"].cwd)
    if with_cl:
        servers["cognito-local"] = cognito_local_server(free_port(), os.path.join(tmp, "cognito-local"),
                                                        os.path.join(out_dir, "cognito-local.log"))
    ctx: dict[str, dict] = {}
    lua: dict[str, dict[str, str]] = {}
    try:
        for srv in servers.values():
            srv.start()
        time.sleep(1)
        fresh = {name: srv.status_kib("VmRSS") for name, srv in servers.items()}
        for name, srv in servers.items():
            ctx[name] = setup(srv.port)
            r = results["servers"][name] = {
                "fresh_rss_kib": fresh[name],
                "startup_ms": [t * 1000 for t in su[name]],
                "startup_median_ms": statistics.median(su[name]) * 1000,
                "checks": checks(srv.port, ctx[name]),
                "ops": {},
            }
            log(f"{name}: pid {srv.pid}, port {srv.port}, checks {r['checks']}")
            c = ctx[name]
            lua[name] = {
                "InitiateAuth": write_lua(os.path.join(out_dir, f"{name}-login.lua"), "InitiateAuth",
                                          login_body(c["client_id"])),
                "GetUser": write_lua(os.path.join(out_dir, f"{name}-getuser.lua"), "GetUser",
                                     {"AccessToken": c["access_token"]}),
                "AdminGetUser": write_lua(os.path.join(out_dir, f"{name}-admingetuser.lua"), "AdminGetUser",
                                          {"UserPoolId": c["pool_id"], "Username": USERNAME}),
                "GET /health": None,
            }
        time.sleep(2)
        for name, srv in servers.items():
            r = results["servers"][name]
            r["idle_rss_kib"] = srv.status_kib("VmRSS")
            r["idle_threads"] = srv.threads()
            log(f"{name}: idle RSS {r['idle_rss_kib']} KiB, {r['idle_threads']} threads")

        # 3. Hash-bound login limit, measured now (same conditions as the login run).
        hb = hash_bench(args.binary, 3)
        limit = cores / (hb["median_ms"] / 1000)
        results["hash_bench"] = hb
        results["hash_bound_limit_per_s"] = limit
        log(f"argon2id verify {hb['runs_ms']} ms -> hash-bound limit {limit:.1f} logins/s on {cores} cores")

        # 4. Load: each op and concurrency, cognate then cognito-local back to back.
        plan = [("InitiateAuth", args.login_connections)] + \
               [(op, c) for op in ("GetUser", "AdminGetUser") for c in conns] + \
               [("GET /health", 32)]
        warmed: set = set()
        for op, c in plan:
            for name, srv in servers.items():
                if (name, op) not in warmed:
                    run_wrk(srv, lua[name][op], min(c, 16), 1, args.threads, None)  # warm-up, discarded
                    warmed.add((name, op))
                res = run_wrk(srv, lua[name][op], c, duration, args.threads,
                              os.path.join(out_dir, f"wrk-{name}-{op.replace(' /', '-')}-c{c}.txt"))
                results["servers"][name]["ops"].setdefault(op, []).append(res)
                log(f"{name:13} {op:12} c={c:<3} {res['rps']:>9.1f} req/s  p50 {fmt(res['p50_ms'], '.2f')} ms"
                    f"  p99 {fmt(res['p99_ms'], '.2f')} ms  cpu {fmt(res['cpu_us_per_req'], '.1f')} us/req"
                    f"  non-2xx {res['non2xx']}  sock-err {res['socket_errors']}")
        # Hash time again after the load, to show drift on a shared machine.
        hb2 = hash_bench(args.binary, 3)
        results["hash_bench_after"] = hb2
        for name, srv in servers.items():
            r = results["servers"][name]
            r["rss_after_load_kib"] = srv.status_kib("VmRSS")
            r["peak_rss_kib"] = srv.status_kib("VmHWM")
    finally:
        for srv in servers.values():
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(bin_dir, ignore_errors=True)
    results["loadavg_end"] = loadavg()

    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    report = render(results, with_cl)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(report)
    print(report)
    log(f"wrote {out_dir}/results.json and report.md")
    return 0


def render(res: dict, with_cl: bool) -> str:
    cg = res["servers"]["cognate"]
    cl = res["servers"].get("cognito-local") if with_cl else None
    L = []
    L.append(f"cognate {res['cognate_commit']}. Machine: {res['cores']} cores ({res['cpu']}), kernel {res['kernel']}, {res['date']}; "
             f"load average {res['loadavg_start']} at start, {res['loadavg_end']} at end.")
    L.append(f"wrk: {res['wrk_threads']} threads, {res['duration_s']} s per run, `--latency`; "
             f"server and wrk share the same cores."
             + (f" cognito-local {res['cognito_local_version']} on node {res['node_version']}." if cl else ""))
    L.append("")
    hdr = ("| op | conns | cognate req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | others | RSS after |"
           + (" cognito-local req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | others | RSS after | ratio |" if cl else ""))
    sep = "|" + "---|" * (hdr.count("|") - 1)
    notes = {"InitiateAuth": " (USER_PASSWORD_AUTH)",
             "GET /health": " (baseline: HTTP floor of each server, not a Cognito operation)"}
    for op in ("InitiateAuth", "GetUser", "AdminGetUser", "GET /health"):
        L.append(f"**{op}**" + notes.get(op, ""))
        L.append("")
        L.append(hdr)
        L.append(sep)
        for i, a in enumerate(cg["ops"].get(op, [])):
            row = (f"| {op} | {a['connections']} | {a['rps']:.0f} | {fmt(a['p50_ms'], '.2f')} | "
                   f"{fmt(a['p99_ms'], '.2f')} | {fmt(a['cpu_us_per_req'], '.0f')} | "
                   f"{a['non2xx'] + a['socket_errors']} | {fmt(a['others_cpu_cores'], '.2f')} | {a['rss_after_kib'] / 1024:.0f} MiB |")
            if cl:
                b = cl["ops"][op][i]
                ratio = a["rps"] / b["rps"] if b["rps"] else None
                row += (f" {b['rps']:.0f} | {fmt(b['p50_ms'], '.2f')} | {fmt(b['p99_ms'], '.2f')} | "
                        f"{fmt(b['cpu_us_per_req'], '.0f')} | {b['non2xx'] + b['socket_errors']} | "
                        f"{fmt(b['others_cpu_cores'], '.2f')} | {b['rss_after_kib'] / 1024:.0f} MiB | {fmt(ratio, '.1f')}× |")
            L.append(row)
        L.append("")
    L.append("non-2xx: non-2xx responses plus socket errors reported by wrk. CPU µs/req: server process "
             "utime+stime over completed requests. others: average cores used by other processes on the "
             "machine during that run (neither the server nor wrk), i.e. the noise. RSS after: server VmRSS right after that run. ratio: cognate req/s "
             "÷ cognito-local req/s.")
    L.append("")
    hb = res["hash_bench"]
    limit = res["hash_bound_limit_per_s"]
    login = cg["ops"]["InitiateAuth"][0]
    L.append("**Logins against the hash-bound limit**")
    L.append("")
    L.append("| argon2id verify (median of 3, before load) | after load | cores | hash-bound limit | "
             "cognate logins/s | % of limit |")
    L.append("|---|---|---|---|---|---|")
    L.append(f"| {hb['median_ms']:.2f} ms (runs {', '.join(f'{x:.2f}' for x in hb['runs_ms'])}) | "
             f"{res['hash_bench_after']['median_ms']:.2f} ms | {res['cores']} | {limit:.1f}/s | "
             f"{login['rps']:.1f} | {100 * login['rps'] / limit:.0f}% |")
    L.append("")
    L.append(f"argon2id parameters: m={hb['params']['memory_kib']} KiB, t={hb['params']['iterations']}, "
             f"p={hb['params']['parallelism']}.")
    L.append("")
    L.append("**Footprint and start-up**")
    L.append("")
    L.append("| server | RSS fresh (no request yet) | idle RSS after setup | threads | RSS after load | peak RSS | "
             "start to first /health 200 (median) | samples ms |")
    L.append("|---|---|---|---|---|---|---|---|")
    for name, r in res["servers"].items():
        L.append(f"| {name} | {r['fresh_rss_kib'] / 1024:.1f} MiB | {r['idle_rss_kib'] / 1024:.1f} MiB | {r['idle_threads']} | "
                 f"{r['rss_after_load_kib'] / 1024:.1f} MiB | {r['peak_rss_kib'] / 1024:.1f} MiB | "
                 f"{r['startup_median_ms']:.1f} ms | {', '.join(f'{t:.1f}' for t in r['startup_ms'])} |")
    L.append("")
    L.append("**Checks before load**")
    L.append("")
    L.append("| server | GetUser user | AdminGetUser user | login ok | GetUser with forged signature |")
    L.append("|---|---|---|---|---|")
    for name, r in res["servers"].items():
        c = r["checks"]
        forged = (f"rejected ({c['forged_token_status']} {c['forged_token_error']})" if c["rejects_forged_token"]
                  else "**accepted (200)**: signature not verified")
        L.append(f"| {name} | {c['getuser_username']} | {c['admingetuser_username']} | {c['login_ok']} | {forged} |")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
