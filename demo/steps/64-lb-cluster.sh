# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Many LB nodes: three balancers behind a BIRD router that spreads flows by ECMP. A client
# keeps 300 TCP connections streaming (a message every 100 ms each) while one LB node dies
# (its link cut, every process on it killed -9): BFD tells the router, the flows go to the
# other nodes, which pick the same backends (same Maglev table), and none of the
# connections breaks.
step "lb on many nodes: ECMP in front, BGP from BIRD; an LB node dies under 300 live connections"
CL="${LAB}c"
cl_conf="/tmp/$CL-lb.conf"
cl_down() {
  [ -z "${CL_STREAM:-}" ] || { kill "$CL_STREAM" 2>/dev/null || true; wait "$CL_STREAM" 2>/dev/null || true; }
  "$OUT/bpflab" lab down --name "$CL" >/dev/null 2>&1 || true
  rm -f "$cl_conf"
}
# this step's lab goes with the tour, however the tour ends
trap 'cl_down; cleanup' EXIT
cl_route() { ip -n "$CL-router" -4 route show 198.18.0.100/32 | sed 's/^/     /'; }
if ! command -v birdc >/dev/null; then
  say "skipped: needs BIRD 2 (make deps installs it)"
else
  printf 'vip 198.18.0.100:7/tcp\n' > "$cl_conf"
  for h in 11 12 13; do
    printf 'backend 198.18.0.100:7/tcp 198.18.0.%d mac 02:00:c6:12:00:%02x\n' "$h" "$h" >> "$cl_conf"
  done
  say "three LB nodes (dsr) with one configuration; each announces the VIP while its balancer is up"
  show bpflab lab up --name "$CL" --lbs 3 --router bird --lb dsr --backends 3 --serve --lb-config "$cl_conf"
  for _ in $(seq 100); do [ "$(ip -n "$CL-router" -4 route show 198.18.0.100/32 | grep -c ' via ')" -eq 3 ] && break; sleep 0.1; done
  cmd ip -n "$CL-router" route show 198.18.0.100/32 '   # the router: one ECMP route, a next hop per node'
  cl_route
  say "the client: 300 connections to the VIP's port 7, answered by each backend's stream server"
  cmd bpflab lab clients --name "$CL" --connect 198.18.0.100:7 --conns 300 --duration 9 '&'
  "$BPFLAB" lab clients --name "$CL" --connect 198.18.0.100:7 --conns 300 --duration 9 2>&1 |
    sed -u 's/^/     client: /' &
  CL_STREAM=$!
  sleep 3
  say "lb2 dies: its link goes down, then kill -9 of everything in it (BIRD, lb announce)"
  cmd ip -n "$CL-lb2" link set eth0 down '; kill -9 $(ip netns pids' "$CL-lb2"')'
  t0=$(date +%s%3N)
  ip -n "$CL-lb2" link set eth0 down
  for p in $(ip netns pids "$CL-lb2"); do kill -9 "$p" 2>/dev/null || true; done
  for _ in $(seq 300); do ip -n "$CL-router" -4 route show 198.18.0.100/32 | grep -q 'via 198.18.0.3 ' || break; sleep 0.01; done
  say "the router dropped lb2 $(( $(date +%s%3N) - t0 )) ms later (BFD: 3 missed 100 ms hellos):"
  cl_route
  wait "$CL_STREAM" || true
  CL_STREAM=
  say "every connection that was on lb2 now goes through lb1 or lb3, to the same backend"
fi
cl_down
trap cleanup EXIT
