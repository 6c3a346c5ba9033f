#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The L3 lab (`lab up --lb ipip|gue`) and `lb decap` end to end: nodes on their own
# subnets behind a router, backends that hold the VIPs on lo without answering ARP for
# them; tunnel packets made by hand in every outer/inner family combination, IPIP and
# GUE, answered by the backend straight from the VIP; then real HTTP through lb's
# encapsulating VIPs, answered directly (DSR), with the decap counters matching what the
# LB sent, in every family mix (v4-in-v4, v6-in-v6, v4-in-v6, v6-in-v4) from one config;
# UDP over IPv6 through ipip and gue VIPs with backends of either family, each answer
# from the VIP. Traffic only inside the lab's namespaces, bounded in count and time.
load helpers
bats_require_minimum_version 1.5.0

TOOL="$BATS_TEST_DIRNAME/lb_l3_tool.py"
VIP4=198.18.0.100
VIP6=2001:db8:18::100

setup() {
  require_bpf
  LAB=$(echo "l3mix$(printf '%x' $$)$(printf '%x' $((RANDOM % 256)))" | cut -c1-12)
  PIDS=()
}

teardown() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$BPFLAB" --netns "$LAB-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  rm -rf "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb"
}

lb() { "$BPFLAB" --netns "$LAB-lb" lb "$@"; }

# The counters of NODE's decap right now: SIGUSR1 makes it append a record to its log.
decap_counters() {
  local node=$1 log="/run/bpflab/lab/$LAB/decap-$1.log" pid n
  pid=$(cat "/run/bpflab/lab/$LAB/decap-$node.pid")
  n=$(grep -c '"type":"decap"' "$log" || true)
  kill -USR1 "$pid"
  for _ in $(seq 1 100); do
    [ "$(grep -c '"type":"decap"' "$log" || true)" -gt "$n" ] && break
    sleep 0.05
  done
  grep '"type":"decap"' "$log" | tail -1
}

# VIP's decapsulated packets on NODE.
vip_packets() { decap_counters "$1" | jq ".vips[] | select(.vip == \"$2\") | .packets"; }

link_stat() { # netns ifname rx_packets|tx_packets
  ip -n "$1" -s -j link show "$2" | jq ".[0].stats64.${3%_packets}.packets"
}

@test "lab up --lb ipip: subnets behind a router, VIPs on the backends' lo, decap on eth0" {
  run -0 "$BPFLAB" lab up --name "$LAB" --lb ipip --serve --json
  json_assert "$output" '.topology == "l3" and .switch_netns == "'"$LAB"'-router" and .backends == 2'
  json_assert "$output" '.nodes[0].ipv4 == "198.18.1.1" and .nodes[1].ipv4 == "198.18.2.2" and .nodes[2].ipv6 == "2001:db8:18:b::b"'
  json_assert "$output" '[.nodes[2:][] | .decap.pid > 0 and ([.programs[] | select(.interface == "eth0" and .hook == "xdp" and .name == "decap_xdp")] | length) == 1] | all'
  json_assert "$output" '.nodes[0].decap == null and .nodes[1].decap == null'
  # Across the router, both families; non-tunnel traffic passes the decap untouched.
  run -0 lab_exec "$LAB" client curl -s -m 5 http://198.18.11.11/
  [ "$output" = backend-a ]
  run -0 lab_exec "$LAB" client curl -s -m 5 "http://[2001:db8:18:c::c]/"
  [ "$output" = backend-b ]
  run -0 ip netns exec "$LAB-router" sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding
  [ "$output" = $'1\n1' ]
  run -0 ip -n "$LAB-router" route get "$VIP4"
  [[ $output == *"via 198.18.2.2"* ]]
  run -0 ip -n "$LAB-backend-a" addr show dev lo
  [[ $output == *"$VIP4/32"* && $output == *"$VIP6/128"* ]]
  # The backends hold the VIP but do not answer ARP for it; for their own address they do.
  run -0 ip netns exec "$LAB-router" timeout 10 python3 "$TOOL" arp r-backend-a "$VIP4" 1
  json_assert "$output" '.answered == false'
  run -0 ip netns exec "$LAB-router" timeout 10 python3 "$TOOL" arp r-backend-a 198.18.11.11 1
  json_assert "$output" '.answered == true'
  run -0 decap_counters backend-a
  json_assert "$output" '.counters.pass_not_encap > 0 and .counters.decap == 0 and .hook == "xdp"'
  run -0 "$BPFLAB" lab status --name "$LAB"
  [[ $output == *"L3, router $LAB-router"* && $output == *"lb decap (L3 lab): backend-a eth0"* ]]
  # kill -9 leaves nothing attached (the link goes with the process); up again restarts it.
  kill -9 "$(cat "/run/bpflab/lab/$LAB/decap-backend-b.pid")"
  for _ in $(seq 1 100); do pgrep -f "bpflab-lab-decap:$LAB:backend-b" >/dev/null || break; sleep 0.05; done
  run -0 "$BPFLAB" lab status --name "$LAB" --json
  json_assert "$output" '.nodes[3].decap == null and (.nodes[3].programs | length) == 0'
  run -0 "$BPFLAB" lab up --name "$LAB" --lb ipip --serve --json
  json_assert "$output" '.nodes[3].decap.pid > 0 and ([.nodes[3].programs[] | select(.name == "decap_xdp")] | length) == 1'
  run -0 lab_exec "$LAB" client curl -s -m 5 http://198.18.12.12/
  [ "$output" = backend-b ]
  # Asking for the other kind of lab on top of this one is refused, nothing changed.
  run -2 "$BPFLAB" lab up --name "$LAB" --lb dsr
  [[ $output == *"up as an L3"* ]]
  run -0 "$BPFLAB" lab down --name "$LAB" --json
  json_assert "$output" '.ok and .removed_namespaces == 5'
  ! ip netns list | grep -q "^$LAB-"
  ! pgrep -f "bpflab-lab-decap:$LAB:" >/dev/null
}

@test "decap: hand-made IPIP and GUE, every outer/inner family, answered from the VIP" {
  "$BPFLAB" lab up --name "$LAB" --lb gue >/dev/null
  lab_exec "$LAB" backend-a timeout 40 python3 "$TOOL" echo 9999 35 "$VIP4" "$VIP6" &
  PIDS+=($!)
  lab_exec "$LAB" client timeout 40 python3 "$TOOL" listen 40001 35 40 198.18.1.1 2001:db8:18:1::1 \
    > "$BATS_TEST_TMPDIR/replies" &
  PIDS+=($!)
  wait_for_line "$BATS_TEST_TMPDIR/replies" '"listening"'
  sleep 0.3
  run -0 lab_exec "$LAB" lb timeout 30 python3 "$TOOL" matrix 198.18.11.11 2001:db8:18:b::b \
    198.18.1.1 2001:db8:18:1::1 "$VIP4" "$VIP6" 40001 9999 5
  [[ $output == *'"sent_total": 40'* ]]
  wait "${PIDS[1]}"
  run -0 tail -1 "$BATS_TEST_TMPDIR/replies"
  # Every datagram came back, from the VIPs themselves: the backend answered directly.
  json_assert "$output" '.count == 40 and (.from | sort) == ["198.18.0.100", "2001:db8:18::100"]'
  run -0 decap_counters backend-a
  json_assert "$output" '.counters.decap == 40 and .counters.drop_no_vip == 0'
  json_assert "$output" '[.vips[] | .packets] == [20, 20]'
  # 20 IPv4 inner packets of 20+8+6 bytes, 20 IPv6 ones of 40+8+6 ("ping N", N < 5)
  json_assert "$output" '[.vips[] | .bytes] == [680, 1080]'
  # Tunnel packets for an address backend-a does not serve: dropped and counted.
  run -0 lab_exec "$LAB" lb timeout 10 python3 "$TOOL" send gue 198.18.11.11 198.18.1.1 40001 198.18.0.200 9999 3
  run -0 lab_exec "$LAB" lb timeout 10 python3 "$TOOL" send ipip 2001:db8:18:b::b 2001:db8:18:1::1 40001 2001:db8:18::200 9999 2
  run -0 decap_counters backend-a
  json_assert "$output" '.counters.drop_no_vip == 5 and .counters.decap == 40'
  # backend-b saw none of it.
  run -0 decap_counters backend-b
  json_assert "$output" '.counters.decap == 0 and .counters.drop_no_vip == 0'
}

@test "lb encap ipip and gue through the L3 lab: curl via the VIP, answers straight from the backends" {
  run -0 "$BPFLAB" lb vip add --help
  [[ $output == *"--encap"* ]] || { echo "lb has no --encap yet" >&2; return 1; }
  "$BPFLAB" lab up --name "$LAB" --lb ipip --serve >/dev/null
  lb start eth0 --mode dsr >/dev/null
  local round=0
  for encap in ipip gue; do
    round=$((round + 1))
    lb vip add "$VIP4:80/tcp" --encap "$encap" >/dev/null
    lb backend add "$VIP4:80/tcp" 198.18.11.11 >/dev/null
    lb backend add "$VIP4:80/tcp" 198.18.12.12 >/dev/null
    local tx0 rx0 a0 b0 sent0 seen="" n=20
    sent0=$(lb show --json | jq '.counters.tx_encap')
    tx0=$(link_stat "$LAB-router" r-lb tx_packets)
    rx0=$(link_stat "$LAB-router" r-lb rx_packets)
    a0=$(vip_packets backend-a "$VIP4")
    b0=$(vip_packets backend-b "$VIP4")
    for i in $(seq 1 $n); do
      run -0 lab_exec "$LAB" client curl -s -m 5 --local-port $((42000 + 100 * round + i)) "http://$VIP4/"
      [[ $output == backend-[ab] ]]
      seen+=" $output"
    done
    [[ $seen == *backend-a* && $seen == *backend-b* ]]
    run -0 lb show --json
    json_assert "$output" '.counters.drop_no_route == 0 and .counters.drop_encap == 0'
    local sent
    sent=$(( $(printf '%s' "$output" | jq '.counters.tx_encap') - sent0 ))
    # What reached backend-a and backend-b's decap for the VIP is what the LB encapsulated...
    local a1 b1
    a1=$(vip_packets backend-a "$VIP4")
    b1=$(vip_packets backend-b "$VIP4")
    [ $((a1 - a0 + b1 - b0)) -eq "$sent" ] || { echo "decap $((a1 - a0 + b1 - b0)), lb $sent" >&2; return 1; }
    # ... and the LB sent back to the router exactly what the router gave it: the
    # answers (with the bodies) went from the backends to the client, not through the LB.
    local tx rx
    tx=$(link_stat "$LAB-router" r-lb tx_packets)
    rx=$(link_stat "$LAB-router" r-lb rx_packets)
    # A few packets of the nodes' own (neighbour, MLD) may cross either way; answers
    # through the LB would add at least two packets per request.
    local extra=$(( (rx - rx0) - (tx - tx0) ))
    [ ${extra#-} -le 3 ] || { echo "to lb $((tx - tx0)), from lb $((rx - rx0))" >&2; return 1; }
    [ $((tx - tx0)) -ge $((n * 5)) ]
    lb vip del "$VIP4:80/tcp" >/dev/null
  done
}

@test "lb decap --hook tc: the same decapsulation on a tcx link" {
  "$BPFLAB" lab up --name "$LAB" --lb ipip >/dev/null
  # Replace the lab's XDP decap on backend-a by a tc one for this test.
  kill "$(cat "/run/bpflab/lab/$LAB/decap-backend-a.pid")"
  for _ in $(seq 1 100); do pgrep -f "bpflab-lab-decap:$LAB:backend-a" >/dev/null || break; sleep 0.05; done
  "$BPFLAB" --netns "$LAB-backend-a" lb decap eth0 --hook tc --duration 30 --json \
    > "$BATS_TEST_TMPDIR/tc.jsonl" 2>&1 &
  PIDS+=($!)
  wait_for_line "$BATS_TEST_TMPDIR/tc.jsonl" '"type":"decap_started"'
  json_assert "$(head -1 "$BATS_TEST_TMPDIR/tc.jsonl")" '.hook == "tc" and .xdp_mode == null'
  lab_exec "$LAB" backend-a timeout 40 python3 "$TOOL" echo 9999 30 "$VIP4" "$VIP6" &
  PIDS+=($!)
  lab_exec "$LAB" client timeout 40 python3 "$TOOL" listen 40002 30 16 198.18.1.1 2001:db8:18:1::1 \
    > "$BATS_TEST_TMPDIR/replies" &
  PIDS+=($!)
  wait_for_line "$BATS_TEST_TMPDIR/replies" '"listening"'
  sleep 0.3
  run -0 lab_exec "$LAB" lb timeout 30 python3 "$TOOL" matrix 198.18.11.11 2001:db8:18:b::b \
    198.18.1.1 2001:db8:18:1::1 "$VIP4" "$VIP6" 40002 9999 2
  wait "${PIDS[2]}"
  json_assert "$(tail -1 "$BATS_TEST_TMPDIR/replies")" '.count == 16'
  kill -TERM "${PIDS[0]}"
  wait "${PIDS[0]}"
  json_assert "$(tail -1 "$BATS_TEST_TMPDIR/tc.jsonl")" '.final and .hook == "tc" and .counters.decap == 16 and ([.vips[].packets] == [8, 8])'
}

@test "lb encap, every family mix in one config: v6-in-v6, v4-in-v6, v6-in-v4, v4-in-v4" {
  "$BPFLAB" lab up --name "$LAB" --lb gue --serve >/dev/null
  for b in a b; do
    lab_exec "$LAB" "backend-$b" timeout 60 python3 "$BATS_TEST_DIRNAME/lb_tool.py" serve "backend-$b" 8080 55 &
    PIDS+=($!)
  done
  cat > "$BATS_TEST_TMPDIR/mix.conf" <<EOF
vip [$VIP6]:80/tcp encap ipip
backend [$VIP6]:80/tcp 2001:db8:18:b::b
backend [$VIP6]:80/tcp 2001:db8:18:c::c
vip $VIP4:80/tcp encap gue
backend $VIP4:80/tcp 2001:db8:18:b::b
backend $VIP4:80/tcp 2001:db8:18:c::c
vip [$VIP6]:8080/tcp encap gue
backend [$VIP6]:8080/tcp 198.18.11.11
backend [$VIP6]:8080/tcp 198.18.12.12
vip $VIP4:8080/tcp encap ipip
backend $VIP4:8080/tcp 198.18.11.11
backend $VIP4:8080/tcp 2001:db8:18:c::c
EOF
  run -0 lb start eth0 --mode dsr --config "$BATS_TEST_TMPDIR/mix.conf" --json
  json_assert "$output" '.tunnel_src == "198.18.2.2" and .tunnel_src6 == "2001:db8:18:2::2"'
  local a4 a6 b4 b6 n=12 u seen show
  a4=$(vip_packets backend-a "$VIP4"); a6=$(vip_packets backend-a "$VIP6")
  b4=$(vip_packets backend-b "$VIP4"); b6=$(vip_packets backend-b "$VIP6")
  for u in "http://[$VIP6]/" "http://$VIP4/"; do
    seen=""
    for i in $(seq 1 $n); do
      run -0 lab_exec "$LAB" client curl -s -m 5 "$u"
      [[ $output == backend-[ab] ]]
      seen+=" $output"
    done
    [[ $seen == *backend-a* && $seen == *backend-b* ]] || { echo "$u: only$seen" >&2; return 1; }
  done
  for u in "$VIP6" "$VIP4"; do
    run -0 lab_exec "$LAB" client timeout 20 python3 "$BATS_TEST_DIRNAME/lb_tool.py" clients "$u" 8080 20
    json_assert "$output" '.failed == 0 and (.answers | keys) == ["backend-a", "backend-b"]'
  done
  run -0 lb show --json
  show=$output
  json_assert "$show" '.counters.drop_no_route == 0 and .counters.drop_encap == 0 and .counters.drop_no_neigh == 0 and .counters.tx_backend == 0'
  json_assert "$show" '[.vips[] | .encap] == ["ipip", "gue", "gue", "ipip"] and ([.vips[] | .new_flows > 0] | all)'
  json_assert "$show" '.counters.tx_encap == ([.vips[] | .packets] | add)'
  json_assert "$show" '.conntrack.flows6 == .vips[0].new_flows + .vips[2].new_flows and .conntrack.flows == ([.vips[] | .new_flows] | add)'
  # Each backend's decap saw, per inner family, exactly what the LB sent to it in either
  # outer family (its two addresses).
  sent_to() { # inner-vip-prefix backend-v6 backend-v4
    printf '%s' "$show" | jq --arg p "$1" --arg a "[$2]" --arg b "$3:" \
      '[.vips[] | select(.vip | startswith($p)) | .backends[] | select((.address | startswith($a)) or (.address | startswith($b))) | .packets] | add // 0'
  }
  [ $(( $(vip_packets backend-a "$VIP6") - a6 )) -eq "$(sent_to '[' 2001:db8:18:b::b 198.18.11.11)" ]
  [ $(( $(vip_packets backend-a "$VIP4") - a4 )) -eq "$(sent_to 198. 2001:db8:18:b::b 198.18.11.11)" ]
  [ $(( $(vip_packets backend-b "$VIP6") - b6 )) -eq "$(sent_to '[' 2001:db8:18:c::c 198.18.12.12)" ]
  [ $(( $(vip_packets backend-b "$VIP4") - b4 )) -eq "$(sent_to 198. 2001:db8:18:c::c 198.18.12.12)" ]
  # lb conns: both families, each flow on the backend its VIP's table named
  run -0 lb conns --json
  json_assert "$output" ".tracked == $(printf '%s' "$show" | jq .conntrack.flows) and ([.flows[] | select(.family == 6)] | length) == $(printf '%s' "$show" | jq .conntrack.flows6)"
  json_assert "$output" '[.flows[] | .nat_port == null and .age_s >= 0] | all'
  run -0 lb conns --json --vip "[$VIP6]:8080/tcp" --backend 198.18.11.11
  json_assert "$output" ".shown == $(printf '%s' "$show" | jq '.vips[2].backends[] | select(.address == "198.18.11.11:8080") | .new_flows')"
  run -0 lb conns --json --vip "$VIP4:80/tcp" --backend 2001:db8:18:c::c
  json_assert "$output" ".shown == $(printf '%s' "$show" | jq '.vips[1].backends[] | select(.address == "[2001:db8:18:c::c]:80") | .new_flows')"
}

@test "lb encap UDP over IPv6: v6-in-v6 and v6-in-v4, ipip and gue, answered from the VIP" {
  "$BPFLAB" lab up --name "$LAB" --lb gue >/dev/null
  # Bound to the VIP on lo, and the client's socket is connected: an answer counts only
  # if it came back from the VIP, straight from the backend.
  for b in a b; do
    lab_exec "$LAB" "backend-$b" timeout 60 python3 "$BATS_TEST_DIRNAME/lb_tool.py" udpecho "backend-$b" \
      5301,5302,5303,5304 55 "$VIP6" &
    PIDS+=($!)
  done
  cat > "$BATS_TEST_TMPDIR/udp6.conf" <<EOF2
vip [$VIP6]:5301/udp encap ipip
backend [$VIP6]:5301/udp 2001:db8:18:b::b
backend [$VIP6]:5301/udp 2001:db8:18:c::c
vip [$VIP6]:5302/udp encap gue
backend [$VIP6]:5302/udp 2001:db8:18:b::b
backend [$VIP6]:5302/udp 2001:db8:18:c::c
vip [$VIP6]:5303/udp encap ipip
backend [$VIP6]:5303/udp 198.18.11.11
backend [$VIP6]:5303/udp 198.18.12.12
vip [$VIP6]:5304/udp encap gue
backend [$VIP6]:5304/udp 198.18.11.11
backend [$VIP6]:5304/udp 198.18.12.12
EOF2
  run -0 lb start eth0 --mode dsr --config "$BATS_TEST_TMPDIR/udp6.conf" --json
  json_assert "$output" '.tunnel_src == "198.18.2.2" and .tunnel_src6 == "2001:db8:18:2::2"'
  sleep 0.3
  local a0 b0 n=20 port out show ansa=0 ansb=0 tx0 rx0 tx rx extra
  a0=$(vip_packets backend-a "$VIP6")
  b0=$(vip_packets backend-b "$VIP6")
  tx0=$(link_stat "$LAB-router" r-lb tx_packets)
  rx0=$(link_stat "$LAB-router" r-lb rx_packets)
  for port in 5301 5302 5303 5304; do
    out=$(lab_exec "$LAB" client timeout 40 python3 "$BATS_TEST_DIRNAME/lb_tool.py" udp "$VIP6" $port $n 41000)
    json_assert "$out" ".failed == 0 and (.answers | keys) == [\"backend-a\", \"backend-b\"] and ([.answers[]] | add) == $n"
    ansa=$((ansa + $(printf '%s' "$out" | jq '.answers["backend-a"]')))
    ansb=$((ansb + $(printf '%s' "$out" | jq '.answers["backend-b"]')))
  done
  # The router gave lb the 4n datagrams and got back as many tunnel packets; answers
  # through lb would add 2 per datagram (a few neighbour/MLD packets may cross).
  tx=$(link_stat "$LAB-router" r-lb tx_packets)
  rx=$(link_stat "$LAB-router" r-lb rx_packets)
  extra=$(( (rx - rx0) - (tx - tx0) ))
  [ ${extra#-} -le 3 ] && [ $((tx - tx0)) -ge $((4 * n)) ] || { echo "to lb $((tx - tx0)), from lb $((rx - rx0))" >&2; return 1; }
  run -0 lb show --json
  show=$output
  json_assert "$show" '.counters.drop_no_route == 0 and .counters.drop_encap == 0 and .counters.drop_no_neigh == 0 and .counters.tx_backend == 0'
  json_assert "$show" "[.vips[] | .encap] == [\"ipip\", \"gue\", \"ipip\", \"gue\"] and ([.vips[] | .new_flows == $n and .packets == $n] | all)"
  json_assert "$show" ".counters.tx_encap == 4 * $n and .conntrack.flows6 == 4 * $n and .conntrack.flows == 4 * $n"
  # What each backend's decap stripped for the VIP is what the LB sent to either of its
  # addresses, and as many flows as it answered.
  sent_to() { # backend-v6 backend-v4 packets|new_flows
    printf '%s' "$show" | jq --arg a "[$1]" --arg b "$2:" --arg f "$3" \
      '[.vips[] | .backends[] | select((.address | startswith($a)) or (.address | startswith($b))) | .[$f]] | add // 0'
  }
  [ $(( $(vip_packets backend-a "$VIP6") - a0 )) -eq "$(sent_to 2001:db8:18:b::b 198.18.11.11 packets)" ]
  [ $(( $(vip_packets backend-b "$VIP6") - b0 )) -eq "$(sent_to 2001:db8:18:c::c 198.18.12.12 packets)" ]
  [ "$ansa" -eq "$(sent_to 2001:db8:18:b::b 198.18.11.11 new_flows)" ]
  [ "$ansb" -eq "$(sent_to 2001:db8:18:c::c 198.18.12.12 new_flows)" ]
  run -0 lb conns --json
  json_assert "$output" ".tracked == 4 * $n and ([.flows[] | select(.family == 6 and .proto == \"udp\" and .nat_port == null and (.client | startswith(\"[2001:db8:18:1::1]:\")))] | length) == 4 * $n"
  for port in 5301 5302 5303 5304; do
    run -0 lb conns --json --vip "[$VIP6]:$port/udp"
    json_assert "$output" ".shown == $n"
  done
  run -0 lb conns --json --vip "[$VIP6]:5303/udp" --backend 198.18.12.12
  json_assert "$output" ".shown == $(printf '%s' "$show" | jq '.vips[2].backends[] | select(.address == "198.18.12.12:5303") | .new_flows') and .shown > 0"
}
