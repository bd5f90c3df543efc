#!/bin/sh
# Lab emulation of jpl-b02-as1: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-bond br0 bond1 xge1-0-27 xge1-0-28 -- set port bond1 bond_mode=balance-tcp lacp=active other_config:lacp-time=fast
ovs-vsctl set port bond1 vlan_mode=trunk trunks=102,202,402,502 -- clear port bond1 tag
ip link set br0 up 2>/dev/null || true
