/*
 * load/statements.h: the SQL of a batch (load/statements.c), for src/load.c.
 * Every string is constant, made at compile time.
 */
#ifndef RO_LOAD_STATEMENTS_H
#define RO_LOAD_STATEMENTS_H

#include <stddef.h>

/* the session's scratch tables (temporary, emptied at each COMMIT) */
extern const char stage_sql[];
/* COPY ... FROM STDIN into stage_raw and stage_ev */
extern const char copy_raw_sql[];
extern const char copy_ev_sql[];
/* the upserts, in order: n_upserts of them. A part between the markers
 * " / *dedup* /" and "/ * * /" (without the spaces) is left out where the
 * batch holds no key twice (src/load.c, script()). */
extern const char *const upserts[];
extern const size_t n_upserts;
/* after them: the batch's inserted and updated counts, then the records not
 * kept or replaced */
extern const char count_sql[];
extern const char not_kept_sql[];

#endif
