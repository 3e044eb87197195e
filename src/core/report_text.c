/* report_text.c — placeholder. */
#include "mp.h"
