#include "check_suites.h"
Suite *suite_fingerprint(void) { return suite_create("fingerprint"); }
