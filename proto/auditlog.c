/*  proto/auditlog.c - audit log leaves, tree heads, archives; see
 *  auditlog.h.  */
#include "proto_prelude.h"

#include "auditlog.h"
#include "err.h"

#define S_DEPTH 4 /* nesting skipped in an unknown trailing element */

static const char s_sth_domain[] = "cigsync tree head v1";

/* Elements after the kind (at included), per kind (index = kind). */
static const size_t s_fields[] = {0, 5, 9, 2, 5, 3};

const char *
cs_leaf_kind_name(int kind)
{
    switch (kind) {
    case CS_LEAF_BATCH:
        return "batch";
    case CS_LEAF_REFUSAL:
        return "refusal";
    case CS_LEAF_CORRECTION:
        return "correction";
    case CS_LEAF_ENROLL:
        return "enroll";
    case CS_LEAF_REVOKE:
        return "revoke";
    default:
        return "?";
    }
}

/* ---- leaves ------------------------------------------------------------ */

static int
s_text_ok(const struct cs_view *v, size_t max)
{
    if (v->len > max)
        return CS_ERR_TOO_BIG;
    if (v->len > 0 && (v->p == NULL || !cs_utf8_valid(v->p, v->len)))
        return CS_ERR_INVALID;
    return 0;
}

static int
s_put_text(struct cs_writer *w, const struct cs_view *v, size_t max)
{
    int r;

    if ((r = s_text_ok(v, max)) != 0)
        return r;
    return cs_writer_mp_str(w, v->len > 0 ? v->p : (const uint8_t *)"", v->len);
}

int
cs_leaf_encode(struct cs_writer *w, const struct cs_leaf *l)
{
    int r;

    if (l->kind < CS_LEAF_BATCH || l->kind > CS_LEAF_REVOKE)
        return CS_ERR_INVALID;
    if ((r = cs_writer_mp_array(w, (uint32_t)(1 + s_fields[l->kind]))) != 0 ||
        (r = cs_writer_mp_uint(w, (uint64_t)l->kind)) != 0 ||
        (r = cs_writer_mp_uint(w, l->at_ms)) != 0)
        return r;
    switch (l->kind) {
    case CS_LEAF_BATCH:
        if ((r = cs_writer_mp_bin(w, l->node.b, sizeof l->node.b)) != 0 ||
            (r = cs_writer_mp_uint(w, l->seq)) != 0 ||
            (r = cs_writer_mp_bin(w, l->hash, sizeof l->hash)) != 0 ||
            (r = cs_writer_mp_uint(w, l->count)) != 0)
            return r;
        break;
    case CS_LEAF_REFUSAL:
        if (l->code >= 0)
            return CS_ERR_INVALID;
        if ((r = cs_writer_mp_bin(w, l->node.b, sizeof l->node.b)) != 0 ||
            (r = cs_writer_mp_uint(w, l->seq)) != 0 ||
            (r = cs_writer_mp_uint(w, l->index)) != 0 ||
            (r = s_put_text(w, &l->table, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = s_put_text(w, &l->row, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = s_put_text(w, &l->field, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = cs_writer_mp_int(w, l->code)) != 0 ||
            (r = s_put_text(w, &l->reason, CS_AUDIT_TEXT_MAX)) != 0)
            return r;
        break;
    case CS_LEAF_CORRECTION:
        if (l->changeset.len > CS_AUDIT_LEAF_MAX)
            return CS_ERR_TOO_BIG;
        if ((r = cs_writer_mp_bin(w, l->changeset.p, l->changeset.len)) != 0)
            return r;
        break;
    case CS_LEAF_ENROLL:
        if ((r = s_put_text(w, &l->name, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = s_put_text(w, &l->role, CS_AUDIT_ROLE_MAX)) != 0 ||
            (r = s_put_text(w, &l->office, CS_AUDIT_OFFICE_MAX)) != 0 ||
            (r = cs_writer_mp_bin(w, l->pubkey.b, sizeof l->pubkey.b)) != 0)
            return r;
        break;
    case CS_LEAF_REVOKE:
        if ((r = s_put_text(w, &l->name, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = cs_writer_mp_bin(w, l->node.b, sizeof l->node.b)) != 0)
            return r;
        break;
    }
    return 0;
}

static int
s_text(struct cs_reader *rd, struct cs_view *v, size_t max)
{
    int r;

    if ((r = cs_reader_str(rd, v, max)) != 0)
        return r;
    if (v->len > 0 && !cs_utf8_valid(v->p, v->len))
        return CS_ERR_FORMAT;
    return 0;
}

static int
s_leaf_body(struct cs_reader *rd, struct cs_leaf *l)
{
    int r;

    switch (l->kind) {
    case CS_LEAF_BATCH:
        if ((r = cs_reader_bin_exact(rd, l->node.b, sizeof l->node.b)) != 0 ||
            (r = cs_reader_uint(rd, &l->seq)) != 0 ||
            (r = cs_reader_bin_exact(rd, l->hash, sizeof l->hash)) != 0 ||
            (r = cs_reader_uint(rd, &l->count)) != 0)
            return r;
        return l->seq == 0 ? CS_ERR_FORMAT : 0;
    case CS_LEAF_REFUSAL:
        if ((r = cs_reader_bin_exact(rd, l->node.b, sizeof l->node.b)) != 0 ||
            (r = cs_reader_uint(rd, &l->seq)) != 0 ||
            (r = cs_reader_uint(rd, &l->index)) != 0 ||
            (r = s_text(rd, &l->table, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = s_text(rd, &l->row, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = s_text(rd, &l->field, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = cs_reader_int(rd, &l->code)) != 0 ||
            (r = s_text(rd, &l->reason, CS_AUDIT_TEXT_MAX)) != 0)
            return r;
        return l->seq == 0 || l->code >= 0 ? CS_ERR_FORMAT : 0;
    case CS_LEAF_CORRECTION:
        return cs_reader_bin(rd, &l->changeset, CS_AUDIT_LEAF_MAX);
    case CS_LEAF_ENROLL:
        if ((r = s_text(rd, &l->name, CS_AUDIT_TEXT_MAX)) != 0 ||
            (r = s_text(rd, &l->role, CS_AUDIT_ROLE_MAX)) != 0 ||
            (r = s_text(rd, &l->office, CS_AUDIT_OFFICE_MAX)) != 0)
            return r;
        return cs_reader_bin_exact(rd, l->pubkey.b, sizeof l->pubkey.b);
    case CS_LEAF_REVOKE:
        if ((r = s_text(rd, &l->name, CS_AUDIT_TEXT_MAX)) != 0)
            return r;
        return cs_reader_bin_exact(rd, l->node.b, sizeof l->node.b);
    }
    return CS_ERR_FORMAT;
}

int
cs_leaf_decode(const uint8_t *p, size_t len, struct cs_leaf *l)
{
    struct cs_reader rd;
    uint64_t kind;
    size_t n;
    int r;

    memset(l, 0, sizeof *l);
    if (len > CS_AUDIT_LEAF_MAX + 64) {
        r = CS_ERR_TOO_BIG;
        goto out;
    }
    cs_reader_init(&rd, p, len);
    if ((r = cs_reader_array(&rd, &n, 16)) != 0 ||
        (r = cs_reader_uint(&rd, &kind)) != 0)
        goto out;
    if (kind < CS_LEAF_BATCH || kind > CS_LEAF_REVOKE ||
        n < 1 + s_fields[kind]) {
        r = CS_ERR_FORMAT;
        goto out;
    }
    l->kind = (enum cs_leaf_kind)kind;
    if ((r = cs_reader_uint(&rd, &l->at_ms)) != 0 ||
        (r = s_leaf_body(&rd, l)) != 0)
        goto out;
    for (size_t i = 1 + s_fields[kind]; i < n; i++)
        if ((r = cs_reader_skip(&rd, S_DEPTH)) != 0)
            goto out;
    r = cs_reader_end(&rd);
out:
    if (r != 0)
        memset(l, 0, sizeof *l);
    return r;
}

/* ---- tree heads -------------------------------------------------------- */

static void
s_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* The signed message of h. */
static void
s_sth_message(const uint8_t deployment[CS_DEPLOYMENT_BYTES],
              const struct cs_sth *h,
              uint8_t out[sizeof s_sth_domain + CS_DEPLOYMENT_BYTES + 16 +
                          CS_AUDIT_ROOT_BYTES])
{
    size_t at = sizeof s_sth_domain; /* the domain with its NUL */

    memcpy(out, s_sth_domain, sizeof s_sth_domain);
    memcpy(out + at, deployment, CS_DEPLOYMENT_BYTES);
    at += CS_DEPLOYMENT_BYTES;
    s_put_u64(out + at, h->size);
    s_put_u64(out + at + 8, h->time_ms);
    memcpy(out + at + 16, h->root, CS_AUDIT_ROOT_BYTES);
}

int
cs_sth_sign(const struct cs_key *k,
            const uint8_t deployment[CS_DEPLOYMENT_BYTES], struct cs_sth *h)
{
    uint8_t
        m[sizeof s_sth_domain + CS_DEPLOYMENT_BYTES + 16 + CS_AUDIT_ROOT_BYTES];

    s_sth_message(deployment, h, m);
    return cs_key_sign(k, m, sizeof m, h->sig);
}

bool
cs_sth_verify(const struct cs_pubkey *pk,
              const uint8_t deployment[CS_DEPLOYMENT_BYTES],
              const struct cs_sth *h)
{
    uint8_t
        m[sizeof s_sth_domain + CS_DEPLOYMENT_BYTES + 16 + CS_AUDIT_ROOT_BYTES];

    s_sth_message(deployment, h, m);
    return cs_key_verify(pk, m, sizeof m, h->sig);
}

/* ---- archives ---------------------------------------------------------- */

int
cs_audit_archive_begin(struct cs_writer *w,
                       const uint8_t deployment[CS_DEPLOYMENT_BYTES],
                       const struct cs_pubkey *server)
{
    int r;

    if ((r = cs_writer_put(w, CS_AUDIT_MAGIC, CS_AUDIT_MAGIC_LEN)) != 0 ||
        (r = cs_writer_mp_array(w, 3)) != 0 ||
        (r = cs_writer_mp_uint(w, CS_AUDIT_ARCHIVE_VERSION)) != 0 ||
        (r = cs_writer_mp_bin(w, deployment, CS_DEPLOYMENT_BYTES)) != 0 ||
        (r = cs_writer_mp_bin(w, server->b, sizeof server->b)) != 0)
        return r;
    return 0;
}

int
cs_audit_archive_bytes(struct cs_writer *w, enum cs_audit_rec_type type,
                       const uint8_t *p, size_t len)
{
    int r;

    if (type != CS_AUDIT_REC_LEAF && type != CS_AUDIT_REC_BATCH)
        return CS_ERR_INVALID;
    if (len > (type == CS_AUDIT_REC_LEAF ? CS_AUDIT_LEAF_MAX : CS_BATCH_MAX))
        return CS_ERR_TOO_BIG;
    if ((r = cs_writer_mp_array(w, 2)) != 0 ||
        (r = cs_writer_mp_uint(w, (uint64_t)type)) != 0 ||
        (r = cs_writer_mp_bin(w, p, len)) != 0)
        return r;
    return 0;
}

int
cs_audit_archive_head(struct cs_writer *w, const struct cs_sth *h)
{
    int r;

    if ((r = cs_writer_mp_array(w, 5)) != 0 ||
        (r = cs_writer_mp_uint(w, CS_AUDIT_REC_HEAD)) != 0 ||
        (r = cs_writer_mp_uint(w, h->size)) != 0 ||
        (r = cs_writer_mp_uint(w, h->time_ms)) != 0 ||
        (r = cs_writer_mp_bin(w, h->root, sizeof h->root)) != 0 ||
        (r = cs_writer_mp_bin(w, h->sig, sizeof h->sig)) != 0)
        return r;
    return 0;
}

int
cs_audit_archive_open(struct cs_audit_archive *a, const uint8_t *p, size_t len)
{
    struct cs_view magic;
    uint64_t version;
    size_t n;
    int r;

    memset(a, 0, sizeof *a);
    cs_reader_init(&a->rd, p, len);
    if ((r = cs_reader_bytes(&a->rd, &magic, CS_AUDIT_MAGIC_LEN)) != 0)
        return r;
    if (memcmp(magic.p, CS_AUDIT_MAGIC, CS_AUDIT_MAGIC_LEN) != 0)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_array(&a->rd, &n, 16)) != 0 ||
        (r = cs_reader_uint(&a->rd, &version)) != 0)
        return r;
    if (n < 3 || version != CS_AUDIT_ARCHIVE_VERSION)
        return CS_ERR_FORMAT;
    if ((r = cs_reader_bin_exact(&a->rd, a->deployment,
                                 sizeof a->deployment)) != 0 ||
        (r = cs_reader_bin_exact(&a->rd, a->server.b, sizeof a->server.b)) != 0)
        return r;
    for (size_t i = 3; i < n; i++)
        if ((r = cs_reader_skip(&a->rd, S_DEPTH)) != 0)
            return r;
    return 0;
}

int
cs_audit_archive_next(struct cs_audit_archive *a, struct cs_audit_rec *rec)
{
    uint64_t type;
    size_t n;
    int r;

    memset(rec, 0, sizeof *rec);
    if (cs_reader_left(&a->rd) == 0)
        return CS_ERR_NOT_FOUND;
    if ((r = cs_reader_array(&a->rd, &n, 16)) != 0 ||
        (r = cs_reader_uint(&a->rd, &type)) != 0)
        return r;
    switch (type) {
    case CS_AUDIT_REC_LEAF:
    case CS_AUDIT_REC_BATCH:
        if (n != 2)
            return CS_ERR_FORMAT;
        r = cs_reader_bin(&a->rd, &rec->bytes,
                          type == CS_AUDIT_REC_LEAF ? CS_AUDIT_LEAF_MAX
                                                    : CS_BATCH_MAX);
        break;
    case CS_AUDIT_REC_HEAD:
        if (n != 5)
            return CS_ERR_FORMAT;
        if ((r = cs_reader_uint(&a->rd, &rec->head.size)) != 0 ||
            (r = cs_reader_uint(&a->rd, &rec->head.time_ms)) != 0 ||
            (r = cs_reader_bin_exact(&a->rd, rec->head.root,
                                     sizeof rec->head.root)) != 0)
            break;
        r = cs_reader_bin_exact(&a->rd, rec->head.sig, sizeof rec->head.sig);
        break;
    default:
        return CS_ERR_FORMAT;
    }
    if (r != 0) {
        memset(rec, 0, sizeof *rec);
        return r;
    }
    rec->type = (enum cs_audit_rec_type)type;
    return 0;
}
