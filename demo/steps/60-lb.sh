# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's load balancer, made correct: Maglev per VIP, a connection table, NAT mode.
step "lb: the talk's load balancer in XDP: Maglev tables, connection tracking, NAT"
LAB_VIP=198.18.0.100
say "lb prepared (VIP $LAB_VIP on its lo, NAPI on its switch port); a TCP server on each backend"
"$BPFLAB" lab up --name "$LAB" --lb nat >/dev/null
lb_pids=()
for b in a b; do
  in_node "backend-$b" timeout 14 python3 tests/e2e/lb_tool.py serve "backend-$b" 80 12 &
  lb_pids+=($!)
done
printf 'vip %s:80/tcp\nbackend %s:80/tcp 198.18.0.11\nbackend %s:80/tcp 198.18.0.12 weight 2\n' \
  $LAB_VIP $LAB_VIP $LAB_VIP > "/tmp/$LAB-lb.conf"
sed 's/^/     /' "/tmp/$LAB-lb.conf"
show "$BPFLAB" --netns "$LAB-lb" lb start eth0 --mode nat --config "/tmp/$LAB-lb.conf"
say "the client opens 12 TCP connections to $LAB_VIP:80; each backend answers with its name"
in_node client timeout 10 python3 tests/e2e/lb_tool.py clients $LAB_VIP 80 12 each | sed 's/^/     /'
show "$BPFLAB" --netns "$LAB-lb" lb show
show "$BPFLAB" --netns "$LAB-lb" lb stop eth0
kill "${lb_pids[@]}" 2>/dev/null || true
wait "${lb_pids[@]}" 2>/dev/null || true
rm -f "/tmp/$LAB-lb.conf"
