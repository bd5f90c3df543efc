#!/bin/sh
# Lab emulation of jpl-acc-b01: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-bond br0 bond1 ge1-0-49 ge1-0-50 -- set port bond1 bond_mode=balance-tcp lacp=active other_config:lacp-time=fast
ovs-vsctl set port bond1 vlan_mode=trunk trunks=99,110,300 -- clear port bond1 tag
ovs-vsctl --may-exist add-port br0 vlan99o
ovs-vsctl set port vlan99o vlan_mode=access tag=99 -- clear port vlan99o trunks
ip link set br0 up 2>/dev/null || true
