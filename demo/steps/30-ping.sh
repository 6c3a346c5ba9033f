# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's ping example: echo requests seen, dropped, then answered by XDP itself while
# the backend's own kernel is told to ignore echo.
step "ping: see, drop and answer ICMP echo in the kernel (the talk's ping example)"
pf="/tmp/$LAB-ping.json"
ping_a() { in_node client ping "$@" -i 0.1 -W 1 198.18.0.11 2>&1 | grep -E 'transmitted' | sed 's/^/     client: /' || true; }
ping_summary() { jq -r 'select(.type == "summary") | "   \(.hook) \(.mode // "") on \(.interface): echo v4 \(.echo_v4) v6 \(.echo_v6), passed \(.passed), dropped \(.dropped), replied \(.replied), answered \(.answered)"' < "$pf"; }

say "1. watch: ping_xdp on backend-a's eth0 reports every echo request and passes it"
cmd bpflab --netns "$LAB-backend-a" ping eth0 --duration 1.8 '&   # the client pings v4 and v6'
in_node backend-a "$BPFLAB" ping eth0 --duration 1.8 > "$pf" 2>/dev/null &
sleep 0.9
in_node client ping -c 2 -i 0.1 -q 198.18.0.11 > /dev/null
in_node client ping -6 -c 1 -q 2001:db8:18::b > /dev/null
wait
grep -E 'echo id' "$pf" | sed 's/^/     /'

say "2. --drop: the talk's experiment"
cmd bpflab --netns "$LAB-backend-a" ping eth0 --drop --duration 1.8 --json
in_node backend-a "$BPFLAB" ping eth0 --drop --duration 1.8 --json > "$pf" &
sleep 0.9
ping_a -c 3
wait
ping_summary

say "3. --reply: backend-a's kernel ignores echo (net.ipv4.icmp_echo_ignore_all=1) ..."
in_node backend-a sysctl -qw net.ipv4.icmp_echo_ignore_all=1
ping_a -c 1
say "   ... and XDP answers instead (XDP_TX: an XDP program on the switch port gives that"
say "   veth its NAPI, which XDP_TX into a veth needs)"
cmd bpflab --netns "$LAB-sw" count p-backend-a --duration 4 --interval 0 '&'
cf="/tmp/$LAB-count.json"
"$BPFLAB" --netns "$LAB-sw" count p-backend-a --duration 4 --interval 0 --json > "$cf" 2>/dev/null &
# ping's --hook auto looks at the peer when it starts: count must be attached by then
# (else auto rightly picks tc). Bounded: 3 s.
for _ in $(seq 30); do grep -q '"type":"attached"' "$cf" 2>/dev/null && break; sleep 0.1; done
cmd bpflab --netns "$LAB-backend-a" ping eth0 --reply --duration 2 --json
in_node backend-a "$BPFLAB" ping eth0 --reply --duration 2 --json > "$pf" 2>/dev/null &
sleep 1
ping_a -c 5
wait
ping_summary
in_node backend-a sysctl -qw net.ipv4.icmp_echo_ignore_all=0
rm -f "$pf" "$cf"
