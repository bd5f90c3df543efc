#!/bin/sh
# Lab emulation of jpl-core: kernel side (addresses, SVI/VNI devices, sysctls). Idempotent.
# Run inside the node's namespace after the lab has created the cable veths; then ovs.sh, then FRR.
set -e
sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv6.conf.all.forwarding=0
ip link set lo up
ip addr replace 10.255.0.1/32 dev lo
ip link set tf1-0-1 up
ip link set tf1-0-3 up
ip link set tf1-0-47 up
ip addr replace 10.255.1.65/31 dev tf1-0-47
ip link set tf2-0-1 up
ip link set tf2-0-3 up
ip link set tf2-0-47 up
ip addr replace 10.255.1.67/31 dev tf2-0-47
ip link show vlan101 >/dev/null 2>&1 || ip link add vlan101 type veth peer name vlan101o
ip link set vlan101o up
ip link set vlan101 up
ip addr replace 10.20.1.1/24 dev vlan101
ip link show vlan102 >/dev/null 2>&1 || ip link add vlan102 type veth peer name vlan102o
ip link set vlan102o up
ip link set vlan102 up
ip addr replace 10.20.2.1/24 dev vlan102
ip link show vlan103 >/dev/null 2>&1 || ip link add vlan103 type veth peer name vlan103o
ip link set vlan103o up
ip link set vlan103 up
ip addr replace 10.20.3.1/24 dev vlan103
ip link show vlan105 >/dev/null 2>&1 || ip link add vlan105 type veth peer name vlan105o
ip link set vlan105o up
ip link set vlan105 up
ip addr replace 10.20.5.1/24 dev vlan105
ip link show vlan112 >/dev/null 2>&1 || ip link add vlan112 type veth peer name vlan112o
ip link set vlan112o up
ip link set vlan112 up
ip addr replace 10.20.12.1/24 dev vlan112
ip link show vlan201 >/dev/null 2>&1 || ip link add vlan201 type veth peer name vlan201o
ip link set vlan201o up
ip link set vlan201 up
ip addr replace 10.20.41.1/24 dev vlan201
ip link show vlan202 >/dev/null 2>&1 || ip link add vlan202 type veth peer name vlan202o
ip link set vlan202o up
ip link set vlan202 up
ip addr replace 10.20.42.1/24 dev vlan202
ip link show vlan203 >/dev/null 2>&1 || ip link add vlan203 type veth peer name vlan203o
ip link set vlan203o up
ip link set vlan203 up
ip addr replace 10.20.43.1/24 dev vlan203
ip link show vlan204 >/dev/null 2>&1 || ip link add vlan204 type veth peer name vlan204o
ip link set vlan204o up
ip link set vlan204 up
ip addr replace 10.20.44.1/24 dev vlan204
ip link show vlan205 >/dev/null 2>&1 || ip link add vlan205 type veth peer name vlan205o
ip link set vlan205o up
ip link set vlan205 up
ip addr replace 10.20.45.1/24 dev vlan205
ip link show vlan210 >/dev/null 2>&1 || ip link add vlan210 type veth peer name vlan210o
ip link set vlan210o up
ip link set vlan210 up
ip addr replace 10.20.50.1/24 dev vlan210
ip link show vlan211 >/dev/null 2>&1 || ip link add vlan211 type veth peer name vlan211o
ip link set vlan211o up
ip link set vlan211 up
ip addr replace 10.20.51.1/24 dev vlan211
ip link show vlan306 >/dev/null 2>&1 || ip link add vlan306 type veth peer name vlan306o
ip link set vlan306o up
ip link set vlan306 up
ip addr replace 10.20.86.1/24 dev vlan306
ip link show vlan307 >/dev/null 2>&1 || ip link add vlan307 type veth peer name vlan307o
ip link set vlan307o up
ip link set vlan307 up
ip addr replace 10.20.87.1/24 dev vlan307
ip link show vlan308 >/dev/null 2>&1 || ip link add vlan308 type veth peer name vlan308o
ip link set vlan308o up
ip link set vlan308 up
ip addr replace 10.20.88.1/24 dev vlan308
ip link show vlan309 >/dev/null 2>&1 || ip link add vlan309 type veth peer name vlan309o
ip link set vlan309o up
ip link set vlan309 up
ip addr replace 10.20.89.1/24 dev vlan309
ip link show vlan401 >/dev/null 2>&1 || ip link add vlan401 type veth peer name vlan401o
ip link set vlan401o up
ip link set vlan401 up
ip addr replace 10.20.121.1/24 dev vlan401
ip link show vlan402 >/dev/null 2>&1 || ip link add vlan402 type veth peer name vlan402o
ip link set vlan402o up
ip link set vlan402 up
ip addr replace 10.20.122.1/24 dev vlan402
ip link show vlan403 >/dev/null 2>&1 || ip link add vlan403 type veth peer name vlan403o
ip link set vlan403o up
ip link set vlan403 up
ip addr replace 10.20.123.1/24 dev vlan403
ip link show vlan404 >/dev/null 2>&1 || ip link add vlan404 type veth peer name vlan404o
ip link set vlan404o up
ip link set vlan404 up
ip addr replace 10.20.124.1/24 dev vlan404
ip link show vlan405 >/dev/null 2>&1 || ip link add vlan405 type veth peer name vlan405o
ip link set vlan405o up
ip link set vlan405 up
ip addr replace 10.20.125.1/24 dev vlan405
ip link show vlan406 >/dev/null 2>&1 || ip link add vlan406 type veth peer name vlan406o
ip link set vlan406o up
ip link set vlan406 up
ip addr replace 10.20.126.1/24 dev vlan406
ip link show vlan407 >/dev/null 2>&1 || ip link add vlan407 type veth peer name vlan407o
ip link set vlan407o up
ip link set vlan407 up
ip addr replace 10.20.127.1/24 dev vlan407
ip link show vlan408 >/dev/null 2>&1 || ip link add vlan408 type veth peer name vlan408o
ip link set vlan408o up
ip link set vlan408 up
ip addr replace 10.20.128.1/24 dev vlan408
ip link show vlan409 >/dev/null 2>&1 || ip link add vlan409 type veth peer name vlan409o
ip link set vlan409o up
ip link set vlan409 up
ip addr replace 10.20.129.1/24 dev vlan409
ip link show vlan410 >/dev/null 2>&1 || ip link add vlan410 type veth peer name vlan410o
ip link set vlan410o up
ip link set vlan410 up
ip addr replace 10.20.130.1/24 dev vlan410
ip link show vlan411 >/dev/null 2>&1 || ip link add vlan411 type veth peer name vlan411o
ip link set vlan411o up
ip link set vlan411 up
ip addr replace 10.20.131.1/24 dev vlan411
ip link show vlan412 >/dev/null 2>&1 || ip link add vlan412 type veth peer name vlan412o
ip link set vlan412o up
ip link set vlan412 up
ip addr replace 10.20.132.1/24 dev vlan412
ip link show vlan501 >/dev/null 2>&1 || ip link add vlan501 type veth peer name vlan501o
ip link set vlan501o up
ip link set vlan501 up
ip addr replace 10.20.161.1/24 dev vlan501
ip link show vlan502 >/dev/null 2>&1 || ip link add vlan502 type veth peer name vlan502o
ip link set vlan502o up
ip link set vlan502 up
ip addr replace 10.20.162.1/24 dev vlan502
ip link show vlan503 >/dev/null 2>&1 || ip link add vlan503 type veth peer name vlan503o
ip link set vlan503o up
ip link set vlan503 up
ip addr replace 10.20.163.1/24 dev vlan503
ip link show vlan504 >/dev/null 2>&1 || ip link add vlan504 type veth peer name vlan504o
ip link set vlan504o up
ip link set vlan504 up
ip addr replace 10.20.164.1/24 dev vlan504
ip link show vlan506 >/dev/null 2>&1 || ip link add vlan506 type veth peer name vlan506o
ip link set vlan506o up
ip link set vlan506 up
ip addr replace 10.20.166.1/24 dev vlan506
ip link show vlan507 >/dev/null 2>&1 || ip link add vlan507 type veth peer name vlan507o
ip link set vlan507o up
ip link set vlan507 up
ip addr replace 10.20.167.1/24 dev vlan507
ip link show vlan508 >/dev/null 2>&1 || ip link add vlan508 type veth peer name vlan508o
ip link set vlan508o up
ip link set vlan508 up
ip addr replace 10.20.168.1/24 dev vlan508
ip link show vlan509 >/dev/null 2>&1 || ip link add vlan509 type veth peer name vlan509o
ip link set vlan509o up
ip link set vlan509 up
ip addr replace 10.20.169.1/24 dev vlan509
ip link show vlan510 >/dev/null 2>&1 || ip link add vlan510 type veth peer name vlan510o
ip link set vlan510o up
ip link set vlan510 up
ip addr replace 10.20.170.1/24 dev vlan510
ip link show vlan512 >/dev/null 2>&1 || ip link add vlan512 type veth peer name vlan512o
ip link set vlan512o up
ip link set vlan512 up
ip addr replace 10.20.172.1/24 dev vlan512
ip link show vlan900 >/dev/null 2>&1 || ip link add vlan900 type veth peer name vlan900o
ip link set vlan900o up
ip link set vlan900 up
ip addr replace 10.20.250.1/24 dev vlan900
