#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab trace end to end: each way a packet dies, provoked in namespaces made here, and
# trace must name the cause (and no other cause for that packet).
# Tracing is machine-wide: every filter names this test's own namespaces (`netns NAME`),
# so another lab using the same addresses at the same time is never seen.
# Topology: a chain A --- R --- B (R routes, 198.18.1.0/24 and 198.18.2.0/24), plus a
# `bpflab lab` (client, lb, backend-a) for the lb scenario.
load helpers

setup_file() {
  require_bpf
  P="tr$(printf '%x' $$)$((RANDOM % 100))"
  export P A="$P-a" R="$P-r" B="$P-b"
  ip netns add "$A"; ip netns add "$R"; ip netns add "$B"
  ip link add "$P-ar" type veth peer name "$P-ra"
  ip link add "$P-rb" type veth peer name "$P-br"
  ip link set "$P-ar" netns "$A" name eth0
  ip link set "$P-ra" netns "$R" name eth0
  ip link set "$P-rb" netns "$R" name eth1
  ip link set "$P-br" netns "$B" name eth0
  for n in "$A" "$R" "$B"; do ip -n "$n" link set lo up; ip -n "$n" link set eth0 up; done
  ip -n "$R" link set eth1 up
  ip -n "$A" addr add 198.18.1.1/24 dev eth0
  ip -n "$R" addr add 198.18.1.254/24 dev eth0
  ip -n "$R" addr add 198.18.2.254/24 dev eth1
  ip -n "$B" addr add 198.18.2.2/24 dev eth0
  ip -n "$A" route add default via 198.18.1.254
  ip -n "$B" route add default via 198.18.2.254
  ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
  # Unanswered ARP gives up after one probe of 100 ms (default: 3 of 1 s).
  ip netns exec "$A" sysctl -qw net.ipv4.neigh.eth0.mcast_solicit=1 \
    net.ipv4.neigh.eth0.retrans_time_ms=100
}

teardown_file() {
  for n in "$A" "$R" "$B"; do ip netns del "$n" 2>/dev/null || true; done
}

setup() {
  require_bpf
  OUTF="$BATS_TEST_TMPDIR/trace.json"
  ERRF="$BATS_TEST_TMPDIR/trace.err"
  TPID= LAB= STOPS=()
}

teardown() {
  [ -n "$TPID" ] && kill -INT "$TPID" 2>/dev/null && wait "$TPID" 2>/dev/null || true
  local s
  for s in "${STOPS[@]}"; do "$BPFLAB" --netns "${s#*@}" "${s%@*}" stop eth0 >/dev/null 2>&1 || true; done
  [ -n "$LAB" ] && rm -rf "/sys/fs/bpf/bpflab/filter/eth0@$LAB-backend-a" || true
  [ -n "$LAB" ] && "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  ip netns exec "$R" nft delete table inet bpflabtest 2>/dev/null || true
}

# A tracer in the background for at most 20 s: --json plus the filter words.
tracer() {
  timeout 90 "$BPFLAB" trace --json -d 20 "$@" > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_attached
}

# Loading 20 programs takes seconds on a busy machine: wait up to 60 s.
wait_attached() {
  local i
  for i in $(seq 1 600); do
    grep -q '"type":"attached"' "$OUTF" 2>/dev/null && return 0
    kill -0 "$TPID" 2>/dev/null || break
    sleep 0.1
  done
  echo "trace did not attach" >&2; cat "$ERRF" >&2
  return 1
}

# Ctrl-C: the tracer shows what it holds and its summary.
stop_tracer() {
  sleep 0.3
  kill -INT "$TPID"
  wait "$TPID" || { cat "$ERRF" >&2; return 1; }
  TPID=
  grep -q '"type":"summary"' "$OUTF"
  # TRACE_KEEP=DIR keeps each test's records (what docs/trace.md's table shows).
  [ -z "${TRACE_KEEP:-}" ] || cp "$OUTF" "$TRACE_KEEP/$BATS_TEST_NUMBER.json"
  # Every record as docs/json.md documents it.
  python3 "$BATS_TEST_DIRNAME/json_schema.py" "$BATS_TEST_DIRNAME/../../docs/json.md" trace "$OUTF" >&2
}

ev() { grep '"type":"event"' "$OUTF" || true; }
pk() { grep '"type":"packet"' "$OUTF" || true; }
# The events of the packets that have an event matching the jq condition.
packets_with() {
  local ids
  ids=$(ev | jq -c "select($1) | .packet" | sort -u | paste -sd, -)
  [ -n "$ids" ] || { echo "no event matches: $1" >&2; head -c 3000 "$OUTF" >&2; return 1; }
  ev | jq -c "select(.packet as \$p | [$ids] | index(\$p))"
}
# Every drop reason of the packets with an event matching the condition, sorted, unique.
drops_of() { packets_with "$1" | jq -r 'select(.hook == "kfree_skb") | .reason' | sort -u | paste -sd' ' -; }

@test "a filter trace cannot parse: exit 2 with the column, nothing attached" {
  run "$BPFLAB" trace host 1.2.3 and tcp
  [ "$status" -eq 2 ]
  [[ $output == *"column"* ]]
  run "$BPFLAB" trace --json tcp and
  [ "$status" -eq 2 ]
  json_assert "$(echo "$output" | grep '^{')" '.type == "error" and .exit == "usage"'
  run "$BPFLAB" trace --ringbuf-size 1000 icmp
  [ "$status" -eq 2 ]
}

@test "attached: says which of the issue's tracepoints this kernel has" {
  run "$BPFLAB" trace --json -d 0.2 "netns $A"
  [ "$status" -eq 0 ]
  json_assert "$(echo "$output" | head -1)" '.type == "attached" and .tracepoints >= 1'
  line=$(echo "$output" | head -1)
  # Each tracepoint the record lists exists in tracefs.
  for tp in $(echo "$line" | jq -r .hooks); do
    [ -d "/sys/kernel/tracing/events/${tp%%:*}/${tp#*:}" ]
  done
  json_assert "$(echo "$output" | tail -1)" '.type == "summary" and .lost == 0'
}

@test "nftables drop rule in the router: NETFILTER_DROP in R, nothing else" {
  ip netns exec "$R" nft -f - <<'EOF'
table inet bpflabtest {
  chain c1 { type filter hook forward priority 0; icmp type echo-request drop; }
}
EOF
  tracer "netns $A and icmp"
  run ip netns exec "$A" ping -c 1 -W 1 198.18.2.2
  [ "$status" -ne 0 ]
  stop_tracer
  req='.hook == "net_dev_queue" and .netns_name == env.A and .dst == "198.18.2.2"'
  [ "$(drops_of "$req")" = "NETFILTER_DROP" ]
  packets_with "$req" | jq -e -s 'map(select(.hook == "kfree_skb"))[0] | .netns_name == env.R and .interface == "eth0"' >/dev/null
  pk | jq -e -s 'map(select(.reason == "NETFILTER_DROP")) | length >= 1' >/dev/null
}

@test "rp_filter in the router: a spoofed source is dropped as IP_RPFILTER" {
  # The neighbours first: with rp_filter on, R would not answer ARP from the spoofed source.
  ip netns exec "$A" ping -c 1 -W 1 198.18.2.2 >/dev/null
  ip -n "$A" addr add 198.18.9.1/32 dev eth0
  ip -n "$R" route add 198.18.9.0/24 via 198.18.2.2
  ip netns exec "$R" sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1
  tracer "netns $A and icmp"
  run ip netns exec "$A" ping -c 1 -W 1 -I 198.18.9.1 198.18.2.2
  ip netns exec "$R" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
  ip -n "$R" route del 198.18.9.0/24
  ip -n "$A" addr del 198.18.9.1/32 dev eth0
  [ "$status" -ne 0 ]
  stop_tracer
  [ "$(drops_of '.src == "198.18.9.1" and .netns_name == env.A')" = "IP_RPFILTER" ]
}

@test "no route in the router: the lookup finds nothing, ICMP net unreachable, dropped" {
  tracer "netns $A and icmp"
  run ip netns exec "$A" ping -c 1 -W 1 198.18.50.1
  [ "$status" -ne 0 ]
  stop_tracer
  req='.dst == "198.18.50.1" and .netns_name == env.A and .hook == "net_dev_queue"'
  packets_with "$req" | jq -e -s '[.[] | select(.netns_name == env.R and .hook == "fib_table_lookup" and .route.table == "main")][0].route.result == "no_match"' >/dev/null
  packets_with "$req" | jq -e -s 'map(select(.hook == "icmp_send"))[0].reason == "net_unreachable"' >/dev/null
  [ "$(drops_of "$req")" = "IP_INNOROUTES" ]
}

@test "TTL expired in the router: ICMP time exceeded sent, dropped in R" {
  tracer "netns $A and icmp"
  run ip netns exec "$A" ping -c 1 -W 1 -t 1 198.18.2.2
  [ "$status" -ne 0 ]
  stop_tracer
  req='.dst == "198.18.2.2" and .netns_name == env.A and .hook == "net_dev_queue"'
  packets_with "$req" | jq -e -s 'map(select(.hook == "icmp_send"))[0] | .reason == "ttl_exceeded" and .netns_name == env.R' >/dev/null
  packets_with "$req" | jq -e -s 'map(select(.hook == "kfree_skb"))[0] | .netns_name == env.R and .ttl == 1' >/dev/null
  [ "$(drops_of "$req")" = "IP_INHDR" ]
}

@test "closed TCP port: RST sent back, the SYN dropped as NO_SOCKET" {
  tracer "netns $A and tcp port 9"
  run ip netns exec "$A" timeout 5 bash -c 'exec 3<>/dev/tcp/198.18.2.2/9'
  [ "$status" -ne 0 ]
  stop_tracer
  req='.netns_name == env.A and .dport == 9 and .tcp_flags == "S" and .hook == "net_dev_queue"'
  packets_with "$req" | jq -e -s 'map(select(.hook == "tcp_send_reset"))[0] | .netns_name == env.B and .verdict == "rst_sent" and .reason == "NO_SOCKET"' >/dev/null
  [ "$(drops_of "$req")" = "NO_SOCKET" ]
}

@test "closed UDP port: ICMP port unreachable sent back, dropped as NO_SOCKET" {
  tracer "netns $A and udp port 9"
  ip netns exec "$A" bash -c 'echo hi > /dev/udp/198.18.2.2/9'
  sleep 0.3
  stop_tracer
  req='.netns_name == env.A and .dport == 9 and .hook == "net_dev_queue"'
  packets_with "$req" | jq -e -s 'map(select(.hook == "icmp_send"))[0] | .netns_name == env.B and .reason == "port_unreachable"' >/dev/null
  [ "$(drops_of "$req")" = "NO_SOCKET" ]
}

@test "unresolved neighbour: ARP fails, the queued packet is dropped as NEIGH_FAILED" {
  tracer "netns $A and host 198.18.1.77"
  run ip netns exec "$A" ping -c 1 -W 2 198.18.1.77
  [ "$status" -ne 0 ]
  stop_tracer
  # The kernel gives up in its neighbour timer (no neigh_update then): the queued packet is
  # freed and the sender told the host is unreachable.
  packets_with '.dst == "198.18.1.77" and .hook == "kfree_skb"' | jq -e -s 'map(select(.hook == "icmp_send"))[0] | .reason == "host_unreachable" and .netns_name == env.A' >/dev/null
  [ "$(drops_of '.dst == "198.18.1.77" and .proto == "icmp" and .hook == "kfree_skb"')" = "NEIGH_FAILED" ]
}

@test "bad TCP checksum: tcp_bad_csum and TCP_CSUM in B" {
  tracer "netns $A and tcp port 7"
  # A SYN with a wrong checksum, sent raw (the kernel would fix its own).
  ip netns exec "$A" python3 - <<'EOF'
import socket, struct
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst = socket.inet_aton("198.18.1.1"), socket.inet_aton("198.18.2.2")
tcp = struct.pack("!HHIIBBHHH", 40000, 7, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
good = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
tcp = tcp[:16] + struct.pack("!H", good ^ 0x5555) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + tcp, ("198.18.2.2", 0))
EOF
  sleep 0.3
  stop_tracer
  req='.netns_name == env.A and .dport == 7 and .hook == "net_dev_queue"'
  packets_with "$req" | jq -e -s 'map(select(.hook == "tcp_bad_csum"))[0] | .netns_name == env.B and .reason == "bad_checksum"' >/dev/null
  [ "$(drops_of "$req")" = "TCP_CSUM" ]
  # A bad checksum is not a reset: no RST was sent for it.
  ! packets_with "$req" | grep -q '"hook":"tcp_send_reset"'
}

@test "XDP_ABORTED: a program that aborts shows as xdp_exception on its interface" {
  command -v clang >/dev/null
  cat > "$BATS_TEST_TMPDIR/abort.c" <<'EOF'
#include <linux/bpf.h>
__attribute__((section("xdp"), used)) int abort_all(struct xdp_md *ctx) { return XDP_ABORTED; }
char _license[] __attribute__((section("license"), used)) = "GPL";
EOF
  clang -O2 -target bpf -I"/usr/include/$(cc -print-multiarch)" -c "$BATS_TEST_TMPDIR/abort.c" -o "$BATS_TEST_TMPDIR/abort.o"
  ip -n "$B" link set dev eth0 xdpgeneric obj "$BATS_TEST_TMPDIR/abort.o" sec xdp
  tracer "netns $B"
  run ip netns exec "$A" ping -c 1 -W 1 198.18.2.2
  ip -n "$B" link set dev eth0 xdpgeneric off
  [ "$status" -ne 0 ]
  stop_tracer
  ev | jq -e -s 'map(select(.hook == "xdp_exception")) | length >= 1 and all(.netns_name == env.B and .interface == "eth0" and .reason == "XDP_ABORTED" and .verdict == "aborted")' >/dev/null
  # Generic XDP runs on the sk_buff: the exception joins that packet's journey, and is
  # its fate (the kernel frees it as NOT_SPECIFIED afterwards).
  packets_with '.hook == "xdp_exception"' | jq -e -s 'map(.hook) | index("netif_receive_skb") < index("xdp_exception")' >/dev/null
  pk | jq -e -s 'map(select(.hook == "xdp_exception")) | length >= 1 and all(.fate == "dropped" and .reason == "XDP_ABORTED")' >/dev/null
}

@test "lb with no backend: lb's own verdict drop_no_backend, in the trace" {
  LAB=$(unique_lab)
  "$BPFLAB" lab up --name "$LAB" --backends 1 --lb nat >/dev/null
  # A port of its own: another lab's lb on the same VIP never matches this trace.
  local port=$((20000 + RANDOM % 10000))
  echo "vip 198.18.0.100:$port/tcp" > "$BATS_TEST_TMPDIR/lb.conf"
  "$BPFLAB" --netns "$LAB-lb" lb start eth0 --mode nat --config "$BATS_TEST_TMPDIR/lb.conf" >/dev/null
  STOPS+=("lb@$LAB-lb")
  tracer "host 198.18.0.100 and tcp port $port"
  # lb's program is found through the kernel (its trace_ctl map): at least it reports.
  json_assert "$(head -1 "$OUTF")" '.type == "attached" and .verdict_programs >= 1'
  run lab_exec "$LAB" client timeout 3 bash -c 'exec 3<>/dev/tcp/198.18.0.100/'"$port"
  [ "$status" -ne 0 ]
  stop_tracer
  # Every SYN retry is one drop_no_backend verdict; nothing else from lb for this VIP.
  ev | jq -e -s 'map(select(.hook == "verdict" and .program == "lb")) | length >= 1 and all(.reason == "drop_no_backend" and .verdict == "XDP_DROP" and .dst == "198.18.0.100" and .dport == ($p | tonumber) and .tcp_flags == "S")' --arg p "$port" >/dev/null
  pk | jq -e -s 'map(select(.hook == "verdict" and .reason == "drop_no_backend")) | length >= 1 and all(.fate == "dropped" and (.summary | test("198.18.0.100:" + $p + " \\[S\\]")))' --arg p "$port" >/dev/null
}

@test "filter deny: the filter's own verdict names the deny and its rule id" {
  LAB=$(unique_lab)
  "$BPFLAB" lab up --name "$LAB" --backends 1 >/dev/null
  # An unusual priority so the rule id cannot come from another lab's filter.
  printf '4171 deny proto icmp icmp-type 8\n' > "$BATS_TEST_TMPDIR/deny.rules"
  "$BPFLAB" --netns "$LAB-backend-a" filter start eth0 --rules "$BATS_TEST_TMPDIR/deny.rules" >/dev/null
  STOPS+=("filter@$LAB-backend-a")
  tracer "icmp and host 198.18.0.11"
  json_assert "$(head -1 "$OUTF")" '.type == "attached" and .verdict_programs >= 1'
  run lab_exec "$LAB" client ping -c 2 -i 0.2 -W 1 198.18.0.11
  [ "$status" -ne 0 ]
  stop_tracer
  ev | jq -e -s 'map(select(.hook == "verdict" and .program == "filter" and .reason == "denied_rule_4171")) | length == 2 and all(.verdict == "XDP_DROP" and .src == "198.18.0.1" and .dst == "198.18.0.11" and .icmp_type == 8)' >/dev/null
  pk | jq -e -s 'map(select(.hook == "verdict" and .reason == "denied_rule_4171")) | length == 2 and all(.fate == "dropped")' >/dev/null
}

@test "--summary counts drops by reason and location; --count stops after N packets" {
  ip netns exec "$R" nft -f - <<'EOF'
table inet bpflabtest {
  chain c1 { type filter hook forward priority 0; icmp type echo-request drop; }
}
EOF
  timeout 90 "$BPFLAB" trace --json --summary -d 20 "netns $A and icmp and dst host 198.18.2.2" > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_attached
  ip netns exec "$A" ping -c 3 -i 0.2 -W 1 198.18.2.2 >/dev/null || true
  stop_tracer
  ! grep -q '"type":"event"' "$OUTF"
  json_assert "$(grep '"type":"drops"' "$OUTF")" 'select(.reason == "NETFILTER_DROP") | .count == 3 and (.location | test("nf_hook_slow|nft_"))'
  timeout 90 "$BPFLAB" trace --json -c 1 -d 20 "netns $A and icmp and dst host 198.18.2.2" > "$OUTF" 2> "$ERRF" &
  TPID=$!
  wait_attached
  ip netns exec "$A" ping -c 3 -i 0.2 -W 1 198.18.2.2 >/dev/null || true
  wait "$TPID"
  TPID=
  [ "$(grep -c '"type":"packet"' "$OUTF")" -eq 1 ]
  grep -q '"type":"summary"' "$OUTF"
}

@test "--pcap: one frame per packet, its fate in the comment, readable by tcpdump and tshark" {
  command -v tcpdump >/dev/null && command -v tshark >/dev/null
  ip netns exec "$R" nft -f - <<'EOF'
table inet bpflabtest {
  chain c1 { type filter hook forward priority 0; icmp type echo-request drop; }
}
EOF
  tracer -w "$BATS_TEST_TMPDIR/t.pcapng" "netns $A and icmp and dst host 198.18.2.2"
  ip netns exec "$A" ping -c 2 -i 0.2 -W 1 198.18.2.2 >/dev/null || true
  stop_tracer
  run tcpdump -r "$BATS_TEST_TMPDIR/t.pcapng" -n
  [ "$status" -eq 0 ]
  [ "$(grep -c '198.18.1.1 > 198.18.2.2: ICMP echo request' <<<"$output")" -eq 2 ]
  run tshark -r "$BATS_TEST_TMPDIR/t.pcapng" -T fields -e frame.comment
  [ "$status" -eq 0 ]
  [ "$(grep -c 'dropped: NETFILTER_DROP' <<<"$output")" -eq 2 ]
}
