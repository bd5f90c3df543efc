#!/bin/sh
# Lab emulation of yt-dc-leaf2: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-port br0 vlan2010o
ovs-vsctl set port vlan2010o vlan_mode=access tag=2010 -- clear port vlan2010o trunks
ovs-vsctl --may-exist add-port br0 vlan2020o
ovs-vsctl set port vlan2020o vlan_mode=access tag=2020 -- clear port vlan2020o trunks
ovs-vsctl --may-exist add-port br0 vlan2030o
ovs-vsctl set port vlan2030o vlan_mode=access tag=2030 -- clear port vlan2030o trunks
ovs-vsctl --may-exist add-port br0 vlan2040o
ovs-vsctl set port vlan2040o vlan_mode=access tag=2040 -- clear port vlan2040o trunks
ip link set br0 up 2>/dev/null || true
