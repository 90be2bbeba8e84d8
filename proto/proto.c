/*  proto/proto.c - protocol-wide facts; see proto.h.  */
#include "proto_prelude.h"

#include "proto.h"

#define S_STR(x) #x
#define S_XSTR(x) S_STR(x)

const char *
cs_proto_version(void)
{
    return S_XSTR(CS_PROTO_MAJOR) "." S_XSTR(CS_PROTO_MINOR);
}
