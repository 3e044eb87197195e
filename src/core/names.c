/* names.c — index of records by name (a stable merge sort of positions). */
#include "names.h"

#include <stdlib.h>
#include <string.h>

static const char *name_at(const struct mp_names *r, size_t i)
{
	const char *rec = (const char *)r->base + i * r->stride;
	const char *name;
	memcpy(&name, rec + r->off, sizeof name);
	return name;
}

size_t *mp_names_index(const struct mp_names *r)
{
	size_t n = r->n;
	if (n == 0)
		return NULL;
	size_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	if (!a || !b) {
		free(a);
		free(b);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	/* bottom-up merge sort: stable, so ties stay in position order */
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				b[k++] = strcmp(name_at(r, a[i]),
						name_at(r, a[j])) <= 0
					     ? a[i++]
					     : a[j++];
			while (i < mid)
				b[k++] = a[i++];
			while (j < hi)
				b[k++] = a[j++];
		}
		size_t *t = a;
		a = b;
		b = t;
	}
	free(b);
	return a;
}

long mp_names_find(const struct mp_names *r, const size_t *index,
		   const char *name)
{
	if (!index) {
		for (size_t i = 0; i < r->n; i++)
			if (strcmp(name_at(r, i), name) == 0)
				return (long)i;
		return -1;
	}
	size_t lo = 0, hi = r->n; /* first entry with name >= key */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(name_at(r, index[mid]), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < r->n && strcmp(name_at(r, index[lo]), name) == 0)
		return (long)index[lo];
	return -1;
}

bool mp_names_repeat(const struct mp_names *r, const size_t *index,
		     size_t *first, size_t *again)
{
	bool found = false;
	size_t run = 0; /* where the run of the current name starts */
	for (size_t k = 1; k < r->n; k++) {
		if (strcmp(name_at(r, index[k - 1]), name_at(r, index[k]))) {
			run = k;
			continue;
		}
		/* a run is in position order: index[run] is its first */
		if (!found || index[k] < *again) {
			*first = index[run];
			*again = index[k];
			found = true;
		}
	}
	return found;
}
