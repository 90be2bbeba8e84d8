/*  server/srvbundle.h - `cigsync-server bundle export|import`: the server's
 *  side of sync by file (proto/bundle.h).
 *
 *  Import applies a node's bundle exactly as its batches would be applied
 *  from the network (hub.h cs_hub_import()); export writes, for one node,
 *  the server's batches it has not acknowledged and every new one its scope
 *  has, sealed for that node.  Both print their outcome and their errors
 *  (srvout.h).
 */
#ifndef CS_SRVBUNDLE_H
#define CS_SRVBUNDLE_H

#include "attr.h"

/* Writes FILE for node name of the server directory dir.  pass_fd: where
   a sealed key's passphrase comes from (-1: the terminal).  Returns 0 or
   an error (printed). */
int cs_srvbundle_export(const char *dir, const char *name, const char *file,
                        int pass_fd) CS_MUST_CHECK CS_NONNULL(1, 2, 3);

/* Applies FILE to the server directory dir.  Returns 0 or an error
   (printed). */
int cs_srvbundle_import(const char *dir, const char *file,
                        int pass_fd) CS_MUST_CHECK CS_NONNULL(1, 2);

#endif
