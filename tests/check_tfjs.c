#include "check_suites.h"
Suite *suite_tfjs(void) { return suite_create("tfjs"); }
