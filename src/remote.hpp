/*
 * remote.hpp: fetching another process's whole context tree.
 *
 * PostgreSQL 15 cannot be given a new procsignal reason, but it has one that
 * makes any backend or auxiliary process report its memory contexts at its
 * next safe interrupt point (PROCSIG_LOG_MEMORY_CONTEXT, behind
 * pg_log_backend_memory_contexts).  That report begins with
 *     ereport(LOG_SERVER_ONLY, errmsg("logging memory contexts of PID %d"))
 * and memprof's emit_log_hook recognises it by its untranslated format
 * (edata->message_id, independent of lc_messages).  If a memprof request for
 * this process is pending, the hook walks the tree right there, writes the
 * sample into the requester's shared buffer, publishes its own summary,
 * wakes the requester, and keeps the report out of the log (the header and
 * the per-context lines core prints after it, up to "Grand total").  A
 * report nobody at memprof asked for is left alone.
 *
 * The requester claims a free buffer (waiting on the pool's condition
 * variable if all are busy), signals the target, and sleeps on the buffer's
 * condition variable in steps of at most 10 ms: while the request is
 * unclaimed it re-signals after 1, 2, 4, 8 and 16 ms, then every 20 ms
 * (PostgreSQL drops a request that arrives while the target is inside an
 * earlier report, as it is right after answering one), checks that the
 * target is still alive, and gives up at the timeout.  On any error, cancel included, it
 * releases the buffer (or marks it abandoned if the target is writing it),
 * and a process that exits releases whatever it requested.
 */
#pragma once

#include "sample.hpp"

namespace memprof {

struct RemoteInfo
{
	int32		pid = 0;
	int32		backend_type = -1;
	TimestampTz started_at = 0;
	TimestampTz taken_at = 0;
	bool		truncated = false;
	int32		omitted = 0;
};

/*
 * The whole tree of process pid into out.  The own pid is sampled directly.
 * Throws memprof::Error: 22023 not a PostgreSQL process, 55P03 timed out,
 * 55000 shared memory missing, 57P01-like when the target exits.
 */
void		FetchRemoteSample(int32 pid, int32 timeout_ms, Sample &out, RemoteInfo &info);

/* emit_log_hook body (target side). */
void		OnEmitLog(ErrorData *edata);

/* Releases every buffer this process requested (exit, error). */
void		AbandonOwnRequests();

}								/* namespace memprof */
