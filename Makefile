# kaslr.so - recover KERNELOFFSET and phys_base for crash on dumps without vmcoreinfo
#
# Copyright (C) 2026 The kaslr.so authors
# SPDX-License-Identifier: GPL-2.0-or-later
#
#   make                  kaslr.so and kaslr-find
#   make CRASH_SRC=DIR    build against another crash's defs.h (a source tree or an
#                         include/crash directory); kaslr.so refuses any crash
#                         release but that header's (CRASH_VERSION=X.Y.Z where
#                         tests/lib/crash-release.sh cannot tell it)
#   make versions         build/crash-VER/kaslr.so for every crash the lab has
#                         (tests/lab/crash-versions.sh: the system's, 7.2.9, 8.0.6, 9.0.2)
#   make arm64            build/arm64-crash-VER/kaslr.so for every arm64 crash the lab has
#                         (crash-versions.sh arm64 8.0.2 / list-arm64), cross-built with
#                         aarch64-linux-gnu-gcc against that crash's arm64 root as sysroot
#   make check            every test (unit, fixtures, real dumps); last line "N passed, N failed"
#   make demo             set up the lab, make one real dump, open it in crash with the module
#   make install          DESTDIR, PREFIX (default /usr), EXTDIR (default PREFIX/lib64/crash/
#                         extensions, Fedora's; Debian's crash reads /usr/lib/crash/extensions)
#   make extensions       when dropped into crash's extensions/ directory
#   make dist             build/dist/crash-kaslr-VERSION.tar.gz, the tree the packages build from
#   make deb              Debian packages crash-kaslr and kaslr-find in build/deb/ (debian/,
#                         dpkg-buildpackage -us -uc -b)
#   make rpm              RPMs crash-kaslr-command and kaslr-find in build/rpm/ (kaslr.spec)
#   make packages         both

TARGET ?= $(shell uname -m | sed -e 's/x86_64/X86_64/' -e 's/aarch64/ARM64/')
PREFIX ?= /usr
EXTDIR ?= $(PREFIX)/lib64/crash/extensions
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

# defs.h: CRASH_SRC= (and nothing else when given), else ./, ../, the crash package's header.
DEFS_DIR := $(firstword $(foreach d,$(or $(CRASH_SRC),. .. /usr/include/crash),$(if $(wildcard $(d)/defs.h),$(d))))
# gdb flavour of that crash: its Makefile says GDB=gdb-X.Y; a header names its newest flavour.
GDB_FLAVOUR ?= $(shell sh tests/lib/gdb-flavour.sh "$(DEFS_DIR)")
# Release of that crash: a source tree's .rh_rpm_package, a packaged header's package
# version (make versions passes it).  kaslr.so refuses to run in any other release.
CRASH_VERSION ?= $(shell sh tests/lib/crash-release.sh "$(DEFS_DIR)")
# Where the module goes (make versions: build/crash-VER/kaslr.so); rebuilt when the header changes.
KASLR_SO ?= kaslr.so
KASLR_SO_FLAGS = $(abspath $(DEFS_DIR)) $(GDB_FLAVOUR) $(CRASH_VERSION) $(TARGET) $(CC) $(SYSROOT) $(CRASH_SRCS)
KASLR_SO_STAMP = build/flags/$(subst /,_,$(KASLR_SO))

CC ?= gcc
# The release, one place: kaslr_core.h (debian/changelog and kaslr.spec say the same).
VERSION := $(shell sed -n 's/^\#define KASLR_VERSION "\(.*\)"/\1/p' kaslr_core.h)
# A cross build (make arm64) links against an arm64 root: SYSROOT=DIR.
SYSROOT ?=
WARN = -Wall -Wextra
CFLAGS ?= -g -O2
CORE_SRCS = vmcoreinfo.c regs.c $(wildcard core/*.c core/x86_64/*.c core/arm64/*.c)
CORE_HDRS = kaslr_core.h vmcoreinfo.h regs.h $(wildcard core/*.h core/x86_64/*.h core/arm64/*.h)

# The crash glue: kaslr_ext.c and crash/ are all that include crash's defs.h.
# -fvisibility=hidden: crash finds the module by its constructor, which calls
# register_extension(); it looks up no name in it, so kaslr.so exports none.
# crash/repair_ARCH.c: the arch side of "kaslr -r" (x86_64.c for X86_64, arm64.c for ARM64).
CRASH_ARCH = $(shell echo '$(TARGET)' | tr A-Z a-z)
# regs_crash.c (QEMU's x86 CPU states, sadump/VMSS registers) and vmci_crash.c
# (the vmcoreinfo rebuild) serve the x86_64 command only: crash:arm64 lacks
# their x86 accessors (diskdump_get_qemucpustate, sadump_get_cr3_cr4_idtr).
CRASH_X86_64_ONLY = crash/regs_crash.c crash/vmci_crash.c
# cmd_arm64.c: the arm64 command (the x86_64 one is kaslr_ext.c's own).
CRASH_ARM64_ONLY = crash/cmd_arm64.c
CRASH_SRCS = $(filter-out $(filter-out crash/repair_$(CRASH_ARCH).c,$(wildcard crash/repair_*.c)) \
	$(if $(filter X86_64,$(TARGET)),$(CRASH_ARM64_ONLY),$(CRASH_X86_64_ONLY)),$(wildcard crash/*.c))
CRASH_HDRS = $(wildcard crash/*.h)

all: kaslr.so kaslr-find

$(KASLR_SO): kaslr_ext.c $(CRASH_SRCS) $(CRASH_HDRS) $(CORE_SRCS) $(CORE_HDRS) $(KASLR_SO_STAMP)
	@test -n "$(DEFS_DIR)" || { echo "kaslr.so: no defs.h in $(or $(CRASH_SRC),. .. /usr/include/crash): install the crash package or pass CRASH_SRC=DIR" >&2; exit 1; }
	@mkdir -p $(dir $@)
	@test -n "$(CRASH_VERSION)" || echo "kaslr.so: the release of the crash owning $(DEFS_DIR)/defs.h is unknown: only its gdb flavour is checked at load time (pass CRASH_VERSION=X.Y.Z)" >&2
	$(CC) $(if $(SYSROOT),--sysroot=$(SYSROOT)) $(WARN) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -rdynamic -fvisibility=hidden -D$(TARGET) -D$(GDB_FLAVOUR) \
		$(if $(CRASH_VERSION),-DKASLR_CRASH_VERSION='"$(CRASH_VERSION)"') \
		-I$(DEFS_DIR) -I. $(LDFLAGS) -o $@ kaslr_ext.c $(CRASH_SRCS) $(CORE_SRCS) -lelf -lz -ldl

$(KASLR_SO_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(KASLR_SO_FLAGS)' | cmp -s - $@ || echo '$(KASLR_SO_FLAGS)' >$@

# One kaslr.so per crash release the lab has ("VERSION BINARY DEFS_DIR" lines).
versions:
	@bash tests/lab/crash-versions.sh list | while read -r v bin defs; do \
		$(MAKE) --no-print-directory KASLR_SO=build/crash-$$v/kaslr.so CRASH_SRC=$$defs \
			CRASH_VERSION=$$v build/crash-$$v/kaslr.so || exit 1; \
	done

# One kaslr.so per arm64 crash the lab has ("VERSION BINARY DEFS_DIR ROOT" lines):
# crash:arm64 in an arm64 root; cross-built with that root as sysroot, so it
# links the root's own libelf and zlib (what crash:arm64 loads it next to).
ARM64_CC ?= aarch64-linux-gnu-gcc
arm64:
	@command -v $(ARM64_CC) >/dev/null || { echo "make arm64: no $(ARM64_CC): apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross" >&2; exit 1; }
	@lines=$$(bash tests/lab/crash-versions.sh list-arm64); \
	test -n "$$lines" || { echo "make arm64: no arm64 crash in the lab: run tests/lab/crash-versions.sh arm64 8.0.2" >&2; exit 1; }; \
	echo "$$lines" | while read -r v bin defs root; do \
		$(MAKE) --no-print-directory TARGET=ARM64 CC=$(ARM64_CC) SYSROOT=$$root \
			KASLR_SO=build/arm64-crash-$$v/kaslr.so CRASH_SRC=$$defs \
			CRASH_VERSION=$$v build/arm64-crash-$$v/kaslr.so || exit 1; \
	done

.PHONY: versions arm64 FORCE

kaslr-find: kaslr_find.c kaslr_find_print.c kaslr_find.h $(CORE_SRCS) $(CORE_HDRS)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -I. $(LDFLAGS) -o $@ kaslr_find.c kaslr_find_print.c $(CORE_SRCS) -lkdumpfile -lelf -lz

extensions: kaslr.so

install: kaslr.so kaslr-find
	install -D -m 0755 kaslr.so $(DESTDIR)$(EXTDIR)/kaslr.so
	install -D -m 0755 kaslr-find $(DESTDIR)$(BINDIR)/kaslr-find
	install -D -m 0644 docs/kaslr-find.1 $(DESTDIR)$(MANDIR)/man1/kaslr-find.1

# Packages (docs/packaging.md).  make dist takes the files git tracks (and new
# ones it does not ignore) or, outside a git checkout, the tree without build/.
DIST = crash-kaslr-$(VERSION)
dist:
	@rm -rf build/dist && mkdir -p build/dist
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh; \
	else find . -path ./build -prune -o -type f ! -name kaslr.so ! -name kaslr-find -printf '%P\0'; fi | \
		tar --null -T - --transform 's,^,$(DIST)/,' --owner=0 --group=0 --sort=name -czf build/dist/$(DIST).tar.gz
	@echo build/dist/$(DIST).tar.gz

deb: dist
	@command -v dh >/dev/null || { echo "make deb: no debhelper: apt-get install debhelper dpkg-dev" >&2; exit 1; }
	rm -rf build/deb && mkdir -p build/deb
	tar -C build/deb -xzf build/dist/$(DIST).tar.gz
	cd build/deb/$(DIST) && dpkg-buildpackage -us -uc -b
	@ls build/deb/*.deb

# Off an RPM system (Debian's rpm package) crash-devel is not in the rpm
# database: rpmbuild --nodeps, with crash's release told by its defs.h.
RPM_CRASH_DEVEL := $(shell rpm -q crash-devel >/dev/null 2>&1 && echo yes)
RPMBUILD_FLAGS ?=
rpm: dist
	@command -v rpmbuild >/dev/null || { echo "make rpm: no rpmbuild: install rpm-build (Debian: rpm)" >&2; exit 1; }
	rm -rf build/rpm && mkdir -p build/rpm/SOURCES
	cp build/dist/$(DIST).tar.gz build/rpm/SOURCES/
	$(if $(RPM_CRASH_DEVEL),,@echo "make rpm: crash-devel is not in the rpm database: --nodeps, crash $(CRASH_VERSION) from $(DEFS_DIR)/defs.h")
	rpmbuild -bb $(RPMBUILD_FLAGS) --define '_topdir $(abspath build/rpm)' \
		$(if $(RPM_CRASH_DEVEL),,--nodeps --define 'crash_version $(CRASH_VERSION)') kaslr.spec
	@find build/rpm/RPMS -name '*.rpm'

packages: deb rpm

.PHONY: dist deb rpm packages

# Unit tests: the core without crash, plain and under ASan+UBSan.
UNIT_TESTS = $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_CFLAGS = $(WARN) -g -O1 -I. -Itests/unit
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# The core and synth.c are compiled once per flavour (build/unit-obj/,
# build/unit-san-obj/) and linked into every test.
UNIT_OBJ_SRCS = $(CORE_SRCS) tests/unit/synth.c
UNIT_OBJS = $(patsubst %.c,build/unit-obj/%.o,$(UNIT_OBJ_SRCS))
UNIT_SAN_OBJS = $(patsubst %.c,build/unit-san-obj/%.o,$(UNIT_OBJ_SRCS))

build/unit-obj/%.o: %.c $(CORE_HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -c -o $@ $<

build/unit-san-obj/%.o: %.c $(CORE_HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

build/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(UNIT_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(UNIT_OBJS) -lelf -lz

build/unit-san/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(UNIT_SAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -o $@ $< $(UNIT_SAN_OBJS) -lelf -lz

unit: $(addprefix build/unit/,$(UNIT_TESTS)) $(addprefix build/unit-san/,$(UNIT_TESTS))

check:
	@bash tests/run.sh

demo:
	@bash tests/demo.sh

clean:
	rm -rf build kaslr.so kaslr-find

.PHONY: all extensions install unit check demo clean

# Fuzzing (tests/fuzz/, docs/fuzzing.md): libFuzzer harnesses over the crash-free core, built with clang.
#   make fuzz             every harness for FUZZ_SECONDS (default 60) from its seeds
#   make fuzz-smoke       every harness for 10 s (CI)
#   FUZZ_RUNS=N           also stop a harness after N executions
#   FUZZ_BUILD=fast       fuzz with the fast build, then replay each corpus under ASan+UBSan
# Both print one PASS/FAIL line per harness with its execs and execs/s (tests/fuzz/run.sh).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_BUILD ?= san
FUZZ_HARNESSES_SRC = $(wildcard tests/fuzz/fuzz_*.c)
# Coverage without indirect-call tracing: the core's only indirect call is read_phys.
FUZZ_COV = -fsanitize=fuzzer -fno-sanitize-coverage=indirect-calls
# build/fuzz: ASan + UBSan, what CI runs.  build/fuzz-fast: no sanitizer, for long runs.
FUZZ_CFLAGS = $(WARN) -g -O1 -I. -Itests/fuzz $(FUZZ_COV) -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_FAST_CFLAGS = $(WARN) -g -O2 -I. -Itests/fuzz $(FUZZ_COV)

build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRCS) -lelf -lz

build/fuzz-fast/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FAST_CFLAGS) -o $@ $< $(CORE_SRCS) -lelf -lz

fuzz-build: $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_HARNESSES_SRC))

fuzz-build-fast: $(patsubst tests/fuzz/%.c,build/fuzz-fast/%,$(FUZZ_HARNESSES_SRC))

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_CC=$(FUZZ_CC) \
		bash tests/fuzz/run.sh

fuzz-smoke:
	@FUZZ_SECONDS=10 FUZZ_RUNS= FUZZ_BUILD=san FUZZ_CC=$(FUZZ_CC) bash tests/fuzz/run.sh

.PHONY: fuzz fuzz-build fuzz-build-fast fuzz-smoke
