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
  if [ "$c" != stack_size ] && [ "$c" != tail_call_stack ]; then # checked after the walk: no instruction to point at
    json_assert "$output" ".programs[0].source.file == \"${c}_broken.bpf.c\" and .programs[0].source.line > 0 and .programs[0].source.text != \"\" and .programs[0].insn >= 0"
  fi
  run "$BPFLAB" verify "$@" --json "$GALLERY/${c}_fixed.bpf.o"
  [ "$status" -eq 0 ]
  json_assert "$output" ".loaded == 1 and .rejected == 0 and .programs[0].result == \"loaded\""
  json_assert "$output" ".programs[0].insns_processed > 0 and .programs[0].xlated_bytes > 0 and .programs[0].jited_bytes > 0"
}

# A failure before the verifier (libbpf): exit 1, result "failed", stage "libbpf".
# case pattern explanation-word fix-word
check_pre() {
  local c=$1 pattern=$2 why=$3 fix=$4
  run "$BPFLAB" verify --json "$GALLERY/${c}_broken.bpf.o"
  [ "$status" -eq 1 ]
  # the verify record; the error record that every failing command adds follows it
  output=$(head -1 <<<"$output")
  json_assert "$output" ".failed == 1 and .programs[0].result == \"failed\" and .programs[0].pattern == \"$pattern\""
  json_assert "$output" ".programs[0].stage == \"libbpf\" and .programs[0].source == null and .programs[0].message != \"\""
  json_assert "$output" ".programs[0].explanation | test(\"$why\")"
  json_assert "$output" ".programs[0].fix | test(\"$fix\")"
  run "$BPFLAB" verify --json "$GALLERY/${c}_fixed.bpf.o"
  [ "$status" -eq 0 ]
  json_assert "$output" ".loaded == 1 and .programs[0].result == \"loaded\""
}

@test "every gallery case has a test here" {
  cases=$(make -s -C "$BATS_TEST_DIRNAME/../../examples/verifier" list | tr ' ' '\n' | sort)
  tested=$(grep -oE '^  check_(case|pre|open) [a-z_]+' "$BATS_TEST_FILENAME" | awk '{print $2}' | sort)
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

@test "pkt_invalidated: a header pointer used after bpf_xdp_adjust_head()" {
  check_case pkt_invalidated pkt_invalidated "invalidates every packet pointer" "data_end from ctx again"
  run "$BPFLAB" verify --json "$GALLERY/pkt_invalidated_broken.bpf.o"
  json_assert "$output" '.programs[0].fix | test("bpf_probe_read_kernel") | not'
  json_assert "$output" '.programs[0].invalidated_by.helper == "bpf_xdp_adjust_head" and .programs[0].invalidated_by.line == 17'
  json_assert "$output" '.programs[0].origin.line == 11 and (.programs[0].origin.text | test("ctx->data")) and .programs[0].register.name == "R6"'
  run "$BPFLAB" verify "$GALLERY/pkt_invalidated_broken.bpf.o"
  [[ $output == *"invalidated by bpf_xdp_adjust_head() at insn 7, line 17:  if (bpf_xdp_adjust_head(ctx, 0))"* ]]
  [[ $output == *"R6 was made at insn 2, line 11:"* ]]
}
@test "pkt_var_off: a packet pointer moved by a 32-bit length" {
  check_case pkt_var_off pkt_var_off "bound" "off &= 0x3ff"
}
@test "ptr_arith: a signed offset from the packet" {
  check_case ptr_arith ptr_arith "negative" "unsigned"
}
@test "pkt_end_arith: data_end - 4" {
  check_case pkt_end_arith pkt_end_arith "data_end" "bpf_xdp_load_bytes"
}
@test "pkt_readonly: a cgroup_skb program writes the packet" {
  check_case pkt_readonly pkt_readonly "cgroup_skb" "TC"
}
@test "ptr_alu: a packet pointer masked with &" {
  check_case ptr_alu ptr_alu "masking" "off & ~3"
}
@test "helper_size: an unbounded length for bpf_skb_load_bytes" {
  check_case helper_size helper_size "length" "sizeof\\\\(buf\\\\)"
}
@test "mem_bounds: writing past a ring buffer reservation" {
  check_case mem_bounds mem_bounds "ring buffer" "sizeof\\\\(\\\\*e\\\\)"
}
@test "rdonly_map: writing a const volatile global" {
  check_case rdonly_map rdonly_map "rodata" "plain global"
}
@test "too_complex: a 100000-turn bounded loop" {
  check_case too_complex too_complex "1 million" "bpf_loop"
}
@test "stack_var_off: a packet byte indexes a stack buffer" {
  check_case stack_var_off stack_var_off "var_off" "idx &="
}
@test "misaligned: a 4-byte store at an odd stack address" {
  check_case misaligned misaligned "aligned" "__builtin_memcpy"
}
@test "key_size: a 4-byte key for an 8-byte-key map" {
  check_case key_size key_size "key_size" "__u64 key"
}
@test "not_a_map/map_type: bpf_tail_call on a plain array" {
  check_case map_type map_type "prog array" "PROG_ARRAY"
  run "$BPFLAB" verify --json "$GALLERY/map_type_broken.bpf.o"
  json_assert "$output" '.programs[0].message | test("verification time") | not'
}
@test "tail_call_stack: a tail call below 300 bytes of stack" {
  check_case tail_call_stack tail_call_stack "256" "per-CPU array"
}
@test "spin_lock_exit: returning with the lock held" {
  check_case spin_lock_exit spin_lock_exit "unlock|bpf_spin_unlock" "Unlock on every path"
}
@test "spin_lock_call: a helper call inside the locked region" {
  check_case spin_lock_call spin_lock_call "helper calls" "before taking the lock"
}
@test "sock_leak: a socket lookup never released" {
  check_case sock_leak sock_leak "released" "bpf_sk_release"
  run "$BPFLAB" verify --json "$GALLERY/sock_leak_broken.bpf.o"
  json_assert "$output" '.programs[0].acquired.text | test("bpf_sk_lookup_tcp")'
}
@test "sleepable_helper: bpf_copy_from_user in a tracepoint" {
  check_case sleepable_helper sleepable_helper "sleep" "bpf_probe_read_user"
  json_assert "$output" '.programs[0].prog_type == "tracepoint"'
}
@test "sleepable_kfunc: bpf_copy_from_user_str in a tracepoint" {
  check_case sleepable_kfunc sleepable_kfunc "KF_SLEEPABLE" "bpf_probe_read_user_str"
}
@test "helper_arg: a key passed by value (expected=fp)" {
  check_case helper_arg helper_arg "expected=" "&key"
  run "$BPFLAB" verify --json "$GALLERY/helper_arg_broken.bpf.o"
  json_assert "$output" '.programs[0].message | test("type=scalar expected=fp")'
}
@test "global_func: a global function trusts its pointer argument" {
  check_case global_func global_func "global" "if \\\\(!p\\\\)"
}
@test "return_range: cgroup_skb ingress returns 2" {
  check_case return_range return_range "cgroup_skb" "0 drop, 1 allow"
}
@test "callback_return: a bpf_loop callback returns 2" {
  check_case callback_return callback_return "bpf_loop" "return 1"
}
@test "ptr_leak: a packet address stored in a map (CAP_BPF-only loader)" {
  check_case ptr_leak ptr_leak "CAP_PERFMON" "not pointers" --unpriv
}
@test "scalar_deref: a syscall's user pointer dereferenced" {
  check_case scalar_deref scalar_deref "user-space" "bpf_probe_read_user"
  json_assert "$output" '.programs[0].invalidated_by == null'
}
@test "core_relo: CO-RE read of a field this kernel lacks" {
  check_case core_relo core_relo "BTF" "bpf_core_field_exists"
  run "$BPFLAB" verify --json "$GALLERY/core_relo_broken.bpf.o"
  json_assert "$output" '.programs[0].detail | test("task_struct.start_boottime_ns")'
}
@test "before the verifier: libbpf failures explained" {
  check_pre kfunc_missing kfunc_missing "kfunc" "bpf_ksym_exists"
  json_assert "$output" '.loaded == 1'
  check_pre section bad_section "SEC" "bpf_program__set_type"
  check_pre map_create map_create "array" "__u32"
  run "$BPFLAB" verify --json "$GALLERY/kfunc_missing_broken.bpf.o"
  json_assert "$(head -1 <<<"$output")" '.programs[0].detail | test("bpf_task_by_pid")'
  run "$BPFLAB" verify "$GALLERY/section_broken.bpf.o"
  [[ $output == *"FAILED before verification (Invalid argument) -- program type unknown"* ]]
  [[ $output == *"libbpf:   prog 'section': missing BPF prog type, check ELF section name 'xpd'"* ]]
}
# An object libbpf will not even open: exit 2, the pattern in the error record.
check_open() {
  local c=$1 pattern=$2 fix=$3
  run "$BPFLAB" verify --json "$GALLERY/${c}_broken.bpf.o"
  [ "$status" -eq 2 ]
  output=$(grep '^{' <<<"$output")
  json_assert "$output" ".type == \"error\" and (.message | test(\"pattern $pattern\")) and (.message | test(\"$fix\"))"
  run "$BPFLAB" verify --json "$GALLERY/${c}_fixed.bpf.o"
  [ "$status" -eq 0 ]
  json_assert "$output" '.loaded == 1'
}
@test "no_btf: an object built without -g cannot even be opened; its twin loads" {
  check_open no_btf no_btf "clang -g"
}

@test "--explain: logs pasted from libbpf, bpftool, cilium/ebpf, aya, bcc, journald" {
  V="$BATS_TEST_DIRNAME/../data/vlogs"
  ex() { # file loader pattern line
    run "$BPFLAB" verify --json --explain "$V/$1"
    [ "$status" -eq 5 ]
    json_assert "$output" ".type == \"verify_explain\" and .loader == \"$2\" and .pattern == \"$3\" and .rejected == true"
    json_assert "$output" "(.source == null and $4 == 0) or .source.line == $4"
    json_assert "$output" '.explanation != "" and .fix != ""'
  }
  ex explain_libbpf.txt libbpf pkt_invalidated 19
  json_assert "$output" '.invalidated_by.helper == "bpf_xdp_adjust_head"'
  ex explain_libbpf_old.txt libbpf license_gpl 10
  ex explain_bpftool.txt bpftool pkt_bounds 13
  ex explain_cilium.txt cilium/ebpf sleepable_helper 0
  ex explain_cilium_full.txt cilium/ebpf stack_var_off 16
  ex explain_aya.txt aya helper_size 13
  ex explain_journal.txt aya pkt_var_off 20
  ex explain_bcc.txt bcc spin_lock_call 28
  ex map_create.libbpf.log libbpf map_create 0
  json_assert "$output" '.stage == "libbpf" and .detail == "map '"'"'counts'"'"'"'
  # stdin, human output
  run bash -c "\"$BPFLAB\" verify --explain - < \"$V/explain_bcc.txt\""
  [ "$status" -eq 5 ]
  [[ $output == *"(bcc log): REJECTED -- a call while holding a spin lock"* ]]
  [[ $output == *"at insn 11, spin_lock_call_broken.bpf.c:28:  c->stamp = bpf_ktime_get_ns();"* ]]
  # a log of an accepted program: exit 0, nothing rejected
  run "$BPFLAB" verify --json --explain "$V/accepted_null_check.log"
  [ "$status" -eq 0 ]
  json_assert "$output" '.rejected == false and .pattern == null'
}

@test "--explain: an unknown message gets its words and the register state" {
  f="$BATS_TEST_TMPDIR/new.log"
  printf '; *p = v; @ a.c:9\n5: (bf) r3 = r7                      ; R3_w=pkt(off=4,r=8) R7=pkt(off=4,r=8)\n6: (7b) *(u64 *)(r3 +0) = r1\nR3 frobnicated access off=4 size=8\n' > "$f"
  run "$BPFLAB" verify --json --explain "$f"
  [ "$status" -eq 5 ]
  json_assert "$output" '.pattern == "unknown" and .register.name == "R3" and .register.state == "pkt(off=4,r=8)"'
  json_assert "$output" '[.words[].word] | index("pkt") != null and index("off=") != null'
  run "$BPFLAB" verify --explain "$f"
  [[ $output == *"state:    R3=pkt(off=4,r=8)"* && $output == *"the words:"* ]]
}

@test "--explain: bad input is a usage error" {
  run "$BPFLAB" verify --explain /nonexistent/log
  [ "$status" -eq 2 ]
  run "$BPFLAB" verify --explain /dev/null
  [ "$status" -eq 2 ]
  [[ $output == *"holds no verifier log"* ]]
  run "$BPFLAB" verify --explain "$BATS_TEST_FILENAME" extra.o
  [ "$status" -eq 2 ]
  printf 'a\0b' > "$BATS_TEST_TMPDIR/bin"
  run "$BPFLAB" verify --explain "$BATS_TEST_TMPDIR/bin"
  [ "$status" -eq 2 ]
  [[ $output == *"not text"* ]]
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
