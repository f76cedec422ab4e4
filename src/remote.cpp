/*
 * remote.cpp: the requester and the target of a remote fetch (see
 * remote.hpp for the protocol).
 */
#include "remote.hpp"
#include "pg/args.hpp"
#include "pg/process.hpp"
#include "publish.hpp"
#include "rows.hpp"
#include "shmem.hpp"
#include "snapshot.hpp"

namespace memprof {

bool		context_tree_parked = false;
Sample	   *kept_sample = nullptr;	/* kept for further rounds of one report */

namespace {

constexpr const char *kHeaderFmt = "logging memory contexts of PID %d";
constexpr const char *kLineFmt = "level: %d; %s: %s%s";
constexpr const char *kMoreFmt = "level: %d; %d more child contexts containing %zu total in %zu blocks; %zu free (%zu chunks); %zu used";
constexpr const char *kTopMoreFmt = "%d more child contexts containing %zu total in %zu blocks; %zu free (%zu chunks); %zu used";
constexpr const char *kGrandFmt = "Grand total: %zu bytes in %zu blocks; %zu free (%zu chunks); %zu used";

constexpr long kSleepMs = 10;
constexpr long kResignalMs = 20;
/* a memprof signal sent this recently may still be on its way */
constexpr long kInFlightMs = 50;
/* how long after memprof's report such a signal's echo is dropped */
constexpr long kEchoMs = 1000;
/* contexts past this many are summed into one row */
constexpr int32 kMaxRemoteContexts = 1000000;
/* rounds that may find the target's sample replaced before giving up */
constexpr int kMaxRestarts = 5;
/* a kept sample nobody asked for in this long is dropped */
constexpr long kKeepSampleMs = 10000;
/*
 * A first round that comes while another fetch of a sample of several
 * rounds is unfinished (and used this recently) gets that sample too, so
 * that concurrent fetches of a large tree do not replace each other's
 * sample.
 */
constexpr long kShareSampleMs = 1000;

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

/*---- target-side state (this process as the one asked) ----*/

/* How deep this process is inside reports kept out of the log. */
int			suppress_depth = 0;
/* fetch signals of ours already counted */
uint64		signals_seen = 0;
/* when the last report memprof kept out of the log ended */
TimestampTz last_report_end = 0;
/* echoes still allowed after that report (signals coalesce: at most one) */
int			echoes_left = 0;

/*
 * The sample being sent in several rounds: its number (0: none) and when a
 * round last used it.
 */
uint64		kept_no = 0;
uint64		next_sample_no = 1;
TimestampTz kept_taken_at = 0;
TimestampTz kept_used_at = 0;
bool		kept_multi = false;	/* it takes more than one round */
int			kept_readers = 0;	/* fetches of it not finished yet */

/*
 * Keeping core's report walk shallow.  PostgreSQL 15's report walk
 * (MemoryContextStatsInternal) recurses once per tree level with no depth
 * limit, so a deep enough tree overflows the stack.  Once memprof has its
 * sample, the report's lines are discarded anyway, so for the rest of the
 * report TopMemoryContext is shown without children: its child list is
 * parked behind an anchor context of memprof's own and put back at the
 * report's "Grand total" line (or at the next other message, transaction
 * end or exit, if the report ends early).  The anchor is always the head
 * of the parked list, so a top-level context deleted or re-parented while
 * parked unlinks cleanly (it has a previous sibling), and a top-level
 * context created meanwhile is kept when the list is put back.
 */
MemoryContext anchor = nullptr;

void
ParkTopChildren()
{
	if (context_tree_parked || anchor == nullptr)
		return;
	/* move the anchor to the head of TopMemoryContext's children */
	MemoryContextSetParent(anchor, nullptr);
	MemoryContextSetParent(anchor, TopMemoryContext);
	Assert(TopMemoryContext->firstchild == anchor && anchor->prevchild == nullptr);
	TopMemoryContext->firstchild = nullptr;
	context_tree_parked = true;
}

/*---- requester-side state ----*/

bool		exit_cleanup_registered = false;

/* Writes rows [start, ...) of s into b, as many as fit. */
void
Encode(const Sample &s, int32 start, FetchBuffer *b)
{
	char	   *data = BufferData(b);
	Size		cap = shared->buffer_size;
	Size		off = 0;
	int32		total = static_cast<int32>(std::min<size_t>(s.rows.size(), kMaxRemoteContexts));

	b->rows = 0;
	b->total_rows = total;
	b->omitted = 0;
	b->omitted_total = b->omitted_free = b->omitted_nblocks = b->omitted_chunks = 0;
	for (int32 i = start; i < total; i++)
	{
		const SampleRow &r = s.rows[i];
		std::string_view name = s.Name(r);
		std::string_view ident = s.Ident(r);
		Size		need = MAXALIGN(sizeof(WireRow) + name.size() + ident.size());

		if (off + need > cap)
			break;				/* the next round starts here */

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
	if (start + b->rows == total)
	{
		/* the last round also carries what is past the limit */
		for (size_t i = static_cast<size_t>(total); i < s.rows.size(); i++)
		{
			const SampleRow &r = s.rows[i];

			b->omitted++;
			b->omitted_total += r.total_bytes;
			b->omitted_free += r.free_bytes;
			b->omitted_nblocks += r.nblocks;
			b->omitted_chunks += r.free_chunks;
		}
	}
}

/* Appends the rows of round b (the requester holds it in state Done) to out. */
void
DecodeRows(FetchBuffer *b, int32 start, Sample &out)
{
	const char *data = BufferData(b);
	Size		off = 0;

	if (b->rows < 0 || start + b->rows > b->total_rows || b->used > shared->buffer_size ||
		(b->rows == 0 && start < b->total_rows))
		throw Error(ERRCODE_DATA_CORRUPTED, "memprof: fetch buffer is damaged (round at row %d)",
					start);
	for (int32 i = start; i < start + b->rows; i++)
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
}

/* One summary row under the root stands for the contexts past the limit. */
void
AddOmittedRow(FetchBuffer *b, Sample &out, RemoteInfo &info)
{
	info.truncated = b->omitted > 0;
	info.omitted = b->omitted;
	if (b->omitted == 0 || out.rows.empty())
		return;

	SampleRow	r;
	char		name[96];

	snprintf(name, sizeof(name), "memprof: %d contexts omitted", b->omitted);
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
		else if (b->state != BufferState::Free && b->state != BufferState::Abandoned)
		{
			b->state = BufferState::Free;
			freed = true;
		}
		if (freed)
			b->requester_pid = 0;
	}
	SpinLockRelease(&b->mutex);
	if (freed)
		pg::WakeAll(&shared->pool_cv);
}

/* Releases what this process requested; before_shmem_exit callback. */
void
FetchExitCleanup(int code, Datum arg)
{
	(void) code;
	(void) arg;
	AbandonOwnRequests();
	RestoreContextTree();
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
				b->state = BufferState::Done;	/* held, not yet asked */
				b->target_pid = pid;
				b->requester_pid = MyProcPid;
				b->answer_id = 0;
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
		pg::SleepOnCondition(&shared->pool_cv, kSleepMs);
	}
}

/*
 * Counts one more memprof signal for pid (slot procno), then sends it;
 * false when it could not be sent.
 */
bool
SignalTarget(int32 pid, int procno)
{
	ProcSlot   *slot = SlotAt(static_cast<uint32>(procno));

	SpinLockAcquire(&slot->signal_mutex);
	if (slot->signal_pid != pid)
	{
		slot->signal_pid = pid;
		slot->signals_sent = 0;
	}
	slot->signals_sent++;
	SpinLockRelease(&slot->signal_mutex);
	bool		sent = pg::SignalLogMemoryContexts(pid);
	TimestampTz now = GetCurrentTimestamp();

	SpinLockAcquire(&slot->signal_mutex);
	if (slot->signal_pid == pid)
	{
		slot->signals_posted++;
		slot->last_posted_at = now;
	}
	SpinLockRelease(&slot->signal_mutex);
	return sent;
}

[[noreturn]] void
ThrowExited(int32 pid)
{
	throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
				"process %d exited before it reported its memory contexts", pid);
}

/*
 * One round: asks pid for rows from start (of sample want, 0 for a fresh
 * one) in b and waits until it answers; returns with b in state Done and
 * its answer checked.
 */
void
RunRound(FetchBuffer *b, int32 pid, int procno, int32 start, uint64 want,
		 TimestampTz deadline, int32 timeout_ms)
{
	uint64		id = pg_atomic_fetch_add_u64(&shared->next_request_id, 1);
	TimestampTz last_signal = 0;

	/*
	 * A request that reaches the target while it is still inside an earlier
	 * report (one asked for just before) is dropped by core: the first
	 * re-signals come soon, then every kResignalMs.
	 */
	long		resignal_ms = 1;

	SpinLockAcquire(&b->mutex);
	b->request_id = id;
	b->answer_id = 0;
	b->start_row = start;
	b->want_sample = want;
	b->failed = false;
	b->retry = false;
	b->error[0] = '\0';
	b->state = BufferState::Requested;
	SpinLockRelease(&b->mutex);

	for (;;)
	{
		BufferState st;
		uint64		answered;
		TimestampTz now = GetCurrentTimestamp();

		SpinLockAcquire(&b->mutex);
		st = b->state;
		answered = b->answer_id;
		SpinLockRelease(&b->mutex);
		if (st == BufferState::Done)
		{
			if (answered != id)
				throw Error(ERRCODE_DATA_CORRUPTED,
							"memprof: fetch buffer holds an answer to another request");
			return;
		}
		if (st == BufferState::Requested)
		{
			if (pg::ProcNumberOfPid(pid) != procno)
				ThrowExited(pid);
			if (now - last_signal >= resignal_ms * 1000)
			{
				if (!SignalTarget(pid, procno) && pg::ProcNumberOfPid(pid) != procno)
					ThrowExited(pid);
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
		pg::SleepOnCondition(&b->cv, std::min(kSleepMs, resignal_ms));
	}
}

/* Fills b's round (claimed by this target) from s, numbered no. */
void
AnswerFrom(FetchBuffer *b, const Sample &s, uint64 no, int32 start)
{
	b->sample_no = no;
	if (start < 0 || static_cast<size_t>(start) > s.rows.size())
	{
		b->retry = true;
		b->rows = 0;
		b->used = 0;
		return;
	}
	Encode(s, start, b);
}

/* Drops the kept sample. */
void
DropKept()
{
	delete kept_sample;
	kept_sample = nullptr;
	kept_no = 0;
	kept_multi = false;
	kept_readers = 0;
}

/*
 * Whether this report was started by memprof's signals (target side), and
 * in echo whether one of them may still arrive after this report began: one
 * still being sent, or sent so recently that its handler may run after the
 * report cleared the pending flag.
 */
bool
CountOurSignals(TimestampTz now, bool &echo)
{
	ProcSlot   *slot;
	bool		ours = false;

	echo = false;
	if (MyProc == nullptr || compat::ProcIndex(MyProc) < 0 ||
		static_cast<uint32>(compat::ProcIndex(MyProc)) >= shared->nslots)
		return false;
	slot = SlotAt(static_cast<uint32>(compat::ProcIndex(MyProc)));
	SpinLockAcquire(&slot->signal_mutex);
	if (slot->signal_pid == MyProcPid && slot->signals_sent != signals_seen)
	{
		signals_seen = slot->signals_sent;
		ours = true;
		echo = slot->signals_posted != slot->signals_sent ||
			now - slot->last_posted_at < kInFlightMs * 1000;
	}
	SpinLockRelease(&slot->signal_mutex);
	return ours;
}

/* Whether a request for this process waits in some buffer. */
bool
RequestPending()
{
	bool		found = false;

	for (uint32 i = 0; i < shared->nbuffers && !found; i++)
	{
		FetchBuffer *b = BufferAt(i);

		SpinLockAcquire(&b->mutex);
		found = b->state == BufferState::Requested && b->target_pid == MyProcPid;
		SpinLockRelease(&b->mutex);
	}
	return found;
}

/*
 * Answers every request waiting for this process (target side, inside a
 * report): a fresh sample for a first round, the kept one for later rounds.
 * Returns how many it answered.
 */
int
ServeRequests(TimestampTz now)
{
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
		return 0;

	const char *failure = nullptr;
	bool		need_fresh = false;

	for (int i = 0; i < n; i++)
		if (claimed[i]->start_row == 0)
			need_fresh = true;
	if (need_fresh && kept_sample != nullptr && kept_multi && kept_readers > 0 &&
		now - kept_used_at < kShareSampleMs * 1000)
		need_fresh = false;
	if (need_fresh)
	{
		/* the whole tree, put back for the walk if a report parked it */
		bool		was_parked = context_tree_parked;

		RestoreContextTree();
		try
		{
			if (kept_sample == nullptr)
				kept_sample = new Sample();
			TakeSample(TopMemoryContext, *kept_sample);
			kept_no = next_sample_no++;
			kept_taken_at = now;
			kept_multi = false;
			kept_readers = 0;
			PublishSample(*kept_sample);
		}
		catch (const std::bad_alloc &)
		{
			failure = "out of memory";
		}
		catch (...)
		{
			failure = "unexpected error";
		}
		if (failure != nullptr)
			DropKept();
		if (was_parked)
			ParkTopChildren();
	}
	kept_used_at = now;

	bool		freed_any = false;
	bool		multi_round = false;

	for (int i = 0; i < n; i++)
	{
		FetchBuffer *b = claimed[i];

		b->backend_type = static_cast<int32>(MyBackendType);
		b->started_at = MyStartTimestamp;
		b->taken_at = kept_taken_at;
		b->failed = false;
		b->retry = false;
		if (failure != nullptr)
		{
			b->failed = true;
			strlcpy(b->error, failure, sizeof(b->error));
			b->rows = 0;
			b->used = 0;
		}
		else if (kept_sample == nullptr || (b->start_row > 0 && b->want_sample != kept_no))
		{
			b->retry = true;
			b->rows = 0;
			b->used = 0;
		}
		else
		{
			AnswerFrom(b, *kept_sample, kept_no, b->start_row);
			if (b->start_row > 0 || b->start_row + b->rows < b->total_rows)
			{
				multi_round = kept_multi = true;
				if (b->start_row == 0)
					kept_readers++;
				else if (b->start_row + b->rows >= b->total_rows)
					kept_readers--;
			}
		}
		SpinLockAcquire(&b->mutex);
		if (b->state == BufferState::Abandoned)
		{
			b->state = BufferState::Free;
			b->requester_pid = 0;
			freed_any = true;
		}
		else
		{
			b->answer_id = b->request_id;
			b->state = BufferState::Done;
		}
		SpinLockRelease(&b->mutex);
		pg::WakeAll(&b->cv);
	}
	if (freed_any)
		pg::WakeAll(&shared->pool_cv);

	/*
	 * A sample sent in several rounds is kept for the next rounds (of this
	 * or another requester) until replaced or unused for a while; one sent
	 * whole is kept only if small, as a reusable buffer.
	 */
	if (!multi_round && kept_sample != nullptr && kept_sample->rows.capacity() > 20000)
		DropKept();
	return n;
}

}								/* namespace */

void
RestoreContextTreeSlow() noexcept
{
	context_tree_parked = false;
	if (TopMemoryContext->firstchild == nullptr)
	{
		TopMemoryContext->firstchild = anchor;
		anchor->prevchild = nullptr;
	}
	else
	{
		/* contexts created while parked come first */
		MemoryContext last = TopMemoryContext->firstchild;

		while (last->nextchild != nullptr)
			last = last->nextchild;
		last->nextchild = anchor;
		anchor->prevchild = last;
	}
}

void
RemoteExitCleanup()
{
	RestoreContextTree();
	AbandonOwnRequests();
}

void
AbandonOwnRequests()
{
	if (shared == nullptr)
		return;
	for (uint32 i = 0; i < shared->nbuffers; i++)
		Release(BufferAt(i));
}

void
ForgetKeptSampleSlow(TimestampTz now) noexcept
{
	if (now - kept_used_at > kKeepSampleMs * 1000)
		DropKept();
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

	int			procno = pg::ProcNumberOfPid(pid);

	if (procno < 0 || static_cast<uint32>(procno) >= shared->nslots)
		throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
					"PID %d is not a PostgreSQL server process", pid);
	if (!exit_cleanup_registered)
	{
		/* a requester that exits while it waits leaves no buffer behind */
		pg::AtProcessExit(FetchExitCleanup);
		exit_cleanup_registered = true;
	}

	TimestampTz start = GetCurrentTimestamp();
	TimestampTz deadline = start + static_cast<TimestampTz>(timeout_ms) * 1000;
	FetchBuffer *b = ClaimBuffer(pid, deadline, timeout_ms);

	try
	{
		int			restarts = 0;
		int32		next = 0;
		uint64		sample_no = 0;

		out.rows.clear();
		out.text.clear();
		for (;;)
		{
			RunRound(b, pid, procno, next, sample_no, deadline, timeout_ms);
			if (b->failed)
				throw Error(ERRCODE_INTERNAL_ERROR,
							"process %d could not report its memory contexts: %s", pid, b->error);
			if (b->retry || (next > 0 && b->sample_no != sample_no))
			{
				/* the target's sample was replaced: start again */
				if (++restarts > kMaxRestarts)
					throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
								"process %d replaced its sample %d times during one fetch",
								pid, kMaxRestarts)
						.Hint("Several large fetches of the same process compete; retry.");
				out.rows.clear();
				out.text.clear();
				next = 0;
				sample_no = 0;
				continue;
			}
			if (next == 0)
			{
				sample_no = b->sample_no;
				info.backend_type = b->backend_type;
				info.started_at = b->started_at;
				info.taken_at = b->taken_at;
				out.rows.reserve(static_cast<size_t>(b->total_rows) + 1);
			}
			DecodeRows(b, next, out);
			next += b->rows;
			if (next >= b->total_rows)
				break;
		}
		AddOmittedRow(b, out, info);
		pg::CancelConditionSleep();
	}
	catch (...)
	{
		pg::CancelConditionSleep();
		Release(b);
		throw;
	}
	Release(b);
}

bool
OnEmitLog(ErrorData *edata)
{
	const char *id = edata->message_id;

	if (id == nullptr || shared == nullptr)
		return false;
	if (suppress_depth > 0)
	{
		if (strcmp(id, kLineFmt) == 0 || strcmp(id, kMoreFmt) == 0 || strcmp(id, kTopMoreFmt) == 0)
		{
			edata->output_to_server = false;
			return true;
		}
		if (strcmp(id, kGrandFmt) == 0)
		{
			edata->output_to_server = false;
			/* a request that came in during the report is answered now */
			TimestampTz now = GetCurrentTimestamp();
			bool		echo_possible;

			if (ServeRequests(now) > 0 && CountOurSignals(now, echo_possible) && echo_possible)
				echoes_left = 1;
			if (--suppress_depth == 0)
			{
				RestoreContextTree();
				last_report_end = GetCurrentTimestamp();
			}
			return true;
		}
		if (strcmp(id, kHeaderFmt) != 0)
			suppress_depth = 0;	/* a report that ended early */
	}
	if (strcmp(id, kHeaderFmt) != 0)
	{
		RestoreContextTree();
		return false;
	}

	/* a report is starting: is it memprof's? */
	TimestampTz now = GetCurrentTimestamp();
	bool		echo_possible;
	bool		ours = CountOurSignals(now, echo_possible);

	if (!ours && !RequestPending())
	{
		/*
		 * Not asked by memprof: core logs as always, unless this is the echo
		 * of a memprof signal that arrived after the report it started had
		 * already counted it (nested in that report, or just after it).
		 */
		if (!(suppress_depth > 0 ||
			  (echoes_left > 0 && now - last_report_end < kEchoMs * 1000)))
			return false;
		echoes_left--;
	}
	else
		echoes_left = echo_possible ? 1 : 0;

	if (anchor == nullptr)
		anchor = AllocSetContextCreate(TopMemoryContext, "memprof fetch anchor",
									   ALLOCSET_SMALL_SIZES);
	ServeRequests(now);

	/* core's walk that follows sees TopMemoryContext alone */
	ParkTopChildren();
	edata->output_to_server = false;
	suppress_depth++;
	return true;
}

}								/* namespace memprof */

/*==== SQL-callable functions ====*/

/*---- other processes ----*/

namespace {

int32
CheckedTimeout(FunctionCallInfo fcinfo, int n)
{
	int32		t = memprof::ArgInt32(fcinfo, n, "timeout_ms");

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
	memprof::pg::Warn(memprof::Error(ERRCODE_WARNING,
									 "memory context tree of PID %d was cut: %d contexts did not fit",
									 info.pid, info.omitted)
					  .Detail("They are summed into one row named \"memprof: %d contexts omitted\".",
							  info.omitted)
					  .Hint("memprof fetches at most 1000000 contexts of one process."));
}

}								/* namespace */

/*
 * memprof_backend_contexts(pid, timeout_ms DEFAULT 5000): the whole tree of
 * any backend or auxiliary process, same columns as memprof_contexts.
 */
MEMPROF_FUNCTION(memprof_backend_contexts_fn)
{
	int32		pid = memprof::ArgInt32(fcinfo, 0, "pid");
	int32		timeout = CheckedTimeout(fcinfo, 1);
	memprof::Sample sample;
	memprof::RemoteInfo info;

	memprof::FetchRemoteSample(pid, timeout, sample, info);
	WarnIfTruncated(info);
	memprof::EmitContextRows(fcinfo, sample);
	return (Datum) 0;
}

/* memprof_snapshot(label, pid): another process's tree as a snapshot. */
MEMPROF_FUNCTION(memprof_snapshot_pid_1_3)
{
	const char *label = memprof::ArgCString(fcinfo, 0);
	int32		pid = memprof::ArgInt32(fcinfo, 1, "pid");
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
	PG_RETURN_INT64(memprof::StoreSnapshot(memprof::pg::StoreOf(fcinfo), sample, m));
}

/* memprof_fetch_buffers(): state of the remote-fetch buffers (diagnostics). */
MEMPROF_FUNCTION(memprof_fetch_buffers_fn)
{
	memprof::RequireShared("memprof_fetch_buffers");
	static const char *const names[] = {"free", "requested", "writing", "done", "abandoned"};

	memprof::pg::EmitRows(fcinfo, memprof::shared->nbuffers, [&](size_t i, Datum *v, bool *n) {
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
