# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab filter: a flood that stops hurting when the filter goes on. The client floods
# backend-a with echo requests; a limit rule lets 100/s through and drops the rest at
# XDP, per-rule counters and the top source say who; a new rule set swaps in with one
# update (--dry-run first).
step "filter: an XDP firewall, rules compiled into maps; a flood limited, a swap without a gap"
rf="/tmp/$LAB-filter.rules"
printf '# demo\n10 deny src 203.0.113.0/24\n20 limit proto icmp rate 100pps burst 10 block 0s\n' > "$rf"
flood() { in_node client timeout 10 ping -q -c 1000 -i 0.002 -W 1 198.18.0.11 2>&1 | grep -E 'transmitted' | sed 's/^/     client: /' || true; }

say "1. no filter: 1000 echo requests, one every 2 ms, all answered"
flood
cmd bpflab --netns "$LAB-backend-a" filter start eth0 --rules "$rf"
in_node backend-a "$BPFLAB" filter start eth0 --rules "$rf" | sed 's/^/     /'
say "2. the same flood: the limit passes ~100/s (plus the burst), XDP drops the rest"
flood
cmd bpflab --netns "$LAB-backend-a" filter show
in_node backend-a "$BPFLAB" filter show | sed 's/^/     /'
printf '# demo, v2\n10 deny src 203.0.113.0/24,198.51.100.0/24\n20 deny proto icmp icmp-type 8\n' > "$rf.2"
say "3. a new rule set: --dry-run says what changes, apply swaps it in with one map update"
cmd bpflab --netns "$LAB-backend-a" filter apply "$rf.2" --dry-run
in_node backend-a "$BPFLAB" filter apply "$rf.2" --dry-run | sed 's/^/     /'
in_node backend-a "$BPFLAB" filter apply "$rf.2" | sed 's/^/     /'
cmd bpflab --netns "$LAB-backend-a" filter stop eth0
in_node backend-a "$BPFLAB" filter stop eth0 | sed 's/^/     /'
rm -f "$rf" "$rf.2"
