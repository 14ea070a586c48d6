#!/usr/bin/env bash
# Builds the Debian package: a Release build of the binaries (build/package, no tests), then
# `cpack -G DEB` (deploy/debian/package.cmake). Prints the .deb's path.
#   bash deploy/debian/build-deb.sh            # -> build/package/ste_<version>_amd64.deb
# Install it with `apt install ./build/package/ste_*.deb` (README "Operate", docs/packaging.md).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$REPO"
bash deploy/local/install-deps.sh
cmake -S . -B build/package -DCMAKE_BUILD_TYPE=Release -DSTE_BUILD_TESTS=OFF >/dev/null
cmake --build build/package -j "$(nproc)"
rm -f build/package/ste_*.deb
(cd build/package && cpack -G DEB >/dev/null)
ls "$REPO"/build/package/ste_*_amd64.deb
