#!/usr/bin/env bash
# The main job: set up (if needed), build, then fine-tune and evaluate the default model
# through notebooks/finetune.mednb. Extra arguments go to `medrepl run` (e.g. -p rows=40).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .build/release/medrepl run notebooks/finetune.mednb "$@"
