/*
 * rows.hpp: turning a Sample into SQL rows (the memprof_contexts column
 * set), shared by the own-backend view and the remote-fetch function.
 */
#pragma once

#include "sample.hpp"

namespace memprof {

/* Number of columns of a context row. */
constexpr int kContextRowColumns = 12;

/*
 * Emits one row per SampleRow into a materialized SRF result.  Calls
 * PostgreSQL only inside PgCall.
 */
void		EmitContextRows(FunctionCallInfo fcinfo, const Sample &sample);

}								/* namespace memprof */
