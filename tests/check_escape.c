/* check_escape.c — terminal and UTF-8 escaping of untrusted text. The
 * expected strings are written out by hand from the rules in escape.h. */
#include "check_suites.h"
#include "escape.h"
#include "json.h"
#include "json_write.h"
#include "mp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *esc(const char *s)
{
	static char buf[256];
	size_t need = mp_escape_term(s, buf, sizeof buf);
	ck_assert_uint_eq(need, strlen(buf));
	return buf;
}

START_TEST(test_term_controls)
{
	ck_assert_str_eq(esc("plain name.weight"), "plain name.weight");
	ck_assert_str_eq(esc("a\x1b]0;pwned\x07z"), "a\\x1b]0;pwned\\x07z");
	ck_assert_str_eq(esc("\x1b[2J"), "\\x1b[2J");
	ck_assert_str_eq(esc("tab\there\nnl\x7f"), "tab\\x09here\\x0anl\\x7f");
	/* C1 CSI (U+009B) and NEL (U+0085) as UTF-8 */
	ck_assert_str_eq(esc("x\xc2\x9b" "31mred"), "x\\u009b31mred");
	ck_assert_str_eq(esc("\xc2\x85"), "\\u0085");
	/* right-to-left override and line separator */
	ck_assert_str_eq(esc("abc\xe2\x80\xae" "gpj.exe"), "abc\\u202egpj.exe");
	ck_assert_str_eq(esc("\xe2\x80\xa8"), "\\u2028");
	ck_assert_str_eq(esc(NULL), "(null)");
}
END_TEST

START_TEST(test_term_utf8)
{
	/* valid multi-byte text is kept: é, €, an emoji (U+1F600) */
	ck_assert_str_eq(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
			 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	ck_assert_str_eq(esc("a\xff" "b"), "a\\xffb");
	/* stray continuation, overlong '/', surrogate, beyond U+10FFFF, a
	 * sequence cut by the end of the string */
	ck_assert_str_eq(esc("\x80"), "\\x80");
	ck_assert_str_eq(esc("\xc0\xaf"), "\\xc0\\xaf");
	ck_assert_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	ck_assert_str_eq(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	ck_assert_str_eq(esc("ok\xe2\x82"), "ok\\xe2\\x82");
	ck_assert(mp_utf8_valid("caf\xc3\xa9"));
	ck_assert(mp_utf8_valid("\x1b"));
	ck_assert(!mp_utf8_valid("a\xff"));
	ck_assert(!mp_utf8_valid("\xed\xa0\x80"));
}
END_TEST

START_TEST(test_term_truncation)
{
	char buf[10];
	/* "abcdefghijkl" needs 12; 9 usable bytes: 6 kept and "..." */
	ck_assert_uint_eq(mp_escape_term("abcdefghijkl", buf, sizeof buf), 12);
	ck_assert_str_eq(buf, "abcdef...");
	/* exactly fitting text is not cut */
	ck_assert_uint_eq(mp_escape_term("abcdefghi", buf, sizeof buf), 9);
	ck_assert_str_eq(buf, "abcdefghi");
	/* an escape is never split: "ab" + "\x1b" (4) + "cdef" */
	mp_escape_term("ab\x1b" "cdefgh", buf, sizeof buf);
	ck_assert_str_eq(buf, "ab\\x1b...");
	mp_escape_term("abc\x1b" "cdefgh", buf, sizeof buf);
	ck_assert_str_eq(buf, "abc...");
	/* nor a multi-byte character */
	mp_escape_term("abcde\xe2\x82\xac" "xyz", buf, sizeof buf);
	ck_assert_str_eq(buf, "abcde...");
	ck_assert_uint_eq(mp_escape_term("abc", NULL, 0), 3);
	char nb[MP_NAME_SHOW + 8];
	char longname[200];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	const char *shown = mp_printable(longname, nb);
	ck_assert_uint_le(strlen(shown), MP_NAME_SHOW + 3);
	ck_assert_str_eq(shown + strlen(shown) - 3, "...");
	ck_assert_str_eq(mp_printable("w\x1b[31m", nb), "w\\x1b[31m");
}
END_TEST

START_TEST(test_json_text)
{
	bool oom = true;
	/* nothing to change: NULL, no copy */
	ck_assert_ptr_null(
	    mp_escape_json_text("{\"a\":\"\xc3\xa9\\u001b\"}", &oom));
	ck_assert(!oom);
	/* invalid byte -> \\xff (JSON for the text \xff); U+009B, U+202E,
	 * DEL -> \u escapes; e-acute kept */
	char *t = mp_escape_json_text("[\"a\xff"
				      "b\xc2\x9b"
				      "c\xe2\x80\xae"
				      "d\x7f"
				      "e\xc3\xa9\"]",
				      &oom);
	ck_assert_str_eq(t, "[\"a\\\\xffb\\u009bc\\u202ed\\u007fe\xc3\xa9\"]");
	free(t);
}
END_TEST

/* mp_json_print of strings parsed from a file (not built by mp_json_add_*)
 * gives valid UTF-8 with no raw C1 control, and the JSON decodes to the
 * same characters except the invalid byte, which becomes "\xff". */
START_TEST(test_json_print_parsed)
{
	const char in[] = "{\"k\xff\":\"\\u009b\\u001b[2J\xff\"}";
	mp_json *j;
	struct mp_error err;
	ck_assert_int_eq(mp_json_parse(in, strlen(in), "t", &j, &err), MP_OK);
	ck_assert_str_eq(mp_json_str(mp_json_child(j)), "\xc2\x9b\x1b[2J\xff");
	char *text = mp_json_print(j, false);
	ck_assert_str_eq(text, "{\"k\\\\xff\":\"\\u009b\\u001b[2J\\\\xff\"}");
	ck_assert(mp_utf8_valid(text));
	mp_json *back;
	ck_assert_int_eq(mp_json_parse(text, strlen(text), "t", &back, &err),
			 MP_OK);
	ck_assert_str_eq(mp_json_key(mp_json_child(back)), "k\\xff");
	ck_assert_str_eq(mp_json_str(mp_json_child(back)),
			 "\xc2\x9b\x1b[2J\\xff");
	mp_json_free(back);
	free(text);
	mp_json_free(j);
}
END_TEST

/* What the streaming writer writes for tree j (walked by mp_jw_value) */
static char *streamed(const mp_json *j, bool pretty)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	struct mp_jw *w = mp_jw_new(f, pretty);
	mp_jw_value(w, NULL, j);
	ck_assert(mp_jw_free(w));
	fclose(f);
	return text;
}

/* The streaming writer against cJSON's printer (through mp_json_print): a
 * tree of hostile strings, awkward numbers and empty and nested
 * containers prints the same, byte for byte, pretty and compact. */
START_TEST(test_json_stream_same)
{
	mp_json *o = mp_json_object();
	mp_json_add_str(o, "plain", "model.layers.0.weight");
	mp_json_add_str(o, "q\"uo\\te/\b\f\n\r\t", "\x01\x1f\x7f");
	mp_json_add_str(o, "esc", "wA\x1b]0;pwned\x07B\x1b[2JC");
	mp_json_add_str(o, "c1 bidi", "x\xc2\x9b" "y\xe2\x80\xae" "z\xe2\x80\xa8");
	mp_json_add_str(o, "bad utf8 \xff", "\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82");
	mp_json_add_str(o, "utf8", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	mp_json_add_str(o, "", "");
	mp_json *n = mp_json_add_arr(o, "numbers");
	const double v[] = {0,	   -0.0,    1,	     -1,     0.1,    1.0 / 3,
			    1e15,  1e16,    1e300,   5e-324, -2.5e-7, 123456789012345,
			    NAN,   INFINITY, 0.125,  9007199254740993.0};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		mp_json_push_num(n, v[i]);
	mp_json_add_obj(o, "empty object");
	mp_json_add_arr(o, "empty array");
	mp_json *a = mp_json_add_arr(o, "nested");
	mp_json *e = mp_json_object();
	mp_json_add_bool(e, "t", true);
	mp_json_add_bool(e, "f", false);
	mp_json_add_null(e, "z");
	mp_json_add_obj(mp_json_add_obj(e, "deep"), "deeper");
	mp_json_push(a, e);
	mp_json_push(a, mp_json_array());
	mp_json_push(a, mp_json_object());
	mp_json_push_str(a, "s");
	mp_json_push_null(a);
	mp_json_push_bool(a, true);
	for (int pretty = 0; pretty < 2; pretty++) {
		char *want = mp_json_print(o, pretty);
		char *got = streamed(o, pretty);
		ck_assert_str_eq(got, want);
		ck_assert(mp_utf8_valid(got));
		free(want);
		free(got);
	}
	mp_json_free(o);
}
END_TEST

/* An unbalanced or failed writer reports it. */
START_TEST(test_json_stream_fails)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct mp_jw *w = mp_jw_new(f, false);
	mp_jw_obj(w, NULL);
	ck_assert(!mp_jw_failed(w));
	ck_assert(!mp_jw_free(w)); /* never closed */
	w = mp_jw_new(f, false);
	mp_jw_end(w);
	ck_assert(mp_jw_failed(w));
	ck_assert(!mp_jw_free(w));
	w = mp_jw_new(f, false);
	for (int i = 0; i < 65; i++)
		mp_jw_arr(w, NULL);
	ck_assert(mp_jw_failed(w)); /* deeper than 64 */
	ck_assert(!mp_jw_free(w));
	fclose(f);
	free(text);
}
END_TEST

Suite *suite_escape(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("escape");
	tcase_add_test(tc, test_term_controls);
	tcase_add_test(tc, test_term_utf8);
	tcase_add_test(tc, test_term_truncation);
	tcase_add_test(tc, test_json_text);
	tcase_add_test(tc, test_json_print_parsed);
	tcase_add_test(tc, test_json_stream_same);
	tcase_add_test(tc, test_json_stream_fails);
	suite_add_tcase(s, tc);
	return s;
}
