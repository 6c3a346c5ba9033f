// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Every fuzz target, in one place (see tests/fuzz/README.md): to add one, include its
 * files here and list it below. Unity build: included from test_fuzz.c. */
#include "model_net.c"
#include "model_ping.c"
#include "fuzz_ping.c"
#include "model_count.c"
#include "fuzz_count.c"
#include "model_lb.c"
#include "fuzz_lb.c"
#include "model_filter.c"
#include "fuzz_filter.c"
#include "model_decap.c"
#include "fuzz_decap.c"
#include "model_syncookie.c"
#include "fuzz_syncookie.c"
#include "model_steer.c"
#include "fuzz_steer.c"

const struct fuzz_target *const fuzz_targets[] = {
	&fuzz_ping_watch,
	&fuzz_ping_drop,
	&fuzz_ping_reply,
	&fuzz_ping_reply_tc,
	&fuzz_count_pass,
	&fuzz_count_drop,
	&fuzz_lb_nat,
	&fuzz_lb_dsr,
	&fuzz_lb_nat_encap,
	&fuzz_lb_dsr_encap,
	&fuzz_lb_nat6,
	&fuzz_lb_dsr6,
	&fuzz_lb_nat_encap6,
	&fuzz_lb_dsr_encap6,
	&fuzz_decap_xdp,
	&fuzz_decap_tc,
	&fuzz_filter_a, &fuzz_filter_b,
	&fuzz_syncookie, &fuzz_filter_syn,
	&fuzz_steer,
	NULL,
};
