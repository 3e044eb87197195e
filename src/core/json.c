/* json.c — thin layer over cJSON. */
#include "json.h"
#include "escape.h"
#include "reader.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One level of the walk in find_duplicate: the parent chain names the path
 * of an object in messages. */
struct frame {
	const struct frame *up;
	const cJSON *node; /* a member or element of up's node */
	size_t index;	   /* its position there */
};

/* "weightsManifest[0].weights" for the node of f (cut to cap bytes). */
static void path_of(const struct frame *f, char *buf, size_t cap)
{
	if (!f || !f->up) {
		snprintf(buf, cap, "the top level");
		return;
	}
	path_of(f->up, buf, cap);
	size_t n = strlen(buf);
	if (!f->up->up)
		n = buf[0] = '\0';
	char nb[MP_NAME_SHOW + 8];
	if (n + 8 >= cap)
		return;
	if (f->node->string)
		snprintf(buf + n, cap - n, "%s%s", n ? "." : "",
			 mp_printable(f->node->string, nb));
	else
		snprintf(buf + n, cap - n, "[%zu]", f->index);
}

static int cmp_member(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	int c = strcmp(x->string, y->string);
	return c ? c : (x < y ? -1 : x > y);
}

#define SMALL_OBJECT 16

/* The first key of object o (children c, n of them) that repeats, or NULL;
 * O(n log n); *nomem on allocation failure. */
static const char *repeated_key(const cJSON *o, size_t n, bool *nomem)
{
	if (n <= SMALL_OBJECT) {
		for (const cJSON *a = o->child; a; a = a->next)
			for (const cJSON *b = a->next; b; b = b->next)
				if (!strcmp(a->string, b->string))
					return a->string;
		return NULL;
	}
	const cJSON **v = malloc(n * sizeof *v);
	if (!v) {
		*nomem = true;
		return NULL;
	}
	size_t k = 0;
	for (const cJSON *c = o->child; c; c = c->next)
		v[k++] = c;
	qsort(v, k, sizeof *v, cmp_member);
	const char *dup = NULL;
	for (size_t i = 1; i < k && !dup; i++)
		if (!strcmp(v[i - 1]->string, v[i]->string))
			dup = v[i]->string;
	free(v);
	return dup;
}

/* Reject the first object (depth first) holding a key twice: readers and
 * runtimes disagree on which of the two wins. */
static mp_status find_duplicate(const struct frame *f, const char *where,
				struct mp_error *err)
{
	const cJSON *j = f->node;
	if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
		return MP_OK;
	size_t n = 0;
	for (const cJSON *c = j->child; c; c = c->next)
		n++;
	if (cJSON_IsObject(j) && n > 1) {
		bool nomem = false;
		const char *dup = repeated_key(j, n, &nomem);
		if (nomem)
			return mp_error_set(err, MP_ENOMEM, "%s: out of memory",
					    where);
		if (dup) {
			char path[256], nb[MP_NAME_SHOW + 8];
			path_of(f, path, sizeof path);
			return mp_error_set(err, MP_EJSON,
					    "%s: duplicate key '%s' in the object "
					    "at %s",
					    where, mp_printable(dup, nb), path);
		}
	}
	struct frame sub = {f, NULL, 0};
	for (const cJSON *c = j->child; c; c = c->next, sub.index++) {
		sub.node = c;
		mp_status s = find_duplicate(&sub, where, err);
		if (s != MP_OK)
			return s;
	}
	return MP_OK;
}

/* Parse text (at byte base of its file); key names the member it is the
 * value of in the file's top-level object (NULL: text is the whole file);
 * strict: only white space may follow the value. */
static mp_status parse_at(const char *text, size_t len, size_t base,
			  const char *key, bool strict, const char *where,
			  mp_json **out, struct mp_error *err)
{
	const char *end = NULL;
	*out = cJSON_ParseWithLengthOpts(text, len, &end, false);
	size_t at = end && end >= text ? (size_t)(end - text) : 0;
	while (strict && *out && at < len &&
	       (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' ||
		text[at] == '\r'))
		at++;
	if (*out && strict && at != len) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	if (!*out)
		return mp_error_set(err, MP_EJSON,
				    "%s: invalid JSON near byte %zu", where,
				    base + at);
	struct frame top = {NULL, NULL, 0}, root = {key ? &top : NULL, *out, 0};
	if (key)
		(*out)->string = (char *)key; /* names the object in messages */
	mp_status s = find_duplicate(&root, where, err);
	if (key)
		(*out)->string = NULL;
	if (s != MP_OK) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return s;
}

mp_status mp_json_parse(const char *text, size_t len, const char *where,
			mp_json **out, struct mp_error *err)
{
	return parse_at(text, len, 0, NULL, false, where, out, err);
}

mp_status mp_json_parse_member(const char *text, size_t len, size_t base,
			       const char *key, const char *where,
			       mp_json **out, struct mp_error *err)
{
	return parse_at(text, len, base, key, true, where, out, err);
}

mp_status mp_json_load(const char *path, uint64_t max_bytes, mp_json **out,
		       struct mp_error *err)
{
	char *text;
	size_t len;
	*out = NULL;
	mp_status s = mp_read_text(path, max_bytes, &text, &len, err);
	if (s != MP_OK)
		return s;
	s = mp_json_parse(text, len, path, out, err);
	free(text);
	return s;
}

void mp_json_free(mp_json *j) { cJSON_Delete(j); }

mp_json *mp_json_get(const mp_json *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key)
				   : NULL;
}
bool mp_json_is_object(const mp_json *j) { return cJSON_IsObject(j); }
bool mp_json_is_array(const mp_json *j) { return cJSON_IsArray(j); }
bool mp_json_is_string(const mp_json *j) { return cJSON_IsString(j); }
bool mp_json_is_number(const mp_json *j) { return cJSON_IsNumber(j); }
bool mp_json_is_bool(const mp_json *j) { return cJSON_IsBool(j); }
bool mp_json_is_null(const mp_json *j) { return cJSON_IsNull(j); }
size_t mp_json_size(const mp_json *arr)
{
	return arr ? (size_t)cJSON_GetArraySize(arr) : 0;
}
mp_json *mp_json_at(const mp_json *arr, size_t i)
{
	if (!arr || i > (size_t)INT32_MAX)
		return NULL;
	return cJSON_GetArrayItem(arr, (int)i);
}
const char *mp_json_key(const mp_json *m) { return m ? m->string : NULL; }
const char *mp_json_str(const mp_json *j)
{
	return cJSON_IsString(j) ? j->valuestring : NULL;
}
double mp_json_num(const mp_json *j)
{
	return cJSON_IsNumber(j) ? j->valuedouble : NAN;
}
bool mp_json_true(const mp_json *j) { return cJSON_IsTrue(j); }
mp_json *mp_json_child(const mp_json *j) { return j ? j->child : NULL; }
mp_json *mp_json_next(const mp_json *j) { return j ? j->next : NULL; }

bool mp_json_uint(const mp_json *j, uint64_t *out)
{
	if (!cJSON_IsNumber(j))
		return false;
	double v = j->valuedouble;
	if (!(v >= 0 && v < 9007199254740992.0) || v != floor(v))
		return false;
	*out = (uint64_t)v;
	return true;
}

mp_json *mp_json_object(void) { return cJSON_CreateObject(); }
mp_json *mp_json_array(void) { return cJSON_CreateArray(); }

static mp_json *attach(mp_json *obj, const char *key, mp_json *item)
{
	if (!item)
		return NULL;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

mp_json *mp_json_add_obj(mp_json *o, const char *k)
{
	return attach(o, k, cJSON_CreateObject());
}
mp_json *mp_json_add_arr(mp_json *o, const char *k)
{
	return attach(o, k, cJSON_CreateArray());
}
mp_json *mp_json_add_str(mp_json *o, const char *k, const char *s)
{
	return attach(o, k, cJSON_CreateString(s));
}
static mp_json *number(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}
mp_json *mp_json_add_num(mp_json *o, const char *k, double v)
{
	return attach(o, k, number(v));
}
mp_json *mp_json_add_bool(mp_json *o, const char *k, bool v)
{
	return attach(o, k, cJSON_CreateBool(v));
}
mp_json *mp_json_add_null(mp_json *o, const char *k)
{
	return attach(o, k, cJSON_CreateNull());
}
bool mp_json_push(mp_json *arr, mp_json *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}
mp_json *mp_json_push_num(mp_json *a, double v)
{
	mp_json *n = number(v);
	return mp_json_push(a, n) ? n : NULL;
}
mp_json *mp_json_push_str(mp_json *a, const char *s)
{
	mp_json *n = cJSON_CreateString(s);
	return mp_json_push(a, n) ? n : NULL;
}
mp_json *mp_json_push_null(mp_json *a)
{
	mp_json *n = cJSON_CreateNull();
	return mp_json_push(a, n) ? n : NULL;
}
mp_json *mp_json_push_bool(mp_json *a, bool v)
{
	mp_json *n = cJSON_CreateBool(v);
	return mp_json_push(a, n) ? n : NULL;
}
bool mp_json_set(mp_json *obj, const char *key, mp_json *item)
{
	return attach(obj, key, item) != NULL;
}
mp_json *mp_json_dup(const mp_json *j) { return cJSON_Duplicate(j, true); }

bool mp_json_equal(const mp_json *a, const mp_json *b)
{
	return a == b || (a && b && cJSON_Compare(a, b, true));
}

void mp_json_number_text(double v, char buf[MP_JSON_NUMBER_MAX])
{
	/* integers below 10^15 are their own %.15g (and read back exactly) */
	if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
		snprintf(buf, MP_JSON_NUMBER_MAX, "%lld", (long long)v);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, MP_JSON_NUMBER_MAX, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
}

/* cJSON prints 15 significant digits and accepts the text when it reads back
 * approximately; replace every number by the shortest of %.15g..%.17g that
 * reads back to the same bits, so doubles survive a round trip exactly. */
static bool exact_numbers(mp_json *j)
{
	for (mp_json *c = j->child; c; c = c->next) {
		if (cJSON_IsNumber(c)) {
			char buf[MP_JSON_NUMBER_MAX];
			mp_json_number_text(c->valuedouble, buf);
			char *raw = mp_strdup(buf);
			if (!raw)
				return false;
			c->type = cJSON_Raw;
			c->valuestring = raw;
		} else if (c->child && !exact_numbers(c)) {
			return false;
		}
	}
	return true;
}

char *mp_json_print(const mp_json *j, bool pretty)
{
	mp_json *copy = cJSON_Duplicate(j, true);
	if (!copy)
		return NULL;
	char *out = NULL;
	if (cJSON_IsNumber(copy)) {
		out = pretty ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
	} else if (exact_numbers(copy)) {
		out = pretty ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
	}
	cJSON_Delete(copy);
	/* cJSON copies string bytes as they are: strings parsed from files
	 * may hold invalid UTF-8, C1 controls or bidi overrides */
	bool oom = false;
	char *safe = out ? mp_escape_json_text(out, &oom) : NULL;
	if (safe || oom) {
		free(out);
		out = safe;
	}
	return out;
}
