// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A bench result as a chart a person reads at a glance: three panels of horizontal bars,
 * each with its own axis and unit, a min–max bar over the repetitions, the figure beside
 * every bar, and the talk's "Some numbers" (cores for 28 Mpps forwarding) beside ours.
 * Plain SVG, no script, no external font: the layout is computed from the text widths
 * of DejaVu Sans / Verdana (the fonts named), so no label is ever clipped. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "bench.h"

#define FONT_PX 13.0
#define ROW_H 22
#define PLOT_W 460
#define PAD 16
#define MAX_BARS (BENCH_MAX_ROWS + 8)

/* The talk's "Some numbers": cores to forward 28 Mpps. */
static const struct { const char *what; double cores; } talk[] = {
	{ "Linux", 30 }, { "XDP", 5 }, { "DPDK", 3 },
};

#define C_XDP "#2b7bd0"
#define C_OURS "#3a9d5d"
#define C_KERNEL "#8a8a8a"
#define C_LINUX_FWD "#d08c2b"
#define C_BASE "#a9c4e4"
#define C_TALK "url(#talk)"

struct bar {
	char label[80];
	double v, lo, hi;       /* value, and its min–max (lo = hi = 0: none) */
	double base;            /* stacked: the bare program's part of v (progs panel) */
	double bare;            /* live: the bare row's value, marked on a bpflab bar */
	const char *color;
	char note[160];         /* the figures, right of the bar */
	bool missing;           /* not measured: note says why */
};

struct panel {
	const char *title, *axis;
	struct bar bars[MAX_BARS];
	int n;
	double max;             /* axis end */
};

/* Advance widths of DejaVu Sans in em (Verdana's are within a few %): printable ASCII
 * from ' ' to '~'. Characters beyond ASCII count as a wide letter. */
static const float adv[95] = {
	.318, .401, .460, .838, .636, .950, .780, .275, .390, .390, .500, .838, .318, .361,
	.318, .337, .636, .636, .636, .636, .636, .636, .636, .636, .636, .636, .337, .337,
	.838, .838, .838, .531, 1.0, .684, .686, .698, .770, .632, .575, .775, .752, .295,
	.295, .656, .557, .863, .748, .787, .603, .787, .695, .635, .611, .732, .684, .989,
	.685, .611, .685, .390, .337, .390, .838, .500, .500, .613, .635, .550, .635, .615,
	.352, .635, .634, .278, .278, .579, .278, .974, .634, .612, .635, .635, .411, .521,
	.392, .634, .592, .818, .592, .592, .525, .636, .337, .636, .838,
};

static double text_w(const char *s, double px)
{
	double w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80) {
			if ((*p & 0xc0) != 0x80) /* count a UTF-8 sequence once */
				w += .85;
			continue;
		}
		w += *p >= ' ' && *p <= '~' ? adv[*p - ' '] : .6;
	}
	return w * px;
}

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<') fputs("&lt;", f);
		else if (*s == '>') fputs("&gt;", f);
		else if (*s == '&') fputs("&amp;", f);
		else if (*s == '"') fputs("&quot;", f);
		else fputc(*s, f);
	}
}

/* <text> with escaped content; attrs is trusted markup. */
static void text(FILE *f, double x, double y, const char *attrs, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void text(FILE *f, double x, double y, const char *attrs, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
	esc(f, buf);
	fputs("</text>\n", f);
}

/* 1, 2 or 5 times a power of ten, so that about `ticks` steps reach max. */
static double nice_step(double max, int ticks)
{
	double raw = max / ticks, p = pow(10, floor(log10(raw))), m = raw / p;

	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void panel_scale(struct panel *p)
{
	double m = 0, step;

	/* The axis follows the medians: one wild repetition must not squash every other
	 * bar. A range beyond the axis is cut with an arrow; its figures are in the note. */
	for (int i = 0; i < p->n; i++)
		if (!p->bars[i].missing && p->bars[i].v > m)
			m = p->bars[i].v;
	m = m > 0 ? m * 1.15 : 1;
	step = nice_step(m, 5);
	p->max = ceil(m / step) * step;
}

static void bar_add(struct panel *p, const char *label, double v, double lo, double hi,
		    const char *color)
{
	struct bar *b;

	if (p->n >= MAX_BARS)
		return;
	b = &p->bars[p->n++];
	memset(b, 0, sizeof(*b));
	snprintf(b->label, sizeof(b->label), "%s", label);
	b->v = v;
	b->lo = lo;
	b->hi = hi;
	b->color = color;
}

static void missing_add(struct panel *p, const char *label, const char *reason)
{
	if (p->n >= MAX_BARS)
		return;
	bar_add(p, label, 0, 0, 0, NULL);
	p->bars[p->n - 1].missing = true;
	/* The chart says that it is missing and the start of why; the table has it all. */
	snprintf(p->bars[p->n - 1].note, sizeof(p->bars[0].note), "not measured: %.70s%s", reason,
		 strlen(reason) > 70 ? "..." : "");
}

static const char *live_color(const struct live_row *r)
{
	if (r->baseline)
		return C_OURS;
	if (!strcmp(r->group, "forward"))
		return r->mode ? C_XDP : C_LINUX_FWD;
	return r->mode ? C_XDP : C_KERNEL;
}

static void build_live(struct panel *p, const struct live_row *lr, int nl)
{
	for (int i = 0; i < nl; i++) {
		const struct live_row *r = &lr[i];
		struct bar *b;
		int o;

		if (!r->ok) {
			missing_add(p, r->label, r->reason);
			continue;
		}
		bar_add(p, r->label, r->ns.med, r->ns.min, r->ns.max, live_color(r));
		b = &p->bars[p->n - 1];
		o = snprintf(b->note, sizeof(b->note), "%.0f ns [%.0f–%.0f], %.2f Mpps", r->ns.med,
			     r->ns.min, r->ns.max, r->pps.med / 1e6);
		if (r->baseline && r->rate_vs_base > 0) {
			snprintf(b->note + o, sizeof(b->note) - o, ", %.0f%% of bare", 100 * r->rate_vs_base);
			b->bare = r->ns.med * r->rate_vs_base;
		}
	}
}

static void build_cores(struct panel *p, const struct live_row *lr, int nl)
{
	const struct live_row *lin = NULL, *xdp = NULL;
	const double k = BENCH_TALK_PPS / 1e9;

	for (int i = 0; i < nl; i++) {
		if (lr[i].ok && !strcmp(lr[i].id, "linux_forward"))
			lin = &lr[i];
		if (lr[i].ok && !strcmp(lr[i].id, "xdp_forward"))
			xdp = &lr[i];
	}
	if (!lin && !xdp)
		return;
	for (size_t t = 0; t < ARRAY_SIZE(talk); t++) {
		const struct live_row *r = t == 0 ? lin : t == 1 ? xdp : NULL;
		char label[80];

		snprintf(label, sizeof(label), "the talk: %s", talk[t].what);
		bar_add(p, label, talk[t].cores, 0, 0, C_TALK);
		snprintf(p->bars[p->n - 1].note, sizeof(p->bars[0].note), "~%.0f cores", talk[t].cores);
		if (!r)
			continue;
		snprintf(label, sizeof(label), "here: %s", !strncmp(r->label, "forward: ", 9) ?
			 r->label + 9 : r->label);
		bar_add(p, label, r->cores_28m, r->ns.min * k, r->ns.max * k, live_color(r));
		snprintf(p->bars[p->n - 1].note, sizeof(p->bars[0].note), "%.1f cores [%.1f–%.1f]",
			 r->cores_28m, r->ns.min * k, r->ns.max * k);
	}
}

static void build_progs(struct panel *p, const struct prog_row *pr, int np)
{
	for (int i = 0; i < np; i++) {
		const struct prog_row *r = &pr[i];
		char label[80];
		struct bar *b;

		snprintf(label, sizeof(label), "%s%s%s", r->name, r->baseline[0] ? " vs " : "",
			 r->baseline);
		if (!r->ok) {
			missing_add(p, label, r->reason);
			continue;
		}
		bar_add(p, label, r->ns.med, r->ns.min, r->ns.max, r->baseline[0] ? C_OURS : C_BASE);
		b = &p->bars[p->n - 1];
		if (r->baseline[0]) {
			b->base = r->base_ns.med < r->ns.med ? r->base_ns.med : r->ns.med;
			snprintf(b->note, sizeof(b->note), "%.0f ns = %.0f bare %+.0f [%+.0f..%+.0f]",
				 r->ns.med, r->base_ns.med, r->delta_ns.med, r->delta_ns.min,
				 r->delta_ns.max);
		} else {
			snprintf(b->note, sizeof(b->note), "%.0f ns [%.0f–%.0f]", r->ns.med, r->ns.min,
				 r->ns.max);
		}
	}
}

static double panel_h(const struct panel *p)
{
	return p->n ? 30 + p->n * ROW_H + 44 : 0;
}

/* Draws one panel from y; returns the y below it. */
static double draw_panel(FILE *f, const struct panel *p, double y, double x0)
{
	double top, bottom, step = nice_step(p->max, 5), sx = PLOT_W / p->max;

	if (!p->n)
		return y;
	text(f, PAD, y + 16, "class=\"title\" font-weight=\"bold\" font-size=\"14\"", "%s", p->title);
	top = y + 26;
	bottom = top + p->n * ROW_H;
	/* grid and ticks first, bars over them */
	for (double t = 0; t <= p->max + step / 2; t += step) {
		double x = x0 + t * sx;
		fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"#e4e4e4\"/>\n", x, top, x, bottom);
		fprintf(f, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			   "stroke=\"#333\"/>\n", x, bottom, x, bottom + 4);
		text(f, x, bottom + 16, "class=\"ticklabel\" text-anchor=\"middle\" fill=\"#333\"",
		     "%g", t);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		   "stroke=\"#333\"/>\n", x0, bottom, x0 + PLOT_W, bottom);
	fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		   "stroke=\"#333\"/>\n", x0, top, x0, bottom);
	text(f, x0 + PLOT_W / 2.0, bottom + 34, "class=\"unit\" text-anchor=\"middle\"", "%s",
	     p->axis);
	for (int i = 0; i < p->n; i++) {
		const struct bar *b = &p->bars[i];
		double ry = top + i * ROW_H, w, nx;

		text(f, x0 - 8, ry + 15, "class=\"label\" text-anchor=\"end\"", "%s", b->label);
		if (b->missing) {
			text(f, x0 + 6, ry + 15, "class=\"note missing\" fill=\"#a33\" font-style=\"italic\"",
			     "%s", b->note);
			continue;
		}
		w = fmin(b->v, p->max) * sx;
		if (b->base > 0) {
			fprintf(f, "<rect class=\"bar base\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				   "height=\"%d\" fill=\"" C_BASE "\"/>\n", x0, ry + 4, b->base * sx,
				ROW_H - 8);
			fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
				   "fill=\"%s\"/>\n", x0 + b->base * sx, ry + 4,
				fmax(w - b->base * sx, 1), ROW_H - 8, b->color);
		} else {
			fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
				   "fill=\"%s\" stroke=\"%s\"/>\n", x0, ry + 4, fmax(w, 1), ROW_H - 8,
				b->color, !strcmp(b->color, C_TALK) ? "#777" : "none");
		}
		if (b->bare > 0 && b->bare < p->max)
			fprintf(f, "<line class=\"bare-mark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				   "y2=\"%.1f\" stroke=\"#111\" stroke-dasharray=\"2 2\"/>\n",
				x0 + b->bare * sx, ry + 1, x0 + b->bare * sx, ry + ROW_H - 1);
		nx = x0 + w;
		if (b->hi > 0) {
			double lo = fmin(b->lo, p->max) * sx + x0, hi = fmin(b->hi, p->max) * sx + x0;
			double cy = ry + ROW_H / 2.0;

			fprintf(f, "<path class=\"range\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" "
				   "stroke=\"#111\" stroke-width=\"1.5\" fill=\"none\"/>\n", lo, cy, hi,
				lo, cy - 5, cy + 5, hi, cy - 5, cy + 5);
			if (b->hi > p->max) /* the range goes on beyond the axis */
				fprintf(f, "<path class=\"beyond\" d=\"M%.1f %.1fl6 4l-6 4z\" "
					   "fill=\"#111\"/>\n", hi + 2, cy - 4);
			nx = fmax(nx, hi + (b->hi > p->max ? 8 : 0));
		}
		text(f, nx + 6, ry + 15, "class=\"note\"", "%s", b->note);
	}
	return bottom + 44;
}

/* Everything right of the plot's left edge that the notes need. */
static double notes_extent(const struct panel *p)
{
	double m = PLOT_W;

	for (int i = 0; i < p->n; i++) {
		const struct bar *b = &p->bars[i];
		double sx = PLOT_W / p->max, end;

		if (b->missing) {
			end = 6 + text_w(b->note, FONT_PX);
		} else {
			end = fmax(fmin(b->v, p->max), fmin(b->hi, p->max)) * sx;
			end += (b->hi > p->max ? 8 : 0) + 6 + text_w(b->note, FONT_PX);
		}
		m = fmax(m, end);
	}
	return m;
}

/* One swatch per colour, then the min–max mark, wrapped to the width. f NULL: only
 * lays it out. Returns the y where the panels start. */
static double legend(FILE *f, double W, const char *reps)
{
	static const struct { const char *fill, *what; } key[] = {
		{ C_XDP, "XDP, bare" }, { C_OURS, "bpflab's program" },
		{ C_KERNEL, "kernel layer" }, { C_LINUX_FWD, "Linux forwarding" },
		{ C_BASE, "bare program (progs)" }, { C_TALK, "the talk" },
	};
	double lx = PAD, ly = 68;

	for (size_t i = 0; i < ARRAY_SIZE(key); i++) {
		double w = 14 + 6 + text_w(key[i].what, FONT_PX) + 16;

		if (lx + w > W - PAD) {
			lx = PAD;
			ly += 20;
		}
		if (f) {
			fprintf(f, "<rect class=\"swatch\" x=\"%.1f\" y=\"%.1f\" width=\"14\" "
				   "height=\"12\" fill=\"%s\" stroke=\"#777\" stroke-width=\"0.5\"/>\n",
				lx, ly - 10, key[i].fill);
			text(f, lx + 20, ly, "class=\"legend\"", "%s", key[i].what);
		}
		lx += w;
	}
	if (lx + 28 + text_w(reps, FONT_PX) > W - PAD) {
		lx = PAD;
		ly += 20;
	}
	if (f) {
		fprintf(f, "<path class=\"legend-range\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f "
			   "%.1fV%.1f\" stroke=\"#111\" stroke-width=\"1.5\"/>\n", lx, ly - 4, lx + 22,
			lx, ly - 9, ly + 1, lx + 22, ly - 9, ly + 1);
		text(f, lx + 28, ly, "class=\"legend\"", "%s", reps);
	}
	return ly + 20;
}

int bench_write_svg(FILE *f, const struct bench_result *r)
{
	static struct panel pl[3];
	const struct bench_machine *m = &r->m;
	char sub[400], legend_reps[64];
	double labw = 0, right = 0, W, H, x0, y;

	memset(pl, 0, sizeof(pl));
	pl[0].title = "Live traffic: what one packet costs the receiving CPU, layer by layer";
	pl[0].axis = "ns of CPU per packet (median over repetitions; shorter is cheaper)";
	pl[1].title = "Cores to forward 28 Mpps: the talk's \"Some numbers\" beside this machine";
	pl[1].axis = "cores (ns per packet × 28 Mpps; the talk: Linux ~30, XDP ~5, DPDK ~3)";
	pl[2].title = "Programs alone (BPF_PROG_TEST_RUN): bpflab's program over the bare one";
	pl[2].axis = "ns per packet (median over rounds)";
	build_live(&pl[0], r->lrows, r->nl);
	build_cores(&pl[1], r->lrows, r->nl);
	build_progs(&pl[2], r->prows, r->np);

	H = 0;
	for (int i = 0; i < 3; i++) {
		panel_scale(&pl[i]);
		for (int k = 0; k < pl[i].n; k++)
			labw = fmax(labw, text_w(pl[i].bars[k].label, FONT_PX));
		if (pl[i].n)
			right = fmax(right, notes_extent(&pl[i]));
		H += panel_h(&pl[i]);
	}
	snprintf(sub, sizeof(sub), "%s, %ld cores, kernel %s, %s%s", m->cpu, m->cores, m->kernel,
		 m->date, r->o.quick ? " (quick run)" : "");
	snprintf(legend_reps, sizeof(legend_reps), "min–max over %d run%s; dashed: the bare row",
		 r->o.reps, r->o.reps == 1 ? "" : "s");
	x0 = PAD + labw + 10;
	W = fmax(x0 + right + PAD, PAD + text_w(sub, FONT_PX) + PAD);
	W = fmax(W, PAD + text_w(pl[1].title, 14) * 1.05 + PAD);
	W = ceil(W);
	H = ceil(H + legend(NULL, W, legend_reps) + 8);

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Verdana, sans-serif\" "
		   "font-size=\"%.0f\">\n", W, H, W, H, FONT_PX);
	fputs("<defs><pattern id=\"talk\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
	      "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#eee\"/>"
	      "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/>"
	      "</pattern></defs>\n", f);
	fputs("<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n", f);
	text(f, PAD, 26, "font-size=\"18\" font-weight=\"bold\"",
	     "bpflab bench: what a packet costs at each layer");
	text(f, PAD, 46, "fill=\"#555\"", "%s", sub);

	y = legend(f, W, legend_reps);
	for (int i = 0; i < 3; i++)
		y = draw_panel(f, &pl[i], y, x0);
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}
