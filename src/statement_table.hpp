/*
 * statement_table.hpp: the shared table of statements (memprof_statements), and
 * the path every top-level statement takes into it, inline here because it
 * runs once per statement: a process-local cache of entry addresses, checked
 * against the table's generation, then one spinlock.  Everything else (the
 * locked path, eviction, the SQL functions) is in statement_table.cpp, whose head
 * comment describes the locking.
 */
#pragma once

#include "pg/hidden.hpp"
#include "pg/pg.hpp"

namespace memprof {

/* What a statement is recorded under. */
struct StatementKey
{
	uint64		id;				/* core query id, or memprof's fingerprint */
	Oid			userid;
	Oid			dbid;
	bool		fingerprint;	/* id is a text fingerprint, not a query id */
	bool		utility;		/* a utility command: its text keeps its constants */
};

constexpr int kQueryTextLen = 1024;

/* GUC memprof.max_statements: the table's hard cap (PGC_POSTMASTER). */
extern int	max_tracked_statements;

/* The shared hash's key: no padding bytes, as the hash reads them all. */
struct HashKey
{
	uint64		id;
	Oid			userid;
	Oid			dbid;
	uint32		fingerprint;	/* 0 or 1; uint32 so the key has no padding */
};

struct StmtEntry
{
	HashKey		key;
	slock_t		mutex;
	double		usage;
	int64		calls;
	int64		total_peak;
	int64		max_peak;
	int64		min_peak;
	int64		total_held;
	int64		max_held;
	int64		workers;
	int64		max_worker_peak;
	char		query[kQueryTextLen];
};

struct StmtShared
{
	LWLock	   *lock;
	pg_atomic_uint64 generation;	/* bumped by every eviction and reset */
	pg_atomic_uint64 dropped;
	pg_atomic_uint64 dealloc;
	pg_atomic_uint64 evicted;
	TimestampTz reset_at;
};

extern StmtShared *stmt_shared MEMPROF_HIDDEN;	/* null: not preloaded */

/*
 * This process's cache of entry addresses: 128 sets of two, by key.  Two
 * ways, so that a handful of statements run in turn (a transaction's
 * statements) do not keep evicting one another.  A miss moves the set's
 * first way to the second and fills the first.
 */
struct StmtCacheSlot
{
	HashKey		key;
	StmtEntry  *entry;
	uint64		generation;
};
constexpr int kStmtCacheSets = 128;
extern StmtCacheSlot stmt_cache[kStmtCacheSets][2] MEMPROF_HIDDEN;

inline bool
SameStmtKey(const HashKey &a, const StatementKey &b)
{
	return a.id == b.id && a.userid == b.userid && a.dbid == b.dbid &&
		a.fingerprint == (b.fingerprint ? 1 : 0);
}

template <typename Key>
inline StmtCacheSlot *
StmtCacheSet(const Key &k)
{
	uint64		h = k.id ^ (static_cast<uint64>(k.userid) << 20) ^ k.dbid ^ (k.fingerprint ? 1 : 0);

	return stmt_cache[(h ^ (h >> 17) ^ (h >> 41)) % kStmtCacheSets];
}

/* The cached, still valid entry for k, with its spinlock held; or null. */
inline StmtEntry *
StmtCachedEntry(StmtCacheSlot *set, const StatementKey &k)
{
	for (int w = 0; w < 2; w++)
	{
		StmtCacheSlot &c = set[w];

		if (c.entry == nullptr || !SameStmtKey(c.key, k) ||
			pg_atomic_read_u64(&stmt_shared->generation) != c.generation)
			continue;
		SpinLockAcquire(&c.entry->mutex);
		if (pg_atomic_read_u64(&stmt_shared->generation) == c.generation)
			return c.entry;
		SpinLockRelease(&c.entry->mutex);
		return nullptr;
	}
	return nullptr;
}

inline void
StmtEntryUpdate(StmtEntry *e, int64 peak, int64 held, bool worker)
{
	if (worker)
	{
		e->workers++;
		e->max_worker_peak = std::max(e->max_worker_peak, peak);
		return;
	}
	e->usage += 1.0;
	e->calls++;
	e->total_peak += peak;
	e->max_peak = std::max(e->max_peak, peak);
	e->min_peak = std::min(e->min_peak, peak);
	e->total_held += held;
	e->max_held = std::max(e->max_held, held);
}

/* The locked path: finds or adds the entry, refills set[0]. */
void		StmtStatsRecordLocked(StatementKey k, StmtCacheSlot *set, const char *source,
								  int location, int len, int64 peak, int64 held,
								  bool worker) MEMPROF_HIDDEN;

/*
 * Adds one run to key's entry.  source, location and len are the statement's
 * text as StatementText takes them; read only when the entry is new.
 */
inline __attribute__((always_inline)) void
StmtStatsRecord(const StatementKey &k, const char *source, int location, int len,
				int64 peak, int64 held, bool worker)
{
	if (stmt_shared == nullptr)
		return;

	StmtCacheSlot *set = StmtCacheSet(k);
	StmtEntry  *e = StmtCachedEntry(set, k);

	if (e != nullptr)
	{
		StmtEntryUpdate(e, peak, held, worker);
		SpinLockRelease(&e->mutex);
		return;
	}
	StmtStatsRecordLocked(k, set, source, location, len, peak, held, worker);
}

Size		StmtStatsShmemSize();
void		StmtStatsShmemInit();

}								/* namespace memprof */
