#!/bin/sh
# Lab emulation of ytg-egress-1: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.3/32 dev lo
ip link set ge0-0-1 up
ip addr replace 10.0.1.1/31 dev ge0-0-1
ip link set ge0-0-2 up
ip addr replace 203.0.113.1/31 dev ge0-0-2
