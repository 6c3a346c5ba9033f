// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The table of known rejections: one rule per message class, each with a broken/fixed
 * pair in examples/verifier/ (docs/verify.md lists them). Message fragments come from
 * the kernel's verifier.c (Linux 6.12-6.18) and libbpf 1.x. Order is priority: the first
 * rule with a matching line wins, so specific rules come before general ones. Rules
 * with no needles are reached by context from a general one (vlog.c: refine()). */
#include <stddef.h>

#include "vlog.h"

#define PRE true

const struct vlog_rule vlog_rules[] = {
	/* Before the verifier: libbpf's own checks. */
	{ { "core_relo", "CO-RE relocation failed: field or type missing in this kernel",
	    "The program reads a kernel structure field (BPF_CORE_READ, preserve_access_index) "
	    "that libbpf could not find in this kernel's BTF: the field was renamed, removed or "
	    "never existed here. libbpf then poisons the instruction (call 0xbad2310, shown as "
	    "'<invalid CO-RE relocation>') so that the verifier refuses it if it is reachable.",
	    "Use the field's name in this kernel (bpftool btf dump file /sys/kernel/btf/vmlinux "
	    "format c | grep -n FIELD), or guard it: if (bpf_core_field_exists(t->f)) ... with "
	    "a ___suffixed struct flavour for each layout." },
	  false, { "<invalid CO-RE relocation>", "invalid func unknown#195896080",
		   "no matching targets found", "failed to resolve CO-RE relocation",
		   "w/ invalid insn" } },
	{ { "no_btf", "no BTF in the object (or none in the kernel)",
	    "libbpf needs BTF, the type information clang emits with -g: BTF-defined maps "
	    "(SEC(\".maps\")), CO-RE and global functions are described by it. The object has "
	    "none (built without -g, or stripped), or the kernel has no /sys/kernel/btf/vmlinux "
	    "for CO-RE.",
	    "Build with clang -g -O2 -target bpf; do not strip BPF objects (llvm-strip -g "
	    "removes BTF); for CO-RE, a kernel with CONFIG_DEBUG_INFO_BTF=y." },
	  PRE, { "BTF is required, but is missing or corrupted", "failed to find valid kernel BTF",
		 "kernel BTF is missing", "no .BTF section" } },
	{ { "bad_section", "program type unknown: the section name says nothing libbpf knows",
	    "libbpf takes the program type (and the attach point) from the SEC() name: "
	    "SEC(\"xdp\"), SEC(\"tc\"), SEC(\"tracepoint/<category>/<name>\"), ... This one "
	    "matches none of them, often a typo; the type stays unspec and the kernel refuses it.",
	    "Use a section name from libbpf's list (libbpf docs: program types and ELF "
	    "sections), e.g. SEC(\"xdp\"); or set the type with bpf_program__set_type() "
	    "before loading." },
	  PRE, { "missing BPF prog type", "unrecognized ELF section name",
		 "failed to guess program type" } },
	{ { "kfunc_missing", "kfunc (or ksym) not found in this kernel",
	    "The program declares an extern __ksym function (a kfunc) or variable that libbpf "
	    "cannot find in the kernel's BTF (or modules'), or finds with another prototype: "
	    "misspelt, too new for this kernel, in a module that is not loaded, or declared "
	    "with different argument types.",
	    "Check the name and the prototype against the kernel (bpftool btf dump file "
	    "/sys/kernel/btf/vmlinux | grep NAME); declare it __weak and test "
	    "bpf_ksym_exists(f) to run on kernels without it." },
	  PRE, { "not found in kernel or module BTFs", "failed to find BTF for extern",
		 "incompatible with kernel", "failed to find kernel BTF type ID" } },
	{ { "map_create", "the kernel refused to create a map",
	    "Creating a map failed before any program was verified. Usual reasons: an array "
	    "(or per-CPU array, prog array) key that is not 4 bytes, max_entries 0, a ring "
	    "buffer size that is not a power-of-two multiple of the page size, a map type or "
	    "flag this kernel does not have (see detail), or memory limits.",
	    "Fix the map definition: __type(key, __u32) for arrays, max_entries > 0, ringbuf "
	    "sizes like 256 * 1024; check the map type's first kernel version." },
	  PRE, { "failed to create map", ": failed to create", "Error in bpf_create_map",
		 "failed to create: " } },
	{ { "permission", "not permitted: privileges or memory limit",
	    "The kernel refused the bpf() call before verifying anything: the loader lacks "
	    "CAP_BPF (plus CAP_PERFMON for tracing, CAP_NET_ADMIN for networking programs; "
	    "CAP_SYS_ADMIN before 5.8), unprivileged BPF is disabled "
	    "(kernel.unprivileged_bpf_disabled), lockdown forbids it, or on kernels before "
	    "5.11 RLIMIT_MEMLOCK is too low for the maps.",
	    "Run as root or grant CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN (setcap, or the container's "
	    "capabilities); before 5.11 raise the limit (ulimit -l unlimited, or "
	    "setrlimit(RLIMIT_MEMLOCK) as libbpf_set_strict_mode does)." },
	  PRE, { "Operation not permitted", "operation not permitted", "RLIMIT_MEMLOCK",
		 "failed to increase memlock", "MEMLOCK may be too low" } },

	/* The verifier. */
	{ { "license_gpl", "GPL-only helper without a GPL license",
	    "The program calls a helper (or kfunc) that is only for GPL-compatible programs -- "
	    "bpf_printk() is bpf_trace_printk(), one of them -- and the object declares no "
	    "GPL-compatible license (no license section counts as proprietary).",
	    "Declare a license: char LICENSE[] SEC(\"license\") = \"Dual BSD/GPL\"; (or \"GPL\")." },
	  false, { "cannot call GPL-restricted function", "non-GPL compatible program" } },
	{ { "null_check", "possibly-NULL pointer used without a check",
	    "A pointer that can be NULL -- the result of bpf_map_lookup_elem(), "
	    "bpf_ringbuf_reserve(), bpf_sk_lookup_*() and the like -- is dereferenced (or moved) "
	    "before the program tested it. The verifier tracks it as *_or_null until a test.",
	    "Test it right after the call and use it only where the test holds: "
	    "v = bpf_map_lookup_elem(&m, &k); if (!v) return XDP_PASS; *v += 1;" },
	  false, { "_or_null'", "_or_null prohibited", "Possibly NULL pointer passed" } },
	{ { "global_func", "a global function trusts its pointer argument",
	    "A global (non-static) function is verified once, on its own, for every possible "
	    "caller: a pointer argument may be NULL there (mem_or_null), whatever the caller "
	    "passes, and only types BTF can describe are allowed as arguments.",
	    "Test pointer arguments in the function (if (!p) return 0;), or make it static "
	    "(__always_inline or static __noinline) so that it is verified with each caller's "
	    "arguments." },
	  false, { "Caller passes invalid args into func", "doesn't return scalar",
		   "Global function" } },
	{ { "pkt_invalidated", "packet pointer used after a helper that may move the packet",
	    "A helper that may change the packet -- bpf_xdp_adjust_head/tail/meta, "
	    "bpf_skb_pull_data, bpf_skb_store_bytes, bpf_skb_change_*, bpf_l3/l4_csum_replace, "
	    "... -- invalidates every packet pointer taken before the call: the data may have "
	    "moved. The verifier turns them into plain numbers (scalar), so the next use of an "
	    "old pointer is a 'scalar' dereference.",
	    "After the call, read data and data_end from ctx again and repeat the bounds check "
	    "before using a header: data = (void *)(long)ctx->data; data_end = ...; if ((void "
	    "*)(eth + 1) > data_end) return XDP_PASS;" },
	  false, { NULL } },
	{ { "pkt_var_off", "packet pointer moved by an offset the check cannot cover",
	    "A packet pointer is moved by a value the verifier cannot bound well enough (a "
	    "32-bit length read from the packet, ...): a comparison with data_end then proves "
	    "nothing it can use (r=0 in the message: no bytes known safe), or the offset may "
	    "exceed any packet's length.",
	    "Bound the offset before adding it: off &= 0x3ff; or if (off > 1500) return ...; "
	    "then add it and compare the moved pointer plus the access size with data_end." },
	  false, { "makes pkt pointer be out of bounds" } },
	{ { "pkt_bounds", "packet access without a data_end check",
	    "The program reads or writes packet memory it has not proven to be inside the packet: "
	    "every access must follow a comparison of that very pointer (plus the access size) "
	    "against data_end, on every path.",
	    "Check before touching: if ((void *)(hdr + 1) > data_end) return XDP_PASS; -- once "
	    "per header, with the pointer you then use, re-checking after any helper that may "
	    "move the packet (bpf_xdp_adjust_head, ...)." },
	  false, { "invalid access to packet", "offset is outside of the packet" } },
	{ { "pkt_end_arith", "arithmetic on data_end",
	    "data_end (pkt_end) may only be compared with packet pointers; adding to it or "
	    "subtracting from it (\"4 bytes before the end\") is refused.",
	    "Compare instead of computing: if (data + off + 4 > data_end) ...; or read the "
	    "trailer with bpf_xdp_load_bytes()/bpf_skb_load_bytes() at len - 4." },
	  false, { "pointer arithmetic on pkt_end" } },
	{ { "pkt_readonly", "this program type may not write the packet",
	    "Direct packet writes are for TC, XDP, LWT xmit and a few others; socket filters, "
	    "cgroup_skb and most read-only hooks may read packet data but not write it.",
	    "Do the rewrite in a TC (or XDP) program; in the hook itself only read and decide." },
	  false, { "cannot write into packet" } },
	{ { "ptr_alu", "bitwise or other forbidden arithmetic on a pointer",
	    "Only adding or subtracting a bounded offset is allowed on a pointer: masking "
	    "(&, |), shifting, multiplying or 32-bit arithmetic on it is refused, because the "
	    "verifier could no longer say where it points.",
	    "Do the arithmetic on the offset, then add: p = data + (off & ~3); compare the "
	    "result with data_end as usual." },
	  false, { "bitwise operator", "32-bit pointer arithmetic prohibited",
		   "pointer arithmetic with", "on pointer prohibited" } },
	{ { "helper_size", "a helper's size argument is not bounded",
	    "A helper that copies N bytes (bpf_probe_read_*, bpf_skb_load_bytes, "
	    "bpf_ringbuf_output, bpf_perf_event_output, ...) got a length register whose range "
	    "the verifier does not know to be within the buffer: it may be 0 where 0 is not "
	    "allowed, negative, or larger than the buffer.",
	    "Clamp the length right before the call, on the same variable: if (len > "
	    "sizeof(buf)) len = sizeof(buf); if (len < 1) return ...; or len &= sizeof(buf) - 1 "
	    "for a power-of-two buffer." },
	  false, { "invalid zero-sized read", "either use unsigned or 'var &= const'",
		   "use 'var &= const'" } },
	{ { "mem_bounds", "access past the end of a memory block",
	    "The program reads or writes past the end of memory the verifier knows the size of: "
	    "a ring buffer reservation (ringbuf_mem), a helper's result buffer (mem), a "
	    "dynptr slice. The message gives that size (mem_size) and the access.",
	    "Reserve or ask for as many bytes as you access: bpf_ringbuf_reserve(&rb, "
	    "sizeof(*e), 0) with e the struct you fill; check variable indexes against the size." },
	  false, { "invalid access to memory" } },
	{ { "map_value_bounds", "index or offset past the end of a map value",
	    "An index into a map value -- a global array is a map value too (.bss/.data) -- "
	    "may point past its end: the verifier knows only the range of the index register "
	    "(see the umax/var_off in the state) and that range is larger than the value.",
	    "Bound the index right before the access: if (i >= ARRAY_SIZE(arr)) return ...; "
	    "or mask it (i &= N - 1 for a power-of-two N). Do it on the same register that is "
	    "used for the access: the compiler may otherwise check a copy." },
	  false, { "invalid access to map value", "min value is outside of the allowed memory range",
		   "max value is outside of the allowed memory range", "unbounded memory access" } },
	{ { "rdonly_map", "write to a read-only map or memory",
	    "The program writes into memory it may only read: a `const volatile` global lives in "
	    ".rodata, a map libbpf freezes before loading; maps created with "
	    "BPF_F_RDONLY_PROG and read-only helper results are the same.",
	    "Make the variable a plain global (it then lives in .bss/.data, writable), or set "
	    "the constant from user space before load (skel->rodata->x = ...) and only read it." },
	  false, { "write into map forbidden", "cannot write into rdonly", "into read-only" } },
	{ { "infinite_loop", "a loop the verifier cannot see the end of",
	    "The verifier came back to a loop's head in exactly the same state as before: "
	    "nothing it can track changes from one pass to the next, so the loop may never end. "
	    "(\"back-edge from insn\": a loader without CAP_BPF may not loop at all.)",
	    "Give the loop a constant bound the verifier can count: for (i = 0; i < 64; i++) "
	    "{ ... if (done) break; }; for long or data-driven loops use bpf_loop() (5.17+)." },
	  false, { "infinite loop detected", "back-edge from insn" } },
	{ { "too_complex", "too many instructions or states to verify",
	    "The verifier walks every path; this program needs more than its budget "
	    "(1 million processed instructions, or too many jumps or states), usually because "
	    "of a loop with a large or data-dependent bound, or branches that multiply.",
	    "Make loop bounds small constants, use bpf_loop() for long loops, move work into "
	    "__noinline functions (verified once), or split the program with tail calls." },
	  false, { "BPF program is too large", "is too complex", "too many states",
		   "jumps is too complex" } },
	{ { "stack_var_off", "stack access at an offset the verifier cannot bound",
	    "A stack buffer is indexed by a register whose range reaches outside the buffer "
	    "(var_off in the message: the bits that may be set); a variable-offset access must "
	    "stay within the frame on every value, and only a privileged loader gets one at all.",
	    "Bound the index to the buffer before using it: idx &= sizeof(buf) - 1 (power of "
	    "two) or if (idx >= sizeof(buf)) return ...; or keep such tables in a map value." },
	  false, { "invalid variable-offset", "variable-offset stack access prohibited",
		   "variable stack access var_off" } },
	{ { "misaligned", "misaligned access",
	    "An access is not aligned to its size: stack accesses must always be, packet and "
	    "map accesses must be with BPF_F_STRICT_ALIGNMENT or on architectures without "
	    "efficient unaligned access. A cast of a byte pointer to a wider type tells clang "
	    "the address is aligned when it is not.",
	    "Copy through __builtin_memcpy(&v, p, sizeof(v)) (clang then uses byte accesses), "
	    "or lay the struct out so the field is naturally aligned." },
	  false, { "misaligned" } },
	{ { "key_size", "a key or value buffer smaller than the map's",
	    "A helper reads key_size (or value_size) bytes from the pointer it was given, and "
	    "that object on the stack is smaller: the read runs off its end (off + size in the "
	    "message goes past the frame or into unwritten bytes).",
	    "Give the key variable the map's key type: __u64 key for __type(key, __u64); "
	    "the same for values passed to bpf_map_update_elem()." },
	  false, { "invalid indirect access to stack" } },
	{ { "uninit_stack", "read of uninitialised stack",
	    "Stack memory is read (often by a helper: a map key, a value, a buffer) before the "
	    "program wrote it -- typically struct padding or a field left unset. Loaders "
	    "without CAP_PERFMON/CAP_SYS_ADMIN get this error; privileged ones read garbage.",
	    "Initialise the whole object first: struct key k = {}; or "
	    "__builtin_memset(&k, 0, sizeof(k)); then set the fields." },
	  false, { "invalid read from stack", "invalid indirect read from stack",
		   "invalid size of register fill" } },
	{ { "no_return", "no return value",
	    "The program reaches `exit` without setting R0, the return value (the XDP verdict, "
	    "the TC action, ...). In C: a path through the function with no return statement "
	    "(clang only warns with -Wreturn-type).",
	    "Return a value on every path: return XDP_PASS; at the end of the function." },
	  false, { "R0 !read_ok" } },
	{ { "uninit_reg", "read of an uninitialised register",
	    "An instruction reads a register that holds no value on this path -- in C usually a "
	    "variable set on one branch only, or inline assembly using a register it never set.",
	    "Initialise the variable where it is declared, or set it on every path." },
	  false, { "!read_ok" } },
	{ { "not_a_map", "a non-map pointer passed as a map",
	    "A helper that takes a map (bpf_map_lookup_elem, bpf_map_update_elem, "
	    "bpf_ringbuf_reserve, ...) got something else: a pointer to the stack, to a "
	    "variable, or a number. Only the address of a map defined in SEC(\".maps\") "
	    "(or a map taken from a map-in-map) is a map pointer.",
	    "Pass the map itself: bpf_map_lookup_elem(&my_map, &key). Casts hide this from "
	    "clang, never from the verifier." },
	  false, { "expected=map_ptr" } },
	{ { "map_type", "a helper given a map of the wrong type",
	    "Helpers work on certain map types only: bpf_tail_call() on a prog array, "
	    "bpf_ringbuf_*() on a ring buffer, bpf_redirect_map() on a devmap/cpumap/xskmap, "
	    "bpf_perf_event_output() on a perf event array, bpf_sk_redirect_map() on a sockmap.",
	    "Declare the map with the type the helper wants: __uint(type, "
	    "BPF_MAP_TYPE_PROG_ARRAY) for tail calls, BPF_MAP_TYPE_RINGBUF for bpf_ringbuf_*." },
	  false, { "cannot pass map_type", "expected prog array map for tail call" } },
	{ { "ctx_modified", "pointer arithmetic on the context",
	    "The context pointer (ctx) was moved before a field was read through it. The kernel "
	    "rewrites each ctx field access into an access to the real kernel structure, which "
	    "it can only do for `ctx + constant field offset`.",
	    "Read fields by name straight from ctx: ctx->ingress_ifindex, not *((u32 *)ctx + 3); "
	    "pass ctx itself (not a pointer into it) to functions." },
	  false, { "dereference of modified ctx ptr" } },
	{ { "ctx_access", "invalid context access",
	    "The program reads or writes a context field it may not: a write to a read-only "
	    "field (XDP's data/data_end are read-only), an offset that is no field, or a field "
	    "this program type cannot see.",
	    "Read only the fields of the context struct for this program type; change the "
	    "packet through helpers (bpf_xdp_adjust_head/tail/meta, bpf_skb_*)." },
	  false, { "invalid bpf_context access" } },
	{ { "tail_call_stack", "tail call with too much stack in the calling frames",
	    "A tail call replaces the current function but keeps its callers' frames; from a "
	    "subprogram the kernel allows it only while the frames above use less than 256 "
	    "bytes of stack (the combined limit stays 512).",
	    "Move big buffers off the stack (a per-CPU array map entry as scratch), or make the "
	    "tail call from the main program rather than from a subprogram." },
	  false, { "tail_calls are not allowed" } },
	{ { "stack_too_large", "stack larger than 512 bytes",
	    "BPF has a 512-byte stack for the whole call chain: the frames of the functions "
	    "that call each other add up (clang checks one function at a time).",
	    "Use smaller buffers, or a per-CPU array map with one entry as scratch space for "
	    "big ones; inline the callee or reorder calls so big frames are not nested." },
	  false, { "combined stack size of", "invalid stack off=" } },
	{ { "spin_lock_exit", "returns while holding a spin lock",
	    "A path leaves the program (or the function) between bpf_spin_lock() and "
	    "bpf_spin_unlock(): the lock would never be released.",
	    "Unlock on every path before returning; keep the locked region short and "
	    "straight-line: lock, update the fields, unlock." },
	  false, { "bpf_spin_lock-ed region", "bpf_spin_unlock is missing",
		   "spin_lock-ed region" } },
	{ { "spin_lock_call", "a call while holding a spin lock",
	    "Between bpf_spin_lock() and bpf_spin_unlock() only loads, stores and arithmetic are "
	    "allowed: no helper calls (bpf_ktime_get_ns() too), no function calls, no second "
	    "lock.",
	    "Call helpers before taking the lock and store their results inside it; take one "
	    "lock at a time." },
	  false, { "while holding a lock", "Locking two bpf_spin_locks" } },
	{ { "sock_leak", "a socket reference never released",
	    "bpf_sk_lookup_tcp()/bpf_sk_lookup_udp()/bpf_skc_lookup_tcp() return a referenced "
	    "socket: it must be released on every path where the lookup found one, including "
	    "the early returns.",
	    "Call bpf_sk_release(sk) on every path after a successful lookup, before returning "
	    "(copy out what you need first)." },
	  false, { NULL } },
	{ { "ref_leak", "a reference never released",
	    "A resource the program acquired -- a ring buffer reservation, a socket from "
	    "bpf_sk_lookup_*(), a kptr, a lock -- is still held when the program exits on some "
	    "path. The log's alloc_insn says where it was acquired.",
	    "On every path release what you took: bpf_ringbuf_submit() or "
	    "bpf_ringbuf_discard() for a reservation, bpf_sk_release() for a socket." },
	  false, { "Unreleased reference", "unreleased reference" } },
	{ { "sleepable_helper", "a helper that may sleep, in a program that may not",
	    "The helper may sleep (fault a user page in: bpf_copy_from_user, "
	    "bpf_d_path-like helpers, ...) and only sleepable programs may call it: lsm.s, "
	    "fentry.s/fexit.s, uprobe.s, iter.s, and syscall programs. Tracepoints, kprobes, "
	    "XDP and TC run where sleeping is forbidden.",
	    "In a non-sleepable program use the non-faulting variant (bpf_probe_read_user(), "
	    "bpf_probe_read_user_str()); or make the program sleepable (SEC(\"lsm.s/...\"), "
	    "SEC(\"fentry.s/...\"), ...)." },
	  false, { "might sleep in a non-sleepable prog", "sleepable helper" } },
	{ { "sleepable_kfunc", "a sleepable kfunc, in a program that may not sleep",
	    "The kfunc is marked KF_SLEEPABLE (bpf_copy_from_user_str, bpf_get_file_xattr, "
	    "...): only sleepable programs may call it, and not inside bpf_rcu_read_lock() "
	    "or a preempt-disabled region.",
	    "Use a helper that does not sleep (bpf_probe_read_user_str()), or make the program "
	    "sleepable (SEC(\"lsm.s/...\"), SEC(\"fentry.s/...\"), SEC(\"uprobe.s/...\"))." },
	  false, { "must be sleepable to call sleepable kfunc", "is sleepable within" } },
	{ { "helper_unknown", "a helper this kernel does not have",
	    "The kernel does not know this helper id: the helper is newer than this kernel "
	    "(see detail for the release that added it), or the id is wrong. Older kernels say "
	    "\"unknown func\", newer ones \"invalid func unknown#N\".",
	    "Run on a kernel that has it, or probe first (libbpf_probe_bpf_helper(), bpftool "
	    "feature probe) and fall back to an older helper." },
	  false, { "invalid func unknown#", "unknown func " } },
	{ { "helper_unavailable", "helper not allowed for this program type",
	    "Each program type has its own set of helpers: this one is not offered to this "
	    "type (or to this kernel, or without a capability such as CAP_PERFMON).",
	    "Use a helper this hook has (bpftool feature probe lists them per type), or move "
	    "that work to a program type that has it." },
	  false, { "cannot use helper", "calling kernel function", "is not allowed in this" } },
	{ { "callback_return", "a callback returns a value its caller does not accept",
	    "Callbacks of bpf_loop(), bpf_for_each_map_elem(), bpf_timer and the like must "
	    "return 0 (continue) or 1 (stop); the verifier proved this one may return another "
	    "value (see smin/smax).",
	    "Return only 0 or 1 from the callback: return 1; to stop the loop, 0 to go on." },
	  false, { "At callback return the register" } },
	{ { "return_range", "the program returns a value its hook does not accept",
	    "Some hooks accept only a few return values: cgroup_skb ingress 0 or 1 (egress up "
	    "to 3), cgroup/sock 0 or 1, struct_ops and LSM their own ranges. The message gives "
	    "what R0 may hold at exit and the range allowed.",
	    "Return only the verdicts the hook defines (for cgroup_skb: 0 drop, 1 allow)." },
	  false, { "At program exit the register", "should have been in" } },
	{ { "ptr_leak", "a kernel address would leak (loader without CAP_PERFMON)",
	    "A loader without CAP_PERFMON (or CAP_SYS_ADMIN) may not let a kernel address "
	    "escape: into a map, as the return value, or via pointer comparison and "
	    "subtraction, which would reveal addresses.",
	    "Store values, not pointers (lengths, indexes, ids); or load with CAP_PERFMON." },
	  false, { "leaks addr", "pointer -= pointer prohibited", "pointer comparison prohibited",
		   "pointer arithmetic prohibited" } },
	{ { "helper_arg", "wrong argument type for a helper",
	    "A helper argument has the wrong kind of value: the message says what the register "
	    "holds (type=...) and what the helper expects (expected=...): fp is a pointer to "
	    "the stack, scalar a plain number, pkt a packet pointer, map_value a map element.",
	    "Pass what the helper's signature wants: a pointer to initialised stack or map "
	    "memory for buffers (&key, not key), a constant or bounded length, ctx where ctx "
	    "is asked for." },
	  false, { " expected=", "arg#0 expected", "arg#1 expected", "arg#2 expected" } },
	{ { "scalar_deref", "a number used as a pointer",
	    "The program dereferences a register that holds a plain number (scalar), e.g. a "
	    "user-space or kernel address read from a struct or syscall argument, a pointer "
	    "read from a map, or an address computed by hand. Only pointers the verifier "
	    "handed out (ctx, packet, map value, stack, BTF-typed) may be used directly.",
	    "Read such memory with bpf_probe_read_user()/bpf_probe_read_kernel() or "
	    "BPF_CORE_READ(); keep pointers in registers or on the stack, not in maps." },
	  false, { "invalid mem access 'scalar'", "invalid mem access 'inv'" } },
	{ { "ptr_arith", "pointer arithmetic the verifier cannot bound",
	    "A pointer is moved by an offset whose range is unknown or negative, or moved in a "
	    "way (multiplication, on a NULL-able pointer, ...) that the verifier forbids.",
	    "Bound the offset first (if (off > MAX) return ...; with unsigned types), then add "
	    "it to the pointer." },
	  false, { "pointer arithmetic", "math between", "unbounded min value" } },
	{ { "bad_insn", "an instruction the kernel refuses outright",
	    "The instruction stream itself is malformed: a jump out of range, unreachable "
	    "instructions, a reserved field set, an unknown opcode. clang does not emit these; "
	    "they come from hand-written bytecode, inline assembly or a broken loader.",
	    "Check the assembly (llvm-objdump -d) and the loader; rebuild with a current clang." },
	  false, { "unreachable insn", "jump out of range", "unknown opcode", "uses reserved fields",
		   "invalid BPF_LD_IMM" } },
	{ { "unknown", "not a pattern bpflab knows",
	    "bpflab has no rule for this message: the words are explained below, and the "
	    "register state shows what the verifier knew. Read the source line and the log "
	    "tail; the last instruction and the register states before it show what it saw.",
	    "Search the message in the kernel's verifier.c and its selftests "
	    "(tools/testing/selftests/bpf/progs/verifier_*.c)." },
	  false, { NULL } },
};

const size_t vlog_nrules = sizeof(vlog_rules) / sizeof(vlog_rules[0]);
