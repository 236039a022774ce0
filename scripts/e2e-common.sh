# shellcheck shell=bash
# Helpers shared by scripts/e2e-caches and scripts/e2e-postgres (sourced, not run), in the style
# of scripts/e2e: fail loudly, never skip, bound every wait, stop everything started.
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
