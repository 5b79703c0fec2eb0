// Declarations only (include/CLibFuzzer.h); the definitions are libFuzzer's, linked by
// `-sanitize=fuzzer`. SwiftPM builds a C target only if it has a source file.
#include "CLibFuzzer.h"
