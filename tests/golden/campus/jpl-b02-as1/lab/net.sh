#!/bin/sh
# Lab emulation of jpl-b02-as1: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.103/32 dev lo
ip link set xge1-0-27 up
ip link set xge1-0-28 up
