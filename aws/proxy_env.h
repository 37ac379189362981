/*
 * aws/proxy_env.h - the proxy options every libcurl handle of the process gets, decided
 * once from the environment.
 *
 * libcurl (7.88, lib/url.c: create_conn_helper_init_proxy and detect_proxy) looks the
 * proxy environment variables up on every transfer that creates or reuses a connection
 * unless the handle names a proxy (CURLOPT_PROXY) and an exception list
 * (CURLOPT_NOPROXY): "no_proxy", then "NO_PROXY"; then, for an http:// URL,
 * "http_proxy" (the upper-case HTTP_PROXY is never read), for an https:// URL
 * "https_proxy", then "HTTPS_PROXY"; then "all_proxy", then "ALL_PROXY". Names are
 * case-sensitive (getenv). The process never changes its environment, so the answer is
 * the same every time: when no proxy variable is set, CURLOPT_PROXY "" and
 * CURLOPT_NOPROXY "" give the same outcome (no proxy) without the look-ups; when one is
 * set, libcurl is left to read them as before. The proxy used is therefore exactly the
 * one libcurl would choose from the environment: docs/configuration.md
 * (exporters.awsxray.proxy_address) is unchanged.
 */
#ifndef XB_AWS_PROXY_ENV_H
#define XB_AWS_PROXY_ENV_H

/* Which of the variables libcurl reads are present (with any value, even empty). */
struct xb_proxy_env {
    /* http_proxy, https_proxy, HTTPS_PROXY, all_proxy or ALL_PROXY; HTTP_PROXY counts
     * too (libcurl ignores it, so leaving the look-ups to libcurl then changes nothing) */
    int proxy_vars;
    int no_proxy_vars; /* no_proxy or NO_PROXY */
};

/* Fills |*out| from |envp|, a NULL-terminated array of "NAME=value" strings as in
 * environ (NULL = an empty environment). Pure. */
void xb_proxy_env_scan(char *const *envp, struct xb_proxy_env *out);

/*
 * The values of CURLOPT_PROXY and CURLOPT_NOPROXY for a handle whose request names
 * |configured| as its proxy (struct xb_aws_request.proxy: NULL = the environment's,
 * "" = none, else a proxy URL), given the environment |env|. NULL in |*proxy| or
 * |*noproxy| means "leave the option unset". Pure. The outcome (which proxy, if any,
 * a URL goes through) is libcurl's own for every input:
 *   configured ""        -> "", ""    (no proxy either way; no look-ups)
 *   configured URL       -> URL, ""   when no NO_PROXY/no_proxy is set (nothing to exempt)
 *                           URL, NULL otherwise (libcurl applies NO_PROXY)
 *   NULL, no proxy vars  -> "", ""    (libcurl would find no proxy)
 *   NULL, proxy vars set -> NULL, NULL (libcurl reads the environment per transfer)
 */
void xb_proxy_env_opts(const struct xb_proxy_env *env, const char *configured, const char **proxy,
                       const char **noproxy);

/* The scan of this process's environment, done once (thread-safe; the first caller
 * pays, aws/curl_loop.c calls it at start-up). Never NULL. */
const struct xb_proxy_env *xb_proxy_env_process(void);

#endif
