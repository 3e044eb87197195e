/* json_write.h — JSON written as it is produced, without a tree: a writer
 * emits the same text as building the tree with json.h and printing it with
 * mp_json_print (pretty or compact), byte for byte, so a fingerprint of
 * millions of tensors is written in constant memory. A writer may instead
 * build a tree (mp_jw_tree_new), so one serialiser serves both. The writer
 * owns its stack and scratch buffer; the FILE and a finished tree belong to
 * the caller. */
#ifndef MP_JSON_WRITE_H
#define MP_JSON_WRITE_H

#include "json.h"

#include <stdio.h>

struct mp_jw;

/* A writer of text to f (pretty: as mp_json_print(j, true)). NULL when out
 * of memory. */
struct mp_jw *mp_jw_new(FILE *f, bool pretty);
/* A writer that builds a tree instead; take it with mp_jw_take_tree. */
struct mp_jw *mp_jw_tree_new(void);

/* Values. key names the member inside an object and must be NULL inside an
 * array or for the top-level value. Non-finite numbers are written as null.
 * Errors (allocation, nesting deeper than 64, a write error) are remembered
 * and reported by mp_jw_failed / mp_jw_free. */
void mp_jw_obj(struct mp_jw *w, const char *key); /* begin an object */
void mp_jw_arr(struct mp_jw *w, const char *key); /* begin an array */
void mp_jw_end(struct mp_jw *w);		  /* end the innermost one */
void mp_jw_str(struct mp_jw *w, const char *key, const char *s);
void mp_jw_num(struct mp_jw *w, const char *key, double v);
void mp_jw_bool(struct mp_jw *w, const char *key, bool v);
/* A copy of the tree j (NULL writes an empty object). */
void mp_jw_value(struct mp_jw *w, const char *key, const mp_json *j);

/* Mark the writer failed (a caller's allocation failed). */
void mp_jw_fail(struct mp_jw *w);
/* True once anything failed. */
bool mp_jw_failed(const struct mp_jw *w);
/* The finished tree of a tree writer (NULL on failure); the writer keeps
 * nothing. */
mp_json *mp_jw_take_tree(struct mp_jw *w);
/* Free the writer (NULL allowed); false when anything failed, including
 * ferror on its FILE. Does not close the FILE. */
bool mp_jw_free(struct mp_jw *w);

#endif
