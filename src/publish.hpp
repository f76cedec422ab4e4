/*
 * publish.hpp: each process's own summary (a consumer of Samples), its
 * lazy per-process set-up, and its record in the exited-process ring.
 *
 * A process publishes into its own slot: at the end of a transaction, at
 * most once per memprof.publish_interval; whenever another process fetches
 * its tree; and once more when it exits, when it also writes its final
 * figures into the history ring.  Publishing walks the tree (about 0.3 ms
 * for 6,000 contexts) and reads /proc/self/smaps_rollup.
 */
#pragma once

#include "pg/hidden.hpp"
#include "sample.hpp"
#include "shmem.hpp"

namespace memprof {

/* GUC memprof.publish_interval, in ms; -1 disables periodic publishing. */
extern int	publish_interval_ms MEMPROF_HIDDEN;

/*
 * Run first by the exit callback, before the final sample: set by
 * _PG_init to the remote fetch's clean-up (a tree parked by a report is put
 * back, buffers this process requested are released), so that this file
 * does not depend on remote.cpp.
 */
extern void (*exit_cleanup) ();

/* Set up this process's slot and exit callback, once; false without shmem. */
bool		EnsureProcessInit();

/* Computes totals and the top-level breakdown of s into out. */
void		Summarize(const Sample &s, ProcSummary &out);

/* Publishes s (a sample of this process, just taken) into the own slot. */
void		PublishSample(const Sample &s);

/* Read inline at every transaction end; written by publish.cpp only. */
extern bool process_init_done MEMPROF_HIDDEN;
extern TimestampTz last_publish MEMPROF_HIDDEN;

/* Whether the set-up ran. */
inline bool
ProcessInitDone()
{
	return process_init_done;
}

/* Whether a transaction-end publication is due. */
inline bool
PublishDue(TimestampTz now)
{
	return publish_interval_ms >= 0 &&
		(last_publish == 0 ||
		 now - last_publish >= static_cast<TimestampTz>(publish_interval_ms) * 1000);
}

/* Transaction-end publication, rate limited by memprof.publish_interval. */
void		MaybePublish(TimestampTz now);

/* Reads /proc/<pid>/status VmRSS and RssAnon, in bytes; false if gone. */
bool		ReadProcStatus(int pid, int64 &rss, int64 &anon);

}								/* namespace memprof */
