#ifndef MERIDIAN_CLIBFUZZER_H
#define MERIDIAN_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program that has its own main (`meridian-fuzz` picks its target
/// from its first argument). Linked only with `-sanitize=fuzzer`: see Fuzz/Sources/meridian-fuzz.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
