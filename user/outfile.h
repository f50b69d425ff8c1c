/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * -o FILE: our output appended to a file the user named, likely as root,
 * possibly in a world-writable directory.  Opened and reopened (SIGHUP,
 * after logrotate moved it) the same careful way.
 */
#ifndef TT_OUTFILE_H
#define TT_OUTFILE_H

#include <stdbool.h>
#include <sys/types.h>

struct outfile_how {
	const char *opt;	/* "-o", "-w": for messages */
	const char *what;	/* "output", "capture": for messages */
	bool truncate;		/* overwrite (made mode), else append */
	bool lock;		/* hold flock(LOCK_EX) while the fd is open: a capture being written */
	mode_t mode;		/* for a new file */
};

/*
 * Open path for writing, created with how->mode: refuses a symbolic link as
 * the last component, anything but a regular file (a FIFO, a device), a
 * file of another uid, a file with more than one name, and a file that
 * holds something other than what how->opt writes (outfile__holds_ours).
 * With how->lock, a file that another process holds locked (a tcptrail -w
 * writing it) is refused before it is truncated, and the fd holds the lock
 * until closed: that is how a replay tells a capture still being written
 * from one cut short.  The fd, or -errno after one line naming how->opt and
 * path.
 */
int outfile__open(const struct outfile_how *how, const char *path);

/*
 * Open path for appending, creating it 0640, and make it stdout (fd 1 and
 * the stdout stream, whose pending output is flushed to the old file
 * first).  Refuses a symbolic link as the last component, anything but a
 * regular file (a FIFO, a device), a file of another uid, a file with more
 * than one name, and one that holds something other than tcptrail's output.
 * 0, or -errno after a message naming the file; stdout is unchanged then.
 */
int outfile__stdout(const char *path);

/*
 * A run that fails after -o made path: remove it if it is still the empty
 * file on stdout, so a start that never traced leaves nothing behind.  A
 * file that existed before the run, or holds anything, is kept.
 */
void outfile__forget_made(const char *path);

/*
 * Does head, the first n bytes of an existing file, begin as the file opt
 * ("-o", "-w", "--metrics-file") writes does?  An existing file that holds
 * anything else is refused by outfile__open() and outfile__check().
 */
bool outfile__holds_ours(const char *opt, const char *head, size_t n);

/*
 * Before anything is attached: can path be written as an output file?  An
 * existing path must be a regular file (not a directory, a device, a FIFO or
 * a symbolic link) on a real filesystem (not procfs, sysfs, tracefs...); a
 * new one needs an existing, writable directory on one.  Nothing is created.
 * A file that a running tcptrail writes (-o, -w, --metrics-file: each holds
 * a lock on its file), or one of the rotated capture set whose current file
 * a running tcptrail -w writes (outfile__set_busy), is refused too.
 * 0, or -errno after one line naming opt and path ("-w /tmp: is a
 * directory").  What only the open can tell (a file of another uid, a race)
 * is still refused when the file is opened.
 */
int outfile__check(const char *opt, const char *path);

/*
 * -w path --rotate-size: the rotated files path.1, path.2... that exist now
 * pass outfile__check() too, and the longest name the set may take is not
 * too long; or the rotation that reaches one would stop tracing hours into
 * the run.  0, or -errno after one line.
 */
int outfile__check_set(const char *opt, const char *path);

/*
 * Is the regular file path held locked by its writer, a running tcptrail
 * -w (outfile_how.lock)?  False when it is not, or cannot be told.
 */
bool outfile__busy(const char *path);

/*
 * Is path, or a file of the rotated capture set it belongs to (path.N, or
 * BASE and BASE.N when path is BASE.N), held locked by a running tcptrail?
 * The locked file's name in which.
 */
bool outfile__set_busy(const char *path, char *which, size_t len);

/*
 * Do a and b name the same file: the same string, the same inode if both
 * exist, or the same canonical path (directory through realpath) if not?
 */
bool outfile__same(const char *a, const char *b);

#endif /* TT_OUTFILE_H */
