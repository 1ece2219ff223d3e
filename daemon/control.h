/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a Unix stream socket speaking Varlink (JSON objects
 * terminated by NUL). It owns connections, framing, limits and peer
 * credentials; what each method does lives in methods.c, which calls the
 * manager.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct event_base;
struct manager;
struct control;
struct kernel_features;

/* Limits (documented in man/thpd.8). */
#define CONTROL_MAX_MESSAGE	     (64 * 1024)
#define CONTROL_MAX_CLIENTS	     1024 /* in all */
#define CONTROL_MAX_CLIENTS_PER_USER 128  /* each unprivileged user */
#define CONTROL_IDLE_TIMEOUT	     60	  /* seconds */
#define CONTROL_MAX_OUTPUT	     (4 * 1024 * 1024)

/*
 * Listen on path, or take the socket systemd passed (sd_listen_fds). Refuses
 * to start if another daemon answers on path; removes a stale socket file.
 * features (found at start, owned by the caller, must outlive the control)
 * is shown by GetStatus.
 */
int control_new(struct event_base *base, struct manager *m, const struct kernel_features *features,
		const char *path, struct control **ret);
void control_free(struct control *c);
