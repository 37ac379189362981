/*
 * app/main.c - command line: xraybridge [--config FILE] [--validate-config]
 * [--help] [--version]. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "app/app.h"
#include "app/budget.h"
#include "config/config.h"
#include "core/err.h"
#include "xb_version.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xraybridge [--config FILE] [--validate-config]\n"
               "\n"
               "Receives OpenTelemetry traces (OTLP gRPC and HTTP) and sends them to AWS X-Ray\n"
               "as segment documents.\n"
               "\n"
               "  -c, --config FILE     YAML configuration (OpenTelemetry Collector layout);\n"
               "                        without it the embedded default is used: OTLP on\n"
               "                        localhost:4317/4318, documents written to\n"
               "                        ./xraybridge-segments.jsonl, no AWS account needed\n"
               "      --validate-config check the configuration and exit (0 = valid)\n"
               "  -h, --help            this text\n"
               "  -v, --version         print the version\n"
               "\n"
               "Configuration reference: docs/configuration.md\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"validate-config", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int validate = 0, c, rc;
    struct xb_config *cfg = NULL;
    char err[1024];

    while ((c = getopt_long(argc, argv, "c:hv", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'V':
            validate = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'v':
            printf("xraybridge %s\n", XB_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "xraybridge: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    rc = path ? xb_config_load_file(path, &cfg, err, sizeof(err))
              : xb_config_load_default(&cfg, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "xraybridge: configuration error: %s\n", err);
        return 2;
    }
    if (validate) {
        struct xb_budget b;
        char line[512];
        xb_budget_compute(cfg, &b);
        printf("xraybridge: configuration %s is valid\n", cfg->source);
        printf("xraybridge: memory budget %s\n", xb_budget_format(&b, line, sizeof(line)));
        xb_config_free(cfg);
        return 0;
    }
    if (!path)
        fprintf(stderr, "xraybridge: no --config given: using the embedded default "
                        "configuration\n");
    rc = xb_app_run(cfg);
    xb_config_free(cfg);
    return rc;
}
