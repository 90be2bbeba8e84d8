/*  client/grid.c - aligned text tables; see grid.h.  */
#include "prelude.h"

#include "grid.h"
#include "text.h"

struct cs_grid {
    size_t ncols;  /* columns per row */
    size_t ncells; /* cells added */
    size_t cap;    /* cells allocated */
    char **cells;  /* row-major, owned, already truncated */
    size_t *width; /* widest cell of each column, in display columns */
};

struct cs_grid *
cs_grid_new(size_t ncols)
{
    struct cs_grid *g;

    assert(ncols >= 1);
    g = cs_xcalloc(1, sizeof *g);
    g->ncols = ncols;
    g->width = cs_xcalloc(ncols, sizeof *g->width);
    return g;
}

void
cs_grid_destroy(struct cs_grid **gp)
{
    struct cs_grid *g;

    if (gp == NULL || *gp == NULL)
        return;
    g = *gp;
    for (size_t i = 0; i < g->ncells; i++)
        free(g->cells[i]);
    free(g->cells);
    free(g->width);
    free(g);
    *gp = NULL;
}

void
cs_grid_add(struct cs_grid *g, const char *text)
{
    char *cell = cs_text_truncate(text, CS_GRID_CELL_COLS);
    size_t col = g->ncells % g->ncols;
    size_t w = cs_text_width(cell);

    if (g->ncells == g->cap) {
        g->cap = g->cap ? g->cap * 2 : g->ncols * 8;
        g->cells = cs_xrealloc(g->cells, g->cap * sizeof *g->cells);
    }
    g->cells[g->ncells++] = cell;
    if (w > g->width[col])
        g->width[col] = w;
}

size_t
cs_grid_rows(const struct cs_grid *g)
{
    return g->ncells / g->ncols;
}

static void
s_pad(FILE *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', f);
}

static void
s_row(const struct cs_grid *g, FILE *f, size_t first)
{
    size_t pending = 0; /* spaces owed before the next non-empty cell */

    for (size_t c = 0; c < g->ncols; c++) {
        const char *cell = first + c < g->ncells ? g->cells[first + c] : "";
        size_t w = cs_text_width(cell);
        if (*cell != '\0') {
            s_pad(f, pending);
            fputs(cell, f);
            pending = 0;
        }
        pending += g->width[c] - w + (c + 1 < g->ncols ? CS_GRID_GAP : 0);
    }
    fputc('\n', f);
}

void
cs_grid_print(const struct cs_grid *g, FILE *f)
{
    size_t rows = (g->ncells + g->ncols - 1) / g->ncols;

    for (size_t r = 0; r < rows; r++) {
        s_row(g, f, r * g->ncols);
        if (r != 0)
            continue;
        for (size_t c = 0; c < g->ncols; c++) {
            for (size_t i = 0; i < g->width[c]; i++)
                fputc('-', f);
            if (c + 1 < g->ncols)
                s_pad(f, CS_GRID_GAP);
        }
        fputc('\n', f);
    }
}
