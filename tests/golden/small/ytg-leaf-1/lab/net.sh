#!/bin/sh
# Lab emulation of ytg-leaf-1: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.1.11/32 dev lo
# L2VNIs: a bridge per VNI holding the vxlan device and a veth to the OVS access port
ip link show vlan200 >/dev/null 2>&1 || ip link add vlan200 type bridge
ip link show vxlan10200 >/dev/null 2>&1 || ip link add vxlan10200 type vxlan id 10200 local 10.255.1.11 dstport 4789 nolearning
ip link set vxlan10200 master vlan200
bridge link set dev vxlan10200 learning off neigh_suppress on
ip link show vlan200b >/dev/null 2>&1 || ip link add vlan200b type veth peer name vlan200o
ip link set vlan200b master vlan200
ip link set vlan200b up
ip link set vlan200o up
ip link set vxlan10200 up
ip link set vlan200 up
ip link set hu1-0-49 up
ip addr replace 10.1.0.1/31 dev hu1-0-49
ip link set vlan200 up
ip addr replace 10.20.0.2/24 dev vlan200
ip link show vrrp200-200 >/dev/null 2>&1 || ip link add vrrp200-200 link vlan200 type macvlan mode bridge
ip link set vrrp200-200 address 00:00:5e:00:01:c8
ip addr replace 10.20.0.1/24 dev vrrp200-200
ip link set vrrp200-200 up
ip link set xe1-0-1 up
