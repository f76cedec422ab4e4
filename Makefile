# memprof: PGXS build of a C++17 extension.
MODULE_big = memprof
OBJS = \
	src/pg/boundary.o \
	src/pg/hooks.o \
	src/pg/process.o \
	src/pg/spi.o \
	src/pg/tuples.o \
	src/alloc/intercept.o \
	src/walker.o \
	src/sample.o \
	src/pathfold.o \
	src/fingerprint.o \
	src/shmem.o \
	src/rows.o \
	src/publish.o \
	src/remote.o \
	src/snapshot.o \
	src/leakcheck.o \
	src/statement_table.o \
	src/statements.o \
	src/budget.o \
	src/entry.o

EXTENSION = memprof
DATA = $(sort $(wildcard extension/memprof--*.sql))
PGFILEDESC = "memprof - memory contexts of every PostgreSQL process"

# pg_regress: inputs in sql/, outputs in expected/, in name order.
# REGRESS_ALL is every sql/*.sql (install scripts live in extension/).  Files that
# name memprof_test need the test-only module (test/memprof_test, which
# `make install` does not install); the rest need memprof alone.
# `make installcheck` runs only those, so it works on a server where only
# `make install` ran (or the package is installed), with or without memprof
# in shared_preload_libraries (expected/NAME_1.out holds the other output).
# `make installcheck-all` runs every file with memprof_test loaded too.
REGRESS_ALL = $(sort $(basename $(notdir $(wildcard $(srcdir)/sql/*.sql))))
REGRESS_NEEDS_TEST_MODULE = $(sort $(basename $(notdir $(shell grep -l -e memprof_test $(addprefix $(srcdir)/sql/,$(addsuffix .sql,$(REGRESS_ALL))) /dev/null))))
REGRESS = $(filter-out $(REGRESS_NEEDS_TEST_MODULE),$(REGRESS_ALL))
REGRESS_OPTS = --load-extension=memprof

# PostgreSQL headers as system headers: their warnings under C++ -Wextra are
# not ours to fix, and must not hide warnings in our code.
PG_CPPFLAGS = -I$(srcdir)/src -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -fno-omit-frame-pointer
SHLIB_LINK = -lstdc++

# No LLVM bitcode: the JIT gains nothing from this code, and it would need
# clang on every build machine.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS compiles .cpp with its C++ rule; make sure it knows the suffix.
%.o: %.cpp
	$(CXX) $(CXXFLAGS) $(CPPFLAGS) -c -o $@ $<

# Every regression file, the test-only module loaded too (install it first:
# make -C test/memprof_test install), on a server with memprof preloaded.
.PHONY: installcheck-all
installcheck-all: submake $(REGRESS_PREP)
	$(pg_regress_installcheck) $(REGRESS_OPTS) --load-extension=memprof_test $(REGRESS_ALL)

# PGXN bundle: memprof-<version>.zip of the committed tree (HEAD), every
# path under memprof-<version>/.  The version is META.json's.
DIST_VERSION = $(shell sed -n 's/^   "version": *"\([^"]*\)".*/\1/p' $(srcdir)/META.json)
.PHONY: dist
dist:
	@test -n "$(DIST_VERSION)" || { echo "no version in META.json" >&2; exit 1; }
	git -C $(srcdir) archive --format=zip --prefix=memprof-$(DIST_VERSION)/ -o $(abspath memprof-$(DIST_VERSION).zip) HEAD
	@echo "memprof-$(DIST_VERSION).zip"

.PHONY: test
test:
	test/run
