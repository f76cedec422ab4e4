/*
 * walker.cpp: small helpers for the context-tree walk (the walk itself is a
 * template in walker.hpp so that each consumer's visitor is inlined).
 */
#include "walker.hpp"

namespace memprof {

const char *
ContextTypeName(ContextType t)
{
	switch (t)
	{
		case ContextType::AllocSet:
			return "AllocSet";
		case ContextType::Slab:
			return "Slab";
		case ContextType::Generation:
			return "Generation";
		case ContextType::Bump:
			return "Bump";
		case ContextType::Unknown:
			break;
	}
	return "unknown";
}

ContextType
ContextTypeOf(MemoryContext cxt)
{
	switch (nodeTag(cxt))
	{
		case T_AllocSetContext:
			return ContextType::AllocSet;
		case T_SlabContext:
			return ContextType::Slab;
		case T_GenerationContext:
			return ContextType::Generation;
		default:
			return compat::IsBumpContext(cxt) ? ContextType::Bump : ContextType::Unknown;
	}
}

}								/* namespace memprof */
