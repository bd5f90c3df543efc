#!/bin/sh
# Lab emulation of ytg-vpn-1: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.4/32 dev lo
ip addr replace 198.51.100.10/32 dev lo
ip link set eth1 up
ip addr replace 10.0.2.1/31 dev eth1
