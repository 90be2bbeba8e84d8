/*  proto/flow.c - credit, envelopes and resume points of one direction of
 *  a session; see flow.h.  */
#include "proto_prelude.h"

#include "flow.h"
#include "log.h"
#include "mem.h"

void
cs_flow_out_init(struct cs_flow_out *o)
{
    memset(o, 0, sizeof *o);
}

static void
s_drop_env(struct cs_flow_out *o)
{
    free(o->env);
    o->env = NULL;
    o->env_len = 0;
    o->env_seq = 0;
    o->env_started = false;
    o->high_water = 0;
}

void
cs_flow_out_free(struct cs_flow_out *o)
{
    s_drop_env(o);
}

void
cs_flow_out_session(struct cs_flow_out *o, uint64_t acked)
{
    o->credit_bytes = 0;
    o->credit_batches = 0;
    if (acked > o->acked)
        o->acked = acked;
    o->sent = o->acked;
    if (o->env != NULL && o->env_seq <= o->acked)
        s_drop_env(o);
    if (o->env != NULL && o->env_seq != o->sent + 1)
        s_drop_env(o); /* not next in line any more: seal it again */
    if (o->env != NULL) {
        cs_splitter_init(&o->sp, o->env, o->env_len, CS_CHUNK_DATA_MAX);
        o->env_started = false;
    }
}

void
cs_flow_out_ack(struct cs_flow_out *o, uint64_t seq)
{
    if (seq > o->acked)
        o->acked = seq;
    if (o->sent < o->acked)
        o->sent = o->acked;
    if (o->env != NULL && o->env_seq <= o->acked)
        s_drop_env(o);
}

void
cs_flow_out_resume(struct cs_flow_out *o, const struct cs_chunk_id *id,
                   uint64_t offset)
{
    /* At a session's start, or mid-session when the receiver dropped a
       chunk: either way, go on where it holds the envelope. */
    if (o->env == NULL || o->env_whole ||
        memcmp(id->b, o->sp.id.b, CS_CHUNK_ID_BYTES) != 0)
        return;
    if (cs_splitter_seek(&o->sp, offset) != 0)
        cs_log_warn("the peer's resume point %" PRIu64
                    " is past the envelope's %zu bytes; sending it whole",
                    offset, o->env_len);
}

void
cs_flow_out_credit(struct cs_flow_out *o, uint64_t bytes, uint64_t batches)
{
    o->credit_bytes = bytes > UINT64_MAX - o->credit_bytes
                          ? UINT64_MAX
                          : o->credit_bytes + bytes;
    o->credit_batches = batches > UINT64_MAX - o->credit_batches
                            ? UINT64_MAX
                            : o->credit_batches + batches;
}

uint64_t
cs_flow_out_wants(const struct cs_flow_out *o)
{
    if (o->env != NULL) {
        bool finished =
            o->env_whole ? o->env_seq <= o->sent : cs_splitter_done(&o->sp);
        if (!finished || !o->env_whole)
            return 0; /* still sending, or a chunked one awaits its ACK */
    }
    if (o->credit_batches == 0 || o->credit_bytes == 0)
        return 0;
    return o->sent + 1;
}

void
cs_flow_out_load(struct cs_flow_out *o, uint64_t seq, uint8_t *env, size_t len)
{
    s_drop_env(o);
    o->env = env;
    o->env_len = len;
    o->env_seq = seq;
    o->env_whole = len <= CS_MSG_BATCH_MAX && len > 0;
    cs_splitter_init(&o->sp, env, len, CS_CHUNK_DATA_MAX);
}

int
cs_flow_out_next(struct cs_flow_out *o, struct cs_writer *w, bool *sent)
{
    struct cs_chunk c;
    struct cs_splitter peek;
    bool last;
    int r;

    *sent = false;
    if (o->env == NULL)
        return 0;
    if (o->env_whole) {
        struct cs_msg_batch b;
        if (o->env_seq <= o->sent || o->credit_batches == 0 ||
            o->credit_bytes < o->env_len)
            return 0;
        b.envelope.p = o->env;
        b.envelope.len = o->env_len;
        if ((r = cs_msg_batch_encode(w, &b)) != 0)
            return r;
        o->credit_bytes -= o->env_len;
        o->credit_batches--;
        o->bytes_sent += o->env_len;
        if (o->env_seq <= o->seq_high)
            o->bytes_resent += o->env_len;
        else
            o->seq_high = o->env_seq;
        o->sent = o->env_seq;
        o->env_started = true;
        *sent = true;
        return 0;
    }
    if (cs_splitter_done(&o->sp))
        return 0;
    if (o->acked + 1 < o->env_seq)
        return 0; /* a chunked envelope travels alone: wait for the ACKs */
    peek = o->sp;
    cs_splitter_pull(&peek, &c);
    last = cs_splitter_done(&peek);
    if (o->credit_bytes < c.data.len || o->credit_bytes == 0 ||
        (last && o->credit_batches == 0))
        return 0;
    if ((r = cs_msg_chunk_encode(w, &c)) != 0)
        return r;
    o->sp = peek;
    o->credit_bytes -= c.data.len;
    if (last)
        o->credit_batches--;
    o->bytes_sent += c.data.len;
    if (c.offset < o->high_water) {
        uint64_t end = c.offset + c.data.len;
        o->bytes_resent +=
            (end < o->high_water ? end : o->high_water) - c.offset;
    }
    if (c.offset + c.data.len > o->high_water)
        o->high_water = c.offset + c.data.len;
    o->env_started = true;
    if (last) {
        o->sent = o->env_seq;
        if (o->env_seq > o->seq_high)
            o->seq_high = o->env_seq;
    }
    *sent = true;
    return 0;
}

bool
cs_flow_out_idle(const struct cs_flow_out *o, uint64_t last)
{
    return o->acked >= last && o->env == NULL;
}

void
cs_flow_in_init(struct cs_flow_in *in, size_t max_total)
{
    memset(in, 0, sizeof *in);
    in->reasm = cs_reasm_new(max_total);
}

void
cs_flow_in_free(struct cs_flow_in *in)
{
    cs_reasm_destroy(&in->reasm);
}

int
cs_flow_in_push(struct cs_flow_in *in, const struct cs_msg *m, uint8_t **env,
                size_t *len, struct cs_msg_credit *grant)
{
    enum cs_reasm_status st;
    int r;

    *env = NULL;
    *len = 0;
    memset(grant, 0, sizeof *grant);
    if (m->type == CS_MSG_BATCH) {
        const struct cs_view *v = &m->u.batch.envelope;
        /* A sender sends a whole BATCH only with no chunked envelope
           pending: a prefix still held here is stale. */
        cs_reasm_reset(in->reasm);
        *env = cs_xmalloc(v->len);
        memcpy(*env, v->p, v->len);
        *len = v->len;
        grant->bytes = v->len;
        grant->batches = 1;
        in->bytes_in += v->len;
        return 0;
    }
    if (m->type != CS_MSG_CHUNK)
        return CS_ERR_INVALID;
    grant->bytes = m->u.chunk.data.len;
    in->bytes_in += m->u.chunk.data.len;
    r = cs_reasm_push(in->reasm, &m->u.chunk, &st);
    if (r == CS_REASM_ERR_OTHER && m->u.chunk.offset == 0) {
        /* The sender gave the old envelope up and started another. */
        cs_reasm_reset(in->reasm);
        r = cs_reasm_push(in->reasm, &m->u.chunk, &st);
    }
    if (r != 0) {
        struct cs_chunk_id held;
        cs_log_info("dropped a chunk at offset %" PRIu64 ": %s",
                    m->u.chunk.offset, cs_strerror(r));
        /* Tell the sender where to go on (ACK's resume point), and give
           back the envelope credit a last chunk took. */
        cs_reasm_id(in->reasm, &held);
        in->resume_wanted = true;
        in->want_id = m->u.chunk.id;
        in->want_offset =
            cs_reasm_active(in->reasm) &&
                    memcmp(held.b, m->u.chunk.id.b, CS_CHUNK_ID_BYTES) == 0
                ? cs_reasm_offset(in->reasm)
                : 0;
        if (m->u.chunk.offset + m->u.chunk.data.len >= m->u.chunk.total)
            grant->batches = 1;
        return 0;
    }
    if (st != CS_REASM_COMPLETE)
        return 0;
    grant->batches = 1;
    return cs_reasm_take(in->reasm, env, len);
}

void
cs_flow_in_resume(const struct cs_flow_in *in, struct cs_msg_ack *ack)
{
    if (in->resume_wanted) {
        ack->has_resume = true;
        ack->envelope = in->want_id;
        ack->offset = in->want_offset;
        return;
    }
    ack->has_resume = cs_reasm_active(in->reasm);
    if (ack->has_resume) {
        cs_reasm_id(in->reasm, &ack->envelope);
        ack->offset = cs_reasm_offset(in->reasm);
    } else {
        memset(&ack->envelope, 0, sizeof ack->envelope);
        ack->offset = 0;
    }
}

bool
cs_flow_in_busy(const struct cs_flow_in *in)
{
    return cs_reasm_active(in->reasm);
}

void
cs_flow_in_reset(struct cs_flow_in *in)
{
    cs_reasm_reset(in->reasm);
    in->resume_wanted = false;
}

bool
cs_flow_in_resume_pending(const struct cs_flow_in *in)
{
    return in->resume_wanted;
}

void
cs_flow_in_resume_sent(struct cs_flow_in *in)
{
    in->resume_wanted = false;
}
