/*  client/grid.h - aligned text tables for `cigsync list` and friends.
 *
 *  A struct cs_grid collects cells row by row (the first row is the
 *  header) and prints them in columns two spaces apart, the header
 *  underlined with dashes.  Cells wider than CS_GRID_CELL_COLS are cut
 *  with "…" (text.h), so one long letter body does not push every other
 *  column off the screen; `--json` gives the full values.  Cells must
 *  already be safe for a terminal (cs_text_escape); the grid only measures
 *  and pads them.
 */
#ifndef CS_GRID_H
#define CS_GRID_H

#include <stddef.h>
#include <stdio.h>

#include "attr.h"

/* Widest cell, in display columns; wider ones are truncated. */
#define CS_GRID_CELL_COLS 40

/* Columns of spaces between two columns of the table. */
#define CS_GRID_GAP 2

struct cs_grid;

/* Returns a new, empty grid of ncols columns (at least 1, asserted). */
struct cs_grid *cs_grid_new(size_t ncols);

/* Frees the grid and sets *g to NULL; does nothing if *g is NULL. */
void cs_grid_destroy(struct cs_grid **g);

/* Appends a copy of text (truncated as above) as the next cell; a new row
   starts after every ncols cells. */
void cs_grid_add(struct cs_grid *g, const char *text) CS_NONNULL(1, 2);

/* Returns the number of complete rows added, the header included. */
size_t cs_grid_rows(const struct cs_grid *g) CS_NONNULL(1);

/* Prints the table to f; a last, incomplete row is padded with empty
   cells.  Trailing spaces are not printed. */
void cs_grid_print(const struct cs_grid *g, FILE *f) CS_NONNULL(1, 2);

#endif
