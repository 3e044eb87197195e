/* cmd_generate.c — `modelprint generate MODEL --tokens IDS --greedy N`:
 * the next N token ids a causal LM picks greedily (arg max of the logits
 * at the last position, the lowest id on ties), from token ids. */
#include "cli.h"
#include "llm.h"
#include "model.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: modelprint generate MODEL --tokens ID,ID,... [--greedy N]\n"
	"                           [--logits] [--threads N] [--json]\n"
	"\n"
	"Run the forward pass of a causal language model (LLaMA family,\n"
	"Qwen2, Gemma, Phi-3, GPT-2; safetensors with config.json, GGUF,\n"
	"llama2.c) on the token ids and print the next N ids picked\n"
	"greedily, space separated.\n"
	"\n"
	"  --tokens IDS  the prompt, comma-separated token ids (at least one)\n"
	"  --greedy N    how many ids to generate (default 1, at most 100000)\n"
	"  --logits      first print the logits at the prompt's last position\n"
	"                (one line, space separated)\n"
	"  --threads N   threads of the forward pass (default 0: all CPUs;\n"
	"                the logits are the same for any count)\n"
	"  --json        print {\"model\", \"prompt\", \"generated\"} instead\n"
	"                (and \"logits\" with --logits)\n"
	"  -h, --help    this text\n";

#define GREEDY_MAX 100000

/* Parse "1,2,3" into a heap array. */
static int parse_ids(const char *arg, int32_t **ids, size_t *n)
{
	size_t cap = 1;
	for (const char *p = arg; *p; p++)
		cap += *p == ',';
	*ids = malloc(cap * sizeof **ids);
	*n = 0;
	if (!*ids)
		return cli_usage_error("generate", "out of memory");
	const char *p = arg;
	for (;;) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v < 0 || v > INT32_MAX ||
		    (*end && *end != ','))
			return cli_usage_error("generate",
					       "--tokens: '%s' is not a list of "
					       "token ids (0,1,...)",
					       arg);
		(*ids)[(*n)++] = (int32_t)v;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

static int argmax(const float *v, int64_t n)
{
	int64_t best = 0;
	for (int64_t i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return (int)best;
}

struct gen_opts {
	long greedy;
	bool json, logits;
	long threads;
};

static int run(const char *path, int32_t *prompt, size_t np,
	       const struct gen_opts *o)
{
	struct mp_error err;
	struct mp_model *m = NULL;
	struct mp_llm *llm = NULL;
	int rc = CLI_EXIT_FAIL;
	int32_t *seq = malloc((np + (size_t)o->greedy) * sizeof *seq);
	float *lg = NULL;
	if (!seq) {
		cli_error("out of memory");
		return rc;
	}
	memcpy(seq, prompt, np * sizeof *seq);
	if (mp_model_open(path, &m, &err) != MP_OK ||
	    mp_llm_open(m, &llm, &err) != MP_OK) {
		rc = cli_fail(&err);
		goto done;
	}
	mp_llm_set_threads(llm, (int)o->threads);
	int64_t V = mp_llm_cfg(llm)->vocab;
	if (!(lg = malloc((size_t)V * sizeof *lg))) {
		cli_error("out of memory");
		goto done;
	}
	size_t n = np;
	float *first = NULL;
	if (o->logits) {
		if (mp_llm_logits(llm, seq, n, 0, lg, &err) != MP_OK) {
			rc = cli_fail(&err);
			goto done;
		}
		if (!(first = malloc((size_t)V * sizeof *first))) {
			cli_error("out of memory");
			goto done;
		}
		memcpy(first, lg, (size_t)V * sizeof *first);
	}
	for (long g = 0; g < o->greedy; g++) {
		if (mp_llm_logits(llm, seq, n, 0, lg, &err) != MP_OK) {
			rc = cli_fail(&err);
			goto done;
		}
		seq[n++] = argmax(lg, V);
	}
	if (o->json) {
		mp_json *j = mp_json_object();
		mp_json *a, *b, *l = NULL;
		char *txt = NULL;
		if (j && mp_json_add_str(j, "model", path) &&
		    (a = mp_json_add_arr(j, "prompt")) &&
		    (b = mp_json_add_arr(j, "generated")) &&
		    (!first || (l = mp_json_add_arr(j, "logits")))) {
			bool ok = true;
			for (size_t i = 0; i < n && ok; i++)
				ok = mp_json_push_num(i < np ? a : b, seq[i]) != NULL;
			for (int64_t i = 0; first && i < V && ok; i++)
				ok = mp_json_push_num(l, first[i]) != NULL;
			if (ok)
				txt = mp_json_print(j, false);
		}
		mp_json_free(j);
		free(first);
		if (!txt) {
			cli_error("out of memory");
			goto done;
		}
		printf("%s\n", txt);
		free(txt);
	} else {
		for (int64_t i = 0; first && i < V; i++)
			printf("%s%.9g", i ? " " : "", (double)first[i]);
		if (first)
			printf("\n");
		free(first);
		for (size_t i = np; i < n; i++)
			printf("%s%ld", i > np ? " " : "", (long)seq[i]);
		printf("\n");
	}
	rc = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
done:
	free(lg);
	free(seq);
	mp_llm_free(llm);
	mp_model_free(m);
	return rc;
}

int cmd_generate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tokens", required_argument, NULL, 't'},
		{"greedy", required_argument, NULL, 'g'},
		{"json", no_argument, NULL, 'j'},
		{"logits", no_argument, NULL, 'l'},
		{"threads", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *tokens = NULL;
	struct gen_opts o = {1, false, false, 0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't': tokens = optarg; break;
		case 'g': {
			char *end;
			errno = 0;
			o.greedy = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || o.greedy < 0 ||
			    o.greedy > GREEDY_MAX)
				return cli_usage_error("generate",
						       "--greedy: '%s' is not a "
						       "count from 0 to %d",
						       optarg, GREEDY_MAX);
			break;
		}
		case 'j': o.json = true; break;
		case 'l': o.logits = true; break;
		case 'T':
			if (!cli_parse_int(optarg, 0, 1024, &o.threads))
				return cli_usage_error("generate",
						       "--threads needs 0..1024");
			break;
		case 'h': fputs(usage_text, stdout); return CLI_EXIT_OK;
		default: return cli_bad_option("generate", argv, opts);
		}
	}
	if (optind >= argc)
		return cli_usage_error("generate", "MODEL is required");
	if (optind + 1 < argc)
		return cli_usage_error("generate", "unexpected argument '%s'",
				       argv[optind + 1]);
	if (!tokens)
		return cli_usage_error("generate", "--tokens ID,ID,... is "
						   "required");
	int32_t *ids;
	size_t n;
	int rc = parse_ids(tokens, &ids, &n);
	if (rc == 0)
		rc = run(argv[optind], ids, n, &o);
	free(ids);
	return rc;
}
