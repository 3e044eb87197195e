/* check_escape.c — terminal and UTF-8 escaping of untrusted text. The
 * expected strings are written out by hand from the rules in escape.h. */
#include "check_suites.h"
#include "escape.h"
#include "json.h"
#include "mp.h"

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

Suite *suite_escape(void)
{
	Suite *s = suite_create("escape");
	TCase *tc = tcase_create("escape");
	tcase_add_test(tc, test_term_controls);
	tcase_add_test(tc, test_term_utf8);
	tcase_add_test(tc, test_term_truncation);
	tcase_add_test(tc, test_json_text);
	tcase_add_test(tc, test_json_print_parsed);
	suite_add_tcase(s, tc);
	return s;
}
