/* SPDX-License-Identifier: MIT */
/* Human forms of the values in daemon replies, and typed JSON accessors. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Big enough for every fmt_*() result. */
#define FMT_BUF 64

/* "512.0 MiB" (format_size() from common/units.h); negative values are 0. */
const char *fmt_size(json_int_t bytes, char *buf, size_t len);
/* "4.0 GiB/s", or "unlimited" for 0. */
const char *fmt_rate(json_int_t bytes_per_sec, char *buf, size_t len);
/* "97.3%"; "-" for NaN or a negative value. */
const char *fmt_percent(double percent, char *buf, size_t len);
/* part of whole as a percentage; "-" when whole is 0. */
const char *fmt_share(json_int_t part, json_int_t whole, char *buf, size_t len);
/* A length of time: "350 ms", "1.2 s", "3.0 min", "2.5 h", "3 days 4 h". */
const char *fmt_seconds(double sec, char *buf, size_t len);
/* Relative to now: "in 1.2 s" (sec > 0), "3.0 min ago" (sec < 0), "now". */
const char *fmt_relative(double sec, char *buf, size_t len);
/* "0x7f1234600000". */
const char *fmt_addr(json_int_t addr, char *buf, size_t len);

/*
 * Members of a reply object. Missing members or members of another type
 * read as 0 (numbers) or NULL (strings, objects, arrays); integers and reals
 * convert into each other.
 */
json_int_t jget_int(const json_t *o, const char *key);
double jget_real(const json_t *o, const char *key);
const char *jget_str(const json_t *o, const char *key);
json_t *jget_obj(const json_t *o, const char *key);
json_t *jget_array(const json_t *o, const char *key);
/* A boolean member: true only if it is JSON true. */
bool jget_bool(const json_t *o, const char *key);
/* A string member, or dflt if absent or null. */
const char *jget_str_or(const json_t *o, const char *key, const char *dflt);
