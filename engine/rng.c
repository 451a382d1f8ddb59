// SPDX-License-Identifier: MIT
#include "hearth/rng.h"

#define RNG_GOLDEN 0x9e3779b97f4a7c15ULL

/* splitmix64's output function: a bijection that scatters every input bit. */
static uint64_t rng_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void rng_seed(struct rng *rng, uint64_t seed)
{
	/*
	 * splitmix64 fills the state, as the xoshiro authors recommend: it
	 * never yields an all-zero state and decorrelates nearby seeds.
	 */
	for (int i = 0; i < 4; i++) {
		seed += RNG_GOLDEN;
		rng->s[i] = rng_mix(seed);
	}
}

uint64_t rng_next_u64(struct rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

uint64_t rng_uniform(struct rng *rng, uint64_t n)
{
	uint64_t threshold, x;

	if (n == 0)
		return 0;
	/*
	 * 2^64 mod n values at the bottom would make some results more likely
	 * than others: draw again when one comes up (at most half the draws,
	 * and almost never for small n).
	 */
	threshold = -n % n;
	do {
		x = rng_next_u64(rng);
	} while (x < threshold);
	return x % n;
}

bool rng_chance(struct rng *rng, unsigned percent)
{
	if (percent == 0)
		return false;
	if (percent >= 100)
		return true;
	return rng_uniform(rng, 100) < percent;
}

uint64_t rng_derive(uint64_t seed, const uint64_t *ids, size_t n)
{
	/* The count goes in first so that a trailing zero id still counts. */
	uint64_t h = rng_mix(seed ^ rng_mix((uint64_t)n + RNG_GOLDEN));

	for (size_t i = 0; i < n; i++)
		h = rng_mix(h ^
			    rng_mix(ids[i] + RNG_GOLDEN * (uint64_t)(i + 1)));
	return h;
}
