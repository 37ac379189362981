/*
 * tests/fuzz/replay_main.c - runs every file of a corpus directory through
 * xb_fuzz_check() without libFuzzer, so the seed corpus (and any reproducer
 * added to it) is checked by plain `ctest` with any compiler.
 *
 * Usage: fuzz_<target>_replay DIR_OR_FILE...   Exit status 0 when every input passes
 * and the inputs together produced at least one document (a corpus that no longer
 * decodes would otherwise pass without checking anything).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz_common.h"

static int replay_file(const char *path, int *passed, int *failed, size_t *documents)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    char err[512] = "";
    long sz;
    int rc = -1;

    if (!f)
        goto out;
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    data = malloc((size_t)sz + 1);
    if (!data || fread(data, 1, (size_t)sz, f) != (size_t)sz)
        goto out;
    if (xb_fuzz_check(data, (size_t)sz, err, sizeof err, documents) == 0) {
        (*passed)++;
    } else {
        printf("FAIL %s: %s\n", path, err);
        (*failed)++;
    }
    rc = 0;
out:
    if (rc != 0) {
        printf("FAIL %s: cannot read\n", path);
        (*failed)++;
    }
    free(data);
    if (f)
        fclose(f);
    return rc;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    size_t documents = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        struct dirent **names = NULL;
        int n;

        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            replay_file(argv[i], &passed, &failed, &documents);
            continue;
        }
        n = scandir(argv[i], &names, not_hidden, alphasort);
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                replay_file(path, &passed, &failed, &documents);
            free(names[k]);
        }
        free(names);
    }
    printf("%d passed, %d failed (%zu documents checked)\n", passed, failed, documents);
    return failed || passed == 0 || documents == 0 ? 1 : 0;
}
