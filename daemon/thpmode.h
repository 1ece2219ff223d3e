/* SPDX-License-Identifier: MIT */
/* The system's THP mode from sysfs ("always", "madvise", "never"). */
#pragma once

#include <stddef.h>

#define THP_ENABLED_PATH "/sys/kernel/mm/transparent_hugepage/enabled"

/* Pure: the bracketed word of the sysfs text, or "unknown". */
const char *thp_mode_parse(const char *text, char *buf, size_t len);
/* Reads THP_ENABLED_PATH; "unknown" if unreadable. */
const char *thp_mode_read(char *buf, size_t len);
/* The same for another file of that form (THP "defrag"). */
const char *thp_mode_read_path(const char *path, char *buf, size_t len);
