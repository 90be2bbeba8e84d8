/*  common/id.c - UUIDv7 row ids; see id.h.
 *
 *  The 16 bytes of a UUIDv7 (RFC 9562 section 5.7), most significant
 *  first:
 *      0..5   unix_ts_ms, 48 bits big-endian
 *      6      ver (0111) | 4 bits of rand_a
 *      7      8 more bits of rand_a
 *      8      var (10) | 6 bits of rand_b
 *      9..15  56 more bits of rand_b
 *  Within one millisecond ids are in random order; nothing here depends on
 *  ids made in the same ms being ordered (merge orders by HLC, not by id).
 */
#include "prelude.h"

#include "err.h"
#include "hlc.h"
#include "id.h"
#include "log.h"

#define S_UUID_BYTES 16                    /* binary size of a UUID */
#define S_TS_BYTES 6                       /* bytes of the 48-bit timestamp */
#define S_TS_HEX 12                        /* hex digits of the timestamp */
#define S_MS_MAX ((UINT64_C(1) << 48) - 1) /* largest 48-bit timestamp */
#define S_VERSION_BITS 0x70  /* version 7 in the high nibble of byte 6 */
#define S_VARIANT_BITS 0x80  /* variant 10 in the high bits of byte 8 */
#define S_LOW_NIBBLE 0x0f    /* rand_a bits kept from rnd[0] */
#define S_LOW_SIX 0x3f       /* rand_b bits kept from rnd[2] */
#define S_VERSION_POS 14     /* text position of the version digit */
#define S_VARIANT_POS 19     /* text position of the variant digit */
#define S_VER_BYTE 6         /* byte holding the version nibble */
#define S_RAND_A_BYTE 7      /* byte holding the rest of rand_a */
#define S_VAR_BYTE 8         /* byte holding the variant bits */
#define S_RAND_B_BYTE 9      /* first byte of the rest of rand_b */
#define S_NIBBLE_BITS 4      /* bits per hex digit */
#define S_HEX_LETTER_BASE 10 /* value of hex digit 'a' */
#define S_BYTE_BITS 8        /* bits per byte */

/* Text positions of the four dashes of the 8-4-4-4-12 form. */
static const size_t s_dash_pos[] = {8, 13, 18, 23};

static const char s_hex[] = "0123456789abcdef";

static bool
s_is_dash_pos(size_t pos)
{
    for (size_t i = 0; i < sizeof s_dash_pos / sizeof s_dash_pos[0]; i++)
        if (s_dash_pos[i] == pos)
            return true;
    return false;
}

void
cs_id_new(char out[CS_ID_TEXT_LEN + 1])
{
    uint8_t rnd[CS_ID_RANDOM_BYTES];
    uint64_t ms = cs_hlc_wall_ms();

    if (sodium_init() < 0) {
        cs_log_err(CS_ERR_CRYPTO, "libsodium cannot be initialised");
        abort();
    }
    randombytes_buf(rnd, sizeof rnd);
    cs_id_new_at(out, ms > S_MS_MAX ? S_MS_MAX : ms, rnd);
}

void
cs_id_new_at(char out[CS_ID_TEXT_LEN + 1], uint64_t ms,
             const uint8_t rnd[CS_ID_RANDOM_BYTES])
{
    uint8_t b[S_UUID_BYTES];
    size_t pos = 0;

    assert(out != NULL);
    assert(ms <= S_MS_MAX);
    assert(rnd != NULL);
    for (size_t i = 0; i < S_TS_BYTES; i++)
        b[i] = (uint8_t)(ms >> (S_BYTE_BITS * (S_TS_BYTES - 1 - i)));
    b[S_VER_BYTE] = (uint8_t)(S_VERSION_BITS | (rnd[0] & S_LOW_NIBBLE));
    b[S_RAND_A_BYTE] = rnd[1];
    b[S_VAR_BYTE] = (uint8_t)(S_VARIANT_BITS | (rnd[2] & S_LOW_SIX));
    memcpy(&b[S_RAND_B_BYTE], &rnd[3], S_UUID_BYTES - S_RAND_B_BYTE);
    for (size_t i = 0; i < S_UUID_BYTES; i++) {
        if (s_is_dash_pos(pos))
            out[pos++] = '-';
        out[pos++] = s_hex[b[i] >> S_NIBBLE_BITS];
        out[pos++] = s_hex[b[i] & S_LOW_NIBBLE];
    }
    out[pos] = '\0';
    assert(pos == CS_ID_TEXT_LEN);
}

/* Returns the value of a lowercase hex digit, or -1. */
static int
s_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + S_HEX_LETTER_BASE;
    return -1;
}

bool
cs_id_is_uuid7(const char *s)
{
    size_t pos;

    assert(s != NULL);
    for (pos = 0; pos < CS_ID_TEXT_LEN; pos++) {
        if (s[pos] == '\0')
            return false;
        if (s_is_dash_pos(pos)) {
            if (s[pos] != '-')
                return false;
            continue;
        }
        if (s_hex_value(s[pos]) < 0)
            return false;
    }
    if (s[pos] != '\0')
        return false;
    if (s[S_VERSION_POS] != '7')
        return false;
    return strchr("89ab", s[S_VARIANT_POS]) != NULL;
}

bool
cs_id_valid(const char *s)
{
    size_t n;

    assert(s != NULL);
    for (n = 0; s[n] != '\0'; n++) {
        char c = s[n];
        if (n == CS_ID_MAX)
            return false;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
            (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == ':' ||
            c == '-')
            continue;
        return false;
    }
    return n > 0;
}

uint64_t
cs_id_ms(const char *uuid7)
{
    uint64_t ms = 0;
    size_t digits = 0;

    assert(uuid7 != NULL);
    if (!cs_id_is_uuid7(uuid7))
        return 0;
    for (size_t pos = 0; digits < S_TS_HEX; pos++) {
        if (uuid7[pos] == '-')
            continue;
        ms = ms << S_NIBBLE_BITS | (uint64_t)s_hex_value(uuid7[pos]);
        digits++;
    }
    return ms;
}
