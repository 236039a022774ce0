# shellcheck shell=bash
# Helpers shared by scripts/e2e, e2e-caches, e2e-postgres, e2e-redbot and e2e-static (sourced,
# not run): fail loudly, never skip, bound every wait, stop everything started.
#
# Before sourcing, set `e2e_name` (the prefix of every line printed). After sourcing, `work` is
# a fresh temporary directory, `pids` collects the processes to stop on exit, and a script may
# define `before_cleanup` (run first on exit, e.g. to stop a database cluster) and list more
# logs in `extra_logs`.

: "${e2e_name:?set e2e_name before sourcing scripts/e2e-common.sh}"

step() { printf '\n==> %s: %s\n' "$e2e_name" "$*"; }
fail() {
  printf '%s FAILED: %s\n' "$e2e_name" "$*" >&2
  exit 1
}
pass() { printf '    ok: %s\n' "$*"; }

# need_tools COMMAND:PACKAGE...: installs the packages of missing commands, then insists.
need_tools() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || fail "${pair%%:*} is still missing"
  done
}

apt_install() {
  step "installing $*"
  command -v apt-get >/dev/null 2>&1 || fail "missing $* and no apt-get to install them"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" || fail "apt-get could not install $*"
}

work=$(mktemp -d "/tmp/tower-conditional-$e2e_name.XXXXXX")
pids=()
extra_logs=()
cleanup() {
  local status=$? pid log
  if declare -F before_cleanup >/dev/null; then
    before_cleanup || true
  fi
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # Bounded: a process that ignores SIGTERM for 5 s gets SIGKILL.
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ]; then
    printf '\n---- logs (%s) ----\n' "$work" >&2
    for log in "$work"/*.log "${extra_logs[@]}"; do
      [ -f "$log" ] && { printf -- '-- %s\n' "$log" >&2; tail -n 40 "$log" >&2; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s for at most SECONDS seconds.
wait_until() {
  local seconds=$1
  shift
  local tries=$((seconds * 10))
  for _ in $(seq "$tries"); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

port_is_free() { ! ss -Htan "sport = :$1" | grep -q .; }
port_listening() { ss -Htln "sport = :$1" | grep -q .; }

# A free high port for servers that cannot take an ephemeral one (nginx, varnishd, postgres).
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 30000))
    if port_is_free "$port"; then
      echo "$port"
      return 0
    fi
  done
  fail "no free port found"
}

expect_eq() {
  local what=$1 expected=$2 actual=$3
  [ "$actual" = "$expected" ] || fail "$what: expected [$expected], got [$actual]"
  pass "$what"
}

# start_server NAME 'PATTERN' COMMAND...: starts COMMAND in the background with its output in
# $work/NAME.log, waits (10 s at most) for a line matching the sed pattern, whose first group
# is the port it listens on, and sets `port`.
start_server() {
  local name=$1 pattern=$2 log="$work/$1.log"
  shift 2
  "$@" >"$log" 2>&1 &
  pids+=("$!")
  wait_until 10 grep -q "$pattern" "$log" || fail "$name did not start"
  port=$(sed -n "s|$pattern|\\1|p" "$log" | head -n 1)
  [ -n "$port" ] || fail "$name printed no port"
}

# A header of a response saved with --dump-header, without the CR (empty when absent).
header_of() { tr -d '\r' <"$1" | sed -n "s/^$2: //Ip" | head -n 1; }

curl_quiet() { curl --silent --show-error --max-time 10 "$@"; }
# Prints the status code; the body goes to --output when given, else nowhere.
curl_status() { curl_quiet --write-out '%{http_code}' "$@"; }
curl_get() { curl_status --output /dev/null "$@"; }
# Whether URL answers at all (for wait_until).
http_up() { curl --silent --max-time 1 --output /dev/null "$1"; }
# A client that sends exactly `Accept-Encoding: gzip` and has curl decode what it gets (the
# headers saved keep the response's Content-Encoding): curl "${gzip_client[@]}" URL.
# shellcheck disable=SC2034 # for the scripts that source this file
gzip_client=(--compressed -H 'Accept-Encoding: gzip')

# curl_saved NAME CURL_ARGS...: makes the request, saves the response's header and (decoded)
# body in $work/NAME.headers and $work/NAME.body, and prints the status code.
curl_saved() {
  local name=$1
  shift
  curl_status --dump-header "$work/$name.headers" --output "$work/$name.body" "$@"
}

# expect_header NAME FIELD VALUE: the response curl_saved saved as NAME has `FIELD: VALUE` (its
# first FIELD line); an empty VALUE means no FIELD at all.
expect_header() {
  local shown=$3
  [ -n "$shown" ] || shown="no $2"
  expect_eq "$1: $2 [$shown]" "$3" "$(header_of "$work/$1.headers" "$2")"
}

# ---------------------------------------------------------------------------------------------
# examples/replica.rs
# ---------------------------------------------------------------------------------------------
# build_replica: builds examples/replica.rs (with the `axum` feature its /report handler
# needs) and sets `replica_bin`.
build_replica() {
  step "building examples/replica.rs"
  cargo build --example replica --features axum
  replica_bin=target/debug/examples/replica
  [ -x "$replica_bin" ] || fail "$replica_bin was not built"
}

# start_replica NAME: starts a replica named NAME on an ephemeral port of 127.0.0.1, logging to
# $work/NAME.log; sets `port`.
start_replica() {
  start_server "$1" '^listening on http://127.0.0.1:\([0-9]*\)$' \
    env ADDR=127.0.0.1:0 NAME="$1" "$replica_bin"
}

# statuses NAME PATH: the status lines replica NAME logged for PATH,
# "<status> inm=<yes|no> ims=<yes|no>".
statuses() { awk -v path="$2" '$3 == path { print $4, $5, $6 }' "$work/$1.log"; }

# ---------------------------------------------------------------------------------------------
# extras/examples/versioned_store.rs
# ---------------------------------------------------------------------------------------------
# build_store: builds extras/examples/versioned_store.rs (a workspace member's example, in the
# shared target/; with the `axum` feature its handlers' `Preconditions` extractor needs) and
# sets `store_bin`.
build_store() {
  step "building extras/examples/versioned_store.rs"
  cargo build -p tower-conditional-extras --example versioned_store --features axum
  store_bin=target/debug/examples/versioned_store
  [ -x "$store_bin" ] || fail "$store_bin was not built"
}

# start_store NAME [DATABASE_URL]: starts a store on an ephemeral port of 127.0.0.1 on
# DATABASE_URL (SQLite in memory without one), logging to $work/NAME.log; sets `port`.
start_store() {
  local url=()
  [ -z "${2:-}" ] || url=("DATABASE_URL=$2")
  start_server "$1" '^versioned store on http://127.0.0.1:\([0-9]*\)/items/.*$' \
    env -u DATABASE_URL ADDR=127.0.0.1:0 "${url[@]}" "$store_bin"
}

# expect_problem NAME STATUS PRECONDITION [ETAG]: the response curl_saved saved as NAME is an
# RFC 9457 problem (application/problem+json) with that status and `precondition` member and,
# given ETAG (e.g. "v2", quotes included), the `etag` member naming it.
expect_problem() {
  local name=$1 status=$2 precondition=$3 body member members
  expect_header "$name" content-type application/problem+json
  members=("\"status\":$status" "\"precondition\":\"$precondition\"")
  # The tag as a JSON string: its quotes escaped.
  [ "$#" -lt 4 ] || members+=("\"etag\":\"${4//\"/\\\"}\"")
  body=$(cat "$work/$name.body")
  for member in "${members[@]}"; do
    [[ "$body" == *"$member"* ]] || fail "$name: the problem details lack $member: $body"
  done
  pass "$name: problem details with ${members[*]}"
}

# ---------------------------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------------------------
# nginx_conf PREFIX: writes PREFIX/nginx.conf for nginx in the foreground with one worker (as
# root when run as root), its pid, error log and temporary files under PREFIX, and the
# directives read from standard input inside `http { }`.
nginx_conf() {
  local prefix=$1 user_line=""
  mkdir -p "$prefix/logs" "$prefix/temp"
  [ "$(id -u)" -eq 0 ] && user_line="user root root;"
  {
    cat <<EOF
$user_line
daemon off;
worker_processes 1;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 64; }
http {
  client_body_temp_path $prefix/temp/body;
  proxy_temp_path $prefix/temp/proxy;
  fastcgi_temp_path $prefix/temp/fastcgi;
  uwsgi_temp_path $prefix/temp/uwsgi;
  scgi_temp_path $prefix/temp/scgi;
EOF
    cat
    echo "}"
  } >"$prefix/nginx.conf"
}

# run_nginx NAME PREFIX: checks PREFIX/nginx.conf, then starts nginx with it in the background,
# its output in $work/NAME.log; its error and access logs are shown on failure.
run_nginx() {
  local name=$1 prefix=$2
  extra_logs+=("$prefix/logs/error.log" "$prefix/logs/access.log")
  nginx -t -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" >"$work/$name-test.log" 2>&1 ||
    fail "nginx rejected its configuration: $(cat "$work/$name-test.log")"
  nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}

# start_nginx_cache NAME PORT_A PORT_B: nginx as a shared cache (proxy_cache,
# proxy_cache_revalidate on) in front of 127.0.0.1:PORT_A and 127.0.0.1:PORT_B (round robin),
# with prefix $work/nginx-NAME, on a free port; sets `nginx_port`. Its access log has a line a
# request: "<uri> <status> <cache status> <upstream address> <upstream status>".
start_nginx_cache() {
  local name=$1 port_a=$2 port_b=$3 prefix="$work/nginx-$1"
  nginx_port=$(free_port)
  mkdir -p "$prefix/cache"
  nginx_conf "$prefix" <<EOF
  log_format cache '\$request_uri \$status \$upstream_cache_status \$upstream_addr \$upstream_status';
  access_log $prefix/logs/access.log cache;
  proxy_cache_path $prefix/cache keys_zone=$name:1m inactive=10m use_temp_path=off;
  upstream replicas {
    server 127.0.0.1:$port_a;
    server 127.0.0.1:$port_b;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_cache $name;
      proxy_cache_revalidate on;
      add_header X-Cache-Status \$upstream_cache_status always;
    }
  }
EOF
  run_nginx "nginx-$name" "$prefix"
  wait_until 10 port_listening "$nginx_port" || fail "nginx $name did not start"
}

# through_nginx PATH: fetches PATH through the nginx on `nginx_port`; prints
# "<cache status> <body>".
through_nginx() {
  curl_quiet --dump-header "$work/nginx-headers" "http://127.0.0.1:$nginx_port$1" >"$work/nginx-body"
  printf '%s %s' "$(header_of "$work/nginx-headers" x-cache-status)" "$(cat "$work/nginx-body")"
}

# after_expiry PATH: waits until nginx's cached copy of PATH has expired (max-age=1) and nginx
# had to ask a replica again (10 s at most); prints what through_nginx printed last.
after_expiry() {
  local got
  for _ in $(seq 40); do
    got=$(through_nginx "$1")
    [ "${got%% *}" != HIT ] && break
    sleep 0.25
  done
  echo "$got"
}

# upstream_answers NAME PATH: "<cache status> <upstream status>" of every request for PATH that
# the nginx cache NAME did not answer from its copy alone.
upstream_answers() {
  awk -v path="$2" '$1 == path && $3 != "HIT" { print $3, $5 }' "$work/nginx-$1/logs/access.log"
}

# upstreams_of NAME PATH CACHE_STATUS: the replicas that answered the requests for PATH that
# the nginx cache NAME logged with CACHE_STATUS, sorted, on one line.
upstreams_of() {
  awk -v path="$2" -v status="$3" '$1 == path && $3 == status { print $4 }' \
    "$work/nginx-$1/logs/access.log" | sort -u | tr '\n' ' '
}

# replica_addresses PORT...: 127.0.0.1:PORT of each, as upstreams_of prints them.
replica_addresses() { printf '127.0.0.1:%s\n' "$@" | sort -u | tr '\n' ' '; }
