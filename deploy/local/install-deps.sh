#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test and run the project. Idempotent: when
# everything is already installed it only queries dpkg (no apt-get update) and exits 0.
#
#   deploy/local/install-deps.sh           # install what is missing (as root)
#   deploy/local/install-deps.sh --check   # only report; exit 1 if something is missing
#
# When not root and something is missing, prints the apt-get command to run and exits 1.
set -euo pipefail

readonly PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libnats-dev nats-server postgresql-15 libpq-dev
  libuv1-dev libsimdjson-dev libfmt-dev libspdlog-dev libssl-dev catch2 libcurl4-openssl-dev
  libcpp-httplib-dev prometheus-cpp-dev libcli11-dev libsystemd-dev
  jq curl procps supervisor python3 prometheus
  clang-14 libclang-rt-14-dev
  chromium lintian
)

check_only=0
case "${1:-}" in
  "") ;;
  --check) check_only=1 ;;
  *)
    sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac

# One dpkg-query for all packages (it skips unknown ones, hence `|| true`).
declare -A installed=()
while read -r pkg status; do
  if [[ "$status" == "install ok installed" ]]; then installed["${pkg%%:*}"]=1; fi
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ -z "${installed[$pkg]:-}" ]]; then missing+=("$pkg"); fi
done

# Node.js and npm run the operator page's browser tests (tests/browser). A machine may have
# them from elsewhere (NodeSource's nodejs carries npm): only when `node` or `npm` is missing
# are Debian's packages installed.
if ! command -v node >/dev/null; then missing+=(nodejs); fi
if ! command -v npm >/dev/null; then missing+=(npm); fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages are installed" >&2
  exit 0
fi

echo "install-deps: missing: ${missing[*]}" >&2
if ((check_only)); then exit 1; fi

if [[ "$(id -u)" -ne 0 ]]; then
  echo "install-deps: not root; run:" >&2
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}" >&2
