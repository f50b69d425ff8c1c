// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The command line, before the data path starts: argp's option table, the
 * value parsers every number goes through, and the combinations refused;
 * optsys.c then checks the values against this system.
 */
#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "metrics.h"
#include "ident.h"
#include "opts.h"
#include "util.h"

#ifndef TT_VERSION
#define TT_VERSION "0.1.0"
#endif
const char *tt_version = TT_VERSION;

/* Long-only options get ids from 1000 up, as retsnoop does. */
enum {
	OPT_ATTACH = 1000,
	OPT_RINGBUF,
	OPT_MAX_FLOWS,
	OPT_PRIORITY_BOOST,
	OPT_PROBE,
	OPT_COLOR,
	OPT_VERSION,
	OPT_ROTATE_SIZE,
	OPT_ROTATE_COUNT,
	OPT_LADDER,
	OPT_CLOSE_WAIT_AGE,
	OPT_TW_WARN,
	OPT_QUIET_FLOWS,
	OPT_SYSLOG,
	OPT_NO_SEED,
	OPT_NO_SOCK_OPS,
	OPT_METRICS_FILE,
	OPT_METRICS_LISTEN,
	OPT_JOURNAL,
	OPT_CGROUP,
	OPT_CONTAINER,
	/* on-call views */
	OPT_STATE,
	OPT_REMOTE,
	OPT_LOCAL,
	OPT_SNAPSHOT,
	OPT_TOP,
};

static const char doc[] =
"Trace every TCP connection's state transitions and print each flow's lifecycle.\n"
"\n"
"EXAMPLES:\n"
"  tcptrail                       # one timeline per finished connection\n"
"  tcptrail -e                    # and every transition as it happens\n"
"  tcptrail --json -d 60          # JSON lines for a minute, then a summary\n"
"  tcptrail -P 80,443             # only flows with port 80 or 443 at an end\n"
"  tcptrail -L 5432               # only flows on local port 5432 (a server)\n"
"  tcptrail -p 1234               # only flows owned by process 1234\n"
"  tcptrail -N /run/netns/blue    # only one network namespace\n"
"  tcptrail --probe               # which kernel hooks would be used, and why\n"
"  tcptrail -w /var/tmp/tt.ttcap  # also record every event (gzip)\n"
"  tcptrail -r tt.ttcap --ladder  # replay anywhere, no root; ladders\n"
"  tcptrail --quiet-flows --journal  # summaries and leaks to the journal\n"
"  tcptrail --snapshot            # every socket now, host-wide, owners, ages\n"
"  tcptrail --top -i 2            # the same, redrawn every 2 s\n"
"  tcptrail --state close-wait    # only flows that went through CLOSE-WAIT\n"
"  tcptrail --remote 10.0.0.0/8   # only flows with a peer in 10.0.0.0/8";

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Filters (applied in the kernel; --container in userspace):", 1 },
	{ "ipv4", '4', NULL, 0, "IPv4 only", 1 },
	{ "ipv6", '6', NULL, 0, "IPv6 only", 1 },
	{ "pid", 'p', "PID", 0, "Only flows owned by process PID", 1 },
	{ "port", 'P', "PORTS", 0, "Only flows with one of PORTS (comma list) at either end", 1 },
	{ "lport", 'L', "PORTS", 0, "Only flows with one of PORTS as the local port", 1 },
	{ "dport", 'D', "PORTS", 0, "Only flows with one of PORTS as the remote port", 1 },
	{ "netns", 'N', "NETNS", 0, "Only this network namespace: an inode number, a path "
	  "such as /proc/PID/ns/net or /run/netns/NAME, or an ip netns NAME", 1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0, "Only sockets whose cgroup v2 is PATH or below it "
	  "(\"/system.slice\", or a directory under the v2 mount)", 1 },
	{ "container", OPT_CONTAINER, "ID", 0, "Only sockets of the container whose id starts "
	  "with ID (hex; checked in userspace)", 1 },

	{ NULL, 0, NULL, 0, "On-call views (filters applied in userspace, live and on replay):", 4 },
	{ "state", OPT_STATE, "STATES", 0, "Only flows that went through one of STATES (comma "
	  "list, names as ss or tcptrail print them: close-wait, CLOSE_WAIT, fin-wait-1, "
	  "listening, ...; also connected, synchronized, all); -e shows transitions into or "
	  "out of them; --snapshot and --top, sockets now in them", 4 },
	{ "remote", OPT_REMOTE, "CIDRS", 0, "Only flows whose remote address is in one of CIDRS "
	  "(10.0.0.0/8, 2001:db8::/32, an address alone is /32 or /128; comma list, repeatable)", 4 },
	{ "local", OPT_LOCAL, "CIDRS", 0, "Only flows whose local address is in one of CIDRS "
	  "(as --remote; both given: both must match)", 4 },
	{ "snapshot", OPT_SNAPSHOT, NULL, 0, "Print every TCP socket of this moment in every "
	  "network namespace, grouped by state, owner and namespace, with ages, then exit "
	  "(with -r: the flows open at the end of the capture); --quiet-flows: groups only", 4 },
	{ "top", OPT_TOP, NULL, 0, "The --snapshot groups, redrawn every interval (-i, default 2s "
	  "with --top) until stopped; plain lines when stdout is not a terminal or TERM is dumb", 4 },

	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "json", 'j', NULL, 0, "One JSON object per line", 2 },
	{ "events", 'e', NULL, 0, "Also print every transition as it happens", 2 },
	{ "interval", 'i', "SECS", 0, "Print a summary every SECS, at least 100ms (default 10; 0: only at exit)", 2 },
	{ "duration", 'd', "SECS", 0, "Stop after SECS and print the final summary", 2 },
	{ "color", OPT_COLOR, "WHEN", 0, "auto (default: only on a terminal, not if TERM is "
	  "dumb or unset or NO_COLOR is not empty), always, never", 2 },
	{ "ladder", OPT_LADDER, NULL, 0, "Draw each finished connection as a ladder diagram, both "
	  "ends side by side when both are on this host (not with --json)", 2 },

	{ NULL, 0, NULL, 0, "Kernel side:", 3 },
	{ "attach", OPT_ATTACH, "MODE", 0, "Prefer one kind of hook: auto (default: the best the "
	  "kernel allows), fentry, kprobe, tp_btf or tracepoint; a capability "
	  "that has no such hook, or whose hook fails, falls back and says so", 3 },
	{ "probe", OPT_PROBE, NULL, 0, "Print the hook chosen for each capability, and why, then exit", 3 },
	{ "ringbuf-size", OPT_RINGBUF, "BYTES", 0, "Ring buffer size, a power of two from 4K to 1G (default 8M)", 3 },
	{ "max-flows", OPT_MAX_FLOWS, "N", 0, "Flows tracked at once; the least recently active "
	  "are evicted, and counted, beyond it (default 262144)", 3 },
	{ "no-sock-ops", OPT_NO_SOCK_OPS, NULL, 0, "Do not take connected sockets' transitions "
	  "from sock_ops (STATE_CB), which the kernel never skips; the transitions hook then "
	  "records them all, and may be skipped when it nests", 3 },
	{ "priority-boost", OPT_PRIORITY_BOOST, "N", 0, "Run N nice levels ahead of the caller "
	  "(0 to 19, default 5), so the load being traced does not starve the reading of the "
	  "ring buffer; 0 leaves the priority alone", 3 },

	{ NULL, 0, NULL, 0, "Reports and export:", 6 },
	{ "close-wait-age", OPT_CLOSE_WAIT_AGE, "SECS", 0, "A socket in CLOSE_WAIT longer than "
	  "this, sending no data, is a suspected leak (default 10s; 0: every one)", 6 },
	{ "tw-warn", OPT_TW_WARN, "PERCENT", 0, "Warn when a destination uses more than PERCENT "
	  "of the ephemeral port range in TIME-WAIT and open sockets (default 50; counted for "
	  "destinations that hold TIME-WAIT sockets, from all local addresses together; 100: "
	  "never, but for connections from several local addresses)", 6 },
	{ "quiet-flows", OPT_QUIET_FLOWS, NULL, 0, "No per-flow lines: only summaries, reports "
	  "and warnings, and with -e its transitions", 6 },
	{ "syslog", OPT_SYSLOG, NULL, 0, "Also send summaries and leak/buildup warnings to syslog "
	  "(facility daemon, /dev/log): for hosts without systemd", 6 },
	{ "journal", OPT_JOURNAL, NULL, 0, "Also send summaries and leak/buildup warnings to the "
	  "systemd journal as structured entries (TCPTRAIL_EVENT=close_wait PID=... ; see "
	  "tcptrail(8))", 6 },
	{ "output", 'o', "FILE", 0, "Append output to FILE instead of stdout ('-': stdout); "
	  "SIGHUP reopens it (for logrotate)", 6 },
	{ "metrics-file", OPT_METRICS_FILE, "PATH", 0, "Write Prometheus text to PATH at every "
	  "interval (atomically; for node_exporter's textfile collector)", 6 },
	{ "metrics-listen", OPT_METRICS_LISTEN, "ADDR:PORT", 0, "Serve the same at /metrics over "
	  "HTTP (e.g. 127.0.0.1:9464; ':PORT' binds 127.0.0.1)", 6 },
	{ "no-seed", OPT_NO_SEED, NULL, 0, "Do not read the sockets that exist at start "
	  "(sock_diag); only new connections are tracked", 6 },

	{ NULL, 0, NULL, 0, "Other:", 9 },
	{ "verbose", 'v', NULL, 0, "Say more: why hooks were passed over, libbpf messages (-vv)", 9 },
	{ "version", OPT_VERSION, NULL, 0, "Print the version and exit", 9 },
	{ "help", 'h', NULL, 0, "Show this help and exit", 9 },

	{ NULL, 0, NULL, 0, "Capture and replay (include/CAPTURE.md):", 5 },
	{ "write", 'w', "FILE", 0, "Also record every event to FILE, gzip-compressed, flushed "
	  "every second (an existing FILE is overwritten only if it is a regular file of this "
	  "user's, with one name, empty or a capture)", 5 },
	{ "read", 'r', "FILE", 0, "Replay FILE ('-': stdin) instead of tracing, and the rest of "
	  "its rotated set (FILE.1, FILE.2...): no root, no BPF; every output option and filter "
	  "applies, not the kernel-side options", 5 },
	{ "rotate-size", OPT_ROTATE_SIZE, "SIZE", 0, "With -w: past SIZE compressed bytes (e.g. "
	  "100M) go on in FILE.1, FILE.2...; -r FILE replays them all", 5 },
	{ "rotate-count", OPT_ROTATE_COUNT, "N", 0, "With --rotate-size: keep the newest N files, "
	  "the one being written among them, removing older ones", 5 },
	{},
};

int tt_parse_ports(const char *s, uint16_t *ports, uint32_t *n)
{
	const char *field = s;

	if (!s || !*s)
		return -EINVAL;
	*n = 0;
	/* any length: repeats take no room ("80,," or ",80" has an empty field) */
	for (;;) {
		size_t len = strcspn(field, ",");
		char tok[32];
		uint32_t k = 0;
		long long v;

		if (!len || len >= sizeof(tok))
			return -EINVAL;
		memcpy(tok, field, len);
		tok[len] = '\0';
		if (tt_parse_num(tok, 1, 65535, &v))
			return -EINVAL;
		while (k < *n && ports[k] != v)
			k++;
		if (k == *n) {
			if (*n >= TT_MAX_PORTS)
				return -E2BIG;
			ports[(*n)++] = (uint16_t)v;
		}
		if (!field[len])
			return 0;
		field += len + 1;
	}
}

/* -P 80 -P 443 is -P 80,443: a repeated list adds to the one before, once each. */
static int add_ports(const char *s, uint16_t *ports, uint32_t *n)
{
	uint16_t more[TT_MAX_PORTS];
	uint32_t m;
	int err = tt_parse_ports(s, more, &m);

	if (err)
		return err;
	for (uint32_t i = 0; i < m; i++) {
		uint32_t k = 0;

		while (k < *n && ports[k] != more[i])
			k++;
		if (k < *n)
			continue;
		if (*n >= TT_MAX_PORTS)
			return -E2BIG;
		ports[(*n)++] = more[i];
	}
	return 0;
}

int tt_parse_duration(const char *s, uint64_t *ns)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "ms", 1000000ull }, { "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull }, { "d", 86400000000000ull }, { "", 1000000000ull },
	};
	char num[32];
	size_t len;
	long long v;
	uint64_t d;
	int err;

	if (!s || !*s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t sl = strlen(units[i].suffix);

		len = strlen(s);
		if (len <= sl || len - sl >= sizeof(num) || strcmp(s + len - sl, units[i].suffix))
			continue;
		char *dot;
		uint64_t frac = 0, scale = 1;

		memcpy(num, s, len - sl);
		num[len - sl] = '\0';
		/* "2.5", "0.25s": up to nine decimals, digits on both sides of the dot */
		dot = strchr(num, '.');
		if (dot) {
			size_t nd = strlen(dot + 1);

			*dot = '\0';
			if (!nd || nd > 9)
				return -EINVAL;
			for (size_t k = 1; k <= nd; k++) {
				if (dot[k] < '0' || dot[k] > '9')
					return -EINVAL;
				frac = frac * 10 + (uint64_t)(dot[k] - '0');
				scale *= 10;
			}
		}
		/*
		 * Ten years is plenty, and keeps every product inside 64 bits:
		 * past 2^64 ns the value used to wrap, and -d 18446744074 ran 0.3 s.
		 */
		err = tt_parse_num(num, 0, TT_DURATION_MAX_NS / units[i].mult, &v);
		if (err)
			return err;
		d = (uint64_t)v * units[i].mult + frac * (units[i].mult / scale) +
		    frac * (units[i].mult % scale) / scale;
		if (d > TT_DURATION_MAX_NS)
			return -ERANGE;
		*ns = d;
		return 0;
	}
	return -EINVAL;
}

int tt_parse_size(const char *s, uint64_t *bytes)
{
	char num[32];
	size_t len = s ? strlen(s) : 0;
	uint64_t mult = 1;
	unsigned long long v;
	char *end;

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'k': case 'K': mult = 1ull << 10; num[len - 1] = '\0'; break;
	case 'm': case 'M': mult = 1ull << 20; num[len - 1] = '\0'; break;
	case 'g': case 'G': mult = 1ull << 30; num[len - 1] = '\0'; break;
	}
	/* digits only: strtoull would take blanks, a sign, and wrap "-1" */
	if (num[0] < '0' || num[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(num, &end, 10);
	if (*end)
		return -EINVAL;
	/* anything that fits 64 bits; 17179869185G is 2^64 + 1G: it wrapped to 1G once */
	if (errno == ERANGE || v > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = (uint64_t)v * mult;
	return 0;
}

struct parse_state {
	struct tt_opts *o;
	bool *exit_now;
	int status;
	int err_next;
	const char *netns_arg;	/* -N as given: resolved once -r is known */
	bool pid_given;
	bool interval_given;	/* --top's default differs */
	const char *interval_arg;	/* -i as given, for its message */
	bool help, version;	/* printed once the whole line parsed: bad input wins */
	const char *kernel_opt;	/* the first kernel-side option given, which -r refuses */
	const char *report_opt;	/* the first option of the reports only, which the views refuse */
	const char *run_opt;	/* --ringbuf-size or --priority-boost: a run's, which --probe refuses */
	bool max_flows_given;
};

/* A value from the command line as an error shows it: at most about 100 bytes. */
static const char *shown(const char *arg, char buf[static 104])
{
	tt_fmt_name(arg ? arg : "", buf, 104);
	return buf;
}

/* One line, naming the option; the caller exits 2. */
static int bad(struct argp_state *state, const char *fmt, const char *arg)
{
	struct parse_state *ps = state->input;
	char msg[512], v[104];

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(msg, sizeof(msg), fmt, shown(arg, v));
#pragma GCC diagnostic pop
	tt_err("%s (see --help)", msg);
	ps->status = 2;
	return EINVAL;
}


/* Options that are fine alone and wrong together. */
static int check_combinations(struct argp_state *state, struct tt_opts *o)
{
	struct parse_state *ps = state->input;

	if (o->write_path && o->read_path)
		return bad(state, "%s: -w records a live run and -r replays one; give one", "-w/-r");
	if (o->read_path && o->probe)
		return bad(state, "%s: --probe examines this kernel; it has nothing to do with a replay",
			   "-r/--read");
	/* --max-flows is not here: a replay's flow table has that size too */
	if (o->read_path && ps->kernel_opt)
		return bad(state, "%s: sets up the kernel side, and a replay (-r) has none",
			   ps->kernel_opt);
	if ((o->rotate_bytes || o->rotate_count) && !o->write_path)
		return bad(state, "%s: rotation applies to a capture being written; add -w FILE",
			   o->rotate_bytes ? "--rotate-size" : "--rotate-count");
	if (o->rotate_count && !o->rotate_bytes)
		return bad(state, "%s: says how many files to keep; add --rotate-size to say when to "
			   "start the next", "--rotate-count");
	if (o->read_path && o->metrics_listen)
		return bad(state, "%s: a replay ends when its file does; write --metrics-file instead",
			   "--metrics-listen");
	if (o->syslog && o->journal)
		return bad(state, "%s: on a systemd host syslog reaches the journal too, and every "
			   "report would be there twice; give one", "--syslog/--journal");
	if (o->ladder && o->json)
		return bad(state, "%s: ladders are drawings for people; they have no JSON form",
			   "--ladder");
	if (o->ladder && o->quiet_flows)
		return bad(state, "%s: draws each finished flow, and --quiet-flows prints none; give "
			   "one", "--ladder");
	/* with -e it picks the transitions printed; a view's, the sockets */
	if (o->states && o->quiet_flows && !o->events && !o->snapshot && !o->top)
		return bad(state, "%s: picks the flows printed, and --quiet-flows prints none (the "
			   "summaries and reports count every flow); add -e for its transitions",
			   "--state");
	if (tt_opts_resolve_cgroup(o)) {
		ps->status = 2;
		return EINVAL;
	}
	return 0;
}


/* The first filter given, or NULL: --probe traces nothing to filter. */
static const char *a_filter(const struct tt_opts *o, const struct parse_state *ps)
{
	return o->family ? "-4/-6" : ps->pid_given ? "-p/--pid" : ps->netns_arg ? "-N/--netns" :
	       o->n_ports ? "-P/--port" : o->n_lports ? "-L/--lport" :
	       o->n_rports ? "-D/--dport" : o->n_local ? "--local" : o->n_remote ? "--remote" :
	       o->states ? "--state" : o->container ? "--container" :
	       o->cgroup_path[0] ? "--cgroup" : NULL;
}

/* The first option given that feeds an output of a trace, or NULL: what a view or --probe refuses. */
static const char *other_output(const struct tt_opts *o)
{
	return o->write_path ? "-w/--write" : o->events ? "-e/--events" :
	       o->ladder ? "--ladder" : o->metrics_path ? "--metrics-file" :
	       o->metrics_listen ? "--metrics-listen" : o->syslog ? "--syslog" :
	       o->journal ? "--journal" : NULL;
}

/*
 * --snapshot and --top read the socket table (or a capture's flow table)
 * and print a view of it: options that feed other outputs have nothing to
 * work on, and are refused rather than ignored.
 */
static int check_views(struct argp_state *state, struct tt_opts *o)
{
	struct parse_state *ps = state->input;
	static const char why[] = "%s: not with --snapshot or --top, which print a view of the "
				  "sockets and nothing else";

	/* the live loop wakes every 100 ms: a shorter interval could not be kept */
	if (o->interval_ns && o->interval_ns < 100000000ull)
		return bad(state, o->top ? "-i/--interval: '%s' is under 100ms; give 100ms or more" :
			   "-i/--interval: '%s' is under 100ms; give 100ms or more, or 0 for a "
			   "summary only at exit", ps->interval_arg);
	if (o->snapshot && o->top)
		return bad(state, "%s: --snapshot prints one view and --top keeps redrawing it; "
			   "give one", "--snapshot/--top");
	if (!o->snapshot && !o->top)
		return 0;
	if (other_output(o))
		return bad(state, why, other_output(o));
	if (o->probe)
		return bad(state, why, "--probe");
	if (o->rotate_bytes || o->rotate_count)
		return bad(state, why, o->rotate_bytes ? "--rotate-size" : "--rotate-count");
	/* the CLOSE-WAIT and TIME-WAIT reports' thresholds: a view shows ages and counts */
	if (ps->report_opt)
		return bad(state, why, ps->report_opt);
	/* a replay's view has a flow table; a live one reads the kernel's */
	if (ps->max_flows_given && !o->read_path)
		return bad(state, "%s: sizes the flow table of a trace or a replay; a live "
			   "--snapshot or --top reads the kernel's sockets", "--max-flows");
	/* live, they read sock_diag and /proc; a replay's kernel side is refused with -r */
	if (ps->kernel_opt && !o->read_path)
		return bad(state, "%s: sets up the kernel side, and --snapshot and --top attach "
			   "nothing (they ask sock_diag)", ps->kernel_opt);
	if (o->snapshot && o->duration_ns)
		return bad(state, "%s: --snapshot is one moment; --top -d SECS redraws for a while",
			   "-d/--duration");
	if (o->snapshot && ps->interval_given)
		return bad(state, "%s: --snapshot is one moment; --top -i SECS redraws it every SECS",
			   "-i/--interval");
	if (o->top && !ps->interval_given)
		o->interval_ns = 2ull * 1000000000;
	if (o->top && !o->interval_ns)
		return bad(state, "-i/--interval: '%s': --top redraws every interval; give one above 0",
			   "0");
	return 0;
}

/*
 * --probe prints which hook each capability would get here, and exits: it
 * traces nothing, so options that shape a run's output, or how long it
 * lasts, are refused rather than ignored.  --attach, --no-sock-ops, -v and
 * -o still apply.
 */
static int check_probe(struct argp_state *state, struct tt_opts *o)
{
	struct parse_state *ps = state->input;
	static const char why[] = "%s: not with --probe, which traces nothing: it prints the "
				  "hooks this kernel offers and exits";

	if (!o->probe)
		return 0;
	if (other_output(o))
		return bad(state, why, other_output(o));
	if (o->rotate_bytes || o->rotate_count)
		return bad(state, why, o->rotate_bytes ? "--rotate-size" : "--rotate-count");
	if (a_filter(o, ps))
		return bad(state, why, a_filter(o, ps));
	if (ps->report_opt)
		return bad(state, why, ps->report_opt);
	if (ps->max_flows_given)
		return bad(state, why, "--max-flows");
	if (o->no_seed)
		return bad(state, why, "--no-seed");
	if (ps->run_opt)
		return bad(state, why, ps->run_opt);
	if (o->json)
		return bad(state, why, "-j/--json");
	if (o->quiet_flows)
		return bad(state, why, "--quiet-flows");
	if (o->duration_ns)
		return bad(state, why, "-d/--duration");
	if (ps->interval_given)
		return bad(state, why, "-i/--interval");
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_state *ps = state->input;
	struct tt_opts *o = ps->o;
	long long v;
	int err;

	switch (key) {
	case '4':
	case '6': {
		uint32_t family = key == '4' ? TT_AF_INET : TT_AF_INET6;

		/* -4 -4 asks for the same thing twice: only -4 with -6 is wrong */
		if (o->family && o->family != family)
			return bad(state, "%s: -4 and -6 exclude each other", "-4/-6");
		o->family = family;
		break;
	}
	case 'p':
		if (ps->pid_given)
			return bad(state, "-p/--pid: given twice (then '%s'); tcptrail follows one "
				   "process or all", arg);
		ps->pid_given = true;
		if (tt_parse_num(arg, 1, 4194304, &v))
			return bad(state, "-p/--pid: '%s' is not a process id", arg);
		o->pid = (uint32_t)v;
		break;
	case 'P':
	case 'L':
	case 'D': {
		uint16_t *list = key == 'P' ? o->ports : key == 'L' ? o->lports : o->rports;
		uint32_t *n = key == 'P' ? &o->n_ports : key == 'L' ? &o->n_lports : &o->n_rports;
		const char *name = key == 'P' ? "-P/--port" : key == 'L' ? "-L/--lport" : "-D/--dport";
		char v[104];

		err = add_ports(arg, list, n);
		if (err == -E2BIG) {
			tt_err("%s: '%s': at most %d ports in all (see --help)",
				name, shown(arg, v), TT_MAX_PORTS);
			ps->status = 2;
			return EINVAL;
		}
		if (err) {
			tt_err("%s: '%s' is not a list of ports 1-65535 (see --help)",
				name, shown(arg, v));
			ps->status = 2;
			return EINVAL;
		}
		break;
	}
	case 'N':
		/* the BPF filter holds one namespace */
		if (ps->netns_arg)
			return bad(state, "-N/--netns: given twice (then '%s'); tcptrail traces one "
				   "namespace or all", arg);
		if (!*arg)
			return bad(state, "-N/--netns: '%s' is neither a namespace inode, a name "
				   "nor a path", arg);
		ps->netns_arg = o->netns_arg = arg;
		break;
	case OPT_CGROUP:
		/* the BPF filter holds one cgroup */
		if (o->cgroup_path[0])
			return bad(state, "--cgroup: given twice (then '%s'); tcptrail follows one "
				   "cgroup subtree or all", arg);
		if (!*arg || *arg != '/')
			return bad(state, "--cgroup: '%s' is not an absolute cgroup path", arg);
		if (strlen(arg) >= sizeof(o->cgroup_path))
			return bad(state, "--cgroup: '%.64s...' is too long", arg);
		strcpy(o->cgroup_path, arg);
		break;
	case OPT_CONTAINER:
		if (!ident__valid_container_prefix(arg))
			return bad(state, "--container: '%s' is not a container id or a prefix of one "
				   "(1 to 64 lowercase hex digits)", arg);
		if (o->container)
			return bad(state, "--container: given twice (then '%s'); tcptrail follows one "
				   "container or all", arg);
		o->container = arg;
		break;
	case 'j':
		o->json = true;
		break;
	case 'e':
		o->events = true;
		break;
	case 'i':
		ps->interval_given = true;
		err = tt_parse_duration(arg, &o->interval_ns);
		if (err == -ERANGE)
			return bad(state, "-i/--interval: '%s' is out of range: ten years at most", arg);
		if (err)
			return bad(state, "-i/--interval: '%s' is not a duration: seconds, or a number "
				   "with ms, s, m, h or d (e.g. 10, 500ms, 1m)", arg);
		ps->interval_arg = arg;
		break;
	case 'd':
		err = tt_parse_duration(arg, &o->duration_ns);
		if (err == -ERANGE)
			return bad(state, "-d/--duration: '%s' is out of range: ten years at most", arg);
		if (err || !o->duration_ns)
			return bad(state, "-d/--duration: '%s' is not a positive duration: seconds, or a "
				   "number with ms, s, m, h or d (e.g. 60, 5m)", arg);
		break;
	case OPT_COLOR:
		if (!strcmp(arg, "auto"))
			o->color = TT_COLOR_AUTO;
		else if (!strcmp(arg, "always"))
			o->color = TT_COLOR_ALWAYS;
		else if (!strcmp(arg, "never"))
			o->color = TT_COLOR_NEVER;
		else
			return bad(state, "--color: '%s' is not auto, always or never", arg);
		break;
	case OPT_ATTACH:
		ps->kernel_opt = ps->kernel_opt ?: "--attach";
		if (!strcmp(arg, "auto"))
			o->attach = TT_ATTACH_AUTO;
		else if (!strcmp(arg, "fentry"))
			o->attach = TT_ATTACH_FENTRY;
		else if (!strcmp(arg, "kprobe"))
			o->attach = TT_ATTACH_KPROBE;
		else if (!strcmp(arg, "tp_btf"))
			o->attach = TT_ATTACH_TP_BTF;
		else if (!strcmp(arg, "tracepoint"))
			o->attach = TT_ATTACH_TRACEPOINT;
		else
			return bad(state, "--attach: '%s' is not auto, fentry, kprobe, tp_btf or tracepoint", arg);
		break;
	case OPT_PROBE:
		o->probe = true;
		break;
	case OPT_RINGBUF: {
		uint64_t b;

		ps->kernel_opt = ps->kernel_opt ?: "--ringbuf-size";
		ps->run_opt = ps->run_opt ?: "--ringbuf-size";
		/* the kernel wants a power-of-two multiple of the page size */
		err = tt_parse_size(arg, &b);
		if (err == -ERANGE)
			return bad(state, "--ringbuf-size: '%s' is out of range: a power of two from "
				   "4K to 1G", arg);
		if (err || b < 4096 || (b & (b - 1)) || b > (1ull << 30))
			return bad(state, "--ringbuf-size: '%s' is not a power of two from 4K to 1G", arg);
		o->ringbuf_bytes = b;
		break;
	}
	case OPT_MAX_FLOWS:
		ps->max_flows_given = true;
		if (tt_parse_num(arg, 1, 1 << 26, &v))
			return bad(state, "--max-flows: '%s' is not a number from 1 to 67108864", arg);
		o->max_flows = (uint64_t)v;
		break;
	case OPT_PRIORITY_BOOST:
		ps->kernel_opt = ps->kernel_opt ?: "--priority-boost";
		ps->run_opt = ps->run_opt ?: "--priority-boost";
		if (tt_parse_num(arg, 0, 19, &v))
			return bad(state, "--priority-boost: '%s' is not a number from 0 to 19", arg);
		o->priority_boost = (int)v;
		break;
	case OPT_LADDER:
		o->ladder = true;
		break;
	case 'w':
		if (!*arg || !strcmp(arg, "-"))
			return bad(state, "-w/--write: '%s' is not a file name", arg);
		if (o->write_path)
			return bad(state, "-w/--write: given twice (then '%s'); tcptrail writes one "
				   "capture (--rotate-size for more files)", arg);
		o->write_path = arg;
		break;
	case 'r':
		if (!*arg)
			return bad(state, "-r/--read: '%s' is not a file name", arg);
		/* a rotated set is followed from the file given: -r names where to start */
		if (o->read_path)
			return bad(state, "-r/--read: given twice (then '%s'); give the first file "
				   "of a rotated set, and the rest follow", arg);
		o->read_path = arg;
		break;
	case OPT_ROTATE_SIZE:
		err = tt_parse_size(arg, &o->rotate_bytes);
		if (err == -ERANGE)
			return bad(state, "--rotate-size: '%s' is out of range: too many bytes (e.g. 100M, 1G)", arg);
		if (err)
			return bad(state, "--rotate-size: '%s' is not a size: bytes, or a number with "
				   "K, M or G (e.g. 100M)", arg);
		if (o->rotate_bytes < 4096)
			return bad(state, "--rotate-size: '%s' is under 4K, the least a file holds", arg);
		break;
	case OPT_ROTATE_COUNT:
		if (tt_parse_num(arg, 1, 1000000, &v))
			return bad(state, "--rotate-count: '%s' is not a number from 1 to 1000000", arg);
		o->rotate_count = (uint32_t)v;
		break;
	case OPT_CLOSE_WAIT_AGE:
		ps->report_opt = ps->report_opt ?: "--close-wait-age";
		err = tt_parse_duration(arg, &o->close_wait_age_ns);
		if (err == -ERANGE)
			return bad(state, "--close-wait-age: '%s' is out of range: ten years at most", arg);
		if (err)
			return bad(state, "--close-wait-age: '%s' is not a duration: seconds, or a "
				   "number with ms, s, m, h or d (e.g. 10, 30s, 5m)", arg);
		break;
	case OPT_TW_WARN:
		ps->report_opt = ps->report_opt ?: "--tw-warn";
		if (tt_parse_num(arg, 1, 100, &v))
			return bad(state, "--tw-warn: '%s' is not a percentage from 1 to 100", arg);
		o->tw_warn_pct = (uint32_t)v;
		break;
	case OPT_QUIET_FLOWS:
		o->quiet_flows = true;
		break;
	case OPT_SYSLOG:
		o->syslog = true;
		break;
	case OPT_JOURNAL:
		o->journal = true;
		break;
	case OPT_NO_SOCK_OPS:
		ps->kernel_opt = ps->kernel_opt ?: "--no-sock-ops";
		o->no_sock_ops = true;
		break;
	case OPT_NO_SEED:
		ps->kernel_opt = ps->kernel_opt ?: "--no-seed";
		o->no_seed = true;
		break;
	case 'o':
		if (!*arg)
			return bad(state, "-o/--output: '%s' is not a file name", arg);
		/* one output: the second silently won before */
		if (o->output_given)
			return bad(state, "-o/--output: given twice (then '%s'); tcptrail writes its "
				   "lines to one place", arg);
		o->output_given = true;
		/* '-' is stdout, where output goes anyway */
		o->output_path = strcmp(arg, "-") ? arg : NULL;
		break;
	case OPT_METRICS_FILE:
		if (!*arg)
			return bad(state, "--metrics-file: '%s' is not a file name", arg);
		if (o->metrics_path)
			return bad(state, "--metrics-file: given twice (then '%s'); tcptrail writes "
				   "one file", arg);
		o->metrics_path = arg;
		break;
	case OPT_METRICS_LISTEN: {
		struct sockaddr_storage ss;
		socklen_t len;
		char why[200];

		if (metrics__parse_listen(arg, &ss, &len, why, sizeof(why)))
			return bad(state, "--metrics-listen: %s", why);
		if (o->metrics_listen)
			return bad(state, "--metrics-listen: given twice (then '%s'); tcptrail serves "
				   "one address", arg);
		o->metrics_listen = arg;
		break;
	}
	/* on-call views */
	case OPT_STATE: {
		char what[64] = "";

		err = tt_parse_states(arg, &o->states, what, sizeof(what));
		/* "close-wait,": the empty item would be named '' */
		if (err && !*what && *arg)
			return bad(state, "--state: '%s' has an empty item (between, before or after a "
				   "comma)", arg);
		if (err)
			return bad(state, "--state: '%s' is not a TCP state (e.g. close-wait, "
				   "established, time-wait, listening)", what);
		break;
	}
	case OPT_REMOTE:
	case OPT_LOCAL: {
		const char *name = key == OPT_REMOTE ? "--remote" : "--local";
		char what[64] = "", v[104];

		err = tt_parse_cidrs(arg, key == OPT_REMOTE ? o->remote : o->local,
				     key == OPT_REMOTE ? &o->n_remote : &o->n_local, TT_MAX_CIDRS,
				     what, sizeof(what));
		if (err == -E2BIG) {
			tt_err("%s: '%s': at most %d prefixes in all (see --help)",
				name, what, TT_MAX_CIDRS);
			ps->status = 2;
			return EINVAL;
		}
		/* "10.0.0.0/8,": the empty item would be named '' */
		if (err && !*what && *arg) {
			tt_err("%s: '%s' has an empty item (between, before or "
				"after a comma) (see --help)", name, shown(arg, v));
			ps->status = 2;
			return EINVAL;
		}
		if (err) {
			tt_err("%s: '%s' is not an address or CIDR prefix (e.g. "
				"10.0.0.0/8, 192.0.2.7, 2001:db8::/32) (see --help)", name, what);
			ps->status = 2;
			return EINVAL;
		}
		break;
	}
	case OPT_SNAPSHOT:
		o->snapshot = true;
		break;
	case OPT_TOP:
		o->top = true;
		break;
	case ARGP_KEY_ERROR:
		/* getopt rejected argv[state->next - 1]: remember it for the message */
		ps->err_next = state->next;
		break;
	case ARGP_KEY_END:
		/* what --probe and the views do without comes first: their reason is the one */
		err = check_views(state, o) ?: check_probe(state, o) ?: check_combinations(state, o);
		if (!err && (ps->status = tt_opts_check_system(o, ps->netns_arg)))
			return EINVAL;
		return err;
	case 'v':
		o->verbose++;
		break;
	case OPT_VERSION:
		ps->version = true;
		break;
	case 'h':
		ps->help = true;
		break;
	case ARGP_KEY_ARG:
		return bad(state, "unexpected argument '%s'", arg);
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

bool tt_opts_color(const struct tt_opts *o, bool tty)
{
	const char *no_color = getenv("NO_COLOR");

	if (o->color != TT_COLOR_AUTO)
		return o->color == TT_COLOR_ALWAYS;
	/* no-color.org: set and not empty; --color always still wins */
	return tty && !tt_term_dumb() && !o->json && !(no_color && *no_color);
}

/*
 * getopt says only that it rejected a word: unknown, ambiguous, or a value
 * missing or not wanted.  Say which, from the option table, in one line.
 */
static void say_rejected(const char *arg)
{
	const struct argp_option *exact = NULL, *one = NULL;
	char cands[512] = "", v[104];
	const char *word = shown(arg, v);
	size_t len, at = 0;
	int n = 0;

	if (word[0] == '-' && word[1] && word[1] != '-' && !word[2]) {
		for (const struct argp_option *p = options; p->name || p->key || p->doc; p++)
			if (p->key == word[1] && p->arg)
				exact = p;
		if (exact)
			tt_err("%s/--%s: needs a value (see --help)", word,
				exact->name);
		else
			tt_err("unknown option '%s' (see --help)", word);
		return;
	}
	if (strncmp(word, "--", 2) || !word[2]) {
		tt_err("unknown option or missing value: '%s' (see --help)", word);
		return;
	}
	len = strcspn(word + 2, "=");
	for (const struct argp_option *p = options; p->name || p->key || p->doc; p++) {
		if (!p->name || strncmp(p->name, word + 2, len))
			continue;
		if (strlen(p->name) == len)
			exact = p;
		one = p;
		n++;
		if (at < sizeof(cands))
			at += (size_t)snprintf(cands + at, sizeof(cands) - at, "%s--%s",
					       n > 1 ? ", " : "", p->name);
	}
	/* getopt takes an exact name over longer ones it begins */
	if (exact || n == 1) {
		const struct argp_option *p = exact ?: one;

		if (p->arg)
			tt_err("--%s: needs a value (see --help)", p->name);
		else
			tt_err("--%s: takes no value, and '%s' gives one (see "
				"--help)", p->name, word);
	} else if (n > 1) {
		tt_err("'%s' is ambiguous: %s (see --help)", word, cands);
	} else {
		tt_err("unknown option '%s' (see --help)", word);
	}
}

/* The short option key, or NULL. */
static const struct argp_option *short_opt(int key)
{
	for (const struct argp_option *p = options; p->name || p->key || p->doc; p++)
		if (p->key == key && key > 0 && key < 128 && isalnum(key))
			return p;
	return NULL;
}

/* The long option that --word names, exactly or as getopt takes a unique abbreviation; or NULL. */
static const struct argp_option *long_opt(const char *word)
{
	const struct argp_option *one = NULL;
	size_t len = strcspn(word, "=");
	int n = 0;

	for (const struct argp_option *p = options; p->name || p->key || p->doc; p++) {
		if (!p->name || strncmp(p->name, word, len))
			continue;
		if (strlen(p->name) == len)
			return p;
		one = p;
		n++;
	}
	return n == 1 ? one : NULL;
}

/* Whether argv[i] is the value of the option before it (-P 80, -o -x.log), not a word of its own. */
static bool is_value(char **argv, int i)
{
	const char *b = i > 1 ? argv[i - 1] : NULL;
	const struct argp_option *p;

	if (!b || b[0] != '-' || !b[1])
		return false;
	if (b[1] == '-')
		return b[2] && !strchr(b, '=') && (p = long_opt(b + 2)) && p->arg;
	for (const char *c = b + 1; *c; c++) {
		p = short_opt((unsigned char)*c);
		if (!p)
			return false;
		if (p->arg)
			return !c[1];
	}
	return false;
}

/*
 * Says what is wrong with a word of short options that getopt refused a
 * letter of (-eZj: 'Z'; -e=1: '=' after a flag): true when it did.  A
 * word of one unknown letter, or none refused, is left to say_rejected().
 */
static bool say_bad_letter_in(const char *a)
{
	char v[104], w[104];

	if (a[0] != '-' || !a[1] || a[1] == '-')
		return false;
	for (const char *c = a + 1; *c; c++) {
		const struct argp_option *p = short_opt((unsigned char)*c);

		if (p && p->arg)
			return false;	/* the rest of the word is its value */
		if (p)
			continue;
		if (c == a + 1 && !c[1])
			return false;
		if (c > a + 1 && *c == '=')
			tt_err("-%c takes no value, and '%s' gives one (see --help)", c[-1],
			       shown(a, v));
		else
			tt_err("unknown option '-%s' in '%s' (see --help)",
			       shown((char[]){ *c, 0 }, w), shown(a, v));
		return true;
	}
	return false;
}

/*
 * getopt refused something, and argp's state->next is past the word it
 * was in, or still at it when the refused letter was not the word's last
 * (-P 80 -eZj stops with next at -eZj): the word before next, unless it is
 * a long option or a value, else the word at next, names it.
 */
static void say_refused(int argc, char **argv, int next)
{
	const char *prev = next > 1 && next <= argc ? argv[next - 1] : NULL;

	if (prev && strncmp(prev, "--", 2) && !is_value(argv, next - 1) &&
	    say_bad_letter_in(prev))
		return;
	if (!(prev && !strncmp(prev, "--", 2)) && next >= 1 && next < argc &&
	    !is_value(argv, next) && say_bad_letter_in(argv[next]))
		return;
	say_rejected(prev ? prev : "?");
}

int tt_opts_parse(int argc, char **argv, struct tt_opts *o, bool *exit_now)
{
	struct argp argp = { .options = options, .parser = parse_opt, .doc = doc };
	struct parse_state ps = { .o = o, .exit_now = exit_now };
	int err, idx = 0;

	memset(o, 0, sizeof(*o));
	o->interval_ns = 10ull * 1000000000;
	o->ringbuf_bytes = 8ull << 20;
	o->priority_boost = 5;
	o->max_flows = 262144;
	o->close_wait_age_ns = 10ull * 1000000000;
	o->tw_warn_pct = 50;
	*exit_now = false;

	/*
	 * ARGP_NO_ERRS: argp's own messages take two lines and exit 64; ours
	 * take one line and exit 2.  ARGP_NO_HELP: --help is ours too, so that
	 * parsing never exits the process (the unit tests call this).
	 */
	err = argp_parse(&argp, argc, argv, ARGP_NO_ERRS | ARGP_NO_HELP | ARGP_NO_EXIT,
			 &idx, &ps);
	if (ps.status)
		return ps.status;
	if (err) {
		/* getopt rejected an option before our parser saw it */
		int at = ps.err_next > 0 ? ps.err_next : idx;

		say_refused(argc, argv, at);
		return 2;
	}
	if (ps.help) {
		/* argp_state_help() prints nothing under ARGP_NO_ERRS */
		argp_help(&argp, stdout, ARGP_HELP_STD_HELP, (char *)"tcptrail");
		*exit_now = true;
	} else if (ps.version) {
		printf("tcptrail %s\n", tt_version);
		*exit_now = true;
	}
	return 0;
}
