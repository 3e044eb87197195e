/* check_main.c — runs every Check suite of the core library. */
#include "check_suites.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(NULL);
#define MP_X_ADD(name) srunner_add_suite(sr, suite_##name());
	MP_SUITES(MP_X_ADD)
#undef MP_X_ADD
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
