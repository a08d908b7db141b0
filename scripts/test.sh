#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite in release mode (the numerics tests are
# too slow unoptimised). Extra arguments go to `swift test` (e.g. --filter LlamaTests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# --disable-testable-imports: the tests use public API only, so they reuse the release build of
# install.sh instead of compiling every module a second time with -enable-testing.
exec swift test -c release --disable-testable-imports "$@"
