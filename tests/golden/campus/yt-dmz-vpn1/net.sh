#!/bin/sh
# Lab emulation of yt-dmz-vpn1: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.30/32 dev lo
ip addr replace 198.51.100.10/32 dev lo
ip link set eth0 up
ip addr replace 10.255.1.33/31 dev eth0
ip link set eth1 up
ip addr replace 10.255.1.35/31 dev eth1
