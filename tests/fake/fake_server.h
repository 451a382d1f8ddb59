/* SPDX-License-Identifier: MIT */
/*
 * fake_server: a scripted mail server on 127.0.0.1, for the protocol tests of
 * the SMTP and IMAP clients.
 *
 * fake_server_start() parses a script, forks a child that listens on a port
 * of 127.0.0.1 the kernel chooses, and returns once the child is listening.
 * The child accepts a connection, plays the script on it, closes it and
 * exits. The test points the client under test at fake_server_port(), runs
 * it, then calls fake_server_finish() to learn whether the client did what
 * the script expects. The transcript is every byte the clients sent (after
 * TLS decryption), in order, all connections run together.
 *
 * The script language: one directive per line. Leading blanks are skipped;
 * blank lines and lines whose first other character is '#' are comments. The
 * argument of a directive is the rest of the line after the single space
 * that follows its name, verbatim (more spaces, trailing ones too, count),
 * except for these escapes:
 *   \r \n \t \\   as in C
 *   \xHH          the byte 0xHH (two hex digits)
 *   \*  \$        a literal '*' or '$'
 *   $TAG          the tag the last expect_tag saw (a script error before one)
 * In `expect` patterns an unescaped '*' matches any run of bytes; elsewhere
 * it is just '*' ("send * OK ready" is fine).
 *
 * Sending. A client that has closed the connection is not an error here:
 * whatever is left is dropped, and the next directive that reads fails.
 *   send TEXT           TEXT then CRLF
 *   sendraw TEXT        TEXT as it is
 *   trickle MSECS TEXT  TEXT then CRLF, one byte every MSECS; stops early if
 *                       the client closes the connection
 *   garbage N           N pseudo-random bytes (any value, CR and LF often;
 *                       the same bytes on every run)
 *   longline N          N 'x' then CRLF
 * Receiving. A line ends with CRLF (a bare LF fails the script) and holds at
 * most FAKE_LINE_MAX bytes before it. Each read waits at most the timeout.
 *   expect PATTERN      read a line; it must start with PATTERN (bytes
 *                       compared exactly, case too, '*' a wildcard)
 *   expect_tag PATTERN  read an IMAP command "TAG REST"; REST must start
 *                       with PATTERN; TAG becomes $TAG
 *   read                read a line, whatever it holds
 *   read_data           read lines up to and including a line "." (DATA)
 *   expect_eof          the client must close the connection now, without
 *                       sending anything more
 * Control.
 *   sleep MSECS         do nothing for MSECS
 *   hang                do nothing until the client closes the connection
 *                       (what it sends meanwhile goes to the transcript) or
 *                       fake_server_finish() kills the server
 *   close               close the connection at once (no TLS close_notify)
 *   accept              close the connection if it is open, then wait for
 *                       the next one
 *   timeout MSECS       the limit for each later read, write, TLS handshake
 *                       and accept (default FAKE_TIMEOUT_MSECS)
 * TLS (needs a struct fake_tls).
 *   starttls            TLS handshake as server on the connection (the
 *                       script sends the go-ahead reply first); the client
 *                       must not have sent anything past its command
 *   expect_tls_refused  the client must refuse the certificate: the TLS
 *                       handshake (the pending implicit one, or else a
 *                       STARTTLS upgrade now) fails, or it completes and the
 *                       client closes without sending a byte. Then the
 *                       connection is closed.
 *
 * Connections. The first connection is accepted before the first directive
 * runs. Once the last one the script accepts is in (the first, if the script
 * has no `accept`), the listening socket is closed: further connections are
 * refused. With fake_tls.implicit, each connection's TLS handshake runs just
 * before the first directive that reads or writes it (so `sleep` first
 * stalls the handshake, `close` first drops the client during it). At the
 * end of the script the connection is closed cleanly: close_notify, FIN,
 * then up to FAKE_LINGER_MSECS for the client to close its side.
 *
 * A directive that fails ends the script and the connection at once. Script
 * errors (unknown directive, bad escape, bad number, a TLS directive without
 * TLS) are found by fake_server_start() before anything runs.
 *
 * Bounds: the server never runs longer than FAKE_SERVER_CAP_MSECS, dies with
 * the process that started it, and keeps at most FAKE_TRANSCRIPT_MAX bytes of
 * transcript (more is dropped, and finish says so on stderr).
 */
#ifndef HEARTH_FAKE_SERVER_H
#define HEARTH_FAKE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_SERVER_CAP_MSECS 60000
#define FAKE_TIMEOUT_MSECS    10000
#define FAKE_LINGER_MSECS     2000
#define FAKE_LINE_MAX         65536
#define FAKE_TRANSCRIPT_MAX   (4 * 1024 * 1024)

/*
 * The certificate the server presents. The strings are borrowed for the
 * duration of fake_server_start() only. The test certificates made by
 * make-certs.sh are in the directory HEARTH_TEST_CERTS_DIR, a compile-time
 * definition every target linking hearth_fake gets:
 * HEARTH_TEST_CERTS_DIR "/good.crt", "/good.key", likewise wrongname,
 * expired, selfsigned; the CA that signed all but selfsigned is "/ca.crt".
 */
struct fake_tls {
	const char *cert_file;
	const char *key_file;
	/* TLS from the first byte (IMAPS, SMTPS); else `starttls` upgrades */
	bool implicit;
};

struct fake_server;

/*
 * Parse script (borrowed) and start a server playing it. tls is NULL for a
 * plaintext server. Returns the server, owned by the caller until
 * fake_server_finish(); or NULL after saying why on stderr (a script error
 * with its line number, a certificate or key that does not load, no fork).
 */
struct fake_server *fake_server_start(const char *script,
				      const struct fake_tls *tls);

/* The port the server listens on, on 127.0.0.1. */
uint16_t fake_server_port(const struct fake_server *fs);

/*
 * What the clients have sent so far, NUL-terminated; *len_r (len_r may be
 * NULL) is its length, which counts any NUL bytes the clients sent. Borrowed:
 * valid until the next call or fake_server_finish(). Everything a client
 * sent before the server answered its last line is in it.
 */
const char *fake_server_transcript(struct fake_server *fs, size_t *len_r);

/*
 * Wait up to timeout_msecs for the server to end, killing it if it has not.
 * Returns 0 if the script ran to its end with every expectation met and the
 * server exited cleanly (under ASan: no leaks in it either); else -1, after
 * saying why on stderr (which directive failed and what it got, or the
 * script line the server was at when killed). If transcript_r is not NULL,
 * *transcript_r receives the whole transcript, NUL-terminated, owned by the
 * caller (free()). Frees *fs and sets it to NULL; a NULL *fs returns -1.
 */
int fake_server_finish(struct fake_server **fs, int timeout_msecs,
		       char **transcript_r);

#endif
