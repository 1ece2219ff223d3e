/* SPDX-License-Identifier: MIT */
/* The effective (merged) policy as JSON, for GetPolicy. Pure. */
#pragma once

#include <jansson.h>

#include "config.h"

/* New reference; sizes in bytes, durations in seconds, percentages in %. */
json_t *config_to_json(const struct thpd_config *cfg);
