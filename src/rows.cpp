/*
 * rows.cpp: a Sample as rows of
 *   (id, parent_id, level, path, name, ident, type, total_bytes, free_bytes,
 *    used_bytes, nblocks, free_chunks)
 *
 * Cost matters here (the view must stay within 1.2x of core's, which
 * returns fewer columns): the path array of each row is assembled directly
 * from the names of its ancestors, kept on a stack by level in pre-order,
 * with one palloc and a memcpy per element; construct_array's generic
 * per-element work is not needed for a 1-D text array without nulls.
 */
#include "rows.hpp"
#include "boundary.hpp"
#include "sample.hpp"

#include <cmath>

namespace memprof {

namespace {

text *
MakeText(std::string_view s)
{
	return cstring_to_text_with_len(s.data(), static_cast<int>(s.size()));
}

/*
 * The ancestors of the current row: names[l] is the name at level l and
 * bytes[l] the size of elements 0..l in an int-aligned text array.
 */
struct PathStack
{
	std::vector<text *> names;
	std::vector<Size> bytes;

	void Set(int32 level, text *name)
	{
		size_t		l = static_cast<size_t>(level);

		if (names.size() <= l)
		{
			names.resize(l + 1);
			bytes.resize(l + 1);
		}
		names[l] = name;
		bytes[l] = (l > 0 ? bytes[l - 1] : 0) + INTALIGN(VARSIZE(name));
	}
};

/* A text[] of names[0..level], lower bound 1, no nulls. */
ArrayType *
BuildPath(const PathStack &st, int32 level)
{
	Size		overhead = ARR_OVERHEAD_NONULLS(1);
	Size		size = overhead + st.bytes[level];
	ArrayType  *a = static_cast<ArrayType *>(palloc0(size));
	char	   *p;

	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = TEXTOID;
	ARR_DIMS(a)[0] = level + 1;
	ARR_LBOUND(a)[0] = 1;
	p = ARR_DATA_PTR(a);
	for (int32 l = 0; l <= level; l++)
	{
		text	   *n = st.names[l];

		memcpy(p, n, VARSIZE(n));
		p += INTALIGN(VARSIZE(n));	/* padding stays zero (palloc0) */
	}
	return a;
}

}								/* namespace */

void
EmitContextRows(FunctionCallInfo fcinfo, const Sample &sample)
{
	PathStack	stack;
	Datum		type_names[kContextTypes];

	stack.names.reserve(64);
	stack.bytes.reserve(64);
	PgCall([&]() {
		ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
		MemoryContext oldcxt;
		MemoryContext rowcxt;

		InitMaterializedSRF(fcinfo, 0);
		if (rsinfo->setDesc->natts != kContextRowColumns)
			elog(ERROR, "memprof: return type must have %d columns, not %d",
				 kContextRowColumns, rsinfo->setDesc->natts);

		/*
		 * Names stay alive while they are ancestors (they live in the
		 * per-query context); each row's own datums go in a small context
		 * reset after every row.
		 */
		oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		for (int t = 0; t < kContextTypes; t++)
			type_names[t] = PointerGetDatum(MakeText(ContextTypeName(static_cast<ContextType>(t))));
		rowcxt = AllocSetContextCreate(CurrentMemoryContext, "memprof rows",
									   ALLOCSET_DEFAULT_SIZES);

		for (const SampleRow &r : sample.rows)
		{
			Datum		values[kContextRowColumns];
			bool		nulls[kContextRowColumns] = {false};
			text	   *name;

			CHECK_FOR_INTERRUPTS();
			/* a node's name outlives the row only if it has children */
			name = MakeText(sample.Name(r));
			stack.Set(r.level, name);

			MemoryContextSwitchTo(rowcxt);
			values[0] = Int32GetDatum(r.id);
			values[1] = Int32GetDatum(r.parent_id);
			nulls[1] = (r.parent_id == 0);
			values[2] = Int32GetDatum(r.level);
			values[3] = PointerGetDatum(BuildPath(stack, r.level));
			values[4] = PointerGetDatum(name);
			if (sample.HasIdent(r))
				values[5] = PointerGetDatum(MakeText(sample.Ident(r)));
			else
				nulls[5] = true;
			values[6] = type_names[static_cast<int>(r.type)];
			values[7] = Int64GetDatum(r.total_bytes);
			values[8] = Int64GetDatum(r.free_bytes);
			values[9] = Int64GetDatum(r.used_bytes());
			values[10] = Int64GetDatum(r.nblocks);
			values[11] = Int64GetDatum(r.free_chunks);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextReset(rowcxt);
			MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
		}
		MemoryContextDelete(rowcxt);
		MemoryContextSwitchTo(oldcxt);
	});
}

namespace {

/*
 * text[] of a path's names, in the current memory context.  Called inside
 * PgCall: no object with a destructor in this frame.
 */
Datum
PathArray(const PathIndex &index, int32 path)
{
	int32		n = index.Level(path) + 1;
	Datum	   *elems = static_cast<Datum *>(palloc(sizeof(Datum) * n));

	for (int32 p = path; p >= 0; p = index.Parent(p))
		elems[index.Level(p)] = PointerGetDatum(MakeText(index.Name(p)));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

struct DiffRow
{
	int32		path;			/* -1: totals */
	PathFigures from, to;
};

}								/* namespace */

void
EmitDiffRows(FunctionCallInfo fcinfo, const Sample &from, const Sample &to, bool include_unchanged)
{
	PathIndex	index;
	std::vector<PathFigures> f, t;
	std::vector<DiffRow> rows;
	DiffRow		total{-1, {}, {}};

	index.Fold(from, f);
	index.Fold(to, t);
	f.resize(index.Size());		/* paths only in `to` */
	rows.reserve(index.Size());
	for (size_t p = 0; p < index.Size(); p++)
	{
		if (include_unchanged || f[p].contexts != t[p].contexts ||
			f[p].total_bytes != t[p].total_bytes || f[p].used_bytes != t[p].used_bytes)
			rows.push_back(DiffRow{static_cast<int32>(p), f[p], t[p]});
		total.from.contexts += f[p].contexts;
		total.from.total_bytes += f[p].total_bytes;
		total.from.used_bytes += f[p].used_bytes;
		total.to.contexts += t[p].contexts;
		total.to.total_bytes += t[p].total_bytes;
		total.to.used_bytes += t[p].used_bytes;
	}
	std::sort(rows.begin(), rows.end(), [](const DiffRow &a, const DiffRow &b) {
		int64		ga = a.to.used_bytes - a.from.used_bytes;
		int64		gb = b.to.used_bytes - b.from.used_bytes;

		if (ga != gb)
			return ga > gb;
		return (a.to.total_bytes - a.from.total_bytes) > (b.to.total_bytes - b.from.total_bytes);
	});
	rows.push_back(total);

	EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *nulls) {
		const DiffRow &r = rows[i];

		if (r.path >= 0)
			v[0] = PathArray(index, r.path);
		else
			nulls[0] = true;
		v[1] = Int64GetDatum(r.from.contexts);
		v[2] = Int64GetDatum(r.to.contexts);
		v[3] = Int64GetDatum(r.to.contexts - r.from.contexts);
		v[4] = Int64GetDatum(r.from.total_bytes);
		v[5] = Int64GetDatum(r.to.total_bytes);
		v[6] = Int64GetDatum(r.to.total_bytes - r.from.total_bytes);
		v[7] = Int64GetDatum(r.from.used_bytes);
		v[8] = Int64GetDatum(r.to.used_bytes);
		v[9] = Int64GetDatum(r.to.used_bytes - r.from.used_bytes);
	});
}

void
EmitFitRows(FunctionCallInfo fcinfo, const GrowthFit &fit, const LeakThresholds &t)
{
	std::vector<FitRow> rows = fit.Fit(t);

	EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *nulls) {
		const FitRow &r = rows[i];

		if (r.path >= 0)
			v[0] = PathArray(fit.Index(), r.path);
		else
			nulls[0] = true;
		v[1] = PointerGetDatum(MakeText(r.path >= 0 ? PathScopeName(r.scope) : "overall"));
		v[2] = Int64GetDatum(r.contexts_first);
		v[3] = Int64GetDatum(r.contexts_last);
		v[4] = Int64GetDatum(r.used_first);
		v[5] = Int64GetDatum(r.used_last);
		v[6] = Int64GetDatum(r.used_last - r.used_first);
		/*
		 * Rounded for reading: a tenth of a byte per iteration and three
		 * decimals of R^2 are all the fit can tell; the verdict was taken
		 * from the unrounded figures.
		 */
		v[7] = Float8GetDatum(std::round(r.slope * 10.0) / 10.0);
		v[8] = Float8GetDatum(std::round(r.r2 * 1000.0) / 1000.0);
		nulls[8] = std::isnan(r.r2);
		v[9] = PointerGetDatum(MakeText(r.verdict));
	});
}

}								/* namespace memprof */

/*==== SQL-callable functions ====*/

/*---- memprof_contexts ----*/

/*
 * memprof_contexts(): every memory context of the calling backend.
 * The sample is taken completely before any row is built, so the rows
 * describe one instant and the result's own memory is not in it.
 */
MEMPROF_FUNCTION(memprof_contexts_fn)
{
	memprof::ScratchSample scratch;

	memprof::TakeSample(TopMemoryContext, scratch.get());
	memprof::EmitContextRows(fcinfo, scratch.get());
	return (Datum) 0;
}
