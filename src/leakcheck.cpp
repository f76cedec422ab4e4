/*
 * leakcheck.cpp: least-squares growth per path and the verdicts.
 *
 * Verdicts (documented in docs/memprof_leak_check.md):
 *   leak     session-scope path (memory that outlives the statement and the
 *            transaction), slope >= memprof.leak_min_slope bytes/iteration,
 *            R^2 >= memprof.leak_min_r2, and growth over the measured run
 *            >= memprof.leak_min_growth bytes;
 *   growing  the same growth, but either in a statement- or transaction-
 *            scoped path (released when the statement or transaction ends),
 *            or in a session path with an irregular fit (R^2 below the
 *            threshold: caches that fill in steps);
 *   stable   anything else.
 * The overall row fits the sum of session-scope used bytes; its verdict is
 * the worst verdict of any path.
 */
#include "leakcheck.hpp"
#include "pg/args.hpp"
#include "pg/spi.hpp"
#include "rows.hpp"
#include "snapshot.hpp"

#include <cctype>
#include <cmath>

namespace memprof {

double		leak_min_slope = 8.0;
double		leak_min_r2 = 0.8;
int			leak_min_growth = 1024;

void
GrowthFit::Accumulate(Acc &a, int64 used, int64 contexts)
{
	long double x = static_cast<long double>(n_);
	long double y = static_cast<long double>(used);

	a.sy += y;
	a.sxy += x * y;
	a.syy += y * y;
	if (n_ == 1)
	{
		a.first_used = used;
		a.first_contexts = contexts;
	}
	a.last_used = used;
	a.last_contexts = contexts;
	a.last_seen = n_;
}

void
GrowthFit::Add(const Sample &s)
{
	n_++;
	index_.Fold(s, fold_);
	if (acc_.size() < fold_.size())
		acc_.resize(fold_.size());

	int64		session_used = 0;
	int64		session_contexts = 0;

	for (size_t p = 0; p < fold_.size(); p++)
	{
		const PathFigures &f = fold_[p];

		if (f.contexts == 0)
			continue;
		Accumulate(acc_[p], f.used_bytes, f.contexts);
		if (index_.Scope(static_cast<int32>(p)) == PathScope::Session)
		{
			session_used += f.used_bytes;
			session_contexts += f.contexts;
		}
	}
	Accumulate(overall_, session_used, session_contexts);
}

FitRow
GrowthFit::Finish(const Acc &a, int32 path, PathScope scope, const LeakThresholds &t) const
{
	FitRow		r;
	long double n = static_cast<long double>(n_);
	/* x = 1..n */
	long double sx = n * (n + 1) / 2;
	long double sxx = n * (n + 1) * (2 * n + 1) / 6;
	long double sxx_c = sxx - sx * sx / n;
	long double sxy_c = a.sxy - sx * a.sy / n;
	long double syy_c = a.syy - a.sy * a.sy / n;

	r.path = path;
	r.scope = scope;
	/* absent in the last sample: it was freed */
	r.contexts_first = a.first_contexts;
	r.used_first = a.first_used;
	r.contexts_last = (a.last_seen == n_) ? a.last_contexts : 0;
	r.used_last = (a.last_seen == n_) ? a.last_used : 0;
	r.slope = (n_ >= 2 && sxx_c > 0) ? static_cast<double>(sxy_c / sxx_c) : 0.0;
	if (n_ >= 3 && syy_c > 0 && sxx_c > 0)
		r.r2 = static_cast<double>((sxy_c * sxy_c) / (sxx_c * syy_c));
	else
		r.r2 = std::nan("");

	bool		grows = r.slope >= t.min_slope &&
		(r.used_last - r.used_first) >= t.min_growth;
	bool		regular = !std::isnan(r.r2) && r.r2 >= t.min_r2;

	if (grows && regular && scope == PathScope::Session)
		r.verdict = "leak";
	else if (grows)
		r.verdict = "growing";
	else
		r.verdict = "stable";
	return r;
}

std::vector<FitRow>
GrowthFit::Fit(const LeakThresholds &t) const
{
	std::vector<FitRow> rows;
	FitRow		overall = Finish(overall_, -1, PathScope::Session, t);
	int			worst = 0;		/* 0 stable, 1 growing, 2 leak */

	for (size_t p = 0; p < acc_.size(); p++)
	{
		FitRow		r = Finish(acc_[p], static_cast<int32>(p),
							   index_.Scope(static_cast<int32>(p)), t);

		if (std::fabs(r.slope) < 0.5 && r.used_first == r.used_last)
			continue;			/* nothing moved */
		if (strcmp(r.verdict, "leak") == 0)
			worst = 2;
		else if (strcmp(r.verdict, "growing") == 0 && worst < 1)
			worst = 1;
		rows.push_back(r);
	}
	std::sort(rows.begin(), rows.end(), [](const FitRow &a, const FitRow &b) {
		return a.slope > b.slope;
	});
	overall.verdict = worst == 2 ? "leak" : worst == 1 ? "growing" : "stable";
	rows.insert(rows.begin(), overall);
	return rows;
}

namespace {

struct IterationInfo
{
	int32		iteration;		/* 1-based over warm-up + measured */
	int32		warmup;
	int32		total;
};

void
DescribeIteration(const void *arg, char *buf, size_t len)
{
	const IterationInfo *it = static_cast<const IterationInfo *>(arg);

	if (it->iteration <= it->warmup)
		snprintf(buf, len, "memprof_leak_check iteration %d of %d (warm-up)",
				 it->iteration, it->total);
	else
		snprintf(buf, len, "memprof_leak_check iteration %d of %d (measured %d)",
				 it->iteration, it->total, it->iteration - it->warmup);
}

}								/* namespace */

void
RunLeakCheck(const char *sql, int32 iterations, int32 warmup, GrowthFit &fit)
{
	Sample		sample;
	IterationInfo info{0, warmup, warmup + iterations};
	pg::StatementRunner runner;

	/*
	 * Cursors an iteration leaves open (OPEN in a DO block, DECLARE without
	 * CLOSE) would be closed by the end of its transaction, which a run
	 * inside one transaction never reaches; their portals hold cached plans
	 * and resource owners in session-lifetime contexts.  So after each
	 * iteration the cursors it opened are closed, as a commit would close
	 * them; cursors open before the check, and WITH HOLD cursors (which
	 * outlive a commit), stay open.
	 */
	runner.Open();

	std::vector<std::string> before = runner.CursorNames(false);

	std::sort(before.begin(), before.end());
	for (int32 i = 1; i <= warmup + iterations; i++)
	{
		info.iteration = i;
		runner.Run(sql, DescribeIteration, &info);
		for (const std::string &name : runner.CursorNames(true))
			if (!std::binary_search(before.begin(), before.end(), name))
				runner.CloseCursor(name);
		if (i > warmup)
		{
			/* the SPI result is freed; what is left is what the statement kept */
			TakeSample(TopMemoryContext, sample);
			fit.Add(sample);
		}
	}
	runner.Close();
}

}								/* namespace memprof */

/*==== SQL-callable functions ====*/

namespace {

memprof::LeakThresholds
Thresholds()
{
	return memprof::LeakThresholds{memprof::leak_min_slope, memprof::leak_min_r2,
		static_cast<int64>(memprof::leak_min_growth)};
}

}								/* namespace */

/*---- leak check ----*/

/*
 * memprof_leak_check(sql, iterations DEFAULT 100, warmup DEFAULT 10): runs
 * sql repeatedly in this backend and fits growth per context path.
 */
MEMPROF_FUNCTION(memprof_leak_check_fn)
{
	if (PG_ARGISNULL(0))
		throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "statement must not be null");
	int32		iterations = memprof::ArgInt32(fcinfo, 1, "iterations");
	int32		warmup = memprof::ArgInt32(fcinfo, 2, "warmup");

	if (iterations < 3 || iterations > memprof::kMaxLeakIterations)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "iterations must be between 3 and %d, not %d",
							 memprof::kMaxLeakIterations, iterations)
			.Hint("A slope needs at least 3 samples; 100 to 1000 iterations suit most checks.");
	if (warmup < 0 || warmup > memprof::kMaxLeakWarmup)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "warmup must be between 0 and %d, not %d",
							 memprof::kMaxLeakWarmup, warmup);
	const char *sql = memprof::ArgCString(fcinfo, 0);
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
MEMPROF_FUNCTION(memprof_leak_fit_1_3)
{
	std::vector<int64> ids = memprof::ArgInt64Array(fcinfo, 0, "snapshot_ids");

	if (ids.size() < 3)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "at least 3 snapshots are needed for a fit, not %zu", ids.size());

	memprof::GrowthFit fit;
	memprof::Sample sample;
	memprof::pg::StoreRef store = memprof::pg::StoreOf(fcinfo);

	for (int64 id : ids)
	{
		memprof::LoadSnapshot(store, id, sample);
		fit.Add(sample);
	}
	memprof::EmitFitRows(fcinfo, fit, Thresholds());
	return (Datum) 0;
}
