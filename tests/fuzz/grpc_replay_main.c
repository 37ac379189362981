/*
 * tests/fuzz/grpc_replay_main.c - runs every file of a corpus directory through
 * xb_fuzz_grpc_one() without libFuzzer, so the gRPC seed corpus (and any reproducer
 * added to it) is checked by plain `ctest` with any compiler.
 *
 * Usage: fuzz_grpc_replay DIR_OR_FILE...   Exit status 0 when every input passes and
 * the inputs together reached the Export hook at least once (a corpus that no longer
 * gets past the HTTP/2 layer would otherwise pass without checking anything).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz_grpc.h"

static void replay_file(const char *path, int *passed, int *failed, size_t *exports)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    char err[256];
    long sz = -1;

    if (f && fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        data = malloc((size_t)sz + 1);
    if (!data || fread(data, 1, (size_t)sz, f) != (size_t)sz) {
        printf("FAIL %s: cannot read\n", path);
        (*failed)++;
    } else if (xb_fuzz_grpc_one(data, (size_t)sz, err, sizeof(err), exports) != 0) {
        printf("FAIL %s: %s\n", path, err);
        (*failed)++;
    } else {
        (*passed)++;
    }
    free(data);
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    size_t exports = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        struct dirent **names = NULL;
        int n;

        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            replay_file(argv[i], &passed, &failed, &exports);
            continue;
        }
        n = scandir(argv[i], &names, NULL, alphasort);
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
            if (names[k]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
                replay_file(path, &passed, &failed, &exports);
            free(names[k]);
        }
        free(names);
    }
    printf("%d passed, %d failed (%zu Export messages reached the ingest hook)\n", passed, failed,
           exports);
    return failed || passed == 0 || exports == 0 ? 1 : 0;
}
