/* htmlbench.c — time the HTML pages alone: htmlbench RESULTS MODEL_INFO
 * OUT_DIR reads every matrix of RESULTS, analyses the first one, then
 * times mp_report_html_dashboard (OUT_DIR/dashboard.html) and, over all
 * matrices, mp_report_html_correlation (OUT_DIR/correlation.html). Prints
 * one line per page: seconds and megabytes. */
#include "correlate.h"
#include "groups.h"
#include "report_html.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double mbytes(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: htmlbench RESULTS MODEL_INFO OUT_DIR\n");
		return 2;
	}
	struct mp_error err;
	struct mp_simmatrix_file *f = NULL;
	struct mp_model_info_set *info = NULL;
	struct mp_simmatrix *ms[8] = {0};
	struct mp_analysis *a = NULL;
	struct mp_correlation *c = NULL;
	char *dash = mp_path_join(argv[3], "dashboard.html");
	char *corr = mp_path_join(argv[3], "correlation.html");
	size_t k = 0;
	int rc = 1;
	if (mp_simmatrix_file_open(argv[1], &f, &err) != MP_OK ||
	    mp_model_info_load(argv[2], &info, &err) != MP_OK)
		goto out;
	for (k = 0; k < f->n && k < 8; k++)
		if (mp_simmatrix_file_get(f, k, &ms[k], &err) != MP_OK)
			goto out;
	if (mp_analysis_compute(ms[0], info, &a, &err) != MP_OK)
		goto out;
	double t0 = now();
	if (mp_report_html_dashboard(dash, a, &err) != MP_OK)
		goto out;
	printf("dashboard.html   %zu models: %.3f s, %.1f MB\n", a->n,
	       now() - t0, mbytes(dash));
	if (k >= 2) {
		if (mp_correlate((const struct mp_simmatrix *const *)ms, k, &c,
				 &err) != MP_OK)
			goto out;
		t0 = now();
		if (mp_report_html_correlation(corr, c, info, &err) != MP_OK)
			goto out;
		printf("correlation.html %zu models, %zu metrics: %.3f s, %.1f MB\n",
		       c->n, k, now() - t0, mbytes(corr));
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "htmlbench: %s\n", err.msg);
	mp_correlation_free(c);
	mp_analysis_free(a);
	for (size_t i = 0; i < 8; i++)
		mp_simmatrix_free(ms[i]);
	mp_model_info_free(info);
	mp_simmatrix_file_close(f);
	free(dash);
	free(corr);
	return rc;
}
