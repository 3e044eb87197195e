/* fp_tensors.c — placeholder. */
#include "mp.h"
