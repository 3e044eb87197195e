/* json.c — thin layer over cJSON. */
#include "json.h"
#include "escape.h"
#include "reader.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mp_status mp_json_parse(const char *text, size_t len, const char *where,
			mp_json **out, struct mp_error *err)
{
	const char *end = NULL;
	*out = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (!*out) {
		size_t at = end && end >= text ? (size_t)(end - text) : 0;
		return mp_error_set(err, MP_EJSON,
				    "%s: invalid JSON near byte %zu", where, at);
	}
	return MP_OK;
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
bool mp_json_set(mp_json *obj, const char *key, mp_json *item)
{
	return attach(obj, key, item) != NULL;
}
mp_json *mp_json_dup(const mp_json *j) { return cJSON_Duplicate(j, true); }

bool mp_json_equal(const mp_json *a, const mp_json *b)
{
	return a == b || (a && b && cJSON_Compare(a, b, true));
}

/* cJSON prints 15 significant digits and accepts the text when it reads back
 * approximately; replace every number by the shortest of %.15g..%.17g that
 * reads back to the same bits, so doubles survive a round trip exactly. */
static bool exact_numbers(mp_json *j)
{
	for (mp_json *c = j->child; c; c = c->next) {
		if (cJSON_IsNumber(c)) {
			char buf[40];
			double v = c->valuedouble;
			for (int prec = 15; prec <= 17; prec++) {
				snprintf(buf, sizeof buf, "%.*g", prec, v);
				if (strtod(buf, NULL) == v)
					break;
			}
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
