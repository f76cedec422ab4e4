/*
 * snapshot.cpp: the snapshot store (a consumer of Samples).
 *
 * The store is SQL: the install script's memprof_store_* functions hold
 * every statement on the snapshot tables.  This file turns a Sample into
 * the arrays memprof_store_insert takes (one INSERT ... SELECT FROM ROWS
 * FROM (unnest(...)) there, so 6,000 contexts cost one statement), reads
 * memprof_store_read's arrays back into a Sample (ids are pre-order, so
 * parents come before children, as the folding code expects), and raises
 * the errors the internal functions report by their results.
 */
#include "snapshot.hpp"
#include "pg/args.hpp"
#include "pg/spi.hpp"
#include "rows.hpp"
#include "sample.hpp"

namespace memprof {

int			max_snapshots = 10000;

namespace {

/* Array builders; called inside WithStore, so no destructors here. */
Datum
Int4Array_Unsafe(const std::vector<int32> &v)
{
	Datum	   *d = static_cast<Datum *>(palloc(sizeof(Datum) * (v.size() + 1)));

	for (size_t i = 0; i < v.size(); i++)
		d[i] = Int32GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, static_cast<int>(v.size()), INT4OID, 4, true,
										   TYPALIGN_INT));
}

Datum
Int8Array_Unsafe(const std::vector<int64> &v)
{
	Datum	   *d = static_cast<Datum *>(palloc(sizeof(Datum) * (v.size() + 1)));

	for (size_t i = 0; i < v.size(); i++)
		d[i] = Int64GetDatum(v[i]);
	return PointerGetDatum(construct_array(d, static_cast<int>(v.size()), INT8OID, 8,
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * The elements of column col of tup, an array of elemtype (NULL: none), and
 * their number, which must be expected unless that is negative.
 */
int
ColumnArray_Unsafe(HeapTuple tup, TupleDesc desc, int col, Oid elemtype, int16 len, bool byval,
				   char align, int expected, Datum **elems, bool **nulls)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);
	int			n = 0;

	*elems = nullptr;
	*nulls = nullptr;
	if (!isnull)
		deconstruct_array(DatumGetArrayTypeP(d), elemtype, len, byval, align, elems, nulls, &n);
	if (expected >= 0 && n != expected)
		elog(ERROR, "memprof: snapshot arrays differ in length (%d, %d)", n, expected);
	return n;
}

/* 42501: the caller did not take snapshot id (inside WithStore). */
void
RaiseNotTakenBy_Unsafe(const pg::StoreSession &x, int64 id)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("memprof snapshot %lld was not taken by role \"%s\"",
					static_cast<long long>(id), GetUserNameFromId(x.caller, false)),
			 errdetail("A role that is not a superuser may drop, prune or re-baseline only the snapshots it took.")));
}

/* 22023: run_id is not a leak-check run of the caller's in this backend. */
Error
NotOwnRun(int64 run_id)
{
	return Error(ERRCODE_INVALID_PARAMETER_VALUE,
				 "memprof leak-check run %lld is not a run of this role in this backend",
				 static_cast<long long>(run_id));
}

/* 42704, as LoadSnapshot and SetBaseline raise it. */
Error
NoSuchSnapshot(int64 id)
{
	return Error(ERRCODE_UNDEFINED_OBJECT, "memprof snapshot %lld does not exist",
				 static_cast<long long>(id))
		.Hint("See the memprof_snapshots view for existing snapshots.");
}

}								/* namespace */

void
FinishRun(const pg::StoreRef &store, int64 run_id)
{
	bool		finished = false;

	pg::WithStore(store, [&](const pg::StoreSession &x) {
		Oid			types[4] = {INT8OID, OIDOID, INT4OID, TIMESTAMPTZOID};
		Datum		vals[4] = {Int64GetDatum(run_id), ObjectIdGetDatum(x.caller),
		Int32GetDatum(MyProcPid), TimestampTzGetDatum(MyStartTimestamp)};
		bool		isnull;

		finished = DatumGetBool(pg::StoreCall_Unsafe(x, "memprof_store_finish_run", 4, types, vals,
													 nullptr, &isnull));
	});
	if (!finished)
		throw NotOwnRun(run_id);
}

int64
StoreSnapshot(const pg::StoreRef &store, const Sample &s, const SnapshotMeta &meta)
{
	size_t		n = s.rows.size();
	std::vector<int32> ids(n), parents(n), depths(n);
	std::vector<int64> totals(n), frees(n), nblocks(n), chunks(n);
	std::vector<Datum> types(n), names(n), idents(n);
	int64		snapshot_id = 0;
	bool		stored = false;

	for (size_t i = 0; i < n; i++)
	{
		const SampleRow &r = s.rows[i];

		ids[i] = r.id;
		parents[i] = r.parent_id;
		depths[i] = r.level;
		totals[i] = r.total_bytes;
		frees[i] = r.free_bytes;
		nblocks[i] = r.nblocks;
		chunks[i] = r.free_chunks;
		/* "char" codes: a AllocSet, s Slab, g Generation, b Bump, ? other */
		types[i] = CharGetDatum("?asgb"[static_cast<int>(r.type)]);
	}

	pg::WithStore(store, [&](const pg::StoreSession &x) {
		constexpr int nargs = 21;
		Oid			argtypes[nargs] = {OIDOID, TEXTOID, INT4OID, TEXTOID, TIMESTAMPTZOID,
			TIMESTAMPTZOID, BOOLOID, INT4OID, INT8OID, BOOLOID, INT4OID,
			INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID, CHARARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID};
		Datum		args[nargs];
		char		nulls[nargs + 1];
		bool	   *inulls = static_cast<bool *>(palloc(sizeof(bool) * (n + 1)));
		int			dims[1] = {static_cast<int>(n)};
		int			lbs[1] = {1};
		bool		isnull;
		Datum		id;

		for (size_t i = 0; i < n; i++)
		{
			const SampleRow &r = s.rows[i];
			std::string_view nm = s.Name(r);

			names[i] = PointerGetDatum(cstring_to_text_with_len(nm.data(), static_cast<int>(nm.size())));
			inulls[i] = !s.HasIdent(r);
			if (s.HasIdent(r))
			{
				std::string_view ident = s.Ident(r);

				idents[i] = PointerGetDatum(cstring_to_text_with_len(ident.data(),
																	 static_cast<int>(ident.size())));
			}
			else
				idents[i] = (Datum) 0;
		}
		memset(nulls, ' ', sizeof(nulls));
		nulls[nargs] = '\0';
		args[0] = ObjectIdGetDatum(x.caller);
		args[1] = meta.label ? CStringGetTextDatum(meta.label) : (Datum) 0;
		nulls[1] = meta.label ? ' ' : 'n';
		args[2] = Int32GetDatum(meta.pid);
		args[3] = CStringGetTextDatum(meta.backend_type);
		args[4] = TimestampTzGetDatum(meta.backend_start);
		nulls[4] = meta.backend_start ? ' ' : 'n';
		args[5] = TimestampTzGetDatum(meta.taken_at);
		args[6] = BoolGetDatum(meta.truncated);
		args[7] = Int32GetDatum(meta.omitted_contexts);
		/* run: NULL unless the snapshot continues a run; new_run */
		args[8] = Int64GetDatum(meta.run_id);
		nulls[8] = meta.run_id > 0 ? ' ' : 'n';
		args[9] = BoolGetDatum(meta.run_id == kNewRun);
		args[10] = Int32GetDatum(max_snapshots);
		args[11] = Int4Array_Unsafe(ids);
		args[12] = Int4Array_Unsafe(parents);
		args[13] = Int4Array_Unsafe(depths);
		args[14] = PointerGetDatum(construct_array(types.data(), static_cast<int>(n),
												   CHAROID, 1, true, TYPALIGN_CHAR));
		args[15] = PointerGetDatum(construct_array(names.data(), static_cast<int>(n),
												   TEXTOID, -1, false, TYPALIGN_INT));
		args[16] = PointerGetDatum(construct_md_array(idents.data(), inulls, 1, dims, lbs,
													  TEXTOID, -1, false, TYPALIGN_INT));
		args[17] = Int8Array_Unsafe(totals);
		args[18] = Int8Array_Unsafe(frees);
		args[19] = Int8Array_Unsafe(nblocks);
		args[20] = Int8Array_Unsafe(chunks);
		id = pg::StoreCall_Unsafe(x, "memprof_store_insert", nargs, argtypes, args, nulls, &isnull);
		stored = !isnull;
		snapshot_id = stored ? DatumGetInt64(id) : 0;
	});
	/* a continued leak-check run must be the caller's, in this backend */
	if (!stored)
		throw NotOwnRun(meta.run_id);
	return snapshot_id;
}

void
LoadSnapshot(const pg::StoreRef &store, int64 id, Sample &out)
{
	bool		found = false;

	out.rows.clear();
	out.text.clear();
	pg::WithStore(store, [&](const pg::StoreSession &x) {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(id)};
		Datum	   *ids, *parents, *depths, *tcodes, *names, *idents, *totals, *frees, *nblocks, *chunks;
		bool	   *nn, *inulls;
		HeapTuple	tup;
		TupleDesc	desc;
		int			n;

		if (pg::StoreRows_Unsafe(x, "memprof_store_read", 1, types, vals, nullptr, true) != 1)
			return;				/* no such snapshot */
		found = true;
		tup = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		n = ColumnArray_Unsafe(tup, desc, 1, INT4OID, 4, true, TYPALIGN_INT, -1, &ids, &nn);
		ColumnArray_Unsafe(tup, desc, 2, INT4OID, 4, true, TYPALIGN_INT, n, &parents, &nn);
		ColumnArray_Unsafe(tup, desc, 3, INT4OID, 4, true, TYPALIGN_INT, n, &depths, &nn);
		ColumnArray_Unsafe(tup, desc, 4, CHAROID, 1, true, TYPALIGN_CHAR, n, &tcodes, &nn);
		ColumnArray_Unsafe(tup, desc, 5, TEXTOID, -1, false, TYPALIGN_INT, n, &names, &nn);
		ColumnArray_Unsafe(tup, desc, 6, TEXTOID, -1, false, TYPALIGN_INT, n, &idents, &inulls);
		ColumnArray_Unsafe(tup, desc, 7, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, n, &totals, &nn);
		ColumnArray_Unsafe(tup, desc, 8, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, n, &frees, &nn);
		ColumnArray_Unsafe(tup, desc, 9, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, n, &nblocks, &nn);
		ColumnArray_Unsafe(tup, desc, 10, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, n, &chunks, &nn);
		out.rows.reserve(static_cast<size_t>(n));
		for (int i = 0; i < n; i++)
		{
			SampleRow	r;
			char		tc = DatumGetChar(tcodes[i]);
			text	   *name = DatumGetTextPP(names[i]);
			text	   *ident = inulls[i] ? nullptr : DatumGetTextPP(idents[i]);

			r.id = DatumGetInt32(ids[i]);
			r.parent_id = DatumGetInt32(parents[i]);
			r.level = DatumGetInt32(depths[i]);
			r.type = tc == 'a' ? ContextType::AllocSet : tc == 's' ? ContextType::Slab
				: tc == 'g' ? ContextType::Generation : tc == 'b' ? ContextType::Bump
				: ContextType::Unknown;
			r.total_bytes = DatumGetInt64(totals[i]);
			r.free_bytes = DatumGetInt64(frees[i]);
			r.nblocks = DatumGetInt64(nblocks[i]);
			r.free_chunks = DatumGetInt64(chunks[i]);
			if (r.id != i + 1)
				elog(ERROR, "memprof: snapshot %lld is damaged (context ids are not 1..n)",
					 static_cast<long long>(id));
			out.Add(r, std::string_view(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)),
					ident ? VARDATA_ANY(ident) : nullptr,
					ident ? VARSIZE_ANY_EXHDR(ident) : 0);
		}
	});
	if (!found)
		throw NoSuchSnapshot(id);
}

namespace {

/*
 * Calls the store's fn(snap, caller, caller_super), one of the functions
 * that change a snapshot the caller may change: true when it ran, false
 * when there is no snapshot id; 42501 when the caller may not change it.
 */
bool
ChangeOwnSnapshot(const pg::StoreRef &store, const char *fn, int64 id)
{
	bool		found = false;

	pg::WithStore(store, [&](const pg::StoreSession &x) {
		Oid			types[3] = {INT8OID, OIDOID, BOOLOID};
		Datum		vals[3] = {Int64GetDatum(id), ObjectIdGetDatum(x.caller),
		BoolGetDatum(x.caller_super)};
		bool		isnull;
		Datum		allowed = pg::StoreCall_Unsafe(x, fn, 3, types, vals, nullptr, &isnull);

		found = !isnull;
		if (found && !DatumGetBool(allowed))
			RaiseNotTakenBy_Unsafe(x, id);
	});
	return found;
}

}								/* namespace */

bool
DropSnapshot(const pg::StoreRef &store, int64 id)
{
	return ChangeOwnSnapshot(store, "memprof_store_drop", id);
}

void
SetBaseline(const pg::StoreRef &store, int64 id)
{
	/*
	 * One baseline per backend and role: each role's baseline of a backend
	 * is its own (memprof_store_set_baseline).
	 */
	if (!ChangeOwnSnapshot(store, "memprof_store_set_baseline", id))
		throw NoSuchSnapshot(id);
}

int64
PruneSnapshots(const pg::StoreRef &store, const int32 *keep_last, const Interval *older_than)
{
	int64		n = 0;

	/*
	 * Only the caller's snapshots (all of them for a superuser) are
	 * candidates, and keep_last counts among those.
	 */
	pg::WithStore(store, [&](const pg::StoreSession &x) {
		Oid			types[4] = {INT4OID, INTERVALOID, OIDOID, BOOLOID};
		Datum		vals[4];
		char		nulls[5] = "    ";
		bool		isnull;

		vals[0] = Int32GetDatum(keep_last ? *keep_last : 0);
		nulls[0] = keep_last ? ' ' : 'n';
		vals[1] = older_than ? IntervalPGetDatum(older_than) : (Datum) 0;
		nulls[1] = older_than ? ' ' : 'n';
		vals[2] = ObjectIdGetDatum(x.caller);
		vals[3] = BoolGetDatum(x.caller_super);
		n = DatumGetInt64(pg::StoreCall_Unsafe(x, "memprof_store_prune", 4, types, vals, nulls,
											   &isnull));
	});
	return n;
}

}								/* namespace memprof */

/*==== SQL-callable functions ====*/

namespace {

memprof::SnapshotMeta
OwnMeta(const char *label)
{
	memprof::SnapshotMeta m;

	m.label = label;
	m.pid = MyProcPid;
	m.backend_type = GetBackendTypeDesc(MyBackendType);
	m.backend_start = MyStartTimestamp;
	m.taken_at = GetCurrentTimestamp();
	return m;
}

}								/* namespace */

/*---- snapshots (version 1.3's symbols) ----*/

/* memprof_snapshot(label text DEFAULT NULL): this backend's tree, stored. */
MEMPROF_FUNCTION(memprof_snapshot_1_3)
{
	memprof::ScratchSample scratch;

	/* sample first: the tree as it is when the function starts */
	memprof::TakeSample(TopMemoryContext, scratch.get());
	memprof::pg::StoreRef store = memprof::pg::StoreOf(fcinfo);
	int64		id = memprof::StoreSnapshot(store, scratch.get(), OwnMeta(memprof::ArgCString(fcinfo, 0)));

	PG_RETURN_INT64(id);
}

/* memprof_baseline(label text DEFAULT 'baseline'): a snapshot marked baseline. */
MEMPROF_FUNCTION(memprof_baseline_1_3)
{
	memprof::ScratchSample scratch;

	memprof::TakeSample(TopMemoryContext, scratch.get());
	memprof::pg::StoreRef store = memprof::pg::StoreOf(fcinfo);
	int64		id = memprof::StoreSnapshot(store, scratch.get(), OwnMeta(memprof::ArgCString(fcinfo, 0)));

	memprof::SetBaseline(store, id);
	PG_RETURN_INT64(id);
}

MEMPROF_FUNCTION(memprof_set_baseline_1_3)
{
	int64		id = memprof::ArgInt64(fcinfo, 0, "snapshot id");

	memprof::SetBaseline(memprof::pg::StoreOf(fcinfo), id);
	PG_RETURN_VOID();
}

MEMPROF_FUNCTION(memprof_snapshot_drop_1_3)
{
	int64		id = memprof::ArgInt64(fcinfo, 0, "snapshot id");

	if (!memprof::DropSnapshot(memprof::pg::StoreOf(fcinfo), id))
		throw memprof::Error(ERRCODE_UNDEFINED_OBJECT, "memprof snapshot %lld does not exist",
							 static_cast<long long>(id));
	PG_RETURN_BOOL(true);
}

/*
 * memprof_snapshot_prune(keep_last integer, older_than interval): deletes
 * all but the newest keep_last snapshots and/or those older than
 * older_than; at least one must be given, neither may be negative.
 */
MEMPROF_FUNCTION(memprof_snapshot_prune_1_3)
{
	bool		has_keep = !PG_ARGISNULL(0);
	bool		has_older = !PG_ARGISNULL(1);
	int32		keep = has_keep ? PG_GETARG_INT32(0) : 0;
	const Interval *older = has_older ? PG_GETARG_INTERVAL_P(1) : nullptr;

	if (!has_keep && !has_older)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "memprof_snapshot_prune needs keep_last or older_than");
	if (has_keep && keep < 0)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "keep_last must not be negative, not %d", keep);
	if (has_older)
	{
		if (memprof::pg::IntervalIsNegative(older))
		{
			const char *shown = memprof::pg::IntervalText(older);

			throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
								 "older_than must not be negative, not %s", shown)
				.Hint("A negative interval would select snapshots taken in the future, that is all of them.");
		}
	}
	PG_RETURN_INT64(memprof::PruneSnapshots(memprof::pg::StoreOf(fcinfo),
											has_keep ? &keep : nullptr, older));
}

/*
 * memprof_leak_xact_snapshot(label text, run_id bigint): a snapshot of this
 * backend in a leak-check run: run_id NULL starts a run (the new snapshot's
 * id becomes the run id), otherwise the run must be one of the caller's in
 * this backend.  Used by memprof_leak_check_xact.
 */
MEMPROF_FUNCTION(memprof_leak_xact_snapshot_1_3)
{
	memprof::ScratchSample scratch;

	memprof::TakeSample(TopMemoryContext, scratch.get());
	memprof::SnapshotMeta m = OwnMeta(memprof::ArgCString(fcinfo, 0));

	if (PG_ARGISNULL(1))
		m.run_id = memprof::kNewRun;
	else
	{
		m.run_id = PG_GETARG_INT64(1);
		if (m.run_id <= 0)
			throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "run_id must be positive, not %lld",
								 static_cast<long long>(m.run_id));
	}
	PG_RETURN_INT64(memprof::StoreSnapshot(memprof::pg::StoreOf(fcinfo), scratch.get(), m));
}

/* memprof_leak_xact_finish(run_id bigint): the run ended; show its snapshots. */
MEMPROF_FUNCTION(memprof_leak_xact_finish_1_3)
{
	int64		run_id = memprof::ArgInt64(fcinfo, 0, "run_id");

	memprof::FinishRun(memprof::pg::StoreOf(fcinfo), run_id);
	PG_RETURN_VOID();
}

/* memprof_snapshot_contexts(id): a stored snapshot as memprof_contexts rows. */
MEMPROF_FUNCTION(memprof_snapshot_contexts_1_3)
{
	memprof::Sample sample;
	int64		id = memprof::ArgInt64(fcinfo, 0, "snapshot id");

	memprof::LoadSnapshot(memprof::pg::StoreOf(fcinfo), id, sample);
	memprof::EmitContextRows(fcinfo, sample);
	return (Datum) 0;
}

/* memprof_diff(from_id, to_id, include_unchanged): growth per context path. */
MEMPROF_FUNCTION(memprof_diff_1_3)
{
	memprof::Sample from, to;

	if (PG_ARGISNULL(2))
		throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "include_unchanged must not be null");

	bool		include_unchanged = PG_GETARG_BOOL(2);
	memprof::pg::StoreRef store = memprof::pg::StoreOf(fcinfo);

	memprof::LoadSnapshot(store, memprof::ArgInt64(fcinfo, 0, "from_id"), from);
	memprof::LoadSnapshot(store, memprof::ArgInt64(fcinfo, 1, "to_id"), to);
	memprof::EmitDiffRows(fcinfo, from, to, include_unchanged);
	return (Datum) 0;
}

/*---- the snapshot functions of versions 1.0 to 1.2 ----*/

/*
 * A database whose memprof objects are still at 1.0, 1.1 or 1.2 calls these
 * symbols.  The SQL those versions' library ran on the tables is gone (1.3
 * keeps it in the install script), so each of them says what to do instead:
 * ALTER EXTENSION memprof UPDATE, which keeps the stored snapshots.  The
 * functions that do not touch the store (memprof_contexts, the leak check,
 * every process, statements...) keep their symbols and work at any version.
 */
namespace {

[[noreturn]] void
NeedsUpdate()
{
	std::string version = memprof::pg::InstalledVersion();

	throw memprof::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
						 "memprof snapshot functions of version %s need ALTER EXTENSION memprof UPDATE",
						 version.c_str())
		.Hint("The memprof library installed is version 1.3; ALTER EXTENSION memprof UPDATE "
			  "brings this database's memprof objects to it and keeps the stored snapshots.");
}

}								/* namespace */

#define MEMPROF_BEFORE_1_3(fname) \
	MEMPROF_FUNCTION(fname) \
	{ \
		NeedsUpdate(); \
	}

MEMPROF_BEFORE_1_3(memprof_snapshot_fn)
MEMPROF_BEFORE_1_3(memprof_baseline_fn)
MEMPROF_BEFORE_1_3(memprof_set_baseline_fn)
MEMPROF_BEFORE_1_3(memprof_snapshot_drop_fn)
MEMPROF_BEFORE_1_3(memprof_snapshot_prune_fn)
MEMPROF_BEFORE_1_3(memprof_leak_xact_snapshot_fn)
MEMPROF_BEFORE_1_3(memprof_leak_xact_finish_fn)
MEMPROF_BEFORE_1_3(memprof_snapshot_contexts_fn)
MEMPROF_BEFORE_1_3(memprof_diff_fn)
MEMPROF_BEFORE_1_3(memprof_leak_fit_fn)
MEMPROF_BEFORE_1_3(memprof_snapshot_pid_fn)
