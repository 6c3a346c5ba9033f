#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab lab: up is idempotent, status tells the truth, down removes everything,
# also after a half-failed up.
load helpers

setup() {
  require_bpf
  LAB=$(unique_lab)
}

teardown() {
  "$BPFLAB" lab down --name "$LAB" >/dev/null 2>&1 || true
  ip netns del "$LAB-backend-b" 2>/dev/null || true
}

lab_namespaces() { ip netns list | awk '{print $1}' | grep -c "^$LAB-" || true; }

@test "lab up builds the talk's picture and nodes reach each other (v4 and v6)" {
  run "$BPFLAB" lab up --name "$LAB"
  [ "$status" -eq 0 ]
  [ "$(lab_namespaces)" -eq 5 ]
  run "$BPFLAB" lab status --name "$LAB" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.up == true and (.nodes | length) == 4'
  json_assert "$output" '[.nodes[].node] == ["client","lb","backend-a","backend-b"]'
  json_assert "$output" '.nodes[2].ipv4 == "198.18.0.11" and .nodes[2].mac == "02:00:c6:12:00:0b"'
  json_assert "$output" 'all(.nodes[]; .present and (.programs | length) == 0)'
  run lab_exec "$LAB" client ping -c 1 -W 2 198.18.0.12
  [ "$status" -eq 0 ]
  run lab_exec "$LAB" backend-a ping -6 -c 1 -W 2 2001:db8:18::1
  [ "$status" -eq 0 ]
  # The link MAC is the planned one.
  run lab_exec "$LAB" lb ip -o link show eth0
  [[ $output == *"02:00:c6:12:00:02"* ]]
}

@test "lab up twice is idempotent; --backends grows it" {
  "$BPFLAB" lab up --name "$LAB"
  run "$BPFLAB" lab up --name "$LAB"
  [ "$status" -eq 0 ]
  [ "$(lab_namespaces)" -eq 5 ]
  run "$BPFLAB" lab up --name "$LAB" --backends 3
  [ "$status" -eq 0 ]
  [ "$(lab_namespaces)" -eq 6 ]
  run lab_exec "$LAB" backend-c ping -c 1 -W 2 198.18.0.1
  [ "$status" -eq 0 ]
  run "$BPFLAB" lab status --name "$LAB" --json
  json_assert "$output" '.backends == 3 and .nodes[4].ipv4 == "198.18.0.13"'
}

@test "lab down removes everything, also after a half-failed up" {
  # A stray node namespace whose eth0 is not wired to the switch: up fails part-way.
  ip netns add "$LAB-backend-b"
  ip -n "$LAB-backend-b" link add eth0 type veth peer name eth1
  run "$BPFLAB" lab up --name "$LAB"
  [ "$status" -ne 0 ]
  [[ $output == *"setting up failed"* ]]
  [ "$(lab_namespaces)" -eq 0 ]
  "$BPFLAB" lab up --name "$LAB"
  run "$BPFLAB" lab down --name "$LAB"
  [ "$status" -eq 0 ]
  [ "$(lab_namespaces)" -eq 0 ]
  run "$BPFLAB" lab status --name "$LAB" --json
  json_assert "$output" '.up == false'
}

@test "lab down removes what commands pinned for its namespaces (an lb never stopped)" {
  "$BPFLAB" lab up --name "$LAB" --lb nat >/dev/null
  "$BPFLAB" --netns "$LAB-lb" lb start eth0 --mode nat >/dev/null
  [ -d "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb" ]
  run -0 "$BPFLAB" lab down --name "$LAB"
  [ ! -e "/sys/fs/bpf/bpflab/lb/eth0@$LAB-lb" ]
  [ "$(lab_namespaces)" -eq 0 ]
}

@test "lab exec keeps /sys/fs/bpf visible and runs in the node's netns" {
  "$BPFLAB" lab up --name "$LAB"
  run lab_exec "$LAB" backend-b ip -o -4 addr show dev eth0
  [[ $output == *"198.18.0.12/24"* ]]
  run lab_exec "$LAB" client stat -f -c %T /sys/fs/bpf
  [ "$output" = "bpf_fs" ]
}

@test "bad lab input: bad names, backends, nodes; nothing created" {
  run "$BPFLAB" lab up --name "Bad_Name"
  [ "$status" -eq 2 ]
  run "$BPFLAB" lab up --name "$LAB" --backends 0
  [ "$status" -eq 2 ]
  run "$BPFLAB" lab up --name "$LAB" --backends 17
  [ "$status" -eq 2 ]
  run "$BPFLAB" lab frob --name "$LAB"
  [ "$status" -eq 2 ]
  [ "$(lab_namespaces)" -eq 0 ]
  "$BPFLAB" lab up --name "$LAB"
  run "$BPFLAB" lab exec --name "$LAB" nosuchnode -- true
  [ "$status" -eq 2 ]
}

@test "lab status lists every XDP and tcx program per node (name, id, hook, mode); down --json" {
  "$BPFLAB" lab up --name "$LAB"
  "$BPFLAB" --netns "$LAB-lb" count eth0 --pin --duration 0 --interval 0 >/dev/null
  # ping --hook tc holds a tcx link while it runs; bounded by --duration.
  "$BPFLAB" --netns "$LAB-backend-a" ping eth0 --reply --hook tc --duration 20 --json > "$BATS_TEST_TMPDIR/ping" 2>&1 &
  local pid=$!
  wait_for_line "$BATS_TEST_TMPDIR/ping"
  text=$("$BPFLAB" lab status --name "$LAB")
  run "$BPFLAB" lab status --name "$LAB" --json
  kill -INT $pid; wait $pid || true
  "$BPFLAB" --netns "$LAB-lb" count eth0 --detach >/dev/null
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "lab"'
  json_assert "$output" '[.nodes[] | select(.node == "lb") | .programs[]] |
    any(.interface == "eth0" and .hook == "xdp" and .name == "count_xdp" and .id > 0 and (.mode == "native" or .mode == "generic"))'
  json_assert "$output" '[.nodes[] | select(.node == "backend-a") | .programs[]] |
    any(.interface == "eth0" and .hook == "tc" and .attach == "tcx" and .direction == "ingress" and .mode == null and .id > 0 and (.name | startswith("ping")))'
  json_assert "$output" '[.nodes[] | select(.node == "client") | .programs[]] | length == 0'
  [[ $text == *"xdp:count_xdp#"*" on eth0 ("* ]]
  [[ $text == *"tcx_ingress:ping"*" on eth0 (link)"* ]]
  run "$BPFLAB" lab down --name "$LAB" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "lab_down" and .ok == true and .removed_namespaces == 5'
  [ "$(lab_namespaces)" -eq 0 ]
  # Teardown is idempotent: a second down finds nothing and succeeds.
  run "$BPFLAB" lab down --name "$LAB" --json
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "lab_down" and .ok == true and .removed_namespaces == 0'
}
