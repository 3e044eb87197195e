#include "check_suites.h"
Suite *suite_experiment(void) { return suite_create("experiment"); }
