// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the wire format: the bytes are a stream from a worker or
 * the scheduler. Parsed whole as one message, then fed to the incremental
 * reader in chunks whose sizes come from the input itself. Every message
 * that parses is looked at through each getter and described, and must
 * encode back to the very bytes it came from.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hearth/wire.h"

static void look(const struct wire_msg *msg, const uint8_t *data, size_t size)
{
	const void *encoded;
	size_t len;
	char desc[256];

	wire_msg_describe(msg, desc, sizeof(desc));
	encoded = wire_msg_data(msg, &len);
	if (data != NULL && (len != size || memcmp(encoded, data, len) != 0))
		abort();
	for (uint16_t tag = 0; tag < 8; tag++) {
		uint64_t u;
		int64_t i;
		const char *s;
		const void *b;

		wire_get_u64(msg, tag, &u);
		wire_get_i64(msg, tag, &i);
		if (wire_get_str(msg, tag, &s) == 1 && strlen(s) > len)
			abort();
		wire_get_bytes(msg, tag, &b, &len);
		wire_get_secret(msg, tag, &s, &len);
		encoded = wire_msg_data(msg, &len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hearth_err err;
	struct wire_msg *msg = NULL;
	struct wire_reader *reader;
	size_t off = 0;

	if (wire_msg_parse(data, size, &msg, &err) == 0) {
		look(msg, data, size);
		wire_msg_free(&msg);
	}
	reader = wire_reader_new();
	while (off < size) {
		size_t chunk = 1 + data[off] % 64;
		int ret;

		if (chunk > size - off)
			chunk = size - off;
		if (wire_reader_feed(reader, data + off, chunk, &err) < 0)
			break;
		off += chunk;
		while ((ret = wire_reader_next(reader, &msg, &err)) == 1) {
			look(msg, NULL, 0);
			wire_msg_free(&msg);
		}
		if (ret < 0)
			break;
	}
	wire_reader_free(&reader);
	return 0;
}
