/*
 * pathfold.cpp: interning and folding paths.
 */
#include "pathfold.hpp"

namespace memprof {

const char *
PathScopeName(PathScope s)
{
	switch (s)
	{
		case PathScope::Session:
			return "session";
		case PathScope::Transaction:
			return "transaction";
		case PathScope::Statement:
			return "statement";
	}
	return "session";
}

/*
 * The scope of a top-level subtree, from PostgreSQL 15's own lifetimes
 * (postgres.c, xact.c, portalmem.c, elog.c): MessageContext is reset for
 * every client message and ErrorContext after every error; portals
 * (TopPortalContext) are dropped at transaction end, except cursors
 * declared WITH HOLD, which live until closed (counted as transaction scope
 * here: a leak check that keeps opening holdable cursors reports them as
 * growing, not leaking); TopTransactionContext and its children
 * (CurTransactionContext, subtransactions) go at transaction end.
 * Everything else hangs off TopMemoryContext for the session.
 */
static PathScope
ScopeOfTopChild(std::string_view name)
{
	if (name == "TopTransactionContext" || name == "TopPortalContext")
		return PathScope::Transaction;
	if (name == "MessageContext" || name == "ErrorContext")
		return PathScope::Statement;
	return PathScope::Session;
}

int32
PathIndex::Intern(int32 parent, std::string_view name)
{
	auto		nit = names_.find(std::string(name));
	int32		name_id;

	if (nit == names_.end())
	{
		name_id = static_cast<int32>(name_text_.size());
		nit = names_.emplace(std::string(name), name_id).first;
		name_text_.push_back(&nit->first);
	}
	else
		name_id = nit->second;

	uint64		key = (static_cast<uint64>(static_cast<uint32>(parent + 1)) << 32) |
		static_cast<uint32>(name_id);
	auto		cit = children_.find(key);

	if (cit != children_.end())
		return cit->second;

	int32		id = static_cast<int32>(parent_.size());

	parent_.push_back(parent);
	name_.push_back(name_id);
	level_.push_back(parent < 0 ? 0 : level_[parent] + 1);
	if (parent < 0)
		scope_.push_back(PathScope::Session);
	else if (level_[parent] == 0)
		scope_.push_back(ScopeOfTopChild(name));
	else
		scope_.push_back(scope_[parent]);
	children_.emplace(key, id);
	return id;
}

void
PathIndex::Map(const Sample &s, std::vector<int32> &ids)
{
	ids.resize(s.rows.size());
	for (size_t i = 0; i < s.rows.size(); i++)
	{
		const SampleRow &r = s.rows[i];
		int32		parent = r.parent_id > 0 ? ids[r.parent_id - 1] : -1;

		ids[i] = Intern(parent, s.Name(r));
	}
}

void
PathIndex::Fold(const Sample &s, std::vector<PathFigures> &out)
{
	Map(s, row_ids_);
	out.assign(Size(), PathFigures());
	for (size_t i = 0; i < s.rows.size(); i++)
	{
		PathFigures &f = out[row_ids_[i]];

		f.contexts++;
		f.total_bytes += s.rows[i].total_bytes;
		f.used_bytes += s.rows[i].used_bytes();
	}
}

}								/* namespace memprof */
