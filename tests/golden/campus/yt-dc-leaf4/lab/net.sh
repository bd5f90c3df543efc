#!/bin/sh
# Lab emulation of yt-dc-leaf4: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.24/32 dev lo
ip link set hu1-0-1 up
ip addr replace 10.255.2.13/31 dev hu1-0-1
ip link set hu1-0-2 up
ip addr replace 10.255.2.15/31 dev hu1-0-2
