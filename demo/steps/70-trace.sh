# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# "Why does this ping fail?" answered in one command: a firewall rule in backend-a drops
# echo requests; bpflab trace follows the ping from the client and names the rule's drop.
trace_wait() { # file: until the tracer says it is attached (at most 60 s: 20 programs load)
  for _ in $(seq 1 600); do grep -q "tracepoints attached" "$1" 2>/dev/null && return 0; sleep 0.1; done
}
step "trace: why does this ping fail?"
in_node backend-a nft -f - <<'NFT'
table inet demo {
  chain c1 { type filter hook input priority 0; icmp type echo-request drop; }
}
NFT
say "backend-a drops echo requests (nftables). The client's ping times out:"
show in_node client ping -c 1 -W 1 198.18.0.11 || true
say "one command: follow ICMP that starts in the client, wherever it goes"
cmd bpflab trace -c 1 -d 10 "netns $LAB-client and icmp and host 198.18.0.11"
"$BPFLAB" trace -c 1 -d 10 "netns $LAB-client and icmp and host 198.18.0.11" \
  > "/tmp/$LAB-trace.txt" 2> "/tmp/$LAB-trace.err" &
trace_wait "/tmp/$LAB-trace.err"
in_node client ping -c 1 -W 1 198.18.0.11 > /dev/null || true
wait
sed 's/^/     /' "/tmp/$LAB-trace.txt"
say "the kernel's own drop reason (from its BTF), in backend-a, at the nftables hook"
in_node backend-a nft delete table inet demo
rm -f "/tmp/$LAB-trace.txt" "/tmp/$LAB-trace.err"
