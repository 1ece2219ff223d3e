/* SPDX-License-Identifier: MIT */
/* Parsing and formatting of sizes, durations and percentages (pure). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define USEC_PER_MSEC 1000ULL
#define USEC_PER_SEC  1000000ULL
#define NSEC_PER_USEC 1000ULL

/* Percentages are carried as basis points: 10000 = 100%, 156 = 1.56%. */
#define BP_PER_100 10000U

/*
 * "4096", "512KiB", "2GiB", "1.5G", "64MB" -> bytes.
 * Binary suffixes: K, KiB, M, MiB, G, GiB, T, TiB (1024-based);
 * decimal: KB, MB, GB, TB (1000-based); "B" or none = bytes.
 * Returns 0, -EINVAL on syntax errors, -ERANGE on overflow.
 */
int parse_size(const char *s, uint64_t *ret_bytes);

/*
 * "500us", "100ms", "2s", "1.5s", "5m", "1h" -> microseconds.
 * A bare number without unit is rejected (-EINVAL): ambiguous.
 */
int parse_duration(const char *s, uint64_t *ret_usec);

/* "50%", "12.5%", "0%", "100%" -> basis points. The '%' is required. */
int parse_percent(const char *s, uint32_t *ret_bp);

/* Human forms: "512.0 MiB", "1.5 GiB", "100 ms", "2.0 s". Return buf. */
const char *format_size(uint64_t bytes, char *buf, size_t len);
const char *format_duration(uint64_t usec, char *buf, size_t len);
