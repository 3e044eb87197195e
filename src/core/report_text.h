/* report_text.h — the text forms of an analysis (groups.h): the summary
 * tables of seed 000's console output and the consolidated pair reports
 * ("Detailed Pair Information"), one line per pair:
 *   name (Family/Type) <-> name (Family/Type): 0.997312
 * Formats in man/modelprint-files.5 ("analysis reports"). Returned text is
 * the caller's (free). */
#ifndef MP_REPORT_TEXT_H
#define MP_REPORT_TEXT_H

#include "groups.h"

/* File names the reports are written under in the output directory. */
#define MP_REPORT_SUMMARY "summary.txt"
#define MP_REPORT_INTRA "pairs_intrafamily.txt"
#define MP_REPORT_INTER "pairs_interfamily.txt"
#define MP_REPORT_TYPEPAIR "pairs_type_pairs.txt"

/* The summary: method, metric, direction, model and pair counts, the ids
 * missing on either side (at most max_ids of each listed, 0 for all), and
 * the intrafamily, interfamily and type-pair tables sorted most alike
 * first with a "# Null" column. NULL when out of memory. */
char *mp_report_summary(const struct mp_analysis *a, size_t max_ids);

/* Write the summary (all ids) and the three pair reports into dir (which
 * must exist), each atomically. Every group is a section headed by its
 * statistics, its pairs sorted most alike first and its null pairs last
 * with their reason. Errors name the file. */
mp_status mp_report_text_write(const struct mp_analysis *a, const char *dir,
			       struct mp_error *err);

#endif
