#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests (the PostgreSQL engine of the
# store suite and the server's integration tests on PostgreSQL).
#
#   eval "$(bash scripts/pg-test-cluster.sh start)"   # prints the two exports below
#   ...  # COGNATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   bash scripts/pg-test-cluster.sh stop              # uses COGNATE_TEST_PG_DIR
#
# `start` installs Debian's postgresql package when initdb / pg_ctl are
# missing and we are root on Debian, creates a cluster in a fresh temporary
# directory (as the `postgres` OS user when run as root), trusting
# connections on loopback only, listening on 127.0.0.1 on a free port with
# its unix sockets in that directory, fsync on. Only the export lines go to
# standard output; everything else goes to standard error.
set -euo pipefail

log() { echo "pg-test-cluster: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# The directory of initdb / pg_ctl / postgres: Debian's newest version first,
# then whatever is on PATH.
find_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            echo "$d"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

install_postgresql() {
    [[ "$(id -u)" == 0 ]] || die "initdb/pg_ctl not found; install PostgreSQL (Debian: apt-get install postgresql) or run as root"
    command -v apt-get >/dev/null 2>&1 || die "initdb/pg_ctl not found and this is not Debian (no apt-get); install PostgreSQL"
    log "installing Debian's postgresql package"
    # Only the binaries are wanted: no default cluster started on port 5432.
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq postgresql >&2 2>/dev/null; then
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
}

# Runs a PostgreSQL program as the cluster's owner.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    local bindir
    if ! bindir="$(find_bindir)"; then
        install_postgresql
        bindir="$(find_bindir)" || die "PostgreSQL installed but initdb/pg_ctl not found"
    fi
    if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
    local dir
    dir="$(mktemp -d "${TMPDIR:-/tmp}/cognate-pg.XXXXXX")"
    touch "$dir/.cognate-pg-test"
    if [[ "$(id -u)" == 0 ]]; then
        chown -R postgres: "$dir"
    fi
    chmod 700 "$dir"
    cd "$dir" # (the cluster's owner may not enter the caller's directory)
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
            --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
        {
            cat "$dir/initdb.log" >&2
            die "initdb failed"
        }
    # Trust, on loopback only (and the socket in our own directory).
    as_owner tee "$dir/data/pg_hba.conf" >/dev/null <<'EOF'
local all all trust
host  all all 127.0.0.1/32 trust
EOF
    local port attempt
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        as_owner tee "$dir/data/postgresql.auto.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 300
EOF
        if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >&2; then
            echo "export COGNATE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
            echo "export COGNATE_TEST_PG_DIR=$dir"
            log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir"
            return 0
        fi
        log "start on port $port failed (attempt $attempt):"
        tail -n 5 "$dir/postgres.log" >&2 || true
    done
    die "could not start PostgreSQL"
}

stop() {
    local dir="${1:-${COGNATE_TEST_PG_DIR:-}}"
    [[ -n "$dir" ]] || die "stop: COGNATE_TEST_PG_DIR is not set"
    [[ -e "$dir/.cognate-pg-test" ]] || die "stop: $dir is not a cluster of this script"
    local bindir
    bindir="$(find_bindir)" || die "pg_ctl not found"
    cd /
    if [[ -e "$dir/data/postmaster.pid" ]]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 ||
            as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    fi
    rm -rf -- "$dir"
    log "stopped and removed $dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*)
    echo "usage: eval \"\$(bash $0 start)\" | bash $0 stop [DIR]" >&2
    exit 2
    ;;
esac
