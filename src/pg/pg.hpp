/*
 * pg.hpp: the one place where PostgreSQL's C headers enter C++.
 *
 * Every memprof source includes this header instead of including any
 * PostgreSQL header directly.  C++ standard headers come first, then the
 * PostgreSQL headers inside extern "C", then the few macros that clash with
 * C++ are undone here and nowhere else.
 */
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/memnodes.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/procsignal.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

/* differences between PostgreSQL versions */
#include "compat.hpp"

/*
 * Known clashes, all handled by not using the clashing name from C++:
 * - port.h redirects printf/snprintf/vsnprintf to pg_* versions; memprof
 *   uses those names only as PostgreSQL's own (they format %m too).
 * - c.h defines Min/Max; C++ code uses std::min/std::max.
 * - s_lock.h uses `register`, rejected by C++17: built with -Wno-register.
 * A future clash is fixed here and nowhere else.
 */
