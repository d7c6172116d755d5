#!/usr/bin/env python3
"""Scale benchmark: a million users in each engine. Not a test: it reports numbers.

For each engine (SQLite, PostgreSQL) it:
  1. builds an export file of N users (`cognate export` of a template pool whose
     one user has a real argon2id hash, repeated N times with new names, emails
     and subs: the load is not bound by password hashing) and loads it with
     `cognate import`, timing it (users/s);
  2. starts `cognate serve` on the loaded database and measures, on one connection
     and warm: ListUsers with `username ^= "<prefix>"` and `email ^= "<prefix>"`
     (Limit 60, random 7-character prefixes, each matching about 10 users; p50/p99);
  3. with wrk: AdminGetUser, GetUser and InitiateAuth (USER_PASSWORD_AUTH)
     throughput, beside the hash-bound login limit (cores / one argon2id verify);
  4. database size on disk and the server's RSS;
  5. PostgreSQL only: the same load on two `cognate serve` processes sharing the
     database (wrk on each at once), with the database's CPU per request
     (utime+stime of every postgres process), so a larger deployment can be
     projected.

    scripts/bench/scale.sh                          # both engines, 1,000,000 users
    python3 scripts/bench/scale.py --users 100000 --engines sqlite

scale.sh builds the release binary and starts a throw-away PostgreSQL cluster
(scripts/pg-test-cluster.sh). Markdown on stdout; JSON in bench-results/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the shared helpers: Server, wrk, hash-bench)

from bench import CLK_TCK, PASSWORD, ROOT, USERNAME, Server, free_port, log, must, run_wrk, write_lua  # noqa: E402


def serve(binary: str, port: int, data_dir: str, database: str | None, log_path: str) -> Server:
    argv = [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
            "--public-url", "http://127.0.0.1:9229", "--log", "warn"]
    if database:
        argv += ["--database", database]
    return Server(name="cognate", argv=argv, port=port, cwd=data_dir, env=dict(os.environ),
                  log_path=log_path)


def tool(binary: str, *args: str) -> str:
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stderr


def template(binary: str, work: str) -> tuple[list[str], dict]:
    """A pool, a client and one user with a real hash, exported: (head lines, user record)."""
    data = os.path.join(work, "template")
    os.makedirs(data, exist_ok=True)
    port = free_port()
    srv = serve(binary, port, data, None, os.path.join(work, "template.log"))
    srv.start()
    try:
        pool = must(port, "CreateUserPool", {"PoolName": "scale"})["UserPool"]["Id"]
        must(port, "CreateUserPoolClient", {
            "UserPoolId": pool, "ClientName": "scale",
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                                  "ALLOW_REFRESH_TOKEN_AUTH"]})
        must(port, "AdminCreateUser", {"UserPoolId": pool, "Username": USERNAME, "MessageAction": "SUPPRESS",
                                       "UserAttributes": [{"Name": "email", "Value": "bench@example.com"}]})
        must(port, "AdminSetUserPassword", {"UserPoolId": pool, "Username": USERNAME,
                                            "Password": PASSWORD, "Permanent": True})
    finally:
        srv.stop()
    dump = os.path.join(work, "template.jsonl")
    tool(binary, "export", "--data-dir", data, "--output", dump)
    lines = open(dump).read().splitlines()
    head = [line for line in lines if json.loads(line)["type"] != "user"]
    user = next(json.loads(line) for line in lines if json.loads(line)["type"] == "user")
    return head, user


def big_file(head: list[str], user: dict, n: int, path: str) -> None:
    """N users: the template user under new names (and the template user itself)."""
    with open(path, "w") as f:
        for line in head:
            f.write(line + "\n")
        f.write(json.dumps(user) + "\n")
        base = dict(user["user"])
        attrs = [a for a in base["attributes"] if a["name"] not in ("email", "email_verified")]
        for i in range(n - 1):
            name = f"user{i:07d}"
            u = dict(base, username=name, username_key=name, sub=str(uuid.UUID(int=i + 1)),
                     attributes=attrs + [{"name": "email", "value": f"{name}@example.com"},
                                         {"name": "email_verified", "value": "true"}],
                     srp_salt=None, srp_verifier=None)
            f.write(json.dumps({"type": "user", "user": u, "tokens_valid_after": None,
                                "totp_last_step": None, "groups": []}, separators=(",", ":")) + "\n")


def list_latency(port: int, pool: str, attribute: str, n_users: int, samples: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i in range(samples + 20):
        prefix = f"user{random.randrange(max(1, n_users // 10)):06d}"
        body = json.dumps({"UserPoolId": pool, "Limit": 60, "Filter": f'{attribute} ^= "{prefix}"'})
        t0 = time.perf_counter()
        conn.request("POST", "/", body=body, headers={"X-Amz-Target": bench.TARGET_PREFIX + "ListUsers",
                                                      "Content-Type": bench.CONTENT_TYPE,
                                                      "Authorization": bench.AUTHORIZATION})
        r = conn.getresponse()
        data = r.read()
        dt = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            raise RuntimeError(f"ListUsers {r.status}: {data[:200]!r}")
        if i >= 20:  # warm-up discarded
            times.append(dt)
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": times[int(len(times) * 0.99) - 1],
            "samples": len(times), "matched_example": len(json.loads(data)["Users"])}


def postgres_ticks() -> int:
    """utime+stime of every postgres process on the machine (the database's CPU)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        if comm.startswith("postgres"):
            rest = stat[stat.rindex(")") + 2:].split()
            total += int(rest[11]) + int(rest[12])
    return total


def wrk_many(servers: list[Server], lua: str, conns: int, duration: int, out_dir: str, tag: str) -> dict:
    """wrk against each server at once; totals, and the database's CPU per request."""
    results: list[dict] = [{}] * len(servers)
    pg_before = postgres_ticks()

    def one(i: int) -> None:
        results[i] = run_wrk(servers[i], lua, conns, duration, 1, os.path.join(out_dir, f"{tag}-{i}.txt"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pg_s = (postgres_ticks() - pg_before) / CLK_TCK
    requests = sum(r["requests"] for r in results)
    return {
        "rps": sum(r["rps"] for r in results),
        "p50_ms": max(r["p50_ms"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "non2xx": sum(r["non2xx"] for r in results),
        "server_cpu_us_per_req": sum(r["server_cpu_s"] for r in results) / requests * 1e6 if requests else None,
        "db_cpu_us_per_req": pg_s / requests * 1e6 if requests else None,
        "rss_mib": [r["rss_after_kib"] // 1024 for r in results],
        "others_cores": max(r["others_cpu_cores"] or 0 for r in results),
    }


def measure(binary: str, engine: str, database: str | None, data: str, pool: str, client: str,
            n: int, args, out_dir: str, instances: int) -> dict:
    servers = []
    for i in range(instances):
        port = free_port()
        srv = serve(binary, port, data, database, os.path.join(out_dir, f"{engine}-{instances}-{i}.log"))
        srv.start()
        servers.append(srv)
    res: dict = {"instances": instances}
    try:
        port = servers[0].port
        login = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
                 "AuthParameters": {"USERNAME": USERNAME, "PASSWORD": PASSWORD}}
        token = must(port, "InitiateAuth", login)["AuthenticationResult"]["AccessToken"]
        if instances == 1:
            res["list_username"] = list_latency(port, pool, "username", n, args.samples)
            res["list_email"] = list_latency(port, pool, "email", n, args.samples)
        luas = {
            "AdminGetUser": write_lua(os.path.join(out_dir, "admingetuser.lua"), "AdminGetUser",
                                      {"UserPoolId": pool, "Username": "user0424242" if n > 424243 else USERNAME}),
            "GetUser": write_lua(os.path.join(out_dir, "getuser.lua"), "GetUser", {"AccessToken": token}),
            "InitiateAuth": write_lua(os.path.join(out_dir, "login.lua"), "InitiateAuth", login),
        }
        for op, lua in luas.items():
            conns = 16 if op == "InitiateAuth" else 32
            run_wrk(servers[0], lua, 4, 1, 1, None)  # warm-up
            res[op] = wrk_many(servers, lua, conns // instances, args.duration, out_dir,
                               f"{engine}-{instances}-{op}")
            log(f"{engine} x{instances} {op}: {res[op]['rps']:.0f}/s")
    finally:
        for s in servers:
            s.stop()
    return res


def db_size(engine: str, data: str, database: str | None) -> int:
    if engine == "sqlite":
        return sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("cognate.db"))
    out = subprocess.run(["psql", database, "-At", "-c", "SELECT pg_database_size(current_database())"],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--pg-url", default=os.environ.get("COGNATE_TEST_POSTGRES_URL"),
                    help="a PostgreSQL server where a database per run is created")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cognate"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-results", time.strftime("scale-%Y%m%d-%H%M%S")))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="cognate-scale-")
    head, user = template(args.binary, work)
    pool = json.loads(head[1])["pool"]["id"]
    client = next(json.loads(h)["client"]["client_id"] for h in head if json.loads(h)["type"] == "client")
    dump = os.path.join(work, "users.jsonl")
    t0 = time.perf_counter()
    big_file(head, user, args.users, dump)
    log(f"wrote {args.users} users in {time.perf_counter() - t0:.0f} s ({os.path.getsize(dump) >> 20} MiB)")
    hb = bench.hash_bench(args.binary, 3)
    results: dict = {"users": args.users, "hash_verify_ms": hb["median_ms"],
                     "hash_bound_logins_per_s": os.cpu_count() * 1000 / hb["median_ms"], "engines": {}}
    for engine in args.engines.split(","):
        data = os.path.join(work, f"data-{engine}")
        os.makedirs(data)
        database = None
        if engine == "postgres":
            if not args.pg_url:
                sys.exit("--pg-url (or COGNATE_TEST_POSTGRES_URL) is needed for the postgres engine")
            name = f"cognate_scale_{os.getpid()}"
            subprocess.run(["psql", args.pg_url, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
            database = args.pg_url.rsplit("/", 1)[0] + "/" + name
        import_args = ["import", dump, "--data-dir", data] + (["--database", database] if database else [])
        t0 = time.perf_counter()
        report = tool(args.binary, *import_args)
        load_s = time.perf_counter() - t0
        log(f"{engine}: {report.strip().splitlines()[-1]} in {load_s:.0f} s")
        res = {"load_s": load_s, "load_users_per_s": args.users / load_s, "import_report": report.strip()[-300:]}
        res["db_bytes"] = db_size(engine, data, database)
        res["one"] = measure(args.binary, engine, database, data, pool, client, args.users, args, args.out, 1)
        if engine == "postgres":
            res["two"] = measure(args.binary, engine, database, data, pool, client, args.users, args, args.out, 2)
        results["engines"][engine] = res
    with open(os.path.join(args.out, "scale.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(render(results))
    return 0


def render(r: dict) -> str:
    out = [f"Users: {r['users']:,}; one argon2id verify {r['hash_verify_ms']:.1f} ms, "
           f"hash-bound login limit {r['hash_bound_logins_per_s']:.0f}/s on {os.cpu_count()} cores.", ""]
    out.append("| engine | load (users/s) | DB size | ListUsers username ^= p50 / p99 | email ^= p50 / p99 |")
    out.append("|---|---|---|---|---|")
    for name, e in r["engines"].items():
        lu, le = e["one"]["list_username"], e["one"]["list_email"]
        out.append(f"| {name} | {e['load_users_per_s']:,.0f} | {e['db_bytes'] / 2**20:,.0f} MiB | "
                   f"{lu['p50_ms']:.2f} / {lu['p99_ms']:.2f} ms | {le['p50_ms']:.2f} / {le['p99_ms']:.2f} ms |")
    out += ["", "| engine | instances | operation | req/s | p50 ms | p99 ms | server CPU µs/req | database CPU µs/req | RSS MiB |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, e in r["engines"].items():
        for key in ("one", "two"):
            if key not in e:
                continue
            for op in ("AdminGetUser", "GetUser", "InitiateAuth"):
                m = e[key][op]
                db = f"{m['db_cpu_us_per_req']:.0f}" if name == "postgres" else "–"
                out.append(f"| {name} | {e[key]['instances']} | {op} | {m['rps']:,.0f} | {m['p50_ms']:.2f} | "
                           f"{m['p99_ms']:.2f} | {m['server_cpu_us_per_req']:.0f} | {db} | "
                           f"{'/'.join(str(x) for x in m['rss_mib'])} |")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
