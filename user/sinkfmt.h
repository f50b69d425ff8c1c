/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sink, inside: what the line formatters (sink_human.c, sink_json.c,
 * sink_logfmt.c) share.  Not for the rest of the program: sink.h is.
 */
#ifndef TT_SINKFMT_H
#define TT_SINKFMT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "linebuf.h"
#include "sink.h"

#define ISO_EPOCH "1970-01-01T00:00:00.000000Z"
#define ISO_DATE_MAX 48		/* "2024-05-01T12:00:01." is 20 */
#define ISO_MAX (ISO_DATE_MAX + 7)	/* and "234567Z" */

struct tt_sink {
	const struct tt_sink_ops *ops;	/* which format */
	struct tt_sink_opts o;
	/* "2024-05-01T12:00:01." for iso_sec: lines come many to a second */
	int64_t iso_sec;
	size_t iso_len;
	char iso[ISO_DATE_MAX];
	struct linebuf lb;	/* the line being built */
	/* human output: the widest endpoint so far, the column's width */
	int ep_width;
	/* human output: reports rendered as logfmt here, then as columns */
	FILE *rep;
	char *rep_buf;
	size_t rep_len;
	struct tt_ident *ident;
	bool container_col;	/* human: a container column, since one was named */
};


/* Whether a human or logfmt line of namespace netns names it (tt_sink_opts). */
static inline bool sink_names_netns(const struct tt_sink *s, uint32_t netns)
{
	return netns && (s->o.every_netns || (s->o.own_netns && netns != s->o.own_netns));
}

#define EP_WIDTH_MIN 21	/* "255.255.255.255:65535" */

/*
 * The names of the uint8_t fields a line has several of (state, role,
 * end), padded to NAME_MAX_LEN so that each goes in as one fixed-size copy,
 * with its length beside it: strlen() and a memcpy() of that length were
 * libc calls each.  Built at start from tt_state_name() and the others; a
 * value past 255 takes entry 255's name, "?", as those functions give it.
 */
#define NAME_MAX_LEN 16

struct padded_name {
	char s[NAME_MAX_LEN];
	uint8_t len;
};

extern struct padded_name sink_state_names[256], sink_role_names[256], sink_end_names[256];

/* Name v of table t at cursor p, with room for NAME_MAX_LEN bytes. */
static inline char *lbc_name(char *p, const struct padded_name *t, unsigned int v)
{
	const struct padded_name *n = &t[v < 256 ? v : 255];

	memcpy(p, n->s, NAME_MAX_LEN);
	return p + n->len;
}

/* The names of cgroup id cgid (pid: its owner, for a vague one), or NULL. */
const struct tt_cgname *sink_cgname(struct tt_sink *s, uint64_t cgid, uint32_t pid);

/* "2024-05-01T12:00:01.234567Z" into buf, without its NUL; returns the length. */
size_t sink_iso_fmt(struct tt_sink *s, int64_t wall_ns, char *buf);
void sink_iso_time(struct tt_sink *s, int64_t wall_ns, char buf[ISO_MAX]);

/*
 * A transition's tuple and task: its record's, or its flow's when it has
 * none (a deferred TIME-WAIT entry), zero when neither.
 */
struct sink_tuple {
	uint32_t netns;
	uint8_t family;
	uint16_t sport, dport;
	const uint8_t *saddr, *daddr;
	uint64_t cgroup;	/* the record's; 0 none */
	uint64_t cookie;	/* the record's, valid with TT_F_COOKIE */
	uint32_t flags;		/* the record's TT_F_* */
	uint32_t tgid;		/* the task that made the record, 0 none */
	const char *task_comm;	/* 16 bytes */
};
void sink_tuple_of(const struct tt_transition *t, struct sink_tuple *v);

/* Who to name for a transition: the flow's owner, else a task acting on it. */
void sink_transition_owner(const struct tt_transition *t, const struct sink_tuple *v,
			   uint32_t *pid, const char **comm);

/* The TIME-WAIT report's "closer". */
const char *sink_closer(const struct tw_report *r);

/* The formats, for the sink__* calls and for each other. */
void human_flow(struct tt_sink *s, const struct tt_flow *f);
void human_transition(struct tt_sink *s, const struct tt_transition *t);
void human_overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener);
void json_flow(struct tt_sink *s, const struct tt_flow *f);
void json_transition(struct tt_sink *s, const struct tt_transition *t);
void json_overflow(struct tt_sink *s, const struct tt_event *e, const struct tt_flow *listener);
void logfmt_summary(struct tt_sink *s, const struct tt_summary *sum);
void logfmt_close_wait(struct tt_sink *s, const struct tt_cw_report *r);
void logfmt_time_wait(struct tt_sink *s, const struct tw_report *r);
void logfmt_listener_overflow(struct tt_sink *s, const struct tt_listener_stats *ls,
			      uint64_t t_ns, uint64_t interval_ns);

#endif /* TT_SINKFMT_H */
