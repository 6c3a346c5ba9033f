// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `lab clients`'s accounting without sockets: what counts as an answer, a move, a break
 * and a silence, so that the e2e tests' "0 broken" means what it says. No root needed. */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "util.h"
#include "lab.h"

static struct stream_run r;

static void reset(struct stream_conn *c, uint32_t id)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->fd = -1;
	c->first = c->node = -1;
}

/* what conn_send does to the state: message seq+1 out at `now` */
static void sent(struct stream_conn *c, double now)
{
	c->seq++;
	c->waiting = true;
	c->sent_at = now;
}

static int answer(struct stream_conn *c, const char *line, double now)
{
	return stream_answer(&r, c, line, strlen(line), now);
}

static void test_parse(void)
{
	static const char *const bad[] = {
		"", "backend-a", "backend-a ", "backend-a 3", "backend-a 3 ", "backend-a x 1",
		"backend-a 3 1 2", " 3 1", "backend-a 3  1", "backend-a 3 99999999999",
		"backend-a 3 4294967296", "backend-a -3 1", "backend-a 3 1\n",
	};
	size_t nl;
	uint32_t id, seq;

	is_int(stream_parse_answer("backend-a 3 17", 14, &nl, &id, &seq), 0, "a good answer parses");
	ok(nl == 9 && id == 3 && seq == 17, "node, id and seq read (%zu %u %u)", nl, id, seq);
	is_int(stream_parse_answer("b 4294967295 0", 14, &nl, &id, &seq), 0, "the largest id");
	ok(id == UINT32_MAX && seq == 0 && nl == 1, "read whole");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(stream_parse_answer(bad[i], strlen(bad[i]), &nl, &id, &seq), -EPROTO,
		       "refused: '%s'", bad[i]);
	/* only len bytes are read: a longer buffer's tail is not part of the line */
	is_int(stream_parse_answer("a 1 2 trailing", 5, &nl, &id, &seq), 0, "len bounds the line");
	is_int(seq, 2, "seq from within len");
}

static void test_answers_and_moves(void)
{
	struct stream_conn c;

	memset(&r, 0, sizeof(r));
	r.interval = 0.1;
	r.timeout = 1;
	reset(&c, 7);
	stream_opened(&r, &c, 10.0);
	is_int(r.opened, 1, "opened counted");
	sent(&c, 10.0);
	is_int(answer(&c, "backend-a 7 1", 10.001), 0, "the answer it waits for");
	ok(!c.waiting && r.answers == 1 && r.nnodes == 1, "answered, one backend known");
	ok(c.first == 0 && c.node == 0 && r.nodes[0].first == 1, "first backend recorded");
	sent(&c, 10.1);
	is_int(answer(&c, "backend-a 7 2", 10.102), 0, "same backend again");
	is_int(r.moved, 0, "nothing moved");
	sent(&c, 10.2);
	is_int(answer(&c, "backend-b 7 3", 10.2), 0, "another backend answers");
	ok(r.moved == 1 && c.moved && c.node == 1 && c.first == 0, "moved, first kept");
	ok(r.nodes[0].moved_out == 1 && r.nodes[1].moved_in == 1 && r.nodes[1].first == 0,
	   "moved out of a, into b, b is nobody's first");
	sent(&c, 10.3);
	is_int(answer(&c, "backend-a 7 4", 10.3), 0, "back to a");
	is_int(r.moved, 1, "a connection moves once in the count however often it moves");
	ok(r.nodes[1].moved_out == 1 && r.nodes[0].moved_in == 1, "each move per backend");
	is_int(r.broken_total, 0, "nothing broke");
	/* the longest silence: from open or the last answer to the next answer */
	sent(&c, 11.0);
	is_int(answer(&c, "backend-a 7 5", 11.25), 0, "a late answer, in time");
	ok(c.max_gap > 0.949 && c.max_gap < 0.951, "max gap 0.95 s (%.3f)", c.max_gap);
	ok(c.max_rtt > 0.249 && c.max_rtt < 0.251, "max rtt 0.25 s (%.3f)", c.max_rtt);
	ok(r.tick_max_gap > 0.949, "the tick saw it");
}

static void test_bad_answers(void)
{
	struct stream_conn c;

	memset(&r, 0, sizeof(r));
	r.timeout = 1;
	reset(&c, 1);
	stream_opened(&r, &c, 0);
	sent(&c, 0);
	is_int(answer(&c, "backend-a 1 2", 0.1), -EPROTO, "a seq not sent breaks the connection");
	ok(c.state == SC_BROKEN && c.why == STREAM_BAD && r.broken[STREAM_BAD] == 1, "as a bad answer");
	is_int(r.broken_total, 1, "counted once");
	stream_break(&r, &c, STREAM_RST, 0.2);
	is_int(r.broken_total, 1, "a broken connection does not break again");

	reset(&c, 2);
	stream_opened(&r, &c, 0);
	sent(&c, 0);
	is_int(answer(&c, "backend-a 3 1", 0.1), -EPROTO, "another connection's id");
	reset(&c, 3);
	stream_opened(&r, &c, 0);
	is_int(answer(&c, "backend-a 3 0", 0.1), -EPROTO, "an answer nothing waits for");
	is_int(r.broken[STREAM_BAD], 3, "three bad answers");

	/* the backend table is bounded: one name too many is a bad answer, not an overflow */
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < STREAM_NODES_MAX; i++) {
		char nm[16];
		int l = snprintf(nm, sizeof(nm), "n%d", i);
		is_int(stream_node_id(&r, nm, l), i, "node %s gets id %d", nm, i);
	}
	is_int(stream_node_id(&r, "n5", 2), 5, "a known node keeps its id when the table is full");
	is_int(stream_node_id(&r, "other", 5), -1, "table full");
	reset(&c, 4);
	stream_opened(&r, &c, 0);
	sent(&c, 0);
	is_int(answer(&c, "other 4 1", 0.1), -EPROTO, "an answer from one backend too many");
	char longname[40];
	memset(longname, 'x', sizeof(longname));
	memset(&r, 0, sizeof(r));
	is_int(stream_node_id(&r, longname, sizeof(longname)), -1, "a name too long for the table");
}

static void test_timeouts(void)
{
	struct stream_conn c, d;

	memset(&r, 0, sizeof(r));
	r.timeout = 1;
	reset(&c, 1);
	stream_opened(&r, &c, 0);
	ok(!stream_check_timeout(&r, &c, 5), "nothing sent: no time-out however long");
	sent(&c, 5);
	ok(!stream_check_timeout(&r, &c, 5.99), "0.99 s unanswered is still alive");
	ok(!stream_check_timeout(&r, &c, 6.0), "exactly the timeout is still alive");
	ok(stream_check_timeout(&r, &c, 6.01), "past it: broken");
	ok(c.state == SC_BROKEN && c.why == STREAM_TIMEOUT && r.broken[STREAM_TIMEOUT] == 1,
	   "as a time-out");
	ok(c.max_gap > 5.99, "the silence counts into max gap (%.2f)", c.max_gap);
	ok(!stream_check_timeout(&r, &c, 9), "a broken connection times out once");

	/* a break is charged to the backend that held the connection */
	reset(&d, 2);
	stream_opened(&r, &d, 0);
	sent(&d, 0);
	answer(&d, "backend-c 2 1", 0.01);
	stream_break(&r, &d, STREAM_RST, 0.5);
	int k = stream_node_id(&r, "backend-c", 9);
	ok(r.nodes[k].broken == 1 && r.broken[STREAM_RST] == 1 && r.broken_total == 2,
	   "reset on backend-c counted there");
	is_int(r.tick_broken, 2, "the tick saw both");
	is_str(stream_why_names[STREAM_TIMEOUT], "timeout", "reason names");
}

static int notes_break, notes_move, note_from;

static void note(const struct stream_run *run, const struct stream_conn *c, const char *what,
		 int from, double now)
{
	(void)run, (void)c, (void)now;
	if (!strcmp(what, "break"))
		notes_break++;
	else if (!strcmp(what, "move"))
		notes_move++;
	note_from = from;
}

static void test_notes(void)
{
	struct stream_conn c;

	memset(&r, 0, sizeof(r));
	r.timeout = 1;
	r.note = note;
	reset(&c, 0);
	stream_opened(&r, &c, 0);
	sent(&c, 0);
	answer(&c, "a 0 1", 0.01);
	sent(&c, 0.1);
	answer(&c, "b 0 2", 0.11);
	ok(notes_move == 1 && note_from == 0, "a move is told, from a (%d)", note_from);
	stream_break(&r, &c, STREAM_EOF, 0.2);
	stream_break(&r, &c, STREAM_EOF, 0.3);
	ok(notes_break == 1 && note_from == 1, "a break is told once, on b");
}

int main(void)
{
	test_notes();
	test_parse();
	test_answers_and_moves();
	test_bad_answers();
	test_timeouts();
	return tap_done();
}
