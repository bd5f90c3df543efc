#!/bin/sh
# Lab emulation of yt-egress-isp: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.4/32 dev lo
ip link set xe0-1-0 up
ip addr replace 10.255.1.21/31 dev xe0-1-0
ip link set xe0-1-1 up
ip addr replace 10.255.1.23/31 dev xe0-1-1
ip link set xe0-1-2 up
ip addr replace 203.0.113.2/31 dev xe0-1-2
ip link set xe0-1-3 up
ip addr replace 203.0.113.4/31 dev xe0-1-3
