#include "check_suites.h"
Suite *suite_metric(void) { return suite_create("metric"); }
