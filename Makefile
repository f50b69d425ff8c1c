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

LIBS_PC  := libbpf libelf zlib libmnl
CFLAGS   ?= -g -O2
WARN     := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
INCLUDES := -Iinclude -Iuser -I$(OUTPUT)
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $(INCLUDES) $(SAN_CFLAGS) \
	     $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
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

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard user/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# Everything but main(): what the unit tests link against.
LIB_OBJS  := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%.o,$(UNIT_SRCS))
DRIVERS   := $(patsubst tests/drivers/%.c,$(OUTPUT)/drivers/%,$(wildcard tests/drivers/*.c))

.DELETE_ON_ERROR:
.SECONDARY: $(BPF_OBJS)
.PHONY: all deps run test unit ktest vmtest clean fuzz bench install

all: tcptrail

deps:
	$(Q)INSTALL=$(INSTALL) tests/deps.sh

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/unit $(OUTPUT)/drivers:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c include/tcptrail.h vmlinux/$(ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Iinclude \
		$(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null) -Wall -Wno-unused-function \
		-c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/user/%.o: user/%.c $(wildcard user/*.h) include/tcptrail.h $(SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

tcptrail: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The same program, statically linked, for the busybox-only qemu guest.
$(OUTPUT)/tcptrail-static: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) -static $^ $(shell $(PKG_CONFIG) --static --libs $(LIBS_PC)) -lm -o $@

$(OUTPUT)/unit/%.o: tests/unit/%.c tests/unit/tt_test.h $(wildcard user/*.h) include/tcptrail.h | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -c $< -o $@

$(OUTPUT)/unit_tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) $(UNIT_LDLIBS) -o $@

# Kernel-test traffic drivers: static, so the qemu guest can run them too.
$(OUTPUT)/drivers/%: tests/drivers/%.c | $(OUTPUT)/drivers
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -static $< -o $@

# run and test install what is missing first, then build in a second make, so
# that pkg-config and bpftool are there when the build's variables are read.
run:
	$(Q)INSTALL=1 tests/deps.sh
	$(Q)$(MAKE) --no-print-directory tcptrail
	./tcptrail $(ARGS)

unit: $(OUTPUT)/unit_tests
	$(Q)$(OUTPUT)/unit_tests

test:
	$(Q)INSTALL=1 tests/deps.sh
	$(Q)$(MAKE) --no-print-directory tcptrail $(OUTPUT)/unit_tests $(DRIVERS)
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh $(TESTS)

# Kernel tests inside a qemu guest running Debian's 6.1 cloud kernel (tests/vm/README.md).
vmtest: $(OUTPUT)/tcptrail-static $(DRIVERS)
	$(Q)OUTPUT=$(OUTPUT) tests/vm/vmtest.sh $(VMTEST_ARGS)

ktest: tcptrail $(DRIVERS)
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh kernel

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf .output .output-san tcptrail
