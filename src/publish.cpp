/*
 * publish.cpp: summaries, /proc figures, per-process set-up and exit.
 */
#include "publish.hpp"
#include "pg/lock.hpp"
#include "pg/process.hpp"
#include "budget.hpp"
#include "rows.hpp"
#include "shmem.hpp"
#include "statements.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

namespace memprof {

int			publish_interval_ms = 1000;
void		(*exit_cleanup) () = nullptr;
bool		process_init_done = false;
TimestampTz last_publish = 0;

namespace {

ProcSlot   *own_slot = nullptr;
LiveAlloc	exit_live;			/* where the allocator figures go after exit */
ProcSummary own;				/* last published, kept for the peaks */

/* Reads a small /proc file into buf (NUL-terminated); false on failure. */
bool
ReadSmallFile(const char *path, char *buf, size_t len)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t		n;
	size_t		got = 0;

	if (fd < 0)
		return false;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += static_cast<size_t>(n);
	close(fd);
	buf[got] = '\0';
	return got > 0;
}

/* Value of "Key:   123 kB" in bytes, or -1. */
int64
KbField(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	if (p == nullptr)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	return strtoll(p, nullptr, 10) * 1024;
}

void
ReadSmapsRollup(ProcSummary &s)
{
	char		buf[4096];

	s.rss_bytes = s.pss_bytes = s.private_bytes = -1;
	if (!ReadSmallFile("/proc/self/smaps_rollup", buf, sizeof(buf)))
		return;
	s.rss_bytes = KbField(buf, "\nRss:");
	s.pss_bytes = KbField(buf, "\nPss:");
	int64		pc = KbField(buf, "\nPrivate_Clean:");
	int64		pd = KbField(buf, "\nPrivate_Dirty:");

	s.private_bytes = (pc < 0 || pd < 0) ? -1 : pc + pd;
}

/*
 * Bytes malloc has handed out and not had back, including its chunk
 * headers: every memory-context block is one malloc chunk, so this is at
 * least the contexts' total_bytes when both are read back to back (nothing
 * is palloc'd or freed between Summarize and this call).  The difference is
 * memory malloc'd outside any context.  -1 when the allocator is not glibc's
 * (mallinfo2 then reports less than the contexts hold).
 */
void
ReadMallocInUse(ProcSummary &s)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 mi = mallinfo2();
	int64		inuse = static_cast<int64>(mi.uordblks + mi.hblkhd);

	s.malloc_bytes = inuse >= s.total_bytes ? inuse : -1;
#else
	s.malloc_bytes = -1;
#endif
}

void
OnExit(int code, Datum arg)
{
	(void) code;
	(void) arg;
	InvokeHook(WARNING, []() {
		if (exit_cleanup != nullptr)
			exit_cleanup();
		if (own_slot == nullptr)
			return;

		Sample		s;

		TakeSample(TopMemoryContext, s);
		PublishSample(s);

		HistoryEntry e;

		e.s = own;
		e.exited_at = GetCurrentTimestamp();
		if (shared->history_size > 0)
		{
			pg::LWLockGuard guard(shared->lock, LW_EXCLUSIVE);

			*HistoryAt(static_cast<uint32>(shared->history_next % shared->history_size)) = e;
			shared->history_next++;
		}
		/* the slot is free again; later frees no longer write into it */
		ProcSummary empty;

		memset(&empty, 0, sizeof(empty));
		BudgetProcessExit();
		alloc.live = &exit_live;
		own_slot->live.held = 0;
		own_slot->live.peak = 0;
		WriteOwnSlot(own_slot, empty);
		own_slot = nullptr;
	});
}

}								/* namespace */

bool
EnsureProcessInit()
{
	if (process_init_done)
		return own_slot != nullptr;
	process_init_done = true;
	StatementProcessInit();
	if (shared == nullptr || MyProc == nullptr)
		return false;
	if (compat::ProcIndex(MyProc) < 0 || static_cast<uint32>(compat::ProcIndex(MyProc)) >= shared->nslots)
		return false;
	own_slot = SlotAt(static_cast<uint32>(compat::ProcIndex(MyProc)));
	memset(&own, 0, sizeof(own));
	own.pid = MyProcPid;
	own.backend_type = static_cast<int32>(MyBackendType);
	own.started_at = MyStartTimestamp;
	WriteOwnSlot(own_slot, own);
	own_slot->live.held = alloc.held;
	own_slot->live.peak = alloc.peak;
	alloc.live = &own_slot->live;
	BudgetProcessInit();
	pg::AtProcessExit(OnExit);
	return true;
}

void
Summarize(const Sample &s, ProcSummary &out)
{
	int64	   *group = &out.other_bytes;

	out.contexts = 0;
	out.total_bytes = out.used_bytes = 0;
	out.top_self_bytes = out.cache_bytes = out.message_bytes = 0;
	out.portal_bytes = out.transaction_bytes = out.other_bytes = 0;
	for (const SampleRow &r : s.rows)
	{
		out.contexts++;
		out.total_bytes += r.total_bytes;
		out.used_bytes += r.used_bytes();
		if (r.level == 0)
		{
			out.top_self_bytes += r.total_bytes;
			continue;
		}
		if (r.level == 1)
		{
			std::string_view n = s.Name(r);

			group = n == "CacheMemoryContext" ? &out.cache_bytes
				: n == "MessageContext" ? &out.message_bytes
				: n == "TopPortalContext" ? &out.portal_bytes
				: n == "TopTransactionContext" ? &out.transaction_bytes
				: &out.other_bytes;
		}
		*group += r.total_bytes;
	}
}

void
PublishSample(const Sample &s)
{
	if (!EnsureProcessInit())
		return;
	Summarize(s, own);
	own.pid = MyProcPid;
	own.backend_type = static_cast<int32>(MyBackendType);
	own.started_at = MyStartTimestamp;
	own.dbid = MyProc->databaseId;
	own.userid = MyProc->roleId;
	own.peak_total_bytes = std::max(own.peak_total_bytes, own.total_bytes);
	own.peak_used_bytes = std::max(own.peak_used_bytes, own.used_bytes);
	ReadMallocInUse(own);
	ReadSmapsRollup(own);
	own.published_at = GetCurrentTimestamp();
	own.publications++;
	last_publish = own.published_at;
	WriteOwnSlot(own_slot, own);
}

void
MaybePublish(TimestampTz now)
{
	if (publish_interval_ms < 0 || !EnsureProcessInit())
		return;
	if (last_publish != 0 &&
		now - last_publish < static_cast<TimestampTz>(publish_interval_ms) * 1000)
		return;

	ScratchSample scratch;

	TakeSample(TopMemoryContext, scratch.get());
	PublishSample(scratch.get());
}

bool
ReadProcStatus(int pid, int64 &rss, int64 &anon)
{
	char		path[64];
	char		buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!ReadSmallFile(path, buf, sizeof(buf)))
		return false;
	rss = KbField(buf, "\nVmRSS:");
	anon = KbField(buf, "\nRssAnon:");
	return rss >= 0;
}

}								/* namespace memprof */

/*==== SQL-callable functions ====*/

namespace {

Datum
TextOrNull(const char *s, bool *isnull)
{
	*isnull = (s == nullptr);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

}								/* namespace */

/*
 * memprof_backend_summaries(): one row per live process (every PGPROC with
 * a pid): its published summary, if any, and its RSS read from /proc now.
 * Reads shared memory and /proc only: it signals nobody.
 */
MEMPROF_FUNCTION(memprof_backend_summaries_fn)
{
	memprof::RequireShared("memprof_backends");

	struct Row
	{
		int32		pid;
		bool		published;
		memprof::ProcSummary s;
		int64		rss, anon;
		bool		have_proc;
		bool		have_live;
		int64		live_held, live_peak;
	};
	std::vector<Row> rows;
	std::vector<int32> live = memprof::pg::LiveProcessPids(memprof::shared->nslots);
	uint32		nprocs = static_cast<uint32>(live.size());

	rows.reserve(nprocs);
	for (uint32 i = 0; i < nprocs; i++)
	{
		int32		pid = live[i];
		Row			r;

		if (pid == 0)
			continue;
		r.pid = pid;
		r.published = memprof::ReadSlot(memprof::SlotAt(i), r.s) && r.s.pid == pid &&
			r.s.published_at != 0;
		r.have_proc = memprof::ReadProcStatus(pid, r.rss, r.anon);
		/* the live allocator figures: valid once the owner set its slot up */
		memprof::ProcSlot *slot = memprof::SlotAt(i);

		r.live_held = slot->live.held;
		r.live_peak = slot->live.peak;
		r.have_live = memprof::InterceptStatus() == memprof::InterceptState::Active &&
			r.s.pid == pid && (r.live_held != 0 || r.live_peak != 0);
		rows.push_back(r);
	}

	memprof::pg::EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *n) {
		const Row  &r = rows[i];

		{
			for (int k = 0; k < 20; k++)
				n[k] = !r.published;
			v[0] = Int32GetDatum(r.pid);
			n[0] = false;
			memprof::pg::Int64Columns(v, 1, {r.s.contexts, r.s.total_bytes, r.s.used_bytes,
											 r.s.top_self_bytes, r.s.cache_bytes, r.s.message_bytes,
											 r.s.portal_bytes, r.s.transaction_bytes, r.s.other_bytes,
											 r.s.peak_total_bytes, r.s.peak_used_bytes, r.rss});
			n[12] = !r.have_proc;
			v[13] = Int64GetDatum(r.anon);
			n[13] = !r.have_proc || r.anon < 0;
			v[14] = Int64GetDatum(r.s.pss_bytes);
			n[14] = !r.published || r.s.pss_bytes < 0;
			v[15] = Int64GetDatum(r.s.private_bytes);
			n[15] = !r.published || r.s.private_bytes < 0;
			v[16] = Int64GetDatum(r.s.malloc_bytes - r.s.total_bytes);
			n[16] = !r.published || r.s.malloc_bytes < 0;
			v[17] = TimestampTzGetDatum(r.s.published_at);
			v[18] = Int64GetDatum(r.s.publications);
			v[19] = Int64GetDatum(r.s.rss_bytes);
			n[19] = !r.published || r.s.rss_bytes < 0;
			v[20] = Int64GetDatum(r.live_held);
			n[20] = !r.have_live;
			v[21] = Int64GetDatum(r.live_peak);
			n[21] = !r.have_live;
		}
	});
	return (Datum) 0;
}

/* memprof_backend_history_rows(): the ring of exited processes, newest first. */
MEMPROF_FUNCTION(memprof_backend_history_fn)
{
	memprof::RequireShared("memprof_backend_history");

	std::vector<memprof::HistoryEntry> entries;

	{
		memprof::pg::LWLockGuard guard(memprof::shared->lock, LW_SHARED);
		uint64		next = memprof::shared->history_next;
		uint32		size = memprof::shared->history_size;
		uint64		count = std::min<uint64>(next, size);

		entries.reserve(count);
		for (uint64 k = 0; k < count; k++)
			entries.push_back(*memprof::HistoryAt(static_cast<uint32>((next - 1 - k) % size)));
	}
	memprof::pg::EmitRows(fcinfo, entries.size(), [&](size_t i, Datum *v, bool *n) {
		const memprof::HistoryEntry &e = entries[i];

		{
			v[0] = Int32GetDatum(e.s.pid);
			v[1] = TextOrNull(GetBackendTypeDesc(static_cast<BackendType>(e.s.backend_type)), &n[1]);
			v[2] = ObjectIdGetDatum(e.s.dbid);
			n[2] = !OidIsValid(e.s.dbid);
			v[3] = ObjectIdGetDatum(e.s.userid);
			n[3] = !OidIsValid(e.s.userid);
			v[4] = TimestampTzGetDatum(e.s.started_at);
			v[5] = TimestampTzGetDatum(e.exited_at);
			memprof::pg::Int64Columns(v, 6, {e.s.peak_total_bytes, e.s.peak_used_bytes,
											 e.s.total_bytes, e.s.used_bytes, e.s.contexts,
											 e.s.rss_bytes});
			n[11] = e.s.rss_bytes < 0;
		}
	});
	return (Datum) 0;
}
