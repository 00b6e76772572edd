#!/usr/bin/env bash
# wavecomp bootstrap: the ONE idempotent entry point that makes a checkout usable.
# Used by the README commands, by `make setup` (every make target) and so by CI.
#
#   ./bootstrap.sh
#
# 1. Debian packages (ARM cross toolchain, QEMU, ccache, ...) via apt-get, only if missing.
# 2. Python 3.11 venv in .venv with the pinned set from requirements.lock (via uv),
#    plus wavecomp itself installed editable (the `wavecomp` console script).
#    Skipped when .venv/.bootstrap-stamp matches requirements.lock + pyproject.toml
#    + this script, so a re-run with nothing changed takes seconds.
#
# Environment knobs:
#   WAVECOMP_SKIP_APT=1   do not check/install Debian packages
#   WAVECOMP_FORCE=1      reinstall the Python env even if the stamp matches
#   PYTHON=/path/to/py    interpreter to build the venv from (must be 3.11)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

UV_VERSION=0.13.8
VENV=.venv
STAMP="$VENV/.bootstrap-stamp"
APT_PACKAGES=(
    build-essential
    ccache
    gcc-arm-none-eabi
    iverilog
    libnewlib-arm-none-eabi
    libstdc++-arm-none-eabi-newlib
    qemu-system-arm
)

log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

SECONDS=0
apt_note="apt: skipped"
py_note=""

# --------------------------------------------------------------------------- apt
if [[ "${WAVECOMP_SKIP_APT:-0}" != 1 ]]; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null || die "missing system packages (${missing[*]}) and no apt-get; install them by hand"
        SUDO=()
        if [[ "$(id -u)" != 0 ]]; then
            command -v sudo >/dev/null || die "missing system packages (${missing[*]}); not root and no sudo"
            SUDO=(sudo)
        fi
        log "installing Debian packages: ${missing[*]}"
        "${SUDO[@]}" apt-get update
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "${missing[@]}"
        apt_note="apt: installed ${missing[*]}"
    else
        apt_note="apt: ok"
    fi
fi

# ------------------------------------------------------------------------ python
is_py311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; }

pick_python() {
    local cand
    for cand in ${PYTHON:+"$PYTHON"} python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 && is_py311 "$cand"; then
            printf '%s\n' "$cand"
            return 0
        fi
    done
    return 1
}

[[ -f wavecomp/__init__.py ]] || die "wavecomp/__init__.py is missing; the package cannot be installed"

want_stamp=$(cat requirements.lock pyproject.toml bootstrap.sh | sha256sum | cut -d' ' -f1)
have_stamp=$(cat "$STAMP" 2>/dev/null || true)

if [[ "${WAVECOMP_FORCE:-0}" != 1 && "$want_stamp" == "$have_stamp" ]] \
    && is_py311 "$VENV/bin/python" && [[ -x "$VENV/bin/wavecomp" ]]; then
    py_note="venv: up to date"
else
    if [[ -e "$VENV" ]] && ! is_py311 "$VENV/bin/python"; then
        log "$VENV exists but has no working Python 3.11; recreating it"
        rm -rf "$VENV"
    fi
    if [[ ! -e "$VENV/bin/python" ]]; then
        py=$(pick_python) || die "Python 3.11 is required (tried ${PYTHON:+\$PYTHON, }python3.11, python3: $(python3 --version 2>&1 || echo 'not found')). Install Python 3.11 or set PYTHON=/path/to/python3.11"
        log "creating $VENV with $py ($("$py" --version 2>&1))"
        "$py" -m venv "$VENV"
    fi
    rm -f "$STAMP"

    # Install uv from the normal index only: ignore pip config files and the local
    # extra index / find-links some machines set; keep a user's own PIP_INDEX_URL.
    if [[ "$("$VENV/bin/uv" --version 2>/dev/null || true)" != "uv $UV_VERSION"* ]]; then
        log "installing uv==$UV_VERSION into $VENV"
        env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
            PIP_DISABLE_PIP_VERSION_CHECK=1 \
            "$VENV/bin/python" -m pip install --quiet "uv==$UV_VERSION"
    fi

    export UV_NO_CONFIG=1
    unset VIRTUAL_ENV
    log "syncing $VENV with requirements.lock"
    "$VENV/bin/uv" pip sync --no-config --python "$VENV/bin/python" requirements.lock
    log "installing wavecomp (editable, --no-deps)"
    "$VENV/bin/uv" pip install --no-config --python "$VENV/bin/python" --no-deps -e .

    [[ -x "$VENV/bin/wavecomp" ]] || die "the wavecomp console script was not installed"
    printf '%s\n' "$want_stamp" >"$STAMP"
    py_note="venv: installed $(grep -c '^[A-Za-z0-9]' requirements.lock) pinned packages + wavecomp"
fi

log "done in ${SECONDS}s — $apt_note; $py_note; run: make demo | make quick | make test"
