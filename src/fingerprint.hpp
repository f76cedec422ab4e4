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

#include <cstddef>
#include <cstdint>

namespace memprof {

/*
 * keep_constants: constants stay as they are (utility statements, which
 * pg_stat_statements also keeps as written): only comments and white space
 * are normalized.
 */
uint64_t	TextFingerprint(const char *text, size_t len, bool keep_constants = false);

/* Writes at most cap - 1 bytes and a NUL into out; returns the length. */
size_t		NormalizeText(const char *text, size_t len, char *out, size_t cap,
						  bool keep_constants = false);

}								/* namespace memprof */
