/* json.h — the project's JSON layer; the only includer of cJSON.h. A
 * mp_json value owns its children; the root is freed with mp_json_free.
 * Numbers are written with full double precision in the C locale. */
#ifndef MP_JSON_H
#define MP_JSON_H

#include "mp.h"

typedef struct cJSON mp_json;

/* Parse text; on failure err names `where` and the byte offset. An object
 * holding a key twice is an error naming the key and the object's path
 * (runtimes disagree on which of the two wins). */
mp_status mp_json_parse(const char *text, size_t len, const char *where,
			mp_json **out, struct mp_error *err);
/* Parse text alone, found at byte base of a file: the value of member key
 * of the file's top-level object, or the key itself (key NULL). Errors are
 * as mp_json_parse's, with offsets in the file and paths from its top
 * level; anything but white space after the value is an error. Lets a
 * reader hold one member's tree at a time. */
mp_status mp_json_parse_member(const char *text, size_t len, size_t base,
			       const char *key, const char *where,
			       mp_json **out, struct mp_error *err);
/* Read and parse a file of at most max_bytes. */
mp_status mp_json_load(const char *path, uint64_t max_bytes, mp_json **out,
		       struct mp_error *err);
void mp_json_free(mp_json *j);

/* Access (all accept NULL and then return NULL/false/0). */
mp_json *mp_json_get(const mp_json *obj, const char *key);
bool mp_json_is_object(const mp_json *j);
bool mp_json_is_array(const mp_json *j);
bool mp_json_is_string(const mp_json *j);
bool mp_json_is_number(const mp_json *j);
bool mp_json_is_bool(const mp_json *j);
bool mp_json_is_null(const mp_json *j);
size_t mp_json_size(const mp_json *arr);            /* array/object length */
mp_json *mp_json_at(const mp_json *arr, size_t i);  /* i-th element */
const char *mp_json_key(const mp_json *member);     /* key of object member */
const char *mp_json_str(const mp_json *j);          /* NULL if not string */
double mp_json_num(const mp_json *j);               /* NAN if not number */
bool mp_json_true(const mp_json *j);
/* Iterate: for (mp_json *c = mp_json_child(o); c; c = mp_json_next(c)) */
mp_json *mp_json_child(const mp_json *j);
mp_json *mp_json_next(const mp_json *j);
/* A non-negative integer that fits exactly in a double (< 2^53). */
bool mp_json_uint(const mp_json *j, uint64_t *out);

/* Build (return NULL on allocation failure; add functions return the
 * added child or NULL). */
mp_json *mp_json_object(void);
mp_json *mp_json_array(void);
mp_json *mp_json_add_obj(mp_json *obj, const char *key);
mp_json *mp_json_add_arr(mp_json *obj, const char *key);
mp_json *mp_json_add_str(mp_json *obj, const char *key, const char *s);
/* Non-finite numbers are written as null. */
mp_json *mp_json_add_num(mp_json *obj, const char *key, double v);
mp_json *mp_json_add_bool(mp_json *obj, const char *key, bool v);
mp_json *mp_json_add_null(mp_json *obj, const char *key);
/* Append to an array; mp_json_push takes ownership of item. */
bool mp_json_push(mp_json *arr, mp_json *item);
mp_json *mp_json_push_num(mp_json *arr, double v);
mp_json *mp_json_push_str(mp_json *arr, const char *s);
mp_json *mp_json_push_null(mp_json *arr);
mp_json *mp_json_push_bool(mp_json *arr, bool v);
/* Attach item under key (takes ownership). */
bool mp_json_set(mp_json *obj, const char *key, mp_json *item);
mp_json *mp_json_dup(const mp_json *j);
/* Same type and value (objects: the same keys with equal values, in any
 * order; numbers within a relative double epsilon). NULL equals only NULL. */
bool mp_json_equal(const mp_json *a, const mp_json *b);

/* Serialise (pretty or compact); caller frees with free(). The text is
 * valid UTF-8 whatever the strings hold, and has no raw C1 control or
 * bidi override (mp_escape_json_text). */
char *mp_json_print(const mp_json *j, bool pretty);

/* The text of a finite number as mp_json_print writes it: the shortest of
 * %.15g..%.17g (C locale) that reads back to the same double. */
#define MP_JSON_NUMBER_MAX 40
void mp_json_number_text(double v, char buf[MP_JSON_NUMBER_MAX]);

#endif
