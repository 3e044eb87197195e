/* cmd_analyze.c — placeholder */
