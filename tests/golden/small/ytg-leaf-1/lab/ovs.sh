#!/bin/sh
# Lab emulation of ytg-leaf-1: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-port br0 xe1-0-1
ovs-vsctl set port xe1-0-1 vlan_mode=access tag=200 -- clear port xe1-0-1 trunks
ovs-vsctl --may-exist add-port br0 vlan200o
ovs-vsctl set port vlan200o vlan_mode=access tag=200 -- clear port vlan200o trunks
ip link set br0 up 2>/dev/null || true
