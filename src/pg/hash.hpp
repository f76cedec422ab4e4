/*
 * hash.hpp: walking a PostgreSQL hash table (dynahash) from C++.
 */
#pragma once

#include "boundary.hpp"

namespace memprof::pg {

/*
 * Calls visit(entry) for every entry of htab until visit returns false.
 * The caller holds the lock that protects htab.  visit runs in a PostgreSQL
 * frame: it may remove the current entry with hash_search, must not throw
 * and holds no object with a destructor.  A PostgreSQL error (a damaged
 * table, too many scans open) is thrown as PgError.
 */
template <typename Entry, typename Visit>
void
ScanHash(HTAB *htab, Visit &&visit)
{
	PgCall([&]() {
		HASH_SEQ_STATUS seq;
		Entry	   *e;

		hash_seq_init(&seq, htab);
		while ((e = static_cast<Entry *>(hash_seq_search(&seq))) != nullptr)
		{
			if (!visit(e))
			{
				hash_seq_term(&seq);
				break;
			}
		}
	});
}

}								/* namespace memprof::pg */
