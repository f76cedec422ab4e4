/*
 * stmttrack.cpp: statement peak tracking and memory guards (see
 * stmttrack.hpp for what is counted and how).
 *
 * Everything that runs inside a wrapped memory-context method is plain C
 * in C++ clothing: no objects with destructors, no exceptions, no
 * allocation except what the original method does.  The only PostgreSQL
 * call it makes is ereport, for a guard, exactly as palloc's own "out of
 * memory" does.
 */
#include "stmttrack.hpp"
#include "boundary.hpp"
#include "shmem.hpp"
#include "walker.hpp"

namespace memprof {

bool		track_statements = true;
int			log_min_statement_memory_kb = -1;
int			max_statement_memory_kb = 0;
int			max_backend_memory_kb = 0;
int			guard_action = GUARD_ERROR;
int			max_tracked_statements = 1000;

namespace {

/*---- the running statement ----*/

struct StatementState
{
	bool		active;
	bool		in_guard;		/* formatting a guard message: no checks */
	bool		warned_statement;
	bool		warned_backend;
	QueryDesc  *qd;				/* executor statement, or NULL for utility */
	MemoryContext root;			/* es_query_cxt, or the utility's context */
	uint64		queryid;
	const char *text;			/* statement text (valid while it runs) */
	int			text_len;
	int64		base;			/* tracked bytes when it started */
	int64		current;		/* tracked bytes now */
	int64		peak;
	int64		backend_other;	/* bytes outside the tracked subtrees at start */
};

StatementState st;
int			nesting_level = 0;

/*---- wrapped method tables: one per original table (AllocSet, Slab, Generation) ----*/

constexpr int kKinds = 3;
[[maybe_unused]] const MemoryContextMethods *originals[kKinds];
MemoryContextMethods wrapped[kKinds];

inline bool
IsWrapped(MemoryContext c)
{
	return c->methods == &wrapped[0] || c->methods == &wrapped[1] || c->methods == &wrapped[2];
}

void		CheckGuards();

/* Adds a change in tracked bytes. */
inline void
Account(int64 delta)
{
	if (!st.active || delta == 0)
		return;
	st.current += delta;
	if (st.current > st.peak)
		st.peak = st.current;
	if (delta > 0 && (max_statement_memory_kb > 0 || max_backend_memory_kb > 0))
		CheckGuards();
}

void		Wrap(MemoryContext c);

/* A context found after the start: wrap its subtree, count what it holds. */
void
Discover(MemoryContext c)
{
	int64		found = 0;

	ForEachContext(c, [&found](MemoryContext x) {
		if (!IsWrapped(x))
		{
			Wrap(x);
			found += static_cast<int64>(x->mem_allocated);
		}
	});
	Account(found);
}

/*
 * Whether cxt is (still) inside the tracked subtrees: a wrapped context can
 * be moved elsewhere (a plan saved into CacheMemoryContext).  Only asked
 * when mem_allocated changed, which is when a block came or went.
 */
bool
Tracked(MemoryContext cxt)
{
	for (MemoryContext c = cxt; c != nullptr; c = c->parent)
		if (c == st.root || c == TopTransactionContext)
			return true;
	return false;
}

#if MEMPROF_CONTEXT_METHODS_INTERCEPT_ALL
inline void
After(MemoryContext cxt, Size before)
{
	if (!st.active)
		return;
	if (cxt->mem_allocated != before && Tracked(cxt))
		Account(static_cast<int64>(cxt->mem_allocated) - static_cast<int64>(before));
	if (cxt->firstchild != nullptr && !IsWrapped(cxt->firstchild))
		Discover(cxt->firstchild);
}

template <int K>
void *
WAlloc(MemoryContext cxt, Size size)
{
	Size		before = cxt->mem_allocated;
	void	   *p = originals[K]->alloc(cxt, size);

	After(cxt, before);
	return p;
}

template <int K>
void
WFree(MemoryContext cxt, void *pointer)
{
	Size		before = cxt->mem_allocated;

	originals[K]->free_p(cxt, pointer);
	After(cxt, before);
}

template <int K>
void *
WRealloc(MemoryContext cxt, void *pointer, Size size)
{
	Size		before = cxt->mem_allocated;
	void	   *p = originals[K]->realloc(cxt, pointer, size);

	After(cxt, before);
	return p;
}

/*
 * The context being deleted: AllocSetDelete resets a context it keeps on
 * its freelist through context->methods, and that reset must not count
 * again what the delete counts.
 */
MemoryContext deleting = nullptr;

template <int K>
void
WReset(MemoryContext cxt)
{
	Size		before = cxt->mem_allocated;

	originals[K]->reset(cxt);
	if (st.active && cxt != deleting && Tracked(cxt))
		Account(static_cast<int64>(cxt->mem_allocated) - static_cast<int64>(before));
}

template <int K>
void
WDelete(MemoryContext cxt)
{
	Size		before = cxt->mem_allocated;
	bool		tracked = st.active && Tracked(cxt);
	MemoryContext outer = deleting;

	deleting = cxt;
	originals[K]->delete_context(cxt);	/* cxt is gone now */
	deleting = outer;
	if (tracked)
		Account(-static_cast<int64>(before));
}

template <int K>
void
InitKind()
{
	wrapped[K] = *originals[K];
	wrapped[K].alloc = WAlloc<K>;
	wrapped[K].free_p = WFree<K>;
	wrapped[K].realloc = WRealloc<K>;
	wrapped[K].reset = WReset<K>;
	wrapped[K].delete_context = WDelete<K>;
}
#endif

void
Wrap(MemoryContext c)
{
#if MEMPROF_CONTEXT_METHODS_INTERCEPT_ALL
	for (int k = 0; k < kKinds; k++)
	{
		if (originals[k] == c->methods)
		{
			c->methods = &wrapped[k];
			return;
		}
		if (originals[k] == nullptr)
		{
			originals[k] = c->methods;
			if (k == 0)
				InitKind<0>();
			else if (k == 1)
				InitKind<1>();
			else
				InitKind<2>();
			c->methods = &wrapped[k];
			return;
		}
	}
	/* a fourth kind of context: left unwrapped (counted by rescans only) */
#else
	/* pfree does not go through c->methods: counted by rescans only */
	(void) c;
#endif
}

/* Tracked bytes now: the root's subtree and TopTransactionContext's. */
int64
Rescan(bool wrap)
{
	int64		sum = 0;
	auto		visit = [&sum, wrap](MemoryContext x) {
		if (wrap && !IsWrapped(x))
			Wrap(x);
		sum += static_cast<int64>(x->mem_allocated);
	};

	if (st.root != nullptr)
		ForEachContext(st.root, visit);
	if (TopTransactionContext != nullptr && TopTransactionContext != st.root)
		ForEachContext(TopTransactionContext, visit);
	return sum;
}

int64
WholeTree()
{
	int64		sum = 0;

	ForEachContext(TopMemoryContext, [&sum](MemoryContext x) {
		sum += static_cast<int64>(x->mem_allocated);
	});
	return sum;
}

void
PrettySize(int64 bytes, char *buf, size_t len)
{
	if (bytes >= 10LL * 1024 * 1024 * 1024)
		snprintf(buf, len, "%lld GB", static_cast<long long>(bytes >> 30));
	else if (bytes >= 10LL * 1024 * 1024)
		snprintf(buf, len, "%lld MB", static_cast<long long>(bytes >> 20));
	else if (bytes >= 10LL * 1024)
		snprintf(buf, len, "%lld kB", static_cast<long long>(bytes >> 10));
	else
		snprintf(buf, len, "%lld bytes", static_cast<long long>(bytes));
}

/* "name 12 MB, name 3 MB, name 1 MB": the three largest tracked contexts. */
void
LargestContexts(char *buf, size_t len)
{
	MemoryContext top[3] = {nullptr, nullptr, nullptr};
	auto		visit = [&top](MemoryContext x) {
		for (int i = 0; i < 3; i++)
		{
			if (top[i] == nullptr || x->mem_allocated > top[i]->mem_allocated)
			{
				for (int j = 2; j > i; j--)
					top[j] = top[j - 1];
				top[i] = x;
				return;
			}
		}
	};
	size_t		off = 0;

	if (st.root != nullptr)
		ForEachContext(st.root, visit);
	if (TopTransactionContext != nullptr && TopTransactionContext != st.root)
		ForEachContext(TopTransactionContext, visit);
	buf[0] = '\0';
	for (int i = 0; i < 3 && top[i] != nullptr && off < len; i++)
	{
		char		size[32];

		PrettySize(static_cast<int64>(top[i]->mem_allocated), size, sizeof(size));
		off += snprintf(buf + off, len - off, "%s%s %s", i ? ", " : "",
						top[i]->name ? top[i]->name : "?", size);
	}
}

void
Trip(const char *what, const char *guc, int64 figure, int64 limit)
{
	char		fig[32], lim[32], largest[256];

	st.in_guard = true;
	PrettySize(figure, fig, sizeof(fig));
	PrettySize(limit, lim, sizeof(lim));
	LargestContexts(largest, sizeof(largest));
	st.in_guard = false;
	if (guard_action == GUARD_ERROR)
	{
		/* stop counting: the abort frees the statement's memory */
		st.active = false;
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("%s memory %s exceeds %s (%s)", what, fig, guc, lim),
				 errdetail("Largest contexts: %s.", largest),
				 errhint("Raise %s, or lower work_mem or the statement's memory use.", guc)));
	}
	ereport(WARNING,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("%s memory %s exceeds %s (%s)", what, fig, guc, lim),
			 errdetail("Largest contexts: %s.", largest)));
}

void
CheckGuards()
{
	/*
	 * Never inside a critical section, and not while interrupts are held:
	 * error recovery and AbortTransaction run with interrupts held, and a
	 * guard error there would be an error during error recovery.  The check
	 * then happens at the next new block outside such a region.
	 */
	if (st.in_guard || CritSectionCount > 0 || InterruptHoldoffCount > 0 ||
		proc_exit_inprogress)
		return;
	if (max_statement_memory_kb > 0 && !st.warned_statement)
	{
		int64		limit = static_cast<int64>(max_statement_memory_kb) * 1024;
		int64		net = st.current - st.base;

		if (net > limit)
		{
			st.warned_statement = true;
			Trip("statement", "memprof.max_statement_memory", net, limit);
		}
	}
	if (max_backend_memory_kb > 0 && !st.warned_backend)
	{
		int64		limit = static_cast<int64>(max_backend_memory_kb) * 1024;
		int64		total = st.backend_other + st.current;

		if (total > limit)
		{
			st.warned_backend = true;
			Trip("backend", "memprof.max_backend_memory", total, limit);
		}
	}
}

bool
Enabled()
{
	return track_statements || log_min_statement_memory_kb >= 0 ||
		max_statement_memory_kb > 0 || max_backend_memory_kb > 0;
}

void
Begin(QueryDesc *qd, MemoryContext root, uint64 queryid, const char *text, int text_len)
{
	memset(&st, 0, sizeof(st));
	st.qd = qd;
	st.root = root;
	st.queryid = queryid;
	st.text = text;
	st.text_len = text_len;
	st.base = st.current = st.peak = Rescan(true);
	if (max_backend_memory_kb > 0)
	{
		/*
		 * The backend outside the statement's contexts (caches, mostly):
		 * a whole-tree walk, at most once a second, since it costs one
		 * step per context and a backend may hold thousands.
		 */
		static TimestampTz walked_at = 0;
		static int64 other = 0;
		TimestampTz now = GetCurrentStatementStartTimestamp();

		if (walked_at == 0 || now - walked_at >= USECS_PER_SEC || now < walked_at)
		{
			other = WholeTree() - st.base;
			walked_at = now;
		}
		st.backend_other = other;
	}
	st.active = true;
}

void
Finish(Oid userid, Oid dbid)
{
	int64		now;
	int64		peak, held;

	if (!st.active)
		return;
	/* before the executor frees anything: sorts and hash tables still here */
	now = Rescan(false);
	if (now > st.peak)
		st.peak = now;
	st.active = false;
	peak = st.peak - st.base;
	held = now - st.base;
	if (peak < 0)
		peak = 0;

	if (log_min_statement_memory_kb >= 0 &&
		peak >= static_cast<int64>(log_min_statement_memory_kb) * 1024)
	{
		char		p[32], h[32], largest[256];

		PrettySize(peak, p, sizeof(p));
		PrettySize(held, h, sizeof(h));
		LargestContexts(largest, sizeof(largest));
		ereport(LOG,
				(errmsg("memory peak: %s  held at end: %s  statement: %.*s",
						p, h, st.text_len, st.text ? st.text : ""),
				 errdetail("Largest contexts at the end: %s.", largest),
				 errhidestmt(true)));
	}
	if (track_statements && shared != nullptr && st.queryid != 0)
		StmtStatsRecord(st.queryid, userid, dbid, st.text, st.text_len, peak, held);
}

/* The statement's own text inside a multi-statement string. */
void
StatementText(const char *source, int location, int len, const char **text, int *text_len)
{
	if (source == nullptr)
	{
		*text = "";
		*text_len = 0;
		return;
	}
	int			total = static_cast<int>(strlen(source));

	if (location < 0 || location > total)
		location = 0;
	if (len <= 0 || location + len > total)
		len = total - location;
	while (len > 0 && (source[location] == ' ' || source[location] == '\n' || source[location] == '\t'))
	{
		location++;
		len--;
	}
	*text = source + location;
	*text_len = len;
}

/*---- hooks ----*/

ExecutorStart_hook_type prev_ExecutorStart = nullptr;
ExecutorRun_hook_type prev_ExecutorRun = nullptr;
ExecutorFinish_hook_type prev_ExecutorFinish = nullptr;
ExecutorEnd_hook_type prev_ExecutorEnd = nullptr;
ProcessUtility_hook_type prev_ProcessUtility = nullptr;

void
MemprofExecutorStart(QueryDesc *qd, int eflags)
{
	if (prev_ExecutorStart)
		prev_ExecutorStart(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);

	if (st.active && nesting_level > 0 && qd->estate != nullptr)
	{
		/*
		 * A nested statement (SPI in a function, a trigger): its executor
		 * contexts, and the SPI contexts above them, were created since the
		 * top-level statement started.  Wrap that new branch now, from its
		 * first unwrapped ancestor down, so its allocations count.
		 */
		MemoryContext c = qd->estate->es_query_cxt;
		MemoryContext below = nullptr;

		while (c != nullptr && !IsWrapped(c))
		{
			below = c;
			c = c->parent;
		}
		if (c != nullptr && below != nullptr && Tracked(c))
			Discover(below);
	}
	else if (nesting_level == 0 && !st.active && Enabled() && qd->estate != nullptr &&
			 (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
	{
		const char *text;
		int			len;

		StatementText(qd->sourceText, qd->plannedstmt->stmt_location,
					  qd->plannedstmt->stmt_len, &text, &len);
		Begin(qd, qd->estate->es_query_cxt, qd->plannedstmt->queryId, text, len);
	}
}

void
MemprofExecutorRun(QueryDesc *qd, ScanDirection direction, uint64 count MEMPROF_EXECUTE_ONCE_PARAM)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(qd, direction, count MEMPROF_EXECUTE_ONCE_ARG);
		else
			standard_ExecutorRun(qd, direction, count MEMPROF_EXECUTE_ONCE_ARG);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

void
MemprofExecutorFinish(QueryDesc *qd)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(qd);
		else
			standard_ExecutorFinish(qd);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

void
MemprofExecutorEnd(QueryDesc *qd)
{
	if (st.active && st.qd == qd)
		Finish(GetUserId(), MyDatabaseId);
	if (prev_ExecutorEnd)
		prev_ExecutorEnd(qd);
	else
		standard_ExecutorEnd(qd);
}

void
MemprofProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					  ProcessUtilityContext context, ParamListInfo params,
					  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	/* EXECUTE runs its plan through the executor: tracked there, as top level */
	bool		passthrough = IsA(parsetree, ExecuteStmt) || IsA(parsetree, PrepareStmt) ||
		IsA(parsetree, DeallocateStmt);
	volatile bool track = !passthrough && nesting_level == 0 && !st.active && Enabled();

	if (track)
	{
		const char *text;
		int			len;

		StatementText(queryString, pstmt->stmt_location, pstmt->stmt_len, &text, &len);
		Begin(nullptr, CurrentMemoryContext, pstmt->queryId, text, len);
	}
	if (!passthrough)
		nesting_level++;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (!passthrough)
			nesting_level--;
	}
	PG_END_TRY();
	if (track && st.active && st.qd == nullptr)
		Finish(GetUserId(), MyDatabaseId);
}

}								/* namespace */

void
StatementAbort()
{
	/* nesting_level is restored by the hooks' PG_FINALLY blocks */
	st.active = false;
	st.in_guard = false;
}

void
InstallStatementHooks()
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = MemprofExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = MemprofExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = MemprofExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = MemprofExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = MemprofProcessUtility;
}

}								/* namespace memprof */
