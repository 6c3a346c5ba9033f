/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maglev consistent hashing (Eisenbud et al., NSDI 2016) with weights: builds the lookup
 * table that lb.bpf.c indexes by flow hash. Plain C, no BPF, unit-tested. */
#ifndef BPFLAB_MAGLEV_H
#define BPFLAB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct maglev_backend {
	uint64_t key;     /* stable identity (address and port): decides its permutation */
	uint32_t id;      /* what the table holds; never 0 (0 means "no backend") */
	uint32_t weight;  /* 0: drained, gets no slot */
};

#define MAGLEV_MAX_SIZE 16777213u /* the largest prime below 2^24: 64 MiB of table */

bool maglev_is_prime(uint32_t n);
/* Smallest prime >= n (n <= MAGLEV_MAX_SIZE), or 0. */
uint32_t maglev_next_prime(uint32_t n);

/* Fills table[0..m) with backend ids. m must be prime. The result depends only on the
 * set of (key, id, weight), not on the order of `b`. Backends with weight 0 (or none at
 * all) leave 0 in every slot they would have had. Returns 0, or -EINVAL (m not prime,
 * id 0, duplicate key), -ENOMEM. */
int maglev_build(const struct maglev_backend *b, size_t n, uint32_t *table, uint32_t m);

#endif
