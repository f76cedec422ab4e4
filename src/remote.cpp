/*
 * remote.cpp: the requester and the target of a remote fetch (see
 * remote.hpp for the protocol).
 */
#include "remote.hpp"
#include "boundary.hpp"
#include "publish.hpp"
#include "shmem.hpp"

namespace memprof {

namespace {

constexpr const char *kHeaderFmt = "logging memory contexts of PID %d";
constexpr const char *kLineFmt = "level: %d; %s: %s%s";
constexpr const char *kMoreFmt = "level: %d; %d more child contexts containing %zu total in %zu blocks; %zu free (%zu chunks); %zu used";
constexpr const char *kTopMoreFmt = "%d more child contexts containing %zu total in %zu blocks; %zu free (%zu chunks); %zu used";
constexpr const char *kGrandFmt = "Grand total: %zu bytes in %zu blocks; %zu free (%zu chunks); %zu used";

constexpr long kSleepMs = 10;
constexpr long kResignalMs = 20;

/* One context in a fetch buffer; name and ident follow, then padding. */
struct WireRow
{
	int32		id;
	int32		parent_id;
	int32		level;
	uint8		type;
	uint8		has_ident;
	uint16		pad;
	uint32		name_len;
	uint32		ident_len;
	int64		total_bytes;
	int64		free_bytes;
	int64		nblocks;
	int64		free_chunks;
};

/* How deep we are inside reports we keep out of the log. */
int			suppress_depth = 0;

/* Writes s into b (the target holds it in state Writing). */
void
Encode(const Sample &s, FetchBuffer *b)
{
	char	   *data = BufferData(b);
	Size		cap = shared->buffer_size;
	Size		off = 0;

	b->rows = 0;
	b->omitted = 0;
	b->omitted_total = b->omitted_free = b->omitted_nblocks = b->omitted_chunks = 0;
	for (const SampleRow &r : s.rows)
	{
		std::string_view name = s.Name(r);
		std::string_view ident = s.Ident(r);
		Size		need = MAXALIGN(sizeof(WireRow) + name.size() + ident.size());

		/* pre-order: once one row does not fit, no later row is written */
		if (b->omitted > 0 || off + need > cap)
		{
			b->omitted++;
			b->omitted_total += r.total_bytes;
			b->omitted_free += r.free_bytes;
			b->omitted_nblocks += r.nblocks;
			b->omitted_chunks += r.free_chunks;
			continue;
		}

		WireRow		w;

		memset(&w, 0, sizeof(w));
		w.id = r.id;
		w.parent_id = r.parent_id;
		w.level = r.level;
		w.type = static_cast<uint8>(r.type);
		w.has_ident = s.HasIdent(r) ? 1 : 0;
		w.name_len = static_cast<uint32>(name.size());
		w.ident_len = static_cast<uint32>(ident.size());
		w.total_bytes = r.total_bytes;
		w.free_bytes = r.free_bytes;
		w.nblocks = r.nblocks;
		w.free_chunks = r.free_chunks;
		memcpy(data + off, &w, sizeof(w));
		memcpy(data + off + sizeof(w), name.data(), name.size());
		memcpy(data + off + sizeof(w) + name.size(), ident.data(), ident.size());
		off += need;
		b->rows++;
	}
	b->used = off;
}

/* Reads b (the requester holds it in state Done) into out. */
void
Decode(FetchBuffer *b, Sample &out, RemoteInfo &info)
{
	const char *data = BufferData(b);
	Size		off = 0;

	out.rows.clear();
	out.text.clear();
	out.rows.reserve(static_cast<size_t>(b->rows) + 1);
	for (int32 i = 0; i < b->rows; i++)
	{
		WireRow		w;
		SampleRow	r;

		if (off + sizeof(WireRow) > b->used)
			throw Error(ERRCODE_DATA_CORRUPTED, "memprof: fetch buffer is damaged at row %d", i);
		memcpy(&w, data + off, sizeof(w));
		if (w.id != i + 1 || w.parent_id < 0 || w.parent_id > i || w.type >= kContextTypes ||
			off + sizeof(WireRow) + w.name_len + w.ident_len > b->used)
			throw Error(ERRCODE_DATA_CORRUPTED, "memprof: fetch buffer is damaged at row %d", i);
		r.id = w.id;
		r.parent_id = w.parent_id;
		r.level = w.level;
		r.type = static_cast<ContextType>(w.type);
		r.total_bytes = w.total_bytes;
		r.free_bytes = w.free_bytes;
		r.nblocks = w.nblocks;
		r.free_chunks = w.free_chunks;
		out.Add(r, std::string_view(data + off + sizeof(w), w.name_len),
				w.has_ident ? data + off + sizeof(w) + w.name_len : nullptr, w.ident_len);
		off += MAXALIGN(sizeof(WireRow) + w.name_len + w.ident_len);
	}
	info.backend_type = b->backend_type;
	info.started_at = b->started_at;
	info.taken_at = b->taken_at;
	info.truncated = b->omitted > 0;
	info.omitted = b->omitted;
	if (b->omitted > 0 && !out.rows.empty())
	{
		/* one summary row under the root stands for what did not fit */
		SampleRow	r;
		char		name[96];

		snprintf(name, sizeof(name), "memprof: %d contexts omitted (memprof.fetch_buffer_size)",
				 b->omitted);
		r.id = static_cast<int32>(out.rows.size()) + 1;
		r.parent_id = 1;
		r.level = 1;
		r.type = ContextType::Unknown;
		r.total_bytes = b->omitted_total;
		r.free_bytes = b->omitted_free;
		r.nblocks = b->omitted_nblocks;
		r.free_chunks = b->omitted_chunks;
		out.Add(r, name, nullptr, 0);
	}
}

/* Moves b to Free (or Abandoned while the target writes); no errors. */
void
Release(FetchBuffer *b)
{
	bool		freed = false;

	SpinLockAcquire(&b->mutex);
	if (b->requester_pid == MyProcPid)
	{
		if (b->state == BufferState::Writing)
			b->state = BufferState::Abandoned;
		else if (b->state != BufferState::Free)
		{
			b->state = BufferState::Free;
			freed = true;
		}
		if (freed)
			b->requester_pid = 0;
	}
	SpinLockRelease(&b->mutex);
	if (freed)
		ConditionVariableBroadcast(&shared->pool_cv);
}

/* Whether pid is still a backend or auxiliary process (ProcArrayLock). */
bool
TargetAlive(int32 pid)
{
	bool		alive = false;

	PgCall([&]() {
		alive = BackendPidGetProc(pid) != nullptr || AuxiliaryPidGetProc(pid) != nullptr;
	});
	return alive;
}

/* Claims a free buffer for pid, waiting until deadline; throws on timeout. */
FetchBuffer *
ClaimBuffer(int32 pid, TimestampTz deadline, int32 timeout_ms)
{
	for (;;)
	{
		for (uint32 i = 0; i < shared->nbuffers; i++)
		{
			FetchBuffer *b = BufferAt(i);
			bool		got = false;

			SpinLockAcquire(&b->mutex);
			if (b->state == BufferState::Free)
			{
				b->state = BufferState::Requested;
				b->target_pid = pid;
				b->requester_pid = MyProcPid;
				b->request_id = pg_atomic_fetch_add_u64(&shared->next_request_id, 1);
				b->failed = false;
				b->error[0] = '\0';
				got = true;
			}
			SpinLockRelease(&b->mutex);
			if (got)
				return b;
		}
		if (GetCurrentTimestamp() >= deadline)
			throw Error(ERRCODE_LOCK_NOT_AVAILABLE,
						"timed out after %d ms waiting for a free memprof fetch buffer", timeout_ms)
				.Hint("All %u buffers are in use; raise memprof.fetch_buffers or the timeout.",
					  shared->nbuffers);
		PgCall([]() {
			ConditionVariableTimedSleep(&shared->pool_cv, kSleepMs, PG_WAIT_EXTENSION);
		});
	}
}

}								/* namespace */

void
AbandonOwnRequests()
{
	if (shared == nullptr)
		return;
	for (uint32 i = 0; i < shared->nbuffers; i++)
		Release(BufferAt(i));
}

void
FetchRemoteSample(int32 pid, int32 timeout_ms, Sample &out, RemoteInfo &info)
{
	info = RemoteInfo();
	info.pid = pid;
	if (pid == MyProcPid)
	{
		/* our own tree: no signal needed */
		TakeSample(TopMemoryContext, out);
		info.backend_type = static_cast<int32>(MyBackendType);
		info.started_at = MyStartTimestamp;
		info.taken_at = GetCurrentTimestamp();
		return;
	}
	RequireShared("memprof_backend_contexts for another process");
	if (!TargetAlive(pid))
		throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
					"PID %d is not a PostgreSQL server process", pid);

	TimestampTz start = GetCurrentTimestamp();
	TimestampTz deadline = start + static_cast<TimestampTz>(timeout_ms) * 1000;
	FetchBuffer *b = ClaimBuffer(pid, deadline, timeout_ms);

	try
	{
		TimestampTz last_signal = 0;
		/*
		 * A request that reaches the target while it is still inside an
		 * earlier report (one asked for just before) is dropped by core:
		 * the first re-signals come soon, then every kResignalMs.
		 */
		long		resignal_ms = 1;

		for (;;)
		{
			BufferState st;
			TimestampTz now = GetCurrentTimestamp();

			SpinLockAcquire(&b->mutex);
			st = b->state;
			SpinLockRelease(&b->mutex);
			if (st == BufferState::Done)
				break;
			if (st == BufferState::Requested)
			{
				if (!TargetAlive(pid))
					throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
								"process %d exited before it reported its memory contexts", pid);
				if (now - last_signal >= resignal_ms * 1000)
				{
					int			rc = 0;

					PgCall([&]() {
						rc = SendProcSignal(pid, PROCSIG_LOG_MEMORY_CONTEXT, compat::kNoProcNumber);
					});
					if (rc < 0 && !TargetAlive(pid))
						throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
									"process %d exited before it reported its memory contexts", pid);
					if (last_signal != 0)
						resignal_ms = std::min(resignal_ms * 2, kResignalMs);
					last_signal = now;
				}
			}
			if (now >= deadline)
				throw Error(ERRCODE_LOCK_NOT_AVAILABLE,
							"timed out after %d ms waiting for process %d to report its memory contexts",
							timeout_ms, pid)
					.Hint("The process reports at its next interrupt check; a process that runs "
						  "long without one, or has log_min_messages above LOG, cannot answer.");
			PgCall([&]() {
				ConditionVariableTimedSleep(&b->cv, std::min(kSleepMs, resignal_ms), PG_WAIT_EXTENSION);
			});
		}
		PgCall([]() { ConditionVariableCancelSleep(); });
		if (b->failed)
			throw Error(ERRCODE_INTERNAL_ERROR, "process %d could not report its memory contexts: %s",
						pid, b->error);
		Decode(b, out, info);
	}
	catch (...)
	{
		ConditionVariableCancelSleep();
		Release(b);
		throw;
	}
	Release(b);
}

void
OnEmitLog(ErrorData *edata)
{
	const char *id = edata->message_id;

	if (id == nullptr || shared == nullptr)
		return;
	if (suppress_depth > 0)
	{
		if (strcmp(id, kLineFmt) == 0 || strcmp(id, kMoreFmt) == 0 || strcmp(id, kTopMoreFmt) == 0)
		{
			edata->output_to_server = false;
			return;
		}
		if (strcmp(id, kGrandFmt) == 0)
		{
			edata->output_to_server = false;
			suppress_depth--;
			return;
		}
		if (strcmp(id, kHeaderFmt) != 0)
			suppress_depth = 0;	/* a report that ended early */
	}
	if (strcmp(id, kHeaderFmt) != 0)
		return;

	/* a report is starting: claim every request waiting for us */
	FetchBuffer *claimed[64];
	int			n = 0;

	for (uint32 i = 0; i < shared->nbuffers && n < 64; i++)
	{
		FetchBuffer *b = BufferAt(i);

		SpinLockAcquire(&b->mutex);
		if (b->state == BufferState::Requested && b->target_pid == MyProcPid)
		{
			b->state = BufferState::Writing;
			claimed[n++] = b;
		}
		SpinLockRelease(&b->mutex);
	}
	if (n == 0)
		return;					/* not ours: core logs as always */

	ScratchSample scratch;
	const char *failure = nullptr;

	try
	{
		TakeSample(TopMemoryContext, scratch.get());
		PublishSample(scratch.get());
	}
	catch (const std::bad_alloc &)
	{
		failure = "out of memory";
	}
	catch (...)
	{
		failure = "unexpected error";
	}

	TimestampTz now = GetCurrentTimestamp();
	bool		freed_any = false;

	for (int i = 0; i < n; i++)
	{
		FetchBuffer *b = claimed[i];

		b->backend_type = static_cast<int32>(MyBackendType);
		b->started_at = MyStartTimestamp;
		b->taken_at = now;
		if (failure == nullptr)
			Encode(scratch.get(), b);
		else
		{
			b->failed = true;
			strlcpy(b->error, failure, sizeof(b->error));
			b->rows = 0;
			b->used = 0;
		}
		SpinLockAcquire(&b->mutex);
		if (b->state == BufferState::Abandoned)
		{
			b->state = BufferState::Free;
			b->requester_pid = 0;
			freed_any = true;
		}
		else
			b->state = BufferState::Done;
		SpinLockRelease(&b->mutex);
		ConditionVariableBroadcast(&b->cv);
	}
	if (freed_any)
		ConditionVariableBroadcast(&shared->pool_cv);

	edata->output_to_server = false;
	suppress_depth++;
}

}								/* namespace memprof */
