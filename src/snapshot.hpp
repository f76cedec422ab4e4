/*
 * snapshot.hpp: storing Samples in the extension's tables and reading them
 * back.  Tables (sql/memprof--1.0.sql):
 *   memprof_snapshot_header   one row per snapshot (id, label, pid, ...)
 *   memprof_snapshot_context  one row per context (snapshot_id, id, ...)
 * The header carries pid, backend_type, backend_start and source, so a
 * snapshot of another process (remote fetch) lands in the same tables.
 * Labels and every other value go in as SPI parameters, never into SQL text.
 */
#pragma once

#include "sample.hpp"

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
};

/* Stores s and returns the new snapshot id; applies memprof.max_snapshots. */
int64		StoreSnapshot(const Sample &s, const SnapshotMeta &meta);

/* Reads snapshot id into out; raises 42704 if it does not exist. */
void		LoadSnapshot(int64 id, Sample &out);

/* Deletes one snapshot; false if it did not exist. */
bool		DropSnapshot(int64 id);

/* Marks id as the baseline of its backend (and no other of that backend). */
void		SetBaseline(int64 id);

/* GUC memprof.max_snapshots */
extern int	max_snapshots;

}								/* namespace memprof */
