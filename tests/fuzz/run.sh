#!/usr/bin/env bash
# Builds the libFuzzer targets with clang++-14 (ASan + UBSan, coverage on the product libraries
# too) in their own build directory and runs each for a bounded time on a scratch copy of its
# seed corpus, with its dictionary. Exits non-zero if any target finds a crash, a sanitizer
# report, a timeout or an invariant violation, and prints the reproducer's path.
#   bash tests/fuzz/run.sh [target...]          (default: every target)
# Environment:
#   STE_FUZZ_SECONDS    seconds per target (default 60)
#   STE_FUZZ_BUILD_DIR  build directory (default build/fuzz; /build/ is ignored by git)
#   STE_FUZZ_JOBS       parallel compile jobs (default 1)
#   STE_FUZZ_PARALLEL   targets fuzzed at the same time (default 1; the test command uses 2)
#   STE_FUZZ_ARTIFACTS  where reproducers go (default <build dir>/artifacts)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
FUZZ_DIR="$REPO/tests/fuzz"
seconds="${STE_FUZZ_SECONDS:-60}"
build_dir="${STE_FUZZ_BUILD_DIR:-$REPO/build/fuzz}"
jobs="${STE_FUZZ_JOBS:-1}"
parallel="${STE_FUZZ_PARALLEL:-1}"
artifacts="${STE_FUZZ_ARTIFACTS:-$build_dir/artifacts}"

all_targets=(reading_parser subject_parser rule_body integrations_body tenant_body)
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${all_targets[@]}")

# fuzzer-no-link: coverage instrumentation for every object (libraries included) without
# libFuzzer's main(); tests/fuzz/CMakeLists.txt links -fsanitize=fuzzer into the fuzzers only.
# CMAKE_CXX_FLAGS also reaches the link line, so the sanitizer runtimes are linked as well.
cxx_flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cxx_flags+=" -fno-omit-frame-pointer"
# -O1 with line tables only (and asserts on): what libFuzzer recommends, and about half the
# compile time of RelWithDebInfo's -O2 -g, which the test command's wall time feels.
opt_flags="-O1 -gline-tables-only"

cmake -S "$REPO" -B "$build_dir" \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt_flags" \
  -DSTE_FUZZ=ON -DSTE_BUILD_TESTS=OFF -DSTE_WERROR=ON \
  "-DCMAKE_CXX_FLAGS=$cxx_flags" >/dev/null
for t in "${targets[@]}"; do
  cmake --build "$build_dir" -j "$jobs" --target "${t}_fuzz"
done

mkdir -p "$artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One target: fuzz a scratch copy of its corpus; its exit status goes to <artifacts>/<t>.rc.
fuzz_one() {
  local t="$1" bin="$build_dir/tests/fuzz/${1}_fuzz" scratch log rc=0
  scratch="$(mktemp -d "/tmp/ste-fuzz-${t}.XXXXXX")"
  cp "$FUZZ_DIR/corpus/$t/"* "$scratch/"
  log="$artifacts/${t}.log"
  echo "== $t: ${seconds}s, corpus copy in $scratch, log in $log"
  "$bin" "$scratch" \
    -dict="$FUZZ_DIR/$t.dict" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/${t}-" >"$log" 2>&1 || rc=$?
  [[ $rc -eq 0 ]] && rm -rf "$scratch"
  echo "$rc" >"$artifacts/${t}.rc"
}

# At most $parallel targets at once (each libFuzzer process uses one core).
running=0
for t in "${targets[@]}"; do
  rm -f "$artifacts/${t}.rc"
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait

failed=()
summary=()
for t in "${targets[@]}"; do
  bin="$build_dir/tests/fuzz/${t}_fuzz"
  log="$artifacts/${t}.log"
  rc="$(cat "$artifacts/${t}.rc" 2>/dev/null || echo missing)"
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)"
  summary+=("$t: ${done_line:-no DONE line (rc=$rc)}")
  if [[ "$rc" != 0 ]]; then
    failed+=("$t")
    echo "!! $t FAILED (rc=$rc). Last lines of $log:"
    tail -n 60 "$log"
    grep -E 'Test unit written to|artifact_prefix' "$log" | sed 's/^/!! reproducer: /' || true
    echo "!! reproduce: $bin <reproducer>"
  fi
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
