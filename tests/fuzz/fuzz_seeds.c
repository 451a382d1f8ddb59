// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the corpus parser: any bytes as one seeds file. What
 * parses is then rendered, first message and replies, so the writer walks
 * every shape of corpus the parser accepts.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "hearth/content.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct content_corpus *corpus = NULL;
	struct hearth_err err = {0};
	struct content_party from = {"Anna <Berg> & Co", "anna@acme.example",
				     NULL};
	struct content_thread thread = {
	    .subject = "Re: RE: Quick question",
	    .text = "Hi,\n\n> quoted\n>> twice\n\nThanks\nAnna\n",
	    .topic = NULL,
	    .from = &from,
	    .date = 1700000000,
	};
	char topic[64] = "";
	struct content_request req = {
	    .sender = {"Bo Lind", "bo@lind.example.co.uk", NULL},
	    .recipient = from,
	    .date = 1700003600,
	};

	if (content_corpus_parse("fuzz.txt", (const char *)data, size, &corpus,
				 &err) < 0) {
		/* every refusal says where */
		if (strncmp(err.msg, "fuzz.txt:", 9) != 0)
			__builtin_trap();
		return 0;
	}
	req.lang = NULL;
	for (unsigned turn = 0; turn < 3; turn++) {
		struct content_message *msg = NULL;

		req.turn = turn;
		req.thread = turn == 0 ? NULL : &thread;
		req.seed = size * 31 + turn;
		/* the corpus may hold another language than "en" */
		if (!content_corpus_has_lang(corpus, "en"))
			break;
		if (content_render(corpus, &req, &msg, &err) < 0)
			__builtin_trap();
		if (strstr(msg->html, "<Berg>") != NULL)
			__builtin_trap();
		/* the first reply answers on the topic of the first message */
		if (turn == 0) {
			snprintf(topic, sizeof(topic), "%s", msg->topic);
			thread.topic = topic;
		}
		content_message_free(&msg);
	}
	content_corpus_free(&corpus);
	return 0;
}
