/* json_write.c — streaming JSON writer (json_write.h). The text backend
 * reproduces cJSON's printer: objects open "{\n", members "TABS\"key\":\t"
 * value, separated ",\n", closed "\nTABS}" (an empty one "{\nTABS}"); arrays
 * "[a, b]"; strings escaped as cJSON does, then by mp_escape_json_text as
 * mp_json_print does; numbers by mp_json_number_text. */
#include "json_write.h"
#include "escape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct level {
	bool object;
	size_t count;  /* members or elements written so far */
	mp_json *node; /* tree backend: the container */
};

struct mp_jw {
	FILE *f; /* NULL: tree backend */
	bool pretty, failed;
	int depth;
	struct level stack[MAX_DEPTH + 1]; /* [0] holds the top-level value */
	mp_json *root;			   /* tree backend */
	char *buf;			   /* scratch for one escaped string */
	size_t cap;
};

struct mp_jw *mp_jw_new(FILE *f, bool pretty)
{
	struct mp_jw *w = calloc(1, sizeof *w);
	if (w) {
		w->f = f;
		w->pretty = pretty;
	}
	return w;
}

struct mp_jw *mp_jw_tree_new(void)
{
	return mp_jw_new(NULL, false);
}

bool mp_jw_failed(const struct mp_jw *w)
{
	return !w || w->failed;
}
void mp_jw_fail(struct mp_jw *w)
{
	w->failed = true;
}

static void put(struct mp_jw *w, const char *s, size_t n)
{
	if (!w->failed && fwrite(s, 1, n, w->f) != n)
		w->failed = true;
}

static void tabs(struct mp_jw *w, int n)
{
	static const char t[MAX_DEPTH + 1] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
					     "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
					     "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
					     "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
	put(w, t, (size_t)n);
}

static bool grow(struct mp_jw *w, size_t need)
{
	if (need <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < need)
		cap *= 2;
	char *b = realloc(w->buf, cap);
	if (!b)
		return false;
	w->buf = b;
	w->cap = cap;
	return true;
}

/* s quoted and escaped as cJSON prints it, then made valid UTF-8 as
 * mp_json_print does (NULL prints as ""). */
static void put_string(struct mp_jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	if (n > (SIZE_MAX - 3) / 6 || !grow(w, 6 * n + 3)) {
		w->failed = true;
		return;
	}
	char *o = w->buf;
	*o++ = '"';
	for (; *p; p++) {
		const char *esc = NULL;
		switch (*p) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			break;
		}
		if (esc) {
			memcpy(o, esc, 2);
			o += 2;
		} else if (*p < 32) {
			o += snprintf(o, 7, "\\u%04x", *p);
		} else {
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	*o = '\0';
	bool oom = false;
	char *safe = mp_escape_json_text(w->buf, &oom);
	if (oom)
		w->failed = true;
	else if (safe)
		put(w, safe, strlen(safe));
	else
		put(w, w->buf, (size_t)(o - w->buf));
	free(safe);
}

/* Text backend: separator, indentation and key before a value. */
static void text_begin(struct mp_jw *w, const char *key)
{
	struct level *l = &w->stack[w->depth];
	if (w->depth > 0 && l->count)
		put(w, l->object ? ",\n" : ", ", 1 + w->pretty);
	if (w->depth > 0 && l->object) {
		if (w->pretty)
			tabs(w, w->depth);
		put_string(w, key);
		put(w, w->pretty ? ":\t" : ":", 1 + w->pretty);
	}
	l->count++;
}

/* Tree backend: attach item (owned) under key in the innermost container,
 * or make it the root. */
static void tree_add(struct mp_jw *w, const char *key, mp_json *item)
{
	if (!item) {
		w->failed = true;
		return;
	}
	if (w->depth == 0) {
		if (w->root)
			mp_json_free(w->root);
		w->root = item;
		return;
	}
	struct level *l = &w->stack[w->depth];
	if (!(l->object ? mp_json_set(l->node, key, item)
			: mp_json_push(l->node, item)))
		w->failed = true;
	l->count++;
}

static void open_container(struct mp_jw *w, const char *key, bool object)
{
	if (w->failed)
		return;
	if (w->depth == MAX_DEPTH) {
		w->failed = true;
		return;
	}
	mp_json *node = NULL;
	if (w->f) {
		text_begin(w, key);
		put(w, object ? "{" : "[", 1);
		if (object && w->pretty)
			put(w, "\n", 1);
	} else {
		node = object ? mp_json_object() : mp_json_array();
		tree_add(w, key, node);
		if (w->failed)
			return;
	}
	w->depth++;
	w->stack[w->depth] = (struct level){object, 0, node};
}

void mp_jw_obj(struct mp_jw *w, const char *key)
{
	open_container(w, key, true);
}
void mp_jw_arr(struct mp_jw *w, const char *key)
{
	open_container(w, key, false);
}

void mp_jw_end(struct mp_jw *w)
{
	if (w->failed)
		return;
	if (w->depth == 0) {
		w->failed = true;
		return;
	}
	struct level *l = &w->stack[w->depth];
	if (w->f && l->object) {
		if (w->pretty) {
			if (l->count)
				put(w, "\n", 1);
			tabs(w, w->depth - 1);
		}
		put(w, "}", 1);
	} else if (w->f) {
		put(w, "]", 1);
	}
	w->depth--;
}

/* The container a tree-backend scalar goes into (NULL: none, failed). */
static mp_json *tree_parent(struct mp_jw *w, bool *object)
{
	if (w->depth == 0) {
		w->failed = true; /* a tree's root is a container */
		return NULL;
	}
	struct level *l = &w->stack[w->depth];
	l->count++;
	*object = l->object;
	return l->node;
}

enum kind { K_STR, K_NUM, K_BOOL, K_NULL };

/* One scalar of kind k (s for strings, v for numbers and booleans). */
static void scalar(struct mp_jw *w, const char *key, enum kind k, const char *s,
		   double v)
{
	bool obj;
	mp_json *c, *added = NULL;
	char buf[MP_JSON_NUMBER_MAX];
	if (w->failed)
		return;
	s = s ? s : "";
	if (k == K_NUM && !isfinite(v))
		k = K_NULL;
	if (w->f) {
		text_begin(w, key);
		if (k == K_STR) {
			put_string(w, s);
			return;
		}
		if (k == K_NUM)
			mp_json_number_text(v, buf);
		const char *t = k == K_NUM    ? buf
				: k == K_NULL ? "null"
				: v != 0      ? "true"
					      : "false";
		put(w, t, strlen(t));
		return;
	}
	if (!(c = tree_parent(w, &obj)))
		return;
	switch (k) {
	case K_STR:
		added =
		    obj ? mp_json_add_str(c, key, s) : mp_json_push_str(c, s);
		break;
	case K_NUM:
		added =
		    obj ? mp_json_add_num(c, key, v) : mp_json_push_num(c, v);
		break;
	case K_BOOL:
		added = obj ? mp_json_add_bool(c, key, v != 0)
			    : mp_json_push_bool(c, v != 0);
		break;
	case K_NULL:
		added = obj ? mp_json_add_null(c, key) : mp_json_push_null(c);
		break;
	}
	if (!added)
		w->failed = true;
}

void mp_jw_str(struct mp_jw *w, const char *key, const char *s)
{
	scalar(w, key, K_STR, s, 0);
}
void mp_jw_num(struct mp_jw *w, const char *key, double v)
{
	scalar(w, key, K_NUM, NULL, v);
}
void mp_jw_bool(struct mp_jw *w, const char *key, bool v)
{
	scalar(w, key, K_BOOL, NULL, v);
}

/* Text backend: j written member by member. */
static void text_value(struct mp_jw *w, const char *key, const mp_json *j)
{
	if (w->failed)
		return;
	if (mp_json_is_object(j) || mp_json_is_array(j)) {
		bool obj = mp_json_is_object(j);
		open_container(w, key, obj);
		for (const mp_json *c = mp_json_child(j); c;
		     c = mp_json_next(c))
			text_value(w, obj ? mp_json_key(c) : NULL, c);
		mp_jw_end(w);
	} else if (mp_json_is_string(j)) {
		mp_jw_str(w, key, mp_json_str(j));
	} else if (mp_json_is_number(j)) {
		mp_jw_num(w, key, mp_json_num(j));
	} else if (mp_json_is_bool(j)) {
		mp_jw_bool(w, key, mp_json_true(j));
	} else {
		scalar(w, key, K_NULL, NULL, 0);
	}
}

void mp_jw_value(struct mp_jw *w, const char *key, const mp_json *j)
{
	if (w->failed)
		return;
	if (!j) {
		mp_jw_obj(w, key);
		mp_jw_end(w);
	} else if (w->f) {
		text_value(w, key, j);
	} else {
		tree_add(w, key, mp_json_dup(j));
	}
}

mp_json *mp_jw_take_tree(struct mp_jw *w)
{
	mp_json *t = w && !w->failed && w->depth == 0 ? w->root : NULL;
	if (w && t)
		w->root = NULL;
	return t;
}

bool mp_jw_free(struct mp_jw *w)
{
	if (!w)
		return false;
	bool ok = !w->failed && w->depth == 0 && (!w->f || !ferror(w->f));
	mp_json_free(w->root);
	free(w->buf);
	free(w);
	return ok;
}
