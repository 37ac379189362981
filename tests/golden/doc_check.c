/*
 * tests/golden/doc_check.c - document invariants shared by the golden runner and the
 * fuzz target. See doc_check.h.
 */
#include "tests/golden/doc_check.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

int xb_doccheck_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Returns 1 when |s| is exactly 16 lowercase hex digits. */
static int is_span_id(const char *s)
{
    if (strlen(s) != 16)
        return 0;
    for (size_t i = 0; i < 16; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

/* Returns the name of a key that occurs twice in any object under |n|, else NULL. */
static const char *duplicate_key(const cJSON *n)
{
    const cJSON *a, *b;
    const char *d;

    if (!cJSON_IsObject(n) && !cJSON_IsArray(n))
        return NULL;
    for (a = n->child; a; a = a->next) {
        if (cJSON_IsObject(n)) {
            for (b = a->next; b; b = b->next) {
                if (a->string && b->string && strcmp(a->string, b->string) == 0)
                    return a->string;
            }
        }
        d = duplicate_key(a);
        if (d)
            return d;
    }
    return NULL;
}

int xb_doccheck_document(const char *json, size_t len, size_t max_bytes, char *err, size_t errlen)
{
    cJSON *doc = NULL;
    const cJSON *f, *type;
    const char *dup;
    static const char *const required_str[] = {"name", "id", "trace_id"};
    static const char *const required_num[] = {"start_time", "end_time"};
    int rc = -1;

    err[0] = '\0';
    if (max_bytes && len > max_bytes) {
        snprintf(err, errlen, "document is %zu bytes, limit %zu", len, max_bytes);
        goto out;
    }
    if (!xb_doccheck_utf8_valid(json, len)) {
        snprintf(err, errlen, "document is not valid UTF-8");
        goto out;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)json[i] < 0x20 && !(json[i] == '\n' && i + 1 == len)) {
            snprintf(err, errlen, "raw control byte 0x%02x at offset %zu", (unsigned char)json[i],
                     i);
            goto out;
        }
    }
    doc = cJSON_ParseWithLength(json, len);
    if (!doc || !cJSON_IsObject(doc)) {
        snprintf(err, errlen, "document does not parse as a JSON object");
        goto out;
    }
    dup = duplicate_key(doc);
    if (dup) {
        snprintf(err, errlen, "duplicate key \"%.64s\"", dup);
        goto out;
    }
    for (size_t i = 0; i < sizeof required_str / sizeof required_str[0]; i++) {
        f = cJSON_GetObjectItemCaseSensitive(doc, required_str[i]);
        if (!cJSON_IsString(f)) {
            snprintf(err, errlen, "required string field \"%s\" missing", required_str[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < sizeof required_num / sizeof required_num[0]; i++) {
        f = cJSON_GetObjectItemCaseSensitive(doc, required_num[i]);
        /* An in-progress document has "in_progress": true instead of end_time. */
        if (strcmp(required_num[i], "end_time") == 0 &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "in_progress"))) {
            if (f) {
                snprintf(err, errlen, "in_progress document has an end_time");
                goto out;
            }
            continue;
        }
        if (!cJSON_IsNumber(f)) {
            snprintf(err, errlen, "required number field \"%s\" missing", required_num[i]);
            goto out;
        }
    }
    f = cJSON_GetObjectItemCaseSensitive(doc, "id");
    if (!is_span_id(f->valuestring)) {
        snprintf(err, errlen, "id \"%.40s\" is not 16 lowercase hex digits", f->valuestring);
        goto out;
    }
    f = cJSON_GetObjectItemCaseSensitive(doc, "trace_id");
    if (strlen(f->valuestring) != 35 || strncmp(f->valuestring, "1-", 2) != 0 ||
        f->valuestring[10] != '-') {
        snprintf(err, errlen, "trace_id \"%.40s\" is not in X-Ray form", f->valuestring);
        goto out;
    }
    type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "subsegment") == 0 &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "parent_id"))) {
        snprintf(err, errlen, "subsegment without parent_id");
        goto out;
    }
    rc = 0;
out:
    cJSON_Delete(doc);
    return rc;
}
