#!/usr/bin/env bash
# Tianjie developer control: install what is missing, start/stop the private services, run the app.
# Called by the Makefile (make run / test / services / stop); every step is idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DATA="${TIANJIE_DATA:-$ROOT/.tianjie}"
PG_PORT="${TIANJIE_PG_PORT:-55432}"
REDIS_PORT="${TIANJIE_REDIS_PORT:-56379}"
WEB_PORT="${TIANJIE_WEB_PORT:-8000}"
PG_BIN="${TIANJIE_PG_BIN:-/usr/lib/postgresql/15/bin}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
RUN="$DATA/run"
LOG="$DATA/log"
PGBASE="$DATA"
# PostgreSQL runs as the postgres user when we are root: it must reach the data folder, and a Unix socket
# path must stay under ~100 bytes. When either fails (a clone under /root, a deep path), the cluster goes
# to a folder of its own under /var/tmp, named after this checkout.
if { [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; } || [ ${#RUN} -gt 80 ]; then
  PGBASE="/var/tmp/tianjie-$(printf %s "$ROOT" | sha256sum | cut -c1-12)"
  RUN="$PGBASE/run"
fi
PGDATA="$PGBASE/pg"
PGLOG="$PGBASE/log"
APT_PACKAGES=(postgresql-15 postgresql-15-postgis-3 gdal-bin libgdal32 libgeos-c1v5 libproj25 binutils
              redis-server chromium fonts-wqy-zenhei nodejs npm mdbtools
              libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils)

say() { printf '\033[1;32m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mError:\033[0m %s\n' "$*" >&2; exit 1; }

as_pg() {  # PostgreSQL refuses to run as root: run its binaries as the postgres system user then.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

install_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    case "$p" in
      nodejs|npm) command -v "$p" >/dev/null 2>&1 && continue ;;
      postgresql-15) [ -x "$PG_BIN/postgres" ] && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  # Name only what is missing: naming an installed server package would upgrade it (STACK.md pitfall 5).
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

install_python() {
  if [ ! -x "$PY" ]; then
    say "Creating the virtualenv in .venv"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.tianjie-requirements"
  local want
  want="$(cat requirements.txt requirements-dev.txt requirements.lock | sha256sum | cut -c1-16)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "Installing Python packages (pinned in requirements*.txt, locked in requirements.lock)"
    mkdir -p "$LOG"
    if ! { "$VENV/bin/pip" install -q --upgrade pip && \
           "$VENV/bin/pip" install -q -r requirements-dev.txt -c requirements.lock; } >"$LOG/pip.log" 2>&1; then
      grep -v "^WARNING: Location" "$LOG/pip.log" | tail -30 >&2
      die "Installing Python packages failed (log: $LOG/pip.log)"
    fi
    echo "$want" > "$stamp"
  fi
}

install_npm() {
  local stamp="node_modules/.tianjie-lock"
  local want
  want="$(sha256sum package-lock.json | cut -c1-16)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "Installing front-end packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
}

ensure_secrets() {
  # Local secrets live in the ignored data folder, made once per machine; never in the repository.
  mkdir -p "$DATA"
  if [ ! -f "$DATA/secrets.env" ]; then
    say "Generating local secrets in $DATA/secrets.env"
    {
      echo "TIANJIE_SECRET_KEY=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
      echo "TIANJIE_FIELD_KEY=$("$PY" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
    } > "$DATA/secrets.env"
    chmod 600 "$DATA/secrets.env"
  fi
  # Keys added later are appended to an existing file (never changing the ones already there).
  if ! grep -q '^TIANJIE_PKI_KEY=' "$DATA/secrets.env"; then
    echo "TIANJIE_PKI_KEY=$("$PY" -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" >> "$DATA/secrets.env"
  fi
}

install_all() {
  install_apt
  install_python
  install_npm
  ensure_secrets
}

pg_running() { as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

start_postgres() {
  mkdir -p "$DATA" "$RUN" "$LOG" "$PGBASE" "$PGLOG"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$RUN" "$PGLOG"; chmod 755 "$DATA" "$PGBASE"; fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    say "Creating the private PostgreSQL cluster in $PGDATA"
    mkdir -p "$PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA"
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$LOG/initdb.log"
    cat >> "$PGDATA/postgresql.conf" <<EOF
# Tianjie private cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN'
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
${TIANJIE_PG_EXTRA_CONF:-}
EOF
  fi
  if pg_running; then return 0; fi
  say "Starting PostgreSQL on port $PG_PORT"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG/postgres.log" -w -o "-p $PG_PORT -k $RUN" start >/dev/null \
    || { tail -20 "$PGLOG/postgres.log" >&2; die "PostgreSQL did not start (log: $PGLOG/postgres.log)"; }
}

ensure_database() {
  local db="$1"
  if ! psql -h "$RUN" -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='$db'" postgres | grep -q 1; then
    say "Creating database $db with PostGIS"
    psql -q -h "$RUN" -p "$PG_PORT" -U postgres -c "create database $db" postgres
  fi
  PGOPTIONS="-c client_min_messages=warning" psql -q -h "$RUN" -p "$PG_PORT" -U postgres -c "create extension if not exists postgis" "$db"
}

start_redis() {
  mkdir -p "$DATA/redis" "$RUN" "$LOG"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
  say "Starting Redis on port $REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DATA/redis" --daemonize yes \
    --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" --save "" --appendonly no
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "Redis did not start (log: $LOG/redis.log)"
}

export_env() {
  ensure_secrets
  set -a
  # shellcheck disable=SC1091
  . "$DATA/secrets.env"
  set +a
  export TIANJIE_DB_HOST="$RUN" TIANJIE_DB_PORT="$PG_PORT"
  export TIANJIE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export TIANJIE_DATA="$DATA"
}

services() {
  start_postgres
  start_redis
}

start_bg() {  # name, command...: start a background process with a pidfile unless it is running
  local name="$1"; shift
  local pidfile="$RUN/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
  say "Starting $name"
  setsid "$@" >>"$LOG/$name.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
}

stop_bg() {
  local pidfile="$RUN/$1.pid"
  if [ -f "$pidfile" ]; then
    local pid; pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then say "Stopping $1"; kill -- "-$pid" 2>/dev/null || kill "$pid"; fi
    rm -f "$pidfile"
  fi
}

run() {
  install_all
  services
  export_env
  export DJANGO_SETTINGS_MODULE=config.settings.local
  ensure_database tianjie
  "$PY" manage.py migrate --noinput -v 0
  "$PY" manage.py collectstatic --noinput -v 0
  if ! "$PY" manage.py demo_county --if-empty --county 450326 --parcels "${TIANJIE_DEMO_PARCELS:-20000}"; then
    die "Loading the demo county failed; see the message above."
  fi
  "$PY" manage.py demo_imagery --county 450326 || die "Loading the demo imagery failed; see the message above."
  "$PY" manage.py demo_publicity --county 450326 || die "Posting the demo notice failed; see the message above."
  # -B: the worker also runs beat (one worker here), for the nightly jobs (CELERY_BEAT_SCHEDULE)
  start_bg celery "$VENV/bin/celery" -A config worker -B -s "$RUN/celerybeat-schedule" -l info --concurrency 2
  start_bg web "$VENV/bin/gunicorn" config.wsgi:application --no-control-socket \
    -b "127.0.0.1:$WEB_PORT" -w 3 -k gthread --threads 4 --access-logfile - --error-logfile -
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2
  done
  curl -fs "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null || die "The web server did not answer; see $LOG/web.log"
  "$PY" manage.py demo_logins --url "http://127.0.0.1:$WEB_PORT/"
}

test_all() {
  install_all
  services
  export_env
  export DJANGO_SETTINGS_MODULE=config.settings.test
  "$PY" manage.py collectstatic --noinput -v 0
  "$VENV/bin/ruff" check .
  "$VENV/bin/mypy" .
  local imports
  if ! imports="$("$VENV/bin/lint-imports" --no-cache 2>&1)"; then
    printf '%s\n' "$imports" | sed -n '/^Contracts$/,$p' >&2
    die "An import breaks the dependency table (pyproject.toml, tool.importlinter)"
  fi
  printf '%s\n' "$imports" | grep -E "KEPT|Contracts:"
  # Both cores (pytest-xdist): each worker its own test database, Redis database and files
  # (config/settings/test.py); a module's tests stay on one worker, so its fixtures are built once.
  # TIANJIE_TEST_WORKERS=0 runs in one process.
  "$VENV/bin/pytest" -n "${TIANJIE_TEST_WORKERS:-2}" --dist loadscope "$@"
}

stop() {
  stop_bg web
  stop_bg celery
  if [ -f "$RUN/redis.pid" ] && kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null; then
    say "Stopping Redis"; redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$RUN/redis.pid")"
  fi
  if [ -f "$PGDATA/PG_VERSION" ] && pg_running; then
    say "Stopping PostgreSQL"; as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
}

env_cmd() {  # print the environment for a shell: eval "$(scripts/tj.sh env)"
  export_env
  echo "export TIANJIE_DB_HOST='$TIANJIE_DB_HOST' TIANJIE_DB_PORT='$TIANJIE_DB_PORT'"
  echo "export TIANJIE_REDIS_URL='$TIANJIE_REDIS_URL' TIANJIE_DATA='$TIANJIE_DATA'"
  echo "export TIANJIE_SECRET_KEY='$TIANJIE_SECRET_KEY' TIANJIE_FIELD_KEY='$TIANJIE_FIELD_KEY'"
  echo "export TIANJIE_PKI_KEY='$TIANJIE_PKI_KEY'"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  install) install_all ;;
  services) install_all; services ;;
  run) run ;;
  test) test_all "$@" ;;
  stop) stop ;;
  env) env_cmd ;;
  *) die "usage: scripts/tj.sh install|services|run|test|stop|env" ;;
esac
