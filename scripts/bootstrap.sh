#!/usr/bin/env bash
# Prepare this machine for campusnet: Debian packages (when root), Python 3.12 and the project's venv.
# Idempotent and quiet when there is nothing to do. Used by ./run; safe to call by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  postgresql redis-server            # the local NetBox's database and cache
  libpq-dev gcc python3-dev          # psycopg's C part builds with these
  frr frr-pythontools                # routing software of the lab nodes (frr-reload.py)
  openvswitch-switch                 # L2 switches of the lab (userspace datapath)
  openssh-server openssh-client      # sshd per lab node; deploys go over real SSH
  iproute2 procps psmisc util-linux  # ip netns, nsenter, unshare
  iputils-ping                       # reachability checks from the lab's test hosts
  openvpn openssl                    # the staff VPN (server on the gateway, client on the VPN test host; PKI)
  chromium                           # the auditor report's browser test
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "campusnet: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 2
  fi
  echo "campusnet: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these system-wide on install; campusnet runs private instances and needs none of them.
  for svc in redis-server postgresql openvswitch-switch frr ssh; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
      systemctl stop "$svc" || true
    fi
  done
fi

# Python 3.12 (NetBox 4.7 needs >= 3.12). .python-version selects it under pyenv.
PY=""
for cand in "$(command -v python3.12 || true)" "$HOME/.pyenv/versions/3.12"*/bin/python3.12 /usr/bin/python3.12; do
  if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
    PY="$cand"; break
  fi
done
if [ -z "$PY" ]; then
  echo "campusnet: Python 3.12 not found (pyenv install 3.12, or apt-get install python3.12)" >&2
  exit 2
fi

# A fresh clone: the local NetBox's first steps (NetBox's install — from the wheel cache, or from PyPI
# building that cache —, PostgreSQL, Redis, the schema: ~8 min of mostly one core on a fresh machine, ~1 min
# with the per-machine cache) run in the background while the venv installs below, standard library only.
# `netbox up` takes the same lock, waits for them and finds the work done (or redoes what failed).
# Skipped when NETBOX_URL names the user's NetBox.
nb_state="${CAMPUSNET_STATE:-$PWD/.campusnet}/netbox"
if [ -z "${NETBOX_URL:-}" ] && [ ! -f "$nb_state/venv/.campusnet-installed" ]; then
  mkdir -p "$nb_state"
  echo "campusnet: preparing the local NetBox in the background (log: $nb_state/prepare.log)"
  "$PY" -I -c 'import sys; sys.path.insert(0, "."); from campusnet.localnb import prepare_in_background as p; sys.exit(p())' \
    </dev/null >"$nb_state/prepare.log" 2>&1 &
fi

want="$(sha256sum pyproject.toml | cut -c1-16)"
marker=.venv/.campusnet-deps
if [ ! -x .venv/bin/python ] || [ "$(cat "$marker" 2>/dev/null)" != "$want" ]; then
  echo "campusnet: installing the Python environment in .venv (pinned in pyproject.toml)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -vE '^WARNING: Location|^\s*$' || true
  .venv/bin/python -c 'import campusnet, nornir, pyats, ansible, pynetbox' \
    || { echo "campusnet: the Python environment did not install" >&2; exit 2; }
  echo "$want" > "$marker"
fi
