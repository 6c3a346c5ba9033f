# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's C hello: an XDP program whose global counter is read from user space.
step "count: the talk's hello.bpf.c, its global counter read through the skeleton"
say "XDP on backend-a's eth0 (native mode on veth) while the client pings it 10 times"
in_node backend-a "$BPFLAB" count eth0 --duration 3 --interval 0 --json > "/tmp/$LAB-count.json" &
sleep 0.5
in_node client ping -c 10 -i 0.1 -q 198.18.0.11 | sed 's/^/     /' | tail -2
wait
jq -r '"   program \(.program) on \(.interface), \(.mode) mode: counter \(.counter), icmp \(.packets.icmp), arp \(.packets.arp), ipv6 \(.packets.ipv6), verdict pass \(.actions.pass)"' < "/tmp/$LAB-count.json" | tail -1
rm -f "/tmp/$LAB-count.json"
