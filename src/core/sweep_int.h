/* sweep_int.h — private to sweep_load.c (manifests) and sweep_pickle.c
 * (sweep files in the research layout). */
#ifndef MP_SWEEP_INT_H
#define MP_SWEEP_INT_H

#include "model.h"
#include "sweep.h"

/* Fill model i of s (its width s->m[i].d set, >= 1) from the tensors
 * lr_name (2d x 2P) and proj_name (P x d) of mdl; errors name path and
 * the tensor (missing, not floating, wrong shape, non-finite value). */
mp_status mp_sweep_fill(struct mp_sweep *s, size_t i,
			const struct mp_model *mdl, const char *path,
			const char *lr_name, const char *proj_name,
			struct mp_error *err);

/* Load the sweep file path (sweep_pickle.c; man/modelprint-files.5,
 * "Sweep file"), with the layer names lr_name and proj_name (not NULL). */
mp_status mp_sweep_load_pickle(const char *path, const char *lr_name,
			       const char *proj_name, struct mp_sweep **out,
			       struct mp_error *err);

#endif
