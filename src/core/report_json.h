/* report_json.h — placeholder. */
