/* shard.c — the stable split of models over array tasks. */
#include "shard.h"

#include <openssl/evp.h>
#include <string.h>

/* A decimal integer in 0..max, digits only. */
static bool parse_uint(const char *s, size_t len, unsigned long max,
		       unsigned long *out)
{
	unsigned long v = 0;
	if (len == 0 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

mp_status mp_shard_parse(const char *text, unsigned *k, unsigned *n,
			 struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	const char *slash = strchr(text, '/');
	unsigned long kk, nn;
	if (!slash || !parse_uint(text, (size_t)(slash - text), MP_SHARD_MAX, &kk) ||
	    !parse_uint(slash + 1, strlen(slash + 1), MP_SHARD_MAX, &nn))
		return mp_error_set(err, MP_EINVAL,
				    "--shard '%s': expected K/N or auto, with "
				    "1 <= K <= N <= %d",
				    mp_printable(text, show), MP_SHARD_MAX);
	if (nn == 0 || kk < 1 || kk > nn)
		return mp_error_set(err, MP_EINVAL,
				    "--shard '%s': K must be 1 to N (shards are "
				    "numbered from 1)",
				    mp_printable(text, show));
	*k = (unsigned)kk;
	*n = (unsigned)nn;
	return MP_OK;
}

/* One variable of the environment as an integer; *set false when unset. */
static mp_status env_uint(const char *name, const char *val, bool *set,
			  unsigned long *out, struct mp_error *err)
{
	char show[MP_NAME_SHOW + 8];
	*set = val != NULL;
	if (!val)
		return MP_OK;
	if (!parse_uint(val, strlen(val), 100000000UL, out))
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: %s='%s' is not a task number",
				    name, mp_printable(val, show));
	return MP_OK;
}

mp_status mp_shard_from_env(const struct mp_shard_env *e, unsigned *k,
			    unsigned *n, struct mp_error *err)
{
	unsigned long id = 0, lo = 1, hi = 0, count = 0, step = 1;
	bool has_id, has_lo, has_hi, has_count, has_step;
	mp_status st;
	if ((st = env_uint("SLURM_ARRAY_TASK_ID", e->task_id, &has_id, &id,
			   err)) != MP_OK ||
	    (st = env_uint("SLURM_ARRAY_TASK_MIN", e->task_min, &has_lo, &lo,
			   err)) != MP_OK ||
	    (st = env_uint("SLURM_ARRAY_TASK_MAX", e->task_max, &has_hi, &hi,
			   err)) != MP_OK ||
	    (st = env_uint("SLURM_ARRAY_TASK_COUNT", e->task_count, &has_count,
			   &count, err)) != MP_OK ||
	    (st = env_uint("SLURM_ARRAY_TASK_STEP", e->task_step, &has_step,
			   &step, err)) != MP_OK)
		return st;
	if (!has_id)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: SLURM_ARRAY_TASK_ID is not "
				    "set (not a Slurm array task? give --shard "
				    "K/N)");
	if (!has_hi && !has_count)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: neither SLURM_ARRAY_TASK_MAX "
				    "nor SLURM_ARRAY_TASK_COUNT is set");
	if (has_step && step != 1)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: SLURM_ARRAY_TASK_STEP=%lu "
				    "(an array with a step cannot be split; use "
				    "--array=1-N)",
				    step);
	if (has_count && count == 0)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: SLURM_ARRAY_TASK_COUNT=0");
	if (!has_lo)
		lo = has_hi && has_count && hi + 1 >= count ? hi + 1 - count : 1;
	if (has_hi && hi < lo)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: SLURM_ARRAY_TASK_MAX=%lu is "
				    "below SLURM_ARRAY_TASK_MIN=%lu",
				    hi, lo);
	if (!has_hi)
		hi = lo + count - 1;
	if (has_count && count != hi - lo + 1)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: SLURM_ARRAY_TASK_COUNT=%lu "
				    "but MIN..MAX is %lu..%lu (an array with gaps "
				    "cannot be split; use --array=1-N)",
				    count, lo, hi);
	if (id < lo || id > hi)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: SLURM_ARRAY_TASK_ID=%lu is "
				    "outside %lu..%lu",
				    id, lo, hi);
	if (hi - lo + 1 > MP_SHARD_MAX)
		return mp_error_set(err, MP_EINVAL,
				    "--shard auto: %lu tasks (at most %d)",
				    hi - lo + 1, MP_SHARD_MAX);
	*k = (unsigned)(id - lo + 1);
	*n = (unsigned)(hi - lo + 1);
	return MP_OK;
}

unsigned mp_shard_of(const char *id, unsigned n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	if (n <= 1 || !EVP_Digest(id, strlen(id), md, &len, EVP_sha256(), NULL) ||
	    len < 8)
		return 1;
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | md[i];
	return (unsigned)(h % n) + 1;
}
