#pragma once

#include <cstdio>
#include <cstdlib>

// A property of the code under test that must hold for every input. A violation aborts,
// which libFuzzer reports as a crash and saves the input that caused it.
#define FUZZ_EXPECT(condition)                                                                       \
    do {                                                                                             \
        if (!(condition)) {                                                                          \
            std::fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                            \
        }                                                                                            \
    } while (0)
