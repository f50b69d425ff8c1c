// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Replay's filters make the kernel's decisions (bpf/tcptrail.bpf.h). */
#include "engine.h"
#include "filter.h"
#include "tt_test.h"
/* every record in netns 7; the addresses do not matter here */
#define REC_BASE { .family = TT_AF_INET, .netns = 7 }
#include "records.h"

TEST(filter_ports_family_netns)
{
	struct tt_opts o = { .n_ports = 1, .ports = { 80 } };
	struct tt_filter *f = filter__new(&o);
	struct tt_event e = rec_by(rec_ports(rec_tr(1, TT_CLOSE, TT_SYN_SENT, 0), 0, 80), 9, "");

	REQUIRE(f);
	CHECK(filter__pass(f, &e));
	e.dport = 81;
	CHECK(!filter__pass(f, &e));
	e.sport = 80;
	CHECK(filter__pass(f, &e));
	filter__free(f);

	o = (struct tt_opts){ .n_lports = 1, .lports = { 80 }, .family = TT_AF_INET6 };
	f = filter__new(&o);
	e = rec_ports(rec_tr(2, TT_LISTEN, TT_SYN_RECV, 0), 80, 5000);
	CHECK(!filter__pass(f, &e));		/* IPv4 */
	e.family = TT_AF_INET6;
	CHECK(filter__pass(f, &e));
	e.sport = 0;				/* the active opener's birth: no port yet */
	CHECK(!filter__pass(f, &e));
	filter__free(f);

	o = (struct tt_opts){ .netns = 7, .n_rports = 2, .rports = { 53, 853 } };
	f = filter__new(&o);
	e = rec_ports(rec_tr(3, TT_CLOSE, TT_SYN_SENT, 0), 0, 853);
	CHECK(filter__pass(f, &e));
	e.netns = 8;
	CHECK(!filter__pass(f, &e));
	filter__free(f);
}

TEST(filter_pid_follows_ownership)
{
	struct tt_opts o = { .pid = 100 };
	struct tt_filter *f = filter__new(&o);
	struct tt_event e;

	REQUIRE(f);
	/* someone else's connection: dropped throughout */
	e = rec_by(rec_ports(rec_tr(0xa, TT_CLOSE, TT_SYN_SENT, 0), 0, 80), 200, "");
	CHECK(!filter__pass(f, &e));
	e = rec_ports(rec_tr(0xa, TT_SYN_SENT, TT_ESTABLISHED, 0), 4000, 80);
	CHECK(!filter__pass(f, &e));

	/* ours: kept from connect(), including softirq transitions, until CLOSE */
	e = rec_by(rec_ports(rec_tr(0xb, TT_CLOSE, TT_SYN_SENT, 0), 0, 80), 100, "");
	CHECK(filter__pass(f, &e));
	e = rec_in(rec_ports(rec_tr(0xb, TT_SYN_SENT, TT_ESTABLISHED, 0), 4001, 80), 555, "");
	CHECK(filter__pass(f, &e));
	e = rec_in(rec_ports(rec_tr(0xb, TT_ESTABLISHED, TT_CLOSE, 0), 4001, 80), 555, "");
	CHECK(filter__pass(f, &e));
	e = rec_by(rec_ports(rec_tr(0xb, TT_CLOSE, TT_SYN_SENT, 0), 0, 80), 555,
			"");	/* the sk reused by another */
	CHECK(!filter__pass(f, &e));

	/* our listener: its children are ours from birth, softirq or not */
	e = rec_by(rec_ports(rec_tr(0xc, TT_CLOSE, TT_LISTEN, 0), 8080, 0), 100, "");
	CHECK(filter__pass(f, &e));
	e = rec_ports(rec_tr(0xd, TT_LISTEN, TT_SYN_RECV, 0), 8080, 5000);
	CHECK(filter__pass(f, &e));
	e = rec_ports(rec_tr(0xd, TT_SYN_RECV, TT_ESTABLISHED, 0), 8080, 5000);
	CHECK(filter__pass(f, &e));
	e = rec_ports(rec_tr(0xe, TT_LISTEN, TT_SYN_RECV, 0), 9090, 5000);	/* not our port */
	CHECK(!filter__pass(f, &e));

	/* accept() by us marks the socket; by others, not */
	e = (struct tt_event){ .type = TT_EV_ACCEPT, .family = TT_AF_INET, .sk = 0xe, .tgid = 100,
			       .flags = TT_F_OWNER, .sport = 9090 };
	CHECK(filter__pass(f, &e));
	e = rec_ports(rec_tr(0xe, TT_ESTABLISHED, TT_CLOSE_WAIT, 0), 9090, 5000);
	CHECK(filter__pass(f, &e));

	/* TIME-WAIT of ours is kept, and ends the ownership */
	e = (struct tt_event){ .type = TT_EV_TIME_WAIT, .family = TT_AF_INET, .sk = 0xd,
			       .old_state = TT_FIN_WAIT2, .new_state = TT_TIME_WAIT };
	CHECK(filter__pass(f, &e));
	CHECK(!filter__pass(f, &e));

	/* overflows are never filtered by pid */
	e = (struct tt_event){ .type = TT_EV_OVERFLOW, .family = TT_AF_INET, .sk = 0x99 };
	CHECK(filter__pass(f, &e));
	filter__free(f);
}

/*
 * A reset a socket of ours sends just after its > CLOSE (data after
 * close(), a close() with data unread) is ours: it tells an abort from a
 * TIME-WAIT entry.  The kernel keeps the last such socket per CPU.
 */
TEST(filter_pid_reset_after_close)
{
	struct tt_opts o = { .pid = 100 };
	struct tt_filter *f = filter__new(&o);
	struct tt_event e, rst = { .type = TT_EV_RESET_SENT, .family = TT_AF_INET, .sk = 0xb,
				   .cpu = 1 };

	REQUIRE(f);
	e = rec_by(rec_ports(rec_tr(0xb, TT_CLOSE, TT_SYN_SENT, 0), 0, 80), 100, "");
	CHECK(filter__pass(f, &e));
	e = rec_ports(rec_tr(0xb, TT_FIN_WAIT2, TT_CLOSE, 0), 4001, 80);
	e.cpu = 1;
	CHECK(filter__pass(f, &e));
	CHECK(filter__pass(f, &rst));
	rst.cpu = 0;				/* another CPU's reset */
	CHECK(!filter__pass(f, &rst));
	rst.cpu = 1;
	rst.sk = 0xc;				/* no socket of ours */
	CHECK(!filter__pass(f, &rst));

	/* the rule's TIME-WAIT entry in place of the > CLOSE: the same */
	e = rec_by(rec_ports(rec_tr(0xd, TT_CLOSE, TT_SYN_SENT, 0), 0, 80), 100, "");
	CHECK(filter__pass(f, &e));
	e = (struct tt_event){ .type = TT_EV_TIME_WAIT, .family = TT_AF_INET, .sk = 0xd, .cpu = 1,
			       .old_state = TT_FIN_WAIT2, .new_state = TT_TIME_WAIT };
	CHECK(filter__pass(f, &e));
	rst.sk = 0xd;
	CHECK(filter__pass(f, &rst));
	/* a later close on that CPU: 0xd's reset would have come before it */
	rst.sk = 0xb;
	CHECK(!filter__pass(f, &rst));
	filter__free(f);
}

/* An ESTABLISHED socket of pid the seed found, filed under its tuple's pseudo key */
static struct tt_event seed_of_pid(uint32_t pid, uint16_t sport, uint16_t dport)
{
	struct tt_event s = rec_by(rec_ports(rec(TT_EV_SEED, 0, 0, 0, 0), sport, dport), pid, "");

	s.new_state = TT_ESTABLISHED;
	s.sk = engine__pseudo_sk(&s);
	return s;
}

/*
 * As owned_sk() and accept_record() do in BPF: the process's sockets the
 * seed found are known by tuple until their first record, and an accept of
 * a socket that was not the process's marks it adopted.
 */
TEST(filter_pid_seeded_and_adopted)
{
	struct tt_opts o = { .pid = 100 };
	struct tt_filter *f = filter__new(&o);
	struct tt_event e, s;

	REQUIRE(f);
	/* a seeded connection of ours: its peer's FIN, in softirq, is kept */
	s = seed_of_pid(100, 8080, 5000);
	CHECK(filter__pass(f, &s));
	e = rec_in(rec_ports(rec_tr(0x10, TT_ESTABLISHED, TT_CLOSE_WAIT, 0), 8080, 5000), 555, "");
	CHECK(filter__pass(f, &e));
	/* filed by sk from then on; another tuple is not ours */
	e = rec_in(rec_ports(rec_tr(0x10, TT_CLOSE_WAIT, TT_LAST_ACK, 0), 8080, 5000), 555, "");
	CHECK(filter__pass(f, &e));
	e = rec_in(rec_ports(rec_tr(0x11, TT_ESTABLISHED, TT_CLOSE_WAIT, 0), 8080, 5001), 555, "");
	CHECK(!filter__pass(f, &e));
	/* one PID closes itself, never looked up by tuple: its tuple is not PID's after */
	s = seed_of_pid(100, 8080, 5002);
	CHECK(filter__pass(f, &s));
	e = rec_by(rec_ports(rec_tr(0x15, TT_ESTABLISHED, TT_FIN_WAIT1, 0), 8080, 5002), 100, "");
	CHECK(filter__pass(f, &e));
	e = rec_in(rec_ports(rec_tr(0x15, TT_FIN_WAIT1, TT_CLOSE, 0), 8080, 5002), 555, "");
	CHECK(filter__pass(f, &e));
	e = rec_in(rec_ports(rec_tr(0x16, TT_SYN_RECV, TT_ESTABLISHED, 0), 8080, 5002), 555, "");
	CHECK(!filter__pass(f, &e));

	/* accepted by us from another's listener: adopted; our child from birth: not */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x12, 0, 0, 0), 9090, 6000), 100, "");
	e.new_state = TT_CLOSE_WAIT;
	CHECK(filter__pass(f, &e));
	CHECK(e.flags & TT_F_ADOPTED);
	e = rec_by(rec_ports(rec_tr(0x13, TT_CLOSE, TT_LISTEN, 0), 7070, 0), 100, "");
	CHECK(filter__pass(f, &e));
	e = rec_ports(rec_tr(0x14, TT_LISTEN, TT_SYN_RECV, 0), 7070, 6001);
	CHECK(filter__pass(f, &e));
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x14, 0, 0, 0), 7070, 6001), 100, "");
	CHECK(filter__pass(f, &e));
	CHECK(!(e.flags & TT_F_ADOPTED));
	/* our listener's child another process accepted: told, as not ours, and dropped after */
	e = rec_ports(rec_tr(0x17, TT_LISTEN, TT_SYN_RECV, 0), 7070, 6002);
	CHECK(filter__pass(f, &e));
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x17, 0, 0, 0), 7070, 6002), 101, "");
	CHECK(filter__pass(f, &e));
	CHECK(e.flags & TT_F_DISOWNED);
	e = rec_in(rec_ports(rec_tr(0x17, TT_ESTABLISHED, TT_CLOSE_WAIT, 0), 7070, 6002), 555, "");
	CHECK(!filter__pass(f, &e));
	/* another's accept of a socket not ours (nor of our listener): not told */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x18, 0, 0, 0), 7071, 6003), 101, "");
	CHECK(!filter__pass(f, &e));
	filter__free(f);
}

/* A flow record of sk: LISTEN > SYN_RECV > ESTABLISHED > CLOSE_WAIT > LAST_ACK > CLOSE. */
static struct tt_flowrec passive_rec(uint64_t sk, uint16_t sport, uint16_t dport)
{
	static const uint8_t st[] = { TT_LISTEN, TT_SYN_RECV, TT_ESTABLISHED, TT_CLOSE_WAIT,
				      TT_LAST_ACK, TT_CLOSE };
	struct tt_flowrec r = { .type = TT_EV_FLOW, .family = TT_AF_INET, .netns = 7, .sk = sk,
				.sport = sport, .dport = dport, .n = 5,
				.flags = TT_FR_END | TT_FR_BORN };

	for (unsigned int i = 0; i < 5; i++) {
		r.old_state[i] = st[i];
		r.new_state[i] = st[i + 1];
		r.ts_ns[i] = 1000 * (i + 1);	/* 1000 .. 5000 */
	}
	return r;
}

/*
 * One record a connection, sent at its end, comes after the accept: the
 * accept decides alone.  A child of our listener accepted by us is ours
 * from birth, not adopted (its flow was printed twice, once "superseded");
 * one accepted by another process is told as not ours.  A socket we
 * adopted keeps only what came after the accept, as a live run's record.
 */
TEST(filter_pid_accept_before_the_flow_record)
{
	struct tt_opts o = { .pid = 100 };
	struct tt_filter *f = filter__new(&o);
	struct tt_flowrec r;
	struct tt_event e;

	REQUIRE(f);
	e = rec_by(rec_ports(rec_tr(0x20, TT_CLOSE, TT_LISTEN, 500), 7070, 0), 100, "");
	CHECK(filter__pass(f, &e));
	/* ours, accepted at 2500 */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x21, 0, 0, 2500), 7070, 6001), 100, "");
	CHECK(filter__pass(f, &e));
	CHECK(!(e.flags & TT_F_ADOPTED));
	r = passive_rec(0x21, 7070, 6001);
	CHECK(filter__pass_flow(f, &r));
	CHECK_EQ_INT(r.n, 5);
	CHECK_EQ_INT(r.old_state[0], TT_LISTEN);
	/* another process's accept of our listener's child */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x22, 0, 0, 2500), 7070, 6002), 101, "");
	CHECK(filter__pass(f, &e));
	CHECK(e.flags & TT_F_DISOWNED);
	/*
	 * its record, sent at its end, holds the birth that made it ours: the
	 * kernel side sent none (a pre-fork server's every worker connection
	 * showed up under -p of the master)
	 */
	r = passive_rec(0x22, 7070, 6002);
	CHECK(!filter__pass_flow(f, &r));
	/* the address again, at once: another socket of our listener, ours */
	r = passive_rec(0x22, 7070, 6005);
	CHECK(filter__pass_flow(f, &r));

	/* adopted at 2500 from another's listener: the record from ESTABLISHED > CLOSE_WAIT on */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x23, 0, 0, 2500), 9090, 6003), 100, "");
	CHECK(filter__pass(f, &e));
	CHECK(e.flags & TT_F_ADOPTED);
	r = passive_rec(0x23, 9090, 6003);
	CHECK(filter__pass_flow(f, &r));
	CHECK_EQ_INT(r.n, 3);
	CHECK_EQ_INT(r.old_state[0], TT_ESTABLISHED);
	CHECK_EQ_INT(r.new_state[2], TT_CLOSE);
	CHECK(r.ts_ns[0] == 3000);
	CHECK(!(r.flags & TT_FR_BORN));
	/* the address again, a socket of someone else's: not ours, nothing trimmed */
	r = passive_rec(0x23, 9090, 6004);
	CHECK(!filter__pass_flow(f, &r));
	CHECK_EQ_INT(r.n, 5);
	filter__free(f);
}

/*
 * The kernel side judges a child at its birth: one of our listener's born
 * before the listener closed is ours, though its record, sent at its end,
 * comes after the listener's close (children never accepted, reset as
 * their listener closed, were missing from a replay with -p).
 */
TEST(filter_pid_children_of_a_closed_listener)
{
	struct tt_opts o = { .pid = 100 };
	struct tt_filter *f = filter__new(&o);
	struct tt_flowrec r;
	struct tt_event e;

	REQUIRE(f);
	e = rec_by(rec_ports(rec_tr(0x30, TT_CLOSE, TT_LISTEN, 500), 7070, 0), 100, "");
	CHECK(filter__pass(f, &e));
	e = rec_by(rec_ports(rec_tr(0x30, TT_LISTEN, TT_CLOSE, 6000), 7070, 0), 100, "");
	CHECK(filter__pass(f, &e));
	/* born at 1000, before the close */
	r = passive_rec(0x31, 7070, 6001);
	CHECK(filter__pass_flow(f, &r));
	/* one born after the close is another listener's */
	r = passive_rec(0x32, 7070, 6002);
	for (unsigned int i = 0; i < r.n; i++)
		r.ts_ns[i] += 10000;
	CHECK(!filter__pass_flow(f, &r));
	/* and the port's next listener, someone else's, is not ours */
	e = rec_by(rec_ports(rec(TT_EV_ACCEPT, 0x33, 0, 0, 20000), 7070, 6003), 101, "");
	CHECK(!filter__pass(f, &e));
	filter__free(f);
}

TEST(filter_describe)
{
	struct tt_opts o = { .family = TT_AF_INET6, .pid = 42, .netns = 4026531840u,
			     .n_ports = 2, .ports = { 80, 443 }, .n_rports = 1, .rports = { 53 } };
	char buf[256];

	filter__describe(&o, buf, sizeof(buf));
	CHECK_STR(buf, "family=ipv6 pid=42 netns=4026531840 ports=80,443 rports=53");
	o = (struct tt_opts){ 0 };
	filter__describe(&o, buf, sizeof(buf));
	CHECK_STR(buf, "");
	o.n_lports = 1;
	o.lports[0] = 5432;
	filter__describe(&o, buf, 8);		/* cut short, still terminated */
	CHECK_STR(buf, "lports=");
}
