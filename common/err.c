/*  common/err.c - error code table; see err.h.  */
#include "prelude.h"

#include "err.h"

const char *
cs_strerror(int r)
{
    switch (r) {
#define CS_ERR_CASE(name, code, text)                                          \
    case code:                                                                 \
        return text;
        CS_ERR_LIST(CS_ERR_CASE)
#undef CS_ERR_CASE
    default:
        return "unknown error";
    }
}

const char *
cs_errname(int r)
{
    switch (r) {
#define CS_ERR_CASE(name, code, text)                                          \
    case code:                                                                 \
        return #name;
        CS_ERR_LIST(CS_ERR_CASE)
#undef CS_ERR_CASE
    default:
        return "CS_ERR_UNKNOWN";
    }
}
