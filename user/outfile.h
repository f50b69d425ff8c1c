/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * -o FILE: our output appended to a file the user named, likely as root,
 * possibly in a world-writable directory.  Opened and reopened (SIGHUP,
 * after logrotate moved it) the same careful way.
 */
#ifndef TT_OUTFILE_H
#define TT_OUTFILE_H

/*
 * Open path for appending, creating it 0640, and make it stdout (fd 1 and
 * the stdout stream, whose pending output is flushed to the old file
 * first).  Refuses a symbolic link as the last component, anything but a
 * regular file (a FIFO, a device), a file of another uid and a file with
 * more than one name.  0, or -errno after a message naming the file; stdout
 * is unchanged then.
 */
int outfile__stdout(const char *path);

#endif /* TT_OUTFILE_H */
