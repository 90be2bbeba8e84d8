/*  common/attr.h - compiler attributes shared by every cigsync header.
 *
 *  Fallible functions are CS_MUST_CHECK (STYLE.md 15): ignoring a status is a
 *  compile error under -Werror.  This header has no other purpose.
 */
#ifndef CS_ATTR_H
#define CS_ATTR_H

#define CS_MUST_CHECK __attribute__((warn_unused_result))
#define CS_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define CS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define CS_NORETURN __attribute__((noreturn))

#endif
