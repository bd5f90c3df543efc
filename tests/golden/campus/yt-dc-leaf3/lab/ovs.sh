#!/bin/sh
# Lab emulation of yt-dc-leaf3: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-port br0 xe1-0-20
ovs-vsctl set port xe1-0-20 vlan_mode=access tag=2010 -- clear port xe1-0-20 trunks
ovs-vsctl --may-exist add-port br0 vlan2010o
ovs-vsctl set port vlan2010o vlan_mode=access tag=2010 -- clear port vlan2010o trunks
ip link set br0 up 2>/dev/null || true
