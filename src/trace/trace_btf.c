// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Names the kernel gives its own numbers, read from its BTF (/sys/kernel/btf/vmlinux), so
 * a newer kernel's drop reasons print by name without a table here: enum skb_drop_reason
 * ("SKB_DROP_REASON_NETFILTER_DROP" -> "NETFILTER_DROP"), enum sk_rst_reason. And the
 * kernel's symbols (/proc/kallsyms) for a drop's location. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

#include "trace_prog.h"

struct enum_names {
	bool loaded;
	int n;
	struct { long long val; char *name; } *v;
};

static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;
	static bool tried;

	if (!tried) {
		tried = true;
		btf = btf__load_vmlinux_btf();
		if (!btf)
			btf = NULL;
	}
	return btf;
}

bool trace_btf_has_type(const char *name)
{
	struct btf *btf = vmlinux_btf();

	return btf && btf__find_by_name(btf, name) > 0;
}

/* Every value of `enum ename`, its names without `prefix`. */
static void load_enum(struct enum_names *en, const char *ename, const char *prefix)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	size_t plen = strlen(prefix);
	int id;

	en->loaded = true;
	if (!btf || (id = btf__find_by_name_kind(btf, ename, BTF_KIND_ENUM)) <= 0)
		return;
	t = btf__type_by_id(btf, id);
	en->v = calloc(btf_vlen(t) ? btf_vlen(t) : 1, sizeof(*en->v));
	if (!en->v)
		return;
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;
		const char *s = btf__name_by_offset(btf, e->name_off);

		if (!s)
			continue;
		if (!strncmp(s, prefix, plen))
			s += plen;
		en->v[en->n].val = e->val;
		en->v[en->n].name = strdup(s);
		if (en->v[en->n].name)
			en->n++;
	}
}

static const char *enum_name(struct enum_names *en, const char *ename, const char *prefix,
			     long long val)
{
	if (!en->loaded)
		load_enum(en, ename, prefix);
	for (int i = 0; i < en->n; i++)
		if (en->v[i].val == val)
			return en->v[i].name;
	return NULL;
}

const char *trace_drop_reason(__u32 reason)
{
	static struct enum_names en;

	return enum_name(&en, "skb_drop_reason", "SKB_DROP_REASON_", reason);
}

const char *trace_rst_reason(__u32 reason)
{
	static struct enum_names en;

	return enum_name(&en, "sk_rst_reason", "SK_RST_REASON_", reason);
}

/* ---- kernel symbols ---- */

struct ksym {
	unsigned long long addr;
	char *name;
};
static struct ksym *ksyms;
static size_t nksyms;
static bool ksyms_loaded;

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void load_ksyms(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;

	ksyms_loaded = true;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !addr)
			continue;
		if (type != 't' && type != 'T')
			continue;
		if (nksyms == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct ksym *n = realloc(ksyms, ncap * sizeof(*n));
			if (!n)
				break;
			ksyms = n;
			cap = ncap;
		}
		ksyms[nksyms].addr = addr;
		ksyms[nksyms].name = strdup(name);
		if (ksyms[nksyms].name)
			nksyms++;
	}
	fclose(f);
	qsort(ksyms, nksyms, sizeof(*ksyms), ksym_cmp);
}

int trace_ksym(__u64 addr, char *buf, size_t len)
{
	size_t lo = 0, hi;

	buf[0] = 0;
	if (!addr)
		return -ENOENT;
	if (!ksyms_loaded)
		load_ksyms();
	if (!nksyms || addr < ksyms[0].addr)
		goto raw;
	hi = nksyms;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Beyond 1 MiB past the nearest text symbol it is not that function. */
	if (addr - ksyms[lo].addr < (1 << 20)) {
		snprintf(buf, len, "%s+0x%llx", ksyms[lo].name,
			 (unsigned long long)(addr - ksyms[lo].addr));
		return 0;
	}
raw:
	snprintf(buf, len, "0x%llx", (unsigned long long)addr);
	return 0;
}
