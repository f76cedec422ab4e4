/*
 * spi.hpp: running SQL from C++ through SPI.
 *
 * ExtensionSpi  one SPI connection for the snapshot store's statements, run
 *               as the extension's owner with every name schema-qualified.
 * StatementRunner  the leak check's connection: runs a caller's statement
 *               again and again under one GUC nest level.
 */
#pragma once

#include "boundary.hpp"

#include <string>
#include <vector>

namespace memprof::pg {

/*
 * What the store's statements need to know about the installed extension:
 * its schema (quoted), its owner, and whether the tables still have
 * version 1.0's columns (a 1.0 install running this library before ALTER
 * EXTENSION memprof UPDATE), and who called.
 */
struct ExtensionSpi
{
	const char *schema;
	Oid			owner;
	bool		v10;			/* columns level/nblocks, no taken_by/run_id */
	bool		run_complete;	/* 1.2 on: runs are marked complete when they end */
	Oid			caller;			/* GetUserId() when the function was called */
	bool		caller_super;
	Oid			save_user;
	int			save_sec;
};

/*
 * SPI_connect, the extension's schema and owner (42704-like 55000 when the
 * extension is not installed in this database), and the switch to the
 * owner's identity; Close undoes both, and so does the (sub)transaction
 * abort on error.
 */
ExtensionSpi OpenExtensionSpi_Unsafe();
void		CloseExtensionSpi_Unsafe(const ExtensionSpi &x);

/*
 * Runs body(const ExtensionSpi &) between the two.  body runs in a
 * PostgreSQL frame: it calls SPI directly, must not throw and holds no
 * object with a destructor.  A PostgreSQL error in it is thrown as PgError.
 */
template <typename Body>
void
WithExtensionSpi(Body &&body)
{
	PgCall([&]() {
		ExtensionSpi x = OpenExtensionSpi_Unsafe();

		body(x);
		CloseExtensionSpi_Unsafe(x);
	});
}

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
