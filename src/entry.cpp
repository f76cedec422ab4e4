/*
 * entry.cpp: the thin entry layer.  SQL-callable functions and module
 * initialisation; each function only adapts arguments and results and calls
 * the consumer that does the work.
 */
#include "boundary.hpp"
#include "leakcheck.hpp"
#include "rows.hpp"
#include "sample.hpp"
#include "snapshot.hpp"

#include <cctype>

extern "C" {
PG_MODULE_MAGIC;
void		_PG_init(void);
}

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

/*---- argument helpers (they throw memprof::Error on bad input) ----*/

namespace {

int64
ArgInt64(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "%s must not be null", what);
	return PG_GETARG_INT64(n);
}

int32
ArgInt32(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "%s must not be null", what);
	return PG_GETARG_INT32(n);
}

/* A text argument as a palloc'd C string; NULL when SQL NULL. */
const char *
ArgCString(FunctionCallInfo fcinfo, int n)
{
	const char *out = nullptr;

	if (PG_ARGISNULL(n))
		return nullptr;
	memprof::PgCall([&]() { out = text_to_cstring(PG_GETARG_TEXT_PP(n)); });
	return out;
}

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

memprof::LeakThresholds
Thresholds()
{
	return memprof::LeakThresholds{memprof::leak_min_slope, memprof::leak_min_r2,
		static_cast<int64>(memprof::leak_min_growth)};
}

}								/* namespace */

/*---- snapshots ----*/

/* memprof_snapshot(label text DEFAULT NULL): this backend's tree, stored. */
MEMPROF_FUNCTION(memprof_snapshot_fn)
{
	memprof::ScratchSample scratch;

	/* sample first: the tree as it is when the function starts */
	memprof::TakeSample(TopMemoryContext, scratch.get());
	int64		id = memprof::StoreSnapshot(scratch.get(), OwnMeta(ArgCString(fcinfo, 0)));

	PG_RETURN_INT64(id);
}

/* memprof_baseline(label text DEFAULT 'baseline'): a snapshot marked baseline. */
MEMPROF_FUNCTION(memprof_baseline_fn)
{
	memprof::ScratchSample scratch;

	memprof::TakeSample(TopMemoryContext, scratch.get());
	int64		id = memprof::StoreSnapshot(scratch.get(), OwnMeta(ArgCString(fcinfo, 0)));

	memprof::SetBaseline(id);
	PG_RETURN_INT64(id);
}

MEMPROF_FUNCTION(memprof_set_baseline_fn)
{
	memprof::SetBaseline(ArgInt64(fcinfo, 0, "snapshot id"));
	PG_RETURN_VOID();
}

MEMPROF_FUNCTION(memprof_snapshot_drop_fn)
{
	int64		id = ArgInt64(fcinfo, 0, "snapshot id");

	if (!memprof::DropSnapshot(id))
		throw memprof::Error(ERRCODE_UNDEFINED_OBJECT, "memprof snapshot %lld does not exist",
							 static_cast<long long>(id));
	PG_RETURN_BOOL(true);
}

/* memprof_snapshot_contexts(id): a stored snapshot as memprof_contexts rows. */
MEMPROF_FUNCTION(memprof_snapshot_contexts_fn)
{
	memprof::Sample sample;

	memprof::LoadSnapshot(ArgInt64(fcinfo, 0, "snapshot id"), sample);
	memprof::EmitContextRows(fcinfo, sample);
	return (Datum) 0;
}

/* memprof_diff(from_id, to_id): growth per context path. */
MEMPROF_FUNCTION(memprof_diff_fn)
{
	memprof::Sample from, to;

	memprof::LoadSnapshot(ArgInt64(fcinfo, 0, "from_id"), from);
	memprof::LoadSnapshot(ArgInt64(fcinfo, 1, "to_id"), to);
	memprof::EmitDiffRows(fcinfo, from, to);
	return (Datum) 0;
}

/*---- leak check ----*/

/*
 * memprof_leak_check(sql, iterations DEFAULT 100, warmup DEFAULT 10): runs
 * sql repeatedly in this backend and fits growth per context path.
 */
MEMPROF_FUNCTION(memprof_leak_check_fn)
{
	if (PG_ARGISNULL(0))
		throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "statement must not be null");
	int32		iterations = ArgInt32(fcinfo, 1, "iterations");
	int32		warmup = ArgInt32(fcinfo, 2, "warmup");

	if (iterations < 3 || iterations > memprof::kMaxLeakIterations)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "iterations must be between 3 and %d, not %d",
							 memprof::kMaxLeakIterations, iterations)
			.Hint("A slope needs at least 3 samples; 100 to 1000 iterations suit most checks.");
	if (warmup < 0 || warmup > memprof::kMaxLeakWarmup)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "warmup must be between 0 and %d, not %d",
							 memprof::kMaxLeakWarmup, warmup);
	const char *sql = ArgCString(fcinfo, 0);
	bool		empty = true;

	for (const char *c = sql; *c; c++)
		if (!isspace(static_cast<unsigned char>(*c)) && *c != ';')
			empty = false;
	if (empty)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "statement must not be empty");

	memprof::GrowthFit fit;

	memprof::RunLeakCheck(sql, iterations, warmup, fit);
	memprof::EmitFitRows(fcinfo, fit, Thresholds());
	return (Datum) 0;
}

/*
 * memprof_leak_fit(snapshot_ids bigint[]): the same fit over stored
 * snapshots, in the order given (used by memprof_leak_check_xact).
 */
MEMPROF_FUNCTION(memprof_leak_fit_fn)
{
	if (PG_ARGISNULL(0))
		throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "snapshot_ids must not be null");

	std::vector<int64> ids;

	memprof::PgCall([&]() {
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (ARR_NDIM(a) > 1)
			ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
							errmsg("snapshot_ids must be a one-dimensional array")));
		deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
								errmsg("snapshot_ids must not contain nulls")));
			ids.push_back(DatumGetInt64(elems[i]));
		}
	});
	if (ids.size() < 3)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "at least 3 snapshots are needed for a fit, not %zu", ids.size());

	memprof::GrowthFit fit;
	memprof::Sample sample;

	for (int64 id : ids)
	{
		memprof::LoadSnapshot(id, sample);
		fit.Add(sample);
	}
	memprof::EmitFitRows(fcinfo, fit, Thresholds());
	return (Datum) 0;
}

/*---- module load ----*/

void
_PG_init(void)
{
	DefineCustomIntVariable("memprof.max_snapshots",
							"Number of stored snapshots kept; older ones are deleted (0: keep all).",
							NULL, &memprof::max_snapshots, 10000, 0, INT_MAX,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("memprof.leak_min_slope",
							 "Growth, in bytes per iteration, from which a context path counts as growing.",
							 NULL, &memprof::leak_min_slope, 8.0, 0.0, 1e12,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("memprof.leak_min_r2",
							 "R-squared from which steady growth in a session context is called a leak.",
							 NULL, &memprof::leak_min_r2, 0.8, 0.0, 1.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("memprof.leak_min_growth",
							"Growth in bytes over the measured run below which nothing is flagged.",
							NULL, &memprof::leak_min_growth, 1024, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	MarkGUCPrefixReserved("memprof");
}
