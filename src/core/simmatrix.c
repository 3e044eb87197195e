/* simmatrix.c — placeholder. */
#include "mp.h"
