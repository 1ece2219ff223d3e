/* SPDX-License-Identifier: MIT */
/* What the verb files (verbs*.c) share; nothing else includes this. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "thpctl.h"

/* Known keys of the daemon's count maps, in display order. */
#define VERBS_N_CHUNK_STATES 5
#define VERBS_N_RESULTS	     9
extern const char *const verbs_chunk_states[VERBS_N_CHUNK_STATES];
extern const char *const verbs_results[VERBS_N_RESULTS];

bool verbs_in_list(const char *s, const char *const *list, size_t n);

/*
 * "127 huge, 1 backoff" from a {name: count} object: the known names in
 * order, then any others; zero counts left out; "none" if nothing is left.
 * Returns a malloc'd string.
 */
char *verbs_counts_summary(const json_t *counts, const char *const *order, size_t n_order);

enum color verbs_target_state_color(const char *s);
enum color verbs_chunk_state_color(const char *s);

/* Run the call and print; parameters become the view's raw JSON. Returns an exit code. */
int verbs_call_and_print(struct ctx *c, const char *method, json_t *params,
			 void (*build)(struct view *v, const json_t *reply));
/* Print reply parameters (the raw JSON of the view, or build's view). */
int verbs_print(struct ctx *c, json_t *params, void (*build)(struct view *v, const json_t *reply));

/* An address: hex (0x...) or decimal, 0 .. INT64_MAX. Returns 0, -EINVAL or
 * -ERANGE (nothing printed). */
int verbs_parse_addr(const char *s, json_int_t *ret);
/* "START-END", both addresses, START < END. Returns 0 or EXIT_USAGE
 * (message printed). */
int verbs_parse_range(const char *s, json_int_t *start, json_int_t *end);
