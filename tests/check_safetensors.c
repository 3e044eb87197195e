#include "check_suites.h"
Suite *suite_safetensors(void) { return suite_create("safetensors"); }
