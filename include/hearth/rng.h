/* SPDX-License-Identifier: MIT */
/*
 * rng: the seeded generator everything random in hearth draws from, so a run
 * is reproducible from its seeds. xoshiro256** seeded through splitmix64.
 * Not cryptographic: never use it for tokens, keys or anything secret.
 *
 * The state is a plain struct the caller owns (usually on the stack); no
 * function here allocates or fails. Sequences are part of the contract: the
 * same seed gives the same numbers on every platform and in every release,
 * because stored plans and rendered messages are reproduced from them.
 */
#ifndef HEARTH_RNG_H
#define HEARTH_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* Start a stream from a 64-bit seed (any value, 0 included). */
void rng_seed(struct rng *rng, uint64_t seed);
/* The next 64 uniformly distributed bits. */
uint64_t rng_next_u64(struct rng *rng);
/*
 * A uniform integer in [0, n), without modulo bias (rejection sampling).
 * n == 0 returns 0 and draws nothing.
 */
uint64_t rng_uniform(struct rng *rng, uint64_t n);
/* True with probability percent / 100 (0 never, 100 and more always). */
bool rng_chance(struct rng *rng, unsigned percent);

/*
 * A sub-seed for one purpose, derived from a parent seed and a list of ids
 * (an exchange id, a day index, a purpose tag...). The result depends on the
 * seed, on every id, on their order and on their count, so that
 * (seed, {a, b}) and (seed, {b, a}) and (seed, {a, b, 0}) give unrelated
 * streams. ids may be NULL when n is 0.
 */
uint64_t rng_derive(uint64_t seed, const uint64_t *ids, size_t n);

/* rng_derive(seed, {id, ...}) with the count taken from the list. */
#define RNG_DERIVE(seed, ...)                                                  \
	rng_derive((seed), (const uint64_t[]){__VA_ARGS__},                    \
		   sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))

#endif
