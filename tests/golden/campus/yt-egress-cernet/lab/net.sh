#!/bin/sh
# Lab emulation of yt-egress-cernet: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.3/32 dev lo
ip link set xe0-1-0 up
ip addr replace 10.255.1.17/31 dev xe0-1-0
ip link set xe0-1-1 up
ip addr replace 10.255.1.19/31 dev xe0-1-1
ip link set xe0-1-2 up
ip addr replace 203.0.113.0/31 dev xe0-1-2
