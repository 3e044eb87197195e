#include "check_suites.h"
Suite *suite_registry(void) { return suite_create("registry"); }
