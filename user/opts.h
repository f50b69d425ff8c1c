/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef TT_OPTS_H
#define TT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "match.h"
#include "tcptrail.h"

enum tt_attach_mode {
	TT_ATTACH_AUTO = 0,
	TT_ATTACH_FENTRY,
	TT_ATTACH_KPROBE,
	TT_ATTACH_TP_BTF,	/* BTF-typed raw tracepoints */
	TT_ATTACH_TRACEPOINT,	/* plain tracepoints (tracefs), the most portable */
};

enum tt_color { TT_COLOR_AUTO, TT_COLOR_ALWAYS, TT_COLOR_NEVER };

struct tt_opts {
	/* filters, evaluated in the kernel (and again on replay) */
	uint32_t family;
	uint32_t pid;
	uint32_t netns;
	const char *netns_arg;		/* -N as given, for messages */
	/* -N as the file it names (/run/netns/NAME for a NAME), "" for an inode */
	char netns_path[4096];
	uint32_t n_ports, n_lports, n_rports;
	uint16_t ports[TT_MAX_PORTS], lports[TT_MAX_PORTS], rports[TT_MAX_PORTS];
	/*
	 * --cgroup PATH: live, in the kernel by id and level (resolved at parse
	 * time under the cgroup v2 mount); on replay by the capture's names.
	 * cgroup_path is then the cgroup path as tcptrail prints it ("/a/b").
	 */
	char cgroup_path[4096];	/* "" = any */
	uint64_t cgroup_id;
	uint32_t cgroup_level;
	const char *container;	/* --container: a prefix of the container id */

	/* output */
	bool json;
	bool events;
	enum tt_color color;
	uint64_t interval_ns;	/* summaries; 0 = only at exit */
	uint64_t duration_ns;	/* 0 = until a signal */
	bool ladder;		/* draw finished connections as ladder diagrams */

	/* capture and replay (user/capture.h) */
	const char *write_path;	/* -w: record every event to this file */
	const char *read_path;	/* -r: replay this capture instead of tracing */
	uint64_t rotate_bytes;	/* --rotate-size: start FILE.1, FILE.2... past it */
	uint32_t rotate_count;	/* --rotate-count: keep at most this many files */

	/* reports and export */
	uint64_t close_wait_age_ns;	/* CLOSE_WAIT longer than this is a suspected leak */
	uint32_t tw_warn_pct;		/* warn past this ephemeral-port share in use */
	bool quiet_flows;		/* no per-flow lines: summaries and warnings only */
	bool syslog;			/* summaries and warnings to syslog too */
	bool journal;			/* ... to the journal, as structured entries */
	bool no_sock_ops;		/* leave every transition to the transitions hook */
	bool no_seed;			/* do not seed the table with existing sockets */
	const char *output_path;	/* -o: append output here; SIGHUP reopens it */
	bool output_given;		/* -o seen (its '-' leaves output_path NULL) */
	const char *metrics_path;	/* --metrics-file: Prometheus textfile */
	const char *metrics_listen;	/* --metrics-listen: ADDR:PORT for /metrics */

	/* on-call views: userspace filters, --snapshot and --top (user/view.h) */
	uint32_t states;		/* --state: 1 << enum tt_tcp_state; 0 = every state */
	uint32_t n_remote, n_local;	/* --remote, --local: prefixes, any of which matches */
	struct tt_cidr remote[TT_MAX_CIDRS], local[TT_MAX_CIDRS];
	bool snapshot;			/* the sockets of this moment, then exit */
	bool top;			/* that view again every interval */

	/* resources and hooks */
	uint64_t ringbuf_bytes;
	uint64_t max_flows;
	int priority_boost;	/* nice levels below the caller's, 0..19 */
	enum tt_attach_mode attach;
	bool probe;		/* print the hook choice and exit */
	int verbose;
};

/*
 * Parse argv into *o.  Returns 0 to go on, or an exit status: 0 is returned
 * through *exit_now for --help/--version, 2 for bad usage (after a one-line
 * message naming the option on stderr).
 */
int tt_opts_parse(int argc, char **argv, struct tt_opts *o, bool *exit_now);

/*
 * optsys.c: the options against this system (-N, output files; --cgroup
 * live), each failure one line on stderr: 2 or a negative errno, 0 if fine.
 */
int tt_opts_check_system(struct tt_opts *o, const char *netns_arg);
int tt_opts_resolve_cgroup(struct tt_opts *o);

/* Parse a comma-separated port list (1..65535, at most TT_MAX_PORTS). */
int tt_parse_ports(const char *s, uint16_t *ports, uint32_t *n);

/* The longest duration any option takes: ten years, in ns. */
#define TT_DURATION_MAX_NS (3650ull * 86400 * 1000000000)

/*
 * Parse "5", "5s", "250ms", "2m", "1h" into ns; bare numbers are seconds.
 * -ERANGE past TT_DURATION_MAX_NS, -EINVAL if not a duration.
 */
int tt_parse_duration(const char *s, uint64_t *ns);

/* Parse "8M", "65536", "1G" into bytes; -ERANGE past 64 bits, -EINVAL if not a size. */
int tt_parse_size(const char *s, uint64_t *bytes);

/*
 * Color for human output to stdout (tty: whether it is a terminal):
 * --color always or never as given; auto, only on a terminal that is not
 * dumb ($TERM), never with --json, and not when $NO_COLOR is set and not empty.
 */
bool tt_opts_color(const struct tt_opts *o, bool tty);

extern const char *tt_version;

#endif /* TT_OPTS_H */
