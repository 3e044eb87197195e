/* tui_sweep.h — the sweep view's state: a sweep loaded from its manifest,
 * its three similarity matrices (TN, logit cosine, frequency JS) with ids
 * "d=D" and their colour scales, each model's accuracy, and the Pearson
 * correlation of the metrics (JS negated), computed once on open with the
 * calls `modelprint sweep` makes. Nothing here draws. The state owns the
 * sweep, the matrices and the correlation. */
#ifndef MP_TUI_SWEEP_H
#define MP_TUI_SWEEP_H

#include "correlate.h"
#include "heat_cells.h"
#include "sweep.h"

#define MP_TUI_SW_NMET 3
#define MP_TUI_SW_EVECS 4 /* sweep's default --n-evecs */

struct mp_tui_sw {
	struct mp_sweep *s;
	struct mp_sweep_result r;
	struct mp_simmatrix *ms[MP_TUI_SW_NMET]; /* tn, logit_cosine, freq_js */
	struct mp_heat_scale sc[MP_TUI_SW_NMET];
	struct mp_correlation *corr; /* NULL when it cannot be computed */
	struct mp_error note;	     /* why corr is NULL, else "" */
};

/* Short labels of the metrics ("TN", "logit", "JS") and their titles. */
extern const char *const mp_tui_sw_label[MP_TUI_SW_NMET];
extern const char *const mp_tui_sw_title[MP_TUI_SW_NMET];

/* Load the sweep of path (a manifest, or a directory holding
 * manifest.json, as `sweep synth --out` writes) and compute everything;
 * errors name the manifest or the model file and the problem. */
mp_status mp_tui_sw_open(const char *path, struct mp_tui_sw **out,
			 struct mp_error *err);
/* Free sw (NULL allowed). */
void mp_tui_sw_free(struct mp_tui_sw *sw);

#endif
