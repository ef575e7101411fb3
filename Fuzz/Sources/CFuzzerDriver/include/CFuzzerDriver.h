// libFuzzer's driver, for a binary with its own main (Sources/CairnFuzz/CairnFuzz.swift):
// it parses libFuzzer's flags from argv and runs `callback` on each input.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
