/* cmd_fingerprint.c */
