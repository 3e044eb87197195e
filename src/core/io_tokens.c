/* io_tokens.c — the probe and target lists of the input_output method
 * (io_tokens.h). */
#include "io_tokens.h"

#include "fingerprint.h"
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mp_io_list_free(struct mp_io_list *l)
{
	free(l->ids);
	free(l->off);
	*l = (struct mp_io_list){0};
}

/* "#123": a raw id (>= 0) into *id. */
static bool raw_id(const char *s, size_t n, int64_t *id)
{
	if (n < 2 || s[0] != '#')
		return false;
	int64_t v = 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 100000000)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return true;
}

struct line {
	const char *s;
	size_t n, no; /* text, length, line number in the file (from 1) */
};

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = *(const struct line *const *)a;
	const struct line *y = *(const struct line *const *)b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = memcmp(x->s, y->s, n);
	if (c)
		return c;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return x < y ? -1 : x > y; /* first occurrence first */
}

static mp_status push(struct mp_io_list *l, const int32_t *ids, size_t n,
		      size_t *cap, struct mp_error *err, const char *path)
{
	size_t have = l->off[l->n];
	if (have + n > *cap) {
		size_t c = (*cap ? *cap * 2 : 256) + n;
		int32_t *p = realloc(l->ids, c * sizeof *p);
		if (!p)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    path);
		l->ids = p;
		*cap = c;
	}
	memcpy(l->ids + have, ids, n * sizeof *ids);
	l->off[++l->n] = have + n;
	return MP_OK;
}

mp_status mp_io_list_read(const char *path, const struct mp_tokenizer *tok,
			  size_t vocab, struct mp_io_list *out,
			  struct mp_error *err)
{
	*out = (struct mp_io_list){0};
	struct mp_file f;
	mp_status st = mp_file_open(&f, path, err);
	if (st)
		return st;
	if ((st = mp_fp_hash_file(&f, out->sha256, err))) {
		mp_file_close(&f);
		return st;
	}
	/* the lines, then the first occurrence of each */
	size_t nl = 0;
	for (uint64_t i = 0; i < f.size; i++)
		nl += f.data[i] == '\n';
	struct line *lines = calloc(nl + 1, sizeof *lines);
	bool *dup = calloc(nl + 1, sizeof *dup);
	out->off = calloc(nl + 2, sizeof *out->off);
	if (!lines || !dup || !out->off) {
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	nl = 0;
	size_t no = 0;
	for (uint64_t i = 0; i < f.size;) {
		const char *s = (const char *)f.data + i;
		const char *e = memchr(s, '\n', (size_t)(f.size - i));
		size_t n = e ? (size_t)(e - s) : (size_t)(f.size - i);
		i += n + (e != NULL);
		no++;
		if (n && s[n - 1] == '\r')
			n--;
		if (n)
			lines[nl++] = (struct line){s, n, no};
	}
	/* pointers into lines sorted by text, equal texts in file order:
	 * every later occurrence is a duplicate */
	const struct line **ptr = malloc((nl + 1) * sizeof *ptr);
	if (!ptr) {
		st = mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	for (size_t i = 0; i < nl; i++)
		ptr[i] = &lines[i];
	qsort(ptr, nl, sizeof *ptr, cmp_line);
	for (size_t i = 1; i < nl; i++)
		if (ptr[i]->n == ptr[i - 1]->n &&
		    !memcmp(ptr[i]->s, ptr[i - 1]->s, ptr[i]->n))
			dup[ptr[i] - lines] = true;
	free(ptr);
	size_t cap = 0;
	for (size_t i = 0; i < nl && st == MP_OK; i++) {
		if (dup[i]) {
			out->duplicates++;
			continue;
		}
		int64_t id;
		int32_t *ids = NULL, one;
		size_t n = 0;
		if (raw_id(lines[i].s, lines[i].n, &id)) {
			one = (int32_t)id;
			ids = &one;
			n = id < (int64_t)vocab;
		} else if (!tok) {
			st = mp_error_set(err, MP_EINVAL,
					  "%s: line %zu is text, and the model "
					  "has no tokenizer: write raw ids as "
					  "#123",
					  path, lines[i].no);
			break;
		} else {
			char *text = malloc(lines[i].n + 1);
			if (!text) {
				st = mp_error_set(err, MP_ENOMEM,
						  "%s: out of memory", path);
				break;
			}
			memcpy(text, lines[i].s, lines[i].n);
			text[lines[i].n] = 0;
			st = mp_tokenizer_encode(tok, text, lines[i].n, false,
						 &ids, &n, err);
			free(text);
			if (st == MP_EINVAL) { /* a character it cannot encode */
				st = MP_OK;
				out->unencodable++;
				free(ids);
				ids = NULL;
				n = 0;
			}
			if (st)
				break;
			size_t k = 0; /* ids outside the vocabulary dropped */
			for (size_t j = 0; j < n; j++)
				if (ids[j] >= 0 && (size_t)ids[j] < vocab)
					ids[k++] = ids[j];
			n = k;
		}
		if (n)
			st = push(out, ids, n, &cap, err, path);
		else
			out->skipped++;
		if (ids != &one)
			free(ids);
	}
done:
	free(lines);
	free(dup);
	mp_file_close(&f);
	if (st)
		mp_io_list_free(out);
	return st;
}
