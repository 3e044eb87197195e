/* pickle.h — a restricted pickle reader: protocols 0 to 5 parsed into a
 * tree of values, nothing ever executed or imported. A global (GLOBAL,
 * STACK_GLOBAL) is only a name, accepted when the caller's allowlist has
 * it ("module.name") and refused otherwise with an error naming it; a
 * call of an accepted global (REDUCE, NEWOBJ) becomes a CALL node for
 * the caller to interpret (SETITEMS and APPENDS on it fill its items, as
 * for an OrderedDict). INST, OBJ, the extension registry and
 * out-of-band buffers are refused; BUILD is accepted only on a CALL node.
 * Stack, memo, nesting and sizes are bounded. Values shared through the
 * memo are reference counted: mp_pk_free each root once. */
#ifndef MP_PICKLE_H
#define MP_PICKLE_H

#include "mp.h"

#include <stddef.h>
#include <stdint.h>

enum mp_pk_kind {
	MP_PK_NONE,
	MP_PK_BOOL,
	MP_PK_INT,   /* fits int64 (a longer LONG is an error) */
	MP_PK_FLOAT,
	MP_PK_STR,   /* UTF-8 as stored, s[len] == 0 */
	MP_PK_BYTES,
	MP_PK_TUPLE, /* items[0..n) */
	MP_PK_LIST,
	MP_PK_SET,
	MP_PK_DICT,   /* items[2k] key, items[2k+1] value, k < n / 2 */
	MP_PK_GLOBAL, /* s = "module.name", from the allowlist */
	MP_PK_CALL,   /* fn (a GLOBAL) applied to args (a TUPLE); state
		       * set by BUILD (or NULL) */
	MP_PK_PERSID, /* a persistent id: args is its value */
};

struct mp_pk {
	enum mp_pk_kind kind;
	int refs; /* private */
	int64_t i; /* INT, BOOL */
	double f;
	char *s; /* STR, BYTES, GLOBAL */
	size_t len;
	struct mp_pk **items;
	size_t n, cap;
	struct mp_pk *fn, *args, *state;
};

/* Bounds of one parse. */
#define MP_PK_MAX_DEPTH 256	      /* nested containers */
#define MP_PK_MAX_STACK 1000000       /* values on the stack */
#define MP_PK_MAX_MEMO 1000000	      /* memo slots */
#define MP_PK_MAX_ITEMS 100000000     /* items in all containers */

/* Parse data[0..len) (where names it in errors) with the globals of
 * allowed (NULL-terminated "module.name" strings) into *out. Errors:
 * MP_EPERM naming a refused global or opcode, MP_ETRUNC, MP_EFORMAT (an
 * unknown opcode, a stack or memo out of order, bounds exceeded), out of
 * memory. */
mp_status mp_pickle_parse(const uint8_t *data, size_t len, const char *where,
			  const char *const *allowed, struct mp_pk **out,
			  struct mp_error *err);
/* As mp_pickle_parse for a pickle followed by other bytes (the legacy
 * torch.save format is several pickles then raw data): parsing ends at
 * STOP and *used (when not NULL) is the bytes up to and including it. */
mp_status mp_pickle_parse_prefix(const uint8_t *data, size_t len,
				 const char *where,
				 const char *const *allowed,
				 struct mp_pk **out, size_t *used,
				 struct mp_error *err);
void mp_pk_free(struct mp_pk *v);

/* Dict lookup by string key; NULL when absent or v is no dict. */
const struct mp_pk *mp_pk_get(const struct mp_pk *v, const char *key);

#endif
