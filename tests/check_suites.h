/* check_suites.h — one Suite constructor per check_<module>.c. Run a single
 * suite with CK_RUN_SUITE=<name> tests/check_modelprint. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H
#include <check.h>

#define MP_SUITES(X)                                                          \
	X(reader) X(safetensors) X(tfjs) X(numpy) X(tstats) X(fingerprint) \
	X(spectral) X(metric) X(registry) X(experiment)                      \
	X(modelinfo) X(groups) X(correlate) X(simmatrix) X(report_html)      \
	X(cluster) X(tui) X(tui_ident) X(tui_sparsity) X(escape) X(sql_pg)  \
	X(lineage) X(arch) X(identify) X(lsh) X(sparsity) X(pickle)         \
	X(torch) X(sweep) X(tui_sweep) X(ggml_iquants) X(ggml_kquants)       \
	X(gguf_names) X(gguf) X(ggml_isteps) X(tstats_runs)

#define MP_X_DECL(name) Suite *suite_##name(void);
MP_SUITES(MP_X_DECL)
#undef MP_X_DECL

#endif
