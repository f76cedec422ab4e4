/*
 * snapshot.hpp: storing Samples in the extension's tables and reading them
 * back, through the install script's memprof_store_* functions.  Tables
 * (extension/memprof--1.3.sql):
 *   memprof_snapshot_header   one row per snapshot (id, label, pid, ...)
 *   memprof_snapshot_context  one row per context (snapshot_id, id, ...)
 * The header carries pid, backend_type, backend_start and source, so a
 * snapshot of another process (remote fetch) lands in the same tables.
 * Labels and every other value go in as arguments, never into SQL text.
 */
#pragma once

#include "sample.hpp"
#include "pg/spi.hpp"

namespace memprof {

struct SnapshotMeta
{
	const char *label = nullptr;	/* may be NULL */
	int32		pid = 0;
	const char *backend_type = "";
	TimestampTz backend_start = 0;
	TimestampTz taken_at = 0;
	bool		truncated = false;	/* the tree did not fit and was cut */
	int32		omitted_contexts = 0;
	/*
	 * Leak-check run the snapshot belongs to: 0 none, kNewRun starts a run
	 * (its id becomes the run id), any other value continues that run, which
	 * must be the caller's own, in this backend.
	 */
	int64		run_id = 0;
};

constexpr int64 kNewRun = -1;


/*
 * Every function below takes the store of the SQL-callable function running
 * (pg::StoreOf(fcinfo)), records or checks the calling role (GetUserId() at
 * entry) and then works on the tables as the extension's owner, so callers
 * need EXECUTE only.  A role that is not a superuser may drop, prune or
 * re-baseline only snapshots it took itself (42501 otherwise).
 */

/* Stores s and returns the new snapshot id; applies memprof.max_snapshots. */
int64		StoreSnapshot(const pg::StoreRef &store, const Sample &s, const SnapshotMeta &meta);

/* Reads snapshot id into out; raises 42704 if it does not exist. */
void		LoadSnapshot(const pg::StoreRef &store, int64 id, Sample &out);

/* Deletes one snapshot; false if it did not exist. */
bool		DropSnapshot(const pg::StoreRef &store, int64 id);

/*
 * Marks leak-check run run_id complete (memprof_snapshots shows it); 22023
 * unless it is a run of the caller's in this backend.
 */
void		FinishRun(const pg::StoreRef &store, int64 run_id);

/*
 * Marks id as the baseline of its backend for the role that took it (and
 * no other snapshot of that backend and role).
 */
void		SetBaseline(const pg::StoreRef &store, int64 id);

/*
 * Deletes all but the newest keep_last (keep_last >= 0) and/or those taken
 * more than older_than ago; a role that is not a superuser prunes only its
 * own snapshots.  Returns how many went.
 */
int64		PruneSnapshots(const pg::StoreRef &store, const int32 *keep_last,
							   const Interval *older_than);

/* GUC memprof.max_snapshots */
extern int	max_snapshots;

}								/* namespace memprof */
