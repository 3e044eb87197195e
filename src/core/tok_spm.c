/* tok_spm.c — BPE merging of one word (shared by both tokenizers) and the
 * SentencePiece-style encoder. The word is split into UTF-8 characters;
 * every adjacent pair whose concatenation is a token is a candidate; the
 * best candidate (highest score of the merged token, or lowest merge rank
 * of the pair; the leftmost on a tie) is merged, and its new neighbours
 * become candidates, until none is left. Symbols that are not tokens fall
 * back to their bytes (<0xXX> tokens) or the unknown token. */
#include "tok_int.h"

#include <stdlib.h>
#include <string.h>

struct sym {
	size_t start, len;
	ptrdiff_t prev, next;
};

struct cand {
	double prio; /* higher first */
	size_t left, right, len;
};

struct heap {
	struct cand *v;
	size_t n, cap;
};

static bool before(const struct cand *a, const struct cand *b)
{
	return a->prio > b->prio || (a->prio == b->prio && a->left < b->left);
}

static bool heap_push(struct heap *h, struct cand c)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		struct cand *v = realloc(h->v, cap * sizeof *v);
		if (!v)
			return false;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0 && before(&c, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = c;
	return true;
}

static struct cand heap_pop(struct heap *h)
{
	struct cand top = h->v[0], last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

struct word {
	const struct mp_tokenizer *t;
	const char *s;
	struct sym *sym;
	struct heap h;
	char *key; /* scratch for "left right" */
	bool by_rank;
};

static bool try_pair(struct word *w, ptrdiff_t l, ptrdiff_t r)
{
	if (l < 0 || r < 0)
		return true;
	const struct sym *a = &w->sym[l], *b = &w->sym[r];
	size_t len = a->len + b->len;
	int32_t id = mp_tok_map_get(&w->t->ids, w->s + a->start, len);
	if (id < 0)
		return true;
	double prio;
	if (w->by_rank) {
		memcpy(w->key, w->s + a->start, a->len);
		w->key[a->len] = ' ';
		memcpy(w->key + a->len + 1, w->s + b->start, b->len);
		int32_t rank = mp_tok_map_get(&w->t->ranks, w->key, len + 1);
		if (rank < 0)
			return true;
		prio = -(double)rank;
	} else {
		prio = w->t->score ? w->t->score[id] : 0;
	}
	return heap_push(&w->h, (struct cand){prio, (size_t)l, (size_t)r, len});
}

/* A symbol that is not a token: its bytes, else its characters, else the
 * unknown token. */
static mp_status fallback(const struct mp_tokenizer *t, const char *s,
			  size_t len, struct tok_ids *o, struct mp_error *err)
{
	for (size_t i = 0, cl; i < len; i += cl) {
		mp_tok_utf8(s + i, len - i, &cl);
		bool bytes = true;
		for (size_t k = 0; k < cl; k++)
			bytes = bytes && t->byte_tok[(uint8_t)s[i + k]] >= 0;
		bool ok = true;
		if (bytes) {
			for (size_t k = 0; k < cl; k++)
				ok = ok &&
				     mp_tok_push(
					 o, t->byte_tok[(uint8_t)s[i + k]]);
		} else {
			int32_t id = mp_tok_map_get(&t->ids, s + i, cl);
			if (id < 0)
				id = t->unk;
			if (id < 0)
				return mp_error_set(
				    err, MP_EINVAL,
				    "the text holds a character "
				    "the tokenizer cannot encode "
				    "(no byte or unknown token)");
			ok = mp_tok_push(o, id);
		}
		if (!ok)
			return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	return MP_OK;
}

mp_status mp_tok_merge(const struct mp_tokenizer *t, const char *s, size_t len,
		       bool by_rank, struct tok_ids *o, struct mp_error *err)
{
	struct word w = {t, s, NULL, {0}, NULL, by_rank};
	size_t n = 0;
	mp_status st = MP_OK;
	w.sym = malloc((len ? len : 1) * sizeof *w.sym);
	w.key = malloc(len + 2);
	if (!w.sym || !w.key)
		goto oom;
	for (size_t i = 0; i < len; n++) {
		size_t cl;
		mp_tok_utf8(s + i, len - i, &cl);
		w.sym[n] =
		    (struct sym){i, cl, (ptrdiff_t)n - 1, (ptrdiff_t)n + 1};
		i += cl;
	}
	if (n)
		w.sym[n - 1].next = -1;
	for (size_t i = 1; i < n; i++)
		if (!try_pair(&w, (ptrdiff_t)i - 1, (ptrdiff_t)i))
			goto oom;
	while (w.h.n) {
		struct cand c = heap_pop(&w.h);
		struct sym *a = &w.sym[c.left], *b = &w.sym[c.right];
		if (!a->len || !b->len || a->len + b->len != c.len)
			continue;
		a->len += b->len;
		b->len = 0;
		a->next = b->next;
		if (b->next >= 0)
			w.sym[b->next].prev = (ptrdiff_t)c.left;
		if (!try_pair(&w, a->prev, (ptrdiff_t)c.left) ||
		    !try_pair(&w, (ptrdiff_t)c.left, a->next))
			goto oom;
	}
	for (ptrdiff_t i = n ? 0 : -1; i >= 0 && st == MP_OK;
	     i = w.sym[i].next) {
		int32_t id =
		    mp_tok_map_get(&t->ids, s + w.sym[i].start, w.sym[i].len);
		if (id >= 0)
			st = mp_tok_push(o, id) ? MP_OK
						: mp_error_set(err, MP_ENOMEM,
							       "out of memory");
		else
			st = fallback(t, s + w.sym[i].start, w.sym[i].len, o,
				      err);
	}
	free(w.sym);
	free(w.key);
	free(w.h.v);
	return st;
oom:
	free(w.sym);
	free(w.key);
	free(w.h.v);
	return mp_error_set(err, MP_ENOMEM, "out of memory");
}

mp_status mp_tok_spm_encode(const struct mp_tokenizer *t, const char *text,
			    size_t len, struct tok_ids *o, struct mp_error *err)
{
	static const char mark[] = "\xe2\x96\x81"; /* U+2581 ▁ */
	size_t spaces = t->space_prefix ? 1 : 0;
	for (size_t i = 0; i < len; i++)
		spaces += text[i] == ' ';
	if (spaces > (SIZE_MAX - len) / 2)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	char *s = malloc(len + 2 * spaces + 1);
	if (!s)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	size_t k = 0;
	if (t->space_prefix) {
		memcpy(s, mark, 3);
		k = 3;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(s + k, mark, 3);
			k += 3;
		} else {
			s[k++] = text[i];
		}
	}
	mp_status st = mp_tok_merge(t, s, k, t->by_rank, o, err);
	free(s);
	return st;
}
