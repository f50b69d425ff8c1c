# What tracing adds, by cause: `perf script -F comm,ip,sym` of a perf
# record -a -g run in, "share<TAB>cause" lines out, share in percent of all
# samples.  A sample goes to the first cause found walking its stack from
# the leaf up, so storage made inside a program counts as storage, not as
# that program.  Storage freed later by an RCU callback (kfree_rcu) is in
# no cause: its frames do not say whose it was.  A syscall tracepoint sends
# every syscall of every task down the slow path in and out, which counts
# with the accept's.  The daemon is its own
# threads' samples, less the softirqs that ran on them (the traffic's).
# Storage made and freed also give, as "share<TAB>cause<TAB>part" lines, the
# part of them in the memory cgroup's charge and uncharge (the map is
# charged to the memory cgroup tcptrail runs in).
function flush(    i, j, s, c, irq) {
	if (!have)
		return
	n++
	c = ""
	for (i = 1; i <= nf && c == ""; i++) {
		s = fr[i]
		if (s == "bpf_local_storage_update")
			c = "socket storage made (a socket's first transition)"
		else if (s == "bpf_sk_storage_free")
			c = "socket storage freed with the socket"
		else if (s == "__cgroup_bpf_run_filter_sock_ops")
			c = "sock_ops runs, all but the storage they make"
		else if (s ~ /^bpf_trace_run[0-9]+$/)
			c = "tp_btf runs, all but the storage they make"
		else if (s == "__cgroup_bpf_run_filter_skb")
			c = "cgroup_skb runs"
		else if (s == "trace_call_bpf" || s == "perf_trace_run_bpf_submit" ||
			 s == "syscall_exit_work" || s == "syscall_trace_enter")
			c = "the accept's syscall tracepoint: its runs, every syscall's slow path"
		else if (s == "handle_softirqs" || s == "__do_softirq")
			irq = 1
	}
	if (c == "" && !irq && comm ~ /^tcptrail/)
		c = "the daemon"
	if (c != "")
		cnt[c]++
	# the storage's: the memory cgroup's charge or uncharge, below its cause's frame
	if (c ~ /^socket storage/)
		for (j = 1; j < i - 1; j++)
			if (fr[j] ~ MEMCG) {
				memcg[c]++
				break
			}
	have = 0
	nf = 0
}
/^$/ { flush(); next }
/^\t/ { nf++; fr[nf] = $2; next }
{ flush(); comm = $1; have = 1 }
BEGIN {
	MEMCG = "^(__)?(memcg|mem_cgroup|obj_cgroup|objcg|page_counter)_|_objcg_|_obj_stock$|^bpf_map_get_memcg|^__mod_memcg"
}
END {
	flush()
	for (c in cnt)
		printf "%.3f\t%s\n", 100 * cnt[c] / n, c
	for (c in memcg)
		printf "%.3f\t%s\tpart\n", 100 * memcg[c] / n, c
}
