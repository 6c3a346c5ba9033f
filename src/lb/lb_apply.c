// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab lb apply | flush | save: a whole configuration at once. apply parses the file
 * completely before anything changes (a directory, an unreadable or empty file is refused,
 * exit 2); --dry-run prints the difference and the share of flows Maglev would move; save
 * prints the running configuration so that applying it changes nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "bpfutil.h"
#include "json.h"
#include "opts.h"
#include "maglev.h"
#include "lb_cmd.h"

static const char *const change_names[] = {
	[LB_CH_VIP_ADD] = "vip_add", [LB_CH_VIP_DEL] = "vip_del",
	[LB_CH_BACKEND_ADD] = "backend_add", [LB_CH_BACKEND_DEL] = "backend_del",
	[LB_CH_BACKEND_WEIGHT] = "backend_weight", [LB_CH_BACKEND_MAC] = "backend_mac",
	[LB_CH_VIP_MOVED] = "flows_moved", [LB_CH_VIP_CHECK] = "vip_check",
	[LB_CH_VIP_ENCAP] = "vip_encap",
};

/* --dry-run: one line (or one JSON object in "changes") per change. */
static void print_change(void *ctx, enum lb_change_kind kind, const struct lb_vip_key *vip,
			 const struct lb_cfg_backend *old, const struct lb_cfg_backend *new,
			 double share)
{
	const struct lb_cfg_backend *b = new ? new : old;
	struct json *j = ctx;
	char v[LB_ADDR_STRLEN + 8], a[LB_ADDR_STRLEN] = "";

	lb_fmt_vip(vip, v, sizeof(v));
	if (b)
		lb_fmt_ip_port(&b->addr, lb_be_port(b), a, sizeof(a));
	if (j) {
		json_obj_begin(j);
		json_kstr(j, "change", change_names[kind]);
		json_kstr(j, "vip", v);
		if (b) {
			json_kstr(j, "backend", a);
			json_kuint(j, "weight", b->weight);
		}
		if (old && new)
			json_kuint(j, "old_weight", old->weight);
		if (kind == LB_CH_VIP_MOVED)
			json_kdouble(j, "moved_share", share);
		json_obj_end(j);
		return;
	}
	switch (kind) {
	case LB_CH_VIP_ADD: printf("  + vip %s\n", v); break;
	case LB_CH_VIP_DEL: printf("  - vip %s (and its backends; its connections break)\n", v); break;
	case LB_CH_BACKEND_ADD: printf("  + backend %s %s weight %u\n", v, a, b->weight); break;
	case LB_CH_BACKEND_DEL: printf("  - backend %s %s\n", v, a); break;
	case LB_CH_BACKEND_WEIGHT:
		printf("  ~ backend %s %s weight %u -> %u\n", v, a, old->weight, new->weight);
		break;
	case LB_CH_BACKEND_MAC: printf("  ~ backend %s %s new MAC\n", v, a); break;
	case LB_CH_VIP_MOVED:
		printf("    vip %s: %.1f%% of new flows would go to another backend\n", v, 100 * share);
		break;
	case LB_CH_VIP_CHECK: printf("  ~ vip %s health check changed\n", v); break;
	case LB_CH_VIP_ENCAP: printf("  ~ vip %s encap changed\n", v); break;
	}
}

static int dry_run(struct lb_inst *in, const char *file, const struct lb_cfg *cur,
		   const struct lb_cfg *s)
{
	struct lb_diff d;
	struct json j;
	int err, n;

	if (g_opts.json) {
		json_record_begin(&j, stdout, "dry_run");
		json_kstr(&j, "interface", in->ifname);
		json_kstr(&j, "file", file);
		json_key(&j, "changes");
		json_arr_begin(&j);
	} else {
		printf("lb on %s: applying %s would change:\n", in->ifname, file);
	}
	err = lb_cfg_diff(cur, s, in->meta.table_size, &d, print_change, g_opts.json ? &j : NULL);
	if (err) {
		pr_warn("comparing the configurations failed: %s\n", strerr(err));
		return EXIT_FAIL;
	}
	n = d.vips_added + d.vips_removed + d.backends_added + d.backends_removed +
	    d.backends_reweighted + d.backends_remac + d.vips_rechecked + d.vips_reencap;
	if (g_opts.json) {
		json_arr_end(&j);
		json_kint(&j, "vips_added", d.vips_added);
		json_kint(&j, "vips_removed", d.vips_removed);
		json_kint(&j, "backends_added", d.backends_added);
		json_kint(&j, "backends_removed", d.backends_removed);
		json_kint(&j, "backends_reweighted", d.backends_reweighted);
		json_kint(&j, "backends_mac_changed", d.backends_remac);
		json_kint(&j, "vips_rechecked", d.vips_rechecked);
		json_kint(&j, "vips_reencap", d.vips_reencap);
		json_kdouble(&j, "moved_share", d.moved_share);
		json_kbool(&j, "changed", n > 0);
		json_record_end(&j);
	} else if (!n) {
		printf("  nothing\n");
	} else {
		printf("%d change%s; %.1f%% of new flows to kept VIPs would land on another backend "
		       "(established ones stay); nothing was changed (dry run)\n", n, n == 1 ? "" : "s",
		       100 * d.moved_share);
	}
	return EXIT_OK;
}

/* lb apply FILE [--dry-run] [--allow-empty], and lb flush (apply of nothing). */
int lb_apply(struct lb_inst *in, const char *file, struct lb_opts *o)
{
	struct lb_cfg *s = calloc(1, sizeof(*s)), *cur = calloc(1, sizeof(*cur));
	struct lb_diff d = {};
	int ret = EXIT_USAGE;
	char what[300];

	if (!s || !cur) {
		ret = EXIT_FAIL;
		goto out;
	}
	if (file && lb_cfg_parse_file(file, s))
		goto out;
	if (file && !s->nvips && !o->allow_empty) {
		pr_warn("%s holds no VIP: applying it would remove every VIP and backend. Nothing was "
			"changed; to empty the balancer say 'bpflab lb apply --allow-empty %s' or "
			"'bpflab lb flush'\n", file, file);
		goto out;
	}
	if ((ret = inst_open(in, true, false)) || (ret = lb_read_cfg(in, cur)))
		goto out;
	if (o->dry_run) {
		ret = dry_run(in, file ? file : "nothing", cur, s);
		goto out;
	}
	lb_cfg_diff(cur, s, in->meta.table_size, &d, NULL, NULL);
	if ((ret = lb_apply_cfg(in, s)))
		goto out;
	snprintf(what, sizeof(what), "%s: %d VIPs, %d backends", file ? file : "flush", s->nvips,
		 s->nbackends);
	ret = lb_edit_result(in, file ? "applied" : "flushed", what, &d);
out:
	inst_close(in);
	free(s);
	free(cur);
	return ret;
}

/* lb save --json: the file's text (what `lb apply` reads back) and the same configuration
 * as data, so a script need not parse the text. */
static void save_json(const struct lb_cfg *s)
{
	char *text = NULL, v[LB_ADDR_STRLEN + 8], a[LB_ADDR_STRLEN], m[24];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct json j;

	if (f) {
		lb_cfg_write_file(s, f);
		fclose(f);
	}
	json_record_begin(&j, stdout, "config");
	json_kstr(&j, "text", text ? text : "");
	json_key(&j, "vips");
	json_arr_begin(&j);
	for (int i = 0; i < s->nvips; i++) {
		lb_fmt_vip(&s->vips[i].key, v, sizeof(v));
		json_obj_begin(&j);
		json_kstr(&j, "vip", v);
		json_kstr(&j, "encap", lb_encap_str(s->vips[i].encap));
		json_key(&j, "check");
		if (s->vips[i].check.type != LB_CHECK_NONE) {
			char ck[400];
			lb_check_format(&s->vips[i].check, ck, sizeof(ck));
			json_str(&j, ck);
		} else {
			json_null(&j);
		}
		json_key(&j, "backends");
		json_arr_begin(&j);
		for (int b = 0; b < s->nbackends; b++) {
			const struct lb_cfg_backend *be = &s->backends[b];

			if (!lb_vip_eq(&be->vip, &s->vips[i].key))
				continue;
			lb_fmt_ip_port(&be->addr, lb_be_port(be), a, sizeof(a));
			if (be->has_mac)
				lb_fmt_mac(be->mac, m, sizeof(m));
			json_obj_begin(&j);
			json_kstr(&j, "address", a);
			json_kuint(&j, "weight", be->weight);
			json_kstr(&j, "mac", be->has_mac ? m : NULL);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_record_end(&j);
	free(text);
}

/* lb save: the running configuration as a config file (works on a dead balancer too). */
int lb_save(struct lb_inst *in)
{
	struct lb_cfg *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return EXIT_FAIL;
	if (!(ret = inst_open(in, true, true)) && !(ret = lb_read_cfg(in, s))) {
		if (g_opts.json)
			save_json(s);
		else
			lb_cfg_write_file(s, stdout);
	}
	inst_close(in);
	free(s);
	return ret;
}

/* ---- subcommands ---- */

