// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include "modes.h"
#include "tt_test.h"

/* A fake kernel: the hooks named in `down` fail to load. */
struct fake {
	const char *down[8];
	int tried;
};

static int fake_probe(const struct tt_variant *v, void *ctx, char *why, size_t len)
{
	struct fake *f = ctx;

	f->tried++;
	for (int i = 0; f->down[i]; i++) {
		if (!strcmp(f->down[i], v->name) || !strcmp(f->down[i], tt_kind_name(v->kind))) {
			snprintf(why, len, "load: Operation not permitted");
			return -EPERM;
		}
	}
	return 0;
}

static const char *chosen(const struct tt_selection *s, enum tt_cap cap)
{
	return s->chosen[cap] < 0 ? "none" : tt_variants[s->chosen[cap]].name;
}

TEST(modes_auto_prefers_tp_btf)
{
	struct fake f = {};
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "tp_btf/inet_sock_set_state");
	CHECK_STR(chosen(&s, TT_CAP_OWNER), "fexit/inet_accept");
	CHECK_STR(chosen(&s, TT_CAP_TIME_WAIT), "fentry/tcp_time_wait + fexit/inet_twsk_alloc");
	CHECK(strstr(chosen(&s, TT_CAP_OVERFLOW), "fentry/tcp_conn_request") != NULL);
	CHECK(strstr(chosen(&s, TT_CAP_RETRANS), "tp_btf/") != NULL);
	/* one probe per capability: nothing below a winner is tried */
	CHECK_EQ_INT(f.tried, TT_CAP_MAX);
}

TEST(modes_probe_all_tries_everything_and_chooses_the_same)
{
	struct fake f = {};
	struct tt_selection s;
	int programs = 0;

	for (size_t i = 0; i < tt_n_variants; i++)
		programs += tt_variants[i].kind != TT_KIND_RULE;
	tt_select(TT_ATTACH_AUTO, true, fake_probe, &f, &s);
	CHECK_EQ_INT(f.tried, programs);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "tp_btf/inet_sock_set_state");
	CHECK_STR(chosen(&s, TT_CAP_TIME_WAIT), "fentry/tcp_time_wait + fexit/inet_twsk_alloc");
	for (size_t i = 0; i < tt_n_variants; i++)
		CHECK_EQ_INT(s.result[i], 0);
}

/* This kernel: no fentry, no kprobes. */
TEST(modes_tracepoint_only_kernel)
{
	struct fake f = { .down = { "fentry", "kprobe" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "tp_btf/inet_sock_set_state");
	CHECK(strncmp(chosen(&s, TT_CAP_TIME_WAIT), "rule", 4) == 0);
	CHECK(strncmp(chosen(&s, TT_CAP_OVERFLOW), "cgroup_skb", 10) == 0);
}

TEST(modes_time_wait_fallback_order)
{
	static const struct { const char *down[6]; const char *want; } cases[] = {
		{ { "fentry/tcp_time_wait + fexit/inet_twsk_alloc" }, "kprobe/tcp_time_wait" },
		{ { "fentry/tcp_time_wait + fexit/inet_twsk_alloc",
		    "kprobe/tcp_time_wait + kretprobe/inet_twsk_alloc" }, "rule" },
		/* the rule lives in the transitions program */
		{ { "fentry", "kprobe", "tp_btf", "tracepoint" }, "none" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f = {};
		struct tt_selection s;

		memcpy(f.down, cases[i].down, sizeof(cases[i].down));
		tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
		CHECK(strncmp(chosen(&s, TT_CAP_TIME_WAIT), cases[i].want, strlen(cases[i].want)) == 0);
	}
}

TEST(modes_overflow_fallback_order)
{
	struct fake f = { .down = { "fentry" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK(strncmp(chosen(&s, TT_CAP_OVERFLOW), "kprobe/tcp_conn_request", 23) == 0);
	f = (struct fake){ .down = { "fentry", "kprobe", "cgroup_skb" } };
	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_OVERFLOW), "none");
}

TEST(modes_forced_tracepoint_uses_rule_and_cgroup)
{
	struct fake f = {};
	struct tt_selection s;

	tt_select(TT_ATTACH_TRACEPOINT, false, fake_probe, &f, &s);
	CHECK(strncmp(chosen(&s, TT_CAP_TIME_WAIT), "rule", 4) == 0);
	CHECK(strncmp(chosen(&s, TT_CAP_OVERFLOW), "cgroup_skb", 10) == 0);
	CHECK(strncmp(chosen(&s, TT_CAP_RETRANS), "tracepoint/", 11) == 0);
	CHECK(!s.forced_fallback[TT_CAP_TIME_WAIT]);
}

/* Each hook reported unavailable in turn: the next best is taken. */
TEST(modes_fallback_order_for_transitions)
{
	static const struct { const char *down[4]; const char *want; } cases[] = {
		{ { "tp_btf" }, "tracepoint/sock/inet_sock_set_state" },
		{ { "tp_btf", "tracepoint" }, "fentry/inet_sk_state_store + fentry/inet_sk_set_state" },
		{ { "tp_btf", "tracepoint", "fentry" }, "kprobe/inet_sk_state_store + kprobe/inet_sk_set_state" },
		{ { "tp_btf", "tracepoint", "fentry", "kprobe" }, "none" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f = {};
		struct tt_selection s;

		memcpy(f.down, cases[i].down, sizeof(cases[i].down));
		tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
		CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), cases[i].want);
	}
}

TEST(modes_reasons_are_kept)
{
	struct fake f = { .down = { "tp_btf" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_EQ_INT(s.result[0], -EPERM);
	CHECK(strstr(s.why[0], "not permitted") != NULL);
	CHECK_EQ_INT(s.result[1], 0);
	CHECK_EQ_INT(s.result[2], 1);	/* never tried */
}

TEST(modes_forced_kind_first)
{
	struct fake f = {};
	struct tt_selection s;

	tt_select(TT_ATTACH_KPROBE, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "kprobe/inet_sk_state_store + kprobe/inet_sk_set_state");
	CHECK(!s.forced_fallback[TT_CAP_TRANSITIONS]);
	CHECK_STR(chosen(&s, TT_CAP_OWNER), "kprobe/security_sock_graft");
	CHECK(!s.forced_fallback[TT_CAP_OWNER]);

	tt_select(TT_ATTACH_TRACEPOINT, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "tracepoint/sock/inet_sock_set_state");
}

TEST(modes_forced_kind_unavailable_falls_back_and_says_so)
{
	struct fake f = { .down = { "fentry" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_FENTRY, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "tp_btf/inet_sock_set_state");
	CHECK(s.forced_fallback[TT_CAP_TRANSITIONS]);
}

TEST(modes_owner_unavailable)
{
	struct fake f = { .down = { "tracepoint", "fentry", "kprobe" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "tp_btf/inet_sock_set_state");
	CHECK_STR(chosen(&s, TT_CAP_OWNER), "none");
}

/* No fentry: the graft's kprobe, which costs only accepts, before the syscall tracepoints */
TEST(modes_owner_without_fentry_takes_the_kprobe)
{
	struct fake f = { .down = { "fentry" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_OWNER), "kprobe/security_sock_graft");
	CHECK(!s.forced_fallback[TT_CAP_OWNER]);
}

/* Neither fentry nor kprobes (as on this project's own VMs): the accept's syscall tracepoints */
TEST(modes_owner_without_fentry_or_kprobes_takes_the_syscall_tracepoints)
{
	struct fake f = { .down = { "fentry", "kprobe" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_OWNER), "tracepoint/syscalls/sys_exit_accept{,4}");
	CHECK(!s.forced_fallback[TT_CAP_OWNER]);
}

TEST(modes_table_is_consistent)
{
	REQUIRE(tt_n_variants <= 32);
	for (size_t i = 0; i < tt_n_variants; i++) {
		CHECK(tt_variants[i].cap < TT_CAP_MAX);
		/* only the rule has no program of its own */
		CHECK((tt_variants[i].progs[0] != NULL) == (tt_variants[i].kind != TT_KIND_RULE));
		CHECK(tt_variants[i].hook_id > TT_HOOK_NONE && tt_variants[i].hook_id < TT_HOOK_MAX);
	}
	for (int cap = 0; cap < TT_CAP_MAX; cap++) {
		int n = 0;

		for (size_t i = 0; i < tt_n_variants; i++)
			n += (int)tt_variants[i].cap == cap;
		CHECK(n > 0);
	}
}

/* sock_ops has one kind, which every forced mode keeps. */
TEST(modes_sock_ops_goes_with_every_mode)
{
	static const enum tt_attach_mode modes[] = {
		TT_ATTACH_AUTO, TT_ATTACH_FENTRY, TT_ATTACH_KPROBE, TT_ATTACH_TP_BTF,
		TT_ATTACH_TRACEPOINT,
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct fake f = {};
		struct tt_selection s;

		tt_select(modes[i], false, fake_probe, &f, &s);
		CHECK_STR(chosen(&s, TT_CAP_SOCK_OPS), "sockops/STATE_CB on the cgroup v2 root");
		CHECK(!s.forced_fallback[TT_CAP_SOCK_OPS]);
	}
}

/* It takes transitions over from the transitions hook, so it needs one. */
TEST(modes_sock_ops_needs_a_transitions_hook)
{
	struct fake f = { .down = { "tp_btf", "tracepoint", "fentry", "kprobe" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, true, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "none");
	CHECK_STR(chosen(&s, TT_CAP_SOCK_OPS), "none");
	for (size_t i = 0; i < tt_n_variants; i++) {
		if (tt_variants[i].cap != TT_CAP_SOCK_OPS)
			continue;
		CHECK_EQ_INT(s.result[i], -ENOENT);
		CHECK(strstr(s.why[i], "needs a transitions hook") != NULL);
	}
}

TEST(modes_sock_ops_unavailable_leaves_transitions_alone)
{
	struct fake f = { .down = { "sockops" } };
	struct tt_selection s;

	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_STR(chosen(&s, TT_CAP_TRANSITIONS), "tp_btf/inet_sock_set_state");
	CHECK_STR(chosen(&s, TT_CAP_SOCK_OPS), "none");
}

/*
 * -v's "records by hook": the SYN-ACK retransmit and reset hooks run three
 * programs under one id, each writing its own record type; a count is named
 * after the program that wrote it, so an RST storm is not SYN-ACK
 * retransmits.  Other ids are named after their first program, all types
 * together.
 */
TEST(modes_hook_counts_name_each_program_of_a_shared_id)
{
	static uint64_t by[TT_HOOK_MAX + 1][TT_EV_MAX + 1];
	struct fake f = {};
	struct tt_selection s;
	char line[512];

	for (size_t i = 0; i < tt_n_variants; i++) {
		const struct tt_variant *v = &tt_variants[i];

		if (v->cap != TT_CAP_RETRANS)
			continue;
		CHECK(strstr(tt_variant_prog(v, TT_EV_SYNACK_RETRANS), "retransmit_synack") != NULL);
		CHECK(strstr(tt_variant_prog(v, TT_EV_RESET_SENT), "send_reset") != NULL);
		CHECK(strstr(tt_variant_prog(v, TT_EV_RESET_RECV), "receive_reset") != NULL);
	}
	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	CHECK_EQ_INT(tt_hook_counts(line, sizeof(line), &s, by), 0);
	CHECK_STR(line, "");
	by[TT_HOOK_TP_RETRANS][TT_EV_RESET_SENT] = 12;
	by[TT_HOOK_TP_RETRANS][TT_EV_RESET_RECV] = 8;
	by[TT_HOOK_TP_BTF_SET_STATE][TT_EV_TRANSITION] = 3;
	by[TT_HOOK_TP_BTF_SET_STATE][TT_EV_TIME_WAIT] = 1;
	by[TT_HOOK_TP_BTF_SET_STATE][TT_EV_FLOW] = 2;
	by[TT_HOOK_MAX][TT_EV_MAX] = 1;
	tt_hook_counts(line, sizeof(line), &s, by);
	CHECK_STR(line, " tp_btf_set_state=6 tp_btf_send_reset=12 tp_btf_receive_reset=8 unknown=1");
	/* the tracepoint variant writes the same id: its own names */
	f = (struct fake){ .down = { "tp_btf" } };
	tt_select(TT_ATTACH_AUTO, false, fake_probe, &f, &s);
	by[TT_HOOK_TRACEPOINT_RETRANS][TT_EV_SYNACK_RETRANS] = 2;
	tt_hook_counts(line, sizeof(line), &s, by);
	CHECK(strstr(line, " tp_retransmit_synack=2 tp_send_reset=12 tp_receive_reset=8 ") != NULL);
	/* a short buffer is cut, never overrun */
	CHECK_EQ_INT(tt_hook_counts(line, 10, &s, by), 9);
	CHECK_EQ_INT(strlen(line), 9);
}
