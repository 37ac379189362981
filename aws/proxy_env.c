#include "aws/proxy_env.h"

#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Whether |entry| ("NAME=value") is one of |names|. */
static int named(const char *entry, const char *const *names)
{
    for (; *names; names++) {
        size_t n = strlen(*names);
        if (strncmp(entry, *names, n) == 0 && entry[n] == '=')
            return 1;
    }
    return 0;
}

void xb_proxy_env_scan(char *const *envp, struct xb_proxy_env *out)
{
    static const char *const proxy_names[] = {
        "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
    static const char *const no_proxy_names[] = {"no_proxy", "NO_PROXY", NULL};

    out->proxy_vars = 0;
    out->no_proxy_vars = 0;
    for (; envp && *envp; envp++) {
        if (named(*envp, proxy_names))
            out->proxy_vars = 1;
        else if (named(*envp, no_proxy_names))
            out->no_proxy_vars = 1;
    }
}

void xb_proxy_env_opts(const struct xb_proxy_env *env, const char *configured, const char **proxy,
                       const char **noproxy)
{
    if (configured) {
        *proxy = configured;
        *noproxy = (!*configured || !env->no_proxy_vars) ? "" : NULL;
    } else if (!env->proxy_vars) {
        *proxy = "";
        *noproxy = "";
    } else {
        *proxy = NULL;
        *noproxy = NULL;
    }
}

static struct xb_proxy_env process_env;
static pthread_once_t process_once = PTHREAD_ONCE_INIT;

static void scan_process(void)
{
    xb_proxy_env_scan(environ, &process_env);
}

const struct xb_proxy_env *xb_proxy_env_process(void)
{
    pthread_once(&process_once, scan_process);
    return &process_env;
}
