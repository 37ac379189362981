/*
 * tests/fuzz/fuzz_grpc.h - fuzz/replay entry points for the OTLP/gRPC server session
 * (receiver/grpc_session.h): HTTP/2 framing, HPACK, gRPC message framing, stream limits
 * and deadlines, fed from memory.
 *
 * Test-only code. The input follows the client connection preface and an empty SETTINGS
 * frame (added here, so the fuzzer explores frames rather than the preface). The first
 * input byte picks the chunk size the rest is fed in (1..256 bytes); the clock advances
 * 50 ms per chunk, so connection, upload, idle and age deadlines fire during a run.
 */
#ifndef XB_TESTS_FUZZ_FUZZ_GRPC_H
#define XB_TESTS_FUZZ_FUZZ_GRPC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Runs one input through a fresh server session, then frees it. Returns 0 when the
 * invariants held (every in-flight byte given back, no more Export calls than streams
 * opened); -1 otherwise, with a reason in |err| (|errlen| bytes). When |exports| is not
 * NULL, the number of Export messages handed to the ingest hook is added to it.
 */
int xb_fuzz_grpc_one(const uint8_t *data, size_t size, char *err, size_t errlen, size_t *exports);

/* libFuzzer entry point: calls xb_fuzz_grpc_one() and aborts on a violation. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
