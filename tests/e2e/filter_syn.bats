#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab filter --synproxy in a throwaway lab: SYN cookies answered in XDP on backend-a,
# the kernel's SYNPROXY (nftables) opening the real connections, the sysctls it needs set
# and put back, nothing left after stop or after a kill -9; and an hping3 SYN flood from
# the lab's attacker node that the legitimate client does not feel (>= 99% of its curl
# requests succeed), beside what it loses without protection. Every flood is bounded in
# time (timeout) and stays inside the lab's namespaces.
load helpers

setup() {
  require_bpf
  command -v hping3 >/dev/null || { echo "hping3 missing: make deps installs it" >&2; return 1; }
  LAB=$(unique_lab)
  NS=$LAB-backend-a
  PIN=/sys/fs/bpf/bpflab/filter/eth0@$NS
  "$BPFLAB" lab up --name "$LAB" --serve --attacker >/dev/null
}

teardown() {
  [ -z "${FLOOD:-}" ] || { kill "$FLOOD" 2>/dev/null; wait "$FLOOD" 2>/dev/null; } || true
  "$BPFLAB" --netns "$NS" filter stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
}

sysctls() {
  ip netns exec "$NS" sysctl -n net.ipv4.tcp_syncookies net.ipv4.tcp_timestamps \
    net.netfilter.nf_conntrack_tcp_loose | paste -sd' '
}
# A counter of the XDP responder (enum syn_stat order), summed over CPUs, from its pinned map.
syn_stat() {
  local idx
  case $1 in
    synack) idx=0;; ack_ok) idx=1;; ack_bad) idx=2;; established) idx=3;; bad_csum) idx=4;;
    bad_flags) idx=5;; *) echo "unknown counter $1" >&2; return 1;;
  esac
  bpftool map dump pinned "$PIN/syn_stats" -j |
    jq --argjson k "$idx" '[.[] | .formatted | select(.key == $k) | .values[].value] | add'
}
# curl from the client, new connection each time, until N tries or T seconds: "ok tries"
clients() { # n seconds
  local ok=0 n=0 end=$((SECONDS + $2))
  while [ "$n" -lt "$1" ] && [ "$SECONDS" -lt "$end" ]; do
    n=$((n + 1))
    lab_exec "$LAB" client curl -s -o /dev/null --connect-timeout 2 -m 3 http://198.18.0.11/ &&
      ok=$((ok + 1))
  done
  echo "$ok $n"
}
# hping3 SYNs from random sources at backend-a:80 from the attacker node, at most 60 s.
flood_start() {
  timeout 60 "$BPFLAB" lab exec --name "$LAB" attacker -- \
    hping3 -q -S -p 80 --flood --rand-source 198.18.0.11 >"$BATS_TEST_TMPDIR/hping" 2>&1 &
  FLOOD=$!
  sleep 2
}
flood_stop() {
  kill "$FLOOD" 2>/dev/null || true
  wait "$FLOOD" 2>/dev/null || true
  FLOOD=
}

@test "filter --synproxy: XDP answers the SYN, the kernel's SYNPROXY opens the connection; stop puts back" {
  before=$(sysctls)
  run "$BPFLAB" --netns "$NS" filter start eth0 --synproxy 80,8000-8010 --json
  [ "$status" -eq 0 ]
  [ "$(sysctls)" = "2 1 0" ]
  run ip netns exec "$NS" nft list table inet bpflab_syn_eth0
  [ "$status" -eq 0 ]
  [[ $output == *'tcp dport { 80, 8000-8010 }'*'synproxy mss 1460 wscale 7 timestamp sack-perm'* ]]
  for i in 1 2 3 4 5; do
    run lab_exec "$LAB" client curl -sS -m 3 http://198.18.0.11/
    [ "$status" -eq 0 ] && [ "$output" = backend-a ]
  done
  # every handshake went through XDP: one cookie SYN-ACK and one validated ACK each,
  # then the flow was conntrack's (the kernel's SYNPROXY had confirmed it)
  [ "$(syn_stat synack)" -ge 5 ]
  [ "$(syn_stat ack_ok)" -ge 5 ]
  [ "$(syn_stat established)" -ge 5 ]
  [ "$(syn_stat ack_bad)" -eq 0 ]
  # v6 too
  run lab_exec "$LAB" client curl -sS -m 3 'http://[2001:db8:18::b]/'
  [ "$status" -eq 0 ] && [ "$output" = backend-a ]
  [ "$(syn_stat ack_ok)" -ge 6 ]
  # a port outside the set is not the responder's: the kernel answers (RST, nothing listens)
  run lab_exec "$LAB" client curl -sS -m 3 http://198.18.0.11:81/
  [ "$status" -eq 7 ] # curl: could not connect (RST), no timeout (28)
  run "$BPFLAB" --netns "$NS" filter stop eth0
  [ "$status" -eq 0 ]
  [ "$(sysctls)" = "$before" ]
  run ip netns exec "$NS" nft list tables
  [[ $output != *bpflab_syn* ]]
}

@test "filter --synproxy: bad port lists exit 2 and change nothing" {
  before=$(sysctls)
  for bad in 0 65536 80-70 80x ,80 80,,443 '' 1-2-3; do
    run "$BPFLAB" --netns "$NS" filter start eth0 --synproxy "$bad"
    [ "$status" -eq 2 ]
    [[ $output == *"--synproxy"* ]]
  done
  [ "$(sysctls)" = "$before" ]
  run ip netns exec "$NS" nft list tables
  [[ $output != *bpflab_syn* ]]
  [ ! -e "$PIN" ]
}

@test "filter --synproxy: after a kill -9 the next stop puts the sysctls back and removes the table" {
  before=$(sysctls)
  ip netns exec "$NS" nft -f - <<NFT
table inet bpflab_syn_eth0 {
  comment "bpflab filter --synproxy; restore: tcp_syncookies=1 tcp_timestamps=1 nf_conntrack_tcp_loose=1"
}
NFT
  # what a start killed right after its sysctl writes leaves
  ip netns exec "$NS" sysctl -qw net.ipv4.tcp_syncookies=2 net.netfilter.nf_conntrack_tcp_loose=0
  run "$BPFLAB" --netns "$NS" filter stop eth0
  [ "$(sysctls)" = "1 1 1" ]
  run ip netns exec "$NS" nft list tables
  [[ $output != *bpflab_syn* ]]
  # and a start over such a leftover starts clean, then stops back to the first values
  ip netns exec "$NS" nft -f - <<NFT
table inet bpflab_syn_eth0 {
  comment "bpflab filter --synproxy; restore: tcp_syncookies=1 tcp_timestamps=1 nf_conntrack_tcp_loose=1"
}
NFT
  ip netns exec "$NS" sysctl -qw net.ipv4.tcp_syncookies=2 net.netfilter.nf_conntrack_tcp_loose=0
  run "$BPFLAB" --netns "$NS" filter start eth0 --synproxy 80
  [ "$status" -eq 0 ]
  [ "$(sysctls)" = "2 1 0" ]
  run "$BPFLAB" --netns "$NS" filter stop eth0
  [ "$(sysctls)" = "$before" ]
}

@test "SYN flood (hping3 from the attacker): >= 99% of the client's requests succeed with --synproxy" {
  # Spoofed sources are routable, as on the Internet: backend-a's default route points at
  # the attacker's node, which swallows the SYN-ACKs. Without it the kernel drops every
  # SYN it cannot answer and the flood costs nothing.
  ip -n "$NS" route add default via 198.18.0.66

  # 1. no protection at all (tcp_syncookies=0): what the flood costs
  ip netns exec "$NS" sysctl -qw net.ipv4.tcp_syncookies=0
  flood_start
  read -r ok0 n0 < <(clients 30 20)
  flood_stop
  sent0=$(grep -o '^[0-9]* packets transmitted' "$BATS_TEST_TMPDIR/hping" | cut -d' ' -f1)
  ip netns exec "$NS" sysctl -qw net.ipv4.tcp_syncookies=1
  sleep 3

  # 2. the kernel's own SYN cookies (the default): recorded beside it
  flood_start
  read -r ok1 n1 < <(clients 100 40)
  flood_stop
  sent1=$(grep -o '^[0-9]* packets transmitted' "$BATS_TEST_TMPDIR/hping" | cut -d' ' -f1)
  sleep 3

  # 3. --synproxy: the flood is answered in XDP
  "$BPFLAB" --netns "$NS" filter start eth0 --synproxy 80 >/dev/null
  drops0=$(ip netns exec "$NS" nstat -az TcpExtListenDrops | awk '/TcpExtListenDrops/ {print $2}')
  flood_start
  read -r ok2 n2 < <(clients 100 60)
  flood_stop
  sent2=$(grep -o '^[0-9]* packets transmitted' "$BATS_TEST_TMPDIR/hping" | cut -d' ' -f1)
  drops1=$(ip netns exec "$NS" nstat -az TcpExtListenDrops | awk '/TcpExtListenDrops/ {print $2}')
  synack=$(syn_stat synack)
  echo "# SYN flood: no protection $ok0/$n0 requests ok (hping3 sent $sent0);" \
       "kernel syncookies $ok1/$n1 (sent $sent1); --synproxy $ok2/$n2 (sent $sent2," \
       "$synack SYN-ACKs from XDP, listen drops +$((drops1 - drops0)))" >&3
  [ "$n2" -eq 100 ]
  [ "$ok2" -ge 99 ]
  # the flood was there and XDP answered it, not the kernel's listener
  [ "$sent2" -ge 10000 ]
  [ "$synack" -ge $((sent2 / 2)) ]
  [ $((drops1 - drops0)) -lt $((sent2 / 100)) ]
  # and without protection the same flood does hurt (else this test measures nothing)
  [ "$ok0" -lt "$n0" ]
}
