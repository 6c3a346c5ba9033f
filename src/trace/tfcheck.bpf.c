// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Test programs for the trace filter's BPF evaluator (tfilter.bpf.h), used only by
 * tests/prog/test_tfilter_bpf.c:
 * - tfc_xdp runs tf_match on a struct tf_pkt given as the test packet, with the filter in
 *   .bss (unknown to the verifier: one verification covers every filter of up to
 *   TF_MAX_TESTS tests), so BPF_PROG_TEST_RUN can check the kernel's answers against
 *   user space's on random filters;
 * - tfc_kfree is the tracepoint shape trace.bpf.c uses: the filter in .rodata (known to
 *   the verifier, which then walks that filter's paths), headers read from an sk_buff. It
 *   is loaded with the largest filter, never attached. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "tfilter.bpf.h"

struct tf_prog rw_filter;
const volatile struct tf_prog ro_filter;
__u64 matched;

SEC("xdp")
int tfc_xdp(struct xdp_md *ctx)
{
	struct tf_pkt p;

	if (bpf_xdp_load_bytes(ctx, 0, &p, sizeof(p)))
		return XDP_ABORTED;
	return tf_match(&rw_filter, &p) ? XDP_PASS : XDP_DROP;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(tfc_kfree, struct sk_buff *skb)
{
	struct tf_pkt p;

	if (tf_pkt_from_skb(skb, &p))
		return 0;
	if (tf_match((const struct tf_prog *)&ro_filter, &p))
		__sync_fetch_and_add(&matched, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
