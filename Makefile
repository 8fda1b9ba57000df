# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make            build .output/dicomon (BPF objects, skeletons, binary)
# make test       unit + BPF (BPF_PROG_TEST_RUN) + end-to-end tests (root)
# make bench      per-packet cost against a no-op XDP program
# make deps       install build and test dependencies from Debian's packages
# make vmlinux    regenerate vmlinux/vmlinux.h from the running kernel's BTF
# make V=1        show the commands
.DELETE_ON_ERROR:
.SUFFIXES:

OUTPUT ?= .output
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= gcc
VERSION := 0.1.0
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' \
	-e 's/riscv64/riscv/' -e 's/s390x/s390/' -e 's/loongarch64/loongarch/')

WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
USER_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DDICOMON_VERSION='"$(VERSION)"' \
	-Iinclude -Iuserspace -I$(OUTPUT)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -Ivmlinux -Iinclude -Ibpf
LIBS := -lbpf -lelf -lz -ljson-c

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_HDRS := $(wildcard bpf/*.bpf.h) include/dicomon.h vmlinux/vmlinux.h
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
USER_SRCS := $(wildcard userspace/*.c)
USER_HDRS := $(wildcard userspace/*.h) include/dicomon.h
USER_OBJS := $(patsubst userspace/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
# Everything but main.o is shared with the test and bench programs.
LIB_OBJS := $(filter-out $(OUTPUT)/user/main.o,$(USER_OBJS))

TESTLIB_OBJS := $(OUTPUT)/tests/pktbuild.o
BPF_TEST := $(OUTPUT)/tests/test_bpf
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c)) \
	$(OUTPUT)/tests/pktbuild_selftest
BENCH := $(OUTPUT)/tests/bench

# The objects are inputs of the skeletons and also used as they are (bench, e2e).
.SECONDARY: $(BPF_OBJS)

.PHONY: all clean test test-unit test-bpf test-e2e bench deps vmlinux format
all: $(OUTPUT)/dicomon

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@

$(OUTPUT)/user/%.o: userspace/%.c $(USER_HDRS) $(SKELS) | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/dicomon: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ -o $@ $(LIBS)

$(OUTPUT)/tests/%.o: tests/lib/%.c tests/lib/%.h | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/lib -c $< -o $@

$(BPF_TEST): tests/bpf/test_bpf.c $(TESTLIB_OBJS) $(LIB_OBJS) $(SKELS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/lib $(filter %.c %.o,$^) -o $@ $(LIBS) -lcmocka

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(TESTLIB_OBJS) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/lib $(filter %.c %.o,$^) -o $@ $(LIBS) -lcmocka

$(OUTPUT)/tests/pktbuild_selftest: tests/lib/pktbuild_selftest.c $(TESTLIB_OBJS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/lib $^ -o $@

$(BENCH): tests/bench/bench.c $(TESTLIB_OBJS) $(LIB_OBJS) $(SKELS) | $(OUTPUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/lib $(filter %.c %.o,$^) -o $@ $(LIBS)

test: test-unit test-bpf test-e2e

# Userspace only, no root needed.
test-unit: $(UNIT_TESTS)
	$(Q)for t in $(UNIT_TESTS); do $$t || exit 1; done
	$(Q)python3 tests/e2e/test_check_events.py

test-bpf: $(BPF_TEST)
	$(Q)$(BPF_TEST)

$(OUTPUT)/tests/vlan_toggle.bpf.o: tests/e2e/vlan_toggle.bpf.c vmlinux/vmlinux.h | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

test-e2e: $(OUTPUT)/dicomon $(OUTPUT)/tests/vlan_toggle.bpf.o
	$(Q)DICOMON=$(abspath $(OUTPUT)/dicomon) tests/e2e/test_dcmtk.sh
	$(Q)DICOMON=$(abspath $(OUTPUT)/dicomon) \
		VLAN_TOGGLE_OBJ=$(abspath $(OUTPUT)/tests/vlan_toggle.bpf.o) tests/e2e/test_vlan.sh

bench: $(BENCH)
	$(Q)$(BENCH) $(BENCH_ARGS)

deps:
	$(Q)scripts/install-deps.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h.new
	mv vmlinux/vmlinux.h.new vmlinux/vmlinux.h
	@echo "regenerated from $$(uname -r) with $$($(BPFTOOL) version | head -1); update vmlinux/README.md"

format:
	clang-format -i bpf/*.c bpf/*.h include/*.h userspace/*.c userspace/*.h tests/*/*.c tests/*/*.h

clean:
	rm -rf $(OUTPUT)
