/* svd.h — placeholder. */
