/* Definitions of what WASI preview 1 lacks, for unmodified POSIX programs.
 *
 * This file is the whole port of a third-party program to WASI: the program's own
 * sources stay as their authors wrote them (see third_party/), and the build links
 * this file beside them. Each function says what it does and why that is honest.
 * wasi-libc's own emulations cover signals and process clocks
 * (-lwasi-emulated-signal, -lwasi-emulated-process-clocks).
 *
 * Interface:
 *   fchmod(fd, mode)       -> 0 if fd is open, else -1 with fstat's errno (EBADF)
 *   chmod(path, mode)      -> 0 if path exists, else -1 with stat's errno (ENOENT...)
 *   fchown(fd, uid, gid)   -> -1, errno ENOSYS
 *   chown(path, uid, gid)  -> -1, errno ENOSYS
 */
#include <errno.h>
#include <sys/stat.h>
#include "wasi-compat.h"

/* WASI preview 1 has no permission bits: a filestat carries no mode, and no call sets
 * one. So there is nothing to change, and the only truthful failure left is a bad
 * descriptor. Success for an open descriptor is what a file system without modes does
 * when told to keep them quietly (Linux vfat with "quiet"). bzip2 checks this result
 * and aborts on failure, so ENOSYS here would make every file compression fail
 * although nothing is lost: the output simply has the file system's default access. */
int fchmod(int fd, mode_t mode) {
  struct stat st;
  (void)mode;
  if (fstat(fd, &st) != 0) return -1; /* errno from fstat (EBADF) */
  return 0;
}

/* The same for a path (lz4 copies the source's mode with it, and ignores the
 * result). */
int chmod(const char *path, mode_t mode) {
  struct stat st;
  (void)mode;
  if (stat(path, &st) != 0) return -1; /* errno from stat (ENOENT, ENOTDIR, ...) */
  return 0;
}

/* WASI preview 1 has no owners either. Unlike modes, callers are used to chown
 * failing (an unprivileged process gets EPERM), and bzip2 ignores this result, so
 * report the truth: not implemented. */
int fchown(int fd, uid_t owner, gid_t group) {
  (void)fd;
  (void)owner;
  (void)group;
  errno = ENOSYS;
  return -1;
}

int chown(const char *path, uid_t owner, gid_t group) {
  (void)path;
  (void)owner;
  (void)group;
  errno = ENOSYS;
  return -1;
}
