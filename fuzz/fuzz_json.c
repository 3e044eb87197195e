/* fuzz_json.c — libFuzzer harness for every JSON input modelprint reads:
 * fingerprint files, similarity-matrices files, experiment configs and the
 * registry's models.json. */
#include "experiment.h"
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
	return 0;
}
