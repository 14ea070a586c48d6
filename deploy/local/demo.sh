#!/usr/bin/env bash
# The demo: builds everything, starts a local PostgreSQL + nats-server, the ingester (and, when it
# is built, the evaluator with a local webhook sink receiving its deliveries), feeds synthetic
# readings with ste-loadgen and prints live status.
#
#   deploy/local/demo.sh                     # run until Ctrl-C
#   deploy/local/demo.sh --duration 60       # run for 60 seconds, then stop by itself
#   deploy/local/demo.sh --rate 5000         # readings per second sent (default: $DEMO_RATE or 2000)
#
# Run as root on Debian 12 from the checkout (installs missing packages). On exit (end of the
# duration, Ctrl-C or SIGTERM) it stops everything it started: loadgen, evaluator, webhook sink,
# ingester (which flushes on SIGTERM) and the PostgreSQL + nats-server stack. Re-running is safe:
# the tenant, its rules, the webhook secrets and the state directory are reused.
#
# State: STE_STATE_DIR (default <repo>/.state); logs in <state>/logs; the demo tenant's API key,
# shown once at creation, is kept in <state>/demo-api-key; the sink's Workflow Engine secret and
# Notification Hub key in <state>/demo-webhook-secret and <state>/demo-hub-key. Ports: STE_PG_PORT,
# STE_NATS_PORT (see stack.sh), DEMO_INGESTER_ADDR (127.0.0.1:9101), DEMO_EVALUATOR_ADDR
# (127.0.0.1:8080), DEMO_WEBHOOK_SINK_ADDR (127.0.0.1:8099).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
readonly REPO
STATE="$(realpath -m "${STE_STATE_DIR:-$REPO/.state}")" # the same rule as stack.sh
readonly STATE
readonly STACK="$REPO/deploy/local/stack.sh"
readonly BUILD="$REPO/build/release"
readonly INGESTER="$BUILD/ingester/ste-ingester"
readonly EVALUATOR="$BUILD/evaluator/ste-evaluator"
readonly ADMIN="$BUILD/admin/ste-admin"
readonly LOADGEN="$BUILD/bench/ste-loadgen"
readonly SINK="$BUILD/bench/ste-webhook-sink"
readonly LOGS="$STATE/logs"
readonly KEY_FILE="$STATE/demo-api-key"
readonly WEBHOOK_SECRET_FILE="$STATE/demo-webhook-secret" # the sink's Workflow Engine secret
readonly HUB_KEY_FILE="$STATE/demo-hub-key"               # the sink's Notification Hub key
readonly PID_FILE="$STATE/demo.pids"             # processes of a running (or crashed) demo
readonly STACK_OWNED="$STATE/demo-started-stack" # the stack was started by a demo
readonly INGESTER_ADDR="${DEMO_INGESTER_ADDR:-127.0.0.1:9101}"
readonly EVALUATOR_ADDR="${DEMO_EVALUATOR_ADDR:-127.0.0.1:8080}"
readonly SINK_ADDR="${DEMO_WEBHOOK_SINK_ADDR:-127.0.0.1:8099}"
readonly SINK_FAIL_EVERY=4 # the sink answers 503 to every 4th request, so retries show
readonly TENANT=demo
readonly TICK=2

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

log() { printf 'demo: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

duration=0 # 0 = until Ctrl-C
rate="${DEMO_RATE:-2000}"
while (($# > 0)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --duration | --rate)
      (($# >= 2)) || die "$1 needs a value (see --help)"
      if [[ "$1" == --duration ]]; then duration="$2"; else rate="$2"; fi
      shift 2
      ;;
    --duration=*) duration="${1#*=}" && shift ;;
    --rate=*) rate="${1#*=}" && shift ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ ]] || die "--duration must be a whole number of seconds, not '$duration'"
[[ "$rate" =~ ^[0-9]+$ && "$rate" -gt 0 ]] || die "--rate must be a positive integer, not '$rate'"
duration=$((10#$duration))
rate=$((10#$rate))

# ----------------------------------------------------------------------------------------------
# Helpers

declare -A PIDS=()    # name -> pid of what this run started
declare -A EXITED=()  # name -> exit status once reaped
stack_started=0       # this run (or a crashed earlier demo) owns the stack: stop it at the end
rows_before=""
alerts_before=""
final_metrics=""
sink_stats=""

psql_q() { psql -X -qtA -v ON_ERROR_STOP=1 -F $'\t' "$STE_DATABASE_URL" -c "$1"; }

# A live (not zombie) process.
alive() {
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ "$stat" != Z* ]]
}

port_in_use() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

metrics() { curl -fsS -m 2 "http://$INGESTER_ADDR/metrics" 2>/dev/null || true; }

# metric_value NAME TEXT: the sum of every sample of NAME (any labels), as an integer.
metric_value() {
  awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%.0f", s }' <<<"$2"
}

# start_bg NAME LOGFILE HTTP_ADDR CMD...: runs CMD in its own session (so a terminal Ctrl-C reaches
# only this script, which then stops everything in order) with stdout and stderr in LOGFILE and
# STE_HTTP_ADDR=HTTP_ADDR unless that is empty. The recorded pid is CMD's own (exec all the way).
start_bg() {
  local name="$1" logf="$2" addr="$3"
  shift 3
  (
    if [[ -n "$addr" ]]; then export STE_HTTP_ADDR="$addr"; fi
    exec setsid "$@" </dev/null >"$logf" 2>&1
  ) &
  PIDS[$name]=$!
  printf '%s %s %s\n' "$name" "$!" "$1" >>"$PID_FILE"
}

# stop_proc NAME GRACE_SECONDS: SIGTERM, wait, SIGKILL after the grace period; records the status.
stop_proc() {
  local name="$1" grace="$2" pid="${PIDS[$1]:-}"
  [[ -n "$pid" ]] || return 0
  if alive "$pid"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
  fi
  local deadline=$((SECONDS + grace)) killed=0
  while alive "$pid"; do
    if ((SECONDS >= deadline && !killed)); then
      log "$name did not exit ${grace}s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      killed=1
    fi
    sleep 0.1
  done
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  EXITED[$name]=$rc
  unset "PIDS[$name]"
}

# Processes left by a demo that was killed without cleaning up (kill -9, lost terminal).
stop_stale() {
  [[ -f "$PID_FILE" ]] || return 0
  local name pid exe
  while read -r name pid exe; do
    if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! alive "$pid"; then continue; fi
    # " (deleted)": the binary was rebuilt since that demo started it.
    local running
    running="$(readlink "/proc/$pid/exe" 2>/dev/null)" || continue
    [[ "${running% (deleted)}" == "$exe" ]] || continue
    log "stopping $name left running by an earlier demo (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done <"$PID_FILE"
  rm -f "$PID_FILE"
}

# wait_ready NAME ADDR LOGFILE [PATH]: until GET PATH (default /readyz) answers 200; fails with
# the log's tail.
wait_ready() {
  local name="$1" addr="$2" logf="$3" path="${4:-/readyz}" pid="${PIDS[$1]}"
  local deadline=$((SECONDS + 60))
  until curl -fsS -o /dev/null -m 2 "http://$addr$path" 2>/dev/null; do
    if ! alive "$pid"; then
      tail -n 30 "$logf" >&2 || true
      die "$name exited during startup (log: $logf)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$logf" >&2 || true
      die "$name not ready on http://$addr$path after 60 s (log: $logf)"
    fi
    sleep 0.2
  done
  log "$name ready on http://$addr (pid $pid, log $logf)"
}

# Every service we started must still run; otherwise show why and stop the demo.
check_services() {
  local name
  for name in ingester webhook-sink evaluator; do
    [[ -n "${PIDS[$name]:-}" ]] || continue
    if ! alive "${PIDS[$name]}"; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name exited unexpectedly (log: $LOGS/$name.log)"
    fi
  done
}

have_evaluator() { [[ -n "${PIDS[evaluator]:-}" ]]; }

# Deliveries by status, tab-separated: delivered, pending, failed (all runs).
readonly DELIVERIES_SQL="SELECT count(*) FILTER (WHERE status = 'delivered'),
    count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed')
  FROM deliveries"

# demo_secret FILE: a random secret (64 hex characters) made once and kept in FILE (mode 600).
demo_secret() {
  if [[ ! -s "$1" ]]; then
    (
      umask 077
      od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$1"
    )
  fi
  chmod 600 "$1"
  local secret
  secret="$(<"$1")"
  [[ "$secret" =~ ^[0-9a-f]{64}$ ]] || die "$1 does not hold a demo secret (64 hex characters); delete it to make a new one"
  printf '%s' "$secret"
}

# One status line. $1 = seconds since the load started.
prev_stored=""
prev_time=""
status_line() {
  local m stored rejected now per_s="-" rows alerts="" deliveries="" latest="" line
  m="$(metrics)"
  stored="$(metric_value ste_ingest_readings_stored_total "$m")"
  rejected="$(metric_value ste_ingest_rejected_total "$m")"
  now="$EPOCHREALTIME"
  if [[ -n "$prev_stored" && -n "$m" ]]; then
    per_s="$(awk -v a="$prev_stored" -v b="$stored" -v t0="$prev_time" -v t1="$now" \
      'BEGIN { d = t1 - t0; printf "%.0f", (d > 0 ? (b - a) / d : 0) }')"
  fi
  if [[ -n "$m" ]]; then
    prev_stored="$stored"
    prev_time="$now"
  else
    stored="?" rejected="?"
  fi
  if have_evaluator; then
    local delivered pending failed
    IFS=$'\t' read -r rows alerts delivered pending failed latest < <(psql_q "SELECT
        (SELECT count(*) FROM readings), (SELECT count(*) FROM alerts), d.*,
        (SELECT left(message, 70) FROM alerts ORDER BY created_at DESC, id DESC LIMIT 1)
      FROM ($DELIVERIES_SQL) AS d" 2>/dev/null || printf '?\t?\t?\t?\t?\t\n')
    deliveries="$delivered/$pending/$failed"
  else
    rows="$(psql_q 'SELECT count(*) FROM readings' 2>/dev/null || echo '?')"
  fi
  printf -v line '%6ss  %9s  %12s  %9s' "$1" "$per_s" "$rows" "$rejected"
  if have_evaluator; then
    printf -v line '%s  %7s  %18s  %s' "$line" "$alerts" "$deliveries" "${latest:--}"
  fi
  printf '%s\n' "$line"
}

status_header() {
  local line
  printf -v line '%7s  %9s  %12s  %9s' time stored/s "rows stored" rejected
  if have_evaluator; then
    printf -v line '%s  %7s  %18s  %s' "$line" alerts "deliv ok/pend/fail" "latest alert"
  fi
  printf '%s\n' "$line"
}

# After a timed run: let the loadgen finish and the ingester catch up (JetStream consumer empty,
# nothing buffered or in flight), so the final numbers add up. Bounded; never needed for safety.
drain() {
  local pid="${PIDS[loadgen]:-}" deadline=$((SECONDS + 20))
  if [[ -n "$pid" ]]; then
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  fi
  [[ -n "${PIDS[ingester]:-}" ]] || return 0
  deadline=$((SECONDS + 15))
  local m
  while ((SECONDS < deadline)); do
    m="$(metrics)"
    [[ -n "$m" ]] || return 0
    if (($(metric_value ste_ingest_consumer_pending "$m") == 0 &&
      $(metric_value ste_ingest_buffered_readings "$m") == 0 &&
      $(metric_value ste_ingest_inflight_readings "$m") == 0)); then
      return 0
    fi
    sleep 0.5
  done
  # Then let the evaluator deliver what is due (retries of the sink's 503s come within seconds).
  [[ -n "${PIDS[evaluator]:-}" ]] || return 0
  deadline=$((SECONDS + 15))
  local pending
  while ((SECONDS < deadline)); do
    pending="$(psql_q "SELECT count(*) FROM deliveries WHERE status = 'pending'
      AND next_attempt_at < now() + interval '10 seconds'" 2>/dev/null)" || return 0
    ((pending == 0)) && return 0
    sleep 0.5
  done
}

final_summary() {
  local rows="?" alerts="?" loadgen_json published="?" rejected="?"
  [[ -z "$final_metrics" ]] || rejected="$(metric_value ste_ingest_rejected_total "$final_metrics")"
  if [[ -n "${STE_DATABASE_URL:-}" ]] && [[ -n "$rows_before" ]]; then
    rows="$(psql_q 'SELECT count(*) FROM readings' 2>/dev/null || echo '?')"
    if [[ -n "$alerts_before" ]]; then
      alerts="$(psql_q 'SELECT count(*) FROM alerts' 2>/dev/null || echo '?')"
    fi
  fi
  if [[ -f "$LOGS/loadgen.log" ]]; then
    loadgen_json="$(grep '^{"published"' "$LOGS/loadgen.log" | tail -n 1 || true)"
    if [[ -n "$loadgen_json" ]]; then
      published="$(jq -r '.published' <<<"$loadgen_json" 2>/dev/null || echo '?')"
    fi
  fi
  printf '\n== demo summary ==\n'
  printf '  readings published by loadgen (acked by JetStream): %s\n' "$published"
  if [[ "$rows" =~ ^[0-9]+$ && "$rows_before" =~ ^[0-9]+$ ]]; then
    printf '  rows in readings: %s (+%s this run)\n' "$rows" "$((rows - rows_before))"
  else
    printf '  rows in readings: %s\n' "$rows"
  fi
  printf '  rejected (this run): %s\n' "$rejected"
  if [[ -n "$alerts_before" ]]; then
    if [[ "$alerts" =~ ^[0-9]+$ && "$alerts_before" =~ ^[0-9]+$ ]]; then
      printf '  alerts: %s (+%s this run)\n' "$alerts" "$((alerts - alerts_before))"
    else
      printf '  alerts: %s\n' "$alerts"
    fi
  else
    printf '  alerts: - (ste-evaluator not built)\n'
  fi
  local name
  for name in loadgen evaluator webhook-sink ingester; do
    if [[ -n "${EXITED[$name]:-}" && "${EXITED[$name]}" != 0 ]]; then
      printf '  %s exited with status %s (log: %s)\n' "$name" "${EXITED[$name]}" "$LOGS/$name.log"
    fi
  done
  if [[ -n "$alerts_before" && -n "${STE_DATABASE_URL:-}" ]]; then
    local delivered="?" pending="?" failed="?"
    IFS=$'\t' read -r delivered pending failed < <(psql_q "$DELIVERIES_SQL" 2>/dev/null ||
      printf '?\t?\t?\n')
    printf '  deliveries (all runs): %s delivered, %s pending, %s failed\n' \
      "$delivered" "$pending" "$failed"
  fi
  if [[ -n "$sink_stats" ]]; then
    printf '  webhook sink (this run): %s requests, %s valid signatures, %s rejected, every %sth answered 503\n' \
      "$(jq -r .received <<<"$sink_stats")" "$(jq -r .valid_signatures <<<"$sink_stats")" \
      "$(jq -r .rejected <<<"$sink_stats")" "$SINK_FAIL_EVERY"
    printf '  deliveries as received: %s\n' "$LOGS/webhook-sink.log"
  fi
  printf '  logs: %s\n' "$LOGS"
}

cleanup() {
  local rc=$?
  trap - EXIT
  # A second Ctrl-C must not cut the orderly shutdown short.
  trap 'log "stopping, please wait"' INT TERM
  if ((rc == 0)); then drain; fi
  stop_proc loadgen 15
  stop_proc evaluator 30
  if [[ -n "${PIDS[webhook-sink]:-}" ]]; then
    sink_stats="$(curl -fsS -m 2 "http://$SINK_ADDR/stats" 2>/dev/null || true)"
  fi
  stop_proc webhook-sink 10
  final_metrics="$(metrics)"
  stop_proc ingester 60 # flushes its buffer and acks on SIGTERM
  rm -f "$PID_FILE"
  if [[ -n "$rows_before" ]]; then final_summary; fi
  if ((stack_started)); then
    "$STACK" stop || rc=1
    rm -f "$STACK_OWNED"
  elif [[ -n "$rows_before" ]]; then
    log "the stack was already running before the demo; leaving it running ($STACK stop)"
  fi
  exit "$rc"
}

# ----------------------------------------------------------------------------------------------
# 1. Dependencies and build

bash "$REPO/deploy/local/install-deps.sh"
cd "$REPO"
stop_stale # before the build replaces the binaries they run
log "building (cmake --preset release; incremental when already built)"
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
for bin in "$INGESTER" "$ADMIN" "$LOADGEN" "$SINK"; do
  [[ -x "$bin" ]] || die "$bin was not built"
done
with_evaluator=0
if [[ -x "$EVALUATOR" ]]; then with_evaluator=1; else log "no $EVALUATOR yet: running without alerting"; fi

# ----------------------------------------------------------------------------------------------
# 2. Stack

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$STATE" "$LOGS"
if "$STACK" status >/dev/null 2>&1 && [[ ! -f "$STACK_OWNED" ]]; then
  log "PostgreSQL and nats-server already running (started outside the demo)"
else
  stack_started=1
  touch "$STACK_OWNED"
  "$STACK" start >/dev/null
fi
eval "$("$STACK" env)"

addrs=("$INGESTER_ADDR")
if ((with_evaluator)); then addrs+=("$EVALUATOR_ADDR" "$SINK_ADDR"); fi
for addr in "${addrs[@]}"; do
  if port_in_use "$addr"; then
    die "$addr is already in use (another ste-ingester/ste-evaluator/ste-webhook-sink?); stop it or set DEMO_INGESTER_ADDR / DEMO_EVALUATOR_ADDR / DEMO_WEBHOOK_SINK_ADDR"
  fi
done

# ----------------------------------------------------------------------------------------------
# 3. Schema and tenant

"$ADMIN" migrate 2>>"$LOGS/admin.log" || {
  tail -n 20 "$LOGS/admin.log" >&2
  die "ste-admin migrate failed"
}
if [[ "$(psql_q "SELECT 1 FROM tenants WHERE slug = '$TENANT'")" == 1 ]]; then
  if [[ -s "$KEY_FILE" ]]; then
    log "tenant '$TENANT' exists; its API key: $(jq -r .api_key "$KEY_FILE" 2>/dev/null || cat "$KEY_FILE") (from $KEY_FILE)"
  else
    log "tenant '$TENANT' exists (created outside the demo: its API key is not known here)"
  fi
else
  created="$("$ADMIN" tenant create "$TENANT" 2>>"$LOGS/admin.log")" || {
    tail -n 20 "$LOGS/admin.log" >&2
    die "ste-admin tenant create $TENANT failed"
  }
  (
    umask 077
    printf '%s\n' "$created" >"$KEY_FILE"
  )
  chmod 600 "$KEY_FILE"
  log "created tenant '$TENANT'; API key (shown once, saved in $KEY_FILE): $(jq -r .api_key <<<"$created")"
fi
rows_before="$(psql_q 'SELECT count(*) FROM readings')"

# ----------------------------------------------------------------------------------------------
# 4. Services

start_bg ingester "$LOGS/ingester.log" "$INGESTER_ADDR" "$INGESTER"
wait_ready ingester "$INGESTER_ADDR" "$LOGS/ingester.log"

if ((with_evaluator)); then
  if [[ "$(psql_q "SELECT to_regclass('public.alert_rules') IS NOT NULL")" == t ]]; then
    inserted="$(psql_q "WITH t AS (SELECT id FROM tenants WHERE slug = '$TENANT'), ins AS (
        INSERT INTO alert_rules (tenant_id, name, metric, device_key, condition, threshold,
                                 window_minutes, cooldown_minutes, severity, enabled)
        SELECT t.id, v.name, 'temperature', NULL, v.condition, v.threshold, v.window_minutes, 1,
               v.severity, true
        FROM t, (VALUES ('temperature above 80', 'above_threshold', 80.0, 60, 'critical'),
                        ('temperature deviates from its 30 min mean', 'deviation_from_mean', 3.0,
                         30, 'warning'))
                AS v (name, condition, threshold, window_minutes, severity)
        WHERE NOT EXISTS (SELECT 1 FROM alert_rules r WHERE r.tenant_id = t.id)
        RETURNING 1)
      SELECT count(*) FROM ins")"
    if ((inserted > 0)); then
      log "created $inserted demo alert rules (temperature > 80; 3 sigma deviation over 30 min)"
    else
      log "tenant '$TENANT' already has alert rules; keeping them"
    fi
  else
    log "no alert_rules table in the schema: no demo rules created"
  fi
  # The evaluator's webhook targets: a local sink checking the signature and the key, failing
  # every 4th request with 503 so retries show. The secrets are made once and kept in the state.
  webhook_secret="$(demo_secret "$WEBHOOK_SECRET_FILE")"
  hub_key="$(demo_secret "$HUB_KEY_FILE")"
  # Secrets travel in the environment, not on the command line where `ps` shows them.
  STE_WEBHOOK_SINK_SECRET="$webhook_secret" STE_WEBHOOK_SINK_API_KEY="$hub_key" \
    start_bg webhook-sink "$LOGS/webhook-sink.log" "" "$SINK" --listen "$SINK_ADDR" \
    --fail-every "$SINK_FAIL_EVERY"
  wait_ready webhook-sink "$SINK_ADDR" "$LOGS/webhook-sink.log" /stats
  STE_WORKFLOW_ENGINE_URL="http://$SINK_ADDR/workflow" \
    STE_WORKFLOW_ENGINE_SECRET="$webhook_secret" \
    STE_NOTIFICATION_HUB_URL="http://$SINK_ADDR/hub" \
    STE_NOTIFICATION_HUB_API_KEY="$hub_key" \
    start_bg evaluator "$LOGS/evaluator.log" "$EVALUATOR_ADDR" "$EVALUATOR"
  wait_ready evaluator "$EVALUATOR_ADDR" "$LOGS/evaluator.log"
  log "deliveries go to the webhook sink (every ${SINK_FAIL_EVERY}th request answered 503, then retried); watch them: tail -f $LOGS/webhook-sink.log | jq ."
  alerts_before="$(psql_q 'SELECT count(*) FROM alerts')"
fi

# ----------------------------------------------------------------------------------------------
# 5. Load

# Without --duration the load runs until the demo is stopped (a year is "forever" here).
load_duration=$((duration > 0 ? duration : 31536000))
# Metric order matters: with --batch 10 and 2 metrics, reading number 5010k-1 (the spike) is always
# a device's 2nd metric, so temperature must come second for the spikes to hit it (and fire the
# "temperature above 80" rule). 5010 readings = 501 messages, so successive spikes hit successive
# devices (dev-0000, dev-0001, ...): each fires its own alert (the cooldown is per device), which
# gives the webhook sink enough deliveries for its 503s and the retries to show.
readonly SPIKE_EVERY=5010
start_bg loadgen "$LOGS/loadgen.log" "" "$LOADGEN" --tenant "$TENANT" --devices 20 \
  --metric-names humidity,temperature --rate "$rate" --duration "$load_duration" --batch 10 \
  --spike-every "$SPIKE_EVERY" --spike-value 120
log "ste-loadgen: $rate readings/s from 20 devices (humidity, temperature), a temperature spike to 120 every $SPIKE_EVERY readings, on the next device each time (log $LOGS/loadgen.log)"
if ((with_evaluator)); then
  # The operator page (docs/ALERTING.md §8), served by the evaluator; sign in with the demo key.
  demo_key=""
  if [[ -s "$KEY_FILE" ]]; then demo_key="$(jq -r '.api_key // empty' "$KEY_FILE" 2>/dev/null || true)"; fi
  if ! curl -fsS -o /dev/null -m 2 "http://$EVALUATOR_ADDR/" 2>/dev/null; then
    log "the operator page is not served at http://$EVALUATOR_ADDR/ (see $LOGS/evaluator.log; STE_WEB_DIR)"
  elif [[ -n "$demo_key" ]]; then
    log "operator page: http://$EVALUATOR_ADDR/ — sign in with the demo key $demo_key (from $KEY_FILE)"
  else
    log "operator page: http://$EVALUATOR_ADDR/ — sign in with an API key of tenant '$TENANT' (created outside the demo: its key is not known here)"
  fi
fi
if ((duration > 0)); then
  log "running for ${duration}s (Ctrl-C stops earlier)"
else
  log "running until Ctrl-C"
fi

# ----------------------------------------------------------------------------------------------
# 6. Status

status_header
status_line 0 >/dev/null # baseline for the first rate
start=$SECONDS
next=$((start + TICK))
while :; do
  while ((SECONDS < next)); do sleep 0.2; done
  elapsed=$((SECONDS - start))
  check_services
  status_line "$elapsed"
  if ((duration > 0 && elapsed >= duration)); then break; fi
  if [[ -n "${PIDS[loadgen]:-}" ]] && ! alive "${PIDS[loadgen]}" && ((duration == 0)); then
    log "ste-loadgen stopped early (log: $LOGS/loadgen.log)"
    break
  fi
  next=$((next + TICK))
done
# 7. The EXIT trap stops everything and prints the summary.
