/* genmatrix.c — write a similarity-matrices file and a model-info file for
 * the analysis benchmark: genmatrix OUT_DIR [MODELS [FAMILIES [METRICS]]]
 * (defaults 2000 models, 40 families, 2 metrics: tensors/l1, then
 * spectral/js, a divergence). Writes OUT_DIR/similarity_matrices.json and
 * OUT_DIR/model-info.json. Model i belongs to family i % FAMILIES and has
 * one of five types; scores are pseudo-random, higher within a family, and
 * one pair in 1,000 is null, as when two models share no tensors. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Deterministic score of pair (i, j), i < j; NAN for a null pair. */
static double score(int i, int j, int fams, int metric)
{
	uint64_t h = mix(((uint64_t)i << 32) ^ (uint64_t)j ^
			 ((uint64_t)metric << 60));
	if (h % 1000 == 0)
		return NAN;
	double u = (double)(h >> 11) / 9007199254740992.0;
	double base = i % fams == j % fams ? 0.85 : 0.45;
	double s = base + 0.1 * (u - 0.5);
	return metric % 2 ? (1 - s) * 0.7 : s; /* odd: a divergence */
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: genmatrix OUT_DIR [MODELS [FAMILIES "
				"[METRICS]]]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 2000;
	int fams = argc > 3 ? atoi(argv[3]) : 40;
	int nmet = argc > 4 ? atoi(argv[4]) : 2;
	if (n < 2 || fams < 1 || nmet < 1 || nmet > 2) {
		fprintf(stderr, "genmatrix: bad sizes\n");
		return 2;
	}
	static const char *types[] = {"Base", "Lite", "Full", "Heavy",
				      "Sparse"};
	FILE *f = open_out(argv[1], "model-info.json");
	fputs("[\n", f);
	for (int i = 0; i < n; i++)
		fprintf(f,
			"  {\"model_id\": \"%d\", \"family\": \"Family%02d\", "
			"\"model_type\": \"%s\", \"display_name\": "
			"\"model-%d\"}%s\n",
			i + 1, i % fams, types[(i / fams) % 5], i + 1,
			i + 1 < n ? "," : "");
	fputs("]\n", f);
	fclose(f);

	f = open_out(argv[1], "similarity_matrices.json");
	static const char *names[][2] = {{"tensors", "l1"}, {"spectral", "js"}};
	fputs("{\"matrices\": {", f);
	for (int m = 0; m < nmet; m++) {
		fprintf(f, "%s\"%s\": {\"%s\": {\"models\": [", m ? ", " : "",
			names[m][0], names[m][1]);
		for (int i = 0; i < n; i++)
			fprintf(f, "%s\"%d\"", i ? ", " : "", i + 1);
		fprintf(f, "], \"higher_is_more_alike\": %s, \"values\": [\n",
			m % 2 ? "false" : "true");
		for (int i = 0; i < n; i++) {
			fputc('[', f);
			for (int j = 0; j < n; j++) {
				double v = i == j ? (m % 2 ? 0 : 1)
					  : score(i < j ? i : j, i < j ? j : i,
						  fams, m);
				if (j)
					fputc(',', f);
				if (isnan(v))
					fputs("null", f);
				else
					fprintf(f, "%.17g", v);
			}
			fprintf(f, "]%s\n", i + 1 < n ? "," : "");
		}
		fputs("], \"undefined\": [", f);
		int first = 1;
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++)
				if (isnan(score(i, j, fams, m))) {
					fprintf(f,
						"%s{\"i\": %d, \"j\": %d, "
						"\"reason\": \"no tensors in "
						"common\"}",
						first ? "" : ", ", i, j);
					first = 0;
				}
		fputs("]}}", f);
	}
	fputs("}}\n", f);
	if (fclose(f) != 0) {
		perror("similarity_matrices.json");
		return 1;
	}
	return 0;
}
