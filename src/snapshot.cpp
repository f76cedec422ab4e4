/*
 * snapshot.cpp: the snapshot store (a consumer of Samples).
 *
 * Writing: the sample is taken before this code runs; the rows go in with
 * one INSERT ... SELECT FROM ROWS FROM (unnest($2), ..., unnest($11)), ten arrays as
 * parameters, so 6,000 contexts cost one statement, not 6,000.
 * Reading: one SELECT ordered by id rebuilds the Sample (ids are pre-order,
 * so parents come before children, as the folding code expects).
 */
#include "snapshot.hpp"
#include "pg/args.hpp"
#include "pg/spi.hpp"
#include "rows.hpp"
#include "sample.hpp"

namespace memprof {

int			max_snapshots = 10000;

namespace {

/*
 * Raises 42704 if snapshot id does not exist, 42501 if the caller may not
 * change it: a superuser may change any snapshot, another role only the
 * snapshots it took.  Snapshots taken before 1.1 recorded no role and
 * belong to superusers.
 */
void
CheckOwner(const pg::ExtensionSpi &x, int64 id)
{
	Oid			types[1] = {INT8OID};
	Datum		vals[1] = {Int64GetDatum(id)};
	bool		isnull = true;
	Oid			owner = InvalidOid;
	int			rc;

	rc = SPI_execute_with_args(psprintf(x.v10
										? "SELECT NULL::pg_catalog.oid FROM %s.memprof_snapshot_header WHERE id OPERATOR(pg_catalog.=) $1"
										: "SELECT taken_by::pg_catalog.oid FROM %s.memprof_snapshot_header WHERE id OPERATOR(pg_catalog.=) $1",
										x.schema), 1, types, vals, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("memprof snapshot %lld does not exist", static_cast<long long>(id)),
				 errhint("See the memprof_snapshots view for existing snapshots.")));
	owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (x.caller_super || x.v10)
		return;
	if (isnull || owner != x.caller)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("memprof snapshot %lld was not taken by role \"%s\"",
						static_cast<long long>(id), GetUserNameFromId(x.caller, false)),
				 errdetail("A role that is not a superuser may drop, prune or re-baseline only the snapshots it took.")));
}

/* Array builders; called inside WithExtensionSpi, so no destructors here. */
ArrayType *
Int4Array(const std::vector<int32> &v)
{
	Datum	   *d = static_cast<Datum *>(palloc(sizeof(Datum) * (v.size() + 1)));

	for (size_t i = 0; i < v.size(); i++)
		d[i] = Int32GetDatum(v[i]);
	return construct_array(d, static_cast<int>(v.size()), INT4OID, 4, true, TYPALIGN_INT);
}

ArrayType *
Int8Array(const std::vector<int64> &v)
{
	Datum	   *d = static_cast<Datum *>(palloc(sizeof(Datum) * (v.size() + 1)));

	for (size_t i = 0; i < v.size(); i++)
		d[i] = Int64GetDatum(v[i]);
	return construct_array(d, static_cast<int>(v.size()), INT8OID, 8,
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Raises 22023 unless run_id is a leak-check run of the caller's in this
 * backend (PostgreSQL calls: inside WithExtensionSpi).
 */
void
CheckOwnRun(const pg::ExtensionSpi &x, int64 run_id, int32 pid, TimestampTz backend_start)
{
	Oid			rtypes[4] = {INT8OID, OIDOID, INT4OID, TIMESTAMPTZOID};
	Datum		rvals[4] = {Int64GetDatum(run_id), ObjectIdGetDatum(x.caller),
	Int32GetDatum(pid), TimestampTzGetDatum(backend_start)};
	int			rc;

	if (x.v10)
		elog(ERROR, "memprof: leak-check runs need extension version 1.1 (ALTER EXTENSION memprof UPDATE)");
	rc = SPI_execute_with_args(psprintf("SELECT 1 FROM %s.memprof_snapshot_header "
										"WHERE run_id OPERATOR(pg_catalog.=) $1 "
										"AND taken_by::pg_catalog.oid OPERATOR(pg_catalog.=) $2 "
										"AND pid OPERATOR(pg_catalog.=) $3 "
										"AND backend_start OPERATOR(pg_catalog.=) $4",
										x.schema), 4, rtypes, rvals, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("memprof leak-check run %lld is not a run of this role in this backend",
						static_cast<long long>(run_id))));
}

}								/* namespace */

/*
 * Deletes the snapshots whose header `where` selects (a condition on h, with
 * parameters $1..$nargs), header and contexts in one statement: the one way
 * snapshots are deleted (drop, prune, retention, runs cut short).  Returns
 * how many snapshots went.
 */
int64
DeleteSnapshots(const pg::ExtensionSpi &x, const char *where, int nargs, Oid *types, Datum *vals,
				const char *nulls)
{
	bool		isnull;
	int			rc;

	rc = SPI_execute_with_args(psprintf("WITH gone AS (DELETE FROM %s.memprof_snapshot_header h "
										"               WHERE %s RETURNING h.id), "
										"ctx AS (DELETE FROM %s.memprof_snapshot_context c "
										"         WHERE c.snapshot_id OPERATOR(pg_catalog.=) "
										"               ANY (ARRAY(SELECT id FROM gone))) "
										"SELECT pg_catalog.count(*) FROM gone",
										x.schema, where, x.schema),
							   nargs, types, vals, nulls, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "memprof: could not delete snapshots (%d)", rc);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

void
FinishRun(int64 run_id)
{
	pg::WithExtensionSpi([&](const pg::ExtensionSpi &x) {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(run_id)};

		CheckOwnRun(x, run_id, MyProcPid, MyStartTimestamp);
		if (x.run_complete)
			SPI_execute_with_args(psprintf("UPDATE %s.memprof_snapshot_header SET run_complete = true "
										   "WHERE run_id OPERATOR(pg_catalog.=) $1", x.schema),
								  1, types, vals, NULL, false, 0);
	});
}

int64
StoreSnapshot(const Sample &s, const SnapshotMeta &meta)
{
	size_t		n = s.rows.size();
	std::vector<int32> ids(n), parents(n), levels(n);
	std::vector<int64> totals(n), frees(n), nblocks(n), chunks(n);
	std::vector<Datum> types(n);
	std::vector<Datum> names(n), idents(n);
	int64		snapshot_id = 0;
	SampleTotals t = s.Totals();

	for (size_t i = 0; i < n; i++)
	{
		const SampleRow &r = s.rows[i];

		ids[i] = r.id;
		parents[i] = r.parent_id;
		levels[i] = r.level;
		totals[i] = r.total_bytes;
		frees[i] = r.free_bytes;
		nblocks[i] = r.nblocks;
		chunks[i] = r.free_chunks;
		/* "char" codes: a AllocSet, s Slab, g Generation, b Bump, ? other */
		types[i] = CharGetDatum("?asgb"[static_cast<int>(r.type)]);
	}

	pg::WithExtensionSpi([&](const pg::ExtensionSpi &x) {
		char	   *sql;
		Oid			htypes[13] = {TEXTOID, INT4OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
			INT4OID, INT8OID, INT8OID, INT8OID, BOOLOID, INT4OID, OIDOID, INT8OID};
		Datum		hvals[13];
		char		hnulls[14] = "             ";
		bool	   *inulls;
		bool		isnull;
		int			rc;

		/* a continued leak-check run must be the caller's, in this backend */
		if (meta.run_id > 0)
			CheckOwnRun(x, meta.run_id, meta.pid, meta.backend_start);

		/* header */
		if (x.v10)
			sql = psprintf("INSERT INTO %s.memprof_snapshot_header "
						   "(label, pid, backend_type, backend_start, taken_at, contexts, "
						   " total_bytes, free_bytes, nblocks, truncated, omitted_contexts) "
						   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
						   x.schema);
		else
			sql = psprintf("INSERT INTO %s.memprof_snapshot_header "
						   "(label, pid, backend_type, backend_start, taken_at, contexts, "
						   " total_bytes, free_bytes, total_nblocks, truncated, omitted_contexts, "
						   " taken_by, run_id) "
						   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
						   " $12::pg_catalog.regrole, $13) RETURNING id",
						   x.schema);
		hvals[0] = meta.label ? CStringGetTextDatum(meta.label) : (Datum) 0;
		hnulls[0] = meta.label ? ' ' : 'n';
		hvals[1] = Int32GetDatum(meta.pid);
		hvals[2] = CStringGetTextDatum(meta.backend_type);
		hvals[3] = TimestampTzGetDatum(meta.backend_start);
		hnulls[3] = meta.backend_start ? ' ' : 'n';
		hvals[4] = TimestampTzGetDatum(meta.taken_at);
		hvals[5] = Int32GetDatum(static_cast<int32>(t.contexts));
		hvals[6] = Int64GetDatum(t.total_bytes);
		hvals[7] = Int64GetDatum(t.free_bytes);
		hvals[8] = Int64GetDatum(t.nblocks);
		hvals[9] = BoolGetDatum(meta.truncated);
		hvals[10] = Int32GetDatum(meta.omitted_contexts);
		hvals[11] = ObjectIdGetDatum(x.caller);
		hvals[12] = Int64GetDatum(meta.run_id);
		hnulls[12] = meta.run_id > 0 ? ' ' : 'n';
		rc = SPI_execute_with_args(sql, x.v10 ? 11 : 13, htypes, hvals, hnulls, false, 1);
		if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "memprof: could not insert snapshot header (%d)", rc);
		snapshot_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
		if (meta.run_id == kNewRun && !x.v10)
		{
			Oid			ntypes[1] = {INT8OID};
			Datum		nvals[1] = {Int64GetDatum(snapshot_id)};

			SPI_execute_with_args(psprintf("UPDATE %s.memprof_snapshot_header SET run_id = id "
										   "WHERE id OPERATOR(pg_catalog.=) $1", x.schema),
								  1, ntypes, nvals, NULL, false, 1);
		}
		if (meta.run_id != 0 && x.run_complete)
		{
			/*
			 * A run's snapshots stay incomplete (hidden from memprof_snapshots)
			 * until memprof_leak_xact_finish.  A new run first deletes the
			 * incomplete runs this role left in this backend: a run ends
			 * before the next starts, so those were cut short (a cancel while
			 * one of its transactions committed, which PL/pgSQL cannot catch).
			 */
			Oid			otypes[4] = {INT8OID, OIDOID, INT4OID, TIMESTAMPTZOID};
			Datum		ovals[4] = {Int64GetDatum(snapshot_id), ObjectIdGetDatum(x.caller),
			Int32GetDatum(meta.pid), TimestampTzGetDatum(meta.backend_start)};

			SPI_execute_with_args(psprintf("UPDATE %s.memprof_snapshot_header SET run_complete = false "
										   "WHERE id OPERATOR(pg_catalog.=) $1", x.schema),
								  1, otypes, ovals, NULL, false, 1);
			if (meta.run_id == kNewRun)
				DeleteSnapshots(x, "h.run_id IS NOT NULL AND NOT h.run_complete "
								"AND h.run_id OPERATOR(pg_catalog.<>) $1 "
								"AND h.taken_by::pg_catalog.oid OPERATOR(pg_catalog.=) $2 "
								"AND h.pid OPERATOR(pg_catalog.=) $3 "
								"AND h.backend_start OPERATOR(pg_catalog.=) $4",
								4, otypes, ovals, NULL);
		}

		/* contexts */
		for (size_t i = 0; i < n; i++)
		{
			const SampleRow &r = s.rows[i];
			std::string_view nm = s.Name(r);

			names[i] = PointerGetDatum(cstring_to_text_with_len(nm.data(), static_cast<int>(nm.size())));
			if (s.HasIdent(r))
			{
				std::string_view id = s.Ident(r);

				idents[i] = PointerGetDatum(cstring_to_text_with_len(id.data(), static_cast<int>(id.size())));
			}
			else
				idents[i] = (Datum) 0;
		}
		inulls = static_cast<bool *>(palloc(sizeof(bool) * (n + 1)));
		for (size_t i = 0; i < n; i++)
			inulls[i] = !s.HasIdent(s.rows[i]);
		{
			int			dims[1] = {static_cast<int>(n)};
			int			lbs[1] = {1};
			Oid			ctypes[11] = {INT8OID, INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID,
				CHARARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
				INT8ARRAYOID, INT8ARRAYOID};
			Datum		cvals[11];

			cvals[0] = Int64GetDatum(snapshot_id);
			cvals[1] = PointerGetDatum(Int4Array(ids));
			cvals[2] = PointerGetDatum(Int4Array(parents));
			cvals[3] = PointerGetDatum(Int4Array(levels));
			cvals[4] = PointerGetDatum(construct_array(types.data(), static_cast<int>(n),
													   CHAROID, 1, true, TYPALIGN_CHAR));
			cvals[5] = PointerGetDatum(construct_array(names.data(), static_cast<int>(n),
													   TEXTOID, -1, false, TYPALIGN_INT));
			cvals[6] = PointerGetDatum(construct_md_array(idents.data(), inulls, 1, dims, lbs,
														  TEXTOID, -1, false, TYPALIGN_INT));
			cvals[7] = PointerGetDatum(Int8Array(totals));
			cvals[8] = PointerGetDatum(Int8Array(frees));
			cvals[9] = PointerGetDatum(Int8Array(nblocks));
			cvals[10] = PointerGetDatum(Int8Array(chunks));
			sql = psprintf("INSERT INTO %s.memprof_snapshot_context "
						   "(snapshot_id, id, parent_id, %s, type, name, ident, "
						   " total_bytes, free_bytes, %s, free_chunks) "
						   "SELECT $1, u.* FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), "
						   " pg_catalog.unnest($4), pg_catalog.unnest($5), pg_catalog.unnest($6), "
						   " pg_catalog.unnest($7), pg_catalog.unnest($8), pg_catalog.unnest($9), "
						   " pg_catalog.unnest($10), pg_catalog.unnest($11)) AS u",
						   x.schema, x.v10 ? "level" : "depth", x.v10 ? "nblocks" : "total_nblocks");
			rc = SPI_execute_with_args(sql, 11, ctypes, cvals, NULL, false, 0);
			if (rc != SPI_OK_INSERT || SPI_processed != n)
				elog(ERROR, "memprof: could not insert snapshot contexts (%d)", rc);
		}

		/* retention: keep the newest memprof.max_snapshots (0: keep all) */
		if (max_snapshots > 0)
		{
			Oid			ktypes[1] = {INT4OID};
			Datum		kvals[1] = {Int32GetDatum(max_snapshots)};

			DeleteSnapshots(x, psprintf("h.id OPERATOR(pg_catalog.<=) "
										"(SELECT id FROM %s.memprof_snapshot_header "
										" ORDER BY id DESC OFFSET $1 LIMIT 1)", x.schema),
							1, ktypes, kvals, NULL);
		}
	});
	return snapshot_id;
}

void
LoadSnapshot(int64 id, Sample &out)
{
	out.rows.clear();
	out.text.clear();
	pg::WithExtensionSpi([&](const pg::ExtensionSpi &x) {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(id)};
		int			rc;

		rc = SPI_execute_with_args(psprintf("SELECT 1 FROM %s.memprof_snapshot_header "
											"WHERE id OPERATOR(pg_catalog.=) $1",
											x.schema), 1, types, vals, NULL, true, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("memprof snapshot %lld does not exist", static_cast<long long>(id)),
					 errhint("See the memprof_snapshots view for existing snapshots.")));
		rc = SPI_execute_with_args(psprintf("SELECT id, parent_id, %s, type, name, ident, "
											"total_bytes, free_bytes, %s, free_chunks "
											"FROM %s.memprof_snapshot_context "
											"WHERE snapshot_id OPERATOR(pg_catalog.=) $1 "
											"ORDER BY id", x.v10 ? "level" : "depth",
											x.v10 ? "nblocks" : "total_nblocks", x.schema),
								   1, types, vals, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "memprof: could not read snapshot %lld", static_cast<long long>(id));
		out.rows.reserve(SPI_processed);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			SampleRow	r;
			bool		isnull;
			char		tc;
			text	   *name;
			text	   *ident;

			r.id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
			r.parent_id = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
			r.level = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
			tc = DatumGetChar(SPI_getbinval(tup, desc, 4, &isnull));
			r.type = tc == 'a' ? ContextType::AllocSet : tc == 's' ? ContextType::Slab
				: tc == 'g' ? ContextType::Generation : tc == 'b' ? ContextType::Bump
				: ContextType::Unknown;
			name = DatumGetTextPP(SPI_getbinval(tup, desc, 5, &isnull));
			Datum		identd = SPI_getbinval(tup, desc, 6, &isnull);

			ident = isnull ? nullptr : DatumGetTextPP(identd);
			r.total_bytes = DatumGetInt64(SPI_getbinval(tup, desc, 7, &isnull));
			r.free_bytes = DatumGetInt64(SPI_getbinval(tup, desc, 8, &isnull));
			r.nblocks = DatumGetInt64(SPI_getbinval(tup, desc, 9, &isnull));
			r.free_chunks = DatumGetInt64(SPI_getbinval(tup, desc, 10, &isnull));
			if (r.id != static_cast<int32>(i + 1))
				elog(ERROR, "memprof: snapshot %lld is damaged (context ids are not 1..n)",
					 static_cast<long long>(id));
			out.Add(r, std::string_view(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)),
					ident ? VARDATA_ANY(ident) : nullptr,
					ident ? VARSIZE_ANY_EXHDR(ident) : 0);
		}
	});
}

bool
DropSnapshot(int64 id)
{
	bool		found = false;

	pg::WithExtensionSpi([&](const pg::ExtensionSpi &x) {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(id)};
		int			rc;

		rc = SPI_execute_with_args(psprintf("SELECT 1 FROM %s.memprof_snapshot_header "
											"WHERE id OPERATOR(pg_catalog.=) $1",
											x.schema), 1, types, vals, NULL, false, 1);
		if (rc == SPI_OK_SELECT && SPI_processed == 1)
		{
			CheckOwner(x, id);
			found = DeleteSnapshots(x, "h.id OPERATOR(pg_catalog.=) $1", 1, types, vals, NULL) > 0;
		}
	});
	return found;
}

void
SetBaseline(int64 id)
{
	pg::WithExtensionSpi([&](const pg::ExtensionSpi &x) {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(id)};

		CheckOwner(x, id);

		/*
		 * One baseline per backend and role: each role's baseline of a
		 * backend is its own.  backend_start is NULL for a process whose
		 * start was not known; NULL matches NULL.
		 */
		SPI_execute_with_args(psprintf("UPDATE %s.memprof_snapshot_header h "
									   "SET is_baseline = (h.id OPERATOR(pg_catalog.=) $1) "
									   "FROM %s.memprof_snapshot_header me "
									   "WHERE me.id OPERATOR(pg_catalog.=) $1 "
									   "AND h.pid OPERATOR(pg_catalog.=) me.pid "
									   "AND (h.backend_start OPERATOR(pg_catalog.=) me.backend_start "
									   "     OR (h.backend_start IS NULL AND me.backend_start IS NULL)) "
									   "%s "
									   "AND (h.is_baseline OR h.id OPERATOR(pg_catalog.=) $1)",
									   x.schema, x.schema,
									   x.v10 ? "" :
									   "AND (h.taken_by::pg_catalog.oid OPERATOR(pg_catalog.=) me.taken_by::pg_catalog.oid "
									   "     OR (h.taken_by IS NULL AND me.taken_by IS NULL))"),
							  1, types, vals, NULL, false, 0);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("memprof snapshot %lld does not exist", static_cast<long long>(id))));
	});
}

int64
PruneSnapshots(const int32 *keep_last, const Interval *older_than)
{
	int64		n = 0;

	pg::WithExtensionSpi([&](const pg::ExtensionSpi &x) {
		Oid			types[4] = {INT4OID, INTERVALOID, BOOLOID, OIDOID};
		Datum		vals[4];
		char		nulls[5] = "    ";

		vals[0] = Int32GetDatum(keep_last ? *keep_last : 0);
		nulls[0] = keep_last ? ' ' : 'n';
		vals[1] = older_than ? IntervalPGetDatum(older_than) : (Datum) 0;
		nulls[1] = older_than ? ' ' : 'n';
		vals[2] = BoolGetDatum(x.caller_super || x.v10);
		vals[3] = ObjectIdGetDatum(x.caller);

		/*
		 * Only the caller's snapshots (all of them for a superuser) are
		 * candidates, and keep_last counts among those.
		 */
		const char *mine = psprintf("(SELECT id, taken_at FROM %s.memprof_snapshot_header m "
									"  WHERE $3 OR %s)",
									x.schema,
									x.v10 ? "false" : "m.taken_by::pg_catalog.oid OPERATOR(pg_catalog.=) $4");

		n = DeleteSnapshots(x, psprintf("h.id OPERATOR(pg_catalog.=) ANY (ARRAY("
										"  SELECT m.id FROM %s m "
										"   WHERE ($2 IS NOT NULL AND m.taken_at OPERATOR(pg_catalog.<) "
										"          (pg_catalog.now() OPERATOR(pg_catalog.-) $2)) "
										"      OR ($1 IS NOT NULL AND m.id OPERATOR(pg_catalog.<>) ALL (ARRAY("
										"          SELECT k.id FROM %s k ORDER BY k.id DESC LIMIT $1)))))",
										mine, mine),
							4, types, vals, nulls);
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

/*---- snapshots ----*/

/* memprof_snapshot(label text DEFAULT NULL): this backend's tree, stored. */
MEMPROF_FUNCTION(memprof_snapshot_fn)
{
	memprof::ScratchSample scratch;

	/* sample first: the tree as it is when the function starts */
	memprof::TakeSample(TopMemoryContext, scratch.get());
	int64		id = memprof::StoreSnapshot(scratch.get(), OwnMeta(memprof::ArgCString(fcinfo, 0)));

	PG_RETURN_INT64(id);
}

/* memprof_baseline(label text DEFAULT 'baseline'): a snapshot marked baseline. */
MEMPROF_FUNCTION(memprof_baseline_fn)
{
	memprof::ScratchSample scratch;

	memprof::TakeSample(TopMemoryContext, scratch.get());
	int64		id = memprof::StoreSnapshot(scratch.get(), OwnMeta(memprof::ArgCString(fcinfo, 0)));

	memprof::SetBaseline(id);
	PG_RETURN_INT64(id);
}

MEMPROF_FUNCTION(memprof_set_baseline_fn)
{
	memprof::SetBaseline(memprof::ArgInt64(fcinfo, 0, "snapshot id"));
	PG_RETURN_VOID();
}

MEMPROF_FUNCTION(memprof_snapshot_drop_fn)
{
	int64		id = memprof::ArgInt64(fcinfo, 0, "snapshot id");

	if (!memprof::DropSnapshot(id))
		throw memprof::Error(ERRCODE_UNDEFINED_OBJECT, "memprof snapshot %lld does not exist",
							 static_cast<long long>(id));
	PG_RETURN_BOOL(true);
}

/*
 * memprof_snapshot_prune(keep_last integer, older_than interval): deletes
 * all but the newest keep_last snapshots and/or those older than
 * older_than; at least one must be given, neither may be negative.
 */
MEMPROF_FUNCTION(memprof_snapshot_prune_fn)
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
	PG_RETURN_INT64(memprof::PruneSnapshots(has_keep ? &keep : nullptr, older));
}

/*
 * memprof_leak_xact_snapshot(label text, run_id bigint): a snapshot of this
 * backend in a leak-check run: run_id NULL starts a run (the new snapshot's
 * id becomes the run id), otherwise the run must be one of the caller's in
 * this backend.  Used by memprof_leak_check_xact.
 */
MEMPROF_FUNCTION(memprof_leak_xact_snapshot_fn)
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
	PG_RETURN_INT64(memprof::StoreSnapshot(scratch.get(), m));
}

/* memprof_leak_xact_finish(run_id bigint): the run ended; show its snapshots. */
MEMPROF_FUNCTION(memprof_leak_xact_finish_fn)
{
	memprof::FinishRun(memprof::ArgInt64(fcinfo, 0, "run_id"));
	PG_RETURN_VOID();
}

/* memprof_snapshot_contexts(id): a stored snapshot as memprof_contexts rows. */
MEMPROF_FUNCTION(memprof_snapshot_contexts_fn)
{
	memprof::Sample sample;

	memprof::LoadSnapshot(memprof::ArgInt64(fcinfo, 0, "snapshot id"), sample);
	memprof::EmitContextRows(fcinfo, sample);
	return (Datum) 0;
}

/* memprof_diff(from_id, to_id): growth per context path. */
MEMPROF_FUNCTION(memprof_diff_fn)
{
	memprof::Sample from, to;

	/* 1.0 and 1.1 declare two arguments: every path, as they did */
	bool		include_unchanged = true;

	if (PG_NARGS() > 2)
	{
		if (PG_ARGISNULL(2))
			throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "include_unchanged must not be null");
		include_unchanged = PG_GETARG_BOOL(2);
	}
	memprof::LoadSnapshot(memprof::ArgInt64(fcinfo, 0, "from_id"), from);
	memprof::LoadSnapshot(memprof::ArgInt64(fcinfo, 1, "to_id"), to);
	memprof::EmitDiffRows(fcinfo, from, to, include_unchanged);
	return (Datum) 0;
}
