/* simmatrix_read.c — a streaming reader of similarity-matrices files: a
 * small JSON scanner over the mapped file that converts the numbers of one
 * matrix straight into its value array, without a tree of nodes. */
#include "reader.h"
#include "simmatrix.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256
#define MAX_NUMBER 400

struct scan {
	const char *p, *start, *end;
	const char *path;
	int depth;
	struct mp_error *err;
	mp_status st;   /* first error, MP_OK while fine */
	locale_t c_loc; /* for strtod_l; (locale_t)0 when not converting */
	const struct mp_file *map;
	uint64_t released; /* pages before this offset were given back */
};

#define RELEASE_EVERY (16u << 20)

/* Give back the mapped pages already read (called between values): the
 * scan of a 2,000-model file would otherwise keep all of it resident. */
static void done_with(struct scan *s)
{
	uint64_t at = (uint64_t)(s->p - s->start);
	if (at - s->released >= RELEASE_EVERY) {
		mp_file_release(s->map, s->released, at - s->released);
		s->released = at - at % 4096;
	}
}

static bool syntax(struct scan *s)
{
	if (s->st == MP_OK)
		s->st = mp_error_set(s->err, MP_EJSON,
				     "%s: invalid JSON near byte %zu", s->path,
				     (size_t)(s->p - s->start));
	return false;
}

static void ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
				 *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

/* Consume c after white space; false (no error) when it is not there. */
static bool eat(struct scan *s, char c)
{
	ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static bool hex4(struct scan *s, unsigned *out)
{
	if (s->end - s->p < 4)
		return false;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = mp_hex_digit(s->p[i]);
		if (h < 0)
			return false;
		v = v * 16 + (unsigned)h;
	}
	s->p += 4;
	*out = v;
	return true;
}

static char *put_utf8(char *o, unsigned c)
{
	if (c < 0x80) {
		*o++ = (char)c;
	} else if (c < 0x800) {
		*o++ = (char)(0xc0 | (c >> 6));
		*o++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*o++ = (char)(0xe0 | (c >> 12));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*o++ = (char)(0x80 | (c & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (c >> 18));
		*o++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*o++ = (char)(0x80 | (c & 0x3f));
	}
	return o;
}

/* A string at s->p (after white space); its decoded copy in *out when out
 * is not NULL (caller frees). The decoded text is never longer than the
 * escaped one. */
static bool string(struct scan *s, char **out)
{
	if (!eat(s, '"'))
		return syntax(s);
	const char *q = s->p;
	bool plain = true;
	while (s->p < s->end && *s->p != '"') {
		unsigned char c = (unsigned char)*s->p;
		if (c < 0x20)
			return syntax(s);
		if (c == '\\') {
			plain = false;
			s->p++;
			if (s->p >= s->end)
				return syntax(s);
			if (*s->p == 'u') {
				unsigned u;
				s->p++;
				if (!hex4(s, &u))
					return syntax(s);
				continue;
			}
			if (!strchr("\"\\/bfnrt", *s->p) || !*s->p)
				return syntax(s);
		}
		s->p++;
	}
	if (s->p >= s->end)
		return syntax(s);
	const char *qe = s->p++;
	if (!out)
		return true;
	char *o = malloc((size_t)(qe - q) + 1), *w = o;
	if (!o) {
		s->st = mp_error_set(s->err, MP_ENOMEM, "%s: out of memory",
				     s->path);
		return false;
	}
	if (plain) {
		memcpy(o, q, (size_t)(qe - q));
		o[qe - q] = '\0';
		*out = o;
		return true;
	}
	struct scan t = *s;
	for (t.p = q; t.p < qe;) {
		char c = *t.p++;
		if (c != '\\') {
			*w++ = c;
			continue;
		}
		c = *t.p++;
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		if (c != 'u') {
			*w++ = to[strchr(from, c) - from];
			continue;
		}
		unsigned u, lo;
		hex4(&t, &u);
		if (u >= 0xd800 && u < 0xdc00 && qe - t.p >= 6 && t.p[0] == '\\' &&
		    t.p[1] == 'u') {
			t.p += 2;
			if (hex4(&t, &lo) && lo >= 0xdc00 && lo < 0xe000)
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			else
				u = 0xfffd, t.p -= 6;
		} else if (u >= 0xd800 && u < 0xe000) {
			u = 0xfffd; /* a lone surrogate */
		}
		if (u == 0)
			u = 0xfffd; /* no NUL inside C strings */
		w = put_utf8(w, u);
	}
	*w = '\0';
	*out = o;
	return true;
}

/* An object member's key and its colon; *out is the caller's. */
static bool member_key(struct scan *s, char **out)
{
	*out = NULL;
	if (string(s, out) && eat(s, ':'))
		return true;
	free(*out);
	*out = NULL;
	return syntax(s);
}

/* The keys of one object as they are read, to reject a key given twice
 * (which of the two wins differs between readers). */
struct keyset {
	struct key {
		char *name;
		size_t at; /* byte offset of the key */
	} *v;
	size_t n, cap;
};

static void keys_done(struct keyset *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].name);
	free(k->v);
}

/* Note key (owned from now on) read just before s->p. */
static bool keys_add(struct scan *s, struct keyset *k, char *key,
		     const char *at)
{
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 8;
		struct key *v = realloc(k->v, nc * sizeof *v);
		if (!v) {
			free(key);
			s->st = mp_error_set(s->err, MP_ENOMEM,
					     "%s: out of memory", s->path);
			return false;
		}
		k->v = v;
		k->cap = nc;
	}
	k->v[k->n++] = (struct key){key, (size_t)(at - s->start)};
	return true;
}

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->at < y->at ? -1 : x->at > y->at);
}

/* Error when a key of the finished object repeats; O(n log n). */
static bool keys_unique(struct scan *s, struct keyset *k)
{
	if (k->n < 2)
		return true;
	qsort(k->v, k->n, sizeof *k->v, cmp_key);
	const struct key *dup = NULL;
	for (size_t i = 1; i < k->n; i++)
		if (!strcmp(k->v[i - 1].name, k->v[i].name) &&
		    (!dup || k->v[i].at < dup->at))
			dup = &k->v[i];
	if (!dup)
		return true;
	char nb[MP_NAME_SHOW + 8];
	s->st = mp_error_set(s->err, MP_EJSON,
			     "%s: duplicate key '%s' at byte %zu (a key may "
			     "appear once in an object)",
			     s->path, mp_printable(dup->name, nb), dup->at);
	return false;
}

/* Read a member key into k (and its colon). */
static bool keyed(struct scan *s, struct keyset *k)
{
	ws(s);
	const char *at = s->p;
	char *key;
	return member_key(s, &key) && keys_add(s, k, key, at);
}

/* A JSON number at s->p; its value in *out when out is not NULL. */
static bool number(struct scan *s, double *out)
{
	ws(s);
	const char *q = s->p, *e = s->end;
	const char *p = q;
#define DIGITS(p) while (p < e && *p >= '0' && *p <= '9') p++
	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		DIGITS(p);
	else
		return syntax(s);
	if (p < e && *p == '.') {
		const char *d = ++p;
		DIGITS(p);
		if (p == d)
			return s->p = p, syntax(s);
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		const char *d = p;
		DIGITS(p);
		if (p == d)
			return s->p = p, syntax(s);
	}
#undef DIGITS
	s->p = p;
	if (!out)
		return true;
	char buf[MAX_NUMBER + 1];
	size_t len = (size_t)(p - q);
	if (len > MAX_NUMBER) {
		s->p = q;
		return syntax(s);
	}
	memcpy(buf, q, len);
	buf[len] = '\0';
	*out = s->c_loc ? strtod_l(buf, NULL, s->c_loc) : strtod(buf, NULL);
	return true;
}

static bool literal(struct scan *s, const char *w)
{
	size_t n = strlen(w);
	ws(s);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return syntax(s);
	s->p += n;
	return true;
}

/* Check and skip any value. */
static bool skip(struct scan *s)
{
	ws(s);
	if (s->p >= s->end)
		return syntax(s);
	char c = *s->p;
	if (c == '"')
		return string(s, NULL);
	if (c == 't')
		return literal(s, "true");
	if (c == 'f')
		return literal(s, "false");
	if (c == 'n')
		return literal(s, "null");
	if (c != '{' && c != '[')
		return number(s, NULL);
	if (++s->depth > MAX_DEPTH)
		return syntax(s);
	s->p++;
	char close = c == '{' ? '}' : ']';
	struct keyset keys = {0};
	bool ok = true;
	if (!eat(s, close)) {
		do {
			if (c == '{' && !keyed(s, &keys))
				ok = false;
			else if (!skip(s))
				ok = false;
			else
				done_with(s);
		} while (ok && eat(s, ','));
		if (ok && !eat(s, close))
			ok = syntax(s);
	}
	ok = ok && keys_unique(s, &keys);
	keys_done(&keys);
	s->depth--;
	return ok;
}

void mp_simmatrix_file_close(struct mp_simmatrix_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->method[i]);
		free(f->metric[i]);
	}
	free(f->method);
	free(f->metric);
	free(f->off);
	if (f->map) {
		mp_file_close(f->map);
		free(f->map);
	}
	free(f->path);
	free(f);
}

/* Note matrix method/metric at the current offset, then skip it. */
static bool bad(struct scan *s, const char *method, const char *metric,
		const char *what);

static bool add_entry(struct scan *s, struct mp_simmatrix_file *f,
		      const char *method, char *metric, size_t *cap)
{
	if (f->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		char **a = realloc(f->method, nc * sizeof *a);
		if (a)
			f->method = a;
		char **b = a ? realloc(f->metric, nc * sizeof *b) : NULL;
		if (b)
			f->metric = b;
		uint64_t *o = b ? realloc(f->off, nc * sizeof *o) : NULL;
		if (!o) {
			free(metric);
			s->st = mp_error_set(s->err, MP_ENOMEM,
					     "%s: out of memory", s->path);
			return false;
		}
		f->off = o;
		*cap = nc;
	}
	ws(s);
	f->off[f->n] = (uint64_t)(s->p - s->start);
	f->metric[f->n] = metric;
	if (!(f->method[f->n] = mp_strdup(method))) {
		free(metric);
		s->st = mp_error_set(s->err, MP_ENOMEM, "out of memory");
		return false;
	}
	f->n++;
	bool obj = s->p < s->end && *s->p == '{';
	if (!skip(s))
		return false;
	if (!obj) {
		return bad(s, method, f->metric[f->n - 1],
			   "needs \"models\" and \"values\" arrays");
	}
	return true;
}

/* The "matrices" object: {method: {metric: {...}}}. */
static bool matrices(struct scan *s, struct mp_simmatrix_file *f)
{
	size_t cap = 0;
	if (!eat(s, '{'))
		return syntax(s);
	if (eat(s, '}'))
		return true;
	struct keyset methods = {0};
	bool ok = true;
	do {
		if (!keyed(s, &methods)) {
			ok = false;
			break;
		}
		const char *method = methods.v[methods.n - 1].name;
		ws(s);
		if (s->p >= s->end || *s->p != '{') {
			char nb[MP_NAME_SHOW + 8];
			s->st = mp_error_set(s->err, MP_EFORMAT,
					     "%s: method '%s' is not an object",
					     s->path, mp_printable(method, nb));
			ok = false;
			break;
		}
		s->p++;
		struct keyset metrics = {0};
		if (!eat(s, '}')) {
			do {
				ok = keyed(s, &metrics);
				char *metric =
				    ok ? mp_strdup(metrics.v[metrics.n - 1].name)
				       : NULL;
				if (ok && !metric) {
					s->st = mp_error_set(s->err, MP_ENOMEM,
							     "%s: out of memory",
							     s->path);
					ok = false;
				}
				ok = ok && add_entry(s, f, method, metric, &cap);
			} while (ok && eat(s, ','));
			if (ok && !eat(s, '}'))
				ok = syntax(s);
		}
		ok = ok && keys_unique(s, &metrics);
		keys_done(&metrics);
	} while (ok && eat(s, ','));
	ok = ok && (eat(s, '}') || syntax(s)) && keys_unique(s, &methods);
	keys_done(&methods);
	return ok;
}

mp_status mp_simmatrix_file_open(const char *path,
				 struct mp_simmatrix_file **out,
				 struct mp_error *err)
{
	*out = NULL;
	struct mp_simmatrix_file *f = calloc(1, sizeof *f);
	struct mp_file *map = calloc(1, sizeof *map);
	if (!f || !map || !(f->path = mp_strdup(path))) {
		free(map);
		mp_simmatrix_file_close(f);
		return mp_error_set(err, MP_ENOMEM, "%s: out of memory", path);
	}
	mp_status st = mp_file_open(map, path, err);
	if (st != MP_OK) {
		free(map);
		mp_simmatrix_file_close(f);
		return st;
	}
	f->map = map;
	if (mp_simmatrix_bin_is(map->data, map->size)) {
		st = mp_simmatrix_bin_open(f, err);
		if (st != MP_OK) {
			mp_simmatrix_file_close(f);
			return st;
		}
		*out = f;
		return MP_OK;
	}
	if (map->size == 0) {
		mp_simmatrix_file_close(f);
		return mp_error_set(err, MP_EJSON,
				    "%s: invalid JSON near byte 0 (empty file)",
				    path);
	}
	struct scan s = {.start = (const char *)map->data, .path = path,
			 .err = err, .map = map};
	s.p = s.start;
	s.end = s.start + map->size;
	if (s.end - s.p >= 3 && memcmp(s.p, "\xef\xbb\xbf", 3) == 0)
		s.p += 3;
	bool seen = false;
	struct keyset top = {0};
	if (!eat(&s, '{')) {
		syntax(&s);
	} else if (!eat(&s, '}')) {
		do {
			if (!keyed(&s, &top))
				break;
			bool mats = !strcmp(top.v[top.n - 1].name, "matrices");
			ws(&s);
			if (mats && !seen && s.p < s.end && *s.p == '{') {
				seen = true;
				if (!matrices(&s, f))
					break;
			} else if (!skip(&s)) {
				break;
			}
		} while (eat(&s, ','));
		if (s.st == MP_OK && !eat(&s, '}'))
			syntax(&s);
		if (s.st == MP_OK)
			keys_unique(&s, &top);
	}
	keys_done(&top);
	ws(&s);
	if (s.st == MP_OK && s.p != s.end)
		syntax(&s);
	if (s.st == MP_OK && !seen)
		s.st = mp_error_set(err, MP_EFORMAT,
				    "%s: no \"matrices\" object", path);
	if (s.st != MP_OK) {
		mp_simmatrix_file_close(f);
		return s.st;
	}
	*out = f;
	return MP_OK;
}

long mp_simmatrix_file_find(const struct mp_simmatrix_file *f,
			    const char *method, const char *metric)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->method[i], method) && !strcmp(f->metric[i], metric))
			return (long)i;
	return -1;
}

/* "a, b, c": the distinct methods, or the metrics of method, in file
 * order, cut short at about 400 bytes. */
static void list_names(const struct mp_simmatrix_file *f, const char *method,
		       char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		const char *nm = method ? f->metric[i] : f->method[i];
		if (method && strcmp(f->method[i], method) != 0)
			continue;
		bool seen = false;
		for (size_t k = 0; k < i && !method && !seen; k++)
			seen = !strcmp(f->method[k], nm);
		if (seen)
			continue;
		char show[MP_NAME_SHOW + 8];
		const char *p = mp_printable(nm, show);
		if (len + strlen(p) + 8 >= cap) {
			snprintf(buf + len, cap - len, "%s...", len ? ", " : "");
			return;
		}
		len += (size_t)snprintf(buf + len, cap - len, "%s%s",
					len ? ", " : "", p);
	}
}

mp_status mp_simmatrix_file_pick(const struct mp_simmatrix_file *f,
				 const char *method, const char *metric,
				 size_t *idx, struct mp_error *err)
{
	char names[400], show[MP_NAME_SHOW + 8], mshow[MP_NAME_SHOW + 8];
	if (f->n == 0)
		return mp_error_set(err, MP_ENOENT, "%s: no matrices", f->path);
	if (!method) {
		/* input_output, else the first method (that has the metric
		   when one is asked for) */
		method = f->method[0];
		long k = metric ? mp_simmatrix_file_find(f, "input_output", metric)
				: -1;
		for (size_t i = 0; i < f->n && k < 0; i++)
			if (metric ? !strcmp(f->metric[i], metric)
				   : !strcmp(f->method[i], "input_output"))
				k = (long)i;
		if (k >= 0)
			method = f->method[k];
	}
	long first = -1;
	for (size_t i = 0; i < f->n && first < 0; i++)
		if (!strcmp(f->method[i], method))
			first = (long)i;
	if (first < 0) {
		list_names(f, NULL, names, sizeof names);
		return mp_error_set(err, MP_ENOENT,
				    "%s: no method '%s' (the file has: %s)",
				    f->path, mp_printable(method, show), names);
	}
	long k = metric ? mp_simmatrix_file_find(f, method, metric)
			: mp_simmatrix_file_find(f, method, "l1");
	if (k < 0 && !metric)
		k = first;
	if (k < 0) {
		list_names(f, method, names, sizeof names);
		return mp_error_set(err, MP_ENOENT,
				    "%s: method '%s' has no metric '%s' (it "
				    "has: %s)",
				    f->path, mp_printable(method, mshow),
				    mp_printable(metric, show), names);
	}
	*idx = (size_t)k;
	return MP_OK;
}

/* What one matrix object holds while it is read. */
struct raw {
	char **ids;
	size_t nids, cap_ids;
	bool has_ids, has_values;
	int dir; /* -1 absent, 0 false, 1 true */
	double *v;
	size_t nv, cap_v, rows, cols;
	struct und {
		uint64_t i, j;
		const char *reason;
	} *und;
	size_t nund, cap_und;
	bool has_est, est_has_values;
	char *est_kind; /* NULL when absent or not a string */
	double est_values;
};

static void raw_done(struct raw *r)
{
	for (size_t i = 0; i < r->nids; i++)
		free(r->ids[i]);
	free(r->ids);
	free(r->v);
	free(r->und);
	free(r->est_kind);
}

/* Grow array *a of *cap elements of size sz to hold one more than n. */
static bool grow(void **a, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 64;
	void *b = realloc(*a, nc * sz);
	if (!b)
		return false;
	*a = b;
	*cap = nc;
	return true;
}

static bool nomem(struct scan *s)
{
	s->st = mp_error_set(s->err, MP_ENOMEM, "%s: out of memory", s->path);
	return false;
}

static bool bad(struct scan *s, const char *method, const char *metric,
		const char *what)
{
	char mb[MP_NAME_SHOW + 8], tb[MP_NAME_SHOW + 8];
	s->st = mp_error_set(s->err, MP_EFORMAT, "%s: %s/%s: %s", s->path,
			     mp_printable(method, mb), mp_printable(metric, tb),
			     what);
	return false;
}

/* "values": rows of numbers or null, all as long as the first (or as the
 * number of models when they came first). */
static bool read_values(struct scan *s, struct raw *r, const char *method,
			const char *metric)
{
	if (!eat(s, '['))
		return bad(s, method, metric, "needs \"models\" and \"values\" "
					      "arrays");
	r->has_values = true;
	if (r->has_ids && r->nids) {
		/* each of the n * n values takes at least 2 bytes ("0,"): a
		   size the rest of the file cannot hold is an error before
		   anything is allocated for it */
		uint64_t nn, need, left = (uint64_t)(s->end - s->p);
		if (!mp_mul_u64(r->nids, r->nids, &nn) ||
		    !mp_mul_u64(nn, 2, &need) || need > left) {
			char m[160];
			snprintf(m, sizeof m,
				 "%zu models need %zu x %zu values but only "
				 "%llu bytes are left in the file",
				 r->nids, r->nids, r->nids,
				 (unsigned long long)left);
			return bad(s, method, metric, m);
		}
		r->cap_v = (size_t)nn;
		if (!(r->v = malloc(r->cap_v * sizeof *r->v)))
			return nomem(s);
	}
	if (eat(s, ']'))
		return true;
	do {
		ws(s);
		if (!eat(s, '['))
			return bad(s, method, metric, "a row of \"values\" is "
						      "not an array");
		size_t j = 0;
		if (!eat(s, ']')) {
			do {
				if (!grow((void **)&r->v, &r->cap_v, r->nv,
					  sizeof *r->v))
					return nomem(s);
				ws(s);
				double x = NAN;
				if (s->p < s->end && *s->p == 'n') {
					if (!literal(s, "null"))
						return false;
				} else if (s->p < s->end &&
					   (*s->p == '-' ||
					    (*s->p >= '0' && *s->p <= '9'))) {
					if (!number(s, &x))
						return false;
					if (!isfinite(x)) {
						char m[96];
						snprintf(m, sizeof m,
							 "value [%zu][%zu] is "
							 "out of range",
							 r->rows, j);
						return bad(s, method, metric, m);
					}
				} else {
					char m[96];
					snprintf(m, sizeof m,
						 "value [%zu][%zu] is neither a "
						 "number nor null",
						 r->rows, j);
					return bad(s, method, metric, m);
				}
				r->v[r->nv++] = x;
				j++;
			} while (eat(s, ','));
			if (!eat(s, ']'))
				return syntax(s);
		}
		size_t want = r->has_ids ? r->nids : r->rows ? r->cols : j;
		if (j != want) {
			char m[128];
			snprintf(m, sizeof m,
				 "row %zu does not have %zu values (the matrix "
				 "must be square)",
				 r->rows, want);
			return bad(s, method, metric, m);
		}
		r->cols = j;
		r->rows++;
		done_with(s);
	} while (eat(s, ','));
	return eat(s, ']') || syntax(s);
}

static bool read_ids(struct scan *s, struct raw *r, const char *method,
		     const char *metric)
{
	if (!eat(s, '['))
		return bad(s, method, metric, "needs \"models\" and \"values\" "
					      "arrays");
	r->has_ids = true;
	if (eat(s, ']'))
		return true;
	do {
		ws(s);
		if (s->p >= s->end || *s->p != '"') {
			char m[64];
			snprintf(m, sizeof m, "model %zu is not a string",
				 r->nids);
			return bad(s, method, metric, m);
		}
		if (!grow((void **)&r->ids, &r->cap_ids, r->nids, sizeof *r->ids))
			return nomem(s);
		if (!string(s, &r->ids[r->nids]))
			return false;
		r->nids++;
	} while (eat(s, ','));
	return eat(s, ']') || syntax(s);
}

/* "undefined": [{"i", "j", "reason"}]; malformed entries are ignored. */
static bool read_undefined(struct scan *s, struct raw *r)
{
	ws(s);
	if (s->p >= s->end || *s->p != '[')
		return skip(s);
	s->p++;
	if (eat(s, ']'))
		return true;
	do {
		ws(s);
		if (s->p >= s->end || *s->p != '{') {
			if (!skip(s))
				return false;
			continue;
		}
		s->p++;
		struct und u = {UINT64_MAX, UINT64_MAX, "undefined"};
		if (!eat(s, '}')) {
			do {
				char *key;
				if (!member_key(s, &key))
					return false;
				ws(s);
				bool num = s->p < s->end &&
					   (*s->p == '-' ||
					    (*s->p >= '0' && *s->p <= '9'));
				bool str = s->p < s->end && *s->p == '"';
				double x;
				char *txt = NULL;
				bool ok = true;
				if (num && (!strcmp(key, "i") || !strcmp(key, "j"))) {
					ok = number(s, &x);
					uint64_t v = x >= 0 && x < 9e15 &&
							     x == floor(x)
						     ? (uint64_t)x
						     : UINT64_MAX;
					*(key[0] == 'i' ? &u.i : &u.j) = v;
				} else if (str && !strcmp(key, "reason")) {
					ok = string(s, &txt);
					u.reason = mp_simmatrix_intern_reason(txt);
					free(txt);
				} else {
					ok = skip(s);
				}
				free(key);
				if (!ok)
					return false;
			} while (eat(s, ','));
			if (!eat(s, '}'))
				return syntax(s);
		}
		if (!grow((void **)&r->und, &r->cap_und, r->nund, sizeof *r->und))
			return nomem(s);
		r->und[r->nund++] = u;
	} while (eat(s, ','));
	return eat(s, ']') || syntax(s);
}

#define EST_SHAPE                                                              \
	"estimate must be an object {\"kind\": string, \"values\": number}"

/* "estimate": {"kind": string, "values": number}, other members skipped;
 * checked by mp_simmatrix_set_estimate once the matrix exists. */
static bool read_estimate(struct scan *s, struct raw *r, const char *method,
			  const char *metric)
{
	ws(s);
	if (s->p >= s->end || *s->p != '{')
		return bad(s, method, metric, EST_SHAPE);
	s->p++;
	r->has_est = true;
	if (eat(s, '}'))
		return true;
	do {
		char *key;
		if (!member_key(s, &key))
			return false;
		ws(s);
		bool ok, str = s->p < s->end && *s->p == '"';
		bool num = s->p < s->end && (*s->p == '-' ||
					     (*s->p >= '0' && *s->p <= '9'));
		if (!strcmp(key, "kind") && str && !r->est_kind) {
			ok = string(s, &r->est_kind);
		} else if (!strcmp(key, "values") && !r->est_has_values) {
			ok = num ? number(s, &r->est_values)
				 : bad(s, method, metric, EST_SHAPE);
			r->est_has_values = true;
		} else {
			ok = skip(s);
		}
		free(key);
		if (!ok)
			return false;
	} while (eat(s, ','));
	return eat(s, '}') || syntax(s);
}

/* The matrix from what was read: square, ids unique, symmetric. */
static mp_status build(struct scan *s, struct raw *r, const char *method,
		       const char *metric, struct mp_simmatrix **out)
{
	size_t n = r->nids;
	if (!r->has_ids || !r->has_values)
		return bad(s, method, metric,
			   "needs \"models\" and \"values\" arrays"),
		       s->st;
	if (r->rows != n || (n && r->cols != n)) {
		char m[128];
		snprintf(m, sizeof m,
			 "%zu models but %zu rows of %zu values (the matrix "
			 "must be square)",
			 n, r->rows, r->cols);
		return bad(s, method, metric, m), s->st;
	}
	long dup = mp_simmatrix_dup_id(r->ids, n);
	if (dup == -2)
		return nomem(s), s->st;
	if (dup >= 0) {
		char m[MP_NAME_SHOW + 64], show[MP_NAME_SHOW + 8];
		snprintf(m, sizeof m, "model id '%s' appears twice",
			 mp_printable(r->ids[dup], show));
		return bad(s, method, metric, m), s->st;
	}
	struct mp_simmatrix *mx = mp_simmatrix_new(method, metric, n);
	if (!mx)
		return nomem(s), s->st;
	const struct mp_metric *known = mp_metric_find(method, metric);
	mx->higher_is_more_alike = r->dir >= 0 ? r->dir == 1
				   : known     ? known->higher_is_more_alike
					       : true;
	if (n)
		memcpy(mx->ids, r->ids, n * sizeof *mx->ids);
	r->nids = 0; /* the ids now belong to the matrix */
	free(mx->value);
	mx->value = r->v ? r->v : malloc(sizeof *mx->value);
	r->v = NULL;
	for (size_t k = 0; k < n * n; k++)
		mx->reason[k] = isnan(mx->value[k]) ? "undefined" : NULL;
	for (size_t k = 0; k < r->nund; k++) {
		uint64_t i = r->und[k].i, j = r->und[k].j;
		if (i < n && j < n)
			mx->reason[i * n + j] = mx->reason[j * n + i] =
				r->und[k].reason;
	}
	mp_status st = mx->value ? MP_OK : (nomem(s), s->st);
	if (st == MP_OK && r->has_est)
		st = mp_simmatrix_set_estimate(mx, r->est_kind,
					       r->est_has_values, r->est_values,
					       s->path, s->err);
	if (st == MP_OK)
		st = mp_simmatrix_check_symmetric(mx, s->path, s->err);
	if (st != MP_OK) {
		mp_simmatrix_free(mx);
		return st;
	}
	*out = mx;
	return MP_OK;
}

mp_status mp_simmatrix_file_get(const struct mp_simmatrix_file *f, size_t idx,
				struct mp_simmatrix **out, struct mp_error *err)
{
	*out = NULL;
	if (idx >= f->n)
		return mp_error_set(err, MP_EINVAL, "%s: no matrix %zu", f->path,
				    idx);
	if (f->binary)
		return mp_simmatrix_bin_get(f, out, err);
	const struct mp_file *map = f->map;
	const char *method = f->method[idx], *metric = f->metric[idx];
	struct scan s = {.start = (const char *)map->data, .path = f->path,
			 .err = err, .map = map, .released = f->off[idx]};
	s.p = s.start + f->off[idx];
	s.end = s.start + map->size;
	s.c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	struct raw r = {.dir = -1};
	bool ok = eat(&s, '{');
	if (ok && !eat(&s, '}')) {
		do {
			char *key;
			ok = member_key(&s, &key);
			if (ok && !strcmp(key, "models") && !r.has_ids)
				ok = read_ids(&s, &r, method, metric);
			else if (ok && !strcmp(key, "values") && !r.has_values)
				ok = read_values(&s, &r, method, metric);
			else if (ok && !strcmp(key, "undefined"))
				ok = read_undefined(&s, &r);
			else if (ok && !strcmp(key, "estimate") && !r.has_est)
				ok = read_estimate(&s, &r, method, metric);
			else if (ok && !strcmp(key, "higher_is_more_alike")) {
				ws(&s);
				if (s.p < s.end && (*s.p == 't' || *s.p == 'f'))
					r.dir = *s.p == 't';
				ok = skip(&s);
			} else if (ok) {
				ok = skip(&s);
			}
			free(key);
		} while (ok && eat(&s, ','));
		ok = ok && eat(&s, '}');
	}
	if (!ok && s.st == MP_OK)
		syntax(&s);
	mp_status st = s.st;
	if (st == MP_OK)
		st = build(&s, &r, method, metric, out);
	raw_done(&r);
	if (s.c_loc)
		freelocale(s.c_loc);
	return st;
}
