/* svd.c — placeholder. */
#include "mp.h"
