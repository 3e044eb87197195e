/* registry.c — placeholder. */
#include "mp.h"
