/* experiment.c — placeholder. */
#include "mp.h"
