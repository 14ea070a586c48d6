#!/usr/bin/env bash
# The benchmark command (bench/README.md): installs what it needs, builds the release binaries,
# starts its own PostgreSQL and NATS, runs every scenario in one go, writes
# bench/results/<date>-<commit>.{md,json}, and stops what it started.
#
#   bash bench/run.sh                 # everything (about 13 minutes on 2 cores, build included)
#   bash bench/run.sh --scenarios 1,4 # a subset; any other flag goes to bench/bench.py
#
# Environment: STE_BENCH_STATE (default /tmp/ste-bench) holds the servers' files and the service
# logs; STE_BENCH_SKIP_DEPS=1 skips apt-get. STE_* ingester settings exported by the caller
# (e.g. STE_BATCH_SIZE) reach the ingester under test, so a setting can be compared by running
# the command twice; the report records the settings each run used.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STATE="${STE_BENCH_STATE:-/tmp/ste-bench}"
BUILD="$REPO/build/release"
cd "$REPO"

if [[ "${STE_BENCH_SKIP_DEPS:-0}" != 1 ]]; then
  bash deploy/local/install-deps.sh
fi

echo "[bench] building release binaries" >&2
cmake --preset release >/dev/null
cmake --build --preset release --target ste-ingester ste-evaluator ste-admin ste-loadgen \
  ste-dbbench ste-evalbench ste-nodatabench ste-latency-probe

# Servers: our own, on ports nothing else uses, with the PostgreSQL settings the report states.
export STE_STATE_DIR="$STATE/stack"
export STE_PG_PORT="${STE_BENCH_PG_PORT:-58432}" STE_NATS_PORT="${STE_BENCH_NATS_PORT:-58222}"
export STE_PG_OPTIONS="-c shared_buffers=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min -c wal_buffers=64MB"
stack() { bash "$REPO/deploy/local/stack.sh" "$@"; }
cleanup() { stack wipe >/dev/null 2>&1 || true; }
trap cleanup EXIT
stack wipe >/dev/null 2>&1 || true
eval "$(stack start)"
"$BUILD/admin/ste-admin" migrate >/dev/null

commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ]]; then commit="$commit-dirty"; fi
stamp="$(date -u +%Y-%m-%d)"
mkdir -p "$REPO/bench/results"
out="$REPO/bench/results/$stamp-$commit"

python3 "$REPO/bench/bench.py" --build-dir "$BUILD" --work-dir "$STATE/work" "$@" >"$out.json"
python3 "$REPO/bench/report.py" "$out.json" --commit "$commit" >"$out.md"
echo "[bench] report: $out.md (data: $out.json)" >&2
