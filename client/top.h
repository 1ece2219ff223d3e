/* SPDX-License-Identifier: MIT */
/*
 * thpctl top, the pure part: a model built from successive GetStatus,
 * ListTargets and GetCounters replies (rates are the differences of two
 * samples over the time between them), the orders rows are sorted in, what
 * each key does, and a frame rendered into lines of at most a given width.
 * No I/O: verbs-top.c polls the daemon and draws, top-term.c owns the
 * terminal. Strings from the daemon (a process's comm) are shown with
 * control characters as '?', so they cannot drive the terminal.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sort orders, in the order the s key cycles through them. */
enum top_sort {
	TOP_SORT_ACTIVITY, /* bytes collapsed per second, then huge bytes, then pid */
	TOP_SORT_COVERAGE, /* huge share of anonymous memory, highest first */
	TOP_SORT_SIZE,	   /* anonymous memory, largest first */
	TOP_SORT_PID,	   /* ascending */
	TOP_N_SORTS,
};

/* "activity", "coverage", "size", "pid". */
const char *top_sort_name(enum top_sort s);
/* The inverse of top_sort_name(). Returns 0, or -EINVAL for another word. */
int top_sort_parse(const char *s, enum top_sort *ret);

/* Keys of GetCounters' by_result, in display order. */
#define TOP_N_RESULTS 9
extern const char *const top_results[TOP_N_RESULTS];

struct top_target {
	json_int_t pid;
	char *comm, *policy, *state; /* owned, never NULL */
	char *last_errno;	     /* owned; NULL if none */
	json_int_t anon_bytes, huge_bytes, collapsed_bytes;
	/* Bytes collapsed per second since the previous sample; NAN when
	 * unknown (first sample of this process, or its pid was reused). */
	double collapse_rate;
};

struct top_model {
	uint64_t sampled_usec; /* CLOCK_MONOTONIC of the sample; 0: none yet */
	/* GetStatus */
	char *version, *thp_mode;
	double uptime_sec;
	json_int_t budget_rate;	     /* bytes per second; 0 = unlimited */
	json_int_t status_collapsed; /* collapsed_bytes of GetStatus */
	char *pauses;		     /* "operator; ebusy /a (in 12 s)"; NULL if none */
	struct top_target *targets;  /* ListTargets, ordered by pid */
	size_t n_targets;
	/* GetCounters: have_counters is false when the caller may not read
	 * them. Rates per second, NAN when unknown (first sample). */
	bool have_counters;
	json_int_t attempts, collapsed_bytes, by_result[TOP_N_RESULTS];
	double attempts_rate, bytes_rate, result_rate[TOP_N_RESULTS];
};

/*
 * Take a new sample taken at now (usec): the parameters of GetStatus and
 * ListTargets replies, and of GetCounters (NULL if not available). Rates
 * are computed against the sample m held before. All borrowed.
 */
void top_model_update(struct top_model *m, const json_t *status, const json_t *list,
		      const json_t *counters, uint64_t now);
/* Free everything and start over (the next sample has no rates). */
void top_model_clear(struct top_model *m);

/* The targets of m in order s: a malloc'd array of m->n_targets pointers into m. */
const struct top_target **top_sorted(const struct top_model *m, enum top_sort s);

/* Keys: a byte as itself (1..255), or one of these. */
enum {
	TOP_KEY_UP = 0x100,
	TOP_KEY_DOWN,
	TOP_KEY_PGUP,
	TOP_KEY_PGDN,
	TOP_KEY_HOME,
	TOP_KEY_END,
	TOP_KEY_ESC,
	TOP_KEY_UNKNOWN, /* an escape sequence top has no use for */
};

/*
 * The first key in buf[0..len), len >= 1: a byte, or an escape sequence
 * (CSI "ESC [", SS3 "ESC O") in one piece. Sets *used to the bytes it took
 * (at least 1).
 */
int top_key_decode(const char *buf, size_t len, size_t *used);

/* What a key asks of the caller (verbs-top.c). */
enum top_action {
	TOP_ACT_NONE,	/* nothing changed */
	TOP_ACT_REDRAW, /* the view changed: draw again */
	TOP_ACT_QUIT,
	TOP_ACT_PAUSE,	    /* Pause(pid: view.selected_pid) */
	TOP_ACT_RESUME,	    /* Resume(pid: view.selected_pid) */
	TOP_ACT_PAUSE_ALL,  /* Pause() */
	TOP_ACT_RESUME_ALL, /* Resume() */
};

#define TOP_MESSAGE_MAX 256

/* What is drawn, besides the model. */
struct top_view {
	/* Set by the caller. */
	int width, height; /* terminal columns and lines; height 0: every row, no key hints */
	bool color;
	bool interactive; /* a selection and key hints (not --batch) */
	double interval_sec;
	const char *socket_path;
	const char *clock;	       /* "12:34:56" in the title; may be NULL */
	const char *disconnected;      /* why the last poll failed; NULL when connected */
	char message[TOP_MESSAGE_MAX]; /* shown in the last line until the next key; "" if none */
	bool message_error;
	/* Changed by top_key_handle() and top_render(). */
	enum top_sort sort;
	bool help;
	json_int_t selected_pid; /* 0: none yet (the first row) */
	size_t selected_row, scroll;
};

/*
 * Apply key to v: sort (s, S), selection (j, k, arrows, PgUp, PgDn, Home,
 * End, g, G), help (?), and say what else the caller must do (q quits; p, r
 * pause or resume the selected target; P, R the daemon). Any key clears the
 * message.
 */
enum top_action top_key_handle(struct top_view *v, const struct top_model *m, int key);

/* Lines of a frame (no line ends), each at most view.width columns. */
struct top_frame {
	char **lines;
	int *cols; /* the columns each line takes */
	size_t n, cap;
};

/*
 * Render m into f (emptied first): the header, the column titles, the rows
 * that fit (or the help), the last line with the message or the key hints.
 * At most v->height lines (all rows when it is 0). Keeps the selection on
 * the same pid if it is still there, and in sight (v->scroll).
 */
void top_render(const struct top_model *m, struct top_view *v, struct top_frame *f);
void top_frame_clear(struct top_frame *f);

/*
 * "[#####.....]": width columns (at least 3) of which the part of whole
 * fills the inside, rounded down (full only when part >= whole; empty when
 * whole <= 0). buf holds at least width + 1 bytes. Returns buf.
 */
const char *top_bar(char *buf, json_int_t part, json_int_t whole, int width);

/* "32.0 MiB/s", "0 B/s"; "-" for NAN. Returns buf (FMT_BUF bytes). */
const char *top_fmt_rate(double bytes_per_sec, char *buf, size_t len);
