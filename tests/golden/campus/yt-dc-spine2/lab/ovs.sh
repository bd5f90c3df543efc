#!/bin/sh
# Lab emulation of yt-dc-spine2: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
# no switching on this node
