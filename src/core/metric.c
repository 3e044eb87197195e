/* metric.c — placeholder. */
#include "mp.h"
