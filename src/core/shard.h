/* shard.h — splitting a config's models over the tasks of a job array
 * (`run --shard K/N`): a stable split by model id, and K/N from the text of
 * the option or from a Slurm array task's environment. Shards are 1-based:
 * 1 <= K <= N. No allocation; nothing here is owned. */
#ifndef MP_SHARD_H
#define MP_SHARD_H

#include "mp.h"

#define MP_SHARD_MAX 1000000

/* Parse "K/N" (decimal, 1 <= K <= N <= MP_SHARD_MAX, nothing else) into
 * *k, *n; anything else is MP_EINVAL with a message quoting text. */
mp_status mp_shard_parse(const char *text, unsigned *k, unsigned *n,
			 struct mp_error *err);

/* The values of a Slurm array task's variables (NULL when unset). */
struct mp_shard_env {
	const char *task_id;    /* SLURM_ARRAY_TASK_ID */
	const char *task_min;   /* SLURM_ARRAY_TASK_MIN */
	const char *task_max;   /* SLURM_ARRAY_TASK_MAX */
	const char *task_count; /* SLURM_ARRAY_TASK_COUNT */
	const char *task_step;  /* SLURM_ARRAY_TASK_STEP */
};

/* K/N of `--shard auto`: N = MAX - MIN + 1 (or COUNT when MAX is unset),
 * K = ID - MIN + 1, so an array 1-N and an array 0-(N-1) both work. MIN
 * when unset is MAX - COUNT + 1 when both are set, else 1. ID is required, and one of MAX and
 * COUNT; each must be a decimal integer; when both are set they must agree,
 * the step (when set) must be 1 and ID must lie in MIN..MAX. Otherwise
 * MP_EINVAL naming the variable and the problem. */
mp_status mp_shard_from_env(const struct mp_shard_env *env, unsigned *k,
			    unsigned *n, struct mp_error *err);

/* The 1-based shard of n that model id falls in: the first 8 bytes of the
 * SHA-256 of id, as a big-endian integer, mod n, plus 1. */
unsigned mp_shard_of(const char *id, unsigned n);

#endif
