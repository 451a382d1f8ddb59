// SPDX-License-Identifier: MIT
/*
 * The IMAP session: libetpan's mailimap over hearth's TLS stream. Where
 * libetpan 1.9.4 has no call (LIST ... RETURN (SPECIAL-USE), AUTHENTICATE
 * PLAIN without Cyrus SASL) the command is built from its public pieces:
 * send the tag, write the line, read and parse the response.
 */
#include "hearth/imap.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "hearth/log.h"
#include "hearth/net.h"
#include "hearth/tls.h"
#include "hearth/xalloc.h"

/* What a server may send in one session: folder lists and headers, and
 * an APPEND's echo; a flood past this is cut off. */
#define IMAP_MAX_READ_BYTES (64 * 1024 * 1024)
#define IMAP_VALUE_MAX	    1000
#define IMAP_HEADER_MAX	    8192

struct imap_session {
	mailimap *imap;
	char *host;
	struct tls_info tls;
	bool broken; /* out of sync or disconnected: no more commands */
	char *selected;
	uint32_t uidvalidity;
	char auth_mech[12];
};

bool imap_value_ok(const char *value)
{
	size_t len = 0;

	if (value == NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)value; *p != 0;
	     p++, len++)
		if (*p < 0x20 || *p == 0x7f || len >= IMAP_VALUE_MAX)
			return false;
	return true;
}

/* The last server text, printable, for error messages. */
static const char *imap_server_text(struct imap_session *s, char *buf,
				    size_t size)
{
	const char *r = s->imap != NULL ? s->imap->imap_response : NULL;
	size_t o = 0;

	for (; r != NULL && *r != '\0' && o + 1 < size; r++)
		buf[o++] = isprint((unsigned char)*r) ? *r : '?';
	buf[o] = '\0';
	return buf;
}

/* A libetpan error as a classified hearth error; always -1. */
static int imap_fail(struct imap_session *s, int r, const char *what,
		     struct hearth_err *err)
{
	char text[200];

	switch (r) {
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_PARSE:
	case MAILIMAP_ERROR_FATAL:
	case MAILIMAP_ERROR_MEMORY:
		/* Out of sync with the server: the session is over. */
		s->broken = true;
		hearth_err_set(
		    err, HEARTH_FAIL_RETRY, r, "imap %s: %s: %s", s->host, what,
		    r == MAILIMAP_ERROR_STREAM && s->imap->imap_stream != NULL
			? tls_stream_error(s->imap->imap_stream)
		    : r == MAILIMAP_ERROR_PARSE ? "unparseable response"
						: "connection lost");
		break;
	case MAILIMAP_ERROR_LOGIN:
		hearth_err_set(err, HEARTH_FAIL_AUTH, r,
			       "imap %s: login refused: %s", s->host,
			       imap_server_text(s, text, sizeof(text)));
		break;
	case MAILIMAP_ERROR_PROTOCOL:
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, r,
			       "imap %s: %s: the server said BAD: %s", s->host,
			       what, imap_server_text(s, text, sizeof(text)));
		break;
	default:
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, r,
			       "imap %s: %s refused: %s", s->host, what,
			       imap_server_text(s, text, sizeof(text)));
		break;
	}
	return -1;
}

static int imap_usable(struct imap_session *s, struct hearth_err *err)
{
	if (!s->broken)
		return 0;
	hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
		       "imap %s: the session was lost earlier", s->host);
	return -1;
}

/* The session is usable and folder is safe to put on the wire. */
static int imap_usable_with(struct imap_session *s, const char *folder,
			    struct hearth_err *err)
{
	if (imap_usable(s, err) < 0)
		return -1;
	if (imap_value_ok(folder))
		return 0;
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
		       "imap %s: refusing a folder name with control "
		       "characters",
		       s->host);
	return -1;
}

bool imap_has_capability(struct imap_session *s, const char *name)
{
	struct mailimap_connection_info *ci = s->imap->imap_connection_info;
	bool auth = strncasecmp(name, "AUTH=", 5) == 0;
	clistiter *cur;

	if (ci == NULL || ci->imap_capability == NULL)
		return false;
	for (cur = clist_begin(ci->imap_capability->cap_list); cur != NULL;
	     cur = clist_next(cur)) {
		struct mailimap_capability *c = clist_content(cur);

		if (auth && c->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE &&
		    strcasecmp(c->cap_data.cap_auth_type, name + 5) == 0)
			return true;
		if (!auth && c->cap_type == MAILIMAP_CAPABILITY_NAME &&
		    strcasecmp(c->cap_data.cap_name, name) == 0)
			return true;
	}
	return false;
}

static int imap_refresh_capability(struct imap_session *s,
				   struct hearth_err *err)
{
	struct mailimap_capability_data *cap = NULL;
	int r = mailimap_capability(s->imap, &cap);

	if (cap != NULL)
		mailimap_capability_data_free(cap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "CAPABILITY", err);
	return 0;
}

/*
 * A command libetpan has no call for: "TAG " + line + CRLF, then the
 * response, parsed. The caller frees *resp_r (set on success only).
 */
static int imap_raw(struct imap_session *s, const char *line,
		    struct mailimap_response **resp_r)
{
	mailstream *st = s->imap->imap_stream;
	int r = mailimap_send_current_tag(s->imap);

	if (r != MAILIMAP_NO_ERROR)
		return r;
	if (mailstream_write(st, line, strlen(line)) < 0 ||
	    mailstream_write(st, "\r\n", 2) < 0 || mailstream_flush(st) < 0)
		return MAILIMAP_ERROR_STREAM;
	if (mailimap_read_line(s->imap) == NULL)
		return MAILIMAP_ERROR_STREAM;
	return mailimap_parse_response(s->imap, resp_r);
}

/* The tagged status of a response: true for OK. */
static bool imap_response_ok(const struct mailimap_response *resp)
{
	const struct mailimap_response_done *d = resp->rsp_resp_done;

	return d != NULL && d->rsp_type == MAILIMAP_RESP_DONE_TYPE_TAGGED &&
	       d->rsp_data.rsp_tagged != NULL &&
	       d->rsp_data.rsp_tagged->rsp_cond_state->rsp_type ==
		   MAILIMAP_RESP_COND_STATE_OK;
}

static char *imap_base64_plain(const char *user, const char *secret)
{
	size_t ulen = strlen(user), slen = strlen(secret);
	size_t len = 1 + ulen + 1 + slen;
	unsigned char *plain = xmalloc(len);
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	plain[0] = '\0';
	memcpy(plain + 1, user, ulen);
	plain[1 + ulen] = '\0';
	memcpy(plain + 2 + ulen, secret, slen);
	EVP_EncodeBlock((unsigned char *)out, plain, (int)len);
	explicit_bzero(plain, len);
	free(plain);
	return out;
}

/* AUTHENTICATE PLAIN, with the initial response inline under SASL-IR. */
static int imap_authenticate_plain(struct imap_session *s,
				   const struct credentials *cred,
				   struct hearth_err *err)
{
	struct mailimap_response *resp = NULL;
	mailstream *st = s->imap->imap_stream;
	char *b64 = imap_base64_plain(cred->username, cred->secret);
	char *line = NULL;
	int r;

	if (imap_has_capability(s, "SASL-IR")) {
		line = xasprintf("AUTHENTICATE PLAIN %s", b64);
		r = imap_raw(s, line, &resp);
	} else {
		r = mailimap_send_current_tag(s->imap);
		if (r == MAILIMAP_NO_ERROR &&
		    (mailstream_write(st, "AUTHENTICATE PLAIN\r\n", 20) < 0 ||
		     mailstream_flush(st) < 0))
			r = MAILIMAP_ERROR_STREAM;
		if (r == MAILIMAP_NO_ERROR &&
		    mailimap_read_line(s->imap) == NULL)
			r = MAILIMAP_ERROR_STREAM;
		if (r == MAILIMAP_NO_ERROR) {
			const char *got = s->imap->imap_stream_buffer->str;

			if (got[0] == '+') {
				if (mailstream_write(st, b64, strlen(b64)) <
					0 ||
				    mailstream_write(st, "\r\n", 2) < 0 ||
				    mailstream_flush(st) < 0 ||
				    mailimap_read_line(s->imap) == NULL)
					r = MAILIMAP_ERROR_STREAM;
			}
			if (r == MAILIMAP_NO_ERROR)
				r = mailimap_parse_response(s->imap, &resp);
		}
	}
	explicit_bzero(b64, strlen(b64));
	free(b64);
	if (line != NULL) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "AUTHENTICATE PLAIN", err);
	if (!imap_response_ok(resp)) {
		mailimap_response_free(resp);
		return imap_fail(s, MAILIMAP_ERROR_LOGIN, "login", err);
	}
	mailimap_response_free(resp);
	s->imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
	return 0;
}

static bool imap_ascii(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v >= 0x80)
			return false;
	return true;
}

static int imap_login(struct imap_session *s, const struct credentials *cred,
		      struct hearth_err *err)
{
	int r;

	if (cred->oauth2) {
		if (!imap_has_capability(s, "AUTH=XOAUTH2")) {
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "imap %s: the server does not offer "
				       "XOAUTH2 for the token",
				       s->host);
			return -1;
		}
		snprintf(s->auth_mech, sizeof(s->auth_mech), "XOAUTH2");
		r = mailimap_oauth2_authenticate(s->imap, cred->username,
						 cred->secret);
		if (r != MAILIMAP_NO_ERROR)
			return imap_fail(s,
					 r == MAILIMAP_ERROR_STREAM ||
						 r == MAILIMAP_ERROR_PARSE
					     ? r
					     : MAILIMAP_ERROR_LOGIN,
					 "XOAUTH2", err);
		return 0;
	}
	if (imap_ascii(cred->username) && imap_ascii(cred->secret) &&
	    !imap_has_capability(s, "LOGINDISABLED")) {
		snprintf(s->auth_mech, sizeof(s->auth_mech), "LOGIN");
		r = mailimap_login(s->imap, cred->username, cred->secret);
		if (r != MAILIMAP_NO_ERROR)
			return imap_fail(s, r, "LOGIN", err);
		return 0;
	}
	if (!imap_has_capability(s, "AUTH=PLAIN")) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "imap %s: cannot log in: LOGIN is disabled "
			       "or the secret is not ASCII, and AUTH=PLAIN "
			       "is not offered",
			       s->host);
		return -1;
	}
	snprintf(s->auth_mech, sizeof(s->auth_mech), "PLAIN");
	return imap_authenticate_plain(s, cred, err);
}

int imap_open(const struct endpoint *ep, const struct credentials *cred,
	      const struct imap_limits *limits, struct imap_session **s_r,
	      struct hearth_err *err)
{
	struct tls_limits tl = {
	    .op_timeout_msecs = limits->op_timeout_msecs,
	    .deadline_msecs = limits->deadline_msecs,
	    .max_read_bytes = IMAP_MAX_READ_BYTES,
	};
	struct imap_session *s;
	mailstream *st;
	ssize_t n;
	int r;

	*s_r = NULL;
	if (!imap_value_ok(cred->username) || cred->secret == NULL ||
	    !imap_value_ok(cred->secret)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "imap %s: user name or secret holds control "
			       "characters or is too long",
			       ep->host);
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	s->host = xstrdup(ep->host);
	s->imap = mailimap_new(0, NULL);
	if (s->imap == NULL)
		abort();
	st = tls_connect(ep, &tl, &s->tls, err);
	if (st == NULL)
		goto fail;
	/* libetpan 1.9.4 leaks the parsed greeting when it is a BYE: look at
	 * the first bytes ourselves and never hand it such a greeting. */
	n = mailstream_feed_read_buffer(st);
	if (n <= 0 ||
	    (n >= 5 && strncasecmp(st->read_buffer, "* BYE", 5) == 0)) {
		hearth_err_set(err, HEARTH_FAIL_RETRY, 0,
			       "imap %s: greeting: %s", ep->host,
			       n <= 0 ? tls_stream_error(st)
				      : "the server refused the connection "
					"(BYE)");
		mailstream_close(st);
		goto fail;
	}
	r = mailimap_connect(s->imap, st);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		if (s->imap->imap_stream == NULL)
			mailstream_close(st);
		imap_fail(s, r, "greeting", err);
		/* No greeting, or BYE: a busy or broken server, for now. */
		if (err != NULL && err->fail == HEARTH_FAIL_PERMANENT)
			err->fail = HEARTH_FAIL_RETRY;
		goto fail;
	}
	if (imap_refresh_capability(s, err) < 0)
		goto fail;
	if (ep->security == ENDPOINT_STARTTLS) {
		if (!imap_has_capability(s, "STARTTLS")) {
			/* Never a downgrade. */
			hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
				       "imap %s: STARTTLS is configured but "
				       "the server does not offer it",
				       ep->host);
			goto fail;
		}
		r = mailimap_starttls(s->imap);
		if (r != MAILIMAP_NO_ERROR) {
			imap_fail(s, r, "STARTTLS", err);
			goto fail;
		}
		if (tls_stream_handshake(s->imap->imap_stream, ep, &s->tls,
					 err) < 0) {
			s->broken = true;
			goto fail;
		}
		/* What the server said before TLS means nothing now. */
		if (imap_refresh_capability(s, err) < 0)
			goto fail;
	}
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    s->imap->imap_state != MAILIMAP_STATE_AUTHENTICATED) {
		if (imap_login(s, cred, err) < 0)
			goto fail;
		if (imap_refresh_capability(s, err) < 0)
			goto fail;
	}
	*s_r = s;
	return 0;
fail:
	s->broken = true;
	imap_close(&s);
	return -1;
}

void imap_close(struct imap_session **sp)
{
	struct imap_session *s = *sp;

	if (s == NULL)
		return;
	if (s->imap != NULL) {
		if (!s->broken && s->imap->imap_stream != NULL) {
			/* A courtesy LOGOUT, never waiting long for it. */
			tls_stream_set_deadline(s->imap->imap_stream,
						net_now_msecs() + 2000);
			mailimap_logout(s->imap);
		}
		if (s->imap->imap_stream != NULL) {
			mailstream_close(s->imap->imap_stream);
			s->imap->imap_stream = NULL;
		}
		mailimap_free(s->imap);
	}
	free(s->selected);
	free(s->host);
	free(s);
	*sp = NULL;
}

const struct tls_info *imap_tls(const struct imap_session *s)
{
	return &s->tls;
}

const char *imap_auth_mech(const struct imap_session *s)
{
	return s->auth_mech;
}

void imap_set_deadline(struct imap_session *s, int64_t deadline_msecs)
{
	if (s->imap->imap_stream != NULL)
		tls_stream_set_deadline(s->imap->imap_stream, deadline_msecs);
}

/* --- folders ------------------------------------------------------------ */

static enum imap_role imap_role_of(const char *flag)
{
	static const struct {
		const char *flag;
		enum imap_role role;
	} roles[] = {
	    {"Junk", IMAP_ROLE_JUNK},
	    {"Spam", IMAP_ROLE_JUNK},
	    {"Sent", IMAP_ROLE_SENT},
	    {"Trash", IMAP_ROLE_TRASH},
	    {"Archive", IMAP_ROLE_ARCHIVE},
	    {"Drafts", IMAP_ROLE_DRAFTS},
	    {"All", IMAP_ROLE_ALL},
	    {"AllMail", IMAP_ROLE_ALL},
	    {"Important", IMAP_ROLE_IMPORTANT},
	};

	if (flag[0] == '\\')
		flag++;
	for (size_t i = 0; i < sizeof(roles) / sizeof(*roles); i++)
		if (strcasecmp(flag, roles[i].flag) == 0)
			return roles[i].role;
	return IMAP_ROLE_NONE;
}

/* Names users meet at Gmail, Microsoft, Yahoo and generic servers. */
static const char *const imap_junk_names[] = {
    "[Gmail]/Spam", "[Google Mail]/Spam",
    "Junk Email",   "Junk E-mail",
    "Junk",	    "Spam",
    "Bulk",	    "Bulk Mail",
    "INBOX/Junk",   "INBOX/Spam",
    "INBOX.Junk",   "INBOX.Spam",
};

static void imap_folders_add_list(struct imap_folders *f, clist *list)
{
	clistiter *cur;

	if (list == NULL)
		return;
	f->v = xreallocarray(f->v, f->n + (size_t)clist_count(list) + 1,
			     sizeof(*f->v));
	for (cur = clist_begin(list); cur != NULL; cur = clist_next(cur)) {
		struct mailimap_mailbox_list *mb = clist_content(cur);
		struct imap_folder *folder = &f->v[f->n];
		clistiter *o;

		if (mb->mb_name == NULL || !imap_value_ok(mb->mb_name))
			continue;
		memset(folder, 0, sizeof(*folder));
		folder->name = xstrdup(mb->mb_name);
		folder->delimiter = mb->mb_delimiter;
		if (mb->mb_flag != NULL) {
			if (mb->mb_flag->mbf_type ==
				MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
			    mb->mb_flag->mbf_sflag ==
				MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
				folder->noselect = true;
			for (o = clist_begin(mb->mb_flag->mbf_oflags);
			     o != NULL; o = clist_next(o)) {
				struct mailimap_mbx_list_oflag *of =
				    clist_content(o);
				enum imap_role role;

				if (of->of_type !=
					MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT ||
				    of->of_flag_ext == NULL)
					continue;
				if (strcasecmp(of->of_flag_ext,
					       "NonExistent") == 0 ||
				    strcasecmp(of->of_flag_ext, "Noselect") ==
					0)
					folder->noselect = true;
				role = imap_role_of(of->of_flag_ext);
				if (role != IMAP_ROLE_NONE)
					folder->role = role;
			}
		}
		f->n++;
	}
}

static const struct imap_folder *imap_folders_role(const struct imap_folders *f,
						   enum imap_role role)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].role == role && !f->v[i].noselect)
			return &f->v[i];
	return NULL;
}

void imap_folders_clear(struct imap_folders *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].name);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int imap_discover(struct imap_session *s, struct imap_folders *f,
		  struct hearth_err *err)
{
	enum imap_discovery how = IMAP_DISCOVERY_NONE;
	clist *list = NULL;
	int r;

	memset(f, 0, sizeof(*f));
	if (imap_usable(s, err) < 0)
		return -1;
	if (imap_has_capability(s, "SPECIAL-USE")) {
		struct mailimap_response *resp = NULL;

		r = imap_raw(s, "LIST \"\" \"*\" RETURN (SPECIAL-USE)", &resp);
		if (r != MAILIMAP_NO_ERROR)
			return imap_fail(s, r, "LIST RETURN (SPECIAL-USE)",
					 err);
		list = s->imap->imap_response_info->rsp_mailbox_list;
		s->imap->imap_response_info->rsp_mailbox_list = NULL;
		if (!imap_response_ok(resp)) {
			mailimap_list_result_free(list);
			list = NULL;
		}
		mailimap_response_free(resp);
		how = IMAP_DISCOVERY_SPECIAL_USE;
	}
	if (list == NULL) {
		r = mailimap_list(s->imap, "", "*", &list);
		if (r != MAILIMAP_NO_ERROR) {
			if (list != NULL)
				mailimap_list_result_free(list);
			return imap_fail(s, r, "LIST", err);
		}
		how = IMAP_DISCOVERY_LIST;
	}
	imap_folders_add_list(f, list);
	mailimap_list_result_free(list);
	f->junk = imap_folders_role(f, IMAP_ROLE_JUNK);
	if (f->junk == NULL && imap_has_capability(s, "XLIST")) {
		struct imap_folders x = {0};

		list = NULL;
		r = mailimap_xlist(s->imap, "", "*", &list);
		if (r != MAILIMAP_NO_ERROR && s->broken) {
			if (list != NULL)
				mailimap_list_result_free(list);
			imap_folders_clear(f);
			return imap_fail(s, r, "XLIST", err);
		}
		imap_folders_add_list(&x, list);
		if (list != NULL)
			mailimap_list_result_free(list);
		/* Take XLIST's roles onto the folders LIST found. */
		for (size_t i = 0; i < x.n; i++)
			for (size_t j = 0; j < f->n; j++)
				if (x.v[i].role != IMAP_ROLE_NONE &&
				    f->v[j].role == IMAP_ROLE_NONE &&
				    strcmp(x.v[i].name, f->v[j].name) == 0)
					f->v[j].role = x.v[i].role;
		imap_folders_clear(&x);
		how = IMAP_DISCOVERY_XLIST;
		f->junk = imap_folders_role(f, IMAP_ROLE_JUNK);
	}
	if (f->junk != NULL) {
		f->junk_found_by = how;
	} else {
		for (size_t n = 0;
		     n < sizeof(imap_junk_names) / sizeof(*imap_junk_names) &&
		     f->junk == NULL;
		     n++)
			for (size_t i = 0; i < f->n; i++)
				if (!f->v[i].noselect &&
				    strcasecmp(f->v[i].name,
					       imap_junk_names[n]) == 0) {
					f->v[i].role = IMAP_ROLE_JUNK;
					f->junk = &f->v[i];
					f->junk_found_by = IMAP_DISCOVERY_NAME;
					break;
				}
	}
	f->sent = imap_folders_role(f, IMAP_ROLE_SENT);
	f->trash = imap_folders_role(f, IMAP_ROLE_TRASH);
	f->archive = imap_folders_role(f, IMAP_ROLE_ARCHIVE);
	return 0;
}

/* --- messages ----------------------------------------------------------- */

static int imap_select(struct imap_session *s, const char *folder,
		       struct hearth_err *err)
{
	int r;

	if (imap_usable_with(s, folder, err) < 0)
		return -1;
	if (s->selected != NULL && strcmp(s->selected, folder) == 0)
		return 0;
	free(s->selected);
	s->selected = NULL;
	r = mailimap_select(s->imap, folder);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "SELECT", err);
	s->selected = xstrdup(folder);
	s->uidvalidity = s->imap->imap_selection_info != NULL
			     ? s->imap->imap_selection_info->sel_uidvalidity
			     : 0;
	return 0;
}

/* UID SEARCH with one key (owned, freed here); the UIDs found. */
static int imap_search(struct imap_session *s, struct mailimap_search_key *key,
		       bool utf8, clist **uids_r, struct hearth_err *err)
{
	clist *uids = NULL;
	int r = mailimap_uid_search(s->imap, utf8 ? "UTF-8" : NULL, key, &uids);

	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		if (uids != NULL)
			mailimap_search_result_free(uids);
		return imap_fail(s, r, "UID SEARCH", err);
	}
	*uids_r = uids;
	return 0;
}

/* One message's wanted header fields and flags, from a FETCH. */
struct imap_msg {
	uint32_t uid;
	bool seen, flagged, not_junk, junk;
	char header[IMAP_HEADER_MAX];
};

static void imap_msg_fill(struct imap_msg *m, struct mailimap_msg_att *att)
{
	clistiter *cur;

	memset(m, 0, sizeof(*m));
	for (cur = clist_begin(att->att_list); cur != NULL;
	     cur = clist_next(cur)) {
		struct mailimap_msg_att_item *item = clist_content(cur);

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC &&
		    item->att_data.att_dyn->att_list != NULL) {
			clistiter *f;

			for (f = clist_begin(item->att_data.att_dyn->att_list);
			     f != NULL; f = clist_next(f)) {
				struct mailimap_flag_fetch *ff =
				    clist_content(f);

				if (ff->fl_flag == NULL)
					continue;
				if (ff->fl_flag->fl_type == MAILIMAP_FLAG_SEEN)
					m->seen = true;
				if (ff->fl_flag->fl_type ==
				    MAILIMAP_FLAG_FLAGGED)
					m->flagged = true;
				/* Keywords are case-blind (RFC 3501). */
				if (ff->fl_flag->fl_type ==
					MAILIMAP_FLAG_KEYWORD &&
				    ff->fl_flag->fl_data.fl_keyword != NULL) {
					const char *k =
					    ff->fl_flag->fl_data.fl_keyword;

					if (strcasecmp(
						k, IMAP_KEYWORD_NOT_JUNK) == 0)
						m->not_junk = true;
					else if (strcasecmp(
						     k, IMAP_KEYWORD_JUNK) == 0)
						m->junk = true;
				}
			}
		} else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC) {
			struct mailimap_msg_att_static *st =
			    item->att_data.att_static;

			if (st->att_type == MAILIMAP_MSG_ATT_UID) {
				m->uid = st->att_data.att_uid;
			} else if (st->att_type ==
				       MAILIMAP_MSG_ATT_BODY_SECTION &&
				   st->att_data.att_body_section
					   ->sec_body_part != NULL) {
				size_t len =
				    st->att_data.att_body_section->sec_length;

				if (len >= sizeof(m->header))
					len = sizeof(m->header) - 1;
				memcpy(m->header,
				       st->att_data.att_body_section
					   ->sec_body_part,
				       len);
				m->header[len] = '\0';
			}
		}
	}
}

/*
 * FETCH (UID FLAGS BODY.PEEK[HEADER.FIELDS (fields...)]) for the UIDs in
 * set (owned, freed here). Calls back per message; returns 0 or -1.
 */
static int imap_fetch(struct imap_session *s, struct mailimap_set *set,
		      const char *const *fields, size_t n_fields,
		      void (*cb)(const struct imap_msg *, void *), void *ctx,
		      struct hearth_err *err)
{
	struct mailimap_fetch_type *ft =
	    mailimap_fetch_type_new_fetch_att_list_empty();
	clist *result = NULL;
	clistiter *cur;
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_flags());
	if (n_fields > 0) {
		clist *names = clist_new();

		for (size_t i = 0; i < n_fields; i++)
			clist_append(names, xstrdup(fields[i]));
		mailimap_fetch_type_new_fetch_att_list_add(
		    ft, mailimap_fetch_att_new_body_peek_section(
			    mailimap_section_new_header_fields(
				mailimap_header_list_new(names))));
	}
	r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "UID FETCH", err);
	for (cur = clist_begin(result); cur != NULL; cur = clist_next(cur)) {
		struct imap_msg *m = xmalloc(sizeof(*m));

		imap_msg_fill(m, clist_content(cur));
		if (m->uid != 0)
			cb(m, ctx);
		free(m);
	}
	mailimap_fetch_list_free(result);
	return 0;
}

/*
 * The unfolded value of header `name` in a fetched header block, trimmed,
 * into buf; false when absent.
 */
static bool imap_header_value(const char *header, const char *name, char *buf,
			      size_t size)
{
	size_t nlen = strlen(name);
	const char *p = header;

	while (*p != '\0') {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			size_t o = 0;

			p += nlen + 1;
			for (;;) {
				while (*p == ' ' || *p == '\t')
					p++;
				while (*p != '\0' && *p != '\r' && *p != '\n') {
					if (o + 1 < size)
						buf[o++] = *p;
					p++;
				}
				while (*p == '\r' || *p == '\n')
					p++;
				if (*p != ' ' && *p != '\t')
					break; /* not a continuation */
				if (o + 1 < size)
					buf[o++] = ' ';
			}
			while (o > 0 && buf[o - 1] == ' ')
				o--;
			buf[o] = '\0';
			return true;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return false;
}

struct imap_confirm {
	const char *field;
	const char *want; /* exact value wanted (Message-ID: without <>) */
	bool strip_angles;
	const struct imap_query *q; /* heuristic: From, Date */
	struct imap_msg best;
	bool found;
};

static void imap_strip_angles(char *v)
{
	size_t len = strlen(v);

	if (len >= 2 && v[0] == '<' && v[len - 1] == '>') {
		memmove(v, v + 1, len - 2);
		v[len - 2] = '\0';
	}
}

static void imap_confirm_cb(const struct imap_msg *m, void *ctx)
{
	struct imap_confirm *c = ctx;
	char value[1024];

	if (c->q != NULL) {
		/* Heuristic: the sender's address in From, Date within the
		 * window; SEARCH already matched the subject. */
		struct tm tm;
		time_t t;
		char *end;

		if (!imap_header_value(m->header, "From", value,
				       sizeof(value)) ||
		    strcasestr(value, c->q->from_addr) == NULL)
			return;
		if (c->q->sent_at != 0 &&
		    imap_header_value(m->header, "Date", value,
				      sizeof(value))) {
			memset(&tm, 0, sizeof(tm));
			end = strptime(value, "%a, %d %b %Y %H:%M:%S %z", &tm);
			if (end == NULL)
				end = strptime(value, "%d %b %Y %H:%M:%S %z",
					       &tm);
			if (end != NULL) {
				t = timegm(&tm) - tm.tm_gmtoff;
				if (t < c->q->sent_at - c->q->window_secs ||
				    t > c->q->sent_at + c->q->window_secs)
					return;
			}
		}
	} else {
		if (!imap_header_value(m->header, c->field, value,
				       sizeof(value)))
			return;
		if (c->strip_angles)
			imap_strip_angles(value);
		if (strcmp(value, c->want) != 0)
			return;
	}
	/* Several: the newest (highest UID) wins. */
	if (!c->found || m->uid > c->best.uid) {
		c->best = *m;
		c->found = true;
	}
}

static struct mailimap_set *imap_set_of(clist *uids)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	clistiter *cur;
	int n = 0;

	/* Bounded: a search that matches thousands is not a token hit. */
	for (cur = clist_begin(uids); cur != NULL && n < 200;
	     cur = clist_next(cur), n++)
		mailimap_set_add_single(set, *(uint32_t *)clist_content(cur));
	return set;
}

/* Search by key, then confirm candidates; 1 found, 0 not, -1 error. */
static int imap_find(struct imap_session *s, struct mailimap_search_key *key,
		     bool utf8, struct imap_confirm *c,
		     const char *const *fields, size_t n_fields,
		     struct hearth_err *err)
{
	clist *uids = NULL;

	if (imap_search(s, key, utf8, &uids, err) < 0)
		return -1;
	if (clist_count(uids) == 0) {
		mailimap_search_result_free(uids);
		return 0;
	}
	if (imap_fetch(s, imap_set_of(uids), fields, n_fields, imap_confirm_cb,
		       c, err) < 0) {
		mailimap_search_result_free(uids);
		return -1;
	}
	mailimap_search_result_free(uids);
	return c->found ? 1 : 0;
}

int imap_locate(struct imap_session *s, const char *folder,
		const struct imap_query *q, struct imap_found *found_r,
		struct hearth_err *err)
{
	struct imap_confirm c;
	int ret;

	memset(found_r, 0, sizeof(*found_r));
	if (imap_select(s, folder, err) < 0)
		return -1;
	if (q->token_header != NULL && q->token != NULL) {
		const char *fields[] = {q->token_header};

		if (!imap_value_ok(q->token_header) || !imap_value_ok(q->token))
			goto bad;
		memset(&c, 0, sizeof(c));
		c.field = q->token_header;
		c.want = q->token;
		ret =
		    imap_find(s,
			      mailimap_search_key_new_header(
				  xstrdup(q->token_header), xstrdup(q->token)),
			      false, &c, fields, 1, err);
		if (ret != 0) {
			found_r->method = IMAP_LOCATE_TOKEN;
			goto done;
		}
	}
	if (q->message_id != NULL) {
		const char *fields[] = {"Message-ID"};
		char id[IMAP_VALUE_MAX];

		if (!imap_value_ok(q->message_id))
			goto bad;
		snprintf(id, sizeof(id), "%s", q->message_id);
		imap_strip_angles(id);
		memset(&c, 0, sizeof(c));
		c.field = "Message-ID";
		c.want = id;
		c.strip_angles = true;
		ret = imap_find(s,
				mailimap_search_key_new_header(
				    xstrdup("Message-ID"), xstrdup(id)),
				false, &c, fields, 1, err);
		if (ret != 0) {
			found_r->method = IMAP_LOCATE_MESSAGE_ID;
			goto done;
		}
	}
	if (q->from_addr != NULL && q->subject != NULL) {
		const char *fields[] = {"From", "Date"};
		struct mailimap_search_key *key =
		    mailimap_search_key_new_multiple_empty();

		if (!imap_value_ok(q->from_addr) || !imap_value_ok(q->subject))
			goto bad;
		mailimap_search_key_multiple_add(
		    key, mailimap_search_key_new_from(xstrdup(q->from_addr)));
		mailimap_search_key_multiple_add(
		    key, mailimap_search_key_new_subject(xstrdup(q->subject)));
		if (q->sent_at != 0) {
			/* SENTSINCE has a day's grain: a day earlier, then
			 * the exact window from the Date header. */
			time_t since = q->sent_at - q->window_secs - 86400;
			struct tm tm;

			gmtime_r(&since, &tm);
			mailimap_search_key_multiple_add(
			    key,
			    mailimap_search_key_new_sentsince(mailimap_date_new(
				tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900)));
		}
		memset(&c, 0, sizeof(c));
		c.q = q;
		ret = imap_find(s, key, !imap_ascii(q->subject), &c, fields, 2,
				err);
		if (ret != 0) {
			found_r->method = IMAP_LOCATE_HEURISTIC;
			goto done;
		}
	}
	return 0;
done:
	if (ret < 0) {
		found_r->method = IMAP_LOCATE_NONE;
		return -1;
	}
	found_r->uid = c.best.uid;
	found_r->uidvalidity = s->uidvalidity;
	found_r->seen = c.best.seen;
	found_r->flagged = c.best.flagged;
	found_r->not_junk = c.best.not_junk;
	found_r->junk = c.best.junk;
	return 1;
bad:
	hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
		       "imap %s: refusing a search value with control "
		       "characters",
		       s->host);
	return -1;
}

/* STORE +FLAGS.SILENT (flags...) on one UID of the selected folder. */
static int imap_store_flags(struct imap_session *s, uint32_t uid, bool seen,
			    bool flagged, bool deleted, struct hearth_err *err)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *att;
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r;

	if (seen)
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (flagged)
		mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	if (deleted)
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	att = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(s->imap, set, att);
	mailimap_store_att_flags_free(att);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "UID STORE", err);
	return 0;
}

static uint32_t imap_first_uid(struct mailimap_set *set)
{
	struct mailimap_set_item *item;

	if (set == NULL || clist_count(set->set_list) == 0)
		return 0;
	item = clist_content(clist_begin(set->set_list));
	return item->set_first;
}

static int imap_expunge_uid(struct imap_session *s, uint32_t uid,
			    struct hearth_err *err)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int r = mailimap_uid_expunge(s->imap, set);

	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "UID EXPUNGE", err);
	return 0;
}

int imap_move(struct imap_session *s, const char *folder, uint32_t uid,
	      const char *dest, uint32_t *new_uid_r, struct hearth_err *err)
{
	bool uidplus = imap_has_capability(s, "UIDPLUS");
	struct mailimap_set *set, *src = NULL, *dst = NULL;
	uint32_t uidvalidity = 0;
	int r;

	*new_uid_r = 0;
	if (imap_select(s, folder, err) < 0)
		return -1;
	if (imap_usable_with(s, dest, err) < 0)
		return -1;
	set = mailimap_set_new_single(uid);
	if (imap_has_capability(s, "MOVE")) {
		r = uidplus ? mailimap_uidplus_uid_move(
				  s->imap, set, dest, &uidvalidity, &src, &dst)
			    : mailimap_uid_move(s->imap, set, dest);
	} else {
		r = uidplus ? mailimap_uidplus_uid_copy(
				  s->imap, set, dest, &uidvalidity, &src, &dst)
			    : mailimap_uid_copy(s->imap, set, dest);
	}
	mailimap_set_free(set);
	*new_uid_r = imap_first_uid(dst);
	if (src != NULL)
		mailimap_set_free(src);
	if (dst != NULL)
		mailimap_set_free(dst);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "MOVE", err);
	if (imap_has_capability(s, "MOVE"))
		return 0;
	/* Copied: remove the original, and only it. Without UIDPLUS there
	 * is no UID EXPUNGE, and a plain EXPUNGE would take every message
	 * marked \Deleted: leave it marked for the client's own expunge. */
	if (imap_store_flags(s, uid, false, false, true, err) < 0)
		return -1;
	if (uidplus)
		return imap_expunge_uid(s, uid, err);
	return 0;
}

int imap_mark(struct imap_session *s, const char *folder, uint32_t uid,
	      bool seen, bool flagged, bool important, struct hearth_err *err)
{
	if (imap_select(s, folder, err) < 0)
		return -1;
	if ((seen || flagged) &&
	    imap_store_flags(s, uid, seen, flagged, false, err) < 0)
		return -1;
	if (important && imap_has_capability(s, "X-GM-EXT-1")) {
		struct mailimap_msg_att_xgmlabels *labels =
		    mailimap_msg_att_xgmlabels_new_empty();
		struct mailimap_set *set = mailimap_set_new_single(uid);
		int r;

		mailimap_msg_att_xgmlabels_add(labels, xstrdup("\\Important"));
		r = mailimap_uid_store_xgmlabels(s->imap, set, 1, 1, labels);
		mailimap_msg_att_xgmlabels_free(labels);
		mailimap_set_free(set);
		if (r != MAILIMAP_NO_ERROR)
			return imap_fail(s, r, "STORE X-GM-LABELS", err);
	}
	return 0;
}

/* An IMAP atom (RFC 3501 flag-keyword), short and 7-bit. */
static bool imap_keyword_ok(const char *keyword)
{
	size_t len = 0;

	if (keyword == NULL || keyword[0] == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)keyword; *p != 0;
	     p++, len++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) ||
		    len >= 64)
			return false;
	return true;
}

static bool imap_flag_is_keyword(const struct mailimap_flag *f,
				 const char *keyword)
{
	return f != NULL && f->fl_type == MAILIMAP_FLAG_KEYWORD &&
	       f->fl_data.fl_keyword != NULL &&
	       strcasecmp(f->fl_data.fl_keyword, keyword) == 0;
}

int imap_keyword_allowed(struct imap_session *s, const char *folder,
			 const char *keyword, struct hearth_err *err)
{
	struct mailimap_selection_info *si;
	clistiter *cur;

	if (imap_select(s, folder, err) < 0)
		return -1;
	/* What the SELECT of this folder said (libetpan keeps it until the
	 * next SELECT). */
	si = s->imap->imap_selection_info;
	if (si == NULL)
		return 0;
	if (si->sel_perm_flags == NULL) {
		/* No PERMANENTFLAGS: every flag FLAGS names is permanent. */
		if (si->sel_flags == NULL)
			return 0;
		for (cur = clist_begin(si->sel_flags->fl_list); cur != NULL;
		     cur = clist_next(cur))
			if (imap_flag_is_keyword(clist_content(cur), keyword))
				return 1;
		return 0;
	}
	for (cur = clist_begin(si->sel_perm_flags); cur != NULL;
	     cur = clist_next(cur)) {
		struct mailimap_flag_perm *fp = clist_content(cur);

		if (fp->fl_type == MAILIMAP_FLAG_PERM_ALL)
			return 1;
		if (fp->fl_type == MAILIMAP_FLAG_PERM_FLAG &&
		    imap_flag_is_keyword(fp->fl_flag, keyword))
			return 1;
	}
	return 0;
}

int imap_keyword(struct imap_session *s, const char *folder, uint32_t uid,
		 const char *keyword, bool set, struct hearth_err *err)
{
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *att;
	struct mailimap_set *uids;
	int r;

	if (imap_select(s, folder, err) < 0)
		return -1;
	if (!imap_keyword_ok(keyword)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "imap %s: refusing a keyword that is not an "
			       "atom",
			       s->host);
		return -1;
	}
	fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(
	    fl, mailimap_flag_new_flag_keyword(xstrdup(keyword)));
	att = set ? mailimap_store_att_flags_new_add_flags_silent(fl)
		  : mailimap_store_att_flags_new_remove_flags_silent(fl);
	uids = mailimap_set_new_single(uid);
	r = mailimap_uid_store(s->imap, uids, att);
	mailimap_store_att_flags_free(att);
	mailimap_set_free(uids);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "UID STORE", err);
	return 0;
}

struct imap_flags_ctx {
	uint32_t uid;
	bool found, seen, flagged;
};

static void imap_flags_cb(const struct imap_msg *m, void *ctx)
{
	struct imap_flags_ctx *c = ctx;

	if (m->uid != c->uid)
		return;
	c->found = true;
	c->seen = m->seen;
	c->flagged = m->flagged;
}

int imap_flags(struct imap_session *s, const char *folder, uint32_t uid,
	       bool *seen_r, bool *flagged_r, struct hearth_err *err)
{
	struct imap_flags_ctx c = {.uid = uid};

	if (imap_select(s, folder, err) < 0)
		return -1;
	if (imap_fetch(s, mailimap_set_new_single(uid), NULL, 0, imap_flags_cb,
		       &c, err) < 0)
		return -1;
	*seen_r = c.seen;
	*flagged_r = c.flagged;
	return c.found ? 1 : 0;
}

int imap_append(struct imap_session *s, const char *folder, const char *data,
		size_t len, uint32_t *uid_r, struct hearth_err *err)
{
	struct mailimap_flag_list *fl;
	uint32_t uidvalidity = 0;
	int r;

	*uid_r = 0;
	if (imap_usable_with(s, folder, err) < 0)
		return -1;
	fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (imap_has_capability(s, "UIDPLUS"))
		r = mailimap_uidplus_append(s->imap, folder, fl, NULL, data,
					    len, &uidvalidity, uid_r);
	else
		r = mailimap_append(s->imap, folder, fl, NULL, data, len);
	mailimap_flag_list_free(fl);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "APPEND", err);
	return 0;
}

int imap_delete(struct imap_session *s, const char *folder, uint32_t uid,
		struct hearth_err *err)
{
	if (imap_select(s, folder, err) < 0)
		return -1;
	if (imap_store_flags(s, uid, false, false, true, err) < 0)
		return -1;
	if (imap_has_capability(s, "UIDPLUS"))
		return imap_expunge_uid(s, uid, err);
	return 0;
}

static int imap_uid_cmp_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int imap_notice_candidates(struct imap_session *s, const char *folder,
			   time_t since, const char *without_header,
			   uint32_t *uids, size_t max, size_t *n_r,
			   struct hearth_err *err)
{
	struct mailimap_search_key *key;
	clist *found = NULL;
	clistiter *cur;
	uint32_t *all;
	size_t n = 0, total;
	struct tm tm;

	*n_r = 0;
	if (without_header != NULL && !imap_value_ok(without_header)) {
		hearth_err_set(err, HEARTH_FAIL_PERMANENT, 0,
			       "imap %s: refusing a header name with control "
			       "characters",
			       s->host);
		return -1;
	}
	if (imap_select(s, folder, err) < 0)
		return -1;
	key = mailimap_search_key_new_multiple_empty();
	gmtime_r(&since, &tm);
	mailimap_search_key_multiple_add(
	    key, mailimap_search_key_new_since(mailimap_date_new(
		     tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900)));
	mailimap_search_key_multiple_add(
	    key, mailimap_search_key_new(
		     MAILIMAP_SEARCH_KEY_UNSEEN, NULL, NULL, NULL, NULL, NULL,
		     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0,
		     NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL));
	if (without_header != NULL)
		/* HEADER name "" matches every message with the field */
		mailimap_search_key_multiple_add(
		    key, mailimap_search_key_new_not(
			     mailimap_search_key_new_header(
				 xstrdup(without_header), xstrdup(""))));
	if (imap_search(s, key, false, &found, err) < 0)
		return -1;
	total = (size_t)clist_count(found);
	all = xcalloc(total + 1, sizeof(*all));
	for (cur = clist_begin(found); cur != NULL; cur = clist_next(cur))
		all[n++] = *(uint32_t *)clist_content(cur);
	mailimap_search_result_free(found);
	qsort(all, n, sizeof(*all), imap_uid_cmp_desc);
	*n_r = n < max ? n : max;
	memcpy(uids, all, *n_r * sizeof(*uids));
	free(all);
	return 0;
}

int imap_fetch_raw(struct imap_session *s, const char *folder, uint32_t uid,
		   size_t max, char **data_r, size_t *len_r,
		   struct hearth_err *err)
{
	struct mailimap_fetch_type *ft =
	    mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set;
	clist *result = NULL;
	clistiter *cur;
	int r, ret = 0;

	*data_r = NULL;
	*len_r = 0;
	if (max > (16u << 20))
		max = 16u << 20;
	if (imap_select(s, folder, err) < 0) {
		mailimap_fetch_type_free(ft);
		return -1;
	}
	set = mailimap_set_new_single(uid);
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
	    ft, mailimap_fetch_att_new_body_peek_section_partial(
		    mailimap_section_new(NULL), 0, (uint32_t)max));
	r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "UID FETCH", err);
	for (cur = clist_begin(result); cur != NULL && ret == 0;
	     cur = clist_next(cur)) {
		struct mailimap_msg_att *att = clist_content(cur);
		uint32_t got_uid = 0;
		const char *body = NULL;
		size_t len = 0;

		for (clistiter *i = clist_begin(att->att_list); i != NULL;
		     i = clist_next(i)) {
			struct mailimap_msg_att_item *item = clist_content(i);
			struct mailimap_msg_att_static *st;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				got_uid = st->att_data.att_uid;
			else if (st->att_type ==
					 MAILIMAP_MSG_ATT_BODY_SECTION &&
				 st->att_data.att_body_section
					 ->sec_body_part != NULL) {
				body = st->att_data.att_body_section
					   ->sec_body_part;
				len = st->att_data.att_body_section
					  ->sec_length;
			}
		}
		if (got_uid != uid || body == NULL)
			continue;
		if (len > max)
			len = max;
		*data_r = xmalloc(len + 1);
		memcpy(*data_r, body, len);
		(*data_r)[len] = '\0';
		*len_r = len;
		ret = 1;
	}
	mailimap_fetch_list_free(result);
	return ret;
}

int imap_noop(struct imap_session *s, struct hearth_err *err)
{
	int r;

	if (imap_usable(s, err) < 0)
		return -1;
	r = mailimap_noop(s->imap);
	if (r != MAILIMAP_NO_ERROR)
		return imap_fail(s, r, "NOOP", err);
	return 0;
}
