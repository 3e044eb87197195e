/* slurm.c — the sbatch scripts of `modelprint slurm`. */
#include "slurm.h"
#include "shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether s has no control character. */
static bool printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Whether s is non-empty and made of characters of set only. */
static bool only(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

#define DIGITS "0123456789"
#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* s in single quotes for sh ('\'' for each quote). */
static void sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

/* The header lines both scripts share, then `exec modelprint run
 * --config C --registry R`, left open for the caller's options. */
static void script_start(FILE *f, const struct mp_slurm_job *j,
			 const char *what, const char *name, const char *out)
{
	fprintf(f, "#!/bin/sh\n# modelprint slurm: %s\n", what);
	fprintf(f, "#SBATCH --job-name=%s\n", name);
	fprintf(f, "#SBATCH --output=%s/%s\n", j->dir, out);
	if (j->partition)
		fprintf(f, "#SBATCH --partition=%s\n", j->partition);
	if (j->time)
		fprintf(f, "#SBATCH --time=%s\n", j->time);
}

static void run_line(FILE *f, const struct mp_slurm_job *j)
{
	fputs("exec ", f);
	sh_quote(f, j->modelprint);
	fputs(" run --config ", f);
	sh_quote(f, j->config);
	fputs(" --registry ", f);
	sh_quote(f, j->registry);
}

static mp_status check_job(const struct mp_slurm_job *j, struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	if (j->tasks < 1 || j->tasks > MP_SHARD_MAX)
		return mp_error_set(err, MP_EINVAL, "--tasks %u: 1 to %d",
				    j->tasks, MP_SHARD_MAX);
	if (!printable(j->dir) || strpbrk(j->dir, " \t'\"\\"))
		return mp_error_set(err, MP_EINVAL,
				    "script directory '%s': no spaces, quotes, "
				    "backslashes or control characters (it "
				    "goes on #SBATCH lines)",
				    mp_printable(j->dir, show));
	const char *paths[] = {j->modelprint, j->config, j->registry};
	const char *what[] = {"program path", "config path", "registry"};
	for (int i = 0; i < 3; i++)
		if (!printable(paths[i]))
			return mp_error_set(err, MP_EINVAL,
					    "%s '%s' has a control character",
					    what[i], mp_printable(paths[i], show));
	if (j->partition && !only(j->partition, LETTERS DIGITS "_.,-"))
		return mp_error_set(err, MP_EINVAL,
				    "--partition '%s': letters, digits and "
				    "_.,- only",
				    mp_printable(j->partition, show));
	if (j->time && !only(j->time, DIGITS ":-"))
		return mp_error_set(err, MP_EINVAL,
				    "--time '%s': a Slurm time (minutes, "
				    "HH:MM:SS or D-HH:MM)",
				    mp_printable(j->time, show));
	return MP_OK;
}

/* The text f was writing into *out, or MP_ENOMEM. */
static mp_status stream_done(FILE *f, char **buf, char **out,
			     struct mp_error *err)
{
	bool bad = ferror(f) != 0;
	if (fclose(f) != 0 || bad) {
		free(*buf);
		*buf = NULL;
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	*out = *buf;
	return MP_OK;
}

mp_status mp_slurm_scripts(const struct mp_slurm_job *j, char **array,
			   char **final, struct mp_error *err)
{
	*array = *final = NULL;
	mp_status st = check_job(j, err);
	if (st != MP_OK)
		return st;
	char *abuf = NULL, *fbuf = NULL;
	size_t alen, flen;
	FILE *a = open_memstream(&abuf, &alen);
	if (!a)
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	script_start(a, j, "fingerprints, one shard of the models per task",
		     "modelprint-fingerprints", "fingerprint-%A_%a.out");
	fprintf(a, "#SBATCH --array=1-%u\n", j->tasks);
	run_line(a, j);
	fputs(" --shard auto\n", a);
	st = stream_done(a, &abuf, array, err);
	if (st != MP_OK)
		return st;
	FILE *f = open_memstream(&fbuf, &flen);
	if (!f) {
		free(*array);
		*array = NULL;
		return mp_error_set(err, MP_ENOMEM, "out of memory");
	}
	script_start(f, j,
		     "the similarity matrices from the registry, after the "
		     "array job (sbatch --dependency=afterok:ARRAY_JOB)",
		     "modelprint-matrices", "matrices-%j.out");
	run_line(f, j);
	/* dir has no quote (check_job) */
	fprintf(f, " --use-existing --output-dir '%s/results'\n", j->dir);
	st = stream_done(f, &fbuf, final, err);
	if (st != MP_OK) {
		free(*array);
		*array = NULL;
	}
	return st;
}

/* Whether line (len bytes) holds a job id: digits, then end, ';' or (after
 * "Submitted batch job ") a space. */
static bool line_id(const char *line, size_t len, char id[32])
{
	static const char pre[] = "Submitted batch job ";
	if (len >= sizeof pre - 1 && memcmp(line, pre, sizeof pre - 1) == 0) {
		line += sizeof pre - 1;
		len -= sizeof pre - 1;
	}
	size_t d = 0;
	while (d < len && d < 20 && line[d] >= '0' && line[d] <= '9')
		d++;
	if (d == 0 || (d < len && line[d] != ';' && line[d] != ' ' &&
		       line[d] != '\r'))
		return false;
	memcpy(id, line, d);
	id[d] = '\0';
	return true;
}

mp_status mp_slurm_job_id(const char *out, char id[32], struct mp_error *err)
{
	bool found = false;
	char cand[32];
	for (const char *p = out; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (line_id(p, len, cand)) {
			memcpy(id, cand, sizeof cand);
			found = true;
		}
		p += len + (nl != NULL);
	}
	if (found)
		return MP_OK;
	char show[MP_NAME_SHOW + 8];
	return mp_error_set(err, MP_EFORMAT,
			    "sbatch printed no job id (output: '%s')",
			    mp_printable(out, show));
}
