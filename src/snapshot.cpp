/*
 * snapshot.cpp: the snapshot store (a consumer of Samples).
 *
 * Writing: the sample is taken before this code runs; the rows go in with
 * one INSERT ... SELECT FROM unnest($2, ..., $11), ten arrays as
 * parameters, so 6,000 contexts cost one statement, not 6,000.
 * Reading: one SELECT ordered by id rebuilds the Sample (ids are pre-order,
 * so parents come before children, as the folding code expects).
 */
#include "snapshot.hpp"
#include "boundary.hpp"

extern "C" {
}

namespace memprof {

int			max_snapshots = 10000;

namespace {

/*
 * Quoted name of the schema memprof is installed in (SPI memory).  PG15
 * keeps get_extension_schema() static, so ask the catalog; SPI must be
 * connected.
 */
const char *
ExtSchema()
{
	bool		isnull;
	int			rc = SPI_execute("SELECT quote_ident(n.nspname) FROM pg_catalog.pg_extension e "
								 "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
								 "WHERE e.extname = 'memprof'", true, 1);

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"memprof\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION memprof.")));
	return TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* SPI_connect, and the quoted extension schema for the statements. */
const char *
SpiBegin()
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "memprof: SPI_connect failed");
	return ExtSchema();
}

/* Array builders; called inside PgCall, so no destructors here. */
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

}								/* namespace */

int64
StoreSnapshot(const Sample &s, const SnapshotMeta &meta)
{
	size_t		n = s.rows.size();
	std::vector<int32> ids(n), parents(n), levels(n);
	std::vector<int64> totals(n), frees(n), nblocks(n), chunks(n);
	std::vector<Datum> types(n);
	std::vector<Datum> names(n), idents(n);
	std::vector<bool> ident_null(n);
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

	PgCall([&]() {
		const char *schema;
		char	   *sql;
		Oid			htypes[11] = {TEXTOID, INT4OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
			INT4OID, INT8OID, INT8OID, INT8OID, BOOLOID, INT4OID};
		Datum		hvals[11];
		char		hnulls[12] = "           ";
		bool	   *inulls;
		bool		isnull;
		int			rc;

		schema = SpiBegin();

		/* header */
		sql = psprintf("INSERT INTO %s.memprof_snapshot_header "
					   "(label, pid, backend_type, backend_start, taken_at, contexts, "
					   " total_bytes, free_bytes, nblocks, truncated, omitted_contexts) "
					   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
					   schema);
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
		rc = SPI_execute_with_args(sql, 11, htypes, hvals, hnulls, false, 1);
		if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "memprof: could not insert snapshot header (%d)", rc);
		snapshot_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));

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
						   "(snapshot_id, id, parent_id, level, type, name, ident, "
						   " total_bytes, free_bytes, nblocks, free_chunks) "
						   "SELECT $1, u.* FROM unnest($2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS u",
						   schema);
			rc = SPI_execute_with_args(sql, 11, ctypes, cvals, NULL, false, 0);
			if (rc != SPI_OK_INSERT || SPI_processed != n)
				elog(ERROR, "memprof: could not insert snapshot contexts (%d)", rc);
		}

		/* retention: keep the newest memprof.max_snapshots (0: keep all) */
		if (max_snapshots > 0)
		{
			Oid			ktypes[1] = {INT4OID};
			Datum		kvals[1] = {Int32GetDatum(max_snapshots)};

			sql = psprintf("WITH gone AS (DELETE FROM %s.memprof_snapshot_header WHERE id <= "
						   "(SELECT id FROM %s.memprof_snapshot_header ORDER BY id DESC OFFSET $1 LIMIT 1) "
						   "RETURNING id) "
						   "DELETE FROM %s.memprof_snapshot_context WHERE snapshot_id IN (SELECT id FROM gone)",
						   schema, schema, schema);
			SPI_execute_with_args(sql, 1, ktypes, kvals, NULL, false, 0);
		}
		SPI_finish();
	});
	return snapshot_id;
}

void
LoadSnapshot(int64 id, Sample &out)
{
	out.rows.clear();
	out.text.clear();
	PgCall([&]() {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(id)};
		const char *schema;
		int			rc;

		schema = SpiBegin();
		rc = SPI_execute_with_args(psprintf("SELECT 1 FROM %s.memprof_snapshot_header WHERE id = $1",
											schema), 1, types, vals, NULL, true, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("memprof snapshot %lld does not exist", static_cast<long long>(id)),
					 errhint("See the memprof_snapshots view for existing snapshots.")));
		rc = SPI_execute_with_args(psprintf("SELECT id, parent_id, level, type, name, ident, "
											"total_bytes, free_bytes, nblocks, free_chunks "
											"FROM %s.memprof_snapshot_context WHERE snapshot_id = $1 "
											"ORDER BY id", schema),
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
		SPI_finish();
	});
}

bool
DropSnapshot(int64 id)
{
	bool		found = false;

	PgCall([&]() {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(id)};
		const char *schema;

		schema = SpiBegin();
		SPI_execute_with_args(psprintf("DELETE FROM %s.memprof_snapshot_header WHERE id = $1",
									   schema), 1, types, vals, NULL, false, 0);
		found = (SPI_processed > 0);
		SPI_execute_with_args(psprintf("DELETE FROM %s.memprof_snapshot_context WHERE snapshot_id = $1",
									   schema), 1, types, vals, NULL, false, 0);
		SPI_finish();
	});
	return found;
}

void
SetBaseline(int64 id)
{
	PgCall([&]() {
		Oid			types[1] = {INT8OID};
		Datum		vals[1] = {Int64GetDatum(id)};
		const char *schema;

		schema = SpiBegin();
		SPI_execute_with_args(psprintf("UPDATE %s.memprof_snapshot_header h SET is_baseline = (h.id = $1) "
									   "FROM %s.memprof_snapshot_header me WHERE me.id = $1 "
									   "AND h.pid = me.pid "
									   "AND h.backend_start IS NOT DISTINCT FROM me.backend_start "
									   "AND (h.is_baseline OR h.id = $1)", schema, schema),
							  1, types, vals, NULL, false, 0);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("memprof snapshot %lld does not exist", static_cast<long long>(id))));
		SPI_finish();
	});
}

}								/* namespace memprof */
