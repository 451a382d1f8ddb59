/* SPDX-License-Identifier: MIT */
/*
 * vault: inbox secrets at rest, and secrets fetched at use.
 *
 * At rest a secret is sealed with AES-256-GCM under a 32-byte key that lives
 * outside the database: a key file (created by `hearth init`, mode 0600) or
 * the HEARTH_VAULT_KEY environment variable. Each seal draws a fresh random
 * nonce and binds the inbox id as associated data, so a copy of the database
 * alone reveals no password, and a sealed blob moved to another inbox, sealed
 * under another key, truncated or altered by one bit fails to open with a
 * clear error instead of yielding garbage.
 *
 * Or no secret is stored at all: a password command (or an OAuth2
 * access-token command for XOAUTH2) is run at use and the first line of its
 * output is the secret, as mbsync's PassCmd and msmtp's passwordeval.
 *
 * No message produced here ever contains a secret, a key or a command's
 * output. Secrets handed out are released with vault_secret_free, which
 * wipes them.
 */
#ifndef HEARTH_VAULT_H
#define HEARTH_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "hearth/err.h"

/* 64 hex digits (32 bytes); when set it is used instead of the key file. */
#define VAULT_KEY_ENV "HEARTH_VAULT_KEY"

#define VAULT_KEY_BYTES 32
/* A sealed blob is this much longer than its secret (version, nonce, tag). */
#define VAULT_SEAL_OVERHEAD (1 + 12 + 16)
/* Longest secret vault_seal accepts. */
#define VAULT_MAX_SECRET_BYTES (64 * 1024)
/* Longest first line vault_command_secret accepts (CR and LF not counted). */
#define VAULT_COMMAND_MAX_LINE_BYTES (16 * 1024)
/* The timeout vault_command_secret uses when given 0 or less. */
#define VAULT_COMMAND_TIMEOUT_MSECS 30000

struct vault;

/*
 * Create a new key file at path: 32 bytes from RAND_bytes, written
 * hex-encoded (64 hex digits and a newline) with
 * O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600, then synced. Never overwrites
 * and never follows a symbolic link: when anything exists at path (a
 * dangling link included) it fails with HEARTH_FAIL_PERMANENT "key file PATH
 * exists: refusing to overwrite it". Other failures (no such directory,
 * permission denied, disk full) are HEARTH_FAIL_PERMANENT with the system's
 * reason and leave no file behind.
 */
int vault_key_create(const char *path, struct hearth_err *err);

/*
 * Open the vault. The key comes from $HEARTH_VAULT_KEY when it is set (64
 * hex digits, either case, surrounding blanks and newlines ignored; empty,
 * too short, too long or non-hex is an error that never quotes the value),
 * else from key_path (borrowed; symbolic links are followed), which is
 * refused when missing, not a regular file, not 64 hex digits and a
 * newline, or readable or writable by group or others ("key file PATH is
 * readable by others (mode 0644): chmod 600 PATH"). All failures are
 * HEARTH_FAIL_PERMANENT. key_path may be NULL when only the environment is
 * to be used.
 *
 * On success *vault_r is owned by the caller (vault_close). The key is kept
 * in a page of its own, locked in memory where possible (mlock, best effort)
 * and excluded from core dumps, and wiped by vault_close.
 */
int vault_open(const char *key_path, struct vault **vault_r,
	       struct hearth_err *err);
/* Wipe the key, release the vault and set *vault to NULL; NULL-safe. */
void vault_close(struct vault **vault);

/*
 * Seal the NUL-terminated secret (borrowed, at most VAULT_MAX_SECRET_BYTES,
 * empty allowed) for inbox_id. Format: one version byte (1), a 12-byte
 * random nonce, the ciphertext (as long as the secret), the 16-byte GCM tag;
 * associated data: "hearth-inbox", inbox_id as 8 bytes big-endian, the
 * version byte. On success *sealed_r (owned by the caller, free()) holds
 * *len_r = strlen(secret) + VAULT_SEAL_OVERHEAD bytes. Fails with
 * HEARTH_FAIL_PERMANENT for a secret too long, HEARTH_FAIL_RETRY when no
 * random bytes could be drawn.
 */
int vault_seal(const struct vault *v, int64_t inbox_id, const char *secret,
	       unsigned char **sealed_r, size_t *len_r, struct hearth_err *err);

/*
 * Open a blob (sealed, len: borrowed) sealed by vault_seal for inbox_id.
 * A wrong key, another inbox's blob, an unknown version, a flipped bit or a
 * truncated or extended blob all fail with HEARTH_FAIL_PERMANENT "the
 * stored secret of inbox N cannot be opened: wrong vault key or damaged
 * data"; no plaintext is ever returned from a blob that failed its check.
 * On success *secret_r is NUL-terminated and owned by the caller, who
 * releases it with vault_secret_free.
 */
int vault_unseal(const struct vault *v, int64_t inbox_id,
		 const unsigned char *sealed, size_t len, char **secret_r,
		 struct hearth_err *err);

/* explicit_bzero the whole string, free it, set *secret to NULL; NULL-safe. */
void vault_secret_free(char **secret);

/*
 * Run a password or token command and return the first line of its
 * standard output (without the newline; a CR before it stripped), at most
 * VAULT_COMMAND_MAX_LINE_BYTES. The rest of the output is read and thrown
 * away.
 *
 * The command runs without a shell when it has no shell metacharacters
 * (see vault_command_split), through execvp; otherwise through
 * `/bin/sh -c command`. Its stdin is /dev/null, its stderr is ours, it
 * inherits no other file descriptor, starts with default signal
 * dispositions and an empty signal mask, and leads a new process group,
 * which is killed (SIGKILL) when timeout_msecs have passed (0 or less:
 * VAULT_COMMAND_TIMEOUT_MSECS) before the command has both exited and
 * closed its output (a background process still holding it counts). The
 * caller must not ignore SIGCHLD nor reap children it did not start
 * (waitpid(-1)).
 *
 * On success *secret_r (owned by the caller) is released with
 * vault_secret_free. Failures are HEARTH_FAIL_AUTH (the inbox is paused with
 * the message as its reason): the command is empty or has an unterminated
 * quote; cannot run ("password command: cannot run 'pass': No such file or
 * directory", code errno); exited non-zero ("password command exited with
 * status 3", code the status); was killed by a signal (code the signal);
 * timed out (code ETIMEDOUT); printed nothing, an empty first line, a first
 * line too long or one with a NUL byte. A failure to create the pipe or the
 * process is HEARTH_FAIL_RETRY. Messages name at most the command's first
 * word, never its output nor its arguments. Every buffer that held output
 * is wiped.
 */
int vault_command_secret(const char *command, int timeout_msecs,
			 char **secret_r, struct hearth_err *err);

/*
 * How vault_command_secret would run command (borrowed). Words are split on
 * blanks (space, tab); 'single quotes' keep everything literal; "double
 * quotes" keep blanks, and any $ ` or \ inside them needs the shell.
 * Outside quotes any of | & ; < > ( ) $ ` \ * ? [ ] # ~ { } ! or a newline,
 * or a '=' in the first word (an assignment), needs the shell.
 *
 * Returns 1 with *argv_r a NULL-terminated argument vector (owned by the
 * caller, vault_argv_free) when the command runs without a shell; 0 with
 * *argv_r NULL when it needs /bin/sh; -1 with HEARTH_FAIL_AUTH when it is
 * empty (only blanks) or has an unterminated quote.
 */
int vault_command_split(const char *command, char ***argv_r,
			struct hearth_err *err);
/* Wipe and free every word, free the vector, set *argv to NULL; NULL-safe. */
void vault_argv_free(char ***argv);

#endif
