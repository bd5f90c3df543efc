#!/bin/sh
# Lab emulation of jpl-core: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-bond br0 bond11 xe1-0-1 xe2-0-1 -- set port bond11 bond_mode=balance-tcp lacp=active other_config:lacp-time=fast
ovs-vsctl set port bond11 vlan_mode=trunk trunks=99,110,300 -- clear port bond11 tag
ovs-vsctl --may-exist add-bond br0 bond12 xe1-0-2 xe2-0-2 -- set port bond12 bond_mode=balance-tcp lacp=active other_config:lacp-time=fast
ovs-vsctl set port bond12 vlan_mode=trunk trunks=99,111,300 -- clear port bond12 tag
ovs-vsctl --may-exist add-port br0 vlan99o
ovs-vsctl set port vlan99o vlan_mode=access tag=99 -- clear port vlan99o trunks
ovs-vsctl --may-exist add-port br0 vlan110o
ovs-vsctl set port vlan110o vlan_mode=access tag=110 -- clear port vlan110o trunks
ovs-vsctl --may-exist add-port br0 vlan111o
ovs-vsctl set port vlan111o vlan_mode=access tag=111 -- clear port vlan111o trunks
ovs-vsctl --may-exist add-port br0 vlan300o
ovs-vsctl set port vlan300o vlan_mode=access tag=300 -- clear port vlan300o trunks
ip link set br0 up 2>/dev/null || true
