/* report_html.h — self-contained HTML reports: the dashboard of one
 * family/type analysis and the metric-correlation page. Each is one file
 * with inline CSS and JS and its data embedded (no network access at view
 * time). The functions borrow their inputs and write the page atomically;
 * the caller owns everything it passes. */
#ifndef MP_REPORT_HTML_H
#define MP_REPORT_HTML_H

#include "cluster_cut.h"
#include "correlate.h"
#include "groups.h"

/* Write the dashboard of analysis a to path: a canvas heatmap of the
 * matrix (rows in a->order, family boundaries marked, zoom with the wheel,
 * pan by dragging, a tooltip with both models and the value, null cells
 * drawn apart with their reason), quartile bars of the intrafamily and
 * interfamily groups, the three statistics tables and a paged, filterable
 * list of every pair in a->pairs order. The matrix is embedded as base64
 * little-endian Float32 (NaN where null), the pairs as base64 Uint16 or
 * Uint32 (i, j) couples. Every string from a file is escaped. Errors:
 * MP_ENOMEM, and the I/O errors of mp_atomic_write naming path. */
mp_status mp_report_html_dashboard(const char *path,
				   const struct mp_analysis *a,
				   struct mp_error *err);

/* The same with a table of the clusters of cut (NULL: none), whose rows
 * are those of a->m. */
mp_status mp_report_html_dashboard_clusters(const char *path,
					    const struct mp_analysis *a,
					    const struct mp_cluster_cut *cut,
					    struct mp_error *err);

/* Write the correlation page of c to path: the Pearson r table, the
 * summary of each metric, one scatter plot per pair of metrics (at most
 * about 20,000 points each, chosen by a fixed hash of the pair index) and a per-model profile
 * (one model against all others, every metric on one chart, divergences
 * negated and labelled so). info may be NULL; when given it supplies the
 * display names, families and types of the ids. Each metric's values are
 * embedded as base64 Float32 over the upper triangle of the common models.
 * Errors as for mp_report_html_dashboard. */
mp_status mp_report_html_correlation(const char *path,
				     const struct mp_correlation *c,
				     const struct mp_model_info_set *info,
				     struct mp_error *err);

/* The page's script and style sheet (report_html_assets.c, generated at
 * build time from report_html.js and report_html.css). */
extern const char mp_report_html_js[];
extern const char mp_report_html_css[];

#endif
