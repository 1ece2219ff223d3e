/* SPDX-License-Identifier: MIT */
/*
 * An immutable, reference-counted config. The manager owns the current one;
 * jobs on worker threads hold a reference to the one they started with, so a
 * reload never changes a config under a running job.
 */
#pragma once

#include <stdatomic.h>
#include <stdlib.h>

#include "config.h"

struct config_ref {
	atomic_int refs;
	struct thpd_config *cfg;
};

static inline struct config_ref *config_ref_new(struct thpd_config *cfg)
{
	struct config_ref *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	atomic_init(&r->refs, 1);
	r->cfg = cfg;
	return r;
}

static inline struct config_ref *config_ref_get(struct config_ref *r)
{
	atomic_fetch_add(&r->refs, 1);
	return r;
}

static inline void config_ref_put(struct config_ref *r)
{
	if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
		config_free(r->cfg);
		free(r->cfg);
		free(r);
	}
}
