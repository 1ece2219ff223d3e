/* SPDX-License-Identifier: MIT */
#include "top-term.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "xalloc.h"

/* Alternate screen (and cursor saved), cursor hidden, no auto-wrap, cleared. */
#define ENTER_SEQ "\033[?1049h\033[?25l\033[?7l\033[H\033[2J"
/* Colours off, auto-wrap, cursor shown, main screen (and cursor restored). */
#define LEAVE_SEQ "\033[0m\033[?7h\033[?25h\033[?1049l"

static struct termios saved;
static bool have_saved, active;

static int write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int term_enter(void)
{
	struct termios raw;

	if (!have_saved) {
		if (tcgetattr(STDIN_FILENO, &saved) < 0)
			return -errno;
		have_saved = true;
		atexit(term_leave);
	}
	raw = saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | IEXTEN);
	raw.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | IGNCR);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0)
		return -errno;
	active = true;
	return write_all(ENTER_SEQ, strlen(ENTER_SEQ));
}

void term_leave(void)
{
	if (!active)
		return;
	active = false;
	(void)write_all(LEAVE_SEQ, strlen(LEAVE_SEQ));
	(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
}

int term_suspend(void)
{
	term_leave();
	/* SIGSTOP, as SIGTSTP itself is blocked (it comes through a signalfd). */
	kill(getpid(), SIGSTOP);
	return term_enter();
}

void term_size(int fd, int *cols, int *rows)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	} else {
		*cols = 80;
		*rows = 24;
	}
}

static void append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	xgrow((void **)buf, cap, *len + n + 1, 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

int term_draw(char *const *lines, const int *cols, size_t n, int width)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	append(&buf, &len, &cap, "\033[H");
	for (size_t i = 0; i < n; i++) {
		append(&buf, &len, &cap, lines[i]);
		/* A full line leaves the cursor on its last character (no
		 * auto-wrap), which erasing would take. */
		if (cols[i] < width)
			append(&buf, &len, &cap, "\033[K");
		/* No line end after the last line: on the screen's last line it would scroll. */
		if (i + 1 < n)
			append(&buf, &len, &cap, "\r\n");
	}
	append(&buf, &len, &cap, "\033[J");
	r = write_all(buf, len);
	free(buf);
	return r;
}
