/* cmd_run.c */
