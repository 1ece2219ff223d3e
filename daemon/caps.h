/* SPDX-License-Identifier: MIT */
/* Which of the capabilities thpd's work needs does this process have? */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Capability numbers (linux/capability.h) and what thpd needs them for. */
struct cap_need {
	int cap;
	const char *name;
	const char *why;
	bool optional; /* only for opt-in features */
};

extern const struct cap_need thpd_cap_needs[];
extern const size_t thpd_n_cap_needs;

/* Is cap in this process's effective set? Negative errno if unknown. */
int cap_effective(int cap);
