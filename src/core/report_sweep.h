/* report_sweep.h — the self-contained HTML page of a sweep (sweep.html):
 * the three similarity heatmaps side by side, the accuracy-vs-width
 * curve, one scatter plot per pair of metrics with its Pearson r, and a
 * per-model profile chooser. Data inlined as a JS object literal, no
 * network access at view time. */
#ifndef MP_REPORT_SWEEP_H
#define MP_REPORT_SWEEP_H

#include "sweep.h"

/* Write the page of sweep s and its result r to path. pearson, when not
 * NULL, is the 3 x 3 Pearson r matrix (row-major, metric order TN, logit
 * cosine, JS with JS negated, NAN when undefined) shown on the scatter
 * plots; NULL shows none. The sweep's name is escaped. Errors: MP_ENOMEM,
 * and those of mp_atomic_write naming path. */
mp_status mp_report_sweep_html(const char *path, const struct mp_sweep *s,
			       const struct mp_sweep_result *r,
			       const double *pearson, struct mp_error *err);

/* The page's script (report_html_assets.c, from report_sweep.js). */
extern const char mp_report_sweep_js[];

#endif
