#!/bin/sh
# Lab emulation of yt-dc-leaf3: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.23/32 dev lo
# L2VNIs: a bridge per VNI holding the vxlan device and a veth to the OVS access port
ip link show vlan2010 >/dev/null 2>&1 || ip link add vlan2010 type bridge
ip link show vxlan12010 >/dev/null 2>&1 || ip link add vxlan12010 type vxlan id 12010 local 10.255.0.23 dstport 4789 nolearning
ip link set vxlan12010 master vlan2010
bridge link set dev vxlan12010 learning off neigh_suppress on
ip link show vlan2010b >/dev/null 2>&1 || ip link add vlan2010b type veth peer name vlan2010o
ip link set vlan2010b master vlan2010
ip link set vlan2010b up
ip link set vlan2010o up
ip link set vxlan12010 up
ip link set vlan2010 up
ip link set hu1-0-1 up
ip addr replace 10.255.2.9/31 dev hu1-0-1
ip link set hu1-0-2 up
ip addr replace 10.255.2.11/31 dev hu1-0-2
ip link set xe1-0-20 up
