// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `filter show` and `filter apply --dry-run`: what runs, computed into records and
 * rendered as text or JSON (docs/json.md "filter"). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_cmd.h"
#include "json.h"
#include "util.h"

static const char *const stat_names[FS__N] = {
	[FS_PACKETS] = "packets", [FS_PASS] = "pass", [FS_DROP] = "drop",
	[FS_NOT_IP] = "not_ip", [FS_MALFORMED] = "malformed", [FS_NOMATCH] = "no_match",
	[FS_ALLOWED] = "allowed", [FS_DENIED] = "denied", [FS_LIMIT_PASS] = "limit_pass",
	[FS_LIMITED] = "limited", [FS_BLOCKED] = "blocked", [FS_EVENTS] = "events",
	[FS_SUPPRESSED] = "events_suppressed", [FS_EVENTS_LOST] = "events_lost",
	[FS_SYNPROXY] = "synproxy",
};

static void fmt_src(const struct filter_src_key *k, char *buf, size_t len)
{
	if (!inet_ntop(k->family == 4 ? AF_INET : AF_INET6, k->addr, buf, len))
		snprintf(buf, len, "?");
}

static const char *rule_name(const struct filter_rule *r, char *buf, size_t len)
{
	if (!r->prio)
		return "allowlist";
	snprintf(buf, len, "%u", r->prio);
	return buf;
}

int filter_show(struct finst *in, int top)
{
	struct filter_running *r = calloc(1, sizeof(*r));
	struct filter_top *t = calloc(top, sizeof(*t));
	double age;
	int nt, ret = EXIT_FAIL, err;
	char a[64], pb[16];

	if (!r || !t)
		goto out;
	if ((err = filter_read_running(&in->fds, r))) {
		pr_warn("reading the filter on %s failed: %s\n", in->ifname, strerr(err));
		goto out;
	}
	nt = filter_read_top(&in->fds, t, top);
	age = (filter_now_ns() - r->g.applied_ns) / 1e9;
	if (age <= 0)
		age = 1e-9;
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "filter");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "pin_dir", in->dir);
		json_kbool(&j, "attached", in->alive);
		json_kstr(&j, "then", in->chained ? "lb" : NULL);
		json_kuint(&j, "generation", r->g.seq);
		json_kdouble(&j, "applied_ago", age);
		json_kstr(&j, "default", fr_action_str(r->g.default_action));
		json_key(&j, "counters");
		json_obj_begin(&j);
		for (int i = 0; i < FS__N; i++)
			json_kuint(&j, stat_names[i], r->c[i]);
		json_obj_end(&j);
		json_key(&j, "rules");
		json_arr_begin(&j);
		for (__u32 i = 0; i < r->g.nrules; i++) {
			const struct filter_rule *ru = &r->rules[i];
			json_obj_begin(&j);
			json_kuint(&j, "priority", ru->prio);
			json_kstr(&j, "action", fr_action_str(ru->action));
			json_kstr(&j, "rule", ru->text);
			json_kuint(&j, "packets", r->stats[i].packets);
			json_kuint(&j, "bytes", r->stats[i].bytes);
			json_kuint(&j, "dropped", r->stats[i].dropped);
			json_kdouble(&j, "pps", r->stats[i].packets / age);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_kuint(&j, "top_sample", 1u << FILTER_TOP_SAMPLE_SHIFT);
		json_key(&j, "top_sources");
		json_arr_begin(&j);
		for (int i = 0; i < nt; i++) {
			fmt_src(&t[i].k, a, sizeof(a));
			json_obj_begin(&j);
			json_kstr(&j, "address", a);
			json_kuint(&j, "drops", t[i].drops);
			json_kuint(&j, "bytes", t[i].bytes);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_record_end(&j);
	} else {
		printf("filter on %s%s%s: generation %llu, applied %.0f s ago, default %s\n",
		       in->ifname, in->chained ? " (in front of lb)" : "",
		       in->alive ? "" : " [NOT ATTACHED: link gone]",
		       (unsigned long long)r->g.seq, age, fr_action_str(r->g.default_action));
		printf("  packets %llu: pass %llu, drop %llu (denied %llu, limited %llu, blocked %llu, "
		       "malformed %llu, default %llu); not IP %llu; events %llu (suppressed %llu, lost %llu)\n",
		       (unsigned long long)r->c[FS_PACKETS], (unsigned long long)r->c[FS_PASS],
		       (unsigned long long)r->c[FS_DROP], (unsigned long long)r->c[FS_DENIED],
		       (unsigned long long)r->c[FS_LIMITED], (unsigned long long)r->c[FS_BLOCKED],
		       (unsigned long long)r->c[FS_MALFORMED],
		       (unsigned long long)(r->g.default_action == FA_ALLOW ? 0 : r->c[FS_NOMATCH]),
		       (unsigned long long)r->c[FS_NOT_IP], (unsigned long long)r->c[FS_EVENTS],
		       (unsigned long long)r->c[FS_SUPPRESSED], (unsigned long long)r->c[FS_EVENTS_LOST]);
		printf("  %-9s %-6s %12s %14s %12s %10s  %s\n", "PRIO", "ACTION", "PACKETS", "BYTES",
		       "DROPPED", "PPS", "RULE");
		for (__u32 i = 0; i < r->g.nrules; i++) {
			const struct filter_rule *ru = &r->rules[i];
			printf("  %-9s %-6s %12llu %14llu %12llu %10.1f  %s\n",
			       rule_name(ru, pb, sizeof(pb)), fr_action_str(ru->action),
			       (unsigned long long)r->stats[i].packets,
			       (unsigned long long)r->stats[i].bytes,
			       (unsigned long long)r->stats[i].dropped, r->stats[i].packets / age,
			       ru->text);
		}
		if (nt) {
			printf("  top sources by drops (exact up to %d per 100 ms per CPU, then one in %u sampled):\n",
			       FILTER_TOP_EXACT, 1u << FILTER_TOP_SAMPLE_SHIFT);
			for (int i = 0; i < nt; i++) {
				fmt_src(&t[i].k, a, sizeof(a));
				printf("    %-40s %12llu drops %14llu bytes\n", a,
				       (unsigned long long)t[i].drops, (unsigned long long)t[i].bytes);
			}
		}
	}
	ret = EXIT_OK;
out:
	free(r);
	free(t);
	return ret;
}

struct change {
	const char *op;
	unsigned prio;
	const char *text;
};

int filter_print_diff(struct finst *in, const char *file, const struct fr_set *s)
{
	struct filter_running *r = calloc(1, sizeof(*r));
	struct change *ch = calloc(2 * FILTER_MAX_RULES + 2, sizeof(*ch));
	int n = 0, added = 0, removed = 0, changed = 0, same = 0, err;
	bool def_changed;

	if (!r || !ch) {
		free(r);
		free(ch);
		return EXIT_FAIL;
	}
	if ((err = filter_read_running(&in->fds, r))) {
		pr_warn("reading the filter on %s failed: %s\n", in->ifname, strerr(err));
		free(r);
		free(ch);
		return EXIT_FAIL;
	}
	for (__u32 i = 0; i < r->g.nrules; i++) {
		int k;
		for (k = 0; k < s->n && s->rules[k].prio != r->rules[i].prio; k++)
			;
		if (k == s->n) {
			ch[n++] = (struct change){ "remove", r->rules[i].prio, r->rules[i].text };
			removed++;
		} else if (s->rules[k].digest != r->rules[i].digest) {
			ch[n++] = (struct change){ "change", s->rules[k].prio, s->rules[k].text };
			changed++;
		} else {
			same++;
		}
	}
	for (int k = 0; k < s->n; k++) {
		__u32 i;
		for (i = 0; i < r->g.nrules && r->rules[i].prio != s->rules[k].prio; i++)
			;
		if (i == r->g.nrules) {
			ch[n++] = (struct change){ "add", s->rules[k].prio, s->rules[k].text };
			added++;
		}
	}
	def_changed = r->g.default_action != s->default_action;
	if (g_opts.json) {
		struct json j;
		json_record_begin(&j, stdout, "dry_run");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "file", file);
		json_key(&j, "changes");
		json_arr_begin(&j);
		for (int i = 0; i < n; i++) {
			json_obj_begin(&j);
			json_kstr(&j, "op", ch[i].op);
			json_kuint(&j, "priority", ch[i].prio);
			json_kstr(&j, "rule", ch[i].text);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_kint(&j, "added", added);
		json_kint(&j, "removed", removed);
		json_kint(&j, "changed_rules", changed);
		json_kint(&j, "unchanged", same);
		json_kstr(&j, "default_before", fr_action_str(r->g.default_action));
		json_kstr(&j, "default_after", fr_action_str(s->default_action));
		json_kbool(&j, "changed", n || def_changed);
		json_record_end(&j);
	} else {
		for (int i = 0; i < n; i++)
			printf("%c %s\n", ch[i].op[0] == 'a' ? '+' : ch[i].op[0] == 'r' ? '-' : '~',
			       ch[i].text);
		if (def_changed)
			printf("~ default %s (was %s)\n", fr_action_str(s->default_action),
			       fr_action_str(r->g.default_action));
		printf("dry run on %s: %d added, %d removed, %d changed, %d unchanged%s; nothing was "
		       "changed\n", in->ifname, added, removed, changed, same,
		       def_changed ? ", default changed" : "");
	}
	free(r);
	free(ch);
	return EXIT_OK;
}
