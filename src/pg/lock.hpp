/*
 * lock.hpp: holding an LWLock for the length of a C++ scope.
 *
 * LWLockAcquire raises an error only when a process holds too many LWLocks
 * at once; the guard turns that into a PgError before it holds anything.
 * Inside the scope, code must call PostgreSQL only through operations that
 * throw (never longjmp), so the destructor always runs; a C++ exception
 * (bad_alloc) releases the lock on its way out.  A PostgreSQL error raised
 * elsewhere in the transaction releases every LWLock at abort anyway.
 */
#pragma once

#include "boundary.hpp"

namespace memprof::pg {

class LWLockGuard
{
public:
	LWLockGuard(LWLock *lock, LWLockMode mode) : lock_(lock)
	{
		PgCall([&]() { LWLockAcquire(lock, mode); });
	}
	~LWLockGuard() { LWLockRelease(lock_); }
	LWLockGuard(const LWLockGuard &) = delete;
	LWLockGuard &operator=(const LWLockGuard &) = delete;

private:
	LWLock	   *lock_;
};

}								/* namespace memprof::pg */
