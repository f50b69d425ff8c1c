# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make            build ./tcptrail
# make deps       check (and with INSTALL=1 install) the Debian packages needed
# make run        build, then trace this host (root)
# make test       unit tests (no root) + kernel tests (root, BPF) + qemu guest tests
# make unit       unit tests only
# make V=1        show the commands

OUTPUT   := .output
CLANG    ?= clang
CC       ?= cc
BPFTOOL  ?= bpftool
PKG_CONFIG ?= pkg-config
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

LIBS_PC  := libbpf libelf zlib libdeflate libsystemd
CFLAGS   ?= -g -O2
WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
INCLUDES  = -Iinclude -Iuser -I$(OUTPUT)
# -MMD -MP: each object's header dependencies, from the compiler, in a .d
# file next to it (included at the end); no header list is kept by hand.
DEPFLAGS := -MMD -MP
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $(INCLUDES) $(SAN_CFLAGS) $(DEPFLAGS) \
	     $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
# The test traffic drivers and the bench tools: libc only, and static, so
# that the busybox qemu guest and a busybox container run them as they are.
DRIVER_CFLAGS := -O2 -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -static $(DEPFLAGS)
LDLIBS   = $(shell $(PKG_CONFIG) --libs $(LIBS_PC) 2>/dev/null) -lm
# jansson parses our JSON back in the unit tests; tcptrail itself does not link it
UNIT_LDLIBS = $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)

ifeq ($(SANITIZE),1)
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
OUTPUT     := .output-san
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# bpf/: one file per capability, each compiled alone, then linked into one
# object, tcptrail.bpf.o, with one skeleton (retsnoop's way).  Any other
# bpf/*.bpf.c is an object and a skeleton of its own.
TT_BPF_PARTS := maps transitions time_wait overflow owner resets
TT_BPF_SRCS  := $(patsubst %,bpf/%.bpf.c,$(TT_BPF_PARTS))
TT_BPF_PART_OBJS := $(patsubst %,$(OUTPUT)/bpf/%.bpf.o,$(TT_BPF_PARTS))
OTHER_BPF_SRCS := $(filter-out $(TT_BPF_SRCS),$(wildcard bpf/*.bpf.c))
BPF_HDRS  := $(wildcard bpf/*.bpf.h) $(wildcard include/*.h) vmlinux/$(ARCH)/vmlinux.h
BPF_OBJS  := $(OUTPUT)/tcptrail.bpf.o $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(OTHER_BPF_SRCS))
SKELS     := $(BPF_OBJS:.bpf.o=.skel.h)
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# Everything but main(): what the unit tests link against.
LIB_OBJS  := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%.o,$(UNIT_SRCS))
DRIVERS   := $(patsubst tests/drivers/%.c,$(OUTPUT)/drivers/%,$(wildcard tests/drivers/*.c))

.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS) $(TT_BPF_PART_OBJS) \
	    $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(OTHER_BPF_SRCS))
.PHONY: all deps run test unit ktest vmtest clean fuzz soak bench bench-scaling bench-locks bench-hooks \
	install uninstall

all: tcptrail

deps:
	$(Q)INSTALL=$(INSTALL) tests/deps.sh

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/user $(OUTPUT)/unit $(OUTPUT)/drivers:
	$(Q)mkdir -p $@

# Before the first compile: a missing build dependency is named in one line
# (clang crashed on a missing libbpf header), and `make deps` names its
# package.  Checked once per $(OUTPUT); `make clean` checks again.
$(OUTPUT)/build-deps.ok: | $(OUTPUT)
	$(Q)PATH=$$PATH:/usr/local/sbin:/usr/sbin:/sbin; missing=; \
	for p in $(LIBS_PC); do $(PKG_CONFIG) --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	for c in $(CLANG) $(CC) $(BPFTOOL) $(PKG_CONFIG); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
		echo "make: cannot build, missing:$$missing ('make deps' names the Debian packages; 'make deps INSTALL=1' installs them)" >&2; \
		exit 2; \
	fi; \
	touch $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUTPUT)/bpf $(OUTPUT)/build-deps.ok
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Iinclude \
		$(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null) -Wall -Wno-unused-function \
		-c $< -o $@

# maps.bpf.c defines what the others declare extern: the linker joins them.
$(OUTPUT)/tcptrail.bpf.o: $(TT_BPF_PART_OBJS) | $(OUTPUT)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/%.bpf.o: $(OUTPUT)/bpf/%.bpf.o | $(OUTPUT)
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

# test_bpfobj opens the object embedded in the skeleton
$(OUTPUT)/unit/test_bpfobj.o: $(OUTPUT)/tcptrail.skel.h

# bpf/iter.bpf.c: the one-walk socket reader of the seed and the census, an
# object and skeleton of its own (loaded for them only), with its own record
$(OUTPUT)/iter.bpf.o $(OUTPUT)/user/sockwalk.o $(OUTPUT)/unit/test_sockwalk.o: include/ttwalk.h

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# The skeletons exist before any user/ object is compiled; the .d files
# then name those that include one.
$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user $(SKELS) $(OUTPUT)/build-deps.ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

tcptrail: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The same program, statically linked, for the busybox-only qemu guest.
# Debian ships no static libsystemd: this one build has no --journal or
# sd_notify (journal.c built with TT_NO_LIBSYSTEMD says so when asked).
STATIC_LIBS_PC := $(filter-out libsystemd,$(LIBS_PC))
STATIC_OBJS := $(filter-out $(OUTPUT)/user/journal.o,$(USER_OBJS)) $(OUTPUT)/user/journal-nosd.o
$(OUTPUT)/user/journal-nosd.o: user/journal.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -DTT_NO_LIBSYSTEMD -c $< -o $@

$(OUTPUT)/tcptrail-static: $(STATIC_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) -static $^ $(shell $(PKG_CONFIG) --static --libs $(STATIC_LIBS_PC)) -lm -o $@

# The unit tests parse JSON back with jansson, which tcptrail does not link.
$(OUTPUT)/unit-deps.ok: | $(OUTPUT)/build-deps.ok
	$(Q)$(PKG_CONFIG) --exists jansson 2>/dev/null || { \
		echo "make: cannot build the unit tests, missing: jansson ('make deps' names the Debian packages; 'make deps INSTALL=1' installs them)" >&2; \
		exit 2; }; \
	touch $@

$(OUTPUT)/unit/%.o: tests/unit/%.c | $(OUTPUT)/unit $(OUTPUT)/unit-deps.ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c $< -o $@

$(OUTPUT)/unit_tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) $(UNIT_LDLIBS) -o $@

# Kernel-test traffic drivers (DRIVER_CFLAGS: static).
$(OUTPUT)/drivers/%: tests/drivers/%.c | $(OUTPUT)/drivers $(OUTPUT)/build-deps.ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(DRIVER_CFLAGS) $< -o $@

# run and test install what is missing first, then build in a second make, so
# that pkg-config and bpftool are there when the build's variables are read.
run:
	$(Q)INSTALL=1 tests/deps.sh build
	$(Q)$(MAKE) --no-print-directory tcptrail
	./tcptrail $(ARGS)

unit: $(OUTPUT)/unit_tests
	$(Q)$(OUTPUT)/unit_tests

test:
	$(Q)INSTALL=1 tests/deps.sh
	$(Q)$(MAKE) --no-print-directory tcptrail $(OUTPUT)/unit_tests $(DRIVERS) $(OUTPUT)/bench/ttload \
		$(OUTPUT)/bench/progstat $(OUTPUT)/tools/nokconfig.so $(OUTPUT)/tools/clockstep.so \
		$(OUTPUT)/tools/sockops_clear.bpf.o
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh $(TESTS)

# Kernel tests inside qemu guests running Debian's 6.12, 6.1 and 5.10 cloud
# kernels, side by side (tests/vm/README.md).  On 6.12 every attach mode
# (fentry, kprobe, tp_btf, tracepoint) must pass the transitions, TIME-WAIT,
# overflow, cgroup, sock_ops and CLOSE-WAIT scenarios, two modes in each of
# two guests; on 6.1 every mode runs a short list, one scenario of each hook
# (VM_SHORT), in a third, and on 5.10 (Debian 11's, from its bullseye suites)
# the typed modes, fentry and tp_btf, whose programs load differently before
# 5.12, run it in a fourth (kprobe and tracepoint passed it by hand).  A guest
# mostly waits, so four keep the tier near 7 minutes.  The rest
# of the kernel tier runs on the host.  VM_TESTS=... sets the list for 6.12
# and 6.1 (5.10 counts TIME-WAIT at expiry, which only tw-clean's check
# allows for), VM_KERNELS=... the kernels (meta-packages, SUITE/META for
# another Debian release's, META@M,N for modes and META:A,B for a list of its
# own), ATTACH_MODES=... the modes.
VM_SCENARIOS := active passive tw-clean tw-peer-rst tw-shutdown-rst tw-simultaneous \
		tw-linger2 tw-fin-wait2-abort tw-orphan overflow-accept overflow-syn overflow-both \
		cgroup sock-ops flow-stats capture-flows close-wait close-wait-pid stuck-listener \
		connect-fail
VM_SHORT := active passive tw-clean overflow-accept overflow-syn cgroup sock-ops flow-stats \
		close-wait stuck-listener
vm_comma := ,
vm_empty :=
vm_space := $(vm_empty) $(vm_empty)
ifeq ($(origin VM_TESTS)$(origin ATTACH_MODES),undefinedundefined)
VM_KERNELS ?= linux-image-6.12-cloud-amd64@fentry,kprobe \
	linux-image-6.12-cloud-amd64@tp_btf,tracepoint \
	linux-image-cloud-amd64:$(subst $(vm_space),$(vm_comma),$(strip $(VM_SHORT))) \
	bullseye/linux-image-cloud-amd64@fentry,tp_btf:$(subst $(vm_space),$(vm_comma),$(strip $(VM_SHORT)))
else ifeq ($(origin VM_TESTS),undefined)
VM_KERNELS ?= linux-image-6.12-cloud-amd64 \
	linux-image-cloud-amd64:$(subst $(vm_space),$(vm_comma),$(strip $(VM_SHORT))) \
	bullseye/linux-image-cloud-amd64:$(subst $(vm_space),$(vm_comma),$(strip $(VM_SHORT)))
else
VM_KERNELS ?= linux-image-6.12-cloud-amd64 linux-image-cloud-amd64
endif
VM_TESTS ?= $(patsubst %,tests/kernel/%.sh,$(VM_SCENARIOS))
vmtest: $(OUTPUT)/tcptrail-static $(DRIVERS)
	$(Q)OUTPUT=$(OUTPUT) VM_TESTS="$(VM_TESTS)" VM_KERNELS="$(VM_KERNELS)" \
		tests/vm/vmtest.sh $(VMTEST_ARGS)

ktest: tcptrail $(DRIVERS) $(OUTPUT)/bench/ttload $(OUTPUT)/bench/progstat \
	$(OUTPUT)/tools/nokconfig.so $(OUTPUT)/tools/clockstep.so $(OUTPUT)/tools/sockops_clear.bpf.o
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh kernel

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf .output .output-san tcptrail

# ---------------------------------------------------------------- hardening
#
# make fuzz       build tests/fuzz/fuzz_*.c (libFuzzer, ASan, UBSan) and run
#                 each from tests/fuzz/corpus/NAME for FUZZ_SECONDS (30)
# make soak       60 s at the full loopback connection rate under tcptrail
#                 (tests/soak/soak.sh; root): nothing lost, counts match the
#                 kernel's, memory flat
# make test SANITIZE=1   the unit and kernel tiers built with ASan + UBSan
#                 (.output-san); the vm tier, which needs the static build,
#                 is skipped with its reason

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
# every user/ source but main(), compiled with the fuzzer's instrumentation
FUZZ_LIB     := $(filter-out user/main.c,$(USER_SRCS))
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE $(INCLUDES) \
		$(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
SOAK_SECONDS ?= 60

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB) $(wildcard user/*.h) $(wildcard include/*.h) $(SKELS) | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_LIB) $(LDLIBS) -o $@

# The corpus each run grows stays in $(OUTPUT)/fuzz/corpus-NAME; a crash is
# saved as $(OUTPUT)/fuzz/crash-* and fails the target.
fuzz: $(FUZZ_BINS)
	$(Q)for f in $(FUZZ_BINS); do \
		name=$${f##*/fuzz_}; \
		mkdir -p $(OUTPUT)/fuzz/corpus-$$name || exit 1; \
		echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -max_len=65536 \
			-artifact_prefix=$(OUTPUT)/fuzz/ $(OUTPUT)/fuzz/corpus-$$name \
			tests/fuzz/corpus/$$name 2>$(OUTPUT)/fuzz/$$name.log || \
			{ tail -n 40 $(OUTPUT)/fuzz/$$name.log; exit 1; }; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)' $(OUTPUT)/fuzz/$$name.log | \
			sed "s/^/fuzz: $$name /"; \
	done

soak:
	$(Q)INSTALL=1 tests/deps.sh
	$(Q)$(MAKE) --no-print-directory tcptrail $(OUTPUT)/drivers/ttstress $(OUTPUT)/drivers/ttdrive
	$(Q)OUTPUT=$(OUTPUT) SOAK_SECONDS=$(SOAK_SECONDS) tests/run.sh soak

# A skeleton made in this run is no intermediate to delete at its end (which
# had every SANITIZE=1 build compile everything again).
.SECONDARY: $(SKELS)

# Under SANITIZE=1 the tests run their own copy, $(OUTPUT)/tcptrail: other
# builds in this tree relink ./tcptrail whenever they like.  It is linked
# along with the unit tests, which `make test` builds after tests/deps.sh.
ifeq ($(SANITIZE),1)
export TCPTRAIL = $(OUTPUT)/tcptrail
$(OUTPUT)/tcptrail: $(USER_OBJS) | $(OUTPUT)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
$(OUTPUT)/unit_tests: | $(OUTPUT)/tcptrail
endif

# ./tcptrail is linked from $(OUTPUT): .output/tcptrail.flavor names the
# build it is and changes only when the build does.  Through main.o, a change
# relinks ./tcptrail, so that a plain `make` after `make test SANITIZE=1`
# links the plain program again.
TT_FLAVOR := $(if $(filter 1,$(SANITIZE)),sanitize,plain)
$(shell mkdir -p .output && { [ "$$(cat .output/tcptrail.flavor 2>/dev/null)" = $(TT_FLAVOR) ] || \
	echo $(TT_FLAVOR) > .output/tcptrail.flavor; })
$(OUTPUT)/user/main.o: .output/tcptrail.flavor

# ---------------------------------------------------------------- install
#
# make install     the binary to $(DESTDIR)$(PREFIX)/sbin/tcptrail, the man
#                  page to share/man/man8, the systemd unit, with the
#                  binary's path written into it, to lib/systemd/system, and
#                  its tmpfiles.d entry (the unit's --metrics-file directory)
#                  to lib/tmpfiles.d/tcptrail.conf; without DESTDIR it also
#                  makes that directory now (systemd-tmpfiles --create)
# make uninstall   removes those four files, and the unit's metrics file
#
# PREFIX is /usr/local unless given; DESTDIR stages the tree for a package.
# The unit stays under PREFIX too: systemd reads /usr/local/lib/systemd/system
# as well as /lib/systemd/system, and the latter is the packages' (dpkg's).

PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d

# The unit is written at install time, so a different PREFIX is never stale.
install: tcptrail
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/tcptrail)
	$(Q)install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	$(Q)install -m 0755 tcptrail $(DESTDIR)$(SBINDIR)/tcptrail
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR)/man8/tcptrail.8)
	$(Q)install -m 0644 user/tcptrail.8 $(DESTDIR)$(MANDIR)/man8/tcptrail.8
	$(call msg,INSTALL,$(DESTDIR)$(UNITDIR)/tcptrail.service)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' user/tcptrail.service > $(DESTDIR)$(UNITDIR)/tcptrail.service.tmp
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/tcptrail.service.tmp
	$(Q)mv -f $(DESTDIR)$(UNITDIR)/tcptrail.service.tmp $(DESTDIR)$(UNITDIR)/tcptrail.service
	$(call msg,INSTALL,$(DESTDIR)$(TMPFILESDIR)/tcptrail.conf)
	$(Q)install -D -m 0644 user/tcptrail.tmpfiles $(DESTDIR)$(TMPFILESDIR)/tcptrail.conf
	$(Q)if [ -z "$(DESTDIR)" ] && command -v systemd-tmpfiles >/dev/null; then \
		systemd-tmpfiles --create $(TMPFILESDIR)/tcptrail.conf; fi

uninstall:
	$(call msg,RM,tcptrail and its man page and unit and tmpfiles.d entry from $(DESTDIR)$(PREFIX); its metrics file)
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/tcptrail $(DESTDIR)$(MANDIR)/man8/tcptrail.8 \
		$(DESTDIR)$(UNITDIR)/tcptrail.service $(DESTDIR)$(TMPFILESDIR)/tcptrail.conf \
		$(DESTDIR)/var/lib/prometheus/node-exporter/tcptrail.prom

# `make bench`: overhead, throughput and memory next to tcpstates (root, ~7 min; tests/bench/bench.sh)
BENCH_BINS := $(OUTPUT)/bench/ttload $(OUTPUT)/bench/flowmem $(OUTPUT)/bench/gencap

$(OUTPUT)/bench:
	$(Q)mkdir -p $@

# The load generator: libc only, like the test drivers.
$(OUTPUT)/bench/ttload: tests/bench/ttload.c | $(OUTPUT)/bench $(OUTPUT)/build-deps.ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(DRIVER_CFLAGS) $< -o $@

# A synthetic capture to time the daemon's userspace by replay: libc only.
$(OUTPUT)/bench/gencap: tests/bench/gencap.c | $(OUTPUT)/bench $(OUTPUT)/build-deps.ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(DRIVER_CFLAGS) -Iinclude $< -o $@

# The flow engine alone at 1M flows: no BPF, no root.
$(OUTPUT)/bench/flowmem.o: tests/bench/flowmem.c | $(OUTPUT)/bench $(OUTPUT)/build-deps.ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUTPUT)/bench/flowmem: $(OUTPUT)/bench/flowmem.o $(OUTPUT)/user/engine.o $(OUTPUT)/user/flowtab.o \
			 $(OUTPUT)/user/flowrec.o $(OUTPUT)/user/util.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -lm -o $@

bench: tcptrail $(BENCH_BINS)
	$(Q)OUTPUT=$(OUTPUT) INSTALL=$(INSTALL) sh tests/bench/bench.sh

# `make bench-scaling`: the connection-rate ratio from 1+1 to N+N load
# processes (PROCS="1 2 4 8 16", up to the CPU count), with the static
# pieces it needs, which also run on a host with nothing installed
# (tests/bench/scaling.sh says how).  Root; about 30 s per process count.
bench-scaling: $(OUTPUT)/tcptrail-static $(OUTPUT)/bench/ttload
	$(Q)OUTPUT=$(OUTPUT) TT=$(OUTPUT)/tcptrail-static LOAD=$(OUTPUT)/bench/ttload \
		sh tests/bench/scaling.sh

# The kernel tests' LD_PRELOAD shims: nokconfig.so, a host without a kernel
# config (no-kconfig.sh); clockstep.so, the time set while tcptrail runs
# (clock-step.sh).
$(OUTPUT)/tools/%.so: tests/tools/%.c | $(OUTPUT)/build-deps.ok
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -shared -fPIC $< -o $@ -ldl

# Another tool's BPF program, for sock-ops-other.sh (bpftool loads it).
$(OUTPUT)/tools/%.bpf.o: tests/tools/%.bpf.c | $(OUTPUT)/build-deps.ok
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) \
		$(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null) -Wall -c $< -o $@

# The BPF programs a process holds, with their run statistics (the guest has no bpftool).
$(OUTPUT)/bench/progstat: tests/bench/progstat.c | $(OUTPUT)/bench $(OUTPUT)/build-deps.ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(DRIVER_CFLAGS) $< -o $@

# `make bench-hooks`: each attach mode's programs, their runs and BPF ns a
# connection, in the qemu guests (6.12, 6.1, 5.10), where fentry and kprobes
# load (tests/bench/hooks.sh; root, about 10 minutes under TCG, whose
# nanoseconds are emulated: VM_ACCEL=kvm where the host has KVM).
bench-hooks: $(OUTPUT)/tcptrail-static $(OUTPUT)/bench/ttload $(OUTPUT)/bench/progstat $(DRIVERS)
	$(Q)OUTPUT=$(OUTPUT) sh tests/bench/hooks.sh

# `make bench-locks`: during a traced load run, the share of CPU time in
# spinlocks and BPF map locks, and who took them (tests/bench/locks.sh;
# root, perf).  `make bench` runs it too.
bench-locks: tcptrail $(OUTPUT)/bench/ttload
	$(Q)OUTPUT=$(OUTPUT) sh tests/bench/locks.sh

# The header dependencies -MMD wrote (none before the first build).
-include $(wildcard $(OUTPUT)/user/*.d $(OUTPUT)/unit/*.d $(OUTPUT)/drivers/*.d \
	$(OUTPUT)/bench/*.d)
