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
#include "sample.hpp"

#include <cmath>

namespace memprof {

namespace {

/* The names of the current row's ancestors, by level (pre-order). */
struct PathStack
{
	std::vector<std::string_view> names;

	void Set(int32 level, std::string_view name)
	{
		size_t		l = static_cast<size_t>(level);

		if (names.size() <= l)
			names.resize(l + 1);
		names[l] = name;
	}
};

/*
 * The type column's texts, made once per process in TopMemoryContext (a few
 * bytes) rather than once per row.  Called from a row emitter's fill.
 */
Datum
TypeNameDatum_Unsafe(ContextType t)
{
	static Datum names[kContextTypes];
	int			i = static_cast<int>(t);

	if (names[i] == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		names[i] = pg::TextDatum_Unsafe(ContextTypeName(t));
		MemoryContextSwitchTo(old);
	}
	return names[i];
}

}								/* namespace */

void
EmitContextRows(FunctionCallInfo fcinfo, const Sample &sample)
{
	PathStack	stack;

	stack.names.reserve(64);
	pg::EmitRows(fcinfo, sample.rows.size(), [&](size_t i, Datum *values, bool *nulls) {
		const SampleRow &r = sample.rows[i];
		std::string_view name = sample.Name(r);

		stack.Set(r.level, name);
		values[0] = Int32GetDatum(r.id);
		values[1] = Int32GetDatum(r.parent_id);
		nulls[1] = (r.parent_id == 0);
		values[2] = Int32GetDatum(r.level);
		values[3] = pg::TextArrayDatum_Unsafe(stack.names.data(), r.level + 1);
		values[4] = pg::TextDatum_Unsafe(name);
		if (sample.HasIdent(r))
			values[5] = pg::TextDatum_Unsafe(sample.Ident(r));
		else
			nulls[5] = true;
		values[6] = TypeNameDatum_Unsafe(r.type);
		values[7] = Int64GetDatum(r.total_bytes);
		values[8] = Int64GetDatum(r.free_bytes);
		values[9] = Int64GetDatum(r.used_bytes());
		values[10] = Int64GetDatum(r.nblocks);
		values[11] = Int64GetDatum(r.free_chunks);
	}, kContextRowColumns);
}

namespace {

/*
 * text[] of a path's names, in the current memory context; names is the
 * caller's scratch space, sized for the deepest path.  Called from a row
 * emitter's fill: no object with a destructor in this frame.
 */
Datum
PathArray(const PathIndex &index, int32 path, std::vector<std::string_view> &names)
{
	int32		n = index.Level(path) + 1;

	for (int32 p = path; p >= 0; p = index.Parent(p))
		names[static_cast<size_t>(index.Level(p))] = index.Name(p);
	return pg::TextArrayDatum_Unsafe(names.data(), n);
}

/* Scratch space for PathArray over every path of index. */
std::vector<std::string_view>
PathScratch(const PathIndex &index)
{
	int32		deepest = 0;

	for (int32 p = 0; p < static_cast<int32>(index.Size()); p++)
		deepest = std::max(deepest, index.Level(p));
	return std::vector<std::string_view>(static_cast<size_t>(deepest) + 1);
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

	std::vector<std::string_view> scratch = PathScratch(index);

	pg::EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *nulls) {
		const DiffRow &r = rows[i];

		if (r.path >= 0)
			v[0] = PathArray(index, r.path, scratch);
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
	std::vector<std::string_view> scratch = PathScratch(fit.Index());

	pg::EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *nulls) {
		const FitRow &r = rows[i];

		if (r.path >= 0)
			v[0] = PathArray(fit.Index(), r.path, scratch);
		else
			nulls[0] = true;
		v[1] = pg::TextDatum_Unsafe((r.path >= 0 ? PathScopeName(r.scope) : "overall"));
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
		v[9] = pg::TextDatum_Unsafe((r.verdict));
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
