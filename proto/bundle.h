/*  proto/bundle.h - a file of envelopes, for when there is no link.
 *
 *  A bundle carries, on a USB stick, the envelopes a session would have
 *  sent: an office's unsent batches for the server, or the server's batches
 *  for one node.  Each envelope is sealed for the bundle's recipient
 *  (envelope.h) exactly as on the network, so importing a bundle is
 *  applying those envelopes as if they had arrived; importing one twice
 *  applies nothing new.  The layout (PROTOCOL.md "Bundles"), all integers
 *  big-endian:
 *
 *      offset  size  field
 *      0       8     magic "CSBUNDLE"
 *      8       1     version, 1
 *      9       1     kind: 1 node to server, 2 server to node
 *      10      16    sender node id
 *      26      16    recipient node id
 *      42      16    deployment id
 *      58      8     acknowledgement: the last batch of the recipient's
 *                    feed the sender holds (0 if none); so that an office
 *                    that only ever exchanges bundles is not sent the same
 *                    batches again and again
 *      66      4     count of envelopes, at most CS_BUNDLE_ENVELOPES_MAX
 *      70      ...   count times: 4-byte length (1..CS_ENVELOPE_MAX), then
 *                    the envelope
 *      end-96  32    BLAKE2b-256 of every byte before it
 *      end-64  64    Ed25519 signature by the sender of
 *                    CS_BUNDLE_SIG_DOMAIN (NUL included) and that hash
 *
 *  The hash makes a truncated or damaged file fail as a whole, before
 *  anything is applied; the signature makes the header (above all its
 *  acknowledgement, which lets the importer forget batches) the sender's
 *  word; the envelopes inside are authenticated one by one when opened.
 */
#ifndef CS_BUNDLE_H
#define CS_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attr.h"
#include "key.h"
#include "proto.h"
#include "reader.h"
#include "writer.h"

#define CS_BUNDLE_MAGIC "CSBUNDLE"
#define CS_BUNDLE_MAGIC_LEN 8
#define CS_BUNDLE_VERSION 1
#define CS_BUNDLE_KIND_UP 1   /* a node's batches for the server */
#define CS_BUNDLE_KIND_DOWN 2 /* the server's batches for a node */
#define CS_BUNDLE_HEAD_BYTES 70
#define CS_BUNDLE_HASH_BYTES 32
#define CS_BUNDLE_SIG_BYTES 64
#define CS_BUNDLE_TRAILER_BYTES (CS_BUNDLE_HASH_BYTES + CS_BUNDLE_SIG_BYTES)
#define CS_BUNDLE_SIG_DOMAIN "cigsync bundle v1"
#define CS_BUNDLE_MAX (256u << 20)       /* whole file, bytes */
#define CS_BUNDLE_ENVELOPES_MAX 1000000u /* envelopes in one bundle */

/* The header of a bundle. */
struct cs_bundle_head {
    uint8_t kind;                            /* CS_BUNDLE_KIND_* */
    struct cs_node_id sender;                /* who made it */
    struct cs_node_id recipient;             /* who may import it */
    uint8_t deployment[CS_DEPLOYMENT_BYTES]; /* the deployment */
    uint64_t acked; /* the recipient's batches the sender holds */
    uint32_t count; /* envelopes inside */
};

/* A parsed bundle: its header, and the envelopes as a view into the bytes
   given to cs_bundle_parse(). */
struct cs_bundle {
    struct cs_bundle_head head; /* the header */
    const uint8_t *entries;     /* the first length field */
    size_t entries_len;         /* bytes of all entries */
    size_t next;                /* offset of the next entry (iteration) */
    uint32_t taken;             /* entries read so far */
    uint8_t hash[CS_BUNDLE_HASH_BYTES];     /* of the bytes before it */
    uint8_t signature[CS_BUNDLE_SIG_BYTES]; /* the sender's, unchecked */
};

/* Starts a bundle in w: writes the header with count 0 (fixed by
   cs_bundle_finish()).  Returns 0 or w's error. */
CS_MUST_CHECK int cs_bundle_begin(struct cs_writer *w,
                                  const struct cs_bundle_head *h)
    CS_NONNULL(1, 2);

/* Appends one envelope.  Returns 0, CS_ERR_TOO_BIG (envelope over
   CS_ENVELOPE_MAX, too many, or the bundle over CS_BUNDLE_MAX), or w's
   error. */
CS_MUST_CHECK int cs_bundle_add(struct cs_writer *w, const uint8_t *env,
                                size_t len) CS_NONNULL(1, 2);

/* Writes the hash and the sender's signature: the bundle in w is
   complete.  k is the sender's key.  Returns 0, CS_ERR_CRYPTO, or w's
   error. */
CS_MUST_CHECK int cs_bundle_finish(struct cs_writer *w, const struct cs_key *k)
    CS_NONNULL(1, 2);

/* Checks a parsed bundle's signature against the sender's key (which the
   importer knows: a node's from the registry, the server's from the
   config).  Returns true when it is the sender's. */
bool cs_bundle_verify(const struct cs_bundle *b, const struct cs_pubkey *pk)
    CS_NONNULL(1, 2);

/* Parses a bundle (untrusted bytes): header, every length, the count and
   the hash.  Returns 0; CS_ERR_FORMAT (not a bundle: wrong magic, kind,
   zero or oversized length, count above the maximum); CS_ERR_VERSION;
   CS_ERR_TRUNCATED (ends early); CS_ERR_TRAILING (bytes after the hash,
   or fewer entries than the count says); CS_ERR_CRYPTO (the hash does not
   match: damaged or altered).  Nothing is allocated. */
CS_MUST_CHECK int cs_bundle_parse(const uint8_t *p, size_t len,
                                  struct cs_bundle *b) CS_NONNULL(3);

/* Says what cs_bundle_parse()'s refusal r means, for "FILE is ...":
   "not a cigsync bundle", "damaged or truncated: nothing was applied" ... */
const char *cs_bundle_strerror(int r);

/* Reads the next envelope of a parsed bundle as a view.  Returns 0, or
   CS_ERR_NOT_FOUND after the last. */
CS_MUST_CHECK int cs_bundle_next(struct cs_bundle *b, struct cs_view *env)
    CS_NONNULL(1, 2);

#endif
