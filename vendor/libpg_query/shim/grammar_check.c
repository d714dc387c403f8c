/*
 * migrate-safe's entry into PostgreSQL's own parser (libpg_query): does the grammar accept `input`?
 * A copy of libpg_query's pg_query_raw_parse without its stderr redirection (a pipe and dup2 per call,
 * process-wide) and without building a parse tree output: only the verdict and, on an error, the
 * message and the 1-based character position PostgreSQL reports.
 */
#include "pg_query.h"
#include "pg_query_internal.h"

#include "parser/parser.h"
#include "parser/scanner.h"
#include "parser/scansup.h"

#include <string.h>

/* Returns 0 when the grammar accepts `input`; else 1, with `message` (at most `message_len` bytes,
 * NUL-terminated) and `cursorpos` (1-based characters, 0 when unknown) set. */
int migrate_safe_grammar_check(const char *input, char *message, int message_len, int *cursorpos)
{
	MemoryContext ctx = pg_query_enter_memory_context();
	MemoryContext parse_context = CurrentMemoryContext;
	int rejected = 0;
	*cursorpos = 0;
	if (message_len > 0)
		message[0] = '\0';

	PG_TRY();
	{
		backslash_quote = BACKSLASH_QUOTE_SAFE_ENCODING;
		standard_conforming_strings = true;
		escape_string_warning = false;
		(void) raw_parser(input, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData *error_data;

		MemoryContextSwitchTo(parse_context);
		error_data = CopyErrorData();
		if (message_len > 0) {
			strncpy(message, error_data->message ? error_data->message : "syntax error", message_len - 1);
			message[message_len - 1] = '\0';
		}
		*cursorpos = error_data->cursorpos;
		rejected = 1;
		FlushErrorState();
	}
	PG_END_TRY();

	pg_query_exit_memory_context(ctx);
	return rejected;
}
