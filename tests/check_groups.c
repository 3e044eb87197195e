#include "check_suites.h"
Suite *suite_groups(void) { return suite_create("groups"); }
