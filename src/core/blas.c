/* blas.c — pick OpenBLAS's kernel when it fell back to a generic one (see
 * blas.h). The OpenBLAS symbols are weak: absent with gslcblas. */
#include "blas.h"

#include <stdlib.h>
#include <strings.h>

extern char *openblas_get_corename(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

const char *mp_blas_tune(void)
{
	if (!openblas_get_corename)
		return "";
	const char *core = openblas_get_corename();
	if (!core)
		return "";
	if (getenv("OPENBLAS_CORETYPE") || strcasecmp(core, "prescott") != 0 ||
	    !gotoblas_dynamic_init || !gotoblas_dynamic_quit)
		return core;
	const char *want = NULL;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512cd"))
		want = "SkylakeX";
	else if (__builtin_cpu_supports("avx2") &&
		 __builtin_cpu_supports("fma"))
		want = "Haswell";
#endif
	if (!want)
		return core;
	/* OpenBLAS reads OPENBLAS_CORETYPE when it initialises; set it only
	 * for the re-initialisation, so that child processes are unaffected. */
	if (setenv("OPENBLAS_CORETYPE", want, 0) != 0)
		return core;
	gotoblas_dynamic_quit();
	gotoblas_dynamic_init();
	unsetenv("OPENBLAS_CORETYPE");
	core = openblas_get_corename();
	return core ? core : "";
}
