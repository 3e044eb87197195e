/* pickle.c — the restricted pickle reader (pickle.h): a stack machine
 * over the opcodes of protocols 0 to 5 that builds values and never calls
 * anything. Containers are sealed once they become another value's
 * child, so no value can contain itself (no cycles, bounded depth). */
#include "pickle.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node_ext {
	bool sealed;
	int depth;
};

/* The parser's state. */
struct pp {
	const uint8_t *d;
	size_t len, pos;
	const char *where;
	const char *const *allowed;
	struct mp_error *err;
	struct mp_pk **stack;
	size_t sp, scap;
	size_t *marks;
	size_t nmarks, mcap;
	struct mp_pk **memo;
	size_t nmemo;
	size_t items; /* in all containers */
	mp_status st; /* of the last failure */
};

/* Seal and depth live after the public fields, in one allocation. */
struct pk_full {
	struct mp_pk v;
	struct node_ext x;
};

static struct node_ext *ext(struct mp_pk *v)
{
	return &((struct pk_full *)v)->x;
}

static struct mp_pk *mk(enum mp_pk_kind k)
{
	struct pk_full *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->v.kind = k;
	f->v.refs = 1;
	return &f->v;
}

void mp_pk_free(struct mp_pk *v)
{
	if (!v || --v->refs > 0)
		return;
	for (size_t i = 0; i < v->n; i++)
		mp_pk_free(v->items[i]);
	free(v->items);
	mp_pk_free(v->fn);
	mp_pk_free(v->args);
	mp_pk_free(v->state);
	free(v->s);
	free(v);
}

static struct mp_pk *ref(struct mp_pk *v)
{
	v->refs++;
	return v;
}

static mp_status fail(struct pp *p, mp_status st, const char *what)
{
	return p->st = mp_error_set(p->err, st, "%s: %s (pickle offset %zu)",
				    p->where, what, p->pos);
}

static mp_status oom(struct pp *p)
{
	return p->st = mp_error_set(p->err, MP_ENOMEM, "out of memory");
}

static mp_status push(struct pp *p, struct mp_pk *v)
{
	if (!v)
		return oom(p);
	if (p->sp >= MP_PK_MAX_STACK) {
		mp_pk_free(v);
		return fail(p, MP_EFORMAT, "stack too deep");
	}
	if (p->sp == p->scap) {
		size_t c = p->scap ? 2 * p->scap : 64;
		struct mp_pk **s = realloc(p->stack, c * sizeof *s);
		if (!s) {
			mp_pk_free(v);
			return oom(p);
		}
		p->stack = s;
		p->scap = c;
	}
	p->stack[p->sp++] = v;
	return MP_OK;
}

/* The first stack index above the last mark (0 without marks). */
static size_t base(const struct pp *p)
{
	return p->nmarks ? p->marks[p->nmarks - 1] : 0;
}

/* Pop one value (above the last mark); NULL (error set) when none. */
static struct mp_pk *pop(struct pp *p)
{
	if (p->sp <= base(p)) {
		fail(p, MP_EFORMAT, "stack underflow");
		return NULL;
	}
	return p->stack[--p->sp];
}

static struct mp_pk *top(struct pp *p)
{
	if (p->sp <= base(p)) {
		fail(p, MP_EFORMAT, "stack underflow");
		return NULL;
	}
	return p->stack[p->sp - 1];
}

/* Add child c to container v (taking c's reference). */
static mp_status add(struct pp *p, struct mp_pk *v, struct mp_pk *c)
{
	if (ext(v)->sealed || c == v) {
		mp_pk_free(c);
		return fail(p, MP_EFORMAT,
			    "a container changed after it was used");
	}
	int d = ext(c)->depth + 1;
	if (d > MP_PK_MAX_DEPTH || p->items >= MP_PK_MAX_ITEMS) {
		mp_pk_free(c);
		return fail(p, MP_EFORMAT, "values nested or counted beyond "
					   "the limits");
	}
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 4;
		struct mp_pk **it = realloc(v->items, cap * sizeof *it);
		if (!it) {
			mp_pk_free(c);
			return oom(p);
		}
		v->items = it;
		v->cap = cap;
	}
	ext(c)->sealed = true;
	if (d > ext(v)->depth)
		ext(v)->depth = d;
	v->items[v->n++] = c;
	p->items++;
	return MP_OK;
}

/* Set a single child slot (fn, args, state) of v. */
static mp_status attach(struct pp *p, struct mp_pk *v, struct mp_pk **slot,
			struct mp_pk *c)
{
	int d = ext(c)->depth + 1;
	if (ext(v)->sealed || c == v || d > MP_PK_MAX_DEPTH) {
		mp_pk_free(c);
		return fail(p, MP_EFORMAT, "a value changed after it was used");
	}
	ext(c)->sealed = true;
	if (d > ext(v)->depth)
		ext(v)->depth = d;
	mp_pk_free(*slot);
	*slot = c;
	return MP_OK;
}

static bool need(struct pp *p, size_t n)
{
	if (p->len - p->pos < n) {
		fail(p, MP_ETRUNC, "truncated");
		return false;
	}
	return true;
}

static uint64_t le(const uint8_t *b, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* A text line (protocol 0 argument) without its newline. */
static const char *line(struct pp *p, size_t *n)
{
	const uint8_t *s = p->d + p->pos;
	const uint8_t *e = memchr(s, '\n', p->len - p->pos);
	if (!e) {
		fail(p, MP_ETRUNC, "truncated line");
		return NULL;
	}
	*n = (size_t)(e - s);
	p->pos += *n + 1;
	return (const char *)s;
}

static struct mp_pk *str_node(enum mp_pk_kind k, const char *s, size_t n)
{
	struct mp_pk *v = mk(k);
	if (v && !(v->s = malloc(n + 1))) {
		free(v);
		return NULL;
	}
	if (v) {
		memcpy(v->s, s, n);
		v->s[n] = 0;
		v->len = n;
	}
	return v;
}

static struct mp_pk *int_node(int64_t i)
{
	struct mp_pk *v = mk(MP_PK_INT);
	if (v)
		v->i = i;
	return v;
}

/* Counted string or bytes of an n-byte length field. */
static mp_status counted(struct pp *p, int lenbytes, enum mp_pk_kind k)
{
	if (!need(p, (size_t)lenbytes))
		return p->st;
	uint64_t n = le(p->d + p->pos, lenbytes);
	p->pos += (size_t)lenbytes;
	if (lenbytes == 4 && k != MP_PK_BYTES && (n >> 31))
		return fail(p, MP_EFORMAT, "negative string length");
	if (!need(p, n))
		return p->st;
	const char *s = (const char *)p->d + p->pos;
	p->pos += (size_t)n;
	return push(p, str_node(k, s, (size_t)n));
}

/* Python's repr of a str (protocol 0 STRING): quotes and the escapes
 * \\ \' \" \n \r \t \xHH. */
static mp_status quoted(struct pp *p, const char *s, size_t n)
{
	if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0])
		return fail(p, MP_EFORMAT, "STRING argument not quoted");
	char *o = malloc(n);
	if (!o)
		return oom(p);
	size_t w = 0;
	for (size_t i = 1; i + 1 < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 2 < n) {
			char e = s[++i];
			if (e == 'n')
				c = '\n';
			else if (e == 'r')
				c = '\r';
			else if (e == 't')
				c = '\t';
			else if (e == 'x' && i + 3 < n &&
				 mp_hex_digit(s[i + 1]) >= 0 &&
				 mp_hex_digit(s[i + 2]) >= 0) {
				c = (char)(mp_hex_digit(s[i + 1]) * 16 +
					   mp_hex_digit(s[i + 2]));
				i += 2;
			} else
				c = e;
		}
		o[w++] = c;
	}
	struct mp_pk *v = str_node(MP_PK_STR, o, w);
	free(o);
	return push(p, v);
}

static bool allowed(const struct pp *p, const char *name)
{
	for (size_t i = 0; p->allowed && p->allowed[i]; i++)
		if (!strcmp(p->allowed[i], name))
			return true;
	return false;
}

static mp_status global(struct pp *p, const char *mod, size_t nm,
			const char *name, size_t nn)
{
	char full[512], show[MP_NAME_SHOW + 8];
	if (nm + nn + 2 > sizeof full)
		return fail(p, MP_EPERM, "refused global (name too long)");
	memcpy(full, mod, nm);
	full[nm] = '.';
	memcpy(full + nm + 1, name, nn);
	full[nm + 1 + nn] = 0;
	if (memchr(full, 0, nm + nn + 1) || !allowed(p, full))
		return p->st = mp_error_set(p->err, MP_EPERM,
				    "%s: refused global '%s' (only what "
				    "rebuilds tensors, storages and containers "
				    "is allowed; nothing was run)",
				    p->where, mp_printable(full, show));
	return push(p, str_node(MP_PK_GLOBAL, full, strlen(full)));
}

/* Pop the values above the last mark and the mark into container v. */
static mp_status fill_from_mark(struct pp *p, struct mp_pk *v, bool pairs)
{
	if (!p->nmarks)
		return fail(p, MP_EFORMAT, "no mark");
	size_t b = p->marks[--p->nmarks];
	if (pairs && (p->sp - b) % 2)
		return fail(p, MP_EFORMAT, "odd number of dict items");
	mp_status st = MP_OK;
	for (size_t i = b; i < p->sp; i++) {
		if (st == MP_OK)
			st = add(p, v, p->stack[i]);
		else
			mp_pk_free(p->stack[i]);
	}
	p->sp = b;
	return st;
}

static mp_status memo_put(struct pp *p, uint64_t idx)
{
	struct mp_pk *v = top(p);
	if (!v)
		return p->st;
	if (idx >= MP_PK_MAX_MEMO)
		return fail(p, MP_EFORMAT, "memo index beyond the limit");
	if (idx >= p->nmemo) {
		size_t n = (size_t)idx + 1;
		struct mp_pk **m = realloc(p->memo, n * sizeof *m);
		if (!m)
			return oom(p);
		memset(m + p->nmemo, 0, (n - p->nmemo) * sizeof *m);
		p->memo = m;
		p->nmemo = n;
	}
	mp_pk_free(p->memo[idx]);
	p->memo[idx] = ref(v);
	return MP_OK;
}

static mp_status memo_get(struct pp *p, uint64_t idx)
{
	if (idx >= p->nmemo || !p->memo[idx])
		return fail(p, MP_EFORMAT, "memo index not set");
	return push(p, ref(p->memo[idx]));
}

/* A call of an accepted global: fn(args). */
static mp_status call(struct pp *p, struct mp_pk *args, struct mp_pk *fn)
{
	if (fn->kind != MP_PK_GLOBAL || args->kind != MP_PK_TUPLE) {
		mp_pk_free(args);
		mp_pk_free(fn);
		return fail(p, MP_EPERM,
			    "refused call of something that is not an allowed "
			    "global");
	}
	struct mp_pk *c = mk(MP_PK_CALL);
	if (!c) {
		mp_pk_free(args);
		mp_pk_free(fn);
		return oom(p);
	}
	mp_status st = attach(p, c, &c->fn, fn);
	if (st == MP_OK)
		st = attach(p, c, &c->args, args);
	else
		mp_pk_free(args);
	if (st != MP_OK) {
		mp_pk_free(c);
		return st;
	}
	return push(p, c);
}

static mp_status tuple_of(struct pp *p, size_t n)
{
	if (p->sp - base(p) < n)
		return fail(p, MP_EFORMAT, "stack underflow");
	struct mp_pk *t = mk(MP_PK_TUPLE);
	if (!t)
		return oom(p);
	mp_status st = MP_OK;
	for (size_t i = p->sp - n; i < p->sp; i++) {
		if (st == MP_OK)
			st = add(p, t, p->stack[i]);
		else
			mp_pk_free(p->stack[i]);
	}
	p->sp -= n;
	if (st != MP_OK) {
		mp_pk_free(t);
		return st;
	}
	return push(p, t);
}

static mp_status long_bytes(struct pp *p, int lenbytes)
{
	if (!need(p, (size_t)lenbytes))
		return p->st;
	uint64_t n = le(p->d + p->pos, lenbytes);
	p->pos += (size_t)lenbytes;
	if (n > 8)
		return fail(p, MP_ERANGE, "integer wider than 64 bits");
	if (!need(p, n))
		return p->st;
	uint64_t v = n ? le(p->d + p->pos, (int)n) : 0;
	if (n && n < 8 && (p->d[p->pos + n - 1] & 0x80))
		v |= ~0ULL << (8 * n); /* sign extension */
	p->pos += (size_t)n;
	return push(p, int_node((int64_t)v));
}

static mp_status text_int(struct pp *p, bool is_long)
{
	size_t n;
	const char *s = line(p, &n);
	if (!s)
		return p->st;
	char buf[32];
	if (is_long && n && s[n - 1] == 'L')
		n--;
	if (!n || n >= sizeof buf)
		return fail(p, MP_EFORMAT, "bad integer");
	memcpy(buf, s, n);
	buf[n] = 0;
	if (!is_long && (!strcmp(buf, "00") || !strcmp(buf, "01"))) {
		struct mp_pk *b = mk(MP_PK_BOOL);
		if (b)
			b->i = buf[1] == '1';
		return push(p, b);
	}
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (*end)
		return fail(p, MP_EFORMAT, "bad integer");
	return push(p, int_node(v));
}

static mp_status refuse(struct pp *p, const char *op)
{
	return p->st = mp_error_set(p->err, MP_EPERM,
			    "%s: refused pickle opcode %s (it builds arbitrary "
			    "objects; nothing was run)",
			    p->where, op);
}

/* Set items (SETITEM, SETITEMS) and appends on the value below the mark
 * or the top. */
static mp_status extend(struct pp *p, bool pairs, bool one)
{
	struct mp_pk *v;
	if (one) {
		struct mp_pk *c1 = pop(p), *c0 = pairs && c1 ? pop(p) : NULL;
		if (!c1 || (pairs && !c0)) {
			mp_pk_free(c1);
			return p->st;
		}
		if (!(v = top(p))) {
			mp_pk_free(c0);
			mp_pk_free(c1);
			return p->st;
		}
		bool ok = pairs ? v->kind == MP_PK_DICT || v->kind == MP_PK_CALL
				: v->kind == MP_PK_LIST || v->kind == MP_PK_CALL;
		mp_status st = ok ? MP_OK
				  : fail(p, MP_EFORMAT,
					 "items added to a value of another kind");
		if (st == MP_OK && c0)
			st = add(p, v, c0);
		else
			mp_pk_free(c0);
		if (st == MP_OK)
			st = add(p, v, c1);
		else
			mp_pk_free(c1);
		return st;
	}
	if (!p->nmarks || p->marks[p->nmarks - 1] == 0)
		return fail(p, MP_EFORMAT, "no container below the mark");
	v = p->stack[p->marks[p->nmarks - 1] - 1];
	bool ok = pairs ? v->kind == MP_PK_DICT || v->kind == MP_PK_CALL
			: v->kind == MP_PK_LIST || v->kind == MP_PK_SET ||
			      v->kind == MP_PK_CALL;
	if (!ok)
		return fail(p, MP_EFORMAT, "items added to a value of another "
					   "kind");
	return fill_from_mark(p, v, pairs);
}

static mp_status step(struct pp *p, uint8_t op, bool *done)
{
	size_t n;
	const char *s;
	struct mp_pk *a, *b, *c;
	switch (op) {
	case 0x80: /* PROTO */
		if (!need(p, 1))
			return p->st;
		if (p->d[p->pos++] > 5)
			return fail(p, MP_EFORMAT, "pickle protocol above 5");
		return MP_OK;
	case 0x95: /* FRAME: the frame's bytes follow inline */
		if (!need(p, 8))
			return p->st;
		p->pos += 8;
		return MP_OK;
	case '.': /* STOP */
		*done = true;
		return MP_OK;
	case '(': /* MARK */
		if (p->nmarks == p->mcap) {
			size_t cap = p->mcap ? 2 * p->mcap : 16;
			if (cap > MP_PK_MAX_STACK)
				return fail(p, MP_EFORMAT, "too many marks");
			size_t *m = realloc(p->marks, cap * sizeof *m);
			if (!m)
				return oom(p);
			p->marks = m;
			p->mcap = cap;
		}
		p->marks[p->nmarks++] = p->sp;
		return MP_OK;
	case '0': /* POP (a mark when the top is one) */
		if (p->nmarks && p->marks[p->nmarks - 1] == p->sp) {
			p->nmarks--;
			return MP_OK;
		}
		if (!(a = pop(p)))
			return p->st;
		mp_pk_free(a);
		return MP_OK;
	case '1': /* POP_MARK */
		if (!p->nmarks)
			return fail(p, MP_EFORMAT, "no mark");
		while (p->sp > p->marks[p->nmarks - 1])
			mp_pk_free(p->stack[--p->sp]);
		p->nmarks--;
		return MP_OK;
	case '2': /* DUP */
		if (!(a = top(p)))
			return p->st;
		return push(p, ref(a));
	case 'N':
		return push(p, mk(MP_PK_NONE));
	case 0x88: /* NEWTRUE */
	case 0x89: /* NEWFALSE */
		if (!(a = mk(MP_PK_BOOL)))
			return oom(p);
		a->i = op == 0x88;
		return push(p, a);
	case 'I':
		return text_int(p, false);
	case 'L':
		return text_int(p, true);
	case 'J': /* BININT */
		if (!need(p, 4))
			return p->st;
		p->pos += 4;
		return push(p, int_node((int32_t)le(p->d + p->pos - 4, 4)));
	case 'K': /* BININT1 */
	case 'M': /* BININT2 */
		if (!need(p, op == 'K' ? 1 : 2))
			return p->st;
		p->pos += op == 'K' ? 1 : 2;
		return push(p, int_node((int64_t)le(p->d + p->pos -
							(op == 'K' ? 1 : 2),
						    op == 'K' ? 1 : 2)));
	case 0x8a: /* LONG1 */
		return long_bytes(p, 1);
	case 0x8b: /* LONG4 */
		return long_bytes(p, 4);
	case 'F': {
		if (!(s = line(p, &n)))
			return p->st;
		char buf[64];
		if (!n || n >= sizeof buf)
			return fail(p, MP_EFORMAT, "bad float");
		memcpy(buf, s, n);
		buf[n] = 0;
		char *end;
		double f = strtod(buf, &end);
		if (*end)
			return fail(p, MP_EFORMAT, "bad float");
		if (!(a = mk(MP_PK_FLOAT)))
			return oom(p);
		a->f = f;
		return push(p, a);
	}
	case 'G': { /* BINFLOAT, big-endian */
		if (!need(p, 8))
			return p->st;
		uint64_t u = 0;
		for (int i = 0; i < 8; i++)
			u = u << 8 | p->d[p->pos + (size_t)i];
		p->pos += 8;
		if (!(a = mk(MP_PK_FLOAT)))
			return oom(p);
		memcpy(&a->f, &u, 8);
		return push(p, a);
	}
	case 'S':
		if (!(s = line(p, &n)))
			return p->st;
		return quoted(p, s, n);
	case 'V': /* raw text (escapes other than \uXXXX kept as is) */
		if (!(s = line(p, &n)))
			return p->st;
		return push(p, str_node(MP_PK_STR, s, n));
	case 'T':
		return counted(p, 4, MP_PK_STR);
	case 'U':
		return counted(p, 1, MP_PK_STR);
	case 'X':
		return counted(p, 4, MP_PK_STR);
	case 0x8c: /* SHORT_BINUNICODE */
		return counted(p, 1, MP_PK_STR);
	case 0x8d: /* BINUNICODE8 */
		return counted(p, 8, MP_PK_STR);
	case 'B':
		return counted(p, 4, MP_PK_BYTES);
	case 'C':
		return counted(p, 1, MP_PK_BYTES);
	case 0x8e: /* BINBYTES8 */
	case 0x96: /* BYTEARRAY8 */
		return counted(p, 8, MP_PK_BYTES);
	case ')':
		return push(p, mk(MP_PK_TUPLE));
	case ']':
		return push(p, mk(MP_PK_LIST));
	case '}':
		return push(p, mk(MP_PK_DICT));
	case 0x8f: /* EMPTY_SET */
		return push(p, mk(MP_PK_SET));
	case 't':
	case 'l':
	case 'd':
	case 0x91: { /* TUPLE, LIST, DICT, FROZENSET from the mark */
		if (!p->nmarks)
			return fail(p, MP_EFORMAT, "no mark");
		a = mk(op == 't'   ? MP_PK_TUPLE
		       : op == 'l' ? MP_PK_LIST
		       : op == 'd' ? MP_PK_DICT
				   : MP_PK_SET);
		if (!a)
			return oom(p);
		mp_status st = fill_from_mark(p, a, op == 'd');
		if (st != MP_OK) {
			mp_pk_free(a);
			return st;
		}
		return push(p, a);
	}
	case 0x85:
	case 0x86:
	case 0x87: /* TUPLE1..3 */
		return tuple_of(p, (size_t)(op - 0x84));
	case 'a':
		return extend(p, false, true);
	case 'e':
	case 0x90: /* APPENDS, ADDITEMS */
		return extend(p, false, false);
	case 's':
		return extend(p, true, true);
	case 'u':
		return extend(p, true, false);
	case 'p':
		if (!(s = line(p, &n)))
			return p->st;
		return memo_put(p, strtoull(s, NULL, 10));
	case 'q':
		if (!need(p, 1))
			return p->st;
		return memo_put(p, p->d[p->pos++]);
	case 'r':
		if (!need(p, 4))
			return p->st;
		p->pos += 4;
		return memo_put(p, le(p->d + p->pos - 4, 4));
	case 0x94: /* MEMOIZE */
		return memo_put(p, p->nmemo);
	case 'g':
		if (!(s = line(p, &n)))
			return p->st;
		return memo_get(p, strtoull(s, NULL, 10));
	case 'h':
		if (!need(p, 1))
			return p->st;
		return memo_get(p, p->d[p->pos++]);
	case 'j':
		if (!need(p, 4))
			return p->st;
		p->pos += 4;
		return memo_get(p, le(p->d + p->pos - 4, 4));
	case 'c': { /* GLOBAL module\nname\n */
		size_t nm, nn;
		const char *m = line(p, &nm);
		const char *nme = m ? line(p, &nn) : NULL;
		if (!nme)
			return p->st;
		return global(p, m, nm, nme, nn);
	}
	case 0x93: /* STACK_GLOBAL */
		if (!(b = pop(p)))
			return p->st;
		if (!(a = pop(p))) {
			mp_pk_free(b);
			return p->st;
		}
		if (a->kind == MP_PK_STR && b->kind == MP_PK_STR)
			global(p, a->s, a->len, b->s, b->len);
		else
			fail(p, MP_EFORMAT, "STACK_GLOBAL of non-strings");
		mp_pk_free(a);
		mp_pk_free(b);
		return p->st;
	case 'R': /* REDUCE */
	case 0x81: /* NEWOBJ */
		if (!(a = pop(p)))
			return p->st;
		if (!(b = pop(p))) {
			mp_pk_free(a);
			return p->st;
		}
		return call(p, a, b);
	case 0x92: /* NEWOBJ_EX: cls args kwargs, kwargs must be empty */
		if (!(c = pop(p)))
			return p->st;
		if (c->kind != MP_PK_DICT || c->n) {
			mp_pk_free(c);
			return fail(p, MP_EPERM, "refused NEWOBJ_EX with keyword "
						 "arguments");
		}
		mp_pk_free(c);
		if (!(a = pop(p)))
			return p->st;
		if (!(b = pop(p))) {
			mp_pk_free(a);
			return p->st;
		}
		return call(p, a, b);
	case 'b': /* BUILD: only the state of an accepted call */
		if (!(a = pop(p)))
			return p->st;
		if (!(b = top(p))) {
			mp_pk_free(a);
			return p->st;
		}
		if (b->kind != MP_PK_CALL) {
			mp_pk_free(a);
			return refuse(p, "BUILD on a value that is not an allowed "
					 "call");
		}
		return attach(p, b, &b->state, a);
	case 'P': { /* PERSID */
		if (!(s = line(p, &n)))
			return p->st;
		a = str_node(MP_PK_STR, s, n);
		goto persid;
	}
	case 'Q': /* BINPERSID */
		if (!(a = pop(p)))
			return p->st;
	persid:
		if (!a)
			return oom(p);
		if (!(b = mk(MP_PK_PERSID))) {
			mp_pk_free(a);
			return oom(p);
		}
		if (attach(p, b, &b->args, a) != MP_OK) {
			mp_pk_free(b);
			return p->st;
		}
		return push(p, b);
	case 'i':
		return refuse(p, "INST");
	case 'o':
		return refuse(p, "OBJ");
	case 0x82:
	case 0x83:
	case 0x84:
		return refuse(p, "EXT (the extension registry)");
	case 0x97:
	case 0x98:
		return refuse(p, "NEXT_BUFFER (out-of-band buffers)");
	default: {
		char what[48];
		snprintf(what, sizeof what, "unknown pickle opcode 0x%02x", op);
		p->pos--;
		return fail(p, MP_EFORMAT, what);
	}
	}
}

mp_status mp_pickle_parse(const uint8_t *data, size_t len, const char *where,
			  const char *const *allowed_globals, struct mp_pk **out,
			  struct mp_error *err)
{
	return mp_pickle_parse_prefix(data, len, where, allowed_globals, out,
				      NULL, err);
}

mp_status mp_pickle_parse_prefix(const uint8_t *data, size_t len,
				 const char *where,
				 const char *const *allowed_globals,
				 struct mp_pk **out, size_t *used,
				 struct mp_error *err)
{
	struct pp p = {.d = data,
		       .len = len,
		       .where = where,
		       .allowed = allowed_globals,
		       .err = err};
	*out = NULL;
	mp_status st = MP_OK;
	bool done = false;
	while (st == MP_OK && !done) {
		if (p.pos >= p.len) {
			st = fail(&p, MP_ETRUNC, "truncated: no STOP opcode");
			break;
		}
		st = step(&p, p.d[p.pos++], &done);
	}
	if (st == MP_OK && (p.sp != 1 || p.nmarks))
		st = fail(&p, MP_EFORMAT,
			  "the stack does not end with one value");
	if (st == MP_OK)
		*out = p.stack[--p.sp];
	if (used)
		*used = p.pos;
	while (p.sp)
		mp_pk_free(p.stack[--p.sp]);
	for (size_t i = 0; i < p.nmemo; i++)
		mp_pk_free(p.memo[i]);
	free(p.memo);
	free(p.stack);
	free(p.marks);
	return st;
}

const struct mp_pk *mp_pk_get(const struct mp_pk *v, const char *key)
{
	if (!v || v->kind != MP_PK_DICT)
		return NULL;
	for (size_t i = 0; i + 1 < v->n; i += 2)
		if (v->items[i]->kind == MP_PK_STR &&
		    !strcmp(v->items[i]->s, key))
			return v->items[i + 1];
	return NULL;
}
