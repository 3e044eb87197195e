#include "check_suites.h"
Suite *suite_spectral(void) { return suite_create("spectral"); }
