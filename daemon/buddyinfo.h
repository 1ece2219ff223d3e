/* SPDX-License-Identifier: MIT */
/* /proc/buddyinfo: can a huge page be had at all? Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Free blocks of at least `order` summed over all nodes and zones, counted
 * in blocks of that order (an order-10 block counts as two order-9 ones).
 */
uint64_t buddyinfo_free_blocks(const char *buf, size_t len, unsigned order);
