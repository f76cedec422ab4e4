# memprof: PGXS build of a C++17 extension.
MODULE_big = memprof
OBJS = \
	src/boundary.o \
	src/budget.o \
	src/entry.o \
	src/leakcheck.o \
	src/pathfold.o \
	src/publish.o \
	src/remote.o \
	src/rows.o \
	src/snapshot.o \
	src/stmtstats.o \
	src/stmttrack.o \
	src/fingerprint.o \
	src/alloc/intercept.o \
	src/sample.o \
	src/shmem.o \
	src/walker.o

EXTENSION = memprof
DATA = sql/memprof--1.0.sql sql/memprof--1.2.sql sql/memprof--1.0--1.1.sql sql/memprof--1.1--1.2.sql
PGFILEDESC = "memprof - memory contexts of every PostgreSQL process"

# pg_regress: every sql/*.sql except the install script, in name order.
REGRESS = $(sort $(filter-out memprof--%,$(basename $(notdir $(wildcard sql/*.sql)))))
REGRESS_OPTS = --inputdir=. --load-extension=memprof --load-extension=memprof_test

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

.PHONY: test
test:
	test/run
