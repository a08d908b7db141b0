#!/usr/bin/env bash
# medrepl's benchmark against transformers + peft, in one command (see tools/bench/README.md):
#   bash tools/bench/run.sh [--quick] [--only w1,w3] [--repetitions N] [--steps N]
# Installs the reference into the git-ignored .venv-reference/ when it is missing, builds medrepl-bench in
# release, then runs tools/bench/run.py, which writes bench/results/bench-DATE.json (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x .venv-reference/bin/python ] || ! .venv-reference/bin/python -c "import torch, transformers, peft, datasets, gguf" 2>/dev/null; then
    echo "installing the Python reference into .venv-reference/ (torch CPU, transformers, peft, datasets)"
    python3 -m venv .venv-reference
    .venv-reference/bin/pip install --quiet --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
        || .venv-reference/bin/pip install --quiet torch==2.13.0
    .venv-reference/bin/pip install --quiet -r tools/fixtures/requirements.txt datasets
fi

if [ ! -f models/SmolLM2-135M-Instruct.Q4_1.gguf ]; then
    echo "models/SmolLM2-135M-Instruct.Q4_1.gguf is missing: run bash scripts/install.sh first" >&2
    exit 1
fi

swift build -c release --product medrepl-bench
exec python3 tools/bench/run.py "$@"
