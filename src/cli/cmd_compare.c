/* cmd_compare.c */
