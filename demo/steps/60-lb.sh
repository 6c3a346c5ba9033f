# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's load balancer, made correct: Maglev per VIP, a connection table, NAT mode;
# the backends' HTTP servers (lab up --serve) answer with their names.
step "lb: the talk's load balancer in XDP: Maglev tables, connection tracking, NAT"
LAB_VIP=198.18.0.100
say "the lab prepared for it (VIP on lb's lo, NAPI on its switch port), an HTTP server per backend"
show bpflab lab up --name "$LAB" --lb nat --serve
show bpflab --netns "$LAB-lb" lb start eth0 --mode nat
show bpflab --netns "$LAB-lb" lb vip add $LAB_VIP:80/tcp
show bpflab --netns "$LAB-lb" lb backend add $LAB_VIP:80/tcp 198.18.0.11
show bpflab --netns "$LAB-lb" lb backend add $LAB_VIP:80/tcp 198.18.0.12 --weight 2
say "30 HTTP requests from the client, each a new TCP connection: Maglev spreads them 1:2"
cmd 'for i in $(seq 30); do' bpflab lab exec --name "$LAB" client -- curl -s http://$LAB_VIP/ '; done | sort | uniq -c'
for _ in $(seq 30); do in_node client curl -s -m 2 http://$LAB_VIP/; done | sort | uniq -c | sed 's/^/     /'
show bpflab --netns "$LAB-lb" lb show
show bpflab --netns "$LAB-lb" lb stop eth0
