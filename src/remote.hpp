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
 * the per-context lines core prints after it, up to "Grand total").
 *
 * Which reports are memprof's: every requester counts the signals it sends
 * in the target's slot before sending them.  A report that starts while the
 * target has signals it has not counted yet is memprof's and stays out of
 * the log even if no request waits any more (the requester timed out or was
 * cancelled).  A signal counted by one report can still be delivered after
 * that report began and start one more (its echo) if it was sent within
 * 50 ms of the count being read; in that case one report starting inside,
 * or within a second after, memprof's report is dropped as well (signals
 * coalesce, so there is at most one echo).  Any other report
 * (pg_log_backend_memory_contexts) is left to core.
 *
 * Core's report walk in PostgreSQL 15 recurses once per tree level, so a
 * very deep tree would overflow the target's stack.  For a report that is
 * memprof's, the hook parks TopMemoryContext's children behind an anchor
 * context until the report's last line, so core's walk sees one context;
 * the target stays up whatever its depth (see remote.cpp).
 *
 * Large trees: a round carries as many rows as fit in one buffer
 * (memprof.fetch_buffer_size); the rest follow in further rounds of the same
 * buffer, each a fresh request (and signal) for the rows from a given
 * position of the same sample, which the target keeps between rounds.  A
 * tree that fits in one buffer takes one round.  A first round that arrives
 * while another fetch of such a sample is unfinished (and used within the
 * last second) is given the same sample, so concurrent fetches of a large
 * tree share one sample instead of replacing each other's; a fetch that
 * starts after the others have finished gets a fresh one.  Past 1,000,000
 * contexts the
 * rest is summed into one row.  Each round has its own request id; the
 * target writes the id it answered and the requester decodes only its own.
 *
 * PostgreSQL drops a log-memory-contexts signal that arrives while the
 * target is inside a report (15.20 and 18 guard the report against
 * recursion: the pending flag is cleared and nothing is logged).  So the
 * target also answers, at its report's "Grand total" line, every request
 * that came in during the report, and the requester re-signals while its
 * request is unclaimed.
 *
 * The requester claims a free buffer (waiting on the pool's condition
 * variable if all are busy), signals the target, and sleeps on the buffer's
 * condition variable in steps of at most 10 ms: while the request is
 * unclaimed it re-signals after 1, 2, 4, 8 and 16 ms, then every 20 ms
 * (PostgreSQL drops a request that arrives while the target is inside an
 * earlier report, as it is right after answering one), checks that the
 * target is still alive, and gives up at the timeout.  On any error, cancel
 * included, it releases the buffer (or marks it abandoned if the target is
 * writing it), and a process that exits releases whatever it requested
 * (exit callback registered at its first fetch).
 */
#pragma once

#include "pg/hidden.hpp"
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

/*
 * emit_log_hook body (target side); true when the message is part of a
 * report memprof keeps out of the log (output_to_server is then false).
 */
bool		OnEmitLog(ErrorData *edata);

/* Read inline at every transaction end; written by remote.cpp only. */
extern bool context_tree_parked MEMPROF_HIDDEN;
extern Sample *kept_sample MEMPROF_HIDDEN;

void		RestoreContextTreeSlow() noexcept;
void		ForgetKeptSampleSlow(TimestampTz now) noexcept;

/* Puts back TopMemoryContext's children if a report left them parked. */
inline void
RestoreContextTree() noexcept
{
	if (context_tree_parked)
		RestoreContextTreeSlow();
}

/* Drops the sample kept for further rounds if unused for 10 s. */
inline void
ForgetKeptSample(TimestampTz now) noexcept
{
	if (kept_sample != nullptr)
		ForgetKeptSampleSlow(now);
}

/* At exit: puts the tree back if parked, releases the buffers requested. */
void		RemoteExitCleanup();

/* Releases every buffer this process requested (exit, error). */
void		AbandonOwnRequests();

}								/* namespace memprof */
