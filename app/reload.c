#include "app/reload.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"

#define MAX_HASHED_BYTES (4u * 1024 * 1024)

static const char *const result_values[2] = {"success", "failure"};
static const struct xb_metric_label result_label = {"result", result_values, 2};
static uint64_t v_reloads[2];
static struct xb_metric_family m_reloads = {
    .name = "xraybridge_config_reloads_total",
    .help = "Configuration reloads (SIGHUP or file change) by outcome",
    .labels = &result_label,
    .n_labels = 1,
    .values = v_reloads};

void xb_reload_metrics_register(void)
{
    xb_metrics_register(&m_reloads);
}

struct xb_reload {
    char *path;
    struct event *timer;
    xb_reload_apply_cb apply;
    void *ud;
    /* identity and content of the file as last seen */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    uint64_t hash;
};

/* FNV-1a 64 of the file's content; 0 when it cannot be read. */
static uint64_t file_hash(const char *path)
{
    unsigned char buf[8192];
    uint64_t h = 14695981039346656037ull;
    size_t n, total = 0;
    FILE *f = fopen(path, "rb");

    if (!f)
        return 0;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && total < MAX_HASHED_BYTES) {
        total += n;
        for (size_t i = 0; i < n; i++) {
            h ^= buf[i];
            h *= 1099511628211ull;
        }
    }
    fclose(f);
    return h;
}

static void remember(struct xb_reload *r, const struct stat *st)
{
    r->dev = st->st_dev;
    r->ino = st->st_ino;
    r->size = st->st_size;
    r->mtime = st->st_mtim;
}

static int load(struct xb_reload *r, const char *why)
{
    struct xb_config *cfg = NULL;
    char err[512] = "";
    int rc = xb_config_load_file(r->path, &cfg, err, sizeof(err));

    if (rc != XB_OK) {
        v_reloads[1]++;
        XB_ERROR("reload", "%s: configuration refused, the running one stays: %s", why,
                 err[0] ? err : xb_strerror(rc));
        return rc;
    }
    r->apply(r->ud, cfg);
    xb_config_free(cfg);
    v_reloads[0]++;
    XB_INFO("reload", "%s: configuration %s reloaded", why, r->path);
    return XB_OK;
}

int xb_reload_now(struct xb_reload *r, const char *why)
{
    struct stat st;

    if (!r)
        return XB_ERR_INVALID;
    if (stat(r->path, &st) == 0)
        remember(r, &st);
    r->hash = file_hash(r->path);
    return load(r, why);
}

int xb_reload_check(struct xb_reload *r)
{
    struct stat st;
    uint64_t h;

    if (stat(r->path, &st) != 0)
        return 0; /* gone for a moment (a ConfigMap swap): look again next time */
    if (st.st_dev == r->dev && st.st_ino == r->ino && st.st_size == r->size &&
        st.st_mtim.tv_sec == r->mtime.tv_sec && st.st_mtim.tv_nsec == r->mtime.tv_nsec)
        return 0;
    remember(r, &st);
    h = file_hash(r->path);
    if (h == r->hash)
        return 0; /* touched, same content */
    r->hash = h;
    load(r, "file change");
    return 1;
}

static void on_poll(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    xb_reload_check(ud);
}

struct xb_reload *xb_reload_new(struct event_base *base, const char *path, uint32_t poll_ms,
                                xb_reload_apply_cb apply, void *ud)
{
    struct xb_reload *r;
    struct stat st;

    xb_reload_metrics_register();
    r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(path)))
        goto fail;
    r->apply = apply;
    r->ud = ud;
    if (stat(path, &st) == 0)
        remember(r, &st);
    r->hash = file_hash(path);
    if (poll_ms && base) {
        struct timeval tv = {poll_ms / 1000, (poll_ms % 1000) * 1000};
        r->timer = event_new(base, -1, EV_PERSIST, on_poll, r);
        if (!r->timer || event_add(r->timer, &tv))
            goto fail;
    }
    return r;
fail:
    xb_reload_free(r);
    return NULL;
}

void xb_reload_free(struct xb_reload *r)
{
    if (!r)
        return;
    if (r->timer)
        event_free(r->timer);
    free(r->path);
    free(r);
}
