/* check_report_html.c — the HTML pages written from analyses and
 * correlations filled by hand: self-contained, every name escaped, the
 * embedded base64 data decoding (by a decoder written here) to the values. */
#include "check_suites.h"
#include "report_html.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTILE "</script><script>alert(1)</script>"
#define HOSTILE_JS                                                            \
	"\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"                 \
	"\\u003c/script\\u003e\""

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static size_t count(const char *hay, const char *needle)
{
	size_t k = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		k++;
	return k;
}

/* The base64 string after `key:"` decoded into bytes (malloc'd). */
static unsigned char *b64_field(const char *html, const char *key, size_t *n)
{
	const char *p = strstr(html, key);
	ck_assert_ptr_nonnull(p);
	p += strlen(key);
	const char *e = strchr(p, '"');
	ck_assert_ptr_nonnull(e);
	size_t len = (size_t)(e - p);
	ck_assert_uint_eq(len % 4, 0);
	unsigned char *out = malloc(len / 4 * 3 + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i += 4) {
		unsigned v = 0;
		int pad = 0;
		for (int t = 0; t < 4; t++) {
			char c = p[i + t];
			int d = c >= 'A' && c <= 'Z'   ? c - 'A'
				: c >= 'a' && c <= 'z' ? c - 'a' + 26
				: c >= '0' && c <= '9' ? c - '0' + 52
				: c == '+'	       ? 62
				: c == '/'	       ? 63
						       : (pad++, 0);
			v = v << 6 | (unsigned)d;
		}
		out[k++] = (unsigned char)(v >> 16);
		if (pad < 2)
			out[k++] = (unsigned char)(v >> 8);
		if (pad < 1)
			out[k++] = (unsigned char)v;
	}
	*n = k;
	return out;
}

static float le_f32(const unsigned char *b)
{
	uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
		     (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* 4 models: values symmetric, pair (1,3) null. */
static const char *ids4[] = {"a", "b", "c", HOSTILE};
static const char *names4[] = {"Mod\xc3\xa8le \xe2\x9c\x93 \xf0\x9f\x98\x80",
			       "bad \xff byte", "plain", HOSTILE};
static const char *fams4[] = {"F<1>", "F<1>", "G&\"H'", "G&\"H'"};
static const char *types4[] = {"Base", "Lite", "Base", "Base"};

static struct mp_simmatrix *matrix4(void)
{
	static const char *reasons[16];
	struct mp_simmatrix *m = calloc(1, sizeof *m);
	m->method = strdup("tensors");
	m->metric = strdup("l1");
	m->higher_is_more_alike = true;
	m->n = 4;
	m->ids = (char **)ids4;
	m->value = malloc(16 * sizeof(double));
	m->reason = reasons;
	const double up[4][4] = {{1, 0.9, 0.25, 0.5},
				 {0, 1, 0.125, NAN},
				 {0, 0, 1, 0.75},
				 {0, 0, 0, 1}};
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			m->value[i * 4 + j] = i <= j ? up[i][j] : up[j][i];
	reasons[1 * 4 + 3] = reasons[3 * 4 + 1] = "no tensors in common";
	return m;
}

static void matrix_free(struct mp_simmatrix *m)
{
	free(m->method);
	free(m->metric);
	free(m->value);
	free(m);
}

START_TEST(test_dashboard)
{
	struct mp_simmatrix *m = matrix4();
	struct mp_pair pairs[6] = {
		{0, 1, true, 0.9, NULL, true, 0, 0},
		{2, 3, true, 0.75, NULL, true, 1, -1},
		{0, 3, true, 0.5, NULL, false, 0, -1},
		{0, 2, true, 0.25, NULL, false, 0, -1},
		{1, 2, true, 0.125, NULL, false, 0, -1},
		{1, 3, false, NAN, "no tensors in common", false, 0, -1}};
	size_t order[4] = {0, 1, 3, 2};
	struct mp_group_stats intra[2] = {
		{MP_GROUP_INTRA, "F<1>", {"F<1>", "F<1>"}, 1, 0, 0.9, 0.9, 0.9,
		 0, 0.9, 0.9, 0.9, NULL},
		{MP_GROUP_INTRA, "G&\"H'", {"G&\"H'", "G&\"H'"}, 1, 0, 0.75,
		 0.75, 0.75, 0, 0.75, 0.75, 0.75, NULL}};
	struct mp_group_stats inter[1] = {
		{MP_GROUP_INTER, "F<1> vs G&\"H'", {"F<1>", "G&\"H'"}, 3, 1,
		 0.125, 0.5, 0.875 / 3, 0.0364583333333333, 0.1875, 0.25,
		 0.375, NULL}};
	struct mp_group_stats tp[1] = {
		{MP_GROUP_TYPEPAIR, "Base-Lite", {"Base", "Lite"}, 1, 0, 0.9,
		 0.9, 0.9, 0, 0.9, 0.9, 0.9, NULL}};
	char *miss[1] = {"z\"<>"};
	struct mp_analysis a = {
		.m = m, .n = 4, .name = names4, .family = fams4,
		.type = types4, .order = order, .missing_in_results = miss,
		.n_missing_in_results = 1, .npairs = 6, .pairs = pairs,
		.n_null = 1, .intra = intra, .inter = inter, .typepair = tp,
		.n_intra = 2, .n_inter = 1, .n_typepair = 1};
	char *dir = tu_tmpdir(), *path = tu_path(dir, "dashboard.html");
	struct mp_error err = {{0}};
	ck_assert_int_eq(mp_report_html_dashboard(path, &a, &err), MP_OK);
	char *h = slurp(path);
	ck_assert(strncmp(h, "<!DOCTYPE html>", 15) == 0);
	ck_assert_ptr_null(strstr(h, "http://"));
	ck_assert_ptr_null(strstr(h, "https://"));
	ck_assert_ptr_null(strstr(h, "alert(1)</script>"));
	/* exactly our three script elements: error recorder, data, code */
	ck_assert_uint_eq(count(h, "<script"), 3);
	ck_assert_uint_eq(count(h, "</script>"), 3);
	/* every string escaped for a JS string inside a script element */
	ck_assert_ptr_nonnull(strstr(h, "names:[\"Mod\\u00e8le \\u2713 "
					"\\ud83d\\ude00\",\"bad \\ufffd byte\","
					"\"plain\"," HOSTILE_JS "],"));
	ck_assert_ptr_nonnull(strstr(h, "ids:[\"a\",\"b\",\"c\"," HOSTILE_JS "],"));
	ck_assert_ptr_nonnull(strstr(h, "family:[\"F\\u003c1\\u003e\",\"F\\u003c1"
					"\\u003e\",\"G\\u0026\\u0022H\\u0027\","));
	ck_assert_ptr_nonnull(strstr(h, "missingInResults:[\"z\\u0022\\u003c\\u003e\"]"));
	ck_assert_ptr_nonnull(strstr(h, "order:[0,1,3,2],"));
	ck_assert_ptr_nonnull(strstr(h, "higher:true,"));
	/* statistics as numbers that read back exactly */
	ck_assert_ptr_nonnull(strstr(h, "{label:\"Base-Lite\",k0:\"Base\","
					"k1:\"Lite\",n:1,nnull:0,min:0.9,q25:0.9,"));
	const char *q = strstr(h, "mean:0.29166666666666669,variance:");
	ck_assert_ptr_nonnull(q);
	ck_assert_double_eq(strtod(q + 5, NULL), 0.875 / 3);
	/* null cells (both halves) with their reason */
	ck_assert_ptr_nonnull(strstr(h, "reasons:[\"no tensors in common\"],"
					"\nnullCells:[7,0,13,0],"));
	/* the matrix: 16 little-endian float32, NaN where null */
	size_t nb;
	unsigned char *raw = b64_field(h, "matrix:\"", &nb);
	ck_assert_uint_eq(nb, 64);
	for (int c = 0; c < 16; c++) {
		float f = le_f32(raw + 4 * c);
		if (isnan(m->value[c]))
			ck_assert(isnan(f));
		else
			ck_assert_float_eq(f, (float)m->value[c]);
	}
	free(raw);
	/* the pairs: (i, j) as 16-bit little-endian couples, in order */
	ck_assert_ptr_nonnull(strstr(h, "pairWidth:2,"));
	raw = b64_field(h, "pairs:\"", &nb);
	ck_assert_uint_eq(nb, 24);
	for (int p = 0; p < 6; p++) {
		ck_assert_uint_eq(raw[4 * p] | raw[4 * p + 1] << 8, pairs[p].i);
		ck_assert_uint_eq(raw[4 * p + 2] | raw[4 * p + 3] << 8, pairs[p].j);
	}
	free(raw);
	/* the title is HTML-escaped text */
	ck_assert_ptr_nonnull(strstr(h, "<title>modelprint analysis: tensors / l1</title>"));
	free(h);

	/* a directory that does not exist: an error naming the path */
	char *bad = tu_path(dir, "no/such/dir.html");
	ck_assert_int_ne(mp_report_html_dashboard(bad, &a, &err), MP_OK);
	ck_assert_ptr_nonnull(strstr(err.msg, "no/such/dir.html"));
	free(bad);
	tu_rmtree(dir);
	free(path);
	free(dir);
	matrix_free(m);
}
END_TEST

START_TEST(test_title_escaped)
{
	struct mp_simmatrix *m = matrix4();
	free(m->metric);
	m->metric = strdup("<b>&x");
	size_t order[4] = {0, 1, 2, 3};
	struct mp_analysis a = {.m = m, .n = 4, .name = names4,
				.family = fams4, .type = types4,
				.order = order};
	char *dir = tu_tmpdir(), *path = tu_path(dir, "d.html");
	struct mp_error err = {{0}};
	ck_assert_int_eq(mp_report_html_dashboard(path, &a, &err), MP_OK);
	char *h = slurp(path);
	ck_assert_ptr_nonnull(strstr(h, "<title>modelprint analysis: tensors / &lt;b&gt;&amp;x</title>"));
	ck_assert_ptr_null(strstr(h, "<b>&x"));
	ck_assert_ptr_nonnull(strstr(h, "pairs:\"\""));
	free(h);
	tu_rmtree(dir);
	free(path);
	free(dir);
	matrix_free(m);
}
END_TEST

START_TEST(test_correlation)
{
	/* metric 0 over ids a b c HOSTILE; metric 1 (a divergence) lists
	   the same models in another order plus one extra */
	struct mp_simmatrix *m0 = matrix4();
	struct mp_simmatrix m1 = {.method = "tensors", .metric = "js",
				  .higher_is_more_alike = false, .n = 5};
	const char *ids1[5] = {"x", HOSTILE, "c", "b", "a"};
	m1.ids = (char **)ids1;
	double v1[25];
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 5; j++)
			v1[i * 5 + j] = i == j ? 0 : 0.01 * (i + j) + 0.001 * i * j;
	m1.value = v1;
	const struct mp_simmatrix *ms[2] = {m0, &m1};
	size_t r0[4] = {0, 1, 2, 3}, r1[4] = {4, 3, 2, 1};
	size_t *rows[2] = {r0, r1};
	double r[4] = {1, -0.5, -0.5, 1};
	struct mp_metric_summary sum[2] = {{0.5, 0.25, 0.125, 0.9},
					   {0.05, 0.01, 0.03, 0.07}};
	struct mp_correlation c = {.k = 2, .m = ms, .n = 4, .row = rows,
				   .npairs = 5, .n_excluded = 1, .r = r,
				   .summary = sum};
	struct mp_model_info inf[1] = {{"c", "Model <C>", "Fam", "Lite"}};
	size_t by_id[1] = {0};
	struct mp_model_info_set info = {1, inf, by_id};
	char *dir = tu_tmpdir(), *path = tu_path(dir, "correlation.html");
	struct mp_error err = {{0}};
	ck_assert_int_eq(mp_report_html_correlation(path, &c, &info, &err), MP_OK);
	char *h = slurp(path);
	ck_assert_ptr_null(strstr(h, "http://"));
	ck_assert_ptr_null(strstr(h, "https://"));
	ck_assert_uint_eq(count(h, "</script>"), 3);
	ck_assert_ptr_nonnull(strstr(h, "metrics:[\"l1\",\"js\"],"));
	ck_assert_ptr_nonnull(strstr(h, "higher:[true,false],"));
	ck_assert_ptr_nonnull(strstr(h, "names:[\"a\",\"b\",\"Model \\u003cC\\u003e\"," HOSTILE_JS "],"));
	ck_assert_ptr_nonnull(strstr(h, "type:[\"\",\"\",\"Lite\",\"\"],"));
	ck_assert_ptr_nonnull(strstr(h, "r:[1,-0.5,-0.5,1],"));
	ck_assert_ptr_nonnull(strstr(h, "summary:[{mean:0.5,std:0.25,min:0.125,max:0.9},"));
	/* metric 1's triangle in the common order a b c H: rows 4 3 2 1 */
	const char *p = strstr(h, "tri:[\"");
	ck_assert_ptr_nonnull(p);
	p = strstr(p + 6, "\"");
	size_t nb;
	unsigned char *raw = b64_field(p + 1, ",\n\"", &nb);
	ck_assert_uint_eq(nb, 6 * 4);
	int k = 0;
	for (int t = 0; t < 4; t++)
		for (int u = t + 1; u < 4; u++, k++)
			ck_assert_float_eq(le_f32(raw + 4 * k),
					   (float)v1[r1[t] * 5 + r1[u]]);
	free(raw);
	raw = b64_field(h, "tri:[\"", &nb);
	ck_assert_uint_eq(nb, 24);
	ck_assert_float_eq(le_f32(raw + 4 * 2), 0.5f); /* (a, H) */
	ck_assert(isnan(le_f32(raw + 4 * 4)));          /* (b, H) null */
	free(raw);
	free(h);
	/* without model info the ids are the names */
	ck_assert_int_eq(mp_report_html_correlation(path, &c, NULL, &err), MP_OK);
	h = slurp(path);
	ck_assert_ptr_nonnull(strstr(h, "names:[\"a\",\"b\",\"c\"," HOSTILE_JS "],"));
	free(h);
	/* metrics of two methods are named method/metric */
	m1.method = "spectral";
	ck_assert_int_eq(mp_report_html_correlation(path, &c, NULL, &err), MP_OK);
	h = slurp(path);
	ck_assert_ptr_nonnull(strstr(h, "metrics:[\"tensors/l1\",\"spectral/js\"],"));
	ck_assert_ptr_nonnull(strstr(h, "<title>modelprint correlation: several methods</title>"));
	free(h);
	tu_rmtree(dir);
	free(path);
	free(dir);
	matrix_free(m0);
}
END_TEST

Suite *suite_report_html(void)
{
	Suite *s = suite_create("report_html");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_dashboard);
	tcase_add_test(tc, test_title_escaped);
	tcase_add_test(tc, test_correlation);
	suite_add_tcase(s, tc);
	return s;
}
