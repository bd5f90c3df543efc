#!/bin/sh
# Lab emulation of jpl-acc-b02: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip link set ge1-0-49 up
ip link set ge1-0-50 up
ip link show vlan99 >/dev/null 2>&1 || ip link add vlan99 type veth peer name vlan99o
ip link set vlan99o up
ip link set vlan99 up
ip addr replace 10.99.0.11/24 dev vlan99
