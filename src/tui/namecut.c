/* namecut.c — names cut in the middle to fit a column. */
#include "namecut.h"

#include <string.h>

static bool cont(unsigned char b)
{
	return (b & 0xc0) == 0x80;
}

/* Length in bytes of the code point at s (at least 1). */
static size_t cp_len(const char *s)
{
	size_t n = 1;
	if ((unsigned char)s[0] >= 0xc0)
		while (n < 4 && s[n] && cont((unsigned char)s[n]))
			n++;
	return n;
}

int mp_tui_text_width(const char *s)
{
	int w = 0;
	for (size_t i = 0; s[i]; i += cp_len(s + i))
		w++;
	return w;
}

/* Byte offset after the first k code points of s. */
static size_t skip(const char *s, int k)
{
	size_t i = 0;
	for (; s[i] && k > 0; k--)
		i += cp_len(s + i);
	return i;
}

/* Append n bytes of src to buf (used bytes *at, capacity size). */
static void add(char *buf, size_t size, size_t *at, const char *src,
		size_t n)
{
	if (*at + n >= size)
		n = size - 1 - *at;
	memcpy(buf + *at, src, n);
	*at += n;
	buf[*at] = '\0';
}

char *mp_tui_cut_middle(const char *s, int w, bool unicode, char *buf,
			size_t size)
{
	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (w < 0)
		w = 0;
	int len = mp_tui_text_width(s);
	size_t at = 0;
	const char *dots = unicode ? "\xe2\x80\xa6" : "...";
	int dw = unicode ? 1 : 3;
	if (len <= w) {
		add(buf, size, &at, s, strlen(s));
	} else if (w <= dw) {
		add(buf, size, &at, s, skip(s, w));
	} else {
		int keep = w - dw, head = (keep + 1) / 2, tail = keep - head;
		add(buf, size, &at, s, skip(s, head));
		add(buf, size, &at, dots, strlen(dots));
		size_t t = skip(s, len - tail);
		add(buf, size, &at, s + t, strlen(s + t));
	}
	return buf;
}
