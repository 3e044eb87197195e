#include "check_suites.h"
Suite *suite_tstats(void) { return suite_create("tstats"); }
