/* groups.c — placeholder. */
#include "mp.h"
