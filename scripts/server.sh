#!/usr/bin/env bash
# A team's MLflow tracking server on this machine: PostgreSQL (Debian's package) holds runs and
# the registry, the server proxies artifacts into a folder under mlruns/, so clients need only
# HTTP. `make server` / `make server-stop` call this; the settings below come from the
# environment (the Makefile passes its variables through).
#
#   scripts/server.sh start | stop | status | install   (install: Debian's postgresql, if missing)
#
#   SERVER_PORT=5000        the tracking server's port
#   SERVER_HOST=127.0.0.1   the interface it listens on (0.0.0.0: the network; use AUTH=1 and
#                           a TLS proxy in front, and MLflow's --allowed-hosts via MLFLOW_ARGS)
#   MLFLOW_ARGS=            more `mlflow server` options, as one string
#   SERVER_WORKERS=4        uvicorn workers
#   SERVER_DIR=mlruns/server   pid, log, database password file (0600) and artifacts
#   ARTIFACTS=$SERVER_DIR/artifacts   --artifacts-destination
#   DB_NAME=ebm_study       database (and role) for runs; auth uses ${DB_NAME}_auth
#   PG_CLUSTER=             Debian cluster as "15/main"; default: the first pg_lsclusters lists
#   BACKEND_STORE_URI=      use this database instead of a local cluster (no PostgreSQL set-up)
#   AUTH=1                  MLflow's basic-auth app; needs MLFLOW_FLASK_SERVER_SECRET_KEY and
#                           MLFLOW_AUTH_ADMIN_PASSWORD (MLFLOW_AUTH_ADMIN_USERNAME, default admin)
#   AUTH_DEFAULT_PERMISSION=READ  what a login may do where nobody granted it more (MLflow's)
#   AUTH_CACHE_TTL=60       seconds a checked login is trusted by a server worker
#   DROP_DB=1               with stop: drop the database(s) and role too (tests use it)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SERVER_PORT="${SERVER_PORT:-5000}"
SERVER_HOST="${SERVER_HOST:-127.0.0.1}"
SERVER_WORKERS="${SERVER_WORKERS:-4}"
SERVER_DIR="$(mkdir -p "${SERVER_DIR:-$ROOT/mlruns/server}" && cd "${SERVER_DIR:-$ROOT/mlruns/server}" && pwd)"
ARTIFACTS="${ARTIFACTS:-$SERVER_DIR/artifacts}"
DB_NAME="${DB_NAME:-ebm_study}"
AUTH="${AUTH:-0}"
MLFLOW="${MLFLOW:-$ROOT/.venv/bin/mlflow}"
PID_FILE="$SERVER_DIR/mlflow.pid"
LOG_FILE="$SERVER_DIR/mlflow.log"
PGPASSFILE="$SERVER_DIR/pgpass"
STARTED_PG="$SERVER_DIR/postgres-started"   # the cluster this script started, to stop it again
export PGPASSFILE

die() { echo "server.sh: error: $*" >&2; exit 1; }
say() { echo "server.sh: $*"; }

if [[ ! "$DB_NAME" =~ ^[a-z_][a-z0-9_]*$ ]]; then
  die "DB_NAME=$DB_NAME must be lower-case letters, digits and _ (a PostgreSQL identifier)"
fi
if [[ ! "$SERVER_PORT" =~ ^[0-9]+$ ]] || (( SERVER_PORT < 1 || SERVER_PORT > 65535 )); then
  die "SERVER_PORT=$SERVER_PORT must be a port number (1-65535)"
fi

# Root runs PostgreSQL's tools as the postgres user directly; anyone else goes through sudo.
as_root() { if (( EUID == 0 )); then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if (( EUID == 0 )); then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -u postgres "$@"); fi
}
need_privileges() {
  (( EUID == 0 )) || command -v sudo >/dev/null ||
    die "setting up PostgreSQL needs root or sudo; or set BACKEND_STORE_URI to an existing database"
}

install_postgres() {
  command -v pg_lsclusters >/dev/null && return
  need_privileges
  command -v apt-get >/dev/null ||
    die "no pg_lsclusters and no apt-get: install PostgreSQL, or set BACKEND_STORE_URI"
  say "installing Debian's postgresql package"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# Sets PG_VERSION, PG_NAME, PG_PORT, PG_STATUS for the chosen cluster; creates one if none exists.
find_cluster() {
  local line
  if [[ -n "${PG_CLUSTER:-}" ]]; then
    line="$(pg_lsclusters -h | awk -v v="${PG_CLUSTER%/*}" -v n="${PG_CLUSTER#*/}" '$1==v && $2==n')"
    [[ -n "$line" ]] || die "PG_CLUSTER=$PG_CLUSTER is not a cluster; pg_lsclusters lists: $(pg_lsclusters -h | awk '{printf "%s/%s ", $1, $2}')"
  else
    line="$(pg_lsclusters -h | head -n 1)"
    if [[ -z "$line" ]]; then
      need_privileges
      local version
      version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
      say "creating PostgreSQL cluster $version/main"
      as_root pg_createcluster "$version" main >/dev/null
      line="$(pg_lsclusters -h | head -n 1)"
    fi
  fi
  read -r PG_VERSION PG_NAME PG_PORT PG_STATUS _ <<<"$line"
}

start_postgres() {
  install_postgres
  find_cluster
  if [[ "$PG_STATUS" != online* ]]; then
    need_privileges
    say "starting PostgreSQL $PG_VERSION/$PG_NAME on port $PG_PORT"
    as_root pg_ctlcluster "$PG_VERSION" "$PG_NAME" start
    echo "$PG_VERSION $PG_NAME" > "$STARTED_PG"
  fi
  for _ in $(seq 50); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && return
    sleep 0.2
  done
  die "PostgreSQL $PG_VERSION/$PG_NAME does not accept connections on 127.0.0.1:$PG_PORT"
}

psql_admin() { as_postgres psql -p "$PG_PORT" -X -q -v ON_ERROR_STOP=1 "$@"; }

# The role's password is generated here and kept only in $PGPASSFILE (0600), which libpq reads:
# it is never on a command line or in the repo.
ensure_database() {
  local password db
  # Runs in the database and files in the artifact folder belong together: a second checkout
  # (another folder) must not serve this database with an empty artifact folder.
  local owner
  owner="$(psql_admin -At -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database
    WHERE datname = '$DB_NAME'")"
  if [[ -n "$owner" && "$owner" != "ebm-study artifacts: $ARTIFACTS" ]]; then
    die "database $DB_NAME goes with the artifacts in ${owner#ebm-study artifacts: }, not $ARTIFACTS; start the server from there, or choose another DB_NAME for a new server"
  fi
  if [[ -s "$PGPASSFILE" ]]; then
    password="$(head -n 1 "$PGPASSFILE" | cut -d: -f5)"
  else
    password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  fi
  (umask 077 && : > "$PGPASSFILE")
  for db in "$DB_NAME" "${DB_NAME}_auth" "${DB_NAME}_search"; do
    echo "127.0.0.1:$PG_PORT:$db:$DB_NAME:$password" >> "$PGPASSFILE"
  done
  if [[ -z "$(psql_admin -At -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_NAME'")" ]]; then
    psql_admin -c "CREATE ROLE $DB_NAME LOGIN"
  fi
  psql_admin <<<"ALTER ROLE $DB_NAME PASSWORD '$password';"
  # _search: the Optuna studies of `hydra/sweeper=stability_search` (tracking.search_storage).
  for db in "$DB_NAME" "${DB_NAME}_auth" "${DB_NAME}_search"; do
    if [[ -z "$(psql_admin -At -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
      say "creating database $db"
      as_postgres createdb -p "$PG_PORT" -O "$DB_NAME" "$db"
      psql_admin -c "COMMENT ON DATABASE $db IS 'ebm-study artifacts: $ARTIFACTS'"
    fi
  done
}

drop_database() {
  find_cluster
  [[ "$PG_STATUS" == online* ]] || return 0
  local db
  for db in "$DB_NAME" "${DB_NAME}_auth" "${DB_NAME}_search"; do
    psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  done
  psql_admin -c "DROP ROLE IF EXISTS $DB_NAME"
  rm -f "$PGPASSFILE"
  say "dropped database $DB_NAME and its role"
}

server_pid() {
  [[ -s "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && cat "$PID_FILE"
}

url() {
  local host="$SERVER_HOST"
  [[ "$host" == 0.0.0.0 || "$host" == "::" ]] && host=127.0.0.1
  echo "http://$host:$SERVER_PORT"
}

start() {
  [[ -x "$MLFLOW" ]] || die "no $MLFLOW: run 'make setup' first"
  if pid="$(server_pid)"; then
    say "already running (pid $pid) at $(url)"
    return
  fi
  if (echo > "/dev/tcp/${SERVER_HOST/0.0.0.0/127.0.0.1}/$SERVER_PORT") 2>/dev/null; then
    die "port $SERVER_PORT is taken by another program; choose another: make server SERVER_PORT=5050"
  fi
  local store auth_args=()
  if [[ -n "${BACKEND_STORE_URI:-}" ]]; then
    store="$BACKEND_STORE_URI"
  else
    start_postgres
    ensure_database
    store="postgresql://$DB_NAME@127.0.0.1:$PG_PORT/$DB_NAME"
  fi
  if [[ "$AUTH" == 1 ]]; then
    [[ -n "${MLFLOW_FLASK_SERVER_SECRET_KEY:-}" ]] ||
      die "AUTH=1 needs MLFLOW_FLASK_SERVER_SECRET_KEY in the environment (any long random string)"
    [[ -n "${MLFLOW_AUTH_ADMIN_PASSWORD:-}" ]] ||
      die "AUTH=1 needs MLFLOW_AUTH_ADMIN_PASSWORD in the environment (the admin user's password)"
    (( ${#MLFLOW_AUTH_ADMIN_PASSWORD} >= 12 )) ||
      die "MLFLOW_AUTH_ADMIN_PASSWORD has ${#MLFLOW_AUTH_ADMIN_PASSWORD} characters; MLflow wants at least 12"
    local auth_db="${AUTH_DATABASE_URI:-postgresql://$DB_NAME@127.0.0.1:${PG_PORT:-5432}/${DB_NAME}_auth}"
    # No secrets in this file: the admin password and the secret key stay in the environment.
    cat > "$SERVER_DIR/basic_auth.ini" <<INI
[mlflow]
default_permission = ${AUTH_DEFAULT_PERMISSION:-READ}
database_uri = $auth_db
admin_username = ${MLFLOW_AUTH_ADMIN_USERNAME:-admin}
authorization_function = mlflow.server.auth:authenticate_request_basic_auth
# Without a cache every request re-hashes the password (PBKDF2): a sweep makes hundreds. With
# it, a changed password or deleted user may still pass on another worker for this long.
auth_cache_ttl_seconds = ${AUTH_CACHE_TTL:-60}
INI
    export MLFLOW_AUTH_CONFIG_PATH="$SERVER_DIR/basic_auth.ini"
    auth_args=(--app-name basic-auth)
  fi
  mkdir -p "$ARTIFACTS"
  # Its own session, so stop can end the server and its workers as one process group.
  setsid "$MLFLOW" server \
    --backend-store-uri "$store" \
    --serve-artifacts --artifacts-destination "$ARTIFACTS" \
    --host "$SERVER_HOST" --port "$SERVER_PORT" --workers "$SERVER_WORKERS" \
    "${auth_args[@]}" ${MLFLOW_ARGS:-} > "$LOG_FILE" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  for _ in $(seq 240); do
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      tail -n 20 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      die "the tracking server exited at start; its log is $LOG_FILE"
    fi
    if "$(dirname "$MLFLOW")/python" - "$(url)/health" 2>/dev/null <<'PY'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2)
PY
    then
      say "tracking server at $(url) (store: ${store%%\?*}, artifacts: $ARTIFACTS$([[ $AUTH == 1 ]] && echo ', basic auth'))"
      say "use it with: MLFLOW_TRACKING_URI=$(url) ebm-study ...   or   ebm-study tracking=server ..."
      if [[ -z "${BACKEND_STORE_URI:-}" ]]; then
        # libpq reads the password from PGPASSFILE; another machine needs it in the URL.
        say "stability searches keep their Optuna study in PostgreSQL too: export PGPASSFILE=$PGPASSFILE EBM_STUDY_SEARCH_STORAGE=postgresql+psycopg://$DB_NAME@127.0.0.1:$PG_PORT/${DB_NAME}_search"
      fi
      # The study's runs list in the model-training view (the UI's default is the GenAI
      # overview); with logins, as the admin unless a user is given.
      MLFLOW_TRACKING_USERNAME="${MLFLOW_TRACKING_USERNAME:-${MLFLOW_AUTH_ADMIN_USERNAME:-admin}}" \
        MLFLOW_TRACKING_PASSWORD="${MLFLOW_TRACKING_PASSWORD:-${MLFLOW_AUTH_ADMIN_PASSWORD:-}}" \
        "$(dirname "$MLFLOW")/python" -m ebm_study.commands.ui --base "$(url)" --tracking-uri "$(url)" \
        2>/dev/null | sed 's/^/server.sh: /' || true
      return
    fi
    sleep 0.5
  done
  stop
  die "the tracking server did not answer on $(url) within 2 minutes; its log is $LOG_FILE"
}

stop() {
  local pid
  if pid="$(server_pid)"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    say "stopped the tracking server (pid $pid)"
  fi
  rm -f "$PID_FILE"
  if [[ -z "${BACKEND_STORE_URI:-}" ]] && command -v pg_lsclusters >/dev/null; then
    [[ "${DROP_DB:-0}" == 1 ]] && drop_database
    if [[ -s "$STARTED_PG" ]]; then
      read -r version name < "$STARTED_PG"
      find_cluster
      local others=0
      if [[ "$PG_STATUS" == online* ]]; then
        others="$(psql_admin -At -c "SELECT count(*) FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")"
      fi
      if (( others > 0 )); then
        say "PostgreSQL $version/$name left running: $others other connections use it"
        return
      fi
      as_root pg_ctlcluster "$version" "$name" stop
      say "stopped PostgreSQL $version/$name (this script had started it)"
      rm -f "$STARTED_PG"
    fi
  fi
}

status() {
  if pid="$(server_pid)"; then say "running (pid $pid) at $(url)"; else say "not running"; exit 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  install) install_postgres ;;
  *) die "usage: scripts/server.sh start|stop|status|install (got '${1:-}')" ;;
esac
