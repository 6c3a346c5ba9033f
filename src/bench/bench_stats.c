// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Median and range of a few repetitions: what every bench row reports. */
#include <string.h>

#include "util.h"
#include "bench.h"

void spread_of(const double *v, int n, struct spread *s)
{
	double t[BENCH_MAX_REPS * 4];

	memset(s, 0, sizeof(*s));
	if (n <= 0)
		return;
	if (n > (int)ARRAY_SIZE(t))
		n = ARRAY_SIZE(t);
	memcpy(t, v, n * sizeof(*t));
	/* A handful of values: insertion sort. */
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && t[k - 1] > t[k]; k--) {
			double x = t[k];
			t[k] = t[k - 1];
			t[k - 1] = x;
		}
	s->n = n;
	s->min = t[0];
	s->max = t[n - 1];
	s->med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}
