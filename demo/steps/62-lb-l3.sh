# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# lb across a router: an encap (GUE) VIP in the L3 lab, the backends' own `lb decap`
# stripping it, and a health check that goes the same way: a backend whose server stops
# is drained (weight 0, health down) and comes back when the server does.
step "lb across a router: a GUE VIP, lb decap on the backends, a health drain and restore"
L3="${LAB}3"
l3_conf="/tmp/$L3-lb.conf"
l3_down() {
  [ -z "${L3_HEALTH:-}" ] || { kill "$L3_HEALTH" 2>/dev/null || true; wait "$L3_HEALTH" 2>/dev/null || true; }
  "$OUT/bpflab" --netns "$L3-lb" lb stop eth0 >/dev/null 2>&1 || true
  "$OUT/bpflab" lab down --name "$L3" >/dev/null 2>&1 || true
  rm -f "$l3_conf"
}
# this step's lab goes with the tour, however the tour ends
trap 'l3_down; cleanup' EXIT
l3_lb() { "$BPFLAB" --netns "$L3-lb" lb "$@"; }
l3_health() { # backend: "weight W health STATE"
  l3_lb show --json | jq -r --arg b "$1" '.vips[0].backends[] | select(.address == $b) |
    "\(.address) weight \(.weight), health \(.health.state) (\(.health.last))"'
}
l3_wait() { # backend state: at most 5 s
  for _ in $(seq 50); do
    l3_lb show --json | jq -e --arg b "$1" --arg s "$2" \
      '.vips[0].backends[] | select(.address == $b) | .health.state == $s' >/dev/null && return 0
    sleep 0.1
  done
}
say "a subnet per node behind a router; backends hold the VIP on lo and run lb decap on eth0"
show bpflab lab up --name "$L3" --lb gue --serve
printf 'vip 198.18.0.100:80/tcp encap gue\nbackend 198.18.0.100:80/tcp 198.18.11.11\nbackend 198.18.0.100:80/tcp 198.18.12.12\ncheck 198.18.0.100:80/tcp http / interval 0.3 timeout 0.2 fall 2 rise 2\n' > "$l3_conf"
say "the configuration: the VIP is tunnelled (GUE) to backends two hops away, and checked"
sed 's/^/     /' "$l3_conf"
show bpflab --netns "$L3-lb" lb start eth0 --mode dsr --config "$l3_conf"
cmd bpflab --netns "$L3-lb" lb health '&   # probes go to VIP:port, in the tunnel, like clients'"'"' packets'
"$BPFLAB" --netns "$L3-lb" lb health --duration 30 > "/tmp/$L3-health.log" 2>&1 &
L3_HEALTH=$!
l3_wait 198.18.12.12:80 up
say "20 requests from the client: through the router to lb, in GUE to a backend, answered directly"
cmd 'for i in $(seq 20); do' bpflab lab exec --name "$L3" client -- curl -s http://198.18.0.100/ '; done | sort | uniq -c'
for _ in $(seq 20); do "$BPFLAB" lab exec --name "$L3" client -- curl -s -m 2 http://198.18.0.100/; done | sort | uniq -c | sed 's/^/     /'
say "backend-b's HTTP server stops: after fall = 2 failed checks it is drained"
pid=$("$BPFLAB" lab status --name "$L3" --json | jq '.nodes[] | select(.node == "backend-b") | .server.pid')
cmd kill "$pid"
kill "$pid"
l3_wait 198.18.12.12:80 down
sleep 0.2
cmd bpflab --netns "$L3-lb" lb show --json '| jq ...'
l3_health 198.18.12.12:80 | sed 's/^/     /'
for _ in $(seq 10); do "$BPFLAB" lab exec --name "$L3" client -- curl -s -m 2 http://198.18.0.100/; done | sort | uniq -c | sed 's/^/     now: /'
say "the server back (lab up --serve again): after rise = 2 good checks, its weight is back"
show bpflab lab up --name "$L3" --lb gue --serve
l3_wait 198.18.12.12:80 up
sleep 0.2
cmd bpflab --netns "$L3-lb" lb show --json '| jq ...'
l3_health 198.18.12.12:80 | sed 's/^/     /'
say "what the checker said:"
grep -E ' (down|drain|up|restore)' "/tmp/$L3-health.log" | sed 's/^/     /'
rm -f "/tmp/$L3-health.log"
l3_down
L3_HEALTH=
trap cleanup EXIT
