/* SPDX-License-Identifier: MIT */
/*
 * The terminal of thpctl top: full-screen mode with plain VT100/xterm
 * escapes (alternate screen, hidden cursor, no line wrap) and raw input,
 * and putting everything back. Standard input and output must be the
 * terminal.
 */
#pragma once

#include <stddef.h>

/*
 * Enter full-screen mode: raw input (no echo, no line editing, one byte at
 * a time; Ctrl-C and Ctrl-Z still send signals), the alternate screen, the
 * cursor hidden. Again after a stop (SIGCONT) it applies the mode anew. The
 * first call registers term_leave() with atexit(), so an exit() anywhere
 * restores the terminal. Returns 0 or a negative errno (nothing changed).
 */
int term_enter(void);

/* Leave full-screen mode: the saved terminal modes, the main screen, the cursor. Idempotent. */
void term_leave(void);

/* Ctrl-Z (SIGTSTP): leave, stop until continued, enter again. Returns term_enter()'s result. */
int term_suspend(void);

/* The size of the terminal on fd; 80 x 24 if it cannot be told. */
void term_size(int fd, int *cols, int *rows);

/*
 * Draw a frame: lines[0..n) from the top left, taking cols[i] of the width
 * columns each; the rest of each line and the screen below the last one
 * cleared, in one write. Returns 0 or a negative errno (the terminal went
 * away).
 */
int term_draw(char *const *lines, const int *cols, size_t n, int width);
