// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpflab doctor: what this kernel supports, probed by doing it, and what each bpflab
 * command can therefore do here. The verdicts come from probe.c's command table. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "util.h"
#include "json.h"
#include "probe.h"

struct doctor_opts {
	bool brief;
};

static const struct opt_def doctor_opts[] = {
	{ OPTDEF("short", 's', OPT_FLAG, struct doctor_opts, brief, NULL,
		 "only what is not OK, and one line per command") },
	OPTS_END
};

const struct cmd_spec cmd_doctor_spec = {
	.name = "doctor",
	.args = "[--short] [--json]",
	.about = "Probe what this kernel supports by loading tiny programs and attaching them (network\n"
		 "attach inside a throwaway network namespace), then say for every bpflab command\n"
		 "whether it works here, works with a fallback, or is unavailable and what to do.\n"
		 "Changes nothing on the machine. Exit 0 even when features are missing: it is a report.\n",
	.opts = doctor_opts,
	.json_help = "one JSON object: features (by name) and commands (by name)",
};

static const char *status_upper(enum probe_status s)
{
	switch (s) {
	case PROBE_OK: return "ok";
	case PROBE_MISSING: return "MISSING";
	case PROBE_REFUSED: return "REFUSED";
	default: return "UNKNOWN";
	}
}

static void print_json(const struct cmd_verdict *v, double elapsed)
{
	struct json j;

	json_record_begin(&j, stdout, "doctor");
	json_kstr(&j, "kernel", probe_feature(FEAT_KERNEL)->value);
	json_kdouble(&j, "elapsed", elapsed);
	json_key(&j, "features");
	json_obj_begin(&j);
	for (int f = 0; f < FEAT__MAX; f++) {
		const struct probe_result *r = probe_feature(f);
		json_key(&j, probe_feature_name(f));
		json_obj_begin(&j);
		json_kstr(&j, "title", probe_feature_title(f));
		json_kstr(&j, "status", probe_status_str(r->status));
		/* null, not 0 or "", where nothing applies (docs/json.md) */
		json_key(&j, "errno");
		if (r->err)
			json_int(&j, r->err);
		else
			json_null(&j);
		json_kstr(&j, "errno_name", r->err ? probe_errno_name(r->err) : NULL);
		json_kstr(&j, "value", *r->value ? r->value : NULL);
		json_kstr(&j, "detail", r->detail);
		json_kstr(&j, "hint", *r->hint ? r->hint : NULL);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_key(&j, "commands");
	json_obj_begin(&j);
	for (size_t i = 0; i < probe_ncommands; i++) {
		const struct cmd_req *c = &probe_commands[i];
		json_key(&j, c->name);
		json_obj_begin(&j);
		json_kbool(&j, "built", opts_command_exists(c->name));
		json_kstr(&j, "status", verdict_kind_str(v[i].kind));
		json_kstr(&j, "text", v[i].text);
		json_kstr(&j, "limits", v[i].limits);
		json_key(&j, "uses");
		json_arr_begin(&j);
		for (int n = 0; n < PROBE_MAX_NEEDS && c->need[n].what; n++) {
			if (v[i].pick[n] < 0)
				continue;
			json_obj_begin(&j);
			json_kstr(&j, "need", c->need[n].what);
			json_kstr(&j, "feature", probe_feature_name(c->need[n].alt[v[i].pick[n]]));
			json_kstr(&j, "via", c->need[n].via[v[i].pick[n]]);
			if (c->need[n].scope)
				json_kstr(&j, "scope", c->need[n].scope);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_kstr(&j, "talk", v[i].talk);
		json_key(&j, "note");
		if (c->note)
			json_str(&j, c->note);
		else
			json_null(&j);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_record_end(&j);
}

static void print_human(const struct cmd_verdict *v, double elapsed, bool brief)
{
	const char *last_hint = "";
	int ok = 0;

	for (int f = FEAT_KERNEL + 1; f < FEAT__MAX; f++)
		ok += probe_feature(f)->status == PROBE_OK;
	if (brief) {
		printf("bpflab doctor: Linux %s; %d of %d features OK%s\n", probe_feature(FEAT_KERNEL)->value,
		       ok, FEAT__MAX - 1, ok == FEAT__MAX - 1 ? "" : ", not OK:");
	} else {
		printf("bpflab doctor: %s\n", probe_feature(FEAT_KERNEL)->detail);
		printf("\nfeatures (probed by loading and attaching tiny programs):\n");
	}
	for (int f = FEAT_KERNEL + 1; f < FEAT__MAX; f++) {
		const struct probe_result *r = probe_feature(f);
		if (brief && r->status == PROBE_OK)
			continue;
		printf("  %-24s %-8s %s\n", probe_feature_title(f), status_upper(r->status), r->detail);
		/* fentry, fexit and lsm share one reason: say it once. */
		if (r->hint[0] && r->status != PROBE_OK && strcmp(r->hint, last_hint))
			printf("  %-24s %-8s -> %s\n", "", "", r->hint);
		if (r->status != PROBE_OK)
			last_hint = r->hint;
	}
	printf("%scommands:\n", brief ? "" : "\n");
	for (size_t i = 0; i < probe_ncommands; i++) {
		const struct cmd_req *c = &probe_commands[i];
		printf("  %-7s %s%s\n", c->name, v[i].text,
		       opts_command_exists(c->name) ? "" : " [not in this build yet]");
		if (v[i].limits[0])
			printf("  %-7s but %s\n", "", v[i].limits);
		if (c->note && !brief)
			printf("  %-7s note: %s\n", "", c->note);
	}
	printf("%sprobed in %.2f s; nothing left behind (throwaway netns, private mounts)\n",
	       brief ? "" : "\n", elapsed);
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor_opts o = {};
	struct cmd_verdict v[16];
	struct probe_result res[FEAT__MAX];
	double start;
	int err;

	if ((err = opts_parse(&cmd_doctor_spec, argc, argv, &o)) != OPTS_GO_ON)
		return err;
	if ((err = require_caps("doctor", PROBE_CAPS, PROBE_CAPS_WHY)))
		return err;
	if (probe_ncommands > ARRAY_SIZE(v)) {
		pr_warn("too many commands in the probe table\n");
		return EXIT_FAIL;
	}

	start = now_mono();
	probe_all();
	for (int f = 0; f < FEAT__MAX; f++)
		res[f] = *probe_feature(f);
	for (size_t i = 0; i < probe_ncommands; i++)
		probe_verdict(&probe_commands[i], res, &v[i]);
	if (g_opts.json)
		print_json(v, now_mono() - start);
	else
		print_human(v, now_mono() - start, o.brief);
	return EXIT_OK;
}
