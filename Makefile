# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bpflab: BPF objects -> skeletons -> one self-contained binary.
# Quiet by default; `make V=1` shows full commands. Output goes to $(OUT), never the tree.

OUT      ?= .output
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH:= $(shell $(CC) -print-multiarch 2>/dev/null)
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   := $(PREFIX)/bin
MANDIR   := $(PREFIX)/share/man/man1
COMPDIR  := $(PREFIX)/share/bash-completion/completions

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# One folder per feature (docs/DEVELOPING.md): src/<feature>/ holds its BPF programs, the
# types both sides share and its user side; src/lib and src/bpf know no feature.
FEATURES  := $(patsubst src/%/,%,$(filter-out src/lib/ src/bpf/,$(sort $(dir $(wildcard src/*/*)))))
BPF_SRCS  := $(wildcard src/*/*.bpf.c)
BPF_OBJS  := $(patsubst %.bpf.c,$(OUT)/bpf/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS     := $(patsubst %.bpf.c,$(OUT)/skel/%.skel.h,$(notdir $(BPF_SRCS)))
LIB_SRCS  := $(filter-out %.bpf.c,$(wildcard src/lib/*.c $(FEATURES:%=src/%/*.c))) $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS  := $(patsubst src/%.c,$(OUT)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ  := $(OUT)/obj/main.o
TEST_DIRS := unit prog fuzz
TEST_SRCS := $(wildcard $(TEST_DIRS:%=tests/%/test_*.c))
TEST_BINS := $(patsubst %.c,$(OUT)/tests/%,$(notdir $(TEST_SRCS)))
FEAT_INC  := $(FEATURES:%=-Isrc/%)
vpath %.bpf.c $(FEATURES:%=src/%)
vpath test_%.c $(TEST_DIRS:%=tests/%)
VMLINUX   := $(OUT)/include/vmlinux.h
# The kernel whose BTF made vmlinux.h (recorded beside it), for `bpflab --version`.
BUILD_KERNEL := $(shell cat $(OUT)/include/vmlinux.release 2>/dev/null || uname -r)

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(OUT)/include -Isrc/bpf $(FEAT_INC) -I/usr/include/$(MULTIARCH)
CFLAGS   ?= -O2 -g
# -Wno-format-truncation: snprintf truncating is the intended, safe outcome where we use it;
# GCC's guess at path lengths would otherwise force PATH_MAX-sized buffers everywhere.
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation \
	-Isrc -Isrc/lib -Isrc/bpf $(FEAT_INC) -I$(OUT)/skel -DBPFLAB_VERSION='"$(VERSION)"' \
	-DBPFLAB_BUILD_KERNEL='"$(BUILD_KERNEL)"' -MMD -MP
LDLIBS   += -lbpf -lelf -lz -lm

.SECONDARY:
.PHONY: all deps test demo bench clean distclean tests install uninstall
all: $(OUT)/bpflab

# vmlinux.h is generated from the build machine's BTF, not committed: it is ~3 MB of
# generated text tied to one kernel, and CO-RE relocations make the result portable anyway.
$(VMLINUX):
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)test -r /sys/kernel/btf/vmlinux || { echo "error: /sys/kernel/btf/vmlinux missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y to build bpflab's tracing programs" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@
	$(Q)uname -r > $(@D)/vmlinux.release

$(OUT)/bpf/%.bpf.o: %.bpf.c $(wildcard src/bpf/*.h src/*/*.h) $(VMLINUX)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/skel/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(OUT)/obj/%.o: src/%.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libbpflab.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/bpflab: $(MAIN_OBJ) $(OUT)/libbpflab.a
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
	$(Q)if [ "$(OUT)" = .output ]; then ln -sf $(abspath $@) bpflab; fi

$(OUT)/tests/%: %.c tests/lib/tap.h $(OUT)/libbpflab.a
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MF $@.dep -Itests/lib $< $(OUT)/libbpflab.a $(LDLIBS) -o $@

tests: $(OUT)/bpflab $(TEST_BINS)

deps:
	$(Q)scripts/deps.sh

# The README's two commands. Both install what is missing, then build, as root.
test: deps
	$(Q)scripts/as-root.sh $(MAKE) --no-print-directory tests
	$(Q)scripts/as-root.sh env OUT=$(OUT) tests/run

demo: deps
	$(Q)scripts/as-root.sh $(MAKE) --no-print-directory all
	$(Q)scripts/as-root.sh env OUT=$(OUT) demo/demo.sh

bench: deps
	$(Q)scripts/as-root.sh $(MAKE) --no-print-directory all
	$(Q)scripts/as-root.sh env OUT=$(OUT) bench/run

# The differential fuzzer at full size (issue 10): 10^6 packets per target, a fresh seed
# unless FUZZ_SEED is set; `make test` runs it at 10^5 with a fixed seed.
.PHONY: fuzz
fuzz: deps
	$(Q)scripts/as-root.sh $(MAKE) --no-print-directory $(OUT)/tests/test_fuzz
	$(Q)seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "fuzz: seed $$seed, $${FUZZ_PACKETS:-1000000} packets per target"; \
	scripts/as-root.sh env FUZZ_SEED=$$seed FUZZ_PACKETS=$${FUZZ_PACKETS:-1000000} $(OUT)/tests/test_fuzz

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT) bpflab

# Every build folder (.output, .output-*), not only this OUT: back to a fresh checkout.
distclean: clean
	$(call msg,CLEAN,.output*)
	$(Q)rm -rf .output .output-* bpflab

# Man pages and the bash completion are generated by the binary from its command table
# and option tables (`bpflab --man CMD`, `bpflab --completion`): never written twice.
COMMANDS = $(shell grep '^CMD' src/commands.def | cut -d, -f1 | cut -c5-)
$(OUT)/man/.stamp: $(OUT)/bpflab src/commands.def
	$(call msg,GEN,$(OUT)/man $(OUT)/completion)
	$(Q)mkdir -p $(OUT)/man $(OUT)/completion
	$(Q)$(OUT)/bpflab --man bpflab > $(OUT)/man/bpflab.1
	$(Q)for c in $(COMMANDS); do $(OUT)/bpflab --man $$c > $(OUT)/man/bpflab-$$c.1 || exit 1; done
	$(Q)$(OUT)/bpflab --completion > $(OUT)/completion/bpflab
	$(Q)touch $@

install: $(OUT)/bpflab $(OUT)/man/.stamp
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 755 $(OUT)/bpflab $(DESTDIR)$(BINDIR)/bpflab
	$(Q)install -d $(DESTDIR)$(MANDIR) && install -m 644 $(OUT)/man/*.1 $(DESTDIR)$(MANDIR)/
	$(Q)install -D -m 644 $(OUT)/completion/bpflab $(DESTDIR)$(COMPDIR)/bpflab

uninstall:
	$(Q)rm -f $(DESTDIR)$(BINDIR)/bpflab $(DESTDIR)$(COMPDIR)/bpflab $(DESTDIR)$(MANDIR)/bpflab.1 \
		$(foreach c,$(COMMANDS),$(DESTDIR)$(MANDIR)/bpflab-$(c).1)

# Test dependencies are *.dep, not *.d: a build folder from before the tests moved to
# tests/unit|prog|fuzz has .d files naming tests/c/ sources that no longer exist.
-include $(wildcard $(OUT)/obj/*.d $(OUT)/obj/*/*.d $(OUT)/tests/*.dep)
