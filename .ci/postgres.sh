#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests: its own data directory, loopback only, password auth.
#   .ci/postgres.sh start DIR   initdb + start in DIR (a new directory); prints `export KUBECIS_TEST_PG_URL=...`
#   .ci/postgres.sh stop DIR    stop that server (by the PID in its postmaster.pid) and remove DIR
# Runs the server as the `postgres` user when started as root (PostgreSQL refuses to run as root).
# The role `kubecis` (password `kubecis`, CREATEDB) owns the database `kubecis_test`; tests create their own
# databases beside it.
set -euo pipefail

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [ -x "$d/initdb" ] && echo "$d"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
case "$cmd" in
start)
  bin=$(pg_bin) || true
  [ -n "${bin:-}" ] || { echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  printf 'postgres\n' > "$dir/pw"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir/pw"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pw" -A scram-sha-256 -E UTF8 --no-locale \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  PGPASSWORD=postgres "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE kubecis LOGIN CREATEDB PASSWORD 'kubecis'" \
    -c "CREATE DATABASE kubecis_test OWNER kubecis" >/dev/null
  echo "export KUBECIS_TEST_PG_URL=postgresql://kubecis:kubecis@127.0.0.1:$port/kubecis_test"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || true  # "fast" shutdown
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
