/*  bench/proto_bench.c - what the wire format costs and saves.
 *
 *  One run prints, for the same realistic changes (bench/workload.h):
 *  - changes per second to pack (change list + zstd + Ed25519 signature +
 *    envelope encryption) and to open (decrypt + verify + decompress +
 *    bounded decode), next to plain msgpack-c encoding and decoding of the
 *    same changes with every name spelled out (the baseline);
 *  - bytes per change on the wire, next to the same changes as JSON lines
 *    compressed with gzip -6 (the other baseline) and as plain msgpack.
 *  Usage: proto_bench [CHANGES [PER_BATCH [SEED]]]  (100000 5000 1)
 *  Not a test: it asserts nothing; it measures.
 */
#include "prelude.h"

#include "batch.h"
#include "changeset.h"
#include "envelope.h"
#include "key.h"
#include "mem.h"
#include "workload.h"
#include "writer.h"

#define S_REPEAT 3 /* best of, for each timing */

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Baseline: every change as a msgpack array with all names spelled out. */
static void
s_pack_plain(msgpack_packer *pk, const struct cs_change *c)
{
    msgpack_pack_array(pk, 9);
    msgpack_pack_str_with_body(pk, c->table, strlen(c->table));
    msgpack_pack_str_with_body(pk, c->row_id, strlen(c->row_id));
    msgpack_pack_str_with_body(pk, c->col, strlen(c->col));
    msgpack_pack_int(pk, (int)c->op);
    switch (c->value.type) {
    case CS_VALUE_INTEGER:
        msgpack_pack_int64(pk, c->value.i);
        break;
    case CS_VALUE_FLOAT:
        msgpack_pack_double(pk, c->value.d);
        break;
    case CS_VALUE_TEXT:
        msgpack_pack_str_with_body(pk, c->value.p, c->value.len);
        break;
    case CS_VALUE_BLOB:
        msgpack_pack_bin_with_body(pk, c->value.p, c->value.len);
        break;
    default:
        msgpack_pack_nil(pk);
        break;
    }
    msgpack_pack_uint64(pk, c->hlc.t);
    msgpack_pack_bin_with_body(pk, c->origin.b, sizeof c->origin.b);
    msgpack_pack_uint64(pk, c->origin_seq);
    if (c->has_base) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, c->base_hlc.t);
        msgpack_pack_bin_with_body(pk, c->base_origin.b,
                                   sizeof c->base_origin.b);
    } else {
        msgpack_pack_nil(pk);
    }
}

static void
s_json_str(FILE *f, const char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void
s_json_line(FILE *f, const struct cs_change *c)
{
    char hex[CS_NODE_ID_HEX_LEN + 1];
    fputs("{\"table\":", f);
    s_json_str(f, c->table, strlen(c->table));
    fputs(",\"row_id\":", f);
    s_json_str(f, c->row_id, strlen(c->row_id));
    fputs(",\"field\":", f);
    s_json_str(f, c->col, strlen(c->col));
    fprintf(f, ",\"op\":%d,\"value\":", (int)c->op);
    if (c->value.type == CS_VALUE_TEXT)
        s_json_str(f, c->value.p, c->value.len);
    else if (c->value.type == CS_VALUE_INTEGER)
        fprintf(f, "%lld", (long long)c->value.i);
    else
        fputs("null", f);
    cs_node_id_hex(&c->origin, hex);
    fprintf(f, ",\"hlc\":%llu,\"origin\":\"%s\",\"seq\":%llu",
            (unsigned long long)c->hlc.t, hex,
            (unsigned long long)c->origin_seq);
    if (c->has_base) {
        cs_node_id_hex(&c->base_origin, hex);
        fprintf(f, ",\"base_hlc\":%llu,\"base_origin\":\"%s\"",
                (unsigned long long)c->base_hlc.t, hex);
    }
    fputs("}\n", f);
}

/* Bytes of the changes as gzip -6 compressed JSON lines. */
static long
s_gzip_json(const struct cs_change *ch, size_t n, long *plain)
{
    char path[] = "/tmp/cs_proto_bench_XXXXXX";
    char cmd[128];
    long out = -1;
    int fd = mkstemp(path);
    FILE *f, *p;
    if (fd < 0)
        return -1;
    f = fdopen(fd, "w");
    for (size_t i = 0; i < n; i++)
        s_json_line(f, &ch[i]);
    *plain = ftell(f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "gzip -6 -c %s | wc -c", path);
    if ((p = popen(cmd, "r")) != NULL) {
        char line[64];
        if (fgets(line, sizeof line, p) != NULL)
            out = strtol(line, NULL, 10);
        pclose(p);
    }
    unlink(path);
    return out;
}

/* Bytes of the change lists (per batch, concatenated) compressed by
   command (e.g. "gzip -6"), or -1 if it cannot run. */
static long
s_lists_compressed(const struct cs_change *ch, size_t n, size_t per,
                   const char *command)
{
    char path[] = "/tmp/cs_proto_bench_XXXXXX";
    char cmd[160];
    long out = -1;
    int fd = mkstemp(path);
    FILE *f, *p;
    if (fd < 0)
        return -1;
    f = fdopen(fd, "w");
    for (size_t off = 0; off < n; off += per) {
        struct cs_writer list;
        size_t cnt = n - off < per ? n - off : per;
        cs_writer_init(&list, CS_PAYLOAD_RAW_MAX);
        if (cs_changeset_encode(ch + off, cnt, &list) == 0)
            fwrite(cs_writer_data(&list), 1, cs_writer_len(&list), f);
        cs_writer_free(&list);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s -c %s 2>/dev/null | wc -c", command, path);
    if ((p = popen(cmd, "r")) != NULL) {
        char line[64];
        if (fgets(line, sizeof line, p) != NULL)
            out = strtol(line, NULL, 10);
        pclose(p);
    }
    unlink(path);
    return out;
}

struct s_sealed {
    struct cs_writer *env; /* one envelope per batch */
    size_t n;              /* batches */
    size_t raw;            /* change list bytes before compression */
    size_t wire;           /* envelope bytes */
};

static int
s_pack_all(const struct cs_change *ch, size_t n, size_t per,
           const struct cs_key *from, const struct cs_key *to,
           const uint8_t *dep, struct s_sealed *out)
{
    uint8_t prev[CS_HASH_BYTES] = {0}, hash[CS_HASH_BYTES];
    size_t nb = (n + per - 1) / per;
    int r = 0;

    out->env = cs_xcalloc(nb, sizeof *out->env);
    out->n = nb;
    out->raw = out->wire = 0;
    for (size_t b = 0; b < nb && r == 0; b++) {
        size_t off = b * per, cnt = n - off < per ? n - off : per;
        struct cs_writer list, batch;
        struct cs_batch_head head;
        cs_writer_init(&list, CS_PAYLOAD_RAW_MAX);
        cs_writer_init(&batch, CS_BATCH_MAX);
        cs_writer_init(&out->env[b], CS_ENVELOPE_MAX);
        memset(&head, 0, sizeof head);
        memcpy(head.deployment, dep, CS_DEPLOYMENT_BYTES);
        head.seq = b + 1;
        memcpy(head.prev_hash, prev, sizeof prev);
        head.hlc_min = ch[off].hlc;
        head.hlc_max = ch[off + cnt - 1].hlc;
        head.count = cnt;
        if ((r = cs_changeset_encode(ch + off, cnt, &list)) == 0 &&
            (r = cs_batch_seal(from, &head, cs_writer_data(&list),
                               cs_writer_len(&list), CS_BATCH_COMPRESSION_ZSTD,
                               &batch, hash)) == 0 &&
            (r = cs_envelope_seal(from, cs_key_public(to), dep,
                                  CS_ENVELOPE_KIND_BATCH,
                                  cs_writer_data(&batch), cs_writer_len(&batch),
                                  &out->env[b])) == 0) {
            out->raw += cs_writer_len(&list);
            out->wire += cs_writer_len(&out->env[b]);
            memcpy(prev, hash, sizeof prev);
        }
        cs_writer_free(&list);
        cs_writer_free(&batch);
    }
    return r;
}

static int
s_open_all(const struct s_sealed *in, const struct cs_key *from,
           const struct cs_key *to, const uint8_t *dep, size_t *changes)
{
    uint8_t prev[CS_HASH_BYTES] = {0};
    int r = 0;
    *changes = 0;
    for (size_t b = 0; b < in->n && r == 0; b++) {
        struct cs_envelope env;
        struct cs_batch batch;
        struct cs_changeset *cs = NULL;
        uint8_t *plain = NULL, *raw = NULL;
        size_t plain_len = 0, raw_len = 0;
        if ((r = cs_envelope_parse(cs_writer_data(&in->env[b]),
                                   cs_writer_len(&in->env[b]), &env)) == 0 &&
            (r = cs_envelope_open(&env, to, dep, &plain, &plain_len)) == 0 &&
            (r = cs_batch_parse(plain, plain_len, &batch)) == 0 &&
            (r = cs_batch_verify(&batch, cs_key_public(from), dep, b + 1,
                                 prev)) == 0 &&
            (r = cs_batch_payload(&batch, &raw, &raw_len)) == 0 &&
            (r = cs_changeset_decode(raw, raw_len, &cs)) == 0) {
            *changes += cs_changeset_count(cs);
            memcpy(prev, batch.hash, sizeof prev);
        }
        cs_changeset_destroy(&cs);
        free(raw);
        if (plain != NULL)
            cs_envelope_plain_free(plain, plain_len);
    }
    return r;
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    size_t per = argc > 2 ? strtoul(argv[2], NULL, 10) : 5000;
    uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
    uint8_t dep[CS_DEPLOYMENT_BYTES], s1[CS_KEY_SEED_BYTES],
        s2[CS_KEY_SEED_BYTES];
    struct cs_key *from = NULL, *to = NULL;
    struct cs_workload *w = cs_workload_new(seed);
    const struct cs_change *ch;
    double best_plain_enc = 1e9, best_plain_dec = 1e9, best_pack = 1e9,
           best_open = 1e9;
    size_t plain_bytes = 0, opened = 0;
    struct s_sealed sealed = {NULL, 0, 0, 0};
    long json_plain = 0, json_gz;

    if (n == 0 || per == 0 || per > CS_BATCH_CHANGES_MAX ||
        cs_crypto_init() != 0)
        return 2;
    memset(dep, 0x5a, sizeof dep);
    memset(s1, 1, sizeof s1);
    memset(s2, 2, sizeof s2);
    if (cs_key_from_seed(s1, &from) != 0 || cs_key_from_seed(s2, &to) != 0)
        return 1;
    ch = cs_workload_office_day(w, n, &n);

    for (int rep = 0; rep < S_REPEAT; rep++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_unpacker up;
        msgpack_unpacked obj;
        size_t objs = 0;
        double t0 = s_now(), t1, t2;

        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        for (size_t i = 0; i < n; i++)
            s_pack_plain(&pk, &ch[i]);
        t1 = s_now();
        /* Trusted bytes we just made: the baseline may use msgpack-c's
           unpacker, which cigsync never runs on input from outside. */
        msgpack_unpacker_init(&up, sb.size);
        memcpy(msgpack_unpacker_buffer(&up), sb.data, sb.size);
        msgpack_unpacker_buffer_consumed(&up, sb.size);
        msgpack_unpacked_init(&obj);
        while (msgpack_unpacker_next(&up, &obj) == MSGPACK_UNPACK_SUCCESS)
            objs++;
        t2 = s_now();
        msgpack_unpacked_destroy(&obj);
        msgpack_unpacker_destroy(&up);
        plain_bytes = sb.size;
        msgpack_sbuffer_destroy(&sb);
        if (objs != n)
            return 1;
        best_plain_enc = t1 - t0 < best_plain_enc ? t1 - t0 : best_plain_enc;
        best_plain_dec = t2 - t1 < best_plain_dec ? t2 - t1 : best_plain_dec;

        for (size_t b = 0; b < sealed.n; b++)
            cs_writer_free(&sealed.env[b]);
        free(sealed.env);
        t0 = s_now();
        if (s_pack_all(ch, n, per, from, to, dep, &sealed) != 0)
            return 1;
        t1 = s_now();
        if (s_open_all(&sealed, from, to, dep, &opened) != 0 || opened != n)
            return 1;
        t2 = s_now();
        best_pack = t1 - t0 < best_pack ? t1 - t0 : best_pack;
        best_open = t2 - t1 < best_open ? t2 - t1 : best_open;
    }
    json_gz = s_gzip_json(ch, n, &json_plain);
    long lists_gz = s_lists_compressed(ch, n, per, "gzip -6");
    long lists_zst = s_lists_compressed(ch, n, per, "zstd -3 -q");
    long lists_zst19 = s_lists_compressed(ch, n, per, "zstd -19 -q");

    printf("proto_bench: %zu changes (seed %llu), %zu per batch, %zu "
           "batches, best of %d\n\n",
           n, (unsigned long long)seed, per, sealed.n, S_REPEAT);
    printf("%-52s %12s %10s\n", "speed", "changes/s", "ratio");
    printf("%-52s %12.0f %10s\n", "msgpack-c encode, names spelled out (base)",
           n / best_plain_enc, "1.00");
    printf("%-52s %12.0f %10.2f\n", "pack: change list + zstd + sign + encrypt",
           n / best_pack, best_plain_enc / best_pack);
    printf("%-52s %12.0f %10s\n", "msgpack-c decode (base)", n / best_plain_dec,
           "1.00");
    printf("%-52s %12.0f %10.2f\n",
           "open: decrypt + verify + decompress + decode", n / best_open,
           best_plain_dec / best_open);
    printf("\n%-52s %12s %10s\n", "size", "bytes/change", "vs gz-JSON");
    printf("%-52s %12.1f %10.2f\n", "JSON lines, gzip -6 (base)",
           (double)json_gz / n, 1.0);
    printf("%-52s %12.1f %10.2f\n", "JSON lines, plain", (double)json_plain / n,
           (double)json_plain / json_gz);
    printf("%-52s %12.1f %10.2f\n", "msgpack, names spelled out",
           (double)plain_bytes / n, (double)plain_bytes / json_gz);
    printf("%-52s %12.1f %10.2f\n", "cigsync change list, before zstd",
           (double)sealed.raw / n, (double)sealed.raw / json_gz);
    printf("%-52s %12.1f %10.2f\n", "cigsync change lists in one file, gzip -6",
           (double)lists_gz / n, (double)lists_gz / json_gz);
    printf("%-52s %12.1f %10.2f\n", "cigsync change lists in one file, zstd -3",
           (double)lists_zst / n, (double)lists_zst / json_gz);
    printf("%-52s %12.1f %10.2f\n",
           "cigsync change lists in one file, zstd -19",
           (double)lists_zst19 / n, (double)lists_zst19 / json_gz);
    printf("%-52s %12.1f %10.2f\n",
           "cigsync on the wire (zstd, signed, encrypted)",
           (double)sealed.wire / n, (double)sealed.wire / json_gz);
    for (size_t b = 0; b < sealed.n; b++)
        cs_writer_free(&sealed.env[b]);
    free(sealed.env);
    cs_key_destroy(&from);
    cs_key_destroy(&to);
    cs_workload_destroy(&w);
    return 0;
}
