/*
 * statement_table.cpp: per-statement memory statistics in a fixed-size shared
 * hash keyed by (query id or text fingerprint, user, database).
 *
 * Locking, as pg_stat_statements does it: the hash is under memprof's
 * second LWLock.  LW_SHARED to find an entry and update its counters (under
 * the entry's spinlock, so updates do not wait for each other), LW_EXCLUSIVE
 * to add, evict or remove entries.
 *
 * The table's size is a hard cap (memprof.max_statements).  Before an entry
 * is added to a full table, the least-used 5% (at least 10) are evicted:
 * usage grows by one per call and decays by 1% at every eviction, so entries
 * that were busy long ago go first.  `dealloc` counts eviction runs (as in
 * pg_stat_statements) and `evicted` the entries removed.
 *
 * The common case takes no LWLock.  Each process caches, for the keys it
 * recorded lately, the entry's address and the table's generation at that
 * time.  Every eviction and reset bumps the generation first, then takes
 * each doomed entry's spinlock once before removing it; an update through
 * the cache holds the entry's spinlock and proceeds only while the
 * generation is still the cached one.  So an entry is never updated after
 * its removal began, and a changed table sends the process down the locked
 * path, which refills the cache.
 */
#include "statement_table.hpp"
#include "pg/hash.hpp"
#include "pg/lock.hpp"
#include "fingerprint.hpp"
#include "pg/tuples.hpp"
#include "shmem.hpp"

namespace memprof {

int			max_tracked_statements = 5000;
StmtShared *stmt_shared = nullptr;
StmtCacheSlot stmt_cache[kStmtCacheSets][2];

namespace {

constexpr double kUsageDecay = 0.99;
constexpr double kEvictFraction = 0.05;
constexpr long kEvictMin = 10;

HTAB	   *stmt_hash = nullptr;

/* Removes e; the caller holds the lock exclusively and bumped the generation. */
void
RemoveEntry(StmtEntry *e)
{
	/* wait out an update that checked the generation before the bump */
	SpinLockAcquire(&e->mutex);
	SpinLockRelease(&e->mutex);
	hash_search(stmt_hash, &e->key, HASH_REMOVE, nullptr);
}

HashKey
MakeKey(const StatementKey &k)
{
	HashKey		h;

	memset(&h, 0, sizeof(h));
	h.id = k.id;
	h.userid = k.userid;
	h.dbid = k.dbid;
	h.fingerprint = k.fingerprint ? 1 : 0;
	return h;
}

/* Evicts the least-used entries; caller holds the lock exclusively. */
void
Evict()
{
	long		n = hash_get_num_entries(stmt_hash);
	StmtEntry **all = static_cast<StmtEntry **>(palloc(sizeof(StmtEntry *) * (n + 1)));
	HASH_SEQ_STATUS seq;
	StmtEntry  *e;
	long		k = 0;

	hash_seq_init(&seq, stmt_hash);
	while ((e = static_cast<StmtEntry *>(hash_seq_search(&seq))) != nullptr)
	{
		if (k < n)
			all[k++] = e;
		SpinLockAcquire(&e->mutex);
		e->usage *= kUsageDecay;
		SpinLockRelease(&e->mutex);
	}
	std::sort(all, all + k, [](const StmtEntry *a, const StmtEntry *b) {
		return a->usage < b->usage;
	});

	long		drop = std::max(kEvictMin, static_cast<long>(k * kEvictFraction));

	drop = std::min(drop, k);
	pg_atomic_fetch_add_u64(&stmt_shared->generation, 1);
	for (long i = 0; i < drop; i++)
		RemoveEntry(all[i]);
	pfree(all);
	pg_atomic_fetch_add_u64(&stmt_shared->dealloc, 1);
	pg_atomic_fetch_add_u64(&stmt_shared->evicted, static_cast<uint64>(drop));
}

}								/* namespace */

Size
StmtStatsShmemSize()
{
	return add_size(MAXALIGN(sizeof(StmtShared)),
					hash_estimate_size(max_tracked_statements, sizeof(StmtEntry)));
}

/* Called from the shmem startup hook, under AddinShmemInitLock. */
void
StmtStatsShmemInit()
{
	bool		found;
	HASHCTL		info;

	stmt_shared = static_cast<StmtShared *>(ShmemInitStruct("memprof statements",
															 sizeof(StmtShared), &found));
	if (!found)
	{
		stmt_shared->lock = &(GetNamedLWLockTranche("memprof"))[1].lock;
		pg_atomic_init_u64(&stmt_shared->generation, 1);
		pg_atomic_init_u64(&stmt_shared->dropped, 0);
		pg_atomic_init_u64(&stmt_shared->dealloc, 0);
		pg_atomic_init_u64(&stmt_shared->evicted, 0);
		stmt_shared->reset_at = GetCurrentTimestamp();
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(HashKey);
	info.entrysize = sizeof(StmtEntry);
	stmt_hash = ShmemInitHash("memprof statement hash", max_tracked_statements,
							  max_tracked_statements, &info, HASH_ELEM | HASH_BLOBS);
}

/* Not cached (or the table changed since): the shared hash, under its lock. */
void
StmtStatsRecordLocked(StatementKey k, StmtCacheSlot *set, const char *source,
			 int location, int len, int64 peak, int64 held, bool worker)
{
	HashKey		key = MakeKey(k);
	StmtCacheSlot &c = set[0];
	StmtEntry  *e;

	LWLockAcquire(stmt_shared->lock, LW_SHARED);
	e = static_cast<StmtEntry *>(hash_search(stmt_hash, &key, HASH_FIND, nullptr));
	if (e == nullptr)
	{
		bool		found;
		char		text[kQueryTextLen];

		const char *query;
		int			query_len;

		/* the normalized text, before taking the exclusive lock */
		LWLockRelease(stmt_shared->lock);
		StatementText(source, location, len, &query, &query_len);
		NormalizeText(query, static_cast<size_t>(query_len), text, sizeof(text), k.utility);
		LWLockAcquire(stmt_shared->lock, LW_EXCLUSIVE);
		if (hash_get_num_entries(stmt_hash) >= max_tracked_statements &&
			hash_search(stmt_hash, &key, HASH_FIND, nullptr) == nullptr)
			Evict();
		e = static_cast<StmtEntry *>(hash_search(stmt_hash, &key, HASH_ENTER_NULL, &found));
		if (e == nullptr)
		{
			LWLockRelease(stmt_shared->lock);
			pg_atomic_fetch_add_u64(&stmt_shared->dropped, 1);
			return;
		}
		if (!found)
		{
			SpinLockInit(&e->mutex);
			e->usage = 1.0;
			e->calls = e->workers = 0;
			e->total_peak = e->max_peak = e->total_held = e->max_held = 0;
			e->max_worker_peak = 0;
			e->min_peak = INT64_MAX;
			memcpy(e->query, text, sizeof(text));
		}
	}
	/* the generation cannot move while the lock is held */
	set[1] = set[0];
	c.key = key;
	c.entry = e;
	c.generation = pg_atomic_read_u64(&stmt_shared->generation);
	SpinLockAcquire(&e->mutex);
	StmtEntryUpdate(e, peak, held, worker);
	SpinLockRelease(&e->mutex);
	LWLockRelease(stmt_shared->lock);
}

/*---- SQL ----*/

/* memprof_statements_rows(): one row per entry, every entry. */
MEMPROF_FUNCTION(memprof_statements_fn)
{
	RequireShared("memprof_statements");

	struct Row
	{
		HashKey		key;
		int64		calls, total_peak, max_peak, min_peak, total_held, max_held;
		int64		workers, max_worker_peak;
		char		query[kQueryTextLen];
	};
	std::vector<Row> rows;

	/* the table never holds more than its cap: room for all, reserved unlocked */
	rows.reserve(static_cast<size_t>(max_tracked_statements) + 1);
	{
		pg::LWLockGuard guard(stmt_shared->lock, LW_SHARED);

		pg::ScanHash<StmtEntry>(stmt_hash, [&](StmtEntry *e) {
			if (rows.size() == rows.capacity())
				return false;
			rows.emplace_back();
			Row		   &r = rows.back();

			SpinLockAcquire(&e->mutex);
			r.key = e->key;
			r.calls = e->calls;
			r.total_peak = e->total_peak;
			r.max_peak = e->max_peak;
			r.min_peak = e->min_peak;
			r.total_held = e->total_held;
			r.max_held = e->max_held;
			r.workers = e->workers;
			r.max_worker_peak = e->max_worker_peak;
			memcpy(r.query, e->query, kQueryTextLen);
			SpinLockRelease(&e->mutex);
			return true;
		});
	}

	pg::EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *n) {
		const Row  &r = rows[i];
		bool		fp = r.key.fingerprint != 0;

		v[0] = ObjectIdGetDatum(r.key.userid);
		v[1] = ObjectIdGetDatum(r.key.dbid);
		v[2] = Int64GetDatum(static_cast<int64>(r.key.id));
		n[2] = fp;
		v[3] = Int64GetDatum(static_cast<int64>(r.key.id));
		n[3] = !fp;
		v[4] = CStringGetTextDatum(r.query);
		v[5] = Int64GetDatum(r.calls);
		v[6] = Int64GetDatum(r.total_peak);
		v[7] = Float8GetDatum(r.calls > 0 ? static_cast<double>(r.total_peak) / r.calls : 0.0);
		n[7] = r.calls == 0;
		v[8] = Int64GetDatum(r.max_peak);
		n[8] = r.calls == 0;
		v[9] = Int64GetDatum(r.min_peak);
		n[9] = r.calls == 0;
		v[10] = Int64GetDatum(r.max_held);
		n[10] = r.calls == 0;
		v[11] = Int64GetDatum(r.workers);
		v[12] = Int64GetDatum(r.max_worker_peak);
		n[12] = r.workers == 0;
	});
	return (Datum) 0;
}

/* memprof_statements_reset(): forget every entry; returns how many. */
MEMPROF_FUNCTION(memprof_statements_reset_fn)
{
	RequireShared("memprof_statements_reset");
	int64		removed = 0;

	{
		pg::LWLockGuard guard(stmt_shared->lock, LW_EXCLUSIVE);

		pg_atomic_fetch_add_u64(&stmt_shared->generation, 1);
		pg::ScanHash<StmtEntry>(stmt_hash, [&](StmtEntry *e) {
			RemoveEntry(e);
			removed++;
			return true;
		});
		pg_atomic_write_u64(&stmt_shared->dropped, 0);
		pg_atomic_write_u64(&stmt_shared->dealloc, 0);
		pg_atomic_write_u64(&stmt_shared->evicted, 0);
		stmt_shared->reset_at = GetCurrentTimestamp();
	}
	PG_RETURN_INT64(removed);
}

/* memprof_statements_info(): size, evictions, drops and last reset. */
MEMPROF_FUNCTION(memprof_statements_info_fn)
{
	RequireShared("memprof_statements_info");
	int64		entries;
	TimestampTz reset_at;

	{
		pg::LWLockGuard guard(stmt_shared->lock, LW_SHARED);

		entries = static_cast<int64>(hash_get_num_entries(stmt_hash));
		reset_at = stmt_shared->reset_at;
	}
	return pg::ReturnRow(fcinfo, [&](Datum *v, bool *) {
		v[0] = Int64GetDatum(entries);
		v[1] = Int64GetDatum(static_cast<int64>(max_tracked_statements));
		v[2] = Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&stmt_shared->dealloc)));
		v[3] = Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&stmt_shared->evicted)));
		v[4] = Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&stmt_shared->dropped)));
		v[5] = TimestampTzGetDatum(reset_at);
	});
}

}								/* namespace memprof */
