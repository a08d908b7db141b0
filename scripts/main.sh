#!/usr/bin/env bash
# The main job: set up (if needed), build, then fine-tune and evaluate the default model through
# notebooks/finetune.mednb twice: as the original notebook does it (mode=notebook) and the careful way
# (mode=default, with a validation loss on 20 held-out rows), each into its own adapter folder. It ends
# with the two pipelines side by side: each tuned model against its base on the same held-out questions
# (`comparisons`). Extra arguments go to both `medrepl run`s (e.g. -p rows=40).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
medrepl=.build/release/medrepl
echo "=== 1 of 2: the original notebook's pipeline (mode=notebook) ==="
"$medrepl" run notebooks/finetune.mednb -p mode=notebook -p output=outputs/medical-lora \
    -p comparison_output=outputs/comparison-notebook.json "$@"
echo
echo "=== 2 of 2: the careful pipeline (mode=default) ==="
"$medrepl" run notebooks/finetune.mednb -p mode=default -p validation_rows=20 -p output=outputs/medical-lora-default \
    -p comparison_output=outputs/comparison-default.json "$@"
echo
echo "=== the two pipelines: each tuned model against its base, on held-out questions ==="
"$medrepl" -c 'comparisons outputs/comparison-notebook.json outputs/comparison-default.json'
