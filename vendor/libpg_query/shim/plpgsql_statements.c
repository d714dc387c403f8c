/*
 * migrate-safe's reader of a DO block's body: compile it with PostgreSQL's own PL/pgSQL grammar (as
 * DO does, plpgsql_compile_inline; libpg_query's pg_query_parse_plpgsql takes the same path) and hand
 * back, in source order, the SQL the body runs, each statement once, with its kind and line.
 *
 * Output: one call of `emit` per statement, made after the compile has succeeded and outside
 * PG_TRY, so no PostgreSQL error can longjmp over the caller's frames. `text` is valid only during
 * the call (it lives in the memory context deleted before returning).
 */
#include "pg_query.h"
#include "pg_query_internal.h"

#include "plpgsql.h"

#include <string.h>

/* Kinds of embedded statement (src/source/plpgsql.rs mirrors them). */
enum
{
	EMBEDDED_SQL = 0,			/* a statement run as written: UPDATE, DDL, CALL, a nested DO... */
	EMBEDDED_PERFORM = 1,		/* PERFORM ...: PostgreSQL runs it as SELECT ... */
	EMBEDDED_QUERY = 2,			/* a query read row by row: FOR ... IN, cursors, RETURN QUERY */
	EMBEDDED_DYNAMIC = 3,		/* EXECUTE: the text is the expression building the SQL */
};

typedef void (*migrate_safe_plpgsql_emit) (void *state, int kind, int lineno, const char *text,
										   size_t len);

typedef struct Walk
{
	migrate_safe_plpgsql_emit emit;
	void	   *state;
	PLpgSQL_function *func;
} Walk;

static void walk_stmts(Walk *walk, List *stmts);

static void
emit_expr(Walk *walk, int kind, int lineno, PLpgSQL_expr *expr)
{
	if (expr != NULL && expr->query != NULL)
		walk->emit(walk->state, kind, lineno, expr->query, strlen(expr->query));
}

static void
emit_text(Walk *walk, int kind, int lineno, const char *text)
{
	walk->emit(walk->state, kind, lineno, text, strlen(text));
}

/* A block's DECLAREd bound cursors (`c CURSOR FOR SELECT ...`): their queries are written there,
 * not at OPEN or FOR. */
static void
walk_declarations(Walk *walk, PLpgSQL_stmt_block *block)
{
	for (int i = 0; i < block->n_initvars; i++)
	{
		PLpgSQL_datum *datum = walk->func->datums[block->initvarnos[i]];

		if (datum->dtype == PLPGSQL_DTYPE_VAR)
		{
			PLpgSQL_var *var = (PLpgSQL_var *) datum;

			emit_expr(walk, EMBEDDED_QUERY, var->lineno, var->cursor_explicit_expr);
		}
	}
}

static void
walk_stmt(Walk *walk, PLpgSQL_stmt *stmt)
{
	ListCell   *lc;

	switch (stmt->cmd_type)
	{
		case PLPGSQL_STMT_BLOCK:
			{
				PLpgSQL_stmt_block *block = (PLpgSQL_stmt_block *) stmt;

				walk_declarations(walk, block);
				walk_stmts(walk, block->body);
				if (block->exceptions != NULL)
					foreach(lc, block->exceptions->exc_list)
						walk_stmts(walk, ((PLpgSQL_exception *) lfirst(lc))->action);
				break;
			}
		case PLPGSQL_STMT_IF:
			{
				PLpgSQL_stmt_if *s = (PLpgSQL_stmt_if *) stmt;

				walk_stmts(walk, s->then_body);
				foreach(lc, s->elsif_list)
					walk_stmts(walk, ((PLpgSQL_if_elsif *) lfirst(lc))->stmts);
				walk_stmts(walk, s->else_body);
				break;
			}
		case PLPGSQL_STMT_CASE:
			{
				PLpgSQL_stmt_case *s = (PLpgSQL_stmt_case *) stmt;

				foreach(lc, s->case_when_list)
					walk_stmts(walk, ((PLpgSQL_case_when *) lfirst(lc))->stmts);
				if (s->have_else)
					walk_stmts(walk, s->else_stmts);
				break;
			}
		case PLPGSQL_STMT_LOOP:
			walk_stmts(walk, ((PLpgSQL_stmt_loop *) stmt)->body);
			break;
		case PLPGSQL_STMT_WHILE:
			walk_stmts(walk, ((PLpgSQL_stmt_while *) stmt)->body);
			break;
		case PLPGSQL_STMT_FORI:
			walk_stmts(walk, ((PLpgSQL_stmt_fori *) stmt)->body);
			break;
		case PLPGSQL_STMT_FORS:
			emit_expr(walk, EMBEDDED_QUERY, stmt->lineno, ((PLpgSQL_stmt_fors *) stmt)->query);
			walk_stmts(walk, ((PLpgSQL_stmt_fors *) stmt)->body);
			break;
		case PLPGSQL_STMT_FORC:
			/* The cursor's query was emitted where it was declared. */
			walk_stmts(walk, ((PLpgSQL_stmt_forc *) stmt)->body);
			break;
		case PLPGSQL_STMT_DYNFORS:
			emit_expr(walk, EMBEDDED_DYNAMIC, stmt->lineno, ((PLpgSQL_stmt_dynfors *) stmt)->query);
			walk_stmts(walk, ((PLpgSQL_stmt_dynfors *) stmt)->body);
			break;
		case PLPGSQL_STMT_FOREACH_A:
			walk_stmts(walk, ((PLpgSQL_stmt_foreach_a *) stmt)->body);
			break;
		case PLPGSQL_STMT_EXECSQL:
			emit_expr(walk, EMBEDDED_SQL, stmt->lineno, ((PLpgSQL_stmt_execsql *) stmt)->sqlstmt);
			break;
		case PLPGSQL_STMT_CALL:
			/* CALL ... or a nested DO ...: both run as written. */
			emit_expr(walk, EMBEDDED_SQL, stmt->lineno, ((PLpgSQL_stmt_call *) stmt)->expr);
			break;
		case PLPGSQL_STMT_COMMIT:
			/* No text kept: PostgreSQL's own spelling of what runs. */
			emit_text(walk, EMBEDDED_SQL, stmt->lineno,
					  ((PLpgSQL_stmt_commit *) stmt)->chain ? "COMMIT AND CHAIN" : "COMMIT");
			break;
		case PLPGSQL_STMT_ROLLBACK:
			emit_text(walk, EMBEDDED_SQL, stmt->lineno,
					  ((PLpgSQL_stmt_rollback *) stmt)->chain ? "ROLLBACK AND CHAIN" : "ROLLBACK");
			break;
		case PLPGSQL_STMT_PERFORM:
			emit_expr(walk, EMBEDDED_PERFORM, stmt->lineno, ((PLpgSQL_stmt_perform *) stmt)->expr);
			break;
		case PLPGSQL_STMT_DYNEXECUTE:
			emit_expr(walk, EMBEDDED_DYNAMIC, stmt->lineno, ((PLpgSQL_stmt_dynexecute *) stmt)->query);
			break;
		case PLPGSQL_STMT_OPEN:
			{
				PLpgSQL_stmt_open *s = (PLpgSQL_stmt_open *) stmt;

				/* OPEN c FOR SELECT / OPEN c FOR EXECUTE; a bound cursor's query was declared. */
				emit_expr(walk, EMBEDDED_QUERY, stmt->lineno, s->query);
				emit_expr(walk, EMBEDDED_DYNAMIC, stmt->lineno, s->dynquery);
				break;
			}
		case PLPGSQL_STMT_RETURN_QUERY:
			{
				PLpgSQL_stmt_return_query *s = (PLpgSQL_stmt_return_query *) stmt;

				emit_expr(walk, EMBEDDED_QUERY, stmt->lineno, s->query);
				emit_expr(walk, EMBEDDED_DYNAMIC, stmt->lineno, s->dynquery);
				break;
			}
		default:
			/* Assignments, RAISE, RETURN, EXIT, FETCH, CLOSE, GET DIAGNOSTICS, ASSERT: expressions
			 * only, no statement of their own. */
			break;
	}
}

static void
walk_stmts(Walk *walk, List *stmts)
{
	ListCell   *lc;

	foreach(lc, stmts)
		walk_stmt(walk, (PLpgSQL_stmt *) lfirst(lc));
}

/* Returns 0 when the PL/pgSQL grammar accepts `body` (the text between a DO's dollar quotes), having
 * called `emit` once per embedded statement; else 1, with `message` (at most `message_len` bytes,
 * NUL-terminated) and `cursorpos` (1-based characters within `body`, 0 when unknown) set, and no
 * call of `emit`. */
int
migrate_safe_plpgsql_statements(const char *body, migrate_safe_plpgsql_emit emit, void *state,
								char *message, int message_len, int *cursorpos)
{
	MemoryContext ctx = pg_query_enter_memory_context();
	MemoryContext parse_context = CurrentMemoryContext;
	PLpgSQL_function *volatile func = NULL;
	int			rejected = 0;

	*cursorpos = 0;
	if (message_len > 0)
		message[0] = '\0';

	PG_TRY();
	{
		backslash_quote = BACKSLASH_QUOTE_SAFE_ENCODING;
		standard_conforming_strings = true;
		escape_string_warning = false;
		/* The compiler may scribble on its input; it gets a copy in the context freed below. */
		func = plpgsql_compile_inline(pstrdup(body));
	}
	PG_CATCH();
	{
		ErrorData  *error_data;

		MemoryContextSwitchTo(parse_context);
		error_data = CopyErrorData();
		if (message_len > 0)
		{
			strncpy(message, error_data->message ? error_data->message : "syntax error",
					message_len - 1);
			message[message_len - 1] = '\0';
		}
		/* PL/pgSQL reports positions in the body as the "internal" position. */
		*cursorpos = error_data->internalpos > 0 ? error_data->internalpos : error_data->cursorpos;
		rejected = 1;
		FlushErrorState();
		func = NULL;
	}
	PG_END_TRY();

	/* The compiler leaves pointers into the context freed below; drop them with it. */
	plpgsql_curr_compile = NULL;
	plpgsql_compile_tmp_cxt = NULL;
	plpgsql_error_funcname = NULL;

	if (!rejected && func != NULL && func->action != NULL)
	{
		Walk		walk = {emit, state, func};

		walk_stmt(&walk, (PLpgSQL_stmt *) func->action);
	}

	pg_query_exit_memory_context(ctx);
	return rejected;
}
