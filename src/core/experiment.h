/* experiment.h — experiment configs (seed 000 format: models, methods,
 * method_args, metrics) and their results: fingerprints per method and
 * model, and similarity matrices per method and metric. */
#ifndef MP_EXPERIMENT_H
#define MP_EXPERIMENT_H

#include "registry.h"
#include "simmatrix.h"

struct mp_config {
	size_t nmodels;
	char **models; /* ids */
	size_t nmethods;
	char **methods;
	mp_json *method_args; /* object keyed by method, owned, may be NULL */
	size_t nmetrics;
	char **metrics; /* each applies to every method that has it */
};

/* Parse and validate a config file: unknown methods, metrics or arguments
 * are errors listing the valid choices. Model ids are checked against reg
 * when reg is non-NULL. */
mp_status mp_config_load(const char *path, const struct mp_registry *reg,
			 struct mp_config **out, struct mp_error *err);
void mp_config_free(struct mp_config *c);

#endif
