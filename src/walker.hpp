/*
 * walker.hpp: the one walk over a memory-context tree.
 *
 * WalkContexts visits root and all its descendants in pre-order, without
 * recursion (it follows firstchild/nextchild/parent links, so a tree of any
 * depth costs no stack) and in time linear in the number of contexts.  For
 * each context it calls visit(const ContextVisit &).  The visitor decides
 * what to keep; returning false stops the walk (used when a fixed-size
 * buffer is full).
 *
 * The walker allocates nothing in any memory context: its only working
 * state is a std::vector of parent ids (malloc), so reading the tree does
 * not change it.  It runs no SQL and knows nothing of its consumers.
 * Visitors must obey the same rule: never palloc in, reset or delete a
 * context while the walk is in progress.
 */
#pragma once

#include "pg/pg.hpp"

namespace memprof {

enum class ContextType : uint8_t
{
	Unknown = 0,
	AllocSet = 1,
	Slab = 2,
	Generation = 3,
	Bump = 4,				/* PostgreSQL 17 and later */
};

/* Number of ContextType values (for tables indexed by type). */
constexpr int kContextTypes = 5;

const char *ContextTypeName(ContextType t);
ContextType ContextTypeOf(MemoryContext cxt);

struct ContextVisit
{
	MemoryContext cxt;
	int32		id;				/* 1-based, pre-order */
	int32		parent_id;		/* 0 for the root */
	int32		level;			/* 0 for the root */
	ContextType type;
	MemoryContextCounters counters;
};

/*
 * Display name and ident of a context, as core's pg_backend_memory_contexts
 * shows them: a "dynahash" context is labelled by its hash table's name
 * (kept in ident) and then has no ident.
 */
inline void
DisplayNames(MemoryContext cxt, const char **name, const char **ident)
{
	*name = cxt->name;
	*ident = cxt->ident;
	if (*ident != nullptr && *name != nullptr && strcmp(*name, "dynahash") == 0)
	{
		*name = *ident;
		*ident = nullptr;
	}
}

template <typename Visitor>
void
WalkContexts(MemoryContext root, Visitor &&visit)
{
	std::vector<int32> parents;	/* ids of the ancestors of cxt */
	MemoryContext cxt = root;
	int32		next_id = 1;

	if (root == nullptr)
		return;
	parents.reserve(32);

	while (cxt != nullptr)
	{
		ContextVisit v;

		v.cxt = cxt;
		v.id = next_id++;
		v.parent_id = parents.empty() ? 0 : parents.back();
		v.level = static_cast<int32>(parents.size());
		v.type = ContextTypeOf(cxt);
		memset(&v.counters, 0, sizeof(v.counters));
		/* with no print function, stats only adds to the counters */
		cxt->methods->stats(cxt, nullptr, nullptr, &v.counters, false);

		if (!visit(static_cast<const ContextVisit &>(v)))
			return;

		if (cxt->firstchild != nullptr)
		{
			/* descend */
			parents.push_back(v.id);
			cxt = cxt->firstchild;
			continue;
		}
		/* climb until a node has a next sibling, stopping at root */
		while (cxt != root && cxt->nextchild == nullptr)
		{
			cxt = cxt->parent;
			parents.pop_back();
		}
		cxt = (cxt == root) ? nullptr : cxt->nextchild;
	}
}

/*
 * The light form of the walk, for code that runs inside a memory-context
 * method (statement accounting): pre-order over root's subtree, no ids or
 * levels, and no allocation at all (not even malloc), so it is safe where
 * an exception must not start.  fn(MemoryContext) returns nothing.
 */
template <typename Fn>
void
ForEachContext(MemoryContext root, Fn &&fn) noexcept
{
	MemoryContext cxt = root;

	while (cxt != nullptr)
	{
		fn(cxt);
		if (cxt->firstchild != nullptr)
		{
			cxt = cxt->firstchild;
			continue;
		}
		while (cxt != root && cxt->nextchild == nullptr)
			cxt = cxt->parent;
		cxt = (cxt == root) ? nullptr : cxt->nextchild;
	}
}

}								/* namespace memprof */
