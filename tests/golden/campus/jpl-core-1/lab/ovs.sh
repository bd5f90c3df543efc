#!/bin/sh
# Lab emulation of jpl-core: Open vSwitch (userspace datapath). Idempotent.
# Run inside the node's namespace with its own ovsdb/vswitchd (OVS_RUNDIR...), after net.sh.
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-bond br0 bond1 tf1-0-1 tf2-0-1 -- set port bond1 bond_mode=balance-tcp lacp=active other_config:lacp-time=fast
ovs-vsctl set port bond1 vlan_mode=trunk trunks=101,201,401,501 -- clear port bond1 tag
ovs-vsctl --may-exist add-bond br0 bond3 tf1-0-3 tf2-0-3 -- set port bond3 bond_mode=balance-tcp lacp=active other_config:lacp-time=fast
ovs-vsctl set port bond3 vlan_mode=trunk trunks=102,202,402,502 -- clear port bond3 tag
ovs-vsctl --may-exist add-port br0 vlan101o
ovs-vsctl set port vlan101o vlan_mode=access tag=101 -- clear port vlan101o trunks
ovs-vsctl --may-exist add-port br0 vlan102o
ovs-vsctl set port vlan102o vlan_mode=access tag=102 -- clear port vlan102o trunks
ovs-vsctl --may-exist add-port br0 vlan103o
ovs-vsctl set port vlan103o vlan_mode=access tag=103 -- clear port vlan103o trunks
ovs-vsctl --may-exist add-port br0 vlan105o
ovs-vsctl set port vlan105o vlan_mode=access tag=105 -- clear port vlan105o trunks
ovs-vsctl --may-exist add-port br0 vlan112o
ovs-vsctl set port vlan112o vlan_mode=access tag=112 -- clear port vlan112o trunks
ovs-vsctl --may-exist add-port br0 vlan201o
ovs-vsctl set port vlan201o vlan_mode=access tag=201 -- clear port vlan201o trunks
ovs-vsctl --may-exist add-port br0 vlan202o
ovs-vsctl set port vlan202o vlan_mode=access tag=202 -- clear port vlan202o trunks
ovs-vsctl --may-exist add-port br0 vlan203o
ovs-vsctl set port vlan203o vlan_mode=access tag=203 -- clear port vlan203o trunks
ovs-vsctl --may-exist add-port br0 vlan204o
ovs-vsctl set port vlan204o vlan_mode=access tag=204 -- clear port vlan204o trunks
ovs-vsctl --may-exist add-port br0 vlan205o
ovs-vsctl set port vlan205o vlan_mode=access tag=205 -- clear port vlan205o trunks
ovs-vsctl --may-exist add-port br0 vlan210o
ovs-vsctl set port vlan210o vlan_mode=access tag=210 -- clear port vlan210o trunks
ovs-vsctl --may-exist add-port br0 vlan211o
ovs-vsctl set port vlan211o vlan_mode=access tag=211 -- clear port vlan211o trunks
ovs-vsctl --may-exist add-port br0 vlan306o
ovs-vsctl set port vlan306o vlan_mode=access tag=306 -- clear port vlan306o trunks
ovs-vsctl --may-exist add-port br0 vlan307o
ovs-vsctl set port vlan307o vlan_mode=access tag=307 -- clear port vlan307o trunks
ovs-vsctl --may-exist add-port br0 vlan308o
ovs-vsctl set port vlan308o vlan_mode=access tag=308 -- clear port vlan308o trunks
ovs-vsctl --may-exist add-port br0 vlan309o
ovs-vsctl set port vlan309o vlan_mode=access tag=309 -- clear port vlan309o trunks
ovs-vsctl --may-exist add-port br0 vlan401o
ovs-vsctl set port vlan401o vlan_mode=access tag=401 -- clear port vlan401o trunks
ovs-vsctl --may-exist add-port br0 vlan402o
ovs-vsctl set port vlan402o vlan_mode=access tag=402 -- clear port vlan402o trunks
ovs-vsctl --may-exist add-port br0 vlan403o
ovs-vsctl set port vlan403o vlan_mode=access tag=403 -- clear port vlan403o trunks
ovs-vsctl --may-exist add-port br0 vlan404o
ovs-vsctl set port vlan404o vlan_mode=access tag=404 -- clear port vlan404o trunks
ovs-vsctl --may-exist add-port br0 vlan405o
ovs-vsctl set port vlan405o vlan_mode=access tag=405 -- clear port vlan405o trunks
ovs-vsctl --may-exist add-port br0 vlan406o
ovs-vsctl set port vlan406o vlan_mode=access tag=406 -- clear port vlan406o trunks
ovs-vsctl --may-exist add-port br0 vlan407o
ovs-vsctl set port vlan407o vlan_mode=access tag=407 -- clear port vlan407o trunks
ovs-vsctl --may-exist add-port br0 vlan408o
ovs-vsctl set port vlan408o vlan_mode=access tag=408 -- clear port vlan408o trunks
ovs-vsctl --may-exist add-port br0 vlan409o
ovs-vsctl set port vlan409o vlan_mode=access tag=409 -- clear port vlan409o trunks
ovs-vsctl --may-exist add-port br0 vlan410o
ovs-vsctl set port vlan410o vlan_mode=access tag=410 -- clear port vlan410o trunks
ovs-vsctl --may-exist add-port br0 vlan411o
ovs-vsctl set port vlan411o vlan_mode=access tag=411 -- clear port vlan411o trunks
ovs-vsctl --may-exist add-port br0 vlan412o
ovs-vsctl set port vlan412o vlan_mode=access tag=412 -- clear port vlan412o trunks
ovs-vsctl --may-exist add-port br0 vlan501o
ovs-vsctl set port vlan501o vlan_mode=access tag=501 -- clear port vlan501o trunks
ovs-vsctl --may-exist add-port br0 vlan502o
ovs-vsctl set port vlan502o vlan_mode=access tag=502 -- clear port vlan502o trunks
ovs-vsctl --may-exist add-port br0 vlan503o
ovs-vsctl set port vlan503o vlan_mode=access tag=503 -- clear port vlan503o trunks
ovs-vsctl --may-exist add-port br0 vlan504o
ovs-vsctl set port vlan504o vlan_mode=access tag=504 -- clear port vlan504o trunks
ovs-vsctl --may-exist add-port br0 vlan506o
ovs-vsctl set port vlan506o vlan_mode=access tag=506 -- clear port vlan506o trunks
ovs-vsctl --may-exist add-port br0 vlan507o
ovs-vsctl set port vlan507o vlan_mode=access tag=507 -- clear port vlan507o trunks
ovs-vsctl --may-exist add-port br0 vlan508o
ovs-vsctl set port vlan508o vlan_mode=access tag=508 -- clear port vlan508o trunks
ovs-vsctl --may-exist add-port br0 vlan509o
ovs-vsctl set port vlan509o vlan_mode=access tag=509 -- clear port vlan509o trunks
ovs-vsctl --may-exist add-port br0 vlan510o
ovs-vsctl set port vlan510o vlan_mode=access tag=510 -- clear port vlan510o trunks
ovs-vsctl --may-exist add-port br0 vlan512o
ovs-vsctl set port vlan512o vlan_mode=access tag=512 -- clear port vlan512o trunks
ovs-vsctl --may-exist add-port br0 vlan900o
ovs-vsctl set port vlan900o vlan_mode=access tag=900 -- clear port vlan900o trunks
ip link set br0 up 2>/dev/null || true
