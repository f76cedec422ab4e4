/*
 * spi.hpp: running SQL from C++ through SPI.
 *
 * WithStore     one SPI connection to the snapshot store's SQL functions,
 *               run as the extension's owner.
 * StatementRunner  the leak check's connection: runs a caller's statement
 *               again and again under one GUC nest level.
 */
#pragma once

#include "boundary.hpp"

#include <string>
#include <vector>

namespace memprof::pg {

/*
 * Where the snapshot store's SQL functions (memprof_store_* in the install
 * script) are and whom they run as: the schema (quoted) and the owner of
 * the SQL-callable C function being run.  Read from that function's own
 * pg_proc row (fcinfo->flinfo->fn_oid), one syscache lookup, so no query
 * runs to find them.  The functions of an extension are owned by the role
 * that created it (memprof is superuser-only to create), so that owner is
 * the extension's owner; it holds EXECUTE on the internal functions, which
 * nobody else is granted.
 */
struct StoreRef
{
	const char *schema;
	Oid			owner;
};

StoreRef	StoreOf(FunctionCallInfo fcinfo);

/*
 * One SPI connection to the store, run as StoreRef's owner: who called
 * (GetUserId() and superuser() before the switch, passed to the internal
 * functions as arguments, since SQL run as the owner cannot see its
 * caller), and what to restore.
 */
struct StoreSession
{
	const char *schema;
	Oid			caller;
	bool		caller_super;
	Oid			save_user;
	int			save_sec;
};

/*
 * SPI_connect and the switch to the owner's identity; Close undoes both,
 * and so does the (sub)transaction abort on error.
 */
StoreSession OpenStore_Unsafe(const StoreRef &ref);
void		CloseStore_Unsafe(const StoreSession &x);

/*
 * Runs body(const StoreSession &) between the two.  body runs in a
 * PostgreSQL frame: it calls SPI directly, must not throw and holds no
 * object with a destructor.  A PostgreSQL error in it is thrown as PgError.
 */
template <typename Body>
void
WithStore(const StoreRef &ref, Body &&body)
{
	PgCall([&]() {
		StoreSession x = OpenStore_Unsafe(ref);

		body(x);
		CloseStore_Unsafe(x);
	});
}

/*
 * SELECT * FROM <schema>.fn($1, ..., $nargs): how many rows it returned,
 * left in SPI_tuptable.  nulls as SPI_execute_with_args takes them (NULL:
 * none).
 */
uint64		StoreRows_Unsafe(const StoreSession &x, const char *fn, int nargs, Oid *types,
							 Datum *vals, const char *nulls, bool read_only);

/*
 * The same for a function returning one value: that value (a
 * by-value type: it is read before SPI's memory goes).  nulls as
 * SPI_execute_with_args takes them (NULL: none).
 */
Datum		StoreCall_Unsafe(const StoreSession &x, const char *fn, int nargs, Oid *types,
							 Datum *vals, const char *nulls, bool *isnull);

/* The version of memprof installed in this database ("?" if none). */
std::string InstalledVersion();

/* Whether interval *iv is negative; its text for messages. */
bool		IntervalIsNegative(const Interval *iv);
const char *IntervalText(const Interval *iv);

/*
 * The leak check's connection.  Open connects and opens a GUC nest level,
 * so whatever the statement sets (SET, SET LOCAL, set_config) is undone by
 * Close as if it had never run; on error the transaction or subtransaction
 * abort undoes both, so there is no destructor.
 */
class StatementRunner
{
public:
	/* Writes the error-context line of the current run into buf. */
	using Describe = void (*)(const void *arg, char *buf, size_t len);

	void		Open();
	/*
	 * Runs sql once, with describe's line as error context; statements SPI
	 * cannot run (transaction control, COPY to the client) raise 0A000.
	 */
	void		Run(const char *sql, Describe describe, const void *arg);
	/* Names of the open cursors (holdable ones left out if asked). */
	std::vector<std::string> CursorNames(bool skip_holdable);
	void		CloseCursor(const std::string &name);
	void		Close();

private:
	int			guc_level_ = 0;
};

}								/* namespace memprof::pg */
