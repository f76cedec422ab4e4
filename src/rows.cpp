/*
 * rows.cpp: a Sample as rows of
 *   (id, parent_id, level, path, name, ident, type, total_bytes, free_bytes,
 *    used_bytes, nblocks, free_chunks)
 */
#include "rows.hpp"
#include "boundary.hpp"

namespace memprof {

static Datum
TextDatum(std::string_view s)
{
	return PointerGetDatum(cstring_to_text_with_len(s.data(), static_cast<int>(s.size())));
}

void
EmitContextRows(FunctionCallInfo fcinfo, const Sample &sample)
{
	/* per-row name datums, reused as path elements of the descendants */
	std::vector<Datum> names(sample.rows.size());
	std::vector<Datum> path;
	Datum		type_names[4];

	path.reserve(64);
	PgCall([&]() {
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		MemoryContext oldcxt;

		InitMaterializedSRF(fcinfo, 0);
		if (rsinfo->setDesc->natts != kContextRowColumns)
			elog(ERROR, "memprof: return type must have %d columns, not %d",
				 kContextRowColumns, rsinfo->setDesc->natts);

		/* values live as long as the result: build them in its context */
		oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		for (int t = 0; t < 4; t++)
			type_names[t] = TextDatum(ContextTypeName(static_cast<ContextType>(t)));

		for (size_t i = 0; i < sample.rows.size(); i++)
		{
			const SampleRow &r = sample.rows[i];
			Datum		values[kContextRowColumns];
			bool		nulls[kContextRowColumns] = {false};
			ArrayType  *arr;

			CHECK_FOR_INTERRUPTS();
			names[i] = TextDatum(sample.Name(r));

			/* path: the ancestors' names (already built), then our own */
			path.resize(static_cast<size_t>(r.level) + 1);
			path[r.level] = names[i];
			for (const SampleRow *p = sample.Parent(r); p != nullptr; p = sample.Parent(*p))
				path[p->level] = names[p->id - 1];
			arr = construct_array(path.data(), r.level + 1, TEXTOID, -1, false,
								  TYPALIGN_INT);

			values[0] = Int32GetDatum(r.id);
			values[1] = Int32GetDatum(r.parent_id);
			nulls[1] = (r.parent_id == 0);
			values[2] = Int32GetDatum(r.level);
			values[3] = PointerGetDatum(arr);
			values[4] = names[i];
			if (sample.HasIdent(r))
				values[5] = TextDatum(sample.Ident(r));
			else
				nulls[5] = true;
			values[6] = type_names[static_cast<int>(r.type)];
			values[7] = Int64GetDatum(r.total_bytes);
			values[8] = Int64GetDatum(r.free_bytes);
			values[9] = Int64GetDatum(r.used_bytes());
			values[10] = Int64GetDatum(r.nblocks);
			values[11] = Int64GetDatum(r.free_chunks);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			pfree(arr);
			if (nulls[5] == false)
				pfree(DatumGetPointer(values[5]));
		}
		MemoryContextSwitchTo(oldcxt);
	});
}

}								/* namespace memprof */
