/*
 * entry.cpp: the thin entry layer.  SQL-callable functions and module
 * initialisation; each function only adapts arguments and results and calls
 * the consumer that does the work.
 */
#include "alloc/counters.hpp"
#include "boundary.hpp"
#include "budget.hpp"
#include "leakcheck.hpp"
#include "publish.hpp"
#include "remote.hpp"
#include "rows.hpp"
#include "shmem.hpp"
#include "sample.hpp"
#include "snapshot.hpp"
#include "stmttrack.hpp"

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

/*
 * memprof_snapshot_prune(keep_last integer, older_than interval): deletes
 * all but the newest keep_last snapshots and/or those older than
 * older_than; at least one must be given, neither may be negative.
 */
MEMPROF_FUNCTION(memprof_snapshot_prune_fn)
{
	bool		has_keep = !PG_ARGISNULL(0);
	bool		has_older = !PG_ARGISNULL(1);
	int32		keep = has_keep ? PG_GETARG_INT32(0) : 0;
	const Interval *older = has_older ? PG_GETARG_INTERVAL_P(1) : nullptr;

	if (!has_keep && !has_older)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "memprof_snapshot_prune needs keep_last or older_than");
	if (has_keep && keep < 0)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "keep_last must not be negative, not %d", keep);
	if (has_older)
	{
		Interval	zero;
		int			cmp = 0;

		memset(&zero, 0, sizeof(zero));
		memprof::PgCall([&]() {
			cmp = DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(older),
													IntervalPGetDatum(&zero)));
		});
		if (cmp < 0)
		{
			const char *shown = nullptr;

			memprof::PgCall([&]() {
				shown = DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(older)));
			});
			throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
								 "older_than must not be negative, not %s", shown)
				.Hint("A negative interval would select snapshots taken in the future, that is all of them.");
		}
	}
	PG_RETURN_INT64(memprof::PruneSnapshots(has_keep ? &keep : nullptr, older));
}

/*
 * memprof_leak_xact_snapshot(label text, run_id bigint): a snapshot of this
 * backend in a leak-check run: run_id NULL starts a run (the new snapshot's
 * id becomes the run id), otherwise the run must be one of the caller's in
 * this backend.  Used by memprof_leak_check_xact.
 */
MEMPROF_FUNCTION(memprof_leak_xact_snapshot_fn)
{
	memprof::ScratchSample scratch;

	memprof::TakeSample(TopMemoryContext, scratch.get());
	memprof::SnapshotMeta m = OwnMeta(ArgCString(fcinfo, 0));

	if (PG_ARGISNULL(1))
		m.run_id = memprof::kNewRun;
	else
	{
		m.run_id = PG_GETARG_INT64(1);
		if (m.run_id <= 0)
			throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE, "run_id must be positive, not %lld",
								 static_cast<long long>(m.run_id));
	}
	PG_RETURN_INT64(memprof::StoreSnapshot(scratch.get(), m));
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

	/* 1.0 and 1.1 declare two arguments: every path, as they did */
	bool		include_unchanged = true;

	if (PG_NARGS() > 2)
	{
		if (PG_ARGISNULL(2))
			throw memprof::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "include_unchanged must not be null");
		include_unchanged = PG_GETARG_BOOL(2);
	}
	memprof::LoadSnapshot(ArgInt64(fcinfo, 0, "from_id"), from);
	memprof::LoadSnapshot(ArgInt64(fcinfo, 1, "to_id"), to);
	memprof::EmitDiffRows(fcinfo, from, to, include_unchanged);
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

/*---- other processes ----*/

namespace {

int32
CheckedTimeout(FunctionCallInfo fcinfo, int n)
{
	int32		t = ArgInt32(fcinfo, n, "timeout_ms");

	if (t < 1 || t > 3600000)
		throw memprof::Error(ERRCODE_INVALID_PARAMETER_VALUE,
							 "timeout_ms must be between 1 and 3600000, not %d", t);
	return t;
}

void
WarnIfTruncated(const memprof::RemoteInfo &info)
{
	if (!info.truncated)
		return;
	memprof::PgCall([&]() {
		ereport(WARNING,
				(errmsg("memory context tree of PID %d was cut: %d contexts did not fit",
						info.pid, info.omitted),
				 errdetail("They are summed into one row named \"memprof: %d contexts omitted\".",
						   info.omitted),
				 errhint("memprof fetches at most 1000000 contexts of one process.")));
	});
}

Datum
TextOrNull(const char *s, bool *isnull)
{
	*isnull = (s == nullptr);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

}								/* namespace */

/*
 * memprof_backend_contexts(pid, timeout_ms DEFAULT 5000): the whole tree of
 * any backend or auxiliary process, same columns as memprof_contexts.
 */
MEMPROF_FUNCTION(memprof_backend_contexts_fn)
{
	int32		pid = ArgInt32(fcinfo, 0, "pid");
	int32		timeout = CheckedTimeout(fcinfo, 1);
	memprof::Sample sample;
	memprof::RemoteInfo info;

	memprof::FetchRemoteSample(pid, timeout, sample, info);
	WarnIfTruncated(info);
	memprof::EmitContextRows(fcinfo, sample);
	return (Datum) 0;
}

/* memprof_snapshot(label, pid): another process's tree as a snapshot. */
MEMPROF_FUNCTION(memprof_snapshot_pid_fn)
{
	const char *label = ArgCString(fcinfo, 0);
	int32		pid = ArgInt32(fcinfo, 1, "pid");
	memprof::Sample sample;
	memprof::RemoteInfo info;

	memprof::FetchRemoteSample(pid, 5000, sample, info);
	WarnIfTruncated(info);

	memprof::SnapshotMeta m;

	m.label = label;
	m.pid = pid;
	m.backend_type = info.backend_type >= 0
		? GetBackendTypeDesc(static_cast<BackendType>(info.backend_type)) : "unknown";
	m.backend_start = info.started_at;
	m.taken_at = info.taken_at;
	m.truncated = info.truncated;
	m.omitted_contexts = info.omitted;
	PG_RETURN_INT64(memprof::StoreSnapshot(sample, m));
}

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
	uint32		nprocs = std::min(ProcGlobal->allProcCount, memprof::shared->nslots);

	/*
	 * Which PGPROCs are live processes: a backend's PGPROC keeps its old pid
	 * after the backend exits, so a PGPROC counts only while the proc array
	 * (or the auxiliary-process table) still maps its pid to it.
	 */
	std::vector<int32> live(nprocs, 0);

	memprof::PgCall([&]() {
		LWLockAcquire(ProcArrayLock, LW_SHARED);
		for (uint32 i = 0; i < nprocs; i++)
		{
			PGPROC	   *proc = &ProcGlobal->allProcs[i];
			int32		pid = proc->pid;

			if (pid != 0 &&
				(BackendPidGetProcWithLock(pid) == proc || AuxiliaryPidGetProc(pid) == proc))
				live[i] = pid;
		}
		LWLockRelease(ProcArrayLock);
	});

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

	memprof::EmitRows(fcinfo, rows.size(), [&](size_t i, Datum *v, bool *n) {
		const Row  &r = rows[i];

		{
			for (int k = 0; k < 20; k++)
				n[k] = !r.published;
			v[0] = Int32GetDatum(r.pid);
			n[0] = false;
			v[1] = Int64GetDatum(r.s.contexts);
			v[2] = Int64GetDatum(r.s.total_bytes);
			v[3] = Int64GetDatum(r.s.used_bytes);
			v[4] = Int64GetDatum(r.s.top_self_bytes);
			v[5] = Int64GetDatum(r.s.cache_bytes);
			v[6] = Int64GetDatum(r.s.message_bytes);
			v[7] = Int64GetDatum(r.s.portal_bytes);
			v[8] = Int64GetDatum(r.s.transaction_bytes);
			v[9] = Int64GetDatum(r.s.other_bytes);
			v[10] = Int64GetDatum(r.s.peak_total_bytes);
			v[11] = Int64GetDatum(r.s.peak_used_bytes);
			v[12] = Int64GetDatum(r.rss);
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

	memprof::PgCall([&]() {
		LWLockAcquire(memprof::shared->lock, LW_SHARED);
		uint64		next = memprof::shared->history_next;
		uint32		size = memprof::shared->history_size;
		uint64		count = std::min<uint64>(next, size);

		for (uint64 k = 0; k < count; k++)
			entries.push_back(*memprof::HistoryAt(static_cast<uint32>((next - 1 - k) % size)));
		LWLockRelease(memprof::shared->lock);
	});
	memprof::EmitRows(fcinfo, entries.size(), [&](size_t i, Datum *v, bool *n) {
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
			v[6] = Int64GetDatum(e.s.peak_total_bytes);
			v[7] = Int64GetDatum(e.s.peak_used_bytes);
			v[8] = Int64GetDatum(e.s.total_bytes);
			v[9] = Int64GetDatum(e.s.used_bytes);
			v[10] = Int64GetDatum(e.s.contexts);
			v[11] = Int64GetDatum(e.s.rss_bytes);
			n[11] = e.s.rss_bytes < 0;
		}
	});
	return (Datum) 0;
}

/* memprof_fetch_buffers(): state of the remote-fetch buffers (diagnostics). */
MEMPROF_FUNCTION(memprof_fetch_buffers_fn)
{
	memprof::RequireShared("memprof_fetch_buffers");
	static const char *const names[] = {"free", "requested", "writing", "done", "abandoned"};

	memprof::EmitRows(fcinfo, memprof::shared->nbuffers, [&](size_t i, Datum *v, bool *n) {
		{
			memprof::FetchBuffer *b = memprof::BufferAt(static_cast<uint32>(i));
			memprof::BufferState st;
			int32		target, requester;

			SpinLockAcquire(&b->mutex);
			st = b->state;
			target = b->target_pid;
			requester = b->requester_pid;
			SpinLockRelease(&b->mutex);
			v[0] = Int32GetDatum(static_cast<int32>(i) + 1);
			v[1] = CStringGetTextDatum(names[static_cast<int>(st)]);
			v[2] = Int32GetDatum(target);
			n[2] = (st == memprof::BufferState::Free);
			v[3] = Int32GetDatum(requester);
			n[3] = (st == memprof::BufferState::Free);
			v[4] = Int64GetDatum(static_cast<int64>(memprof::shared->buffer_size));
		}
	});
	return (Datum) 0;
}

/*
 * memprof_allocator(): whether the allocator interception is active, why
 * not, which functions it counts, and this process's figures.
 */
MEMPROF_FUNCTION(memprof_allocator_fn)
{
	static const char *const states[] = {"not loaded", "off", "active", "failed"};
	memprof::InterceptState st = memprof::InterceptStatus();
	Datum		result = 0;

	memprof::PgCall([&]() {
		TupleDesc	desc;
		Datum		v[5];
		bool		n[5] = {false, false, false, false, false};
		const char *reason = memprof::InterceptReason();

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		desc = BlessTupleDesc(desc);
		v[0] = CStringGetTextDatum(states[static_cast<int>(st)]);
		v[1] = CStringGetTextDatum(st == memprof::InterceptState::NotLoaded
								   ? "memprof is not in shared_preload_libraries" : reason);
		n[1] = (st == memprof::InterceptState::Active);
		v[2] = CStringGetTextDatum(memprof::InterceptedSymbols());
		n[2] = (st != memprof::InterceptState::Active);
		v[3] = Int64GetDatum(memprof::alloc.held);
		n[3] = (st != memprof::InterceptState::Active);
		v[4] = Int64GetDatum(memprof::alloc.peak);
		n[4] = (st != memprof::InterceptState::Active);
		result = HeapTupleGetDatum(heap_form_tuple(desc, v, n));
	});
	return result;
}

/*---- hooks: thin C adapters over the C++ bodies ----*/

namespace {

emit_log_hook_type prev_emit_log_hook = nullptr;

/*
 * memprof looks first: a report line it keeps out of the log is not shown
 * to the hooks installed before it either (they see only what the server
 * log gets).  Hooks installed after memprof decide themselves whether they
 * call it first.
 */
void
MemprofEmitLogHook(ErrorData *edata)
{
	/* a guard's refusal reads as the guard's error to every later hook */
	memprof::RewriteGuardErrorForLog(edata);
	/* errors here would recurse into the log: swallowed (elevel 0) */
	memprof::InvokeHook(0, [edata]() { memprof::OnEmitLog(edata); });
	if (prev_emit_log_hook && edata->output_to_server)
		prev_emit_log_hook(edata);
}

void
MemprofXactCallback(XactEvent event, void *arg)
{
	(void) arg;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	if (!memprof::ProcessInitDone())
		memprof::InvokeHook(WARNING, []() { memprof::EnsureProcessInit(); });
	/* a context report cut short by an error may have left them parked */
	memprof::RestoreContextTree();
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		memprof::StatementAbort(false);

	/* the statement's start: no clock read at every commit, and none unless used */
	if (memprof::publish_interval_ms >= 0 || memprof::kept_sample != nullptr)
	{
		TimestampTz now = GetCurrentStatementStartTimestamp();

		if (memprof::PublishDue(now))
			memprof::InvokeHook(WARNING, [now]() { memprof::MaybePublish(now); });
		memprof::ForgetKeptSample(now);
	}
	if (memprof::budget_log_pending)
		memprof::InvokeHook(WARNING, []() { memprof::BudgetWriteLog(); });
}

/* memprof.max_total_memory: the budget's limit, and whether statements need the hooks */
void
AssignMaxTotalMemory(int newval, void *extra)
{
	memprof::AssignBudget(newval, extra);
	memprof::StatementSettingsChanged();
}

void
MemprofSubXactCallback(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		memprof::StatementAbort(true);
}

}								/* namespace */

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
	DefineCustomIntVariable("memprof.publish_interval",
							"Least time between two publications of a process's memory summary (-1: only when asked).",
							NULL, &memprof::publish_interval_ms, 1000, -1, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomBoolVariable("memprof.track_statements",
							 "Records each top-level statement's peak and held memory in memprof_statements.",
							 NULL, &memprof::track_statements, true,
							 PGC_SUSET, 0, NULL, memprof::AssignTrackStatements, NULL);
	DefineCustomIntVariable("memprof.log_min_statement_memory",
							"Logs each statement whose memory peak reaches this size, with its largest contexts (-1: off).",
							NULL, &memprof::log_min_statement_memory_kb, -1, -1, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, memprof::AssignLogMinStatementMemory, NULL);
	DefineCustomIntVariable("memprof.max_statement_memory",
							"Memory a statement may take above its lowest point, in allocator bytes (0: no limit).",
							NULL, &memprof::max_statement_memory_kb, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, memprof::AssignStatementLimit, NULL);
	DefineCustomIntVariable("memprof.max_backend_memory",
							"Allocator bytes a client backend may hold (0: no limit).",
							NULL, &memprof::max_backend_memory_kb, 0, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_KB, NULL, memprof::AssignBackendLimit, NULL);
	{
		static const struct config_enum_entry actions[] = {
			{"warn", memprof::GUARD_WARN, false},
			{"error", memprof::GUARD_ERROR, false},
			{nullptr, 0, false},
		};

		DefineCustomEnumVariable("memprof.guard_action",
								 "What a memory guard does when a limit is passed: warn or error.",
								 NULL, &memprof::guard_action, memprof::GUARD_ERROR, actions,
								 PGC_SUSET, 0, NULL, memprof::AssignGuardAction, NULL);
	}

	DefineCustomIntVariable("memprof.max_total_memory",
							"Allocator bytes all counted processes together may hold; a client backend's allocation past it fails (0: no budget).",
							NULL, &memprof::max_total_memory_kb, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, AssignMaxTotalMemory, NULL);
	DefineCustomIntVariable("memprof.total_memory_warning",
							"Logs once each time the server's allocator total passes this size (0: off).",
							NULL, &memprof::total_memory_warning_kb, 0, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB, NULL, NULL, NULL);
	{
		static const struct config_enum_entry budget_actions[] = {
			{"error", memprof::BUDGET_ERROR, false},
			{"cancel_largest", memprof::BUDGET_CANCEL_LARGEST, false},
			{nullptr, 0, false},
		};

		DefineCustomEnumVariable("memprof.budget_action",
								 "What passing memprof.max_total_memory does: error (the allocating statement fails) or cancel_largest.",
								 NULL, &memprof::budget_action, memprof::BUDGET_ERROR, budget_actions,
								 PGC_SIGHUP, 0, NULL, NULL, NULL);
	}

	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("memprof.max_statements",
								"Number of distinct statements memprof_statements keeps; the least used are evicted.",
								NULL, &memprof::max_tracked_statements, 5000, 100, 1000000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomBoolVariable("memprof.intercept_allocator",
								 "Counts every block the server takes from malloc (statement peaks, live figures, guards).",
								 NULL, &memprof::intercept_allocator, true,
								 PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("memprof.fetch_buffers",
								"Number of shared buffers for fetching other processes' context trees.",
								NULL, &memprof::fetch_buffers, 4, 1, 64,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
		DefineCustomIntVariable("memprof.fetch_buffer_size",
								"Size of each fetch buffer; a larger tree is sent in several rounds.",
								NULL, &memprof::fetch_buffer_kb, 1024, 64, 1024 * 1024,
								PGC_POSTMASTER, GUC_UNIT_KB, NULL, NULL, NULL);
		DefineCustomIntVariable("memprof.history_size",
								"Number of exited processes remembered in memprof_backend_history.",
								NULL, &memprof::history_size, 256, 0, 100000,
								PGC_POSTMASTER, 0, NULL, NULL, NULL);
	}
	MarkGUCPrefixReserved("memprof");

	/*
	 * Statement tracking and guards work wherever the library is loaded
	 * (preloaded, session_preload_libraries, or first use in a session);
	 * their figures go to memprof_statements only with shared memory.
	 */
	memprof::InstallStatementHooks();
	RegisterXactCallback(MemprofXactCallback, nullptr);
	RegisterSubXactCallback(MemprofSubXactCallback, nullptr);

	if (!process_shared_preload_libraries_in_progress)
		return;					/* loaded on first use: no shared memory */

	/*
	 * Count the allocator from here on, in the postmaster, so that every
	 * child inherits it.  Query ids are not switched on for memprof: without
	 * them statements are keyed by a text fingerprint (fingerprint.hpp).
	 */
	memprof::InstallInterception(memprof::intercept_allocator);
	if (memprof::InterceptStatus() == memprof::InterceptState::Active)
		ereport(LOG, (errmsg("memprof: counting the allocator (%s)", memprof::InterceptedSymbols())));
	else
		ereport(memprof::InterceptStatus() == memprof::InterceptState::Off ? LOG : WARNING,
				(errmsg("memprof: allocator not intercepted: %s", memprof::InterceptReason()),
					  errdetail("Statement peaks, live backend figures and memory guards are off; "
								"everything else works.")));
	memprof::InstallShmemHooks();
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = MemprofEmitLogHook;

}
