// SPDX-License-Identifier: MIT
#include "hearth/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hearth/xalloc.h"

#define VAULT_VERSION	  1
#define VAULT_NONCE_BYTES 12
#define VAULT_TAG_BYTES	  16
#define VAULT_AAD_PREFIX  "hearth-inbox"
#define VAULT_AAD_BYTES	  (sizeof(VAULT_AAD_PREFIX) - 1 + 8 + 1)
#define VAULT_KEY_HEX	  (2 * VAULT_KEY_BYTES)
/* A key file longer than this is not a key file (64 digits and blanks). */
#define VAULT_KEY_FILE_MAX 256
/* How much of a command's first word an error message may show. */
#define VAULT_WORD_MAX 64

struct vault {
	unsigned char key[VAULT_KEY_BYTES];
	size_t map_size;
	bool locked;
};

/* ---- keys ---- */

static int vault_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool vault_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Decode a key of exactly 64 hex digits, blanks around it ignored, from
 * text (len bytes). -1 when it is not one; *why_r then says why in words
 * that never quote the text.
 */
static int vault_key_decode(const char *text, size_t len,
			    unsigned char key[VAULT_KEY_BYTES],
			    const char **why_r)
{
	while (len > 0 && vault_is_space(text[len - 1]))
		len--;
	while (len > 0 && vault_is_space(*text)) {
		text++;
		len--;
	}
	if (len == 0) {
		*why_r = "it is empty";
		return -1;
	}
	if (len < VAULT_KEY_HEX) {
		*why_r = "it is too short";
		return -1;
	}
	if (len > VAULT_KEY_HEX) {
		*why_r = "it is too long";
		return -1;
	}
	for (size_t i = 0; i < VAULT_KEY_BYTES; i++) {
		int hi = vault_hex_value(text[2 * i]);
		int lo = vault_hex_value(text[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(key, VAULT_KEY_BYTES);
			*why_r = "it has a character that is not a hex digit";
			return -1;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int vault_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int vault_key_create(const char *path, struct hearth_err *err)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char key[VAULT_KEY_BYTES];
	char hex[VAULT_KEY_HEX + 1];
	int fd = -1;
	int ret = -1;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		ERR_clear_error();
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "key file %s: cannot draw random bytes", path);
		goto out;
	}
	for (size_t i = 0; i < sizeof(key); i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 0xf];
	}
	hex[VAULT_KEY_HEX] = '\n';
	/* O_EXCL also refuses a symbolic link, even one pointing nowhere. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 && errno == EEXIST) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, EEXIST,
			       "key file %s exists: refusing to overwrite it",
			       path);
		goto out;
	}
	if (fd < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
			       "key file %s: %s", path, strerror(errno));
		goto out;
	}
	/* a umask never loosens 0600, but one could leave the owner out */
	if (fchmod(fd, 0600) < 0 || vault_write_all(fd, hex, sizeof(hex)) < 0 ||
	    fsync(fd) < 0) {
		int saved = errno;

		unlink(path);
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, saved,
			       "key file %s: %s", path, strerror(saved));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0 && close(fd) < 0 && ret == 0) {
		int saved = errno;

		unlink(path);
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, saved,
			       "key file %s: %s", path, strerror(saved));
		ret = -1;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(hex, sizeof(hex));
	return ret;
}

static int vault_key_from_env(const char *value,
			      unsigned char key[VAULT_KEY_BYTES],
			      struct hearth_err *err)
{
	const char *why;

	if (vault_key_decode(value, strlen(value), key, &why) == 0)
		return 0;
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
		       "%s must be 64 hex digits (a 32-byte key), but %s; "
		       "unset it to use the key file",
		       VAULT_KEY_ENV, why);
	return -1;
}

static int vault_key_from_file(const char *path,
			       unsigned char key[VAULT_KEY_BYTES],
			       struct hearth_err *err)
{
	char buf[VAULT_KEY_FILE_MAX + 1];
	size_t len = 0;
	struct stat st;
	const char *why;
	int fd;
	int ret = -1;

	if (path == NULL) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "no vault key: set %s or give a key file",
			       VAULT_KEY_ENV);
		return -1;
	}
	/* O_NONBLOCK: a FIFO at path must not hang us before the check */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, ENOENT,
			       "key file %s does not exist: create it with "
			       "`hearth init`, or set %s",
			       path, VAULT_KEY_ENV);
		return -1;
	}
	if (fd < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
			       "key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
			       "key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "key file %s is not a regular file", path);
		goto out;
	}
	if ((st.st_mode & 066) != 0) {
		hearth_err_set(
		    err, HEARTH_FAIL_PERMANENT, EPERM,
		    "key file %s is %s by others (mode %04o): "
		    "chmod 600 %s",
		    path, (st.st_mode & 044) != 0 ? "readable" : "writable",
		    (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, errno,
				       "key file %s: %s", path,
				       strerror(errno));
			goto out;
		}
		if (n == 0 || (len += (size_t)n) == sizeof(buf))
			break;
	}
	if (len > VAULT_KEY_FILE_MAX ||
	    vault_key_decode(buf, len, key, &why) < 0) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "key file %s is not a vault key (64 hex digits "
			       "and a newline)",
			       path);
		goto out;
	}
	ret = 0;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	return ret;
}

int vault_open(const char *key_path, struct vault **vault_r,
	       struct hearth_err *err)
{
	unsigned char key[VAULT_KEY_BYTES];
	const char *env = getenv(VAULT_KEY_ENV);
	long page = sysconf(_SC_PAGESIZE);
	size_t size;
	struct vault *v;
	void *p;

	*vault_r = NULL;
	if (env != NULL ? vault_key_from_env(env, key, err) < 0
			: vault_key_from_file(key_path, key, err) < 0)
		return -1;
	/*
	 * A page of its own, so that locking it locks nothing else and
	 * unlocking it unlocks nothing else, and so that it can be left out
	 * of core dumps.
	 */
	size =
	    page > 0 && (size_t)page >= sizeof(*v) ? (size_t)page : sizeof(*v);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "hearth: out of memory allocating %zu bytes\n",
			size);
		abort();
	}
	v = p;
	v->map_size = size;
	v->locked = mlock(p, size) == 0;
	madvise(p, size, MADV_DONTDUMP);
	memcpy(v->key, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	*vault_r = v;
	return 0;
}

void vault_close(struct vault **vault)
{
	struct vault *v = *vault;
	size_t size;

	if (v == NULL)
		return;
	size = v->map_size;
	OPENSSL_cleanse(v, size);
	/* the page is wiped before it is unlocked, so it never reaches swap */
	munlock(v, size);
	munmap(v, size);
	*vault = NULL;
}

/* ---- sealing ---- */

static void vault_aad(int64_t inbox_id, unsigned char aad[VAULT_AAD_BYTES])
{
	uint64_t id = (uint64_t)inbox_id;
	size_t n = sizeof(VAULT_AAD_PREFIX) - 1;

	memcpy(aad, VAULT_AAD_PREFIX, n);
	for (int i = 0; i < 8; i++)
		aad[n + (size_t)i] = (unsigned char)(id >> (56 - 8 * i));
	aad[n + 8] = VAULT_VERSION;
}

int vault_seal(const struct vault *v, int64_t inbox_id, const char *secret,
	       unsigned char **sealed_r, size_t *len_r, struct hearth_err *err)
{
	size_t secret_len = strlen(secret);
	unsigned char aad[VAULT_AAD_BYTES];
	unsigned char *out = NULL, *nonce, *ct, *tag;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t len;
	int n, ret = -1;

	*sealed_r = NULL;
	*len_r = 0;
	if (secret_len > VAULT_MAX_SECRET_BYTES) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "the secret of inbox %lld is longer than %d "
			       "bytes",
			       (long long)inbox_id, VAULT_MAX_SECRET_BYTES);
		return -1;
	}
	len = secret_len + VAULT_SEAL_OVERHEAD;
	out = xmalloc(len);
	out[0] = VAULT_VERSION;
	nonce = out + 1;
	ct = nonce + VAULT_NONCE_BYTES;
	tag = ct + secret_len;
	if (RAND_bytes(nonce, VAULT_NONCE_BYTES) != 1) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "the secret of inbox %lld cannot be sealed: no "
			       "random bytes for a nonce",
			       (long long)inbox_id);
		goto out;
	}
	vault_aad(inbox_id, aad);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_BYTES,
				NULL) != 1 ||
	    EVP_EncryptInit_ex(ctx, NULL, NULL, v->key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) != 1 ||
	    (secret_len > 0 &&
	     EVP_EncryptUpdate(ctx, ct, &n, (const unsigned char *)secret,
			       (int)secret_len) != 1) ||
	    EVP_EncryptFinal_ex(ctx, tag, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VAULT_TAG_BYTES,
				tag) != 1) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "the secret of inbox %lld cannot be sealed: "
			       "AES-256-GCM failed",
			       (long long)inbox_id);
		goto out;
	}
	*sealed_r = out;
	*len_r = len;
	out = NULL;
	ret = 0;
out:
	if (ret < 0)
		ERR_clear_error();
	EVP_CIPHER_CTX_free(ctx);
	free(out);
	return ret;
}

int vault_unseal(const struct vault *v, int64_t inbox_id,
		 const unsigned char *sealed, size_t len, char **secret_r,
		 struct hearth_err *err)
{
	unsigned char aad[VAULT_AAD_BYTES];
	const unsigned char *nonce, *ct, *tag;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t ct_len;
	char *out = NULL;
	int n, ret = -1;

	*secret_r = NULL;
	if (len < VAULT_SEAL_OVERHEAD ||
	    len > VAULT_MAX_SECRET_BYTES + VAULT_SEAL_OVERHEAD ||
	    sealed[0] != VAULT_VERSION)
		goto out;
	ct_len = len - VAULT_SEAL_OVERHEAD;
	nonce = sealed + 1;
	ct = nonce + VAULT_NONCE_BYTES;
	tag = ct + ct_len;
	vault_aad(inbox_id, aad);
	out = xmalloc(ct_len + 1);
	ctx = EVP_CIPHER_CTX_new();
	/* GCM writes plaintext before the tag is checked: wiped below */
	if (ctx == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCE_BYTES,
				NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, v->key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, aad, sizeof(aad)) != 1 ||
	    (ct_len > 0 && EVP_DecryptUpdate(ctx, (unsigned char *)out, &n, ct,
					     (int)ct_len) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VAULT_TAG_BYTES,
				(void *)tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + ct_len, &n) != 1)
		goto out;
	out[ct_len] = '\0';
	/* sealed from a C string: a NUL inside was not made by vault_seal */
	if (strlen(out) != ct_len)
		goto out;
	*secret_r = out;
	out = NULL;
	ret = 0;
out:
	if (ret < 0) {
		ERR_clear_error();
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "the stored secret of inbox %lld cannot be "
			       "opened: wrong vault key or damaged data",
			       (long long)inbox_id);
	}
	EVP_CIPHER_CTX_free(ctx);
	if (out != NULL) {
		OPENSSL_cleanse(out, ct_len + 1);
		free(out);
	}
	return ret;
}

void vault_secret_free(char **secret)
{
	if (*secret == NULL)
		return;
	explicit_bzero(*secret, strlen(*secret));
	free(*secret);
	*secret = NULL;
}

/* ---- commands ---- */

void vault_argv_free(char ***argv)
{
	if (*argv == NULL)
		return;
	for (char **a = *argv; *a != NULL; a++)
		vault_secret_free(a);
	free(*argv);
	*argv = NULL;
}

static bool vault_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int vault_command_split(const char *command, char ***argv_r,
			struct hearth_err *err)
{
	size_t cmd_len = strlen(command);
	/* no word is longer than the command, nor are there more words */
	char *word = xmalloc(cmd_len + 1);
	char **argv = xcalloc(cmd_len / 2 + 2, sizeof(*argv));
	size_t argc = 0, wlen = 0;
	bool in_word = false;
	const char *p = command;
	int ret = -1;

	*argv_r = NULL;
	for (;;) {
		char c = *p;

		if (c == '\0' || vault_is_blank(c)) {
			if (in_word) {
				argv[argc++] = xstrndup(word, wlen);
				wlen = 0;
				in_word = false;
			}
			if (c == '\0')
				break;
			p++;
		} else if (c == '\'' || c == '"') {
			const char *end = strchr(p + 1, c);

			if (end == NULL) {
				hearth_err_set(err, HEARTH_FAIL_AUTH, 0,
					       "password command has an "
					       "unterminated %s quote",
					       c == '"' ? "double" : "single");
				goto out;
			}
			if (c == '"' &&
			    strcspn(p + 1, "$`\\") < (size_t)(end - p - 1)) {
				ret = 0;
				goto out;
			}
			memcpy(word + wlen, p + 1, (size_t)(end - p - 1));
			wlen += (size_t)(end - p - 1);
			in_word = true;
			p = end + 1;
		} else if (strchr("|&;<>()$`\\*?[]#~{}!\n", c) != NULL ||
			   (c == '=' && argc == 0)) {
			/* a '=' in the first word may be an assignment */
			ret = 0;
			goto out;
		} else {
			word[wlen++] = c;
			in_word = true;
			p++;
		}
	}
	if (argc == 0) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, 0,
			       "password command is empty");
		goto out;
	}
	*argv_r = argv;
	argv = NULL;
	ret = 1;
out:
	if (argv != NULL) {
		argv[argc] = NULL;
		vault_argv_free(&argv);
	}
	explicit_bzero(word, cmd_len + 1);
	free(word);
	return ret;
}

static int64_t vault_now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vault_sleep_msecs(int64_t msecs)
{
	struct timespec ts = {.tv_sec = (time_t)(msecs / 1000),
			      .tv_nsec = (long)(msecs % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/*
 * The name an error message gives the command: its first word (len bytes),
 * cut short, control bytes shown as '?'.
 */
static void vault_command_name(const char *word, size_t len,
			       char name[VAULT_WORD_MAX + 1])
{
	size_t n = len < VAULT_WORD_MAX ? len : VAULT_WORD_MAX;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)word[i];

		name[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	name[n] = '\0';
}

/* In the child: become the command or report errno down report_fd. */
static void __attribute__((noreturn))
vault_child(char *const argv[], int out_fd, int report_fd)
{
	sigset_t none;
	ssize_t w;
	int fd, e;

	setpgid(0, 0);
	/* an ignored signal stays ignored across exec (SIGPIPE is, here) */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (out_fd == STDOUT_FILENO)
		fcntl(out_fd, F_SETFD, 0);
	else if (dup2(out_fd, STDOUT_FILENO) < 0)
		goto fail;
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0)
		goto fail;
	if (fd != STDIN_FILENO) {
		if (dup2(fd, STDIN_FILENO) < 0)
			goto fail;
		close(fd);
	}
	/* nothing of ours (the store, sockets) goes to the command */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execvp(argv[0], argv);
fail:
	e = errno;
	w = write(report_fd, &e, sizeof(e));
	(void)w;
	_exit(127);
}

/* Kill the command's process group and reap it. */
static void vault_child_kill(pid_t pid, int *status_r)
{
	killpg(pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, status_r, 0) < 0 && errno == EINTR)
		;
}

static void vault_err_too_long(struct hearth_err *err)
{
	hearth_err_set(err, HEARTH_FAIL_AUTH, 0,
		       "password command printed a first line longer than %d "
		       "bytes",
		       VAULT_COMMAND_MAX_LINE_BYTES);
}

int vault_command_secret(const char *command, int timeout_msecs,
			 char **secret_r, struct hearth_err *err)
{
	const size_t buf_size = VAULT_COMMAND_MAX_LINE_BYTES + 2;
	char name[VAULT_WORD_MAX + 1];
	char *sh_argv[] = {"/bin/sh", "-c", (char *)command, NULL};
	char **argv = NULL;
	char scratch[4096];
	char *buf = NULL;
	size_t used = 0, line_len = 0;
	bool have_line = false, too_long = false, timed_out = false;
	bool reaped = false;
	int out_pipe[2] = {-1, -1}, report[2] = {-1, -1};
	int exec_errno = 0, wait_errno = 0, status = 0;
	int64_t deadline, step = 1;
	pid_t pid = -1;
	int split, ret = -1;

	*secret_r = NULL;
	if (timeout_msecs <= 0)
		timeout_msecs = VAULT_COMMAND_TIMEOUT_MSECS;
	split = vault_command_split(command, &argv, err);
	if (split < 0)
		return -1;
	if (split == 1) {
		vault_command_name(argv[0], strlen(argv[0]), name);
	} else {
		const char *p = command + strspn(command, " \t");
		size_t len = strcspn(p, " \t\n");

		/* PASS=... cmd: an assignment is not shown */
		if (memchr(p, '=', len) != NULL)
			strcpy(name, "sh");
		else
			vault_command_name(p, len, name);
	}
	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, errno,
			       "password command: pipe: %s", strerror(errno));
		goto out;
	}
	deadline = vault_now_msecs() + timeout_msecs;
	pid = fork();
	if (pid < 0) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, errno,
			       "password command: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		vault_child(split == 1 ? argv : sh_argv, out_pipe[1],
			    report[1]);
	/* the child does the same: whichever runs first makes the group */
	setpgid(pid, pid);
	close(out_pipe[1]);
	close(report[1]);
	out_pipe[1] = report[1] = -1;
	/* allocated after the fork: the child has nothing to leak */
	buf = xmalloc(buf_size);

	/* Read until EOF on both pipes: report closes at exec. */
	while (out_pipe[0] >= 0 || report[0] >= 0) {
		struct pollfd pfd[2] = {{.fd = out_pipe[0], .events = POLLIN},
					{.fd = report[0], .events = POLLIN}};
		int64_t left = deadline - vault_now_msecs();
		char *dst;
		size_t room;
		ssize_t n;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(pfd, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			hearth_err_set(err, HEARTH_FAIL_RETRY, errno,
				       "password command: poll: %s",
				       strerror(errno));
			goto out;
		}
		if (pfd[1].revents != 0) {
			int e;

			n = read(report[0], &e, sizeof(e));
			if (n < 0 && errno == EINTR)
				continue;
			if (n == (ssize_t)sizeof(e))
				exec_errno = e;
			close(report[0]);
			report[0] = -1;
		}
		if (pfd[0].revents == 0)
			continue;
		/* past the first line, the rest is drained and dropped */
		dst = have_line ? scratch : buf + used;
		room = have_line ? sizeof(scratch) : buf_size - used;
		n = read(out_pipe[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(out_pipe[0]);
			out_pipe[0] = -1;
			continue;
		}
		if (have_line)
			continue;
		used += (size_t)n;
		dst = memchr(dst, '\n', (size_t)n);
		if (dst != NULL) {
			have_line = true;
			line_len = (size_t)(dst - buf);
		} else if (used == buf_size) {
			too_long = true;
			break;
		}
	}

	while (!timed_out && !too_long) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		int64_t left;

		if (w == pid) {
			reaped = true;
			break;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			/* SIGCHLD ignored or someone else reaped it */
			wait_errno = errno;
			reaped = true;
			break;
		}
		left = deadline - vault_now_msecs();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		vault_sleep_msecs(step < left ? step : left);
		step = step < 32 ? step * 2 : 50;
	}
	if (!reaped) {
		vault_child_kill(pid, &status);
		reaped = true;
	}

	if (timed_out) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, ETIMEDOUT,
			       "password command timed out after %d ms",
			       timeout_msecs);
		goto out;
	}
	if (exec_errno != 0) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, exec_errno,
			       "password command: cannot run '%s': %s",
			       split == 1 ? name : "/bin/sh",
			       strerror(exec_errno));
		goto out;
	}
	if (too_long) {
		vault_err_too_long(err);
		goto out;
	}
	if (wait_errno != 0) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, wait_errno,
			       "password command: cannot learn its exit "
			       "status: %s",
			       strerror(wait_errno));
		goto out;
	}
	if (WIFSIGNALED(status)) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, WTERMSIG(status),
			       "password command was killed by signal %d (%s)",
			       WTERMSIG(status), strsignal(WTERMSIG(status)));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

		if (split == 0 && code == 127)
			hearth_err_set(err, HEARTH_FAIL_AUTH, code,
				       "password command exited with status "
				       "127 (the shell could not find or run "
				       "'%s')",
				       name);
		else
			hearth_err_set(err, HEARTH_FAIL_AUTH, code,
				       "password command exited with status %d",
				       code);
		goto out;
	}
	if (used == 0) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, 0,
			       "password command printed nothing");
		goto out;
	}
	if (!have_line)
		line_len = used;
	if (line_len > 0 && buf[line_len - 1] == '\r')
		line_len--;
	if (line_len > VAULT_COMMAND_MAX_LINE_BYTES) {
		vault_err_too_long(err);
		goto out;
	}
	if (line_len == 0) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, 0,
			       "password command printed an empty first line");
		goto out;
	}
	if (memchr(buf, '\0', line_len) != NULL) {
		hearth_err_set(err, HEARTH_FAIL_AUTH, 0,
			       "password command printed a NUL byte in its "
			       "first line");
		goto out;
	}
	*secret_r = xstrndup(buf, line_len);
	ret = 0;
out:
	if (pid > 0 && !reaped)
		vault_child_kill(pid, &status);
	for (int i = 0; i < 2; i++) {
		if (out_pipe[i] >= 0)
			close(out_pipe[i]);
		if (report[i] >= 0)
			close(report[i]);
	}
	explicit_bzero(scratch, sizeof(scratch));
	if (buf != NULL) {
		explicit_bzero(buf, buf_size);
		free(buf);
	}
	vault_argv_free(&argv);
	return ret;
}
