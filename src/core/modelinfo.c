/* modelinfo.c — placeholder. */
#include "mp.h"
