#!/usr/bin/env bash
# The Debian package end to end, on this machine (run as root; tests/run.sh runs it on CI):
#   tests/deploy/package_test.sh BUILD_DIR
# Builds the package with `cpack -G DEB` in BUILD_DIR (a Release build tree with the binaries
# built), checks it with lintian (no errors; the warnings must be the ones docs/packaging.md
# lists and justifies), installs it with apt-get, and checks what an operator gets: the `ste`
# user, /etc/ste/ste.env as a conffile readable by root and ste only, the units, nothing started.
# Then as an operator would: a private PostgreSQL and nats-server (deploy/local/stack.sh), their
# URLs into /etc/ste/ste.env, `ste-admin migrate`, both units started — by systemd when it runs
# this machine, otherwise the units' own ExecStart/Environment/User under supervisord — until
# /readyz answers ready and / serves the operator page. Finally `apt-get remove` keeps the
# configuration and `apt-get purge` removes it. Refuses to run where a `ste` package is already
# installed (it would be replaced and purged).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
build="$(realpath "$1")"
log() { printf 'package_test: %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  exit 1
}
[[ "$(id -u)" == 0 ]] || fail "must run as root (it installs the package)"
if dpkg-query -W -f='${Status}' ste 2>/dev/null | grep -q "ok installed"; then
  fail "a ste package is installed already; this test would replace and purge it"
fi

work="$(mktemp -d /tmp/ste-package-test.XXXXXX)"
chmod 0755 "$work"
source "$REPO/tests/support/free_port.sh"
export STE_STATE_DIR="$work/stack" STE_PG_PORT="$(free_port)" STE_NATS_PORT="$(free_port)"
ingester_port="$(free_port)"
evaluator_port="$(free_port)"
systemd=0
[[ -d /run/systemd/system ]] && systemd=1
cleanup() {
  if ((systemd)); then
    systemctl stop ste-ingester.service "ste-evaluator@$evaluator_port.service" 2>/dev/null || true
  elif [[ -f "$work/supervisord.pid" ]]; then
    supervisorctl -c "$work/supervisord.conf" shutdown >/dev/null 2>&1 || true
    local pid
    pid="$(cat "$work/supervisord.pid" 2>/dev/null || true)"
    for _ in $(seq 100); do [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ste >/dev/null 2>&1 || true
  rm -f /etc/ste/ingester.env
  rmdir /etc/ste 2>/dev/null || true
  bash "$REPO/deploy/local/stack.sh" wipe >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- build and lint -----------------------------------------------------------------------
rm -f "$build"/ste_*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) || {
  cat "$work/cpack.log"
  fail "cpack"
}
deb="$(ls "$build"/ste_*_amd64.deb)"
log "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
lintian --tag-display-limit 0 "$deb" 2>/dev/null | grep -E '^[EW]: ' | sort >"$work/lintian.txt" || true
if grep '^E: ' "$work/lintian.txt"; then fail "lintian reports errors"; fi
# Every warning must be one docs/packaging.md justifies (tag and file, as lintian prints them).
while read -r line; do
  grep -qF -- "\`${line#W: ste: }\`" "$REPO/docs/packaging.md" ||
    fail "lintian warning not listed and justified in docs/packaging.md: $line"
done < <(grep '^W: ' "$work/lintian.txt")
log "lintian: no errors, $(grep -c '^W: ' "$work/lintian.txt") justified warnings"

# --- install -------------------------------------------------------------------------------
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" \
  >"$work/apt.log" 2>&1 || {
  cat "$work/apt.log"
  fail "apt-get install"
}
getent passwd ste >/dev/null || fail "no ste user after install"
[[ "$(getent passwd ste | cut -d: -f7)" == */nologin || "$(getent passwd ste | cut -d: -f7)" == /bin/false ]] ||
  fail "the ste user has a login shell"
[[ "$(stat -c '%U:%G %a' /etc/ste/ste.env)" == "root:ste 640" ]] ||
  fail "/etc/ste/ste.env is $(stat -c '%U:%G %a' /etc/ste/ste.env), want root:ste 640"
dpkg-query -W -f='${Conffiles}\n' ste | grep -q '/etc/ste/ste.env' || fail "ste.env is not a conffile"
for f in /usr/bin/ste-ingester /usr/bin/ste-evaluator /usr/bin/ste-admin \
  /lib/systemd/system/ste-ingester.service /lib/systemd/system/ste-evaluator@.service \
  /usr/share/ste/schema/001_ingest.sql /usr/share/ste/web/index.html /usr/share/doc/ste/copyright; do
  [[ -e "$f" ]] || fail "$f not installed"
done
grep -q '^User=ste$' /lib/systemd/system/ste-ingester.service || fail "ingester unit not User=ste"
if pgrep -f '^/usr/bin/ste-(ingester|evaluator)' >/dev/null; then
  fail "a service runs right after install (nothing may start until the operator enables it)"
fi
if ((systemd)); then
  [[ "$(systemctl is-enabled ste-ingester.service 2>&1)" == disabled ]] || fail "ingester unit enabled"
fi
log "installed: user ste, conffile, units present, nothing running"

# --- operate -------------------------------------------------------------------------------
eval "$(bash "$REPO/deploy/local/stack.sh" start)"
# As the README says: the connection settings into /etc/ste/ste.env, the ingester's own address
# into /etc/ste/ingester.env (the evaluator's port is its unit instance).
printf 'STE_DATABASE_URL=%s\nSTE_NATS_URL=%s\n' "$STE_DATABASE_URL" "$STE_NATS_URL" >>/etc/ste/ste.env
printf 'STE_HTTP_ADDR=127.0.0.1:%s\n' "$ingester_port" >/etc/ste/ingester.env
runuser -u ste -- env $(grep -E '^STE_' /etc/ste/ste.env) ste-admin migrate >"$work/migrate.log" 2>&1 || {
  cat "$work/migrate.log"
  fail "ste-admin migrate"
}

# The unit's command, environment and user, for supervisord: ExecStart, Environment= (%i = the
# instance), then each EnvironmentFile= that exists, later ones winning, as systemd does.
unit_env() { # unit instance
  local unit="/lib/systemd/system/$1" inst="$2" line f
  grep -E '^Environment=' "$unit" | sed "s/^Environment=//; s/%i/$inst/g"
  while read -r f; do
    f="${f#-}"
    f="${f//%i/$inst}"
    [[ -f "$f" ]] && grep -E '^[A-Z_]+=' "$f"
  done < <(grep -E '^EnvironmentFile=' "$unit" | sed 's/^EnvironmentFile=//')
  return 0
}
supervisor_program() { # name unit instance
  local cmd user env
  cmd="$(grep -E '^ExecStart=' "/lib/systemd/system/$2" | sed 's/^ExecStart=//')"
  user="$(grep -E '^User=' "/lib/systemd/system/$2" | sed 's/^User=//')"
  env="$(unit_env "$2" "$3" | awk -F= '{k=$1; sub(/^[^=]*=/, ""); v[k]=$0; if (!(k in seen)) {o[++n]=k; seen[k]=1}}
    END {for (i = 1; i <= n; i++) printf "%s%s=\"%s\"", (i > 1 ? "," : ""), o[i], v[o[i]]}')"
  printf '[program:%s]\ncommand=%s\nuser=%s\nenvironment=%s\nautorestart=unexpected\nstartsecs=2\n' \
    "$1" "$cmd" "$user" "$env"
  printf 'stdout_logfile=%s/%s.log\nredirect_stderr=true\nstopsignal=TERM\nstopwaitsecs=30\n\n' "$work" "$1"
}

if ((systemd)); then
  log "starting the units under systemd"
  systemctl start ste-ingester.service "ste-evaluator@$evaluator_port.service"
else
  log "no systemd here: the units' commands under supervisord"
  {
    printf '[supervisord]\nlogfile=%s/supervisord.log\npidfile=%s/supervisord.pid\n' "$work" "$work"
    printf '[unix_http_server]\nfile=%s/supervisor.sock\n' "$work"
    printf '[supervisorctl]\nserverurl=unix://%s/supervisor.sock\n' "$work"
    printf '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n'
    supervisor_program ste-ingester ste-ingester.service ""
    supervisor_program ste-evaluator ste-evaluator@.service "$evaluator_port"
  } >"$work/supervisord.conf"
  supervisord -c "$work/supervisord.conf"
fi

ready() { curl -fsS -m 2 "http://127.0.0.1:$1/readyz" 2>/dev/null | grep -q '"status":"ready"'; }
deadline=$((SECONDS + 60))
until ready "$ingester_port" && ready "$evaluator_port"; do
  if ((SECONDS > deadline)); then
    tail -n 20 "$work"/ste-*.log 2>/dev/null || journalctl -u 'ste-*' -n 40 --no-pager || true
    fail "/readyz did not answer ready within 60 s"
  fi
  sleep 0.5
done
page="$(curl -fsS -D "$work/page.headers" "http://127.0.0.1:$evaluator_port/")"
grep -q '<html' <<<"$page" || fail "GET / did not serve the operator page"
grep -qi '^Content-Security-Policy:' "$work/page.headers" || fail "the page has no CSP"
[[ "$(ps -o user= -p "$(pgrep -f '^/usr/bin/ste-evaluator' | head -1)")" == ste ]] ||
  fail "ste-evaluator does not run as ste"
log "both services ready as user ste; the operator page is served from /usr/share/ste/web"

# --- remove keeps configuration, purge removes it -----------------------------------------------
if ((systemd)); then
  systemctl stop ste-ingester.service "ste-evaluator@$evaluator_port.service"
else
  supervisorctl -c "$work/supervisord.conf" stop all >/dev/null
fi
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq ste >/dev/null 2>&1 || fail "apt-get remove"
[[ ! -e /usr/bin/ste-ingester ]] || fail "remove left the binaries"
grep -q "^STE_DATABASE_URL=$STE_DATABASE_URL" /etc/ste/ste.env || fail "remove lost the edited ste.env"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ste >/dev/null 2>&1 || fail "apt-get purge"
[[ ! -e /etc/ste/ste.env ]] || fail "purge kept ste.env"
log "remove kept /etc/ste/ste.env, purge removed it"
log "ok"
