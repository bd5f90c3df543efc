#!/bin/sh
# Lab emulation of jpl-core: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.1/32 dev lo
ip link set hu1-0-1 up
ip addr replace 10.0.0.0/31 dev hu1-0-1
ip link show vlan99 >/dev/null 2>&1 || ip link add vlan99 type veth peer name vlan99o
ip link set vlan99o up
ip link set vlan99 up
ip addr replace 10.99.0.1/24 dev vlan99
ip link show vlan110 >/dev/null 2>&1 || ip link add vlan110 type veth peer name vlan110o
ip link set vlan110o up
ip link set vlan110 up
ip addr replace 10.101.10.1/24 dev vlan110
ip link show vlan111 >/dev/null 2>&1 || ip link add vlan111 type veth peer name vlan111o
ip link set vlan111o up
ip link set vlan111 up
ip addr replace 10.101.11.1/24 dev vlan111
ip link show vlan300 >/dev/null 2>&1 || ip link add vlan300 type veth peer name vlan300o
ip link set vlan300o up
ip link set vlan300 up
ip addr replace 10.103.0.1/24 dev vlan300
ip link set xe1-0-1 up
ip link set xe1-0-2 up
ip link set xe2-0-1 up
ip link set xe2-0-2 up
