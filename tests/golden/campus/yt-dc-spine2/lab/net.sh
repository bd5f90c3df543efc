#!/bin/sh
# Lab emulation of yt-dc-spine2: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.12/32 dev lo
ip link set hu1-0-1 up
ip addr replace 10.255.2.2/31 dev hu1-0-1
ip link set hu1-0-2 up
ip addr replace 10.255.2.6/31 dev hu1-0-2
ip link set hu1-0-3 up
ip addr replace 10.255.2.10/31 dev hu1-0-3
ip link set hu1-0-4 up
ip addr replace 10.255.2.14/31 dev hu1-0-4
