/* mp.c — status texts, error formatting, small string helpers. */
#include "mp.h"
#include "escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mp_status_str(mp_status st)
{
	switch (st) {
#define MP_X_CASE(name, value, text)                                           \
	case name:                                                             \
		return text;
		MP_STATUS_LIST(MP_X_CASE)
#undef MP_X_CASE
	}
	return "unknown error";
}

mp_status mp_error_set(struct mp_error *err, mp_status st, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return st;
}

char *mp_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

char *mp_path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	while (a > 1 && dir[a - 1] == '/')
		a--;
	char *p = malloc(a + b + 2);
	if (!p)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

void mp_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

bool mp_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool mp_path_is_safe_relative(const char *p)
{
	if (!p || !*p || *p == '/')
		return false;
	for (const char *c = p; *c;) {
		size_t len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return false;
		c += len;
		if (*c == '/')
			c++;
	}
	return true;
}

const char *mp_printable(const char *s, char buf[MP_NAME_SHOW + 8])
{
	mp_escape_term(s, buf, MP_NAME_SHOW + 4);
	return buf;
}

int mp_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
