/* SPDX-License-Identifier: MIT */
#include "varlink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"

int varlink_parse_call(const char *buf, size_t len, struct varlink_call *out, const char **error,
		       char **error_param)
{
	json_error_t jerr;
	json_t *msg = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr), *params = NULL;
	const char *method = NULL;
	int oneway = 0, more = 0, upgrade = 0;

	*out = (struct varlink_call){0};
	*error = NULL;
	*error_param = NULL;
	if (!msg || !json_is_object(msg)) {
		*error_param = strdup(msg ? "wrong type" : jerr.text);
		json_decref(msg);
		return -EBADMSG;
	}
	if (json_unpack_ex(msg, &jerr, JSON_STRICT, "{s:s, s?o, s?b, s?b, s?b}", "method", &method,
			   "parameters", &params, "oneway", &oneway, "more", &more, "upgrade",
			   &upgrade) < 0) {
		*error = VARLINK_ERR_INVALID_PARAM;
		*error_param = strdup(jerr.text);
		json_decref(msg);
		return -EINVAL;
	}
	/* "parameters": null unpacks as a JSON null, not as absent. */
	if (params && !json_is_object(params)) {
		*error = VARLINK_ERR_INVALID_PARAM;
		*error_param = strdup("parameters");
		json_decref(msg);
		return -EINVAL;
	}
	*out = (struct varlink_call){
	    .message = msg,
	    .method = method,
	    .parameters = params,
	    .oneway = oneway,
	    .more = more,
	    .upgrade = upgrade,
	};
	return 0;
}

void varlink_call_free(struct varlink_call *call)
{
	if (!call)
		return;
	json_decref(call->message);
	*call = (struct varlink_call){0};
}
