/* SPDX-License-Identifier: MIT */
/*
 * The libFuzzer entry point every fuzz target defines. Built with
 * -DHEARTH_FUZZ=ON (clang) libFuzzer drives it; in normal builds
 * standalone.c does, over the saved inputs in corpus/, as a regression test.
 */
#ifndef HEARTH_FUZZ_H
#define HEARTH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
