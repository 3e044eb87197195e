/* slurm.h — the sbatch scripts of `modelprint slurm`: a job array whose
 * task K of N runs `run --shard auto` (shard K/N of the config's models
 * into the registry), and a final step, submitted with
 * --dependency=afterok on the array, that runs `run --use-existing` to
 * compute the matrices. Text only: nothing here runs or prints. */
#ifndef MP_SLURM_H
#define MP_SLURM_H

#include "mp.h"

/* What the scripts run (every string borrowed). */
struct mp_slurm_job {
	const char *modelprint; /* absolute path of the program */
	const char *config;     /* absolute path of the config */
	const char *registry;   /* absolute path or postgresql:// URL */
	const char *dir;        /* absolute: logs (fingerprint-JOB_TASK.out,
				 * matrices-JOB.out) and results/ */
	unsigned tasks;         /* array tasks, 1..MP_SHARD_MAX */
	const char *partition;  /* NULL: the cluster's default */
	const char *time;       /* time limit per task (sbatch --time), NULL:
				 * the partition's */
};

/* The array script (#SBATCH --array=1-N, matching --shard auto) into
 * *array and the final step's into *final (caller frees both). Refuses
 * (MP_EINVAL, naming the field) a dir with whitespace, quotes, a
 * backslash or a control character (it goes on #SBATCH lines), control
 * characters in any path, a partition other than letters, digits and
 * "_.,-", and a time other than digits and ":-". */
mp_status mp_slurm_scripts(const struct mp_slurm_job *job, char **array,
			   char **final, struct mp_error *err);

/* The job id in the output of sbatch (with or without --parsable: the
 * last line that is "N", "N;CLUSTER" or "Submitted batch job N...") into
 * id; MP_EFORMAT when there is none. */
mp_status mp_slurm_job_id(const char *out, char id[32], struct mp_error *err);

#endif
