/* report_text.h — placeholder. */
