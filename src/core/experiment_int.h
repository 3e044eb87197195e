/* experiment_int.h — the parts of the experiment runner (experiment.c)
 * that its MPI form (experiment_mpi.c) shares. */
#ifndef MP_EXPERIMENT_INT_H
#define MP_EXPERIMENT_INT_H

#include "experiment.h"

/* Fingerprint the models i with mine[i] with every method into
 * fps[m * nmodels + i] (reused from the registry with use_existing or a
 * shard, stored there with write_to_registry or a shard), model by
 * model; res counts only the models with counted[i] (all when counted is
 * NULL), and only those give notices. keep false frees each model's
 * fingerprints once stored. */
mp_status mp_exp_fingerprints(const struct mp_config *c,
			      const struct mp_run_opts *o,
			      const struct mp_registry *reg, const bool *mine,
			      const bool *counted, bool keep,
			      struct mp_fingerprint **fps,
			      struct mp_run_result *res, struct mp_error *err);

/* The --exact matrices (into mats), then fingerprints.json (the tree
 * fpfile) and similarity_matrices.json written atomically into
 * o->output_dir (when set), their paths into res. */
mp_status mp_exp_write(const struct mp_config *c, const struct mp_run_opts *o,
		       const struct mp_registry *reg, mp_json *fpfile,
		       struct mp_simmatrix **mats, size_t nmats,
		       struct mp_run_result *res, struct mp_error *err);

/* mp_experiment_run with o->mpi_size > 1 (experiment_mpi.c). */
mp_status mp_experiment_run_mpi(const struct mp_config *c,
				const struct mp_run_opts *o,
				struct mp_run_result *res,
				struct mp_error *err);

#endif
