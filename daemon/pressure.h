/* SPDX-License-Identifier: MIT */
/*
 * Memory pressure (PSI): /proc/pressure/memory and a cgroup's
 * memory.pressure. thpd stops collapsing while memory is short: a collapse
 * allocates a 2 MiB page and copies into it, which is the last thing a
 * machine (or a cgroup) that is stalling on memory needs. Pure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct psi_avg {
	uint32_t some_bp; /* avg10 of "some", basis points (0..10000) */
	uint32_t full_bp; /* avg10 of "full" */
};

/* Parse PSI text ("some avg10=1.23 avg60=... total=...\nfull avg10=..."). A
 * missing "full" line reads as 0. Returns 0 or -EINVAL. */
int psi_parse(const char *buf, size_t len, struct psi_avg *out);

/*
 * Is pressure high? Enters when some > some_bp or full > full_bp (0 = that
 * one not watched) and leaves only when both fell to half their threshold,
 * so that avg10's decay does not flap collapsing on and off. why gets a
 * sentence naming the figure that decided ("some avg10 12.3% > 10%").
 */
bool psi_high(const struct psi_avg *v, uint32_t some_bp, uint32_t full_bp, bool was_high, char *why,
	      size_t why_len);
