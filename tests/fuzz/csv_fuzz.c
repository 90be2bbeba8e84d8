/*  tests/fuzz/csv_fuzz.c - fuzz target for the CSV reader.
 *
 *  Target: cs_csv_next() (common/csv.c), the bounded reader `cigsync
 *  import` runs on files from outside; also cs_csv_put() and
 *  cs_csv_put_end(), the writer of `cigsync export`.  Properties checked
 *  besides memory safety: every record respects the limits (fields,
 *  field length, record bytes), fields are NUL-terminated and hold no NUL,
 *  line numbers never go backwards and never pass the number of lines in
 *  the input, a failure says where and why; and every record read, written
 *  back with the writer, reads back as the same fields.  Deterministic.
 *  Seed corpus: tests/fuzz/corpus/csv/.
 */
#include "prelude.h"

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cs_csv_record s_rec;  /* the record read */
static struct cs_csv_record s_back; /* the same, written and read back */

/* Counts the LF bytes of the input: the last line number is one more. */
static size_t
s_lines(const uint8_t *data, size_t size)
{
    size_t n = 1;

    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

static void
s_check_record(const struct cs_csv_record *rec, size_t last_line,
               size_t max_line)
{
    size_t bytes = 0;

    if (rec->n > CS_CSV_COLUMNS_MAX || rec->line < last_line ||
        rec->line > max_line || rec->used > CS_CSV_RECORD_MAX)
        abort();
    for (size_t i = 0; i < rec->n; i++) {
        const struct cs_csv_field *f = &rec->fields[i];
        if (f->len > CS_CSV_FIELD_MAX || f->text[f->len] != '\0' ||
            strlen(f->text) != f->len || f->line < rec->line ||
            f->line > max_line || (i > 0 && f->line < rec->fields[i - 1].line))
            abort();
        bytes += f->len + 1;
    }
    if (bytes != rec->used)
        abort();
}

/* Writes rec with the writer and reads it back: the same fields. */
static void
s_round_trip(const struct cs_csv_record *rec)
{
    struct cs_csv c;
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    if (rec->n == 0)
        return;
    if ((f = open_memstream(&text, &len)) == NULL)
        abort();
    /* As export does; it also keeps a first field that starts with the
       BOM's bytes from being taken for one. */
    cs_csv_put_bom(f);
    if (rec->n == 1 && rec->fields[0].len == 0)
        fputs("\"\"", f); /* alone, an empty field would be a blank line */
    else
        for (size_t i = 0; i < rec->n; i++)
            cs_csv_put(f, rec->fields[i].text, rec->fields[i].len, i == 0);
    cs_csv_put_end(f);
    if (fclose(f) != 0)
        abort();
    cs_csv_init(&c, text, len);
    /* Quoting adds bytes, never unquoted ones: the limits still hold. */
    if (cs_csv_next(&c, &s_back) != 0 || !cs_csv_at_end(&c) ||
        s_back.n != rec->n)
        abort();
    for (size_t i = 0; i < rec->n; i++)
        if (s_back.fields[i].len != rec->fields[i].len ||
            memcmp(s_back.fields[i].text, rec->fields[i].text,
                   rec->fields[i].len) != 0)
            abort();
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t max_line = s_lines(data, size), last_line = 1, line, field;
    struct cs_csv c;

    if (size > CS_CSV_FILE_MAX)
        return 0;
    cs_csv_init(&c, data, size);
    while (!cs_csv_at_end(&c)) {
        if (cs_csv_next(&c, &s_rec) != 0) {
            const char *why = cs_csv_error(&c, &line, &field);
            if (why == NULL || line < last_line || line > max_line ||
                field < 1 || field > CS_CSV_COLUMNS_MAX + 1)
                abort();
            return 0;
        }
        s_check_record(&s_rec, last_line, max_line);
        s_round_trip(&s_rec);
        last_line = s_rec.line;
    }
    return 0;
}
