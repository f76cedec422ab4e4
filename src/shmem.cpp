/*
 * shmem.cpp: sizing, creating and attaching memprof's shared memory.
 * See shmem.hpp for the layout and the locking rules.
 */
#include "shmem.hpp"
#include "pg/boundary.hpp"
#include "pg/hooks.hpp"
#include "statement_table.hpp"

namespace memprof {

int			fetch_buffers = 4;
int			fetch_buffer_kb = 1024;
int			history_size = 256;
SharedState *shared = nullptr;

namespace {


uint32
SlotCount()
{
	/* every PGPROC: backends, auxiliary processes, prepared transactions */
	return static_cast<uint32>(MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts);
}

Size
BufferStride()
{
	return MAXALIGN(sizeof(FetchBuffer)) + MAXALIGN(static_cast<Size>(fetch_buffer_kb) * 1024);
}

Size
SharedSize()
{
	Size		sz = MAXALIGN(sizeof(SharedState));

	sz = add_size(sz, mul_size(SlotCount(), MAXALIGN(sizeof(ProcSlot))));
	sz = add_size(sz, mul_size(static_cast<Size>(history_size), MAXALIGN(sizeof(HistoryEntry))));
	sz = add_size(sz, mul_size(static_cast<Size>(fetch_buffers), BufferStride()));
	return sz;
}

char *
Base()
{
	return reinterpret_cast<char *>(shared);
}

void
ShmemRequest()
{
	pg::NextShmemRequest();
	RequestAddinShmemSpace(add_size(SharedSize(), StmtStatsShmemSize()));
	/* [0]: history ring; [1]: statement statistics */
	RequestNamedLWLockTranche("memprof", 2);
}

void
ShmemStartup()
{
	bool		found;

	pg::NextShmemStartup();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = static_cast<SharedState *>(ShmemInitStruct("memprof", SharedSize(), &found));
	if (!found)
	{
		memset(shared, 0, SharedSize());
		shared->lock = &(GetNamedLWLockTranche("memprof"))->lock;
		shared->nslots = SlotCount();
		shared->history_size = static_cast<uint32>(history_size);
		shared->nbuffers = static_cast<uint32>(fetch_buffers);
		shared->buffer_size = MAXALIGN(static_cast<Size>(fetch_buffer_kb) * 1024);
		shared->buffer_stride = BufferStride();
		ConditionVariableInit(&shared->pool_cv);
		pg_atomic_init_u64(&shared->next_request_id, 1);
		pg_atomic_init_u64(&shared->budget_reserved, 0);
		pg_atomic_init_u64(&shared->budget_refusals, 0);
		pg_atomic_init_u64(&shared->budget_cancels, 0);
		pg_atomic_init_u64(&shared->budget_last_cancel, 0);
		pg_atomic_init_u32(&shared->budget_warned, 0);
		for (uint32 i = 0; i < shared->nslots; i++)
		{
			pg_atomic_init_u32(&SlotAt(i)->changecount, 0);
			SpinLockInit(&SlotAt(i)->signal_mutex);
		}
		for (uint32 i = 0; i < shared->nbuffers; i++)
		{
			FetchBuffer *b = BufferAt(i);

			SpinLockInit(&b->mutex);
			b->state = BufferState::Free;
			ConditionVariableInit(&b->cv);
		}
	}
	StmtStatsShmemInit();
	LWLockRelease(AddinShmemInitLock);
}

}								/* namespace */

void
InstallShmemHooks()
{
	pg::ChainShmemHooks(ShmemRequest, ShmemStartup);
}

ProcSlot *
SlotAt(uint32 index)
{
	return reinterpret_cast<ProcSlot *>(Base() + MAXALIGN(sizeof(SharedState)) +
										index * MAXALIGN(sizeof(ProcSlot)));
}

HistoryEntry *
HistoryAt(uint32 index)
{
	return reinterpret_cast<HistoryEntry *>(Base() + MAXALIGN(sizeof(SharedState)) +
											shared->nslots * MAXALIGN(sizeof(ProcSlot)) +
											index * MAXALIGN(sizeof(HistoryEntry)));
}

FetchBuffer *
BufferAt(uint32 index)
{
	return reinterpret_cast<FetchBuffer *>(Base() + MAXALIGN(sizeof(SharedState)) +
										   shared->nslots * MAXALIGN(sizeof(ProcSlot)) +
										   shared->history_size * MAXALIGN(sizeof(HistoryEntry)) +
										   index * shared->buffer_stride);
}

char *
BufferData(FetchBuffer *b)
{
	return reinterpret_cast<char *>(b) + MAXALIGN(sizeof(FetchBuffer));
}

void
RequireShared(const char *what)
{
	if (shared == nullptr)
		throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
					"%s needs memprof to be loaded via shared_preload_libraries", what)
			.Hint("Add memprof to shared_preload_libraries in postgresql.conf and restart the server.");
}

bool
ReadSlot(const ProcSlot *slot, ProcSummary &out)
{
	ProcSlot   *s = const_cast<ProcSlot *>(slot);

	for (int attempt = 0; attempt < 1000; attempt++)
	{
		uint32		before = pg_atomic_read_u32(&s->changecount);

		pg_read_barrier();
		if ((before & 1) == 0)
		{
			memcpy(&out, &s->s, sizeof(ProcSummary));
			pg_read_barrier();
			if (pg_atomic_read_u32(&s->changecount) == before)
				return true;
		}
		SPIN_DELAY();
	}
	return false;
}

void
WriteOwnSlot(ProcSlot *slot, const ProcSummary &s)
{
	pg_atomic_fetch_add_u32(&slot->changecount, 1);	/* odd: writing */
	pg_write_barrier();
	memcpy(&slot->s, &s, sizeof(ProcSummary));
	pg_write_barrier();
	pg_atomic_fetch_add_u32(&slot->changecount, 1);	/* even: stable */
}

}								/* namespace memprof */
