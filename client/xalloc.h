/* SPDX-License-Identifier: MIT */
/*
 * Allocation helpers for thpctl: a short-lived command line tool has nothing
 * sensible to do when memory runs out but say so and exit 1.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

_Noreturn void oom(void);

void *xcalloc(size_t n, size_t size);
/* Grow *v to hold at least need elements of elem bytes (capacity in *cap). */
void xgrow(void **v, size_t *cap, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
