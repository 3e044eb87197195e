/* cmd_registry.c */
