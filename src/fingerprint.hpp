/*
 * fingerprint.hpp: a statement's text with its literals taken out.
 *
 * When no module computes PostgreSQL's query id (compute_query_id = auto and
 * pg_stat_statements not loaded), memprof keys statements by a fingerprint
 * of their text instead: a 64-bit hash of the text with every constant
 * (numbers, quoted strings, dollar-quoted strings) replaced by one marker,
 * comments dropped and white space collapsed.  Runs of one statement with
 * different constants share a fingerprint; computing it reads the text once
 * (a few instructions a byte), much cheaper than jumbling the parse tree.
 *
 * NormalizeText writes the form shown in memprof_statements.query: the same
 * text with each constant replaced by $n, numbered after the statement's own
 * parameters, as pg_stat_statements shows it.
 *
 * Plain C++: no PostgreSQL calls, no allocation.
 */
#pragma once

#include "pg/hidden.hpp"

#include <cstddef>
#include <cstdint>

namespace memprof {

/*
 * keep_constants: constants stay as they are (utility statements, which
 * pg_stat_statements also keeps as written): only comments and white space
 * are normalized.
 */
uint64_t	TextFingerprint(const char *text, size_t len, bool keep_constants = false) MEMPROF_HIDDEN;

/*
 * The statement's own text inside its source string (a Query message may
 * hold several statements): PostgreSQL's stmt_location (-1: unknown, the
 * whole string) and stmt_len (0: to the end of the string), without the
 * white space before it.  Both are trusted to lie inside the string, as
 * PostgreSQL guarantees and pg_stat_statements relies on too.
 */
void		StatementText(const char *source, int location, int len,
						  const char **text, int *text_len) MEMPROF_HIDDEN;

/* Writes at most cap - 1 bytes and a NUL into out; returns the length. */
size_t		NormalizeText(const char *text, size_t len, char *out, size_t cap,
						  bool keep_constants = false);

}								/* namespace memprof */
