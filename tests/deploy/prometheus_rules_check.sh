#!/usr/bin/env bash
# The monitoring files in deploy/prometheus and deploy/grafana: `promtool check rules`, the rules'
# unit tests (`promtool test rules`), `promtool check config` on the sample configuration, every
# Grafana dashboard expression parsed by promtool, and every alert's runbook_url anchor a heading
# of docs/operations.md. Skipped (exit 77) only where promtool is missing (Debian package
# `prometheus`); any failure exits non-zero.
#
#   bash tests/deploy/prometheus_rules_check.sh [source dir]
set -euo pipefail
src="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
command -v promtool >/dev/null || { echo "promtool not available (Debian package prometheus): skipped"; exit 77; }
command -v jq >/dev/null || { echo "jq is needed to read the dashboard" >&2; exit 1; }
cd "$src"
rules=deploy/prometheus/ste-rules.yml
dashboard=deploy/grafana/ste-dashboard.json

promtool check rules "$rules"
promtool test rules deploy/prometheus/ste-rules.test.yml
promtool check config deploy/prometheus/prometheus.yml

# The dashboard's queries, with Grafana's variables replaced, as recording rules promtool parses.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
{
  printf 'groups:\n  - name: dashboard\n    rules:\n'
  jq -r '[.. | objects | select(has("expr")) | .expr] | to_entries[] |
         "      - record: dashboard:expr_\(.key)\n        expr: \(.value | gsub("\\$__rate_interval"; "5m")
           | gsub("\\$instance"; ".*") | tojson)"' "$dashboard"
} >"$work/dashboard-rules.yml"
if ! grep -q 'record:' "$work/dashboard-rules.yml"; then
  echo "no expressions found in $dashboard" >&2
  exit 1
fi
echo "dashboard queries:"
promtool check rules "$work/dashboard-rules.yml"

# Every runbook_url points at a heading of docs/operations.md (GitHub's anchors: lower case,
# punctuation other than '-' and '_' removed, spaces as '-').
sed -nE 's/^#+ +//p' docs/operations.md | tr '[:upper:]' '[:lower:]' |
  sed -E 's/[^a-z0-9 _-]//g; s/ /-/g' >"$work/anchors"
grep -oE 'https://[^ "]*/docs/operations\.md#[A-Za-z0-9_-]+' "$rules" "$dashboard" | sed 's/.*#//' |
  sort -u >"$work/links"
if [[ $(grep -c 'runbook_url:' "$rules") -eq 0 ]]; then
  echo "no runbook_url in $rules" >&2
  exit 1
fi
status=0
while read -r anchor; do
  grep -qxF "$anchor" "$work/anchors" || { echo "link #$anchor is no heading of docs/operations.md" >&2; status=1; }
done <"$work/links"
if [[ $status -eq 0 ]]; then echo "$(wc -l <"$work/links") runbook anchors are headings of docs/operations.md"; fi
exit "$status"
