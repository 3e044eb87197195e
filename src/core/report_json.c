/* report_json.c — placeholder. */
#include "mp.h"
