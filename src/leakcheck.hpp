/*
 * leakcheck.hpp: fitting memory growth per context path over a series of
 * Samples (one per iteration of a statement, or one per stored snapshot).
 *
 * The fit is on used bytes (total - free) per path, not on total bytes:
 * block-level totals grow in steps (AllocSet doubles its block size up to
 * 8 MB), so a small leak hides inside a block's free space for many
 * iterations and then shows as a jump; used bytes move by exactly the
 * chunks allocated, so a leak of N bytes per iteration is a straight line of
 * slope N plus the chunk header.
 *
 * The fit is online (sums of y, x*y, y*y per path in long double), so its
 * memory is O(paths), whatever the number of iterations.
 */
#pragma once

#include "pathfold.hpp"

namespace memprof {

struct LeakThresholds
{
	double		min_slope;		/* bytes per iteration */
	double		min_r2;
	int64		min_growth;		/* bytes over the measured run */
};

/* GUCs memprof.leak_min_slope, memprof.leak_min_r2, memprof.leak_min_growth */
extern double leak_min_slope;
extern double leak_min_r2;
extern int	leak_min_growth;

struct FitRow
{
	int32		path;			/* -1: the overall (session scope) row */
	PathScope	scope;
	int64		contexts_first, contexts_last;
	int64		used_first, used_last;
	double		slope;
	double		r2;				/* NaN when the series is constant */
	const char *verdict;
};

class GrowthFit
{
public:
	/* Adds the sample of the next iteration (x = 1, 2, ...). */
	void		Add(const Sample &s);
	int64		Samples() const { return n_; }

	/* Fitted rows: overall first, then paths with any growth, steepest first. */
	std::vector<FitRow> Fit(const LeakThresholds &t) const;
	const PathIndex &Index() const { return index_; }

private:
	struct Acc
	{
		long double sy = 0, sxy = 0, syy = 0;
		int64		first_used = 0, last_used = 0;
		int64		first_contexts = 0, last_contexts = 0;
		int64		last_seen = 0;	/* iteration last present */
	};
	void		Accumulate(Acc &a, int64 used, int64 contexts);
	FitRow		Finish(const Acc &a, int32 path, PathScope scope, const LeakThresholds &t) const;

	PathIndex	index_;
	std::vector<PathFigures> fold_;
	std::vector<Acc> acc_;
	Acc			overall_;
	int64		n_ = 0;
};

/* Caps on memprof_leak_check's arguments (documented in docs/memprof_leak_check.md). */
constexpr int32 kMaxLeakIterations = 100000;
constexpr int32 kMaxLeakWarmup = 10000;

/*
 * Runs sql warmup + iterations times in this backend through SPI, with the
 * caller's privileges, and adds a sample of the whole tree after each
 * measured iteration to fit.  An error in the statement propagates with
 * "memprof_leak_check iteration N of M" in its context.
 */
void		RunLeakCheck(const char *sql, int32 iterations, int32 warmup, GrowthFit &fit);

}								/* namespace memprof */
