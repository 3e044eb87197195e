/* escape.c — terminal-safe and UTF-8-safe copies of untrusted text. */
#include "escape.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4) with its code point in
 * *cp, or 0 when the bytes at s do not start one. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0; /* also stops at the NUL */
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static bool needs_u_escape(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* The escaped form of the character at *p: written to piece, its length
 * returned, *p advanced. */
static size_t escape_one(const unsigned char **p, char piece[8])
{
	uint32_t cp;
	size_t n = utf8_seq(*p, &cp), plen;
	if (n == 0 || cp < 0x20 || cp == 0x7f) {
		plen = (size_t)snprintf(piece, 8, "\\x%02x", **p);
		n = 1;
	} else if (needs_u_escape(cp)) {
		plen = (size_t)snprintf(piece, 8, "\\u%04x", (unsigned)cp);
	} else {
		memcpy(piece, *p, n);
		plen = n;
	}
	*p += n;
	return plen;
}

size_t mp_escape_term(const char *s, char *out, size_t cap)
{
	if (!s)
		s = "(null)";
	const unsigned char *p = (const unsigned char *)s;
	char piece[8];
	size_t need = 0;
	while (*p)
		need += escape_one(&p, piece);
	if (cap == 0)
		return need;
	/* all of it when it fits, else whole pieces and "..." */
	size_t limit = need < cap ? need : (cap - 1 > 3 ? cap - 1 - 3 : 0);
	size_t w = 0;
	p = (const unsigned char *)s;
	while (*p) {
		size_t plen = escape_one(&p, piece);
		if (w + plen > limit)
			break;
		memcpy(out + w, piece, plen);
		w += plen;
	}
	if (need >= cap) {
		size_t dots = cap - 1 - w < 3 ? cap - 1 - w : 3;
		memcpy(out + w, "...", dots);
		w += dots;
	}
	out[w] = '\0';
	return need;
}

/* The JSON form of the character at *p when it must change, else 0:
 * written to piece, *p advanced. */
static size_t json_piece(const unsigned char **p, char piece[8])
{
	uint32_t cp;
	size_t n = utf8_seq(*p, &cp);
	if (n == 0) {
		*p += 1;
		return (size_t)snprintf(piece, 8, "\\\\x%02x", (*p)[-1]);
	}
	if (cp == 0x7f || needs_u_escape(cp)) {
		*p += n;
		return (size_t)snprintf(piece, 8, "\\u%04x", (unsigned)cp);
	}
	*p += n;
	return 0;
}

char *mp_escape_json_text(const char *json, bool *oom)
{
	const unsigned char *p = (const unsigned char *)json;
	char piece[8];
	size_t need = 1, changed = 0;
	*oom = false;
	while (*p) {
		const unsigned char *at = p;
		size_t k = json_piece(&p, piece);
		need += k ? k : (size_t)(p - at);
		changed += k != 0;
	}
	if (!changed)
		return NULL;
	char *out = malloc(need), *w = out;
	if (!out) {
		*oom = true;
		return NULL;
	}
	for (p = (const unsigned char *)json; *p;) {
		const unsigned char *at = p;
		size_t k = json_piece(&p, piece);
		memcpy(w, k ? piece : (const char *)at,
		       k ? k : (size_t)(p - at));
		w += k ? k : (size_t)(p - at);
	}
	*w = '\0';
	return out;
}

bool mp_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	while (*p) {
		size_t n = utf8_seq(p, &cp);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}
