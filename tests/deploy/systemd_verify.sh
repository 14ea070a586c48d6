#!/usr/bin/env bash
# `systemd-analyze verify` on the shipped unit files (skipped, exit 77, where the tool is missing).
# The binaries are not installed here, so a copy of each unit points ExecStart at the freshly
# built binary; everything else is verified exactly as shipped.
set -euo pipefail
units_dir="$1"
ingester="$2"
evaluator="$3"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not available: skipped"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed "s#/usr/local/bin/ste-ingester#$ingester#" "$units_dir/ste-ingester.service" >"$work/ste-ingester.service"
sed "s#/usr/local/bin/ste-evaluator#$evaluator#" "$units_dir/ste-evaluator@.service" >"$work/ste-evaluator@.service"
cp "$work/ste-evaluator@.service" "$work/ste-evaluator@8080.service"
out="$(cd "$work" && systemd-analyze verify --man=no ste-ingester.service ste-evaluator@8080.service 2>&1)" || {
  echo "$out"
  exit 1
}
# verify exits 0 on some warnings: fail on any line that names our units.
if grep -E "ste-(ingester|evaluator)" <<<"$out"; then exit 1; fi
echo "systemd units verified"
