#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# TIME-WAIT population under -i 1: 200 connections that the client closes
# first, to three destinations from two local addresses.  At a summary the
# time_wait report's population and top endpoints equal what the kernel has
# (ttdrive's own count from /proc/net/tcp, and ss on the host), and the
# closer is the client.
# shellcheck source=tests/kernel/lib.sh
. "${0%/*}/lib.sh"

check_tw_population tw-load client
pass
