/*
 * stmtstats.cpp: per-statement memory statistics in a fixed-size shared hash
 * keyed by (query id, user, database), like pg_stat_statements.
 *
 * Locking: the hash is under memprof's second LWLock: LW_SHARED to find an
 * entry and update it (each entry's counters under its own spinlock, to keep
 * lock time short), LW_EXCLUSIVE to add or remove entries.  The hash is
 * sized once (memprof.max_statements); when it is full, statements without
 * an entry are counted in `dropped` and not recorded: evicting would need a
 * usage policy, and a full table is better fixed by a bigger one.
 */
#include "stmttrack.hpp"
#include "boundary.hpp"
#include "rows.hpp"
#include "shmem.hpp"

extern "C" {
#include "utils/hsearch.h"
}

namespace memprof {

namespace {

constexpr int kQueryTextLen = 512;

struct StmtKey
{
	uint64		queryid;
	Oid			userid;
	Oid			dbid;
};

struct StmtEntry
{
	StmtKey		key;
	slock_t		mutex;
	int64		calls;
	int64		total_peak;
	int64		max_peak;
	int64		min_peak;
	int64		total_held;
	int64		max_held;
	char		query[kQueryTextLen];
};

struct StmtShared
{
	LWLock	   *lock;
	pg_atomic_uint64 dropped;
	TimestampTz reset_at;
};

HTAB	   *stmt_hash = nullptr;
StmtShared *stmt_shared = nullptr;

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
		pg_atomic_init_u64(&stmt_shared->dropped, 0);
		stmt_shared->reset_at = GetCurrentTimestamp();
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(StmtKey);
	info.entrysize = sizeof(StmtEntry);
	stmt_hash = ShmemInitHash("memprof statement hash", max_tracked_statements,
							  max_tracked_statements, &info, HASH_ELEM | HASH_BLOBS);
}

void
StmtStatsRecord(uint64 queryid, Oid userid, Oid dbid, const char *query, int query_len,
				int64 peak, int64 held)
{
	StmtKey		key;
	StmtEntry  *e;

	if (stmt_hash == nullptr)
		return;
	memset(&key, 0, sizeof(key));
	key.queryid = queryid;
	key.userid = userid;
	key.dbid = dbid;

	LWLockAcquire(stmt_shared->lock, LW_SHARED);
	e = static_cast<StmtEntry *>(hash_search(stmt_hash, &key, HASH_FIND, nullptr));
	if (e == nullptr)
	{
		bool		found;

		LWLockRelease(stmt_shared->lock);
		LWLockAcquire(stmt_shared->lock, LW_EXCLUSIVE);
		e = static_cast<StmtEntry *>(hash_search(stmt_hash, &key, HASH_ENTER_NULL, &found));
		if (e == nullptr)
		{
			LWLockRelease(stmt_shared->lock);
			pg_atomic_fetch_add_u64(&stmt_shared->dropped, 1);
			return;
		}
		if (!found)
		{
			int			len = std::min(query_len, kQueryTextLen - 1);

			SpinLockInit(&e->mutex);
			e->calls = 0;
			e->total_peak = e->max_peak = e->total_held = e->max_held = 0;
			e->min_peak = INT64_MAX;
			if (query != nullptr && len > 0)
				len = pg_mbcliplen(query, len, len);
			else
				len = 0;
			memcpy(e->query, query ? query : "", len);
			e->query[len] = '\0';
		}
	}
	SpinLockAcquire(&e->mutex);
	e->calls++;
	e->total_peak += peak;
	e->max_peak = std::max(e->max_peak, peak);
	e->min_peak = std::min(e->min_peak, peak);
	e->total_held += held;
	e->max_held = std::max(e->max_held, held);
	SpinLockRelease(&e->mutex);
	LWLockRelease(stmt_shared->lock);
}

/*---- SQL ----*/

/* memprof_statements_rows(): one row per entry. */
MEMPROF_FUNCTION(memprof_statements_fn)
{
	RequireShared("memprof_statements");

	/* plain rows, reserved up front: nothing allocates under the locks */
	struct Row
	{
		StmtKey		key;
		int64		calls, total_peak, max_peak, min_peak, total_held, max_held;
		char		query[kQueryTextLen];
	};
	std::vector<Row> rows;

	rows.reserve(static_cast<size_t>(max_tracked_statements) + 16);
	PgCall([&]() {
		HASH_SEQ_STATUS seq;
		StmtEntry  *e;

		LWLockAcquire(stmt_shared->lock, LW_SHARED);
		hash_seq_init(&seq, stmt_hash);
		while ((e = static_cast<StmtEntry *>(hash_seq_search(&seq))) != nullptr)
		{
			if (rows.size() == rows.capacity())
			{
				hash_seq_term(&seq);
				break;
			}
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
			memcpy(r.query, e->query, kQueryTextLen);
			SpinLockRelease(&e->mutex);
		}
		LWLockRelease(stmt_shared->lock);
	});

	EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *n) {
		const Row  &r = rows[i];

		(void) n;
		{
			v[0] = ObjectIdGetDatum(r.key.userid);
			v[1] = ObjectIdGetDatum(r.key.dbid);
			v[2] = Int64GetDatum(static_cast<int64>(r.key.queryid));
			v[3] = CStringGetTextDatum(r.query);
			v[4] = Int64GetDatum(r.calls);
			v[5] = Int64GetDatum(r.total_peak);
			v[6] = Float8GetDatum(r.calls > 0 ? static_cast<double>(r.total_peak) / r.calls : 0.0);
			v[7] = Int64GetDatum(r.max_peak);
			v[8] = Int64GetDatum(r.calls > 0 ? r.min_peak : 0);
			v[9] = Int64GetDatum(r.max_held);
		}
	});
	return (Datum) 0;
}

/* memprof_statements_reset(): forget every entry; returns how many. */
MEMPROF_FUNCTION(memprof_statements_reset_fn)
{
	RequireShared("memprof_statements_reset");
	int64		removed = 0;

	PgCall([&]() {
		HASH_SEQ_STATUS seq;
		StmtEntry  *e;

		LWLockAcquire(stmt_shared->lock, LW_EXCLUSIVE);
		hash_seq_init(&seq, stmt_hash);
		while ((e = static_cast<StmtEntry *>(hash_seq_search(&seq))) != nullptr)
		{
			hash_search(stmt_hash, &e->key, HASH_REMOVE, nullptr);
			removed++;
		}
		pg_atomic_write_u64(&stmt_shared->dropped, 0);
		stmt_shared->reset_at = GetCurrentTimestamp();
		LWLockRelease(stmt_shared->lock);
	});
	PG_RETURN_INT64(removed);
}

/* memprof_statements_info(): dropped count and last reset. */
MEMPROF_FUNCTION(memprof_statements_info_fn)
{
	RequireShared("memprof_statements_info");
	Datum		result = 0;

	PgCall([&]() {
		TupleDesc	desc;
		Datum		v[3];
		bool		n[3] = {false};

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		desc = BlessTupleDesc(desc);
		LWLockAcquire(stmt_shared->lock, LW_SHARED);
		v[0] = Int64GetDatum(static_cast<int64>(hash_get_num_entries(stmt_hash)));
		v[1] = Int64GetDatum(static_cast<int64>(pg_atomic_read_u64(&stmt_shared->dropped)));
		v[2] = TimestampTzGetDatum(stmt_shared->reset_at);
		LWLockRelease(stmt_shared->lock);
		result = HeapTupleGetDatum(heap_form_tuple(desc, v, n));
	});
	return result;
}

}								/* namespace memprof */
