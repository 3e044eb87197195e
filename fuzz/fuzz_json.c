/* fuzz_json.c — libFuzzer harness for every JSON input modelprint reads:
 * fingerprint files, similarity-matrices files (both readers, then the
 * family analysis and the correlation of what they accept), experiment
 * configs, model-info files and the registry's models.json. */
#include "correlate.h"
#include "experiment.h"
#include "groups.h"
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/mpfuzzj.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	struct mp_error err;
	mp_json *j;
	if (mp_json_parse((const char *)data, size, "input", &j, &err) == MP_OK) {
		struct mp_fingerprint *fp;
		if (mp_fp_from_json(j, "input", &fp, &err) == MP_OK)
			mp_fp_free(fp);
		struct mp_simmatrix **ms;
		size_t n;
		if (mp_simmatrix_list_from_json(j, "input", &ms, &n, &err) == MP_OK) {
			for (size_t i = 0; i < n; i++)
				mp_simmatrix_free(ms[i]);
			free(ms);
		}
		mp_json_free(j);
	}
	char p[128];
	snprintf(p, sizeof p, "%s/models.json", dir);
	FILE *f = fopen(p, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size))
		abort();
	fclose(f);
	struct mp_registry *r;
	if (mp_registry_load(dir, &r, &err) == MP_OK)
		mp_registry_free(r);
	struct mp_config *c;
	if (mp_config_load(p, NULL, &c, &err) == MP_OK)
		mp_config_free(c);
	struct mp_model_info_set *info = NULL;
	if (mp_model_info_load(p, &info, &err) != MP_OK)
		info = NULL;
	struct mp_simmatrix_file *sf;
	if (mp_simmatrix_file_open(p, &sf, &err) == MP_OK) {
		struct mp_simmatrix *m[2] = {NULL, NULL};
		size_t got = 0;
		for (size_t i = 0; i < sf->n && got < 2; i++)
			if (mp_simmatrix_file_get(sf, i, &m[got], &err) == MP_OK)
				got++;
		for (size_t i = 0; i < got; i++) {
			struct mp_analysis *a;
			if (mp_analysis_compute(m[i], info, &a, &err) == MP_OK) {
				mp_json_free(mp_analysis_to_json(a));
				mp_analysis_free(a);
			}
		}
		struct mp_correlation *co;
		if (got == 2 &&
		    mp_correlate((const struct mp_simmatrix *const *)m, 2, &co,
				 &err) == MP_OK)
			mp_correlation_free(co);
		mp_simmatrix_free(m[0]);
		mp_simmatrix_free(m[1]);
		mp_simmatrix_file_close(sf);
	}
	mp_model_info_free(info);
	return 0;
}
