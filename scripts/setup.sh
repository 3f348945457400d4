#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian/Ubuntu machine: system tools, a venv, the package.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3-venv gcc make g++ cmake gcc-arm-none-eabi libnewlib-arm-none-eabi
    qemu-system-arm chromium verilator iverilog yosys nextpnr-ice40 fpga-icestorm
    fpga-icestorm-chipdb)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "effc setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" \
        >/dev/null
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "effc setup: Python >= 3.11 is required ($("$PYTHON" --version))" >&2
    exit 2
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.effc-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    # The ray extra (effc sweep/run --ray) is tested too; it adds ~10 s here.
    echo "effc setup: installing the effc package, its test tools and the ray extra into .venv"
    .venv/bin/pip install -q --disable-pip-version-check -e ".[test,ray]" 2>&1 \
        | grep -v "is ignored" || true
    .venv/bin/python -c "import effc, onnxruntime, pytest, ray, matplotlib" && touch "$stamp"
fi
