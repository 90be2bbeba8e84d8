/*  common/change.h - one change to one field or row, as replicas exchange
 *  it.
 *
 *  This is the unit the store logs and merges (store.h) and the protocol
 *  packs into batches (proto/changeset.h).  It has no SQLite dependency so
 *  that proto/ can use it; the value type numbers equal SQLite's so the
 *  store can pass them straight through.
 */
#ifndef CS_CHANGE_H
#define CS_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hlc.h"
#include "key.h"

/* Types of a field value; the numbers are SQLite's (SQLITE_INTEGER...). */
enum cs_value_type {
    CS_VALUE_INTEGER = 1, /* int64_t */
    CS_VALUE_FLOAT = 2,   /* double */
    CS_VALUE_TEXT = 3,    /* UTF-8 bytes */
    CS_VALUE_BLOB = 4,    /* bytes */
    CS_VALUE_NULL = 5     /* no value */
};

/* The kinds of change in the log.  Field changes have a column name; row
   life changes have the empty column "". */
enum cs_op {
    CS_OP_SET = 1, /* a field got a value */
    CS_OP_ACK = 2, /* the writer saw the version named by base (settles it) */
    CS_OP_INS = 3, /* the row was created */
    CS_OP_DEL = 4, /* the row was deleted */
    CS_OP_RST = 5  /* the deleted row was restored */
};

/* One field value, as SQLite stores it. */
struct cs_value {
    int type;      /* enum cs_value_type (SQLite's numbering) */
    int64_t i;     /* CS_VALUE_INTEGER */
    double d;      /* CS_VALUE_FLOAT */
    const void *p; /* CS_VALUE_TEXT (not NUL-terminated) or CS_VALUE_BLOB */
    size_t len;    /* bytes at p */
};

/* One change as it travels between replicas.  Pointers are borrowed. */
struct cs_change {
    const char *table;             /* synced table name */
    const char *row_id;            /* the row's id */
    const char *col;               /* field name, "" for row life ops */
    enum cs_op op;                 /* what happened */
    struct cs_value value;         /* CS_OP_SET only; else CS_VALUE_NULL */
    struct cs_hlc hlc;             /* when (origin's clock) */
    struct cs_node_id origin;      /* who */
    uint64_t origin_seq;           /* origin's number for it, from 1 */
    bool has_base;                 /* false: the writer saw no version */
    struct cs_hlc base_hlc;        /* version replaced: its HLC ... */
    struct cs_node_id base_origin; /* ... and its origin */
};

#endif
