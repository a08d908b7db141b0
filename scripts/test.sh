#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite in release mode (the numerics tests are
# too slow unoptimised). Extra arguments go to `swift test` (e.g. --filter LlamaTests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec swift test -c release "$@"
