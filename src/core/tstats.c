/* tstats.c — placeholder. */
#include "mp.h"
