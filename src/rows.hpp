/*
 * rows.hpp: turning a Sample into SQL rows (the memprof_contexts column
 * set), shared by the own-backend view and the remote-fetch function.
 */
#pragma once

#include "leakcheck.hpp"
#include "sample.hpp"
#include "pg/tuples.hpp"

namespace memprof {

/* Number of columns of a context row. */
constexpr int kContextRowColumns = 12;

/* Emits one row per SampleRow into a materialized SRF result. */
void		EmitContextRows(FunctionCallInfo fcinfo, const Sample &sample);

/*
 * Rows of memprof_diff: one per path present in either sample, largest
 * used-bytes growth first, then a totals row (path NULL).
 */
void		EmitDiffRows(FunctionCallInfo fcinfo, const Sample &from, const Sample &to,
						 bool include_unchanged);

/* Rows of memprof_leak_check / memprof_leak_fit. */
void		EmitFitRows(FunctionCallInfo fcinfo, const GrowthFit &fit,
						const LeakThresholds &t);

}								/* namespace memprof */
