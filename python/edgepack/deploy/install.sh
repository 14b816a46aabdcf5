#!/usr/bin/env bash
# Offline install of @DIST@ @VERSION@ for @PLATFORM@, Python @PYTHON@ (made by edgepack wheelhouse @EDGEPACK@).
#   bash install.sh [--jetson] [VENV]
# Makes a virtual environment (default: venv/ beside this file; PEP 668 systems such as Raspberry Pi OS refuse
# pip outside one) and installs the model with the wheels in this directory only: no index, no network.
# --jetson: the venv sees the system's site-packages, so JetPack's TensorRT (apt) stays importable.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv=""
site=""
for arg in "$@"; do
  case "$arg" in
    --jetson) site="--system-site-packages" ;;
    -h|--help) sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "install.sh: unknown option '$arg' (usage: bash install.sh [--jetson] [VENV])" >&2; exit 2 ;;
    *) if [ -n "$venv" ]; then echo "install.sh: one VENV directory only" >&2; exit 2; fi; venv="$arg" ;;
  esac
done
venv="${venv:-$here/venv}"
python="${PYTHON:-python3}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "install.sh: $python not found; install Python @PYTHON@ (Debian: apt install python3 python3-venv)" >&2
  exit 2
fi
have="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$have" != "@PYTHON@" ]; then
  echo "install.sh: this wheelhouse is for Python @PYTHON@, $python is $have; make one for this board with:" \
       "edgepack wheelhouse BUNDLE --platform @PLATFORM@ --python $have" >&2
  exit 2
fi
# a 32-bit Pi OS under a 64-bit kernel reports aarch64 with 32-bit pointers: that is an armv7l board
machine="$("$python" -c 'import sysconfig, struct; print(sysconfig.get_platform(), 8 * struct.calcsize("P"))')"
case "@PLATFORM@:$machine" in
  "linux_x86_64:linux-x86_64 64"|"linux_aarch64:linux-aarch64 64"|"linux_armv7l:linux-armv7l 32"|\
  "linux_armv7l:linux-aarch64 32") ;;
  *) echo "install.sh: this wheelhouse is for @PLATFORM@, this Python runs on $machine" >&2; exit 2 ;;
esac

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv $site "$venv"; then
    echo "install.sh: could not create the venv $venv (Debian / Raspberry Pi OS: apt install python3-venv)" >&2
    exit 2
  fi
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input --no-index --find-links "$here" \
  "@DIST@==@VERSION@"
echo "installed @DIST@ @VERSION@ into $venv; run: $venv/bin/@DIST@ IMAGE... | DIR | --camera N"
