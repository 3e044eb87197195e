/* tok_bpe.c — byte-level BPE: the text is cut into words by the
 * pre-tokenizer of GPT-2, LLaMA-3 or Qwen2 (hand-written matchers of their
 * regular expressions, below), each word's bytes are mapped to characters
 * by GPT-2's byte-to-unicode table, and merged by merge rank. */
#include "tok_int.h"

#include <stdlib.h>
#include <string.h>

struct cps {
	const uint32_t *c; /* code points */
	size_t n;
};

static bool is_l(const struct cps *p, size_t i)
{
	return i < p->n && mp_tok_is_letter(p->c[i]);
}
static bool is_n(const struct cps *p, size_t i)
{
	return i < p->n && mp_tok_is_number(p->c[i]);
}
static bool is_s(const struct cps *p, size_t i)
{
	return i < p->n && mp_tok_is_space(p->c[i]);
}
/* [^\s\p{L}\p{N}] */
static bool is_o(const struct cps *p, size_t i)
{
	return i < p->n && !is_l(p, i) && !is_n(p, i) && !is_s(p, i);
}
static bool is_crlf(const struct cps *p, size_t i)
{
	return i < p->n && (p->c[i] == '\r' || p->c[i] == '\n');
}
static uint32_t lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's|'t|'re|'ve|'m|'ll|'d (ASCII letters, any case when icase): the
 * length matched at i, or 0. */
static size_t contraction(const struct cps *p, size_t i, bool icase)
{
	if (p->c[i] != '\'' || i + 1 >= p->n)
		return 0;
	uint32_t a = p->c[i + 1], b = i + 2 < p->n ? p->c[i + 2] : 0;
	if (icase) {
		a = lower(a);
		b = lower(b);
	}
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return 2;
	if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') ||
	    (a == 'l' && b == 'l'))
		return 3;
	return 0;
}

/* \s+(?!\S)|\s+ at i (a space): the end of the match. */
static size_t spaces(const struct cps *p, size_t i)
{
	size_t k = i;
	while (is_s(p, k))
		k++;
	if (k < p->n && k - i >= 2)
		return k - 1;
	return k;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|
 * \s+(?!\S)|\s+ — the end of the word starting at i. */
static size_t word_gpt2(const struct cps *p, size_t i)
{
	size_t k = contraction(p, i, false);
	if (k)
		return i + k;
	size_t j = i + (p->c[i] == ' ');
	if (is_l(p, j)) {
		while (is_l(p, j))
			j++;
		return j;
	}
	if (is_n(p, j)) {
		while (is_n(p, j))
			j++;
		return j;
	}
	if (is_o(p, j)) {
		while (is_o(p, j))
			j++;
		return j;
	}
	if (is_s(p, i))
		return spaces(p, i);
	return i + 1;
}

/* LLaMA-3 (digits 3) and Qwen2 (digits 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,digits}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static size_t word_llama3(const struct cps *p, size_t i, size_t digits)
{
	size_t k = contraction(p, i, true);
	if (k)
		return i + k;
	size_t j = i;
	if (!is_crlf(p, j) && !is_l(p, j) && !is_n(p, j) && is_l(p, j + 1))
		j++;
	if (is_l(p, j)) {
		while (is_l(p, j))
			j++;
		return j;
	}
	if (is_n(p, i)) {
		j = i;
		while (j - i < digits && is_n(p, j))
			j++;
		return j;
	}
	j = i + (p->c[i] == ' ');
	if (is_o(p, j)) {
		while (is_o(p, j))
			j++;
		while (is_crlf(p, j))
			j++;
		return j;
	}
	if (is_s(p, i)) {
		size_t end = 0;
		for (j = i; is_s(p, j); j++)
			if (is_crlf(p, j))
				end = j + 1;
		return end ? end : spaces(p, i);
	}
	return i + 1;
}

/* GPT-2's byte-to-unicode map: printable Latin-1 bytes stand for
 * themselves, the others for U+0100 onwards in byte order; as UTF-8. */
static void byte_map(char map[256][3])
{
	unsigned next = 256;
	for (unsigned b = 0; b < 256; b++) {
		bool self = (b >= '!' && b <= '~') ||
			    (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
		unsigned cp = self ? b : next++;
		if (cp < 0x80) {
			map[b][0] = (char)cp;
			map[b][1] = 0;
		} else {
			map[b][0] = (char)(0xC0 | cp >> 6);
			map[b][1] = (char)(0x80 | (cp & 0x3F));
			map[b][2] = 0;
		}
	}
}

static mp_status word(const struct mp_tokenizer *t, const char *w, size_t len,
		      char (*map)[3], char *buf, struct tok_ids *o,
		      struct mp_error *err)
{
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		const char *m = map[(uint8_t)w[i]];
		size_t ml = m[1] ? 2 : 1;
		memcpy(buf + k, m, ml);
		k += ml;
	}
	if (t->ignore_merges) {
		int32_t id = mp_tok_map_get(&t->ids, buf, k);
		if (id >= 0)
			return mp_tok_push(o, id)
				   ? MP_OK
				   : mp_error_set(err, MP_ENOMEM,
						  "out of memory");
	}
	return mp_tok_merge(t, buf, k, true, o, err);
}

mp_status mp_tok_bpe_encode(const struct mp_tokenizer *t, const char *text,
			    size_t len, struct tok_ids *o, struct mp_error *err)
{
	char map[256][3];
	byte_map(map);
	bool prefix = t->space_prefix && text[0] != ' ';
	size_t n = len + prefix;
	char *s = malloc(n + 1);
	uint32_t *cp = malloc(n * sizeof *cp);
	size_t *off = malloc((n + 1) * sizeof *off);
	char *buf = malloc(2 * n + 1);
	mp_status st = MP_OK;
	if (!s || !cp || !off || !buf) {
		st = mp_error_set(err, MP_ENOMEM, "out of memory");
		goto out;
	}
	if (prefix)
		s[0] = ' ';
	memcpy(s + prefix, text, len);
	size_t nc = 0;
	for (size_t i = 0, cl; i < n; i += cl, nc++) {
		cp[nc] = mp_tok_utf8(s + i, n - i, &cl);
		off[nc] = i;
	}
	off[nc] = n;
	struct cps p = {cp, nc};
	for (size_t i = 0; i < nc && st == MP_OK;) {
		size_t e = t->pre == PRE_GPT2	 ? word_gpt2(&p, i)
			   : t->pre == PRE_QWEN2 ? word_llama3(&p, i, 1)
						 : word_llama3(&p, i, 3);
		st = word(t, s + off[i], off[e] - off[i], map, buf, o, err);
		i = e;
	}
out:
	free(s);
	free(cp);
	free(off);
	free(buf);
	return st;
}
