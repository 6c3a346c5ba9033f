# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The talk's C hello: an XDP program whose global counter is read from user space.
step "count: the talk's hello.bpf.c, its global counter read through the skeleton"
say "XDP on backend-a's eth0 (native mode on veth) while the client pings it 10 times"
cmd bpflab lab exec --name "$LAB" client -- ping -c 10 -i 0.1 -q 198.18.0.11 '&'
in_node client ping -c 10 -i 0.1 -q 198.18.0.11 > /dev/null &
show bpflab --netns "$LAB-backend-a" count eth0 --duration 1.6
wait
