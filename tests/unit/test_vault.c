// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hearth/err.h"
#include "hearth/vault.h"
#include "hearth/xalloc.h"
#include "test.h"

#define OPEN_FAILED "cannot be opened: wrong vault key or damaged data"

static char tmpdir[256];

/* A path in the test's directory; owned by the caller (free()). */
static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static int64_t now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write text to path with mode (replacing it); 0 or -1. */
static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	ssize_t n;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	fchmod(fd, mode);
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The whole file, NUL-terminated, or NULL; owned by the caller. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = xcalloc(1, 4096);

	if (f == NULL) {
		free(buf);
		return NULL;
	}
	if (fread(buf, 1, 4095, f) == 0)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static struct vault *open_or_null(const char *path, struct hearth_err *err)
{
	struct vault *v = NULL;

	if (vault_open(path, &v, err) < 0)
		fprintf(stderr, "vault_open: %s\n", err->msg);
	return v;
}

static void test_key_create(void)
{
	struct hearth_err err = {0};
	char *path = tmp_path("create.key");
	char *target = tmp_path("target.key");
	char *link = tmp_path("link.key");
	char *other = tmp_path("other.key");
	char *nodir = tmp_path("no/such/dir.key");
	char *want, *text, *after;
	struct stat st;
	int hex = 0;

	test_begin("vault_key_create: mode 0600, 64 hex digits");
	test_assert(vault_key_create(path, &err) == 0);
	test_assert(stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 07777) == 0600);
	text = read_file(path);
	test_assert(text != NULL && strlen(text) == 65 && text[64] == '\n');
	for (int i = 0; text != NULL && i < 64; i++)
		hex += strchr("0123456789abcdef", text[i]) != NULL;
	test_assert(hex == 64);
	test_end();

	test_begin("vault_key_create: refuses to overwrite");
	test_assert(vault_key_create(path, &err) == -1);
	want = xasprintf("key file %s exists: refusing to overwrite it", path);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, want) == 0);
	after = read_file(path);
	test_assert(after != NULL && text != NULL && strcmp(after, text) == 0);
	free(want);
	free(after);
	test_end();

	test_begin("vault_key_create: refuses a symbolic link");
	test_assert(symlink(target, link) == 0);
	memset(&err, 0, sizeof(err));
	test_assert(vault_key_create(link, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strstr(err.msg, "refusing to overwrite") != NULL);
	test_assert(access(target, F_OK) == -1 && errno == ENOENT);
	unlink(link);
	/* a link to an existing file: the file is left as it was */
	test_assert(write_file(other, "keep\n", 0600) == 0);
	test_assert(symlink(other, link) == 0);
	test_assert(vault_key_create(link, &err) == -1);
	after = read_file(other);
	test_assert(after != NULL && strcmp(after, "keep\n") == 0);
	free(after);
	test_end();

	test_begin("vault_key_create: missing directory");
	memset(&err, 0, sizeof(err));
	test_assert(vault_key_create(nodir, &err) == -1);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT && err.code == ENOENT);
	test_assert(strstr(err.msg, "No such file or directory") != NULL);
	test_end();

	unlink(path);
	unlink(link);
	unlink(other);
	free(text);
	free(path);
	free(target);
	free(link);
	free(other);
	free(nodir);
}

static void test_open_file(void)
{
	static const struct {
		mode_t mode;
		const char *what;
	} loose[] = {
	    {0640, "readable"}, {0604, "readable"}, {0644, "readable"},
	    {0620, "writable"}, {0602, "writable"}, {0660, "readable"},
	};
	struct hearth_err err = {0};
	char *path = tmp_path("open.key");
	char *missing = tmp_path("missing.key");
	char *bad = tmp_path("bad.key");
	struct vault *v;

	test_begin("vault_open: key file");
	test_assert(vault_key_create(path, &err) == 0);
	v = open_or_null(path, &err);
	test_assert(v != NULL);
	vault_close(&v);
	test_assert(v == NULL);
	vault_close(&v);
	/* read-only for the owner is fine too */
	test_assert(chmod(path, 0400) == 0);
	v = open_or_null(path, &err);
	test_assert(v != NULL);
	vault_close(&v);
	test_end();

	test_begin("vault_open: loose permissions refused");
	for (size_t i = 0; i < sizeof(loose) / sizeof(*loose); i++) {
		char *want = xasprintf(
		    "key file %s is %s by others (mode %04o): chmod 600 %s",
		    path, loose[i].what, (unsigned)loose[i].mode, path);

		test_assert(chmod(path, loose[i].mode) == 0);
		memset(&err, 0, sizeof(err));
		v = (struct vault *)1;
		test_assert(vault_open(path, &v, &err) == -1);
		test_assert(v == NULL);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		if (strcmp(err.msg, want) != 0)
			fprintf(stderr, "mode %04o: got [%s] want [%s]\n",
				(unsigned)loose[i].mode, err.msg, want);
		test_assert(strcmp(err.msg, want) == 0);
		free(want);
	}
	test_end();

	test_begin("vault_open: missing, not regular, not a key");
	test_assert(vault_open(missing, &v, &err) == -1 && v == NULL);
	test_assert(strstr(err.msg, "does not exist") != NULL);
	test_assert(strstr(err.msg, "hearth init") != NULL);
	test_assert(vault_open(tmpdir, &v, &err) == -1);
	test_assert(strstr(err.msg, "is not a regular file") != NULL);
	test_assert(vault_open(NULL, &v, &err) == -1);
	test_assert(strstr(err.msg, VAULT_KEY_ENV) != NULL);
	test_assert(write_file(bad, "0123456789abcdef\n", 0600) == 0);
	test_assert(vault_open(bad, &v, &err) == -1);
	test_assert(strstr(err.msg, "is not a vault key") != NULL);
	test_assert(strstr(err.msg, "0123456789") == NULL);
	test_assert(write_file(bad,
			       "0123456789abcdef0123456789abcdef"
			       "0123456789abcdef0123456789abcdeg\n",
			       0600) == 0);
	test_assert(vault_open(bad, &v, &err) == -1);
	test_assert(strstr(err.msg, "is not a vault key") != NULL);
	test_assert(write_file(bad, "", 0600) == 0);
	test_assert(vault_open(bad, &v, &err) == -1);
	test_end();

	unlink(path);
	unlink(bad);
	free(path);
	free(missing);
	free(bad);
}

static void test_open_env(void)
{
	static const char key[] = "00112233445566778899aabbccddeeff"
				  "00112233445566778899AABBCCDDEEFF";
	static const struct {
		const char *value;
		const char *why;
	} bad[] = {
	    {"", "it is empty"},
	    {"  \n", "it is empty"},
	    {"00112233445566778899aabbccddeeff", "it is too short"},
	    {"00112233445566778899aabbccddeeff"
	     "00112233445566778899aabbccddeeff00",
	     "it is too long"},
	    {"00112233445566778899aabbccddeeff"
	     "00112233445566778899aabbccddeezz",
	     "not a hex digit"},
	    {"0x112233445566778899aabbccddeeff"
	     "00112233445566778899aabbccddeeff",
	     "not a hex digit"},
	};
	struct hearth_err err = {0};
	char *path = tmp_path("env.key");
	char *missing = tmp_path("missing.key");
	char *file_text = xasprintf("%s\n", key);
	struct vault *env_v = NULL, *file_v = NULL;
	unsigned char *sealed = NULL;
	char *secret = NULL;
	size_t len = 0;

	test_begin("vault_open: key from " VAULT_KEY_ENV);
	test_assert(setenv(VAULT_KEY_ENV, key, 1) == 0);
	/* the key file is not even looked at */
	env_v = open_or_null(missing, &err);
	test_assert(env_v != NULL);
	test_assert(setenv(VAULT_KEY_ENV,
			   " \t"
			   "00112233445566778899aabbccddeeff"
			   "00112233445566778899aabbccddeeff\n",
			   1) == 0);
	vault_close(&env_v);
	env_v = open_or_null(NULL, &err);
	test_assert(env_v != NULL);
	unsetenv(VAULT_KEY_ENV);
	/* the same key in a file opens what the environment's key sealed */
	test_assert(write_file(path, file_text, 0600) == 0);
	file_v = open_or_null(path, &err);
	test_assert(file_v != NULL);
	if (env_v != NULL && file_v != NULL) {
		test_assert(
		    vault_seal(env_v, 3, "from-env", &sealed, &len, &err) == 0);
		test_assert(
		    vault_unseal(file_v, 3, sealed, len, &secret, &err) == 0);
		test_assert(secret != NULL && strcmp(secret, "from-env") == 0);
	}
	vault_secret_free(&secret);
	free(sealed);
	vault_close(&env_v);
	vault_close(&file_v);
	test_end();

	test_begin("vault_open: malformed " VAULT_KEY_ENV);
	/* a good key file does not rescue a bad variable */
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct vault *v = (struct vault *)1;

		test_assert(setenv(VAULT_KEY_ENV, bad[i].value, 1) == 0);
		memset(&err, 0, sizeof(err));
		test_assert(vault_open(path, &v, &err) == -1);
		test_assert(v == NULL);
		test_assert(err.fail == HEARTH_FAIL_PERMANENT);
		test_assert(strstr(err.msg, VAULT_KEY_ENV " must be 64 hex") ==
			    err.msg);
		if (strstr(err.msg, bad[i].why) == NULL)
			fprintf(stderr, "case %zu: [%s]\n", i, err.msg);
		test_assert(strstr(err.msg, bad[i].why) != NULL);
		/* the value is never quoted */
		test_assert(strstr(err.msg, "0011223344") == NULL);
	}
	unsetenv(VAULT_KEY_ENV);
	test_end();

	unlink(path);
	free(path);
	free(missing);
	free(file_text);
}

/* Seal and unseal secret for inbox_id; true when it came back intact. */
static bool round_trip(struct vault *v, int64_t inbox_id, const char *secret)
{
	struct hearth_err err = {0};
	unsigned char *sealed = NULL;
	char *back = NULL;
	size_t len = 0, n = strlen(secret);
	bool ok;

	if (vault_seal(v, inbox_id, secret, &sealed, &len, &err) < 0) {
		fprintf(stderr, "vault_seal: %s\n", err.msg);
		return false;
	}
	ok = len == n + VAULT_SEAL_OVERHEAD && sealed[0] == 1;
	/* the ciphertext does not show the secret */
	if (n >= 8 && memmem(sealed, len, secret, 8) != NULL)
		ok = false;
	if (vault_unseal(v, inbox_id, sealed, len, &back, &err) < 0) {
		fprintf(stderr, "vault_unseal: %s\n", err.msg);
		ok = false;
	} else {
		ok = ok && strcmp(back, secret) == 0;
	}
	vault_secret_free(&back);
	test_assert(back == NULL);
	free(sealed);
	return ok;
}

static void test_seal(struct vault *v, struct vault *other)
{
	struct hearth_err err = {0};
	char *big = xmalloc(4096 + 1);
	char *huge = xmalloc(VAULT_MAX_SECRET_BYTES + 2);
	unsigned char *a = NULL, *b = NULL, *copy;
	size_t alen = 0, blen = 0;
	char *secret = NULL;
	char *want;
	bool all;

	for (int i = 0; i < 4096; i++)
		big[i] = (char)('!' + i % 94);
	big[4096] = '\0';
	memset(huge, 'x', VAULT_MAX_SECRET_BYTES + 1);
	huge[VAULT_MAX_SECRET_BYTES + 1] = '\0';

	test_begin("vault_seal/unseal: round trips");
	test_assert(round_trip(v, 1, "hunter2"));
	test_assert(round_trip(v, 1, ""));
	test_assert(round_trip(v, 2, big));
	test_assert(round_trip(v, 3,
			       "p\xc3\xa4ssw\xc3\xb6rd "
			       "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87 "
			       "\xf0\x9f\x94\x91"));
	test_assert(round_trip(v, 4, "with \"quotes\", spaces\tand\nlines"));
	test_assert(round_trip(v, 0, "zero"));
	test_assert(round_trip(v, -1, "minus one"));
	test_assert(round_trip(v, INT64_MAX, "max"));
	test_assert(round_trip(v, INT64_MIN, "min"));
	huge[VAULT_MAX_SECRET_BYTES] = '\0';
	test_assert(round_trip(v, 5, huge));
	huge[VAULT_MAX_SECRET_BYTES] = 'x';
	test_end();

	test_begin("vault_seal: too long a secret");
	test_assert(vault_seal(v, 5, huge, &a, &alen, &err) == -1);
	test_assert(a == NULL && alen == 0);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_end();

	test_begin("vault_seal: a fresh nonce each time");
	test_assert(vault_seal(v, 7, "hunter2", &a, &alen, &err) == 0);
	test_assert(vault_seal(v, 7, "hunter2", &b, &blen, &err) == 0);
	test_assert(alen == blen && alen == 7 + VAULT_SEAL_OVERHEAD);
	test_assert(memcmp(a + 1, b + 1, 12) != 0);
	test_assert(memcmp(a, b, alen) != 0);
	free(b);
	b = NULL;
	test_end();

	want = xasprintf("the stored secret of inbox 7 " OPEN_FAILED);
	test_begin("vault_unseal: wrong key");
	secret = (char *)1;
	test_assert(vault_unseal(other, 7, a, alen, &secret, &err) == -1);
	test_assert(secret == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(strcmp(err.msg, want) == 0);
	test_end();

	test_begin("vault_unseal: another inbox's secret");
	memset(&err, 0, sizeof(err));
	test_assert(vault_unseal(v, 8, a, alen, &secret, &err) == -1);
	test_assert(secret == NULL);
	test_assert(err.fail == HEARTH_FAIL_PERMANENT);
	test_assert(
	    strcmp(err.msg, "the stored secret of inbox 8 " OPEN_FAILED) == 0);
	test_assert(vault_unseal(v, 7 + (1LL << 32), a, alen, &secret, &err) ==
		    -1);
	test_assert(vault_unseal(v, -7, a, alen, &secret, &err) == -1);
	test_assert(vault_unseal(v, 7, a, alen, &secret, &err) == 0);
	test_assert(secret != NULL && strcmp(secret, "hunter2") == 0);
	vault_secret_free(&secret);
	test_end();

	test_begin("vault_unseal: every single bit flip fails");
	copy = xmalloc(alen + 1);
	all = true;
	for (size_t bit = 0; bit < alen * 8; bit++) {
		memcpy(copy, a, alen);
		copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		memset(&err, 0, sizeof(err));
		if (vault_unseal(v, 7, copy, alen, &secret, &err) != -1 ||
		    secret != NULL || strcmp(err.msg, want) != 0) {
			fprintf(stderr, "bit %zu: not refused\n", bit);
			all = false;
		}
		vault_secret_free(&secret);
	}
	test_assert(all);
	test_end();

	test_begin("vault_unseal: truncated or extended blobs fail");
	all = true;
	for (size_t n = 0; n < alen; n++) {
		memset(&err, 0, sizeof(err));
		if (vault_unseal(v, 7, a, n, &secret, &err) != -1 ||
		    secret != NULL || strcmp(err.msg, want) != 0) {
			fprintf(stderr, "length %zu: not refused\n", n);
			all = false;
		}
		vault_secret_free(&secret);
		/* the tail cut off instead of the head */
		if (n > 0 &&
		    vault_unseal(v, 7, a + alen - n, n, &secret, &err) != -1) {
			fprintf(stderr, "tail %zu: not refused\n", n);
			all = false;
		}
		vault_secret_free(&secret);
	}
	test_assert(all);
	memcpy(copy, a, alen);
	copy[alen] = 0;
	test_assert(vault_unseal(v, 7, copy, alen + 1, &secret, &err) == -1);
	test_assert(secret == NULL);
	test_end();

	free(want);
	free(copy);
	free(a);
	free(big);
	free(huge);
}

static void test_seal_keys(void)
{
	struct hearth_err err = {0};
	char *p1 = tmp_path("seal1.key");
	char *p2 = tmp_path("seal2.key");
	struct vault *v1 = NULL, *v2 = NULL;

	if (vault_key_create(p1, &err) == 0 &&
	    vault_key_create(p2, &err) == 0) {
		v1 = open_or_null(p1, &err);
		v2 = open_or_null(p2, &err);
	}
	if (v1 != NULL && v2 != NULL) {
		test_seal(v1, v2);
	} else {
		test_begin("vault_seal: keys");
		test_assert(!"no vault to test with");
		test_end();
	}
	vault_close(&v1);
	vault_close(&v2);
	unlink(p1);
	unlink(p2);
	free(p1);
	free(p2);
}

static void test_split(void)
{
	/* shell: 1 split here, 0 needs /bin/sh, -1 refused */
	static const struct {
		const char *command;
		int ret;
		const char *words[5];
	} cases[] = {
	    {"pass show mail/work", 1, {"pass", "show", "mail/work"}},
	    {"  echo\thunter2  ", 1, {"echo", "hunter2"}},
	    {"printf 'pw\\nsecond\\n'", 1, {"printf", "pw\\nsecond\\n"}},
	    {"gpg -q --for-your-eyes-only -d ~/.pw.gpg", 0, {NULL}},
	    {"sh -c 'kill -9 $$'", 1, {"sh", "-c", "kill -9 $$"}},
	    {"a 'b c'\"d e\" '' f", 1, {"a", "b cd e", "", "f"}},
	    {"cmd --opt=value", 1, {"cmd", "--opt=value"}},
	    {"echo \"no expansion\"", 1, {"echo", "no expansion"}},
	    {"/bin/echo $HOME", 0, {NULL}},
	    {"echo \"$HOME\"", 0, {NULL}},
	    {"echo \"a\\\"b\"", 0, {NULL}},
	    {"echo a\\ b", 0, {NULL}},
	    {"cat f | head -1", 0, {NULL}},
	    {"a; b", 0, {NULL}},
	    {"a && b", 0, {NULL}},
	    {"a > f", 0, {NULL}},
	    {"echo *", 0, {NULL}},
	    {"echo `id`", 0, {NULL}},
	    {"echo a # comment", 0, {NULL}},
	    {"PASS=x cmd", 0, {NULL}},
	    {"a\nb", 0, {NULL}},
	    {"", -1, {NULL}},
	    {" \t ", -1, {NULL}},
	    {"echo 'unterminated", -1, {NULL}},
	    {"echo \"unterminated", -1, {NULL}},
	};
	struct hearth_err err = {0};

	test_begin("vault_command_split");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char **argv = (char **)1;
		int ret = vault_command_split(cases[i].command, &argv, &err);
		bool same = ret == cases[i].ret;

		if (ret == 1) {
			size_t n = 0;

			for (; argv[n] != NULL && n < 5; n++)
				same = same && cases[i].words[n] != NULL &&
				       strcmp(argv[n], cases[i].words[n]) == 0;
			same = same && n < 5 && cases[i].words[n] == NULL;
		} else {
			same = same && argv == NULL;
		}
		if (ret == -1)
			same = same && err.fail == HEARTH_FAIL_AUTH;
		if (!same)
			fprintf(stderr, "case %zu [%s]: got %d\n", i,
				cases[i].command, ret);
		test_assert(same);
		vault_argv_free(&argv);
		test_assert(argv == NULL);
	}
	test_end();
}

/*
 * Run command; returns vault_command_secret's result, with the secret in
 * *secret_r (or NULL) and the time taken in *msecs_r.
 */
static int run(const char *command, int timeout_msecs, char **secret_r,
	       struct hearth_err *err, int64_t *msecs_r)
{
	int64_t start = now_msecs();
	int ret;

	memset(err, 0, sizeof(*err));
	*secret_r = (char *)1;
	ret = vault_command_secret(command, timeout_msecs, secret_r, err);
	if (msecs_r != NULL)
		*msecs_r = now_msecs() - start;
	if (ret < 0)
		test_assert(*secret_r == NULL);
	return ret;
}

/* The command's result when it succeeds, "" otherwise (owned, free()). */
static char *first_line(const char *command)
{
	struct hearth_err err;
	char *secret;
	char *copy;

	if (run(command, 5000, &secret, &err, NULL) < 0) {
		fprintf(stderr, "[%s]: %s\n", command, err.msg);
		return xstrdup("");
	}
	copy = xstrdup(secret);
	vault_secret_free(&secret);
	return copy;
}

static void test_command_ok(void)
{
	static const struct {
		const char *command;
		const char *want;
	} cases[] = {
	    {"echo hunter2", "hunter2"},
	    {"printf 'pw\\nsecond\\n'", "pw"},
	    {"printf 'pw\\r\\nsecond\\n'", "pw"},
	    {"printf 'no newline'", "no newline"},
	    {"printf '  spaces kept \\n'", "  spaces kept "},
	    {"printf 'a\\rb\\n'", "a\rb"},
	    {"sh -c 'echo first; echo second; echo third'", "first"},
	    {"echo   'two  blanks'", "two  blanks"},
	    {"echo from-shell | cat", "from-shell"},
	};
	char *got, *want;
	const char *home = getenv("HOME");

	test_begin("vault_command_secret: first line of the output");
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		got = first_line(cases[i].command);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "[%s]: got [%s] want [%s]\n",
				cases[i].command, got, cases[i].want);
		test_assert(strcmp(got, cases[i].want) == 0);
		free(got);
	}
	test_end();

	test_begin("vault_command_secret: with and without the shell");
	/* the shell expands $HOME; without it the word would stay as is */
	if (home != NULL && *home != '\0') {
		got = first_line("/bin/echo $HOME");
		test_assert(strcmp(got, home) == 0);
		free(got);
	}
	got = first_line("echo '$HOME'");
	test_assert(strcmp(got, "$HOME") == 0);
	free(got);
	/* stdin is /dev/null: cat ends at once instead of waiting */
	got = first_line("sh -c 'cat; echo after-stdin'");
	test_assert(strcmp(got, "after-stdin") == 0);
	free(got);
	/* a long output is read to its end, only the first line kept */
	got = first_line("sh -c 'echo first; head -c 200000 /dev/zero'");
	test_assert(strcmp(got, "first") == 0);
	free(got);
	/* exactly the longest line accepted */
	want = xmalloc(VAULT_COMMAND_MAX_LINE_BYTES + 1);
	memset(want, 'a', VAULT_COMMAND_MAX_LINE_BYTES);
	want[VAULT_COMMAND_MAX_LINE_BYTES] = '\0';
	got = first_line("sh -c 'head -c 16384 /dev/zero | tr \"\\0\" a; "
			 "printf \"\\r\\nrest\\n\"'");
	test_assert(strcmp(got, want) == 0);
	free(got);
	free(want);
	test_end();
}

static void test_command_clean(void)
{
	int fd = open("/dev/null", O_RDONLY);
	sigset_t block, saved;
	char *got;

	test_begin("vault_command_secret: no descriptor of ours leaks");
	test_assert(fd >= 0 && dup2(fd, 57) == 57);
	got = first_line("sh -c 'ls /proc/$$/fd | tr \"\\n\" \" \"'");
	test_assert(strncmp(got, "0 1 2 ", 6) == 0);
	test_assert(strstr(got, " 57 ") == NULL);
	free(got);
	close(57);
	close(fd);
	test_end();

	test_begin("vault_command_secret: default signals, empty mask");
	/* the network code ignores SIGPIPE; the command must not inherit it */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &saved);
	got = first_line("grep SigIgn /proc/self/status");
	test_assert(strcmp(got, "SigIgn:\t0000000000000000") == 0);
	free(got);
	got = first_line("grep SigBlk /proc/self/status");
	test_assert(strcmp(got, "SigBlk:\t0000000000000000") == 0);
	free(got);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	signal(SIGPIPE, SIG_DFL);
	test_end();
}

/* Run a failing command: true when it failed with a message containing
 * want and code (code < -1: any). */
static bool fails(const char *command, int timeout_msecs, const char *want,
		  int code, int64_t *msecs_r)
{
	struct hearth_err err;
	char *secret;
	bool ok;

	if (run(command, timeout_msecs, &secret, &err, msecs_r) == 0) {
		fprintf(stderr, "[%s]: succeeded\n", command);
		vault_secret_free(&secret);
		return false;
	}
	ok = err.fail == HEARTH_FAIL_AUTH && strstr(err.msg, want) != NULL &&
	     (code < -1 || err.code == code);
	/* whatever a command printed never reaches a message */
	ok = ok && strstr(err.msg, "TOPSECRET") == NULL;
	if (!ok)
		fprintf(stderr, "[%s]: got %s %d [%s], want [%s]\n", command,
			hearth_fail_name(err.fail), err.code, err.msg, want);
	return ok;
}

static void test_command_fail(void)
{
	int64_t msecs = 0;

	test_begin("vault_command_secret: failures");
	test_assert(fails("false", 5000,
			  "password command exited with status 1", 1, NULL));
	test_assert(fails("sh -c 'exit 3'", 5000,
			  "password command exited with status 3", 3, NULL));
	test_assert(
	    fails("true", 5000, "password command printed nothing", 0, NULL));
	test_assert(fails("echo", 5000,
			  "password command printed an empty first line", 0,
			  NULL));
	test_assert(fails("printf '\\r\\nsecond\\n'", 5000,
			  "printed an empty first line", 0, NULL));
	test_assert(fails("printf 'a\\0b\\n'", 5000, "NUL byte", 0, NULL));
	test_assert(fails("sh -c 'kill -9 $$'", 5000,
			  "password command was killed by signal 9", 9, NULL));
	test_assert(fails("hearth-no-such-command-0 arg", 5000,
			  "password command: cannot run "
			  "'hearth-no-such-command-0': No such file or "
			  "directory",
			  ENOENT, NULL));
	test_assert(fails("/dev/null", 5000,
			  "password command: cannot run "
			  "'/dev/null': Permission denied",
			  EACCES, NULL));
	test_assert(fails("hearth-no-such-command-0 >/dev/null 2>&1", 5000,
			  "password command exited with status 127 (the shell "
			  "could not find or run 'hearth-no-such-command-0')",
			  127, NULL));
	test_assert(fails("", 5000, "password command is empty", -2, NULL));
	test_assert(
	    fails("echo 'open", 5000, "unterminated single quote", -2, NULL));
	test_assert(fails("sh -c 'head -c 16385 /dev/zero | tr \"\\0\" a'",
			  5000, "longer than 16384 bytes", -2, NULL));
	test_assert(fails("sh -c 'head -c 100000 /dev/zero | tr \"\\0\" a'",
			  5000, "longer than 16384 bytes", -2, NULL));
	test_end();

	test_begin("vault_command_secret: output never in messages");
	test_assert(fails("sh -c 'echo TOPSECRET-4711; exit 1'", 5000,
			  "exited with status 1", 1, NULL));
	test_assert(fails("echo TOPSECRET-4711 && false", 5000,
			  "exited with status 1", 1, NULL));
	test_assert(fails("sh -c 'echo TOPSECRET-4711; kill -9 $$'", 5000,
			  "killed by signal 9", 9, NULL));
	test_assert(fails("sh -c 'echo TOPSECRET-4711; sleep 10'", 200,
			  "timed out", ETIMEDOUT, NULL));
	/* and arguments are not named either, only the first word */
	test_assert(fails("hearth-no-such-command-0 TOPSECRET-4711", 5000,
			  "cannot run 'hearth-no-such-command-0'", ENOENT,
			  NULL));
	test_assert(fails("PASS=TOPSECRET-4711 false", 5000,
			  "exited with status 1", 1, NULL));
	test_end();

	test_begin("vault_command_secret: timeout");
	test_assert(fails("sleep 10", 200,
			  "password command timed out after 200 ms", ETIMEDOUT,
			  &msecs));
	test_assert(msecs >= 190 && msecs < 200 + test_slack_msecs());
	/* a command that closes its output but does not end */
	test_assert(fails("sh -c 'exec >&-; sleep 10'", 200, "timed out",
			  ETIMEDOUT, &msecs));
	test_assert(msecs < 200 + test_slack_msecs());
	test_end();
}

/* True when pid is gone (or a zombie nobody has reaped yet). */
static bool gone(pid_t pid)
{
	char path[64], state = '?';
	FILE *f;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = '?';
	fclose(f);
	return state == 'Z' || state == 'X';
}

static void test_command_group(void)
{
	char *pidfile = tmp_path("bg.pid");
	char *command =
	    xasprintf("sh -c 'sleep 30 & echo $! > %s; wait'", pidfile);
	int64_t msecs;
	char *text;
	pid_t pid = 0;
	bool dead = false;

	test_begin("vault_command_secret: the whole group is killed");
	test_assert(fails(command, 300, "timed out", ETIMEDOUT, &msecs));
	text = read_file(pidfile);
	test_assert(text != NULL && (pid = (pid_t)atoi(text)) > 0);
	for (int i = 0; pid > 0 && i < 100 && !dead; i++) {
		dead = gone(pid);
		if (!dead)
			usleep(10000);
	}
	test_assert(dead);
	if (!dead && pid > 0)
		kill(pid, SIGKILL);
	test_end();

	unlink(pidfile);
	free(text);
	free(command);
	free(pidfile);
}

int main(void)
{
	const char *base = getenv("TMPDIR");

	/* a key in the developer's environment must not change the tests */
	unsetenv(VAULT_KEY_ENV);
	umask(022);
	snprintf(tmpdir, sizeof(tmpdir), "%s/hearth-vault-XXXXXX",
		 base != NULL && *base != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	test_key_create();
	test_open_file();
	test_open_env();
	test_seal_keys();
	test_split();
	test_command_ok();
	test_command_clean();
	test_command_fail();
	test_command_group();
	if (rmdir(tmpdir) < 0)
		perror(tmpdir);
	return test_exit();
}
