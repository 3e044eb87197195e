/* names.h — an index by name over an array of records that each hold a
 * `const char *` name at a fixed offset: tensors of a model, tensors of a
 * fingerprint. Built once in O(n log n), looked up in O(log n), and it shows
 * repeated names. The index is a malloc'd array the caller frees; it
 * borrows the records and is stale once the array changes. */
#ifndef MP_NAMES_H
#define MP_NAMES_H

#include "mp.h"

/* The records: n of them, stride bytes apart from base, the name pointer
 * at byte offset off of each. */
struct mp_names {
	const void *base;
	size_t n, stride, off;
};

/* Record positions 0..n-1 sorted by (name, position); NULL when out of
 * memory or n == 0. */
size_t *mp_names_index(const struct mp_names *r);

/* Position of the first record named name, or -1; index from
 * mp_names_index (NULL: linear scan). */
long mp_names_find(const struct mp_names *r, const size_t *index,
		   const char *name);

/* The first repeated name in record order: true with *first < *again the
 * positions of its earliest two records (the pair whose second record comes
 * first), false when all names differ. */
bool mp_names_repeat(const struct mp_names *r, const size_t *index,
		     size_t *first, size_t *again);

#endif
