#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab verify on the verifier gallery (examples/verifier): each broken program is
# rejected with its pattern, message, source line and explanation; each fixed twin loads.
# Nothing is attached or pinned; no namespaces needed (nothing runs, it only loads).
load helpers
: "${BPFLAB_OUT:=$BATS_TEST_DIRNAME/../../.output}"

setup_file() {
  export GALLERY="$BPFLAB_OUT/examples/verifier"
  make -s -C "$BATS_TEST_DIRNAME/../../examples/verifier" OUT="$BPFLAB_OUT" >&2
}

setup() {
  require_bpf
}

# case pattern explanation-word fix-word [verify options]
check_case() {
  local c=$1 pattern=$2 why=$3 fix=$4; shift 4
  run "$BPFLAB" verify "$@" --json "$GALLERY/${c}_broken.bpf.o"
  [ "$status" -eq 5 ]
  json_assert "$output" ".rejected == 1 and .loaded == 0 and .failed == 0 and (.programs | length) == 1"
  json_assert "$output" ".programs[0].result == \"rejected\" and .programs[0].pattern == \"$pattern\""
  json_assert "$output" ".programs[0].explanation | test(\"$why\")"
  json_assert "$output" ".programs[0].fix | test(\"$fix\")"
  json_assert "$output" ".programs[0] as \$p | \$p.message != \"\" and (\$p.log_tail | contains(\$p.message))"
  if [ "$c" != stack_size ]; then # checked after the walk: no instruction to point at
    json_assert "$output" ".programs[0].source.file == \"${c}_broken.bpf.c\" and .programs[0].source.line > 0 and .programs[0].source.text != \"\" and .programs[0].insn >= 0"
  fi
  run "$BPFLAB" verify "$@" --json "$GALLERY/${c}_fixed.bpf.o"
  [ "$status" -eq 0 ]
  json_assert "$output" ".loaded == 1 and .rejected == 0 and .programs[0].result == \"loaded\""
  json_assert "$output" ".programs[0].insns_processed > 0 and .programs[0].xlated_bytes > 0 and .programs[0].jited_bytes > 0"
}

@test "every gallery case has a test here" {
  cases=$(make -s -C "$BATS_TEST_DIRNAME/../../examples/verifier" list | tr ' ' '\n' | sort)
  tested=$(grep -oE '^  check_case [a-z_]+' "$BATS_TEST_FILENAME" | awk '{print $2}' | sort)
  [ "$cases" = "$tested" ]
  for c in $cases; do [ -f "$GALLERY/${c}_broken.bpf.o" ] && [ -f "$GALLERY/${c}_fixed.bpf.o" ]; done
}

@test "license: GPL-only helper without a license" {
  check_case license license_gpl "GPL" "LICENSE"
  [[ $(jq -r '.programs[0].message' <<<"$("$BPFLAB" verify --json "$GALLERY/license_broken.bpf.o")") == "cannot call GPL-restricted function from non-GPL compatible program" ]]
}
@test "null_check: map lookup used without a NULL check" {
  check_case null_check null_check "NULL" "if \\\\(!v\\\\)"
}
@test "pkt_bounds: packet read without a data_end check" {
  check_case pkt_bounds pkt_bounds "data_end" "data_end"
}
@test "array_oob: index past the end of a global array" {
  check_case array_oob map_value_bounds "index" "ARRAY_SIZE"
}
@test "loop: a loop without a bound" {
  check_case loop infinite_loop "loop" "bpf_loop"
}
@test "uninit_stack: padding of a map key never written (CAP_BPF-only loader)" {
  check_case uninit_stack uninit_stack "padding" "= \\\\{\\\\}" --unpriv
  json_assert "$output" ".unpriv == true"
}
@test "uninit_stack: a privileged loader accepts it (Linux 6.5+), which is why --unpriv exists" {
  run "$BPFLAB" verify --json "$GALLERY/uninit_stack_broken.bpf.o"
  [ "$status" -eq 0 ]
  json_assert "$output" ".loaded == 1 and .unpriv == false"
}
@test "no_return: no return value" {
  check_case no_return no_return "R0" "return XDP_PASS"
}
@test "not_a_map: a stack pointer passed as a map" {
  check_case not_a_map not_a_map "map" "&my_map"
}
@test "ctx_modified: arithmetic on the context pointer" {
  check_case ctx_modified ctx_modified "ctx" "ctx->ingress_ifindex"
}
@test "ctx_write: write to XDP's read-only context" {
  check_case ctx_write ctx_access "read-only" "bpf_xdp_adjust_head"
}
@test "stack_size: call chain over 512 bytes of stack" {
  check_case stack_size stack_too_large "512" "per-CPU array"
  run "$BPFLAB" verify --json "$GALLERY/stack_size_broken.bpf.o"
  json_assert "$output" '.programs[0].stack_depth == [0, 400, 400] and .programs[0].insn == -1'
}
@test "ref_leak: ring buffer reservation never submitted" {
  check_case ref_leak ref_leak "reservation" "bpf_ringbuf_discard"
  run "$BPFLAB" verify --json "$GALLERY/ref_leak_broken.bpf.o"
  json_assert "$output" '.programs[0].acquired.text | test("bpf_ringbuf_reserve")'
}
@test "helper: a tracing helper in XDP; its twin is a tracepoint program" {
  check_case helper helper_unavailable "program type" "hook"
  json_assert "$output" '.programs[0].prog_type == "tracepoint" and .programs[0].section == "tracepoint/syscalls/sys_enter_execve"'
}

@test "human output: source line, why, fix, log tail" {
  run "$BPFLAB" verify "$GALLERY/null_check_broken.bpf.o"
  [ "$status" -eq 5 ]
  [[ $output == *"null_check (xdp): REJECTED (Permission denied)"* ]]
  [[ $output == *"null_check_broken.bpf.c:20:  __sync_fetch_and_add(v, 1);"* ]]
  [[ $output == *"verifier: R0 invalid mem access 'map_value_or_null'"* ]]
  [[ $output == *"  fix:"* ]]
  [[ $output == *"    | 8: (db) lock *(u64 *)(r0 +0) += r1"* ]]
  run "$BPFLAB" verify "$GALLERY/null_check_fixed.bpf.o"
  [ "$status" -eq 0 ]
  [[ $output == *"null_check (xdp): loaded"* ]]
  [[ $output == *"insns processed"*"bytes xlated"*"bytes jited"* ]]
}

@test "an object with two programs: each judged on its own; --prog picks one" {
  src="$BATS_TEST_TMPDIR/two.bpf.c"
  cat > "$src" <<'C'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } m SEC(".maps");
SEC("xdp") int good(struct xdp_md *ctx) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&m, &k); if (v) *v += 1; return XDP_PASS; }
SEC("tc") int bad(struct __sk_buff *skb) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&m, &k); *v += 1; return 0; }
char LICENSE[] SEC("license") = "GPL";
C
  clang -g -O2 -target bpf -I"/usr/include/$(cc -print-multiarch)" -c "$src" -o "$BATS_TEST_TMPDIR/two.bpf.o"
  run "$BPFLAB" verify --json "$BATS_TEST_TMPDIR/two.bpf.o"
  [ "$status" -eq 5 ]
  json_assert "$output" '.loaded == 1 and .rejected == 1 and ([.programs[].name] == ["good", "bad"])'
  json_assert "$output" '.programs[1].prog_type == "sched_cls" and .programs[1].pattern == "null_check"'
  run "$BPFLAB" verify --json --prog good "$BATS_TEST_TMPDIR/two.bpf.o"
  [ "$status" -eq 0 ]
  json_assert "$output" '(.programs | length) == 1 and .programs[0].name == "good"'
  run "$BPFLAB" verify --prog nope "$BATS_TEST_TMPDIR/two.bpf.o"
  [ "$status" -eq 2 ]
  [[ $output == *"no program 'nope'"*"good bad"* ]]
}

@test "bpflab's own programs all load" {
  for o in count lb; do
    run "$BPFLAB" verify --json "$BPFLAB_OUT/bpf/$o.bpf.o"
    [ "$status" -eq 0 ]
    json_assert "$output" '.rejected == 0 and .failed == 0 and .loaded >= 1'
  done
}

@test "--log prints the whole log; --log-level 2 gives a longer one" {
  run "$BPFLAB" verify --json --log "$GALLERY/null_check_broken.bpf.o"
  json_assert "$output" '.programs[0].log | test("processed 8 insns")'
  l1=$(jq -r '.programs[0].log | length' <<<"$output")
  run "$BPFLAB" verify --json --log --log-level 2 "$GALLERY/null_check_broken.bpf.o"
  [ "$status" -eq 5 ]
  l2=$(jq -r '.programs[0].log | length' <<<"$output")
  [ "$l2" -gt "$l1" ]
}

@test "bad input: usage errors, exit 2, nothing loaded" {
  run "$BPFLAB" verify
  [ "$status" -eq 2 ]
  run "$BPFLAB" verify /nonexistent/x.bpf.o
  [ "$status" -eq 2 ]
  [[ $output == *"cannot read '/nonexistent/x.bpf.o'"* ]]
  run "$BPFLAB" verify "$BATS_TEST_FILENAME"
  [ "$status" -eq 2 ]
  [[ $output == *"not a BPF object file"* ]]
  run "$BPFLAB" verify --log-level 3 "$GALLERY/loop_fixed.bpf.o"
  [ "$status" -eq 2 ]
  run "$BPFLAB" verify "$GALLERY/loop_fixed.bpf.o" extra
  [ "$status" -eq 2 ]
}

@test "without privileges: exit 4 naming what is missing" {
  # The binary and the object are copied out of the checkout: it may be 0700 (cloned
  # under /root), and the test is about capabilities, not about reading the checkout.
  unpriv_copy "$GALLERY/null_check_fixed.bpf.o"
  run as_nobody_with "" "$UNPRIV_DIR/bpflab" verify "$UNPRIV_DIR/null_check_fixed.bpf.o"
  [ "$status" -eq 4 ]
  [[ $output == *"lacks CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN"* ]]
  # Exactly what it names is enough.
  run as_nobody_with +bpf,+perfmon,+net_admin "$UNPRIV_DIR/bpflab" --json verify "$UNPRIV_DIR/null_check_fixed.bpf.o"
  unpriv_cleanup
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "verify" and .loaded == 1'
}

@test "not an object: a clear message, not 'Unknown error 4001'; JSON numbers are numbers" {
  run "$BPFLAB" verify /etc/passwd
  [ "$status" -eq 2 ]
  [[ $output == *"is not a BPF object file"* && $output != *"Unknown error"* ]]
  run "$BPFLAB" verify --json "$GALLERY/null_check_fixed.bpf.o"
  [ "$status" -eq 0 ]
  json_assert "$output" '.type == "verify" and (.programs[0].stack_depth | type) == "array" and all(.programs[0].stack_depth[]; type == "number")'
}

@test "nothing is left loaded or pinned" {
  before=$(ls -R /sys/fs/bpf | wc -l)
  "$BPFLAB" verify "$GALLERY/ref_leak_fixed.bpf.o" >/dev/null
  "$BPFLAB" verify "$GALLERY/ref_leak_broken.bpf.o" >/dev/null || true
  [ "$(ls -R /sys/fs/bpf | wc -l)" -eq "$before" ]
  for _ in $(seq 1 40); do [ -z "$(bpftool prog show name ref_leak 2>/dev/null)" ] && break; sleep 0.05; done
  [ -z "$(bpftool prog show name ref_leak 2>/dev/null)" ]
}
