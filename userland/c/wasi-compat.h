/* What WASI preview 1 lacks and unmodified POSIX programs call: declarations.
 *
 * wasi-libc leaves these out of its headers on purpose (the system interface has no
 * file modes and no owners). The build force-includes this header (clang -include) so
 * the unmodified sources see a prototype instead of an implicit declaration, and links
 * wasi-compat.c beside them for the definitions.
 *
 * Interface:
 *   fchmod(fd, mode)       -> 0 for an open descriptor (mode ignored), see wasi-compat.c
 *   chmod(path, mode)      -> 0 for an existing file (mode ignored)
 *   fchown(fd, uid, gid)   -> -1, errno ENOSYS
 *   chown(path, uid, gid)  -> -1, errno ENOSYS
 */
#ifndef WASI_COMPAT_H
#define WASI_COMPAT_H

#include <sys/types.h>

int fchmod(int fd, mode_t mode);
int chmod(const char *path, mode_t mode);
int fchown(int fd, uid_t owner, gid_t group);
int chown(const char *path, uid_t owner, gid_t group);

#endif
