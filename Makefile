# RevenueOS Pipelines: one non-recursive Makefile.
#   make              build every program into bin/
#   make test         build and run every test (tests/run prints "N passed, N failed")
#   make test SAN=1   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make install PREFIX=/usr/local DESTDIR=
#   make bench        run the benchmarks in bench/ (bench/run, bench/e2e, reconcile-bench, hot-keys)
#   make fuzz         build the libFuzzer targets in tests/fuzz/ (clang) and run each for
#                     FUZZ_SECONDS (default 60); crashes land in build/fuzz/crashes/

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGS    := json-c libpq libcurl zlib
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ifeq ($(SAN),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT     := -O1 -g
else ifeq ($(FUZZ),1)
BUILD   := build/fuzz
CC      := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT     := -O1 -g
CPPFLAGS += -DRO_FUZZ
else
BUILD   := build/rel
SANFLAGS :=
OPT     ?= -O2 -g
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wformat=2 -Wvla
CPPFLAGS += -D_GNU_SOURCE -DRO_VERSION='"$(VERSION)"' -Isrc -Isrc/lib -Isrc/connectors \
           $(shell pkg-config --cflags $(PKGS))
CFLAGS  += -std=c11 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP
ifeq ($(FUZZ),1)
CFLAGS  += -Wno-format-nonliteral # clang also wants va_list helpers marked; gcc does not
endif
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lcsv -lm -lpthread

# Every .c under src/lib and src/connectors goes into the library; every src/*.c is a program,
# and a program's own parts, if it has more than one file, are src/<program>/*.c.
LIB_SRC  := $(sort $(wildcard src/lib/*.c) $(wildcard src/connectors/*.c) $(wildcard src/connectors/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/librevenueos.a
PROG_SRC := $(sort $(wildcard src/*.c))
PROGS    := $(PROG_SRC:src/%.c=bin/%)

UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
.DEFAULT_GOAL := all
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# SAN (and FUZZ) builds go to build/*/bin so they never overwrite the release programs.
ifneq ($(BUILD),build/rel)
PROG_DIR := $(BUILD)/bin
else
PROG_DIR := bin
endif
PROGS := $(PROG_SRC:src/%.c=$(PROG_DIR)/%)

all: $(PROGS)

# the programs print VERSION (RO_VERSION): a new one rebuilds them
$(PROG_SRC:%.c=$(BUILD)/%.o): VERSION
own_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/$(1)/*.c))
.SECONDEXPANSION:
$(PROG_DIR)/%: $(BUILD)/src/%.o $$(call own_objs,$$*) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(shell pkg-config --libs cmocka)

units: $(UNITS)

# Fuzz targets: tests/fuzz/NAME.c (+ fuzz.c). `make test` replays their regression inputs and
# seeds through replay.c as test_fuzz_NAME; `make fuzz` links them with libFuzzer and runs them.
FUZZ_NAMES := $(filter-out fuzz mutate replay,$(basename $(notdir $(wildcard tests/fuzz/*.c))))
REPLAYS  := $(FUZZ_NAMES:%=$(BUILD)/tests/test_fuzz_%)
FUZZERS  := $(FUZZ_NAMES:%=$(BUILD)/fuzzers/%)
FUZZ_SECONDS ?= 60

$(BUILD)/tests/test_fuzz_%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/fuzz.o $(BUILD)/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzzers/%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/fuzz.o $(BUILD)/tests/fuzz/mutate.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzzers: $(FUZZERS)

fuzz:
	$(MAKE) FUZZ=1 fuzzers
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ_NAMES)

test: $(PROGS) $(UNITS) $(REPLAYS)
	BIN=$(abspath $(PROG_DIR)) UNITS=$(abspath $(BUILD)/tests) tests/run

# Every stage against its baseline, then the end-to-end pipeline into PostgreSQL.
bench: all
	bench/run
	bench/e2e
	bench/reconcile-bench 1000000
	bench/hot-keys

install: all
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(PREFIX)/share/revenueos/sql" "$(DESTDIR)$(PREFIX)/share/revenueos/pipelines/lib"
	install -m 755 $(PROGS) "$(DESTDIR)$(PREFIX)/bin"
	install -m 644 $(wildcard sql/*.sql) "$(DESTDIR)$(PREFIX)/share/revenueos/sql"
	install -m 755 pipelines/export pipelines/ingest-dumps pipelines/reconcile "$(DESTDIR)$(PREFIX)/share/revenueos/pipelines"
	install -m 644 $(wildcard pipelines/lib/*.sh) "$(DESTDIR)$(PREFIX)/share/revenueos/pipelines/lib"
	install -m 644 VERSION "$(DESTDIR)$(PREFIX)/share/revenueos"  # the pipelines' --version
	install -d "$(DESTDIR)$(PREFIX)/share/doc/revenueos/docs"  # where messages' docs/X.md are
	install -m 644 README.md "$(DESTDIR)$(PREFIX)/share/doc/revenueos"
	install -m 644 $(wildcard docs/*.md) "$(DESTDIR)$(PREFIX)/share/doc/revenueos/docs"

clean:
	rm -rf build $(wildcard bin/*)

.PHONY: all test units fuzz fuzzers bench install clean
.SECONDARY:
-include $(shell find build -name '*.d' 2>/dev/null)
