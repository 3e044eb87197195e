/* llm_io_tool.c — test driver for mp_io_fingerprint (tests/llm.sh):
 *   llm_io_tool MODEL PROBES TARGETS N0
 * PROBES "1,2;3,4,5" (token id lists), TARGETS "7,8"; prints the
 * fingerprint, space separated, or one error line and exit 1. */
#include "llm_io.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>

/* Parse ids separated by ',' and sequences by ';' into ids/off. */
static size_t parse(const char *s, int32_t *ids, size_t *off, size_t max)
{
	size_t n = 0, k = 0;
	off[0] = 0;
	while (*s && n < max) {
		char *end;
		ids[n++] = (int32_t)strtol(s, &end, 10);
		s = end;
		if (*s == ';' || !*s)
			off[++k] = n;
		if (*s)
			s++;
	}
	return k;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: llm_io_tool MODEL PROBES TARGETS N0\n");
		return 2;
	}
	enum { MAX = 4096 };
	static int32_t ids[MAX], tg[MAX];
	static size_t off[MAX + 1], toff[MAX + 1];
	size_t np = parse(argv[2], ids, off, MAX);
	size_t nt = parse(argv[3], tg, toff, MAX) ? toff[1] : 0;
	struct mp_error err;
	struct mp_model *m = NULL;
	struct mp_llm *llm = NULL;
	double *v = NULL;
	size_t n = 0;
	int rc = 1;
	if (mp_model_open(argv[1], &m, &err) == MP_OK &&
	    mp_llm_open(m, &llm, &err) == MP_OK &&
	    mp_io_fingerprint(llm, ids, off, np, tg, nt, atoi(argv[4]), &v, &n,
			      &err) == MP_OK) {
		for (size_t i = 0; i < n; i++)
			printf("%s%.12g", i ? " " : "", v[i]);
		printf("\n");
		rc = 0;
	} else {
		fprintf(stderr, "llm_io_tool: %s\n", err.msg);
	}
	free(v);
	mp_llm_free(llm);
	mp_model_free(m);
	return rc;
}
