// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The /proc/net/snmp and netstat parser behind the exit check against the
 * namespace's own counters, on hand-written text (lies included) and on
 * this host's files.
 */
#include <errno.h>
#include <stdint.h>
#include "kcount.h"
#include "tt_test.h"

static const char snmp[] =
	"Ip: Forwarding DefaultTTL InReceives\n"
	"Ip: 1 64 12345\n"
	"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails\n"
	"Tcp: 1 200 120000 -1 4242 17 3\n"
	"Udp: InDatagrams NoPorts\n"
	"Udp: 5 6\n";

static const char netstat[] =
	"TcpExt: SyncookiesSent TW TWRecycled TWKilled\n"
	"TcpExt: 0 900 1 12\n"
	"IpExt: InNoRoutes\n"
	"IpExt: 0\n";

TEST(kcount_parse)
{
	static const char *const tcp[] = { "ActiveOpens", "PassiveOpens" };
	static const char *const ext[] = { "TW", "TWKilled" };
	static const char *const maxconn[] = { "MaxConn" };
	static const char *const nosuch[] = { "ActiveOpens", "Nope" };
	uint64_t v[2] = { 0, 0 };

	CHECK_EQ_INT(kcount__parse(snmp, "Tcp", tcp, v, 2), 0);
	CHECK_EQ_INT(v[0], 4242);
	CHECK_EQ_INT(v[1], 17);
	CHECK_EQ_INT(kcount__parse(netstat, "TcpExt", ext, v, 2), 0);
	CHECK_EQ_INT(v[0], 900);
	CHECK_EQ_INT(v[1], 12);
	/* "Tcp" is not "TcpExt", nor the other way round */
	CHECK_EQ_INT(kcount__parse(netstat, "Tcp", tcp, v, 2), -ENOENT);
	CHECK_EQ_INT(kcount__parse(snmp, "TcpExt", ext, v, 2), -ENOENT);
	/* a counter is never negative: -1 is no counter of ours */
	CHECK_EQ_INT(kcount__parse(snmp, "Tcp", maxconn, v, 1), -EINVAL);
	CHECK_EQ_INT(kcount__parse(snmp, "Tcp", nosuch, v, 2), -ENOENT);
}

TEST(kcount_parse_lies)
{
	static const char *const tcp[] = { "ActiveOpens" };
	uint64_t v[1];

	/* names without values, values without names, a header at the end */
	CHECK_EQ_INT(kcount__parse("Tcp: ActiveOpens PassiveOpens\nTcp: 1\n", "Tcp", tcp, v, 1),
		     -EINVAL);
	CHECK_EQ_INT(kcount__parse("Tcp: ActiveOpens\nTcp: 1 2\n", "Tcp", tcp, v, 1), -EINVAL);
	CHECK_EQ_INT(kcount__parse("Tcp: ActiveOpens", "Tcp", tcp, v, 1), -EINVAL);
	CHECK_EQ_INT(kcount__parse("Tcp: ActiveOpens\nUdp: 1\n", "Tcp", tcp, v, 1), -EINVAL);
	CHECK_EQ_INT(kcount__parse("Tcp: ActiveOpens\nTcp: 12x\n", "Tcp", tcp, v, 1), -EINVAL);
	CHECK_EQ_INT(kcount__parse("Tcp: ActiveOpens\nTcp: 99999999999999999999999\n", "Tcp",
				   tcp, v, 1), -EINVAL);
	CHECK_EQ_INT(kcount__parse("", "Tcp", tcp, v, 1), -ENOENT);
	CHECK_EQ_INT(kcount__parse("Tcp: ActiveOpens\nTcp: 7", "Tcp", tcp, v, 1), 0);
	CHECK_EQ_INT(v[0], 7);
}

/* This host's own files parse, whatever their counts. */
TEST(kcount_read_host)
{
	struct tt_kcounts a, b;

	CHECK_EQ_INT(kcount__read(&a), 0);
	CHECK_EQ_INT(kcount__read(&b), 0);
	CHECK(b.active_opens >= a.active_opens);
	CHECK(b.time_wait >= a.time_wait);
}

TEST(kcount_tw_counted_at_expiry_before_5_18)
{
	CHECK(kcount__tw_at_expiry("5.10.0-46-cloud-amd64"));
	CHECK(kcount__tw_at_expiry("5.17.15"));
	CHECK(kcount__tw_at_expiry("4.19.0"));
	CHECK(!kcount__tw_at_expiry("5.18.0"));
	CHECK(!kcount__tw_at_expiry("6.1.0-57-cloud-amd64"));
	CHECK(!kcount__tw_at_expiry("6.18.44-fc-v1294"));
	CHECK(!kcount__tw_at_expiry("10.0"));
	/* nothing to go by: taken as new */
	CHECK(!kcount__tw_at_expiry(""));
	CHECK(!kcount__tw_at_expiry("linux"));
}
