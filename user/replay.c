// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Replay: the capture is the source.  Its records are fed in file order
 * (the order the live run fed them), time is the records' time, and the
 * summary clock ticks with each record, so intervals, durations and
 * timestamps come out as they did live.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "app.h"
#include "filter.h"
#include "replay.h"
#include "util.h"

static void describe(const char *name, const struct tt_capmeta *m)
{
	time_t t = (time_t)((int64_t)(m->start_ns + (uint64_t)m->wall_offset_ns) / 1000000000);
	char when[64] = "?";
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
	tt_info("replaying %s: started %s on %s (kernel %s, tcptrail %s); hooks: %s; "
		"filters: %s", name, when, m->hostname[0] ? m->hostname : "?",
		m->kernel[0] ? m->kernel : "?", m->tool_version[0] ? m->tool_version : "?",
		m->hooks[0] ? m->hooks : "?", m->filters[0] ? m->filters : "none");
	if (m->file_index)
		tt_info("%s is rotated file %u: flows that began in the file before it show "
			"as first seen mid-life", name, m->file_index);
}

int replay__reader(struct tt_capreader *r, const struct tt_opts *o, bool color,
		   volatile sig_atomic_t *stop)
{
	uint64_t now, base_lost = 0, base_evicted = 0, evicted = 0;
	struct tt_filter *flt;
	struct tt_capmeta m;
	struct tt_caprec rec;
	bool have_base = false;
	int ret = 0, status = 0;
	struct app a;

	if (capreader__meta(r, &m)) {
		tt_err("%s", capreader__error(r));
		return 1;
	}
	describe(!o->read_path ? "capture" : strcmp(o->read_path, "-") ? o->read_path : "stdin", &m);
	flt = filter__new(o);
	if (!flt) {
		tt_err("out of memory");
		return 1;
	}
	/* app__init says what went wrong itself */
	if (app__init(&a, o, m.wall_offset_ns, color)) {
		filter__free(flt);
		return 1;
	}
	now = m.start_ns;
	app__start(&a, now);
	while (!(stop && *stop)) {
		uint64_t ts;

		ret = capreader__next(r, &rec);
		if (ret <= 0)
			break;
		if (rec.kind == TTCAP_CGROUP) {
			app__cgroup_name(&a, rec.cg->id, rec.cg->path, rec.cg->container,
					 rec.cg->runtime, rec.cg->pod);
			continue;
		}
		ts = rec.kind == TTCAP_EVENT ? rec.ev.ts_ns : rec.counters.ts_ns;
		/* records from different CPUs can be a little out of order */
		if (ts > now)
			now = ts;
		if (o->duration_ns && now - m.start_ns >= o->duration_ns)
			break;
		app__tick(&a, now);
		if (rec.kind == TTCAP_COUNTERS) {
			/* totals since the live run began; this file's share is what it lacks */
			if (!have_base) {
				base_lost = rec.counters.lost;
				base_evicted = rec.counters.evicted;
				have_base = true;
			}
			a.lost_total = rec.counters.lost > base_lost ? rec.counters.lost - base_lost : 0;
			evicted = rec.counters.evicted > base_evicted ?
				  rec.counters.evicted - base_evicted : 0;
			continue;
		}
		if (filter__pass(flt, &rec.ev))
			app__event(&a, &rec.ev);
		if (ferror_unlocked(stdout))
			break;
	}
	app__finish(&a, now);
	app__free(&a);
	filter__free(flt);
	fflush(stdout);
	/* a full disk is a failure; a reader that closed the pipe (| head) is not */
	switch (tt_stdout_failed()) {
	case 1:
		return 1;
	case -1:
		return 0;
	}
	if (evicted)
		tt_info("the capturing run evicted %" PRIu64 " flows from its flow table "
			"(its --max-flows); their records are all in the capture", evicted);
	if (ret < 0) {
		/* the output above stands; the status tells scripts it is incomplete */
		tt_err("%s", capreader__error(r));
		status = 1;
	} else if (ret == 0 && capreader__end_reason(r) == TTCAP_END_ROTATED) {
		tt_info("the capture goes on in the next rotated file (.%u)", m.file_index + 1);
	}
	return status;
}

int replay__run(const struct tt_opts *o, bool color, volatile sig_atomic_t *stop)
{
	struct tt_capreader *r = capreader__new(o->read_path);
	int status;

	if (!r) {
		tt_err("read %s: %s", o->read_path, strerror(ENOMEM));
		return 1;
	}
	status = replay__reader(r, o, color, stop);
	capreader__free(r);
	return status;
}
