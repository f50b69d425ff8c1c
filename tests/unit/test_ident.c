// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Identity: cgroup paths of every runtime and both cgroup drivers to
 * container ids and pod UIDs, /proc/PID/cgroup lines, the v2 mount, the
 * --cgroup/--container options, and the names a capture keeps.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "capture.h"
#include "ident.h"
#include "opts.h"
#include "replay.h"
#include "replayrun.h"
#include "util.h"
#include "tt_test.h"
/* every record: 127.0.0.1 > 127.0.0.1:80, owned by pid 42 "curl" */
#define REC_BASE { .family = TT_AF_INET, .flags = TT_F_OWNER, .hook = TT_HOOK_TP_BTF_SET_STATE, \
		   .netns = 4026531840u, .pid = 42, .tgid = 42, .cpu = 1, \
		   .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 }, .comm = "curl" }
#include "records.h"

#define ID64 "4219ac6a33dc51677159513bea5f7d3dc6af576111a8ff0478069d899e7ff14e"
#define ID64B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID64C "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "2f5e4a7c-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
#define UID_ "2f5e4a7c_1b2d_4e6f_8a9b_0c1d2e3f4a5b"
#define UID32 "8daa50c3a64c9ff60bb9eab7b44b56fd"	/* a static pod's */

TEST(ident_paths_of_every_runtime_and_driver)
{
	static const struct {
		const char *path, *container, *runtime, *pod;
	} cases[] = {
		/* docker: systemd and cgroupfs drivers */
		{ "/system.slice/docker-" ID64 ".scope", ID64, "docker", "" },
		{ "/docker/" ID64, ID64, "docker", "" },
		/* containerd (CRI), systemd driver, in a pod of each QoS class */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/"
		  "cri-containerd-" ID64 ".scope", ID64, "containerd", UID },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/"
		  "cri-containerd-" ID64 ".scope", ID64, "containerd", UID },
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID64 ".scope",
		  ID64, "containerd", UID },
		/* CRI-O, systemd driver and cgroupfs */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/"
		  "crio-" ID64 ".scope", ID64, "crio", UID },
		{ "/kubepods/besteffort/pod" UID "/crio-" ID64, ID64, "crio", UID },
		/* kubepods, cgroupfs driver: the container is a bare id below its pod */
		{ "/kubepods/burstable/pod" UID "/" ID64, ID64, "cri", UID },
		{ "/kubepods/besteffort/pod" UID "/" ID64, ID64, "cri", UID },
		{ "/kubepods/pod" UID "/" ID64, ID64, "cri", UID },
		/* the pod's own cgroup (its pause sandbox's parent): a pod, no container */
		{ "/kubepods/burstable/pod" UID, "", "", UID },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice",
		  "", "", UID },
		/* docker under kubelet with the systemd driver */
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" ID64 ".scope", ID64,
				"docker",
		  UID },
		/* a static pod (kube-apiserver, etcd): its UID is 32 hex digits */
		{ "/kubepods/burstable/pod" UID32 "/" ID64, ID64, "cri", UID32 },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID32 ".slice/"
		  "cri-containerd-" ID64 ".scope", ID64, "containerd", UID32 },
		{ "/kubepods.slice/kubepods-pod" UID32 ".slice", "", "", UID32 },
		/* a kubelet with a cgroup root of its own (kind) */
		{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
		  "kubelet-kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID64 ".scope",
		  ID64, "containerd", UID },
		/* the systemd driver's names given to cgroupfs (v1 lines), slice:prefix:id */
		{ "/system.slice/containerd.service/kubepods-burstable-pod" UID_ ".slice:"
		  "cri-containerd:" ID64, ID64, "containerd", UID },
		{ "/kubepods-besteffort-pod" UID_ ".slice:cri-containerd:" ID64, ID64, "containerd",
		  UID },
		{ "/kubepods-pod" UID32 ".slice:crio:" ID64, ID64, "crio", UID32 },
		{ "/kubepods-pod" UID_ ".slice:docker:" ID64, ID64, "docker", UID },
		{ "/kubepods-pod" UID_ ".slice:other:" ID64, "", "", UID },
		/* a pod in a container (a kind or k3d node): the pod's, not the node's */
		{ "/docker/" ID64B "/kubelet/kubepods/burstable/pod" UID, "", "", UID },
		{ "/docker/" ID64B "/kubelet/kubepods/burstable/pod" UID "/" ID64, ID64, "cri", UID },
		{ "/system.slice/docker-" ID64B ".scope/kubepods/besteffort/pod" UID "/" ID64, ID64,
		  "cri", UID },
		/* a container in a container, with no pod: the inner one */
		{ "/docker/" ID64B "/docker/" ID64, ID64, "docker", "" },
		/* podman: systemd (rootful and a user's) and cgroupfs (measured on this VM) */
		{ "/machine.slice/libpod-" ID64 ".scope", ID64, "podman", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID64 ".scope",
		  ID64, "podman", "" },
		{ "/libpod_parent/libpod-" ID64, ID64, "podman", "" },
		{ "/machine.slice/libpod-" ID64 ".scope/container", ID64, "podman", "" },
		/* nerdctl: systemd (rootful, a user's; crun's subgroup) and cgroupfs,
		 * which is containerd's default /<namespace>/<id> (ctr's too) */
		{ "/system.slice/nerdctl-" ID64 ".scope", ID64, "nerdctl", "" },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/nerdctl-" ID64 ".scope",
		  ID64, "nerdctl", "" },
		{ "/system.slice/nerdctl-" ID64 ".scope/container", ID64, "nerdctl", "" },
		{ "/default/" ID64, ID64, "containerd", "" },
		{ "/k8s.io/" ID64, ID64, "containerd", "" },
		{ "/default/" ID64 "/sub", ID64, "containerd", "" },
		/* ECS: a task's cgroup on v1, and on v2 (a docker scope) */
		{ "/ecs/" UID32 "/" ID64, ID64, "docker", "" },
		{ "/ecstasks.slice/ecstasks-" UID32 ".slice/docker-" ID64 ".scope", ID64, "docker",
		  "" },
		/* not containers */
		{ "/a/b/" ID64, "", "", "" },
		{ "/ecsx/" UID32 "/" ID64, "", "", "" },
		{ "/default/" ID64 "0", "", "", "" },
		{ "/system.slice/nerdctl-conmon-" ID64 ".scope", "", "", "" },
		{ "/machine.slice/libpod-conmon-" ID64 ".scope", "", "", "" },
		{ "/system.slice/crio-conmon-" ID64 ".scope", "", "", "" },
		{ "/system.slice/docker.service", "", "", "" },
		{ "/user.slice/user-1000.slice/session-3.scope", "", "", "" },
		{ "/", "", "", "" },
		{ "", "", "", "" },
		{ "/docker/" "4219AC6A33DC51677159513BEA5F7D3DC6AF576111A8FF0478069D899E7FF14E",
				"", "", "" },
		{ "/docker/" ID64 "0", "", "", "" },
		{ "/system.slice/docker-" ID64 ".scopex", "", "", "" },
		{ "/" ID64, "", "", "" },	/* a bare id names nothing outside a pod */
		{ "/kubepods/burstable/podnot-a-uid/" ID64, "", "", "" },
		{ "/kubepods/burstable/pod2F5E4A7C-1B2D-4E6F-8A9B-0C1D2E3F4A5B/" ID64, "", "", "" },
		{ "/kubepods/burstable/pod" UID32 "0/" ID64, "", "", "" },
		{ "/system.slice/pod" UID_ ".slice", "", "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_cgname n;
		bool named = ident__parse_path(cases[i].path, &n);

		if (strcmp(n.container, cases[i].container) || strcmp(n.runtime,
				cases[i].runtime) ||
		    strcmp(n.pod, cases[i].pod) ||
		    named != (cases[i].container[0] || cases[i].pod[0])) {
			fprintf(stderr, "    %s\n      got  %s %s %s\n", cases[i].path, n.container,
				n.runtime, n.pod);
			CHECK(0);
		}
	}
}

TEST(ident_proc_cgroup_lines)
{
	char path[256];

	/* this VM's hybrid layout, a podman container (runc made v1 and v2 cgroups) */
	CHECK_EQ_INT(ident__parse_proc_cgroup(
		"9:name=systemd:/libpod_parent/libpod-" ID64 "\n"
		"4:memory:/libpod_parent/libpod-" ID64 "\n"
		"0::/libpod_parent/libpod-" ID64 "\n", path, sizeof(path)), 0);
	CHECK_STR(path, "/libpod_parent/libpod-" ID64);
	/* a runtime that made v1 cgroups only: the v2 line says nothing */
	CHECK_EQ_INT(ident__parse_proc_cgroup(
		"12:pids:/docker/" ID64 "\n"
		"11:cpu,cpuacct:/docker/" ID64 "\n"
		"1:name=systemd:/docker/" ID64 "\n"
		"0::/\n", path, sizeof(path)), 0);
	CHECK_STR(path, "/docker/" ID64);
	/* v1 only, no container: name=systemd's over the first */
	CHECK_EQ_INT(ident__parse_proc_cgroup(
		"5:memory:/process_api/xyz\n"
		"1:name=systemd:/user.slice/user-0.slice/session-1.scope\n", path, sizeof(path)),
				0);
	CHECK_STR(path, "/user.slice/user-0.slice/session-1.scope");
	/* pure v2 */
	CHECK_EQ_INT(ident__parse_proc_cgroup("0::/system.slice/ssh.service\n", path,
					      sizeof(path)), 0);
	CHECK_STR(path, "/system.slice/ssh.service");
	/* the host's root in both: the first line */
	CHECK_EQ_INT(ident__parse_proc_cgroup("9:name=systemd:/\n0::/\n", path, sizeof(path)), 0);
	CHECK_STR(path, "/");
	/* no trailing newline, and garbage lines skipped */
	CHECK_EQ_INT(ident__parse_proc_cgroup("garbage\n3:cpuset\n0::/a/b", path, sizeof(path)), 0);
	CHECK_STR(path, "/a/b");
	CHECK_EQ_INT(ident__parse_proc_cgroup("", path, sizeof(path)), -ENOENT);
	CHECK_EQ_INT(ident__parse_proc_cgroup("0::/" ID64 ID64, path, 16), -ENAMETOOLONG);
}

TEST(ident_v2_mount_from_mountinfo)
{
	char m[128];

	/* hybrid, as on this VM */
	CHECK_EQ_INT(ident__find_mount(
		"25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
		"26 25 0:24 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
		"27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
		"28 26 0:26 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n",
		m, sizeof(m)), 0);
	CHECK_STR(m, "/sys/fs/cgroup/unified");
	/* pure v2; a container's view (root not "/") is skipped */
	CHECK_EQ_INT(ident__find_mount(
		"40 30 0:30 /kubepods /mnt/x rw - cgroup2 cgroup2 rw\n"
		"35 25 0:29 / /sys/fs/cgroup rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
		m, sizeof(m)), 0);
	CHECK_STR(m, "/sys/fs/cgroup");
	/* v1 only */
	CHECK_EQ_INT(ident__find_mount(
		"28 26 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", m, sizeof(m)),
		-ENOENT);
}

TEST(ident_path_under_and_container_prefixes)
{
	CHECK(ident__path_under("/a", "/a"));
	CHECK(ident__path_under("/a/b", "/a"));
	CHECK(ident__path_under("/a/b", "/a/"));
	CHECK(!ident__path_under("/ab", "/a"));
	CHECK(!ident__path_under("/", "/a"));
	CHECK(ident__path_under("/anything", "/"));
	CHECK(ident__valid_container_prefix("4219ac"));
	CHECK(ident__valid_container_prefix(ID64));
	CHECK(!ident__valid_container_prefix(""));
	CHECK(!ident__valid_container_prefix("4219AC"));
	CHECK(!ident__valid_container_prefix("42g"));
	CHECK(!ident__valid_container_prefix(ID64 "0"));
}

TEST(ident_learned_names_outlive_everything)
{
	struct tt_ident *id = ident__new(false);
	const struct tt_cgname *n;

	REQUIRE(id);
	CHECK(ident__lookup(id, 77, 1) == NULL);	/* replay: never this host's /proc */
	CHECK_EQ_INT(ident__learn(id, 77, "/libpod_parent/libpod-" ID64, ID64, "", "podman"), 0);
	CHECK_EQ_INT(ident__learn(id, 0, "/x", "", "", ""), -EINVAL);
	/* what the capturing host said wins over the path's shape */
	CHECK_EQ_INT(ident__learn(id, 78, "/custom/name", ID64B, UID, "containerd"), 0);
	n = ident__lookup(id, 77, 0);
	REQUIRE(n);
	CHECK_STR(n->path, "/libpod_parent/libpod-" ID64);
	CHECK_STR(n->container, ID64);
	CHECK_STR(n->runtime, "podman");
	CHECK_EQ_INT(n->source, TT_CGSRC_CAPTURE);
	n = ident__lookup(id, 78, 0);
	REQUIRE(n);
	CHECK_STR(n->container, ID64B);
	CHECK_STR(n->pod, UID);
	ident__free(id);
}

/* Whether /proc/mounts holds a cgroup2 mount. */
static bool cgroup2_mounted(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " cgroup2 ") != NULL;
	fclose(f);
	return found;
}

/* Live, on this host: the root's own id is "/", and a pid falls back to /proc. */
TEST(ident_live_root_and_proc_fallback)
{
	struct tt_ident *id = ident__new(true);
	const struct tt_cgname *n;
	struct stat st;
	const char *m;

	REQUIRE(id);
	m = ident__mount(id);
	/* a host with cgroup2 mounted anywhere: ident must have found it */
	if (cgroup2_mounted()) {
		REQUIRE(m);
		REQUIRE(!stat(m, &st));
	}
	if (!m || stat(m, &st)) {
		/* a v1-only host: only the fallback can name anything */
		n = ident__lookup(id, 0, (uint32_t)getpid());
		CHECK(n && n->source == TT_CGSRC_PROC);
		ident__free(id);
		return;
	}
	n = ident__lookup(id, (uint64_t)st.st_ino, 0);
	REQUIRE(n);
	CHECK_STR(n->path, "/");
	CHECK(ident__vague(id, (uint64_t)st.st_ino));
	CHECK(ident__vague(id, 0));
	/* id 0 with an owner: the owner's /proc/PID/cgroup */
	n = ident__lookup(id, 0, (uint32_t)getpid());
	REQUIRE(n);
	CHECK_EQ_INT(n->source, TT_CGSRC_PROC);
	CHECK(n->path[0] == '/');
	CHECK(ident__proc_fallbacks(id) >= 1);
	/* an id no cgroup has: nothing, and no crash */
	CHECK(ident__lookup(id, 0xfffffffffff1ull, 0) == NULL);
	ident__free(id);
}

/* ---- options ---- */

static int parse(struct tt_opts *o, ...)
{
	char *argv[16] = { "tcptrail" };
	int argc = 1, saved, devnull, status;
	bool exit_now;
	va_list ap;

	va_start(ap, o);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	fflush(stderr);
	saved = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	status = tt_opts_parse(argc, argv, o, &exit_now);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	return status;
}

TEST(ident_option_errors)
{
	static const char *bad[][2] = {
		{ "--container", "" }, { "--container", "xyz" }, { "--container", "ABCDEF" },
		{ "--container", ID64 "1" }, { "--container", "12 34" },
		{ "--cgroup", "" }, { "--cgroup", "relative/path" },
		{ "--cgroup", "/no/such/cgroup/tcptrail-test" },
		{ "--cgroup", "/sys/fs/cgroup/memory" },	/* v1, or at least not v2's mount */
		{ "--cgroup", "/sys/fs/cgroup/unified/no-such-tcptrail-test" },
		{ "--cgroup", "/sys/fs/cgroup/unified/../../../etc" },
	};
	struct tt_opts *o = malloc(sizeof(*o));

	REQUIRE(o);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int s = parse(o, bad[i][0], bad[i][1], NULL);

		if (s != 2) {
			fprintf(stderr, "    %s '%s': status %d, want 2\n", bad[i][0], bad[i][1],
					s);
			CHECK(0);
		}
	}
	CHECK_EQ_INT(parse(o, "--container", "4219ac", NULL), 0);
	CHECK_STR(o->container, "4219ac");
	/* a replay names cgroups of the capturing host: only the spelling is checked */
	CHECK_EQ_INT(parse(o, "-r", "x.ttcap", "--cgroup", "/kubepods/burstable/", NULL), 0);
	CHECK_STR(o->cgroup_path, "/kubepods/burstable");
	CHECK_EQ_INT(o->cgroup_id, 0);
	CHECK_EQ_INT(parse(o, "-r", "x.ttcap", "--cgroup", "nope", NULL), 2);
	free(o);
}

/* Live --cgroup on this host's v2 root: id and level 0, path "/". */
TEST(ident_option_cgroup_root_resolves)
{
	struct tt_opts *o = malloc(sizeof(*o));
	struct tt_ident *id = ident__new(true);
	struct stat st;

	REQUIRE(o && id);
	if (!ident__mount(id) || stat(ident__mount(id), &st)) {
		CHECK_EQ_INT(parse(o, "--cgroup", "/", NULL), 2);
	} else {
		CHECK_EQ_INT(parse(o, "--cgroup", ident__mount(id), NULL), 0);
		CHECK_STR(o->cgroup_path, "/");
		CHECK_EQ_INT(o->cgroup_level, 0);
		CHECK_EQ_INT(o->cgroup_id, st.st_ino);
	}
	ident__free(id);
	free(o);
}

/* ---- the names in a capture ---- */

struct names {
	int asked;
};

static int name_of(void *ctx, const struct tt_event *e, struct tt_capcg *out)
{
	struct names *nm = ctx;
	uint64_t id = e->cgroup;

	nm->asked++;
	if (id == 101) {
		snprintf(out->path, sizeof(out->path), "/libpod_parent/libpod-%s", ID64);
		snprintf(out->container, sizeof(out->container), "%s", ID64);
		snprintf(out->runtime, sizeof(out->runtime), "podman");
		return 0;
	}
	if (id == 102) {
		snprintf(out->path, sizeof(out->path), "/kubepods/burstable/pod%s/%s", UID, ID64B);
		snprintf(out->container, sizeof(out->container), "%s", ID64B);
		snprintf(out->runtime, sizeof(out->runtime), "cri");
		snprintf(out->pod, sizeof(out->pod), "%s", UID);
		return 0;
	}
	if (id == 103) {
		snprintf(out->path, sizeof(out->path), "/system.slice/sshd.service");
		return 0;
	}
	return -1;	/* 104: this host cannot name it */
}

static int write_flows(const char *path, struct names *nm)
{
	static const int states[][2] = {
		{ TT_CLOSE, TT_SYN_SENT }, { TT_SYN_SENT, TT_ESTABLISHED },
		{ TT_ESTABLISHED, TT_FIN_WAIT1 }, { TT_FIN_WAIT1, TT_FIN_WAIT2 },
		{ TT_FIN_WAIT2, TT_CLOSE },
	};
	struct tt_capture *c;
	uint64_t ts = 1000000;
	int err;

	err = capture__open(&c, &(struct tt_capture_opts){ .path = path, .start_ns = ts,
		.cgroup_name = name_of, .cgroup_ctx = nm });
	if (err)
		return err;
	/* four flows, one per cgroup, each in full; interleaved */
	for (size_t s = 0; s < 5; s++)
		for (uint64_t cg = 101; cg <= 104; cg++) {
			struct tt_event e = rec_cgroup(rec_ports(rec_tr(0x10000 * cg,
					states[s][0], states[s][1], ts += 1000),
							(uint16_t)(40000 + cg), 80), cg);

			if ((err = capture__write(c, &e)))
				break;
		}
	return capture__close(c, ts + 1, 0, 0) ?: err;
}

/* stdout of tcptrail -r PATH --json -i 0 ARGS... (NULL-terminated) */
static char *replay_out(const char *path, ...)
{
	char *argv[16] = { "tcptrail", "-r", (char *)path, "--json", "-i", "0" };
	struct replay_run r;
	int argc = 6;
	char *out;
	va_list ap;

	va_start(ap, path);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	r = replay_run_argv(argc, argv);
	out = r.out ? r.out : strdup("");
	r.out = NULL;
	replay_run_free(&r);
	return out;
}

TEST(ident_capture_keeps_names_for_replay_elsewhere)
{
	char dir[] = "/tmp/tt_ident_XXXXXX", path[64], *out;
	struct tt_capreader *r;
	struct tt_caprec rec;
	struct names nm = { 0 };
	int cgs = 0, evs = 0, ret;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/n.ttcap", dir);
	REQUIRE(write_flows(path, &nm) == 0);
	/* each id asked once per file, except the one that cannot be named: every event */
	CHECK_EQ_INT(nm.asked, 3 + 5);

	/* the frames: a name before the first event of its id, once */
	r = capreader__new(path);
	REQUIRE(r);
	while ((ret = capreader__next(r, &rec)) > 0) {
		if (rec.kind == TTCAP_CGROUP) {
			cgs++;
			CHECK(rec.cg->id >= 101 && rec.cg->id <= 103);
			if (rec.cg->id == 102) {
				CHECK_STR(rec.cg->pod, UID);
				CHECK_STR(rec.cg->runtime, "cri");
			}
			CHECK_EQ_INT(evs, rec.cg->id - 101);
		} else if (rec.kind == TTCAP_EVENT) {
			evs++;
			CHECK(rec.ev.cgroup >= 101 && rec.ev.cgroup <= 104);
			CHECK_EQ_INT(rec.ev.cpu, 1);
		}
	}
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(cgs, 3);
	CHECK_EQ_INT(evs, 20);
	capreader__free(r);

	/* a replay shows the capture's names, not this host's */
	out = replay_out(path, NULL);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 4);
	CHECK_EQ_INT(tt_count(out, "\"cgroup\":\"/libpod_parent/libpod-" ID64 "\",\"container\":\""
			   ID64 "\""), 1);
	CHECK_EQ_INT(tt_count(out, "\"container\":\"" ID64B "\",\"pod\":\"" UID "\""), 1);
	CHECK_EQ_INT(tt_count(out, "\"cgroup\":\"/system.slice/sshd.service\",\"role\""), 1);
	CHECK_EQ_INT(tt_count(out, "\"cgroup\":null"), 1);
	free(out);

	/* --container: a prefix, in the capture's names */
	out = replay_out(path, "--container", "4219ac", NULL);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 1);
	CHECK_EQ_INT(tt_count(out, "\"container\":\"" ID64 "\""), 1);
	free(out);
	out = replay_out(path, "--container", "0123", NULL);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 1);
	CHECK_EQ_INT(tt_count(out, "\"pod\":\"" UID "\""), 1);
	free(out);
	out = replay_out(path, "--container", "ffff", NULL);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 0);
	free(out);
	/* --cgroup: the path or below it */
	out = replay_out(path, "--cgroup", "/kubepods", NULL);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 1);
	CHECK_EQ_INT(tt_count(out, "\"pod\":\"" UID "\""), 1);
	free(out);
	out = replay_out(path, "--cgroup", "/system.slice/sshd.service", NULL);
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 1);
	free(out);
	out = replay_out(path, "--cgroup", "/system", NULL);	/* not a prefix of a component */
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 0);
	free(out);
	out = replay_out(path, "--cgroup", "/", NULL);		/* everything named */
	CHECK_EQ_INT(tt_count(out, "\"type\":\"flow\""), 3);
	free(out);
	unlink(path);
	rmdir(dir);
}

/* A version 1 capture: cpu was a __u32 at offset 24, there was no cgroup. */
TEST(ident_version1_capture_converts)
{
	char dir[] = "/tmp/tt_ident_XXXXXX", path[64];
	struct ttcap_file_header h = { .version = htole32(1), .record_size = htole32(128),
				       .event_version = htole32(1) };
	struct ttcap_meta m = { .version = htole32(1), .start_ns = htole64(5) };
	struct ttcap_frame fr;
	struct ttcap_end end = { .reason = htole32(TTCAP_END_CLOSED) };
	unsigned char ev[128];
	struct tt_event e = rec_cgroup(rec_ports(rec_tr(0x1000, TT_CLOSE, TT_SYN_SENT, 100),
			40000, 80), 0);
	struct tt_capreader *r;
	struct tt_caprec rec;
	uint32_t cpu = htole32(7), junk = htole32(0xdeadbeef);
	gzFile gz;
	int n = 0, ret;

	REQUIRE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v1.ttcap", dir);
	memcpy(h.magic, TTCAP_MAGIC, 8);
	memcpy(ev, &e, sizeof(ev));
	memset(ev + 10, 0, 2);		/* pad0 */
	memcpy(ev + 24, &cpu, 4);	/* cpu */
	memcpy(ev + 28, &junk, 4);	/* pad1: whatever it held, it is no cgroup */
	gz = gzopen(path, "wb");
	REQUIRE(gz);
	gzwrite(gz, &h, sizeof(h));
	fr = (struct ttcap_frame){ htole32(TTCAP_META), htole32(sizeof(m)) };
	gzwrite(gz, &fr, sizeof(fr));
	gzwrite(gz, &m, sizeof(m));
	fr = (struct ttcap_frame){ htole32(TTCAP_EVENT), htole32(128) };
	gzwrite(gz, &fr, sizeof(fr));
	gzwrite(gz, ev, sizeof(ev));
	fr = (struct ttcap_frame){ htole32(TTCAP_END), htole32(sizeof(end)) };
	gzwrite(gz, &fr, sizeof(fr));
	gzwrite(gz, &end, sizeof(end));
	gzclose(gz);

	r = capreader__new(path);
	REQUIRE(r);
	while ((ret = capreader__next(r, &rec)) > 0) {
		if (rec.kind != TTCAP_EVENT)
			continue;
		n++;
		CHECK_EQ_INT(rec.ev.cpu, 7);
		CHECK_EQ_INT(rec.ev.cgroup, 0);
		CHECK_EQ_INT(rec.ev.netns, 4026531840u);
		CHECK_EQ_INT(rec.ev.ts_ns, 100);
		CHECK_EQ_INT(rec.ev.sport, 40000);
	}
	CHECK_EQ_INT(ret, 0);
	CHECK_EQ_INT(n, 1);
	capreader__free(r);
	unlink(path);
	rmdir(dir);
}

/* The capture files in tests/captures are version 1: they still replay. */
TEST(ident_version1_captures_in_the_tree_read)
{
	static const char *files[] = { "tests/captures/close.ttcap", "tests/captures/reset.ttcap" };

	for (size_t i = 0; i < 2; i++) {
		struct tt_capreader *r;
		struct tt_capmeta meta;
		struct tt_caprec rec;
		int n = 0, ret;

		/* part of the tree: the unit tests run from its top */
		REQUIRE(!access(files[i], R_OK));
		r = capreader__new(files[i]);
		REQUIRE(r);
		CHECK_EQ_INT(capreader__meta(r, &meta), 0);
		CHECK_EQ_INT(meta.version, 1);
		while ((ret = capreader__next(r, &rec)) > 0)
			if (rec.kind == TTCAP_EVENT) {
				n++;
				CHECK_EQ_INT(rec.ev.cgroup, 0);
				CHECK(rec.ev.cpu < 4096);
			}
		CHECK_EQ_INT(ret, 0);
		CHECK(n > 0);
		capreader__free(r);
	}
}

/* ---- shown everywhere: report, sinks, metrics ---- */

#include "engine.h"
#include "metrics.h"
#include "report.h"
#include "sink.h"
#include "twreport.h"

static void cw_socket(struct tt_engine *eng, uint64_t sk, uint64_t cg, uint32_t pid,
		      uint16_t lport, uint64_t ts)
{
	struct tt_event e = rec_cgroup(rec_ports(rec_tr(sk, TT_LISTEN, TT_SYN_RECV, ts), lport,
			80), cg);

	e.tgid = e.pid = pid;
	e.flags = 0;
	engine__feed(eng, &e);
	e = rec_cgroup(rec_ports(rec_tr(sk, TT_SYN_RECV, TT_ESTABLISHED, ts + 1), lport, 80), cg);
	e.tgid = e.pid = pid;
	e.flags = 0;
	engine__feed(eng, &e);
	e = (struct tt_event){ .type = TT_EV_ACCEPT, .family = TT_AF_INET, .flags = TT_F_OWNER,
			       .sport = lport, .dport = 50000, .netns = 4026531840u, .pid = pid,
			       .tgid = pid, .cgroup = cg, .ts_ns = ts + 2, .sk = sk,
			       .saddr = { 127, 0, 0, 1 }, .daddr = { 127, 0, 0, 1 },
			       .comm = "server" };
	engine__feed(eng, &e);
	e = rec_cgroup(rec_ports(rec_tr(sk, TT_ESTABLISHED, TT_CLOSE_WAIT, ts + 3), lport, 80), cg);
	e.flags = 0;
	e.tgid = e.pid = 0;
	engine__feed(eng, &e);
}

/*
 * A report keeps its groups for the next one's trend.  The /metrics
 * endpoint's report runs per scrape, which may come hours apart: the names
 * its groups pointed to may be pruned by then, and the trend compared them
 * (a read of freed memory, which the sanitizer pass of CI catches).  The
 * groups now carry their container id.  A scrape gap longer than the idle
 * time (20 ms here) with a full table:
 */
TEST(ident_report_trend_outlives_pruned_names)
{
	struct tt_ident *id = ident__new(false);
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	struct tt_report *rep = report__new(0, NULL);
	struct timespec ts = { 0, 30 * 1000000 };
	const struct tt_cw_group *g;

	REQUIRE(id && eng && rep);
	ident__set_capacity(id, 2, 16, 20 * 1000000ull, 0, 1000000ull);
	report__set_ident(rep, id);
	ident__tick(id);
	CHECK_EQ_INT(ident__learn(id, 201, "/docker/" ID64, ID64, "", "docker"), 0);
	CHECK_EQ_INT(ident__learn(id, 202, "/docker/" ID64B, ID64B, "", "docker"), 0);
	cw_socket(eng, 0x1000, 201, 50, 8080, 1000);
	cw_socket(eng, 0x3000, 202, 60, 9090, 1200);
	REQUIRE(report__close_wait(rep, eng, 10000, &g) == 2);
	nanosleep(&ts, NULL);
	ident__tick(id);
	/* B in use; A idle, and a new cgroup in the full table frees A's name */
	CHECK(ident__lookup(id, 202, 0) != NULL);
	CHECK_EQ_INT(ident__learn(id, 203, "/docker/" ID64C, ID64C, "", "docker"), 0);
	CHECK(ident__lookup(id, 201, 0) == NULL);
	cw_socket(eng, 0x2000, 202, 60, 9090, 12000);
	/* C's, compared with each of the last report's groups, A's among them */
	cw_socket(eng, 0x4000, 203, 70, 7070, 12100);
	REQUIRE(report__close_wait(rep, eng, 30000, &g) == 3);
	/* B grew from 1 to 2 (the groups: B's first, the most leaks) */
	CHECK_STR(g[0].container, ID64B);
	CHECK_EQ_INT(g[0].trend, TT_TREND_GROWING);
	CHECK_EQ_INT(g[0].prev_count, 1);
	/* A's leak, its name gone: no container now, so new to the trend; C's new */
	CHECK(g[1].container == NULL);
	CHECK_EQ_INT(g[1].trend, TT_TREND_NEW);
	CHECK_STR(g[2].container, ID64C);
	CHECK_EQ_INT(g[2].trend, TT_TREND_NEW);
	report__free(rep);
	engine__free(eng);
	ident__free(id);
}

/*
 * In a container, by owning process, then by service: a live run once
 * printed leak 8000, leak 8001, peer 8001, leak 8002, ordered by count and
 * age alone.
 */
TEST(ident_close_wait_groups_by_container_then_process)
{
	struct tt_ident *id = ident__new(false);
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	struct tt_report *rep = report__new(0, NULL);
	const struct tt_cw_group *g;

	REQUIRE(id && eng && rep);
	ident__learn(id, 201, "/libpod_parent/libpod-" ID64, ID64, "", "podman");
	report__set_ident(rep, id);
	/* pid 50: 2 on :8000, 1 on :8001, 1 on :8002; pid 60: 2 on :8001, older */
	cw_socket(eng, 0x1000, 201, 50, 8000, 1000);
	cw_socket(eng, 0x1100, 201, 50, 8000, 1000);
	cw_socket(eng, 0x2000, 201, 50, 8001, 1000);
	cw_socket(eng, 0x3000, 201, 50, 8002, 900);
	cw_socket(eng, 0x4000, 201, 60, 8001, 500);
	cw_socket(eng, 0x4100, 201, 60, 8001, 500);
	REQUIRE(report__close_wait(rep, eng, 10000, &g) == 4);
	CHECK_EQ_INT(g[0].pid, 50);
	CHECK_EQ_INT(g[0].port, 8000);
	CHECK_EQ_INT(g[0].process_count, 4);
	/* the same count: the older first */
	CHECK_EQ_INT(g[1].pid, 50);
	CHECK_EQ_INT(g[1].port, 8002);
	CHECK_EQ_INT(g[2].pid, 50);
	CHECK_EQ_INT(g[2].port, 8001);
	CHECK_EQ_INT(g[3].pid, 60);
	CHECK_EQ_INT(g[3].port, 8001);
	CHECK_EQ_INT(g[3].count, 2);
	CHECK_EQ_INT(g[3].container_count, 6);
	report__free(rep);
	engine__free(eng);
	ident__free(id);
}

static char *mem_text(FILE *f, char **buf)
{
	fflush(f);
	return *buf ? *buf : "";
}

TEST(ident_close_wait_by_container_json_human_metrics)
{
	struct tt_ident *id = ident__new(false);
	struct tt_engine *eng = engine__new(&(struct tt_engine_opts){ .max_flows = 64 });
	struct tt_report *rep = report__new(0, NULL);
	const struct tt_cw_group *g;
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f = open_memstream(&buf, &len);
	struct tt_sink *s;

	REQUIRE(id && eng && rep && f);
	ident__learn(id, 201, "/libpod_parent/libpod-" ID64, ID64, "", "podman");
	ident__learn(id, 202, "/kubepods/burstable/pod" UID "/" ID64B, ID64B, UID, "cri");
	report__set_ident(rep, id);
	/* container A: 2 leaks on :8080 by pid 50; B: 1 on :9090 by 60; the host: 3 by 70 */
	cw_socket(eng, 0x1000, 201, 50, 8080, 1000);
	cw_socket(eng, 0x2000, 201, 50, 8080, 1100);
	cw_socket(eng, 0x3000, 202, 60, 9090, 1200);
	cw_socket(eng, 0x4000, 0, 70, 7070, 1300);
	cw_socket(eng, 0x5000, 0, 70, 7070, 1400);
	cw_socket(eng, 0x6000, 0, 70, 7070, 1500);
	n = report__close_wait(rep, eng, 10000, &g);
	REQUIRE(n == 3);
	/* the containers with the most first, the host's own as a "container" of its own */
	CHECK(g[0].container == NULL);
	CHECK_EQ_INT(g[0].count, 3);
	CHECK_STR(g[1].container, ID64);
	CHECK_EQ_INT(g[1].count, 2);
	CHECK_EQ_INT(g[1].container_count, 2);
	CHECK_STR(g[1].cgroup, "/libpod_parent/libpod-" ID64);
	CHECK_STR(g[2].container, ID64B);
	CHECK_STR(g[2].pod, UID);

	s = sink__new(&(struct tt_sink_opts){ .out = f, .json = true });
	REQUIRE(s);
	sink__set_ident(s, id);
	sink__close_wait(s, g, n, 10000, 0);
	CHECK_EQ_INT(tt_count(mem_text(f, &buf), "\"type\":\"close_wait\""), 3);
	CHECK_EQ_INT(tt_count(buf, "\"netns\":4026531840,\"cgroup\":\"/libpod_parent/libpod-" ID64
			   "\",\"container\":\"" ID64 "\",\"family\""), 1);
	CHECK_EQ_INT(tt_count(buf, "\"container\":\"" ID64B "\",\"pod\":\"" UID "\""), 1);
	CHECK_EQ_INT(tt_count(buf, "\"cgroup\":null"), 1);
	sink__free(s);

	/* logfmt (--syslog, --journal): the short id */
	rewind(f);
	fflush(f);
	s = sink__new(&(struct tt_sink_opts){ .out = f, .logfmt = true });
	REQUIRE(s);
	sink__set_ident(s, id);
	sink__close_wait(s, g, n, 10000, 0);
	CHECK_EQ_INT(tt_count(mem_text(f, &buf),
			"msg=close_wait_leak container=4219ac6a33dc pid=50"), 1);
	CHECK_EQ_INT(tt_count(buf, "container=0123456789ab pod=" UID " pid=60"), 1);
	CHECK_EQ_INT(tt_count(buf, "family="), 0);
	/* an IPv6 port says so: the same port over IPv4 is a group of its own */
	rewind(f);
	fflush(f);
	{
		struct tt_cw_group v6 = g[0];

		v6.family = TT_AF_INET6;
		sink__close_wait(s, &v6, 1, 10000, 0);
	}
	CHECK_EQ_INT(tt_count(mem_text(f, &buf), "service=\"local port 7070\" family=ipv6 count=3"),
		     1);
	sink__free(s);

	/* Prometheus: per container and service */
	rewind(f);
	fflush(f);
	metrics__render(f, &(struct tt_metrics_input){ .eng = eng, .cw = g, .n_cw = n,
						       .tw_population = -1 });
	CHECK_EQ_INT(tt_count(mem_text(f, &buf), "tcptrail_container_close_wait_suspected_leaks{"
			   "container=\"" ID64 "\",service=\"local:8080\"} 2\n"), 1);
	CHECK_EQ_INT(tt_count(buf, "container=\"" ID64B "\",service=\"local:9090\"} 1\n"), 1);
	CHECK_EQ_INT(tt_count(buf, "service=\"local:7070\""), 0);
	fclose(f);
	free(buf);
	report__free(rep);
	engine__free(eng);
	ident__free(id);
}

TEST(ident_human_container_column_once_named)
{
	struct tt_ident *id = ident__new(false);
	char *buf = NULL, *l2;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = f });
	struct tt_flow fl = { .family = TT_AF_INET, .role = TT_ROLE_ACTIVE, .sport = 40000,
			      .dport = 80, .owner_pid = 42, .owner_comm = "curl", .nstates = 2,
			      .state = { TT_SYN_SENT, TT_CLOSE }, .ts_ns = { 1000, 2000 } };

	REQUIRE(id && f && s);
	sink__set_ident(s, id);
	ident__learn(id, 201, "/libpod_parent/libpod-" ID64, ID64, "", "podman");
	sink__flow(s, &fl);		/* no container yet: no column */
	fl.cgroup = 201;
	sink__flow(s, &fl);
	fl.cgroup = 0;
	sink__flow(s, &fl);		/* from then on, "-" for the host's own */
	fflush(f);
	REQUIRE(buf);
	l2 = strchr(buf, '\n');
	REQUIRE(l2);
	CHECK(strstr(buf, "4219ac6a33dc") > l2);
	CHECK_EQ_INT(tt_count(buf, " 4219ac6a33dc      42 curl"), 1);
	CHECK_EQ_INT(tt_count(buf, " -                 42 curl"), 1);
	CHECK_EQ_INT(tt_count(buf, "      42 curl"), 3);
	sink__free(s);
	fclose(f);
	free(buf);
	ident__free(id);
}

TEST(ident_time_wait_names_the_containers_that_hold_most)
{
	struct tt_ident *id = ident__new(false);
	struct tw_tracker *t = tw_tracker__new(-2, 50);
	struct tw_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct tt_sink *s = sink__new(&(struct tt_sink_opts){ .out = f, .json = true });

	REQUIRE(id && t && f && s);
	ident__learn(id, 201, "/libpod_parent/libpod-" ID64, ID64, "", "podman");
	ident__learn(id, 202, "/kubepods/burstable/pod" UID "/" ID64B, ID64B, UID, "cri");
	tw_tracker__set_ident(t, id);
	for (int i = 0; i < 7; i++) {
		struct tt_flow fl = { .family = TT_AF_INET, .role = TT_ROLE_ACTIVE, .dport = 80,
				      .end = TT_END_TIME_WAIT, .nstates = 2,
				      .state = { TT_SYN_SENT, TT_TIME_WAIT },
				      .ts_ns = { 1000, 2000 + i },
				      .cgroup = i < 4 ? 202 : i < 6 ? 201 : 0 };

		tw_tracker__flow(t, &fl);
	}
	tw_tracker__report(t, 3000, 2000, &r);
	REQUIRE(r.n_containers == 2);
	CHECK_STR(r.containers[0].container, ID64B);
	CHECK_EQ_INT(r.containers[0].count, 4);
	CHECK_STR(r.containers[0].pod, UID);
	CHECK_STR(r.containers[1].container, ID64);
	CHECK_EQ_INT(r.containers[1].count, 2);
	sink__time_wait(s, &r);
	fflush(f);
	REQUIRE(buf);
	CHECK_EQ_INT(tt_count(buf, "\"top_containers\":[{\"container\":\"" ID64B "\",\"pod\":\"" UID
			   "\",\"cgroup\":\"/kubepods/burstable/pod" UID "/" ID64B
			   "\",\"time_wait_60s\":4},{\"container\":\"" ID64 "\""), 1);
	sink__free(s);
	fclose(f);
	free(buf);
	tw_tracker__free(t);
	ident__free(id);
}

/* Full: names idle long enough make room, others stay; and never the ones in use. */
TEST(ident_names_idle_make_room_when_full)
{
	struct tt_ident *id = ident__new(false);
	struct timespec ts = { 0, 30 * 1000000 };

	REQUIRE(id);
	ident__set_capacity(id, 4, 4, 20 * 1000000ull, 0, 1000000ull);
	for (uint64_t k = 1; k <= 4; k++)
		CHECK_EQ_INT(ident__learn(id, k, "/a", "", "", ""), 0);
	/* full, nothing idle yet */
	ident__tick(id);
	CHECK_EQ_INT(ident__learn(id, 5, "/b", "", "", ""), -ENOSPC);
	nanosleep(&ts, NULL);
	ident__tick(id);
	/* 2 and 3 are in use; 1 and 4 idle for 30 ms > 20 ms */
	CHECK(ident__lookup(id, 2, 0) != NULL);
	CHECK(ident__lookup(id, 3, 0) != NULL);
	CHECK_EQ_INT(ident__learn(id, 5, "/b", "", "", ""), 0);
	CHECK_EQ_INT(ident__learn(id, 6, "/c", "", "", ""), 0);
	CHECK(ident__lookup(id, 1, 0) == NULL);
	CHECK(ident__lookup(id, 4, 0) == NULL);
	CHECK(ident__lookup(id, 2, 0) != NULL);
	CHECK(ident__lookup(id, 5, 0) != NULL);
	CHECK_STR(ident__lookup(id, 6, 0)->path, "/c");
	CHECK_EQ_INT(ident__learn(id, 7, "/d", "", "", ""), -ENOSPC);
	ident__free(id);
}

/* A child that waits to be killed, and is gone with the test however it ends. */
static pid_t idle_child(void)
{
	pid_t parent = getpid(), child = fork();

	if (child)
		return child;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	close(1);
	close(2);
	pause();
	_exit(0);
}

/*
 * The owners' /proc/PID/cgroup names: a full table makes room from the
 * pids idle longest, as the cgroup names do (it was never pruned: after
 * 16,384 pids in a daemon's life, no new owner was named).
 */
TEST(ident_owner_pids_idle_make_room_when_full)
{
	struct tt_ident *id = ident__new(true);
	struct timespec ts = { 0, 30 * 1000000 };
	uint32_t me = (uint32_t)getpid(), parent = (uint32_t)getppid(), kid;
	const struct tt_cgname *n;
	pid_t child;
	int st;

	REQUIRE(id);
	child = idle_child();
	REQUIRE(child >= 0);
	kid = (uint32_t)child;
	ident__set_capacity(id, 64, 2, 20 * 1000000ull, 0, 1000000ull);
	ident__tick(id);
	/* id 0: the owner's file names it */
	CHECK(ident__lookup(id, 0, me) != NULL);
	CHECK(ident__lookup(id, 0, parent) != NULL);
	/* full, and neither idle */
	CHECK(ident__lookup(id, 0, kid) == NULL);
	nanosleep(&ts, NULL);
	ident__tick(id);
	/* me in use again; the parent idle for 30 ms > 20 ms makes room */
	CHECK(ident__lookup(id, 0, me) != NULL);
	n = ident__lookup(id, 0, kid);
	CHECK(n && n->source == TT_CGSRC_PROC);
	CHECK(ident__lookup(id, 0, parent) == NULL);
	/*
	 * The child gone: its pid keeps the name it had, and a lookup of it
	 * (a report's of a dead owner's leak) is a use, as any other, so a
	 * prune does not free the name the caller holds.
	 */
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	nanosleep(&ts, NULL);
	ident__tick(id);
	REQUIRE(n == ident__lookup(id, 0, kid));
	CHECK(ident__lookup(id, 0, me) != NULL);
	CHECK(ident__lookup(id, 0, parent) == NULL);
	CHECK(n->path[0] == '/');
	ident__free(id);
}

/*
 * A full pids' table with none idle for an hour (16,384 owners within the
 * hour: a host that forks a process per job): every new owner was left
 * unnamed.  The older half makes room now, but never a name that a report
 * may still hold (ident__hold()).
 */
TEST(ident_owner_pids_full_and_busy_drop_their_older_half)
{
	struct tt_ident *id = ident__new(true);
	struct timespec ts = { 0, 20 * 1000000 };
	uint32_t me = (uint32_t)getpid(), parent = (uint32_t)getppid(), kid;
	pid_t child;
	int st;

	REQUIRE(id);
	child = idle_child();
	REQUIRE(child >= 0);
	kid = (uint32_t)child;
	/* 2 pids, idle after an hour, pruned at any time, read again after 1 ms */
	ident__set_capacity(id, 64, 2, 3600 * 1000000000ull, 0, 1000000ull);
	/* a report holds its names for 1 s */
	ident__hold(id, 1000000000ull);
	ident__tick(id);
	CHECK(ident__lookup(id, 0, me) != NULL);
	CHECK(ident__lookup(id, 0, parent) != NULL);
	nanosleep(&ts, NULL);
	ident__tick(id);
	/* full, none idle, both held: no room, as before */
	CHECK(ident__lookup(id, 0, kid) == NULL);
	ident__free(id);

	id = ident__new(true);
	REQUIRE(id);
	ident__set_capacity(id, 64, 2, 3600 * 1000000000ull, 0, 1000000ull);
	ident__tick(id);
	CHECK(ident__lookup(id, 0, me) != NULL);
	CHECK(ident__lookup(id, 0, parent) != NULL);
	nanosleep(&ts, NULL);
	ident__tick(id);
	/* held by no report: the two read 20 ms ago make room, and come back when asked */
	CHECK(ident__lookup(id, 0, kid) != NULL);
	CHECK(ident__lookup(id, 0, me) != NULL);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
	ident__free(id);
}

/*
 * --cgroup on replay as a live run takes it, a directory under the v2
 * mount: the capture's names are paths in the hierarchy, so the mount goes
 * (an empty replay, exit 0, before).  A path in the hierarchy stays.
 */
TEST(ident_replay_cgroup_under_the_v2_mount_loses_the_mount)
{
	static const struct {
		const char *arg, *want;
	} cases[] = {
		{ "/sys/fs/cgroup/unified/libpod_parent/", "/libpod_parent" },
		{ "/sys/fs/cgroup/system.slice/nginx.service", "/system.slice/nginx.service" },
		{ "/sys/fs/cgroup/unified", "/" },
		{ "/libpod_parent", "/libpod_parent" },
		{ "/sys/fs/cgroupx/a", "/sys/fs/cgroupx/a" },
		/* as realpath() tidies it live */
		{ "/sys/fs/cgroup/unified//libpod_parent", "/libpod_parent" },
		{ "/sys/fs/cgroup/unified/x/../libpod_parent/./", "/libpod_parent" },
		{ "//a///b/", "/a/b" },
		{ "/../..", "/" },
		{ "/", "/" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_opts o = { .read_path = "x.ttcap" };

		/* not zeros past the NUL: the tidying must stop at it */
		memset(o.cgroup_path, 'x', sizeof(o.cgroup_path));
		snprintf(o.cgroup_path, sizeof(o.cgroup_path), "%s", cases[i].arg);
		CHECK_EQ_INT(tt_opts_resolve_cgroup(&o), 0);
		CHECK_STR(o.cgroup_path, cases[i].want);
	}
}
