#!/usr/bin/env bash
# Run `make run` the way a newcomer does, N times in a row, and count how often it came up.
#
# A fresh clone of this repository's HEAD goes into a new mode-700 folder under $HOME
# (as root's home is), and every command runs with PATH=/usr/sbin:/usr/bin:/sbin:/bin
# (no ~/.local/bin) and no FOLIO_* variable from the caller (its proxy and CA settings
# are kept: uv may need the network to build the project). Each round starts
# `make run` in its own process group, waits until the gateway's /healthz answers,
# sends SIGINT to that group (Ctrl-C), and checks that nothing Folio started is left:
# no process running from the clone or its server data folder, no listener on the
# clone's ports. With --test, `make test` runs in the clone afterwards.
#
# The clone's servers use their own port block (--port-base, default 22400: every
# default port moved by 22400 - 21400, the gateway on port-base + 99), so servers
# already running from another checkout on the defaults are neither hit nor stopped.
#
# Usage: scripts/newcomer-check.sh [-n N] [--test] [--keep] [--port-base PORT] [--timeout S]
set -euo pipefail

rounds=10
run_tests=false
keep=false
port_base=22400
timeout_s=900
while (($#)); do
  case "$1" in
    -n) rounds="$2"; shift 2 ;;
    --test) run_tests=true; shift ;;
    --keep) keep=true; shift ;;
    --port-base) port_base="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
parent=$(mktemp -d "$HOME/folio-newcomer.XXXXXX")  # mktemp makes it mode 700
chmod 700 "$parent"
clone="$parent/folio"
git clone --quiet "$repo" "$clone"
echo "clone: $clone (parent mode $(stat -c %a "$parent")), HEAD $(git -C "$clone" rev-parse --short HEAD)"

# Folio's default ports (21400-21490) shifted into the clone's own block.
shift_by=$((port_base - 21400))
declare -A ports=(
  [FOLIO_SERVICES_NGINX_PORT]=21400 [FOLIO_SERVICES_PROMETHEUS_PORT]=21401
  [FOLIO_SERVICES_POSTGRES_PORT]=21410 [FOLIO_SERVICES_POSTGRES_REPLICA_PORT]=21411
  [FOLIO_SERVICES_REDIS_PORT]=21420 [FOLIO_SERVICES_RABBITMQ_EPMD_PORT]=21430
  [FOLIO_SERVICES_RABBITMQ_PORT]=21431 [FOLIO_SERVICES_RABBITMQ_DIST_PORT]=21432
  [FOLIO_SERVICES_KAFKA_PORT]=21440 [FOLIO_SERVICES_SEARCH_PORT]=21451
  [FOLIO_SERVICES_OBJECT_STORE_S3_PORT]=21460 [FOLIO_SERVICES_OBJECT_STORE_MASTER_PORT]=21462
  [FOLIO_SERVICES_OBJECT_STORE_VOLUME_PORT]=21464 [FOLIO_SERVICES_OBJECT_STORE_FILER_PORT]=21466
  [FOLIO_SERVICES_REDLOCK_PORT]=21427
  [FOLIO_GRPC_USERS_PORT]=21470 [FOLIO_GRPC_USERS_METRICS_PORT]=21471
  [FOLIO_GRPC_ORDERS_PORT]=21472 [FOLIO_GRPC_ORDERS_METRICS_PORT]=21473
  [FOLIO_SERVICES_ENVOY_ADMIN_PORT]=21474 [FOLIO_GRPC_USERS_MESH_PORT]=21475
  [FOLIO_GRPC_ORDERS_MESH_PORT]=21476 [FOLIO_GRPC_ORDERS_REPLICA_PORT]=21477
  [FOLIO_GRPC_ORDERS_REPLICA_METRICS_PORT]=21478
  [FOLIO_INBOX_METRICS_PORT]=21481 [FOLIO_STREAMING_METRICS_PORT]=21482
  [FOLIO_SERVICES_SEARCH_SYNC_METRICS_PORT]=21483
  [FOLIO_FLOWS_PORT]=21485 [FOLIO_FLOWS_METRICS_PORT]=21486 [FOLIO_TRACES_PORT]=21490
  [FOLIO_MESSAGING_METRICS_PORT]=21491
)
gateway_port=$((port_base + 99))
# The caller's environment (its proxy and CA settings) without FOLIO_* or a virtualenv,
# and a PATH without ~/.local/bin, as on a machine where uv was never set up.
newcomer_env=(env)
for var in $(compgen -e); do
  [[ $var == FOLIO_* || $var == VIRTUAL_ENV || $var == UV_PROJECT_ENVIRONMENT ]] && newcomer_env+=(-u "$var")
done
newcomer_env+=("PATH=/usr/sbin:/usr/bin:/sbin:/bin" "FOLIO_GATEWAY_PORT=$gateway_port")
for name in "${!ports[@]}"; do
  newcomer_env+=("$name=$((ports[$name] + shift_by))")
done

# The clone's data folder, as its settings resolve it (known once `make sync` made .venv).
data_dir=""
resolve_data_dir() {
  [[ -n "$data_dir" || ! -x "$clone/.venv/bin/python" ]] && return 0
  data_dir=$(cd "$clone" && "${newcomer_env[@]}" .venv/bin/python -c \
    'from folio.core.settings import load_settings; print(load_settings().services.data_dir.absolute())' \
    2>/dev/null) || data_dir=""
}

# Processes started from the clone or keeping files in its data folder (this script excluded).
leftovers() {
  local pid cmd cwd
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    cmd=$(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null) || continue
    cwd=$(readlink "$proc/cwd" 2>/dev/null) || cwd=""
    for place in "$clone" ${data_dir:+"$data_dir"}; do
      if [[ $cmd == *"$place"* || $cwd == "$place" || $cwd == "$place"/* ]]; then
        echo "  pid $pid: ${cmd:0:160}"
        break
      fi
    done
  done
  for name in "${!ports[@]}"; do
    local port=$((ports[$name] + shift_by))
    if ss -Htln "sport = :$port" | grep -q .; then echo "  port $port ($name) still listening"; fi
  done
  if ss -Htln "sport = :$gateway_port" | grep -q .; then echo "  port $gateway_port (gateway) still listening"; fi
}

came_up=0
for ((round = 1; round <= rounds; round++)); do
  log="$parent/make-run-$round.log"
  (cd "$clone" && exec setsid "${newcomer_env[@]}" make run) >"$log" 2>&1 &
  make_pid=$!
  up=false
  deadline=$((SECONDS + timeout_s))
  while ((SECONDS < deadline)) && kill -0 "$make_pid" 2>/dev/null; do
    if curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$gateway_port/healthz"; then
      up=true
      break
    fi
    sleep 1
  done
  resolve_data_dir
  kill -INT -- "-$make_pid" 2>/dev/null || true  # Ctrl-C: SIGINT to make's process group
  stop_deadline=$((SECONDS + 180))
  while kill -0 "$make_pid" 2>/dev/null && ((SECONDS < stop_deadline)); do sleep 1; done
  if kill -0 "$make_pid" 2>/dev/null; then
    echo "round $round: make run did not exit within 180 s of SIGINT"
    up=false
  fi
  wait "$make_pid" 2>/dev/null || true
  left=$(leftovers)
  if [[ -n "$left" ]]; then
    echo "round $round: left running after Ctrl-C:"
    echo "$left"
    up=false
  fi
  if $up; then
    came_up=$((came_up + 1))
    echo "round $round: up, /healthz answered, Ctrl-C left nothing running"
  else
    echo "round $round: FAILED; last lines of $log:"
    tail -n 15 "$log" | sed 's/^/  /'
  fi
done
echo "make run came up $came_up/$rounds times"

status=0
((came_up == rounds)) || status=1
if $run_tests; then
  if (cd "$clone" && "${newcomer_env[@]}" make test) >"$parent/make-test.log" 2>&1; then
    echo "make test passed"
    # The suite's time and its slowest tests outlive the clone (removed below): the time budget.
    sed -n '/slowest 30 durations/,/^=.*passed/p' "$parent/make-test.log" | sed 's/^/  /'
  else
    echo "make test FAILED; see $parent/make-test.log"
    status=1
  fi
  (cd "$clone" && "${newcomer_env[@]}" make services-down) >/dev/null 2>&1 || true
fi

if $keep || ((status != 0)); then
  echo "kept: $clone${data_dir:+ and $data_dir}"
else
  rm -rf "$parent"
  [[ -n "$data_dir" && "$data_dir" != "$clone"/* ]] && rm -rf "$data_dir"
fi
exit "$status"
