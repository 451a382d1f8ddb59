// SPDX-License-Identifier: MIT
#include <string.h>

#include "hearth/rng.h"
#include "test.h"

static void test_reference(void)
{
	/* The reference vector of xoshiro256** for the state {1, 2, 3, 4}. */
	static const uint64_t want_state[] = {
	    11520ULL,
	    0ULL,
	    1509978240ULL,
	    1215971899390074240ULL,
	};
	/* Computed by an independent implementation of the same algorithm. */
	static const uint64_t want_seed0[] = {
	    0x99ec5f36cb75f2b4ULL,
	    0xbf6e1f784956452aULL,
	    0x1a5f849d4933e6e0ULL,
	    0x6aa594f1262d2d2cULL,
	};
	static const uint64_t want_seed42[] = {
	    0x15780b2e0c2ec716ULL,
	    0x6104d9866d113a7eULL,
	    0xae17533239e499a1ULL,
	    0xecb8ad4703b360a1ULL,
	};
	struct rng rng = {.s = {1, 2, 3, 4}};

	test_begin("rng reference sequences");
	for (int i = 0; i < 4; i++)
		test_assert(rng_next_u64(&rng) == want_state[i]);
	rng_seed(&rng, 0);
	for (int i = 0; i < 4; i++)
		test_assert(rng_next_u64(&rng) == want_seed0[i]);
	rng_seed(&rng, 42);
	for (int i = 0; i < 4; i++)
		test_assert(rng_next_u64(&rng) == want_seed42[i]);
	test_end();
}

static void test_determinism(void)
{
	struct rng a, b;
	int same = 0;

	test_begin("rng same seed same stream, other seed other stream");
	rng_seed(&a, 12345);
	rng_seed(&b, 12345);
	for (int i = 0; i < 1000; i++)
		test_assert(rng_next_u64(&a) == rng_next_u64(&b));
	rng_seed(&a, 12345);
	rng_seed(&b, 12346);
	for (int i = 0; i < 1000; i++)
		same += rng_next_u64(&a) == rng_next_u64(&b);
	test_assert(same == 0);
	test_end();
}

static void test_uniform(void)
{
	enum { BUCKETS = 10, DRAWS = 100000 };
	unsigned count[BUCKETS] = {0};
	double chi2 = 0;
	struct rng rng;
	uint64_t big = 0xaaaaaaaaaaaaaaaaULL;
	int low = 0;

	test_begin("rng_uniform range and balance");
	rng_seed(&rng, 7);
	test_assert(rng_uniform(&rng, 0) == 0);
	for (int i = 0; i < 100; i++)
		test_assert(rng_uniform(&rng, 1) == 0);
	for (int i = 0; i < DRAWS; i++) {
		uint64_t x = rng_uniform(&rng, BUCKETS);

		test_assert(x < BUCKETS);
		if (x < BUCKETS)
			count[x]++;
	}
	for (int i = 0; i < BUCKETS; i++) {
		double d = (double)count[i] - DRAWS / BUCKETS;

		chi2 += d * d / (DRAWS / BUCKETS);
	}
	/* 9 degrees of freedom: 27.9 is the 0.001 critical value. */
	test_assert(chi2 < 27.9);
	/*
	 * With n about 2/3 of 2^64 a plain modulo would return the lower half
	 * of the range two times in three; without bias it is one in two.
	 */
	for (int i = 0; i < 10000; i++) {
		uint64_t x = rng_uniform(&rng, big);

		test_assert(x < big);
		low += x < big / 2;
	}
	test_assert(low > 4700 && low < 5300);
	test_end();
}

static void test_chance(void)
{
	struct rng rng;
	int hits = 0;

	test_begin("rng_chance");
	rng_seed(&rng, 99);
	for (int i = 0; i < 1000; i++) {
		test_assert(!rng_chance(&rng, 0));
		test_assert(rng_chance(&rng, 100));
		test_assert(rng_chance(&rng, 250));
	}
	for (int i = 0; i < 20000; i++)
		hits += rng_chance(&rng, 30);
	test_assert(hits > 5600 && hits < 6400);
	test_end();
}

static void test_derive(void)
{
	uint64_t seen[64];
	size_t n = 0;
	uint64_t d = RNG_DERIVE(1, 2, 3);
	uint64_t one[] = {2, 3};
	int bits = 0;

	test_begin("rng_derive depends on seed, ids, order and count");
	test_assert(rng_derive(1, NULL, 0) == 0x9e0160293a33aaf7ULL);
	test_assert(d == 0xa19c03099e61d7b2ULL);
	test_assert(d == rng_derive(1, one, 2));
	seen[n++] = rng_derive(1, NULL, 0);
	seen[n++] = rng_derive(2, NULL, 0);
	seen[n++] = RNG_DERIVE(1, 0);
	seen[n++] = RNG_DERIVE(1, 0, 0);
	seen[n++] = RNG_DERIVE(1, 2, 3);
	seen[n++] = RNG_DERIVE(1, 3, 2);
	seen[n++] = RNG_DERIVE(1, 2, 3, 0);
	seen[n++] = RNG_DERIVE(0, 1, 2, 3);
	seen[n++] = RNG_DERIVE(1, 2);
	seen[n++] = RNG_DERIVE(1, 3);
	seen[n++] = RNG_DERIVE(2, 2, 3);
	for (uint64_t a = 0; a < 4; a++)
		for (uint64_t b = 0; b < 4; b++)
			seen[n++] = RNG_DERIVE(77, a, b);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			test_assert(seen[i] != seen[j]);
	/* Flipping one id bit flips about half the output bits. */
	for (int i = 0; i < 64; i++)
		bits += __builtin_popcountll(RNG_DERIVE(5, 1ULL << i) ^
					     RNG_DERIVE(5, 0));
	test_assert(bits > 64 * 24 && bits < 64 * 40);
	test_end();
}

int main(void)
{
	test_reference();
	test_determinism();
	test_uniform();
	test_chance();
	test_derive();
	return test_exit();
}
