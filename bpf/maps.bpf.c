// SPDX-License-Identifier: GPL-2.0
/*
 * The settings and the maps that more than one capability uses, defined
 * once; the other files see them as extern (tcptrail.bpf.h), and
 * `bpftool gen object` links them all to these.  The kernel fact: the
 * license is the object's, and the GPL-only helpers every file calls
 * (bpf_probe_read_kernel, bpf_get_current_task...) need it to say GPL.
 */
#include "tcptrail.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct tt_config cfg = {};

tt_events_map events SEC(".maps");
tt_lost_map lost SEC(".maps");
tt_owned_map owned SEC(".maps");
tt_owned_listeners_map owned_listeners SEC(".maps");
tt_owned_seeded_map owned_seeded SEC(".maps");
/* userspace sets it once it has put the seed's sockets in owned_seeded */
__u32 owned_seeded_n;
/*
 * --cgroup: the id of the cgroup at its path now (cfg.cgroup_id says
 * whether there is a filter, and was its id at start): userspace follows
 * the path to a cgroup made again under it, as a restarted container's is
 */
__u64 cgroup_id_live;
tt_owned_closed_map owned_closed SEC(".maps");
tt_tw_handover_map tw_handover SEC(".maps");
tt_flows_map flows SEC(".maps");
