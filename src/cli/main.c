/* main.c — the modelprint command: dispatch to one cmd_<name>.c. */
#include "cli.h"
#include "config.h"
#include "blas.h"
#include "mpi_pairs.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct cli_cmd commands[] = {
	{"fingerprint", "fingerprint model files", cmd_fingerprint},
	{"compare", "compare two models tensor by tensor", cmd_compare},
	{"identify", "name an unknown model's architecture, parent and relation",
	 cmd_identify},
	{"run", "run an experiment: fingerprints and similarity matrices",
	 cmd_run},
	{"slurm", "sbatch scripts of a sharded run on a Slurm cluster",
	 cmd_slurm},
	{"registry", "add, list, show and remove registered models",
	 cmd_registry},
	{"analyze", "family and type analysis of a similarity matrix",
	 cmd_analyze},
	{"correlate", "correlation between the metrics of a results file",
	 cmd_correlate},
	{"matrix", "binary similarity matrices and top-k neighbour files",
	 cmd_matrix},
	{"sparsity", "sparsity profile, pruning pattern, Hamming clustering",
	 cmd_sparsity},
	{"generate", "next token ids of a causal language model (greedy)",
	 cmd_generate},
	{"sweep", "similarity of a sweep of bilinear models (TN, logits, "
		  "frequencies)",
	 cmd_sweep},
	{"tokenize", "the token ids a model's tokenizer gives a text",
	 cmd_tokenize},
	{"tui", "browse models, heatmaps and details in the terminal",
	 cmd_tui},
};
#define NCMDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "usage: modelprint [--help] [--version] COMMAND [ARGS]\n"
		   "       modelprint help [COMMAND]\n\n"
		   "commands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-12s %s\n", "help", "the usage of a command: help COMMAND");
	fprintf(f, "\n'modelprint COMMAND --help' and man modelprint-COMMAND "
		   "tell more.\n");
}

/* "unknown command", with the nearest command when it looks like a
 * typo; exit status 2. */
static int unknown_command(const char *cmd)
{
	const char *names[NCMDS + 1];
	for (size_t i = 0; i < NCMDS; i++)
		names[i] = commands[i].name;
	names[NCMDS] = "help";
	const char *near = cli_nearest(cmd, names, NCMDS + 1);
	if (near) {
		cli_error("unknown command '%s'; did you mean '%s'?", cmd, near);
		fprintf(stderr, "try 'modelprint --help'\n");
	} else {
		cli_error("unknown command '%s'", cmd);
		usage(stderr);
	}
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	/* Before any thread uses BLAS. Not for sweep: the argmax of a
	 * near-chance model's logits (ties) moves with the kernel's rounding,
	 * and its tests pin the values OpenBLAS's own choice gives. */
	if (argc < 2 || strcmp(argv[1], "sweep") != 0)
		mp_blas_tune();
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	opterr = 0; /* cli_bad_option names the option, escaped */
	if (argc < 2 && isatty(0) && isatty(1))
		return cmd_tui(argc, argv); /* the demo data */
	if (argc < 2) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		const char *core = mp_blas_tune();
		printf("modelprint %s\nBLAS: %s%s%s%s\nMPI: %s\n",
		       PACKAGE_VERSION, MP_BLAS, *core ? " (kernel " : "", core,
		       *core ? ")" : "", mp_mpi_library());
		return CLI_EXIT_OK;
	}
	if (!strcmp(cmd, "help")) {
		if (argc < 3) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		for (size_t i = 0; i < NCMDS; i++)
			if (!strcmp(commands[i].name, argv[2])) {
				char *args[] = {argv[2], "--help", NULL};
				return commands[i].run(2, args);
			}
		cmd = argv[2];
	}
	for (size_t i = 0; i < NCMDS; i++)
		if (!strcmp(commands[i].name, cmd))
			return commands[i].run(argc - 1, argv + 1);
	return unknown_command(cmd);
}
