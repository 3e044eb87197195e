/* experiment.h — experiment configs (seed 000 format: models, methods,
 * method_args, metrics) and their results: fingerprints per method and
 * model, and similarity matrices per method and metric. */
#ifndef MP_EXPERIMENT_H
#define MP_EXPERIMENT_H

#include "registry.h"
#include "simmatrix.h"

struct mp_config {
	size_t nmodels;
	char **models; /* ids */
	size_t nmethods;
	char **methods;
	mp_json *method_args; /* object keyed by method, owned, may be NULL */
	size_t nmetrics;
	char **metrics; /* each applies to every method that has it */
};

/* Parse and validate a config file: unknown methods, metrics or arguments
 * are errors listing the valid choices. Model ids are checked against reg
 * when reg is non-NULL. */
mp_status mp_config_load(const char *path, const struct mp_registry *reg,
			 struct mp_config **out, struct mp_error *err);
void mp_config_free(struct mp_config *c);

/* Where a run is, for a progress display: fingerprint step of steps
 * (1-based; steps = models x methods, reused ones count too), the model's
 * id and display name (from the registry: escape before showing), the
 * method, and bytes: the model files of the steps before this one
 * (done), of this one (size) and of all (total), from the sizes of the
 * files the registry lists. */
struct mp_run_step {
	size_t step, steps;
	const char *id, *name, *method;
	uint64_t done, size, total;
};

/* Options and outcome of mp_experiment_run. */
struct mp_run_opts {
	struct mp_regdb *registry; /* where model ids are resolved (open for
				    * writing with write_to_registry) */
	bool use_existing;        /* take fingerprints already in the registry */
	bool write_to_registry;   /* store computed fingerprints there */
	bool exact;               /* exact cosine/pearson from the files */
	/* A shard of the models (shard_n 0: all of them): only the models
	 * with mp_shard_of(id, shard_n) == shard_k are fingerprinted, taking
	 * stored ones as use_existing does and storing each model's new ones
	 * in one transaction, as write_to_registry does (both implied); no
	 * matrix is computed and no file written. */
	unsigned shard_k, shard_n;
	/* Under mpirun (mpi_size > 1, from mp_mpi_start; 0 or 1: one
	 * process): every rank calls mp_experiment_run with the same config
	 * and options; the pairs of each matrix are split in tiles over the
	 * ranks (pair_tiles.h), each rank fingerprints (or, with
	 * use_existing, reads) only the models its tiles need, and rank 0
	 * gathers the values and alone writes the files, equal byte for
	 * byte to one process's; res counts every (model, method) once, on
	 * rank 0. Not with write_to_registry or a shard (MP_EINVAL). */
	int mpi_rank, mpi_size;
	/* Called (when non-NULL) on the rank that computed tile number tile
	 * (of every matrix's tiles, counted from 0 on this rank). */
	void (*tile_done)(void *ctx, size_t tile);
	void *tile_ctx;
	const char *output_dir;   /* fingerprints.json, similarity_matrices.json */
	int threads;              /* 0 = all CPUs */
	const struct mp_progress *progress;
	/* Called (when non-NULL) from the calling thread as each fingerprint
	 * step starts, before progress reports its bytes. */
	void (*step)(void *ctx, const struct mp_run_step *s);
	void *step_ctx;
	/* Called (when non-NULL) from the calling thread with a one-line
	 * notice that is safe for a terminal, e.g. "fingerprint of model 3
	 * (tensors) is stale: recomputing (...)". */
	void (*notice)(void *ctx, const char *msg);
	void *notice_ctx;
};
struct mp_run_result {
	size_t computed, reused; /* fingerprints computed / taken as they were */
	size_t stale;            /* of computed: stored ones that did not fit */
	/* (model, method) pairs the method does not apply to (MP_ENOTAPPLIC):
	 * no fingerprint, their matrix cells undefined */
	size_t not_applicable;
	/* models with a fingerprint computed / with every one reused / left
	 * to other shards (with shard_n only) */
	size_t models_done, models_skipped, models_other;
	char *fingerprints_path, *matrices_path; /* files written (owned) */
};

/* Run an experiment: fingerprints for every (model, method), then every
 * requested metric's matrix, written to opts->output_dir. With
 * use_existing a stored fingerprint is taken only when it is of the method,
 * names the model, records the SHA-256s of the registry entry's files and
 * used the config's method arguments; otherwise (or when it cannot be read)
 * it is stale: recomputed, with a notice, when the model opens, else an
 * error naming the fingerprint file and the reason. A method that does
 * not apply to a model (MP_ENOTAPPLIC from mp_fp_compute) is no error:
 * a notice, no fingerprint stored or written, and that model's cells of
 * the method's matrices undefined (MP_REASON_NOT_APPLIC). */
mp_status mp_experiment_run(const struct mp_config *c,
			    const struct mp_run_opts *opts,
			    struct mp_run_result *res, struct mp_error *err);
void mp_run_result_done(struct mp_run_result *res);

#endif
