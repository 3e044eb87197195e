/* tui_sweep.c — loading and computing a sweep for the sweep view: the
 * manifest, mp_sweep_compute, the matrices as simmatrices, their scales and
 * mp_correlate over them. */
#include "tui_sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const mp_tui_sw_label[MP_TUI_SW_NMET] = {"TN", "logit", "JS"};
const char *const mp_tui_sw_title[MP_TUI_SW_NMET] = {
	"TN similarity", "logit cosine", "frequency JS"};
static const char *const metric_name[MP_TUI_SW_NMET] = {
	"tn", "logit_cosine", "freq_js"};

void mp_tui_sw_free(struct mp_tui_sw *sw)
{
	if (!sw)
		return;
	mp_correlation_free(sw->corr);
	for (int t = 0; t < MP_TUI_SW_NMET; t++)
		mp_simmatrix_free(sw->ms[t]);
	mp_sweep_result_done(&sw->r);
	mp_sweep_free(sw->s);
	free(sw);
}

/* Matrix t of the result as a simmatrix (ids "d=D", null where NaN). */
static struct mp_simmatrix *matrix(const struct mp_tui_sw *sw, int t)
{
	const double *v[MP_TUI_SW_NMET] = {sw->r.tn, sw->r.logit, sw->r.js};
	size_t n = sw->s->n;
	struct mp_simmatrix *m = mp_simmatrix_new("sweep", metric_name[t], n);
	if (!m)
		return NULL;
	m->higher_is_more_alike = t != 2;
	m->estimate = MP_ESTIMATE_EXACT;
	for (size_t i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof id, "d=%u", sw->s->m[i].d);
		if (!(m->ids[i] = mp_strdup(id))) {
			mp_simmatrix_free(m);
			return NULL;
		}
	}
	for (size_t q = 0; q < n * n; q++) {
		m->value[q] = v[t][q];
		m->reason[q] = isnan(v[t][q]) ? "undefined" : NULL;
	}
	return m;
}

mp_status mp_tui_sw_open(const char *path, struct mp_tui_sw **out,
			 struct mp_error *err)
{
	struct stat sb;
	char *manifest = NULL;
	*out = NULL;
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		size_t len = strlen(path) + sizeof "/manifest.json";
		if (!(manifest = malloc(len)))
			return mp_error_set(err, MP_ENOMEM, "out of memory");
		snprintf(manifest, len, "%s/manifest.json", path);
	}
	struct mp_tui_sw *sw = calloc(1, sizeof *sw);
	mp_status st = sw ? MP_OK
			  : mp_error_set(err, MP_ENOMEM, "out of memory");
	if (st == MP_OK)
		st = mp_sweep_load(manifest ? manifest : path, NULL, NULL,
				   &sw->s, err);
	free(manifest);
	if (st == MP_OK)
		st = mp_sweep_compute(sw->s, MP_TUI_SW_EVECS, &sw->r, err);
	for (int t = 0; st == MP_OK && t < MP_TUI_SW_NMET; t++) {
		if (!(sw->ms[t] = matrix(sw, t)))
			st = mp_error_set(err, MP_ENOMEM, "out of memory");
		else
			st = mp_heat_scale_compute(sw->ms[t], &sw->sc[t], err);
	}
	if (st != MP_OK) {
		mp_tui_sw_free(sw);
		return st;
	}
	const struct mp_simmatrix *cm[MP_TUI_SW_NMET] = {sw->ms[0], sw->ms[1],
							 sw->ms[2]};
	if (mp_correlate(cm, MP_TUI_SW_NMET, &sw->corr, &sw->note) != MP_OK)
		sw->corr = NULL;
	else
		sw->note.msg[0] = '\0';
	*out = sw;
	return MP_OK;
}
