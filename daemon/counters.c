/* SPDX-License-Identifier: MIT */
#include "counters.h"

#include <stddef.h>

#include "util.h"

#define AT(field) offsetof(struct counters, field)

/*
 * The names are the state file format (version 1) and the varlink interface
 * (type Counters): keep them. COUNTER_USEC fields are saved as "x_usec" and
 * reported as "x_sec". New counters go at the end (a state file without them
 * loads them as 0).
 */
const struct counter_desc counters_table[] = {
    {"attempts", "attempts", AT(attempts), COUNTER_NUMBER},
    {"collapsed_bytes", "collapsed_bytes", AT(collapsed_bytes), COUNTER_NUMBER},
    {"by_class", "by_result", AT(by_class), COUNTER_BY_CLASS},
    {"collapse_usec", "collapse_sec", AT(collapse_usec), COUNTER_USEC},
    {"scans", "scans", AT(scans), COUNTER_NUMBER},
    {"scan_usec", "scan_sec", AT(scan_usec), COUNTER_USEC},
    {"discoveries", "discoveries", AT(discoveries), COUNTER_NUMBER},
    {"targets_added", "targets_added", AT(targets_added), COUNTER_NUMBER},
    {"targets_removed", "targets_removed", AT(targets_removed), COUNTER_NUMBER},
    {"enomem_pauses", "enomem_pauses", AT(enomem_pauses), COUNTER_NUMBER},
    {"ebusy_pauses", "ebusy_pauses", AT(ebusy_pauses), COUNTER_NUMBER},
    {"splits", "splits", AT(splits), COUNTER_NUMBER},
    {"reloads", "reloads", AT(reloads), COUNTER_NUMBER},
    {"reload_failures", "reload_failures", AT(reload_failures), COUNTER_NUMBER},
    {"full_scans", "full_scans", AT(full_scans), COUNTER_NUMBER},
    {"scan_cpu_usec", "scan_cpu_sec", AT(scan_cpu_usec), COUNTER_USEC},
    {"collapse_latency", "collapse_latency", AT(collapse_latency), COUNTER_HISTOGRAM},
    {"scan_latency", "scan_latency", AT(scan_latency), COUNTER_HISTOGRAM},
};

const size_t counters_table_len = ARRAY_SIZE(counters_table);
