#!/bin/sh
# Lab emulation of yt-dc-leaf2: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.22/32 dev lo
# L2VNIs: a bridge per VNI holding the vxlan device and a veth to the OVS access port
ip link show vlan2010 >/dev/null 2>&1 || ip link add vlan2010 type bridge
ip link show vxlan12010 >/dev/null 2>&1 || ip link add vxlan12010 type vxlan id 12010 local 10.255.0.22 dstport 4789 nolearning
ip link set vxlan12010 master vlan2010
bridge link set dev vxlan12010 learning off neigh_suppress on
ip link show vlan2010b >/dev/null 2>&1 || ip link add vlan2010b type veth peer name vlan2010o
ip link set vlan2010b master vlan2010
ip link set vlan2010b up
ip link set vlan2010o up
ip link set vxlan12010 up
ip link set vlan2010 up
ip link show vlan2020 >/dev/null 2>&1 || ip link add vlan2020 type bridge
ip link show vxlan12020 >/dev/null 2>&1 || ip link add vxlan12020 type vxlan id 12020 local 10.255.0.22 dstport 4789 nolearning
ip link set vxlan12020 master vlan2020
bridge link set dev vxlan12020 learning off neigh_suppress on
ip link show vlan2020b >/dev/null 2>&1 || ip link add vlan2020b type veth peer name vlan2020o
ip link set vlan2020b master vlan2020
ip link set vlan2020b up
ip link set vlan2020o up
ip link set vxlan12020 up
ip link set vlan2020 up
ip link show vlan2030 >/dev/null 2>&1 || ip link add vlan2030 type bridge
ip link show vxlan12030 >/dev/null 2>&1 || ip link add vxlan12030 type vxlan id 12030 local 10.255.0.22 dstport 4789 nolearning
ip link set vxlan12030 master vlan2030
bridge link set dev vxlan12030 learning off neigh_suppress on
ip link show vlan2030b >/dev/null 2>&1 || ip link add vlan2030b type veth peer name vlan2030o
ip link set vlan2030b master vlan2030
ip link set vlan2030b up
ip link set vlan2030o up
ip link set vxlan12030 up
ip link set vlan2030 up
ip link show vlan2040 >/dev/null 2>&1 || ip link add vlan2040 type bridge
ip link show vxlan12040 >/dev/null 2>&1 || ip link add vxlan12040 type vxlan id 12040 local 10.255.0.22 dstport 4789 nolearning
ip link set vxlan12040 master vlan2040
bridge link set dev vxlan12040 learning off neigh_suppress on
ip link show vlan2040b >/dev/null 2>&1 || ip link add vlan2040b type veth peer name vlan2040o
ip link set vlan2040b master vlan2040
ip link set vlan2040b up
ip link set vlan2040o up
ip link set vxlan12040 up
ip link set vlan2040 up
ip link set hu1-0-1 up
ip addr replace 10.255.2.5/31 dev hu1-0-1
ip link set hu1-0-2 up
ip addr replace 10.255.2.7/31 dev hu1-0-2
ip link set vlan2010 up
ip addr replace 10.30.10.3/24 dev vlan2010
ip link show vrrp2010-10 >/dev/null 2>&1 || ip link add vrrp2010-10 link vlan2010 type macvlan mode bridge
ip link set vrrp2010-10 address 00:00:5e:00:01:0a
ip addr replace 10.30.10.1/24 dev vrrp2010-10
ip link set vrrp2010-10 up
ip link set vlan2020 up
ip addr replace 10.30.20.3/24 dev vlan2020
ip link show vrrp2020-20 >/dev/null 2>&1 || ip link add vrrp2020-20 link vlan2020 type macvlan mode bridge
ip link set vrrp2020-20 address 00:00:5e:00:01:14
ip addr replace 10.30.20.1/24 dev vrrp2020-20
ip link set vrrp2020-20 up
ip link set vlan2030 up
ip addr replace 10.30.30.3/24 dev vlan2030
ip link show vrrp2030-30 >/dev/null 2>&1 || ip link add vrrp2030-30 link vlan2030 type macvlan mode bridge
ip link set vrrp2030-30 address 00:00:5e:00:01:1e
ip addr replace 10.30.30.1/24 dev vrrp2030-30
ip link set vrrp2030-30 up
ip link set vlan2040 up
ip addr replace 10.30.40.3/24 dev vlan2040
ip link show vrrp2040-40 >/dev/null 2>&1 || ip link add vrrp2040-40 link vlan2040 type macvlan mode bridge
ip link set vrrp2040-40 address 00:00:5e:00:01:28
ip addr replace 10.30.40.1/24 dev vrrp2040-40
ip link set vrrp2040-40 up
ip link set xe1-0-46 up
ip addr replace 10.255.1.34/31 dev xe1-0-46
ip link set xe1-0-47 up
ip addr replace 10.255.1.5/31 dev xe1-0-47
ip link set xe1-0-48 up
ip addr replace 10.255.1.7/31 dev xe1-0-48
