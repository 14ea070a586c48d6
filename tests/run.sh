#!/usr/bin/env bash
# The test command (README "Test"; .ci/run calls exactly this):
#   bash tests/run.sh [--preset dev|release] [extra ctest args]
# Installs the Debian packages it needs, builds with the chosen preset (default: dev, i.e.
# ASan+UBSan), starts a PostgreSQL server for the integration tests (each test gets its own
# fresh database; tests that stop the database start their own server), runs the whole CTest
# suite (unit and integration; integration tests start their own nats-server per test, since
# several restart or kill it; the operator page's browser tests run in headless Chromium, with
# playwright-core installed by `npm ci` from the npm registry), stops what it started, then
# builds the libFuzzer targets with clang-14 (ASan + UBSan) and runs each for STE_FUZZ_SECONDS
# (default 60), two at a time (tests/fuzz/run.sh). Beside the fuzzers it also builds the plain
# configuration a packager or a user without presets runs (`cmake -DCMAKE_BUILD_TYPE=Release`,
# default generator, no -Werror; without the tests, which the preset build above compiled
# already), so that build stays green, and from it the Debian package, which
# tests/deploy/package_test.sh lints, installs on this machine, runs and purges. Exits non-zero
# on any failure or fuzzer finding.
# STE_FUZZ_SECONDS=0 skips the fuzzers and STE_PLAIN_BUILD=0 the plain build (for a quick local
# run; CI always runs both).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO"

preset=dev
if [[ "${1:-}" == "--preset" ]]; then
  preset="$2"
  shift 2
fi

bash deploy/local/install-deps.sh

jobs="$(nproc)"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"

# The operator page's browser tests (tests/browser, run by the CTest test operator_page_test)
# drive Debian's chromium with playwright-core, pinned in tests/browser/package-lock.json.
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error

# A private PostgreSQL on a free port, under a temporary state directory.
state="$(mktemp -d /tmp/ste-test-stack.XXXXXX)"
source "$REPO/tests/support/free_port.sh"
export STE_STATE_DIR="$state" STE_PG_PORT="$(free_port)" STE_NATS_PORT="$(free_port)"
cleanup() {
  bash deploy/local/stack.sh wipe >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
bash deploy/local/stack.sh start >/dev/null
export STE_TEST_PG_URL_BASE="postgresql://postgres@127.0.0.1:${STE_PG_PORT}"

# LeakSanitizer needs ptrace-like access that some sandboxes deny; keep it on where it works.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

ctest --preset "$preset" -j "$jobs" --timeout 600 "$@"
cleanup
trap - EXIT

# The plain build runs beside the fuzzers: they run for a fixed time, so the build costs the
# suite little wall time there (they get fewer executions per second meanwhile).
plain_pid=""
plain_log=build/plain-release.log
if [[ "${STE_PLAIN_BUILD:-1}" != 0 ]]; then
  echo "plain Release build (no preset): build/plain-release, beside the fuzzers"
  {
    cmake -S . -B build/plain-release -DCMAKE_BUILD_TYPE=Release -DSTE_BUILD_TESTS=OFF &&
      cmake --build build/plain-release -j "$jobs"
  } >"$plain_log" 2>&1 &
  plain_pid=$!
fi

fuzz_status=0
fuzz_seconds="${STE_FUZZ_SECONDS:-60}"
if [[ "$fuzz_seconds" != 0 ]]; then
  STE_FUZZ_SECONDS="$fuzz_seconds" STE_FUZZ_JOBS="$jobs" STE_FUZZ_PARALLEL=2 \
    bash tests/fuzz/run.sh || fuzz_status=$?
fi

if [[ -n "$plain_pid" ]]; then
  if ! wait "$plain_pid"; then
    tail -n 60 "$plain_log"
    echo "plain Release build: FAILED (full log: $plain_log)"
    exit 1
  fi
  echo "plain Release build: ok ($(grep -c 'warning:' "$plain_log" || true) compiler warnings, see $plain_log)"
  # The Debian package from that build: lintian, install on this machine, both units up, purge.
  bash tests/deploy/package_test.sh build/plain-release
fi
exit "$fuzz_status"
