/* SPDX-License-Identifier: MIT */
#include "control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"
#include "methods.h"
#include "util.h"
#include "varlink.h"

/* Slots above CONTROL_MAX_CLIENTS that only root and group thpd may take, so
 * that other users holding every connection cannot lock the operator out. */
#define CONTROL_PRIVILEGED_RESERVE 8

struct client {
	struct control *owner;
	struct client *prev, *next;
	struct bufferevent *bev;
	struct peer peer;
	bool monitoring; /* subscribed with Monitor: gets events */
	/* A Reload runs (manager_reload_async): its reply comes first, so the
	 * client's next messages wait in the input buffer until it is sent. */
	bool reply_pending;
	bool pending_oneway; /* ... and is not sent */
	bool half_closed;    /* EOF seen: free once the replies are written */
};

struct control {
	struct event_base *base;
	struct manager *manager;
	const struct kernel_features *features;
	char *path;	 /* unlinked at exit when we created it */
	bool own_socket; /* false when systemd passed it */
	int fd;
	struct event *accept_ev;
	struct client *clients;
	struct client *dispatching; /* the client whose call runs now */
	unsigned n_clients;
	gid_t thpd_gid;
	bool have_thpd_gid;
	int idle_timeout_sec;
};

/* CONTROL_IDLE_TIMEOUT, or THPD_TEST_CONTROL_IDLE_S (1..3600): a test seam,
 * so that the test of the idle cut-off does not wait a minute. */
static int idle_timeout_from_env(void)
{
	const char *s = getenv("THPD_TEST_CONTROL_IDLE_S");
	char *end;
	long v;

	if (!s || !*s)
		return CONTROL_IDLE_TIMEOUT;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > 3600) {
		log_warning("THPD_TEST_CONTROL_IDLE_S=%s ignored (1..3600 seconds)", s);
		return CONTROL_IDLE_TIMEOUT;
	}
	return (int)v;
}

static void client_free(struct client *cl)
{
	struct control *c = cl->owner;

	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->n_clients--;
	if (cl->reply_pending)
		manager_reload_forget(c->manager, cl);
	bufferevent_free(cl->bev);
	free(cl);
}

static int send_json(struct client *cl, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	int r = 0;

	if (!s)
		return -ENOMEM;
	/* The NUL byte terminates a Varlink message. */
	if (bufferevent_write(cl->bev, s, strlen(s) + 1) < 0)
		r = -ENOMEM;
	free(s);
	return r;
}

static int send_error(struct client *cl, const char *error, json_t *params)
{
	json_t *msg =
	    json_pack("{s:s, s:o}", "error", error, "parameters", params ? params : json_object());
	int r = msg ? send_json(cl, msg) : -ENOMEM;

	json_decref(msg);
	return r;
}

/* Send reply (its parameters are consumed) unless the call was oneway. */
static int send_reply(struct client *cl, struct method_reply *reply, bool oneway)
{
	int r = 0;

	if (!oneway) {
		if (reply->error)
			r = send_error(cl, reply->error, reply->parameters);
		else {
			json_t *msg =
			    json_pack("{s:o}", "parameters",
				      reply->parameters ? reply->parameters : json_object());
			if (msg && reply->subscribe)
				json_object_set_new(msg, "continues", json_true());
			r = msg ? send_json(cl, msg) : -ENOMEM;
			json_decref(msg);
		}
		reply->parameters = NULL; /* consumed by json_pack "o" */
	}
	json_decref(reply->parameters);
	reply->parameters = NULL;
	return r;
}

static void on_read(struct bufferevent *bev, void *arg);

/* A Reload this client asked for is done: reply, then go on with the
 * messages that waited (manager_reload_async). */
static void on_reload_done(int r, const struct config_diags *diags, void *userdata)
{
	struct client *cl = userdata;
	struct method_reply reply = {0};

	cl->reply_pending = false;
	methods_reload_reply(cl->owner->manager, r, diags, &reply);
	if (send_reply(cl, &reply, cl->pending_oneway) < 0) {
		client_free(cl);
		return;
	}
	if (cl->half_closed && evbuffer_get_length(bufferevent_get_output(cl->bev)) == 0) {
		client_free(cl);
		return;
	}
	if (!cl->half_closed)
		bufferevent_enable(cl->bev, EV_READ);
	on_read(cl->bev, cl); /* the messages that came meanwhile */
}

/*
 * Handle one message. Returns < 0 when the connection must be closed
 * (garbage that is not a Varlink call at all).
 */
static int handle_message(struct client *cl, const char *buf, size_t len)
{
	struct varlink_call call;
	const char *error;
	char *error_param;
	struct method_reply reply = {0};
	int r = varlink_parse_call(buf, len, &call, &error, &error_param);

	if (r == -EBADMSG) {
		log_ratelimited(LOG_DEBUG, NULL, "client pid %d: not a JSON object: %s",
				(int)cl->peer.pid, error_param ? error_param : "?");
		goto out;
	}
	if (r < 0) {
		/* error_param NULL (out of memory): json_pack fails, {} is sent. */
		r = send_error(cl, error, json_pack("{s:s}", "parameter", error_param));
		goto out;
	}
	struct call_flags flags = {
	    .more = call.more, .reload_done = on_reload_done, .reload_userdata = cl};
	methods_call(cl->owner->manager, cl->owner->features, &cl->peer, call.method,
		     call.parameters, &flags, &reply);
	if (reply.pending) {
		/* Nothing more is read from this client until the reply is out. */
		cl->reply_pending = true;
		cl->pending_oneway = call.oneway;
		bufferevent_disable(cl->bev, EV_READ);
		goto out;
	}
	if (reply.subscribe && !call.oneway && !cl->monitoring) {
		/* A subscriber waits for events: only the write timeout (it does
		 * not read them) applies, not the idle timeout. */
		struct timeval idle = {.tv_sec = cl->owner->idle_timeout_sec};
		cl->monitoring = true;
		bufferevent_set_timeouts(cl->bev, NULL, &idle);
	}
	r = send_reply(cl, &reply, call.oneway);
out:
	varlink_call_free(&call);
	free(error_param);
	return r;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		if (cl->reply_pending)
			return;
		/* A slow reader stops being served until it drains its replies. */
		if (evbuffer_get_length(bufferevent_get_output(bev)) > CONTROL_MAX_OUTPUT) {
			log_ratelimited(LOG_NOTICE, NULL,
					"client pid %d does not read its replies; disconnecting",
					(int)cl->peer.pid);
			client_free(cl);
			return;
		}
		struct evbuffer_ptr nul = evbuffer_search(in, "\0", 1, NULL);
		if (nul.pos < 0) {
			if (evbuffer_get_length(in) > CONTROL_MAX_MESSAGE) {
				log_ratelimited(LOG_NOTICE, NULL,
						"client pid %d sent a message over %d bytes; "
						"disconnecting",
						(int)cl->peer.pid, CONTROL_MAX_MESSAGE);
				client_free(cl);
			}
			return;
		}
		if ((size_t)nul.pos > CONTROL_MAX_MESSAGE) {
			client_free(cl);
			return;
		}
		const char *msg = (const char *)evbuffer_pullup(in, nul.pos + 1);
		cl->owner->dispatching = cl;
		int r = msg ? handle_message(cl, msg, (size_t)nul.pos) : -ENOMEM;
		cl->owner->dispatching = NULL;
		evbuffer_drain(in, (size_t)nul.pos + 1);
		if (r < 0) {
			client_free(cl);
			return;
		}
		if (cl->reply_pending)
			return; /* on_reload_done goes on */
	}
}

static void on_drained(struct bufferevent *bev, void *arg)
{
	/* Output empty (write low watermark 0): the client had half-closed. */
	client_free(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *cl = arg;

	/* A client that half-closes after its last call still gets the
	 * replies: stop reading, close once they are written. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    (evbuffer_get_length(bufferevent_get_output(bev)) > 0 || cl->reply_pending)) {
		cl->half_closed = true;
		bufferevent_disable(bev, EV_READ);
		bufferevent_setcb(bev, NULL, on_drained, on_event, cl);
		return;
	}
	/* EOF, error or idle timeout. */
	client_free(cl);
}

static bool peer_privileged(struct control *c, int fd, const struct ucred *cred)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (cred->uid == 0)
		return true;
	if (!c->have_thpd_gid)
		return false;
	if (cred->gid == c->thpd_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == c->thpd_gid)
			return true;
	return false;
}

static unsigned clients_of(const struct control *c, uid_t uid)
{
	unsigned n = 0;

	for (const struct client *cl = c->clients; cl; cl = cl->next)
		n += cl->peer.uid == uid;
	return n;
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct control *c = arg;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		close(fd);
		return;
	}
	bool privileged = peer_privileged(c, fd, &cred);
	if (c->n_clients >= CONTROL_MAX_CLIENTS + (privileged ? CONTROL_PRIVILEGED_RESERVE : 0)) {
		log_ratelimited(LOG_WARNING, NULL, "control: %u clients connected; refusing more",
				c->n_clients);
		close(fd);
		return;
	}
	/* One user cannot take every connection from the others. */
	if (!privileged && clients_of(c, cred.uid) >= CONTROL_MAX_CLIENTS_PER_USER) {
		log_ratelimited(LOG_WARNING, NULL,
				"control: user %u holds %d connections; refusing more",
				(unsigned)cred.uid, CONTROL_MAX_CLIENTS_PER_USER);
		close(fd);
		return;
	}
	struct client *cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return;
	}
	cl->owner = c;
	cl->peer = (struct peer){
	    .pid = cred.pid, .uid = cred.uid, .gid = cred.gid, .privileged = privileged};
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!cl->bev) {
		close(fd);
		free(cl);
		return;
	}
	struct timeval idle = {.tv_sec = c->idle_timeout_sec};
	bufferevent_set_timeouts(cl->bev, &idle, &idle);
	bufferevent_setcb(cl->bev, on_read, NULL, on_event, cl);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->n_clients++;
}

static int make_parent_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			r = -errno;
	}
	free(dir);
	return r;
}

/* Another daemon answering: refuse. Nobody answering: remove the stale file. */
static int clear_stale(const struct sockaddr_un *sa, socklen_t salen)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, salen) == 0)
		r = -EADDRINUSE;
	else if (errno == ECONNREFUSED && unlink(sa->sun_path) < 0 && errno != ENOENT)
		r = -errno;
	close(fd);
	return r;
}

static int listen_on(struct control *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t salen;
	int r;

	if (strlen(c->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, c->path);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(c->path) + 1);
	r = make_parent_dir(c->path);
	if (r < 0)
		return r;
	r = clear_stale(&sa, salen);
	if (r < 0)
		return r;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* Bind under a tight umask so the socket never exists with loose
	 * permissions, then open it to every local user: each call is
	 * authorized by the peer's credentials (SO_PEERCRED). */
	mode_t old = umask(0177);
	r = bind(c->fd, (struct sockaddr *)&sa, salen) < 0 ? -errno : 0;
	umask(old);
	if (r < 0)
		return r;
	c->own_socket = true;
	if (c->have_thpd_gid && chown(c->path, (uid_t)-1, c->thpd_gid) < 0)
		log_debug("control: cannot chown %s to group thpd: %m", c->path);
	if (chmod(c->path, 0666) < 0)
		return -errno;
	if (listen(c->fd, 64) < 0)
		return -errno;
	return 0;
}

/* Manager events go to every subscribed client that may see them. */
static void on_manager_event(const struct manager_event *ev, void *userdata)
{
	struct control *c = userdata;
	json_t *params = NULL;

	for (struct client *cl = c->clients, *next; cl; cl = next) {
		next = cl->next;
		if (!cl->monitoring || !methods_event_visible(&cl->peer, ev))
			continue;
		if (evbuffer_get_length(bufferevent_get_output(cl->bev)) > CONTROL_MAX_OUTPUT) {
			log_ratelimited(LOG_NOTICE, NULL,
					"monitor client pid %d does not read its events; "
					"disconnecting",
					(int)cl->peer.pid);
			/* Its own call emits this event: on_read drops it when the
			 * call returns (freeing it now would pull it from under). */
			if (cl == c->dispatching)
				cl->monitoring = false;
			else
				client_free(cl);
			continue;
		}
		if (!params && !(params = methods_event_json(ev)))
			return;
		json_t *msg = json_pack("{s:O, s:b}", "parameters", params, "continues", 1);
		if (msg)
			send_json(cl, msg);
		json_decref(msg);
	}
	json_decref(params);
}

int control_new(struct event_base *base, struct manager *m, const struct kernel_features *features,
		const char *path, struct control **ret)
{
	struct control *c = calloc(1, sizeof(*c));
	struct group *g = getgrnam("thpd");
	int r;

	if (!c)
		return -ENOMEM;
	c->base = base;
	c->manager = m;
	c->features = features;
	c->fd = -1;
	c->idle_timeout_sec = idle_timeout_from_env();
	c->path = strdup(path);
	if (g) {
		c->thpd_gid = g->gr_gid;
		c->have_thpd_gid = true;
	}
	if (!c->path) {
		r = -ENOMEM;
		goto fail;
	}
	if (sd_listen_fds(1) >= 1 &&
	    sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) > 0) {
		c->fd = SD_LISTEN_FDS_START;
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		fcntl(c->fd, F_SETFD, FD_CLOEXEC);
		log_info("control: using the socket passed by systemd");
	} else {
		r = listen_on(c);
		if (r == -EADDRINUSE) {
			log_error("control: another thpd is already answering on %s", path);
			goto fail;
		}
		if (r < 0) {
			log_error("control: cannot listen on %s: %s", path, strerror(-r));
			goto fail;
		}
	}
	c->accept_ev = event_new(base, c->fd, EV_READ | EV_PERSIST, on_accept, c);
	if (!c->accept_ev || event_add(c->accept_ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	manager_set_event_sink(m, on_manager_event, c);
	*ret = c;
	return 0;
fail:
	control_free(c);
	return r;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	manager_set_event_sink(c->manager, NULL, NULL);
	while (c->clients)
		client_free(c->clients);
	if (c->accept_ev)
		event_free(c->accept_ev);
	if (c->fd >= 0)
		close(c->fd);
	if (c->own_socket)
		unlink(c->path);
	free(c->path);
	free(c);
}
