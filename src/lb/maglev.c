// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Maglev table population. Each backend walks its own permutation of the slots
 * (offset + j * skip mod m, m prime so every skip is a generator) and takes its next
 * free preferred slot in turn. Weights: every round each backend earns `weight` credits
 * and takes one slot per `max weight` credits, so shares follow weights while a
 * backend's preferences, and thus what moves when the set changes, stay its own. */
#include "maglev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool maglev_is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (uint32_t d = 3; (uint64_t)d * d <= n; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

uint32_t maglev_next_prime(uint32_t n)
{
	for (; n <= MAGLEV_MAX_SIZE; n++)
		if (maglev_is_prime(n))
			return n;
	return 0;
}

/* splitmix64's finaliser: two independent-looking hashes of one key by the seed. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

struct slot_walk {
	uint32_t id, weight;
	uint64_t key;
	uint64_t offset, skip, next;
	uint64_t credit;
};

static int cmp_key(const void *a, const void *b)
{
	const struct slot_walk *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

int maglev_build(const struct maglev_backend *b, size_t n, uint32_t *table, uint32_t m)
{
	struct slot_walk *w;
	uint32_t wmax = 0, filled = 0;
	size_t k = 0;

	if (!maglev_is_prime(m) || m > MAGLEV_MAX_SIZE)
		return -EINVAL;
	memset(table, 0, (size_t)m * sizeof(*table));
	w = calloc(n ? n : 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!b[i].id) {
			free(w);
			return -EINVAL;
		}
		if (!b[i].weight)
			continue;
		w[k].id = b[i].id;
		w[k].weight = b[i].weight;
		w[k].key = b[i].key;
		w[k].offset = mix64(b[i].key) % m;
		w[k].skip = mix64(b[i].key ^ 0x5bd1e9955bd1e995ull) % (m - 1) + 1;
		if (b[i].weight > wmax)
			wmax = b[i].weight;
		k++;
	}
	/* Order decides who goes first in a round: sort so the input order does not matter. */
	qsort(w, k, sizeof(*w), cmp_key);
	for (size_t i = 1; i < k; i++) {
		if (w[i].key == w[i - 1].key) {
			free(w);
			return -EINVAL;
		}
	}
	while (k && filled < m) {
		for (size_t i = 0; i < k && filled < m; i++) {
			w[i].credit += w[i].weight;
			while (w[i].credit >= wmax && filled < m) {
				uint64_t c;
				w[i].credit -= wmax;
				do {
					c = (w[i].offset + w[i].next * w[i].skip) % m;
					w[i].next++;
				} while (table[c]);
				table[c] = w[i].id;
				filled++;
			}
		}
	}
	free(w);
	return 0;
}
