/*
 * pathfold.hpp: folding Samples by context path (the names from the root).
 *
 * Contexts are compared across samples by path, not by id or address: two
 * samples of the same backend share no ids, and 6,000 relcache entries share
 * one path.  A PathIndex interns paths as (parent path, name) pairs, so
 * memory is linear in the number of distinct paths even for very deep trees,
 * and the same index serves every sample of a diff or a leak check.
 */
#pragma once

#include "sample.hpp"

#include <unordered_map>

namespace memprof {

/* What a sample holds under one path. */
struct PathFigures
{
	int64		contexts = 0;
	int64		total_bytes = 0;
	int64		used_bytes = 0;
};

/* Where a path's memory goes when the code that allocated it is done. */
enum class PathScope : uint8_t
{
	Session = 0,				/* lives until something frees it explicitly */
	Transaction = 1,			/* freed at the end of the transaction */
	Statement = 2,				/* freed at the end of the statement/message */
};

const char *PathScopeName(PathScope s);

class PathIndex
{
public:
	/* Path id of every row of s (rows[i] -> ids[i]); interns new paths. */
	void		Map(const Sample &s, std::vector<int32> &ids);

	/* Figures per path id for s (sized to Size()). */
	void		Fold(const Sample &s, std::vector<PathFigures> &out);

	size_t		Size() const { return parent_.size(); }
	int32		Level(int32 path) const { return level_[path]; }
	PathScope	Scope(int32 path) const { return scope_[path]; }

	int32		Parent(int32 path) const { return parent_[path]; }
	std::string_view Name(int32 path) const { return *name_text_[name_[path]]; }

private:
	int32		Intern(int32 parent, std::string_view name);

	std::unordered_map<std::string, int32> names_;	/* name -> name id */
	std::vector<const std::string *> name_text_;	/* name id -> name */
	std::unordered_map<uint64, int32> children_;	/* (parent, name id) -> path */
	std::vector<int32> parent_;	/* path -> parent path, -1 for a root */
	std::vector<int32> name_;	/* path -> name id */
	std::vector<int32> level_;
	std::vector<PathScope> scope_;
	std::vector<int32> row_ids_;	/* scratch for Fold */
};

}								/* namespace memprof */
