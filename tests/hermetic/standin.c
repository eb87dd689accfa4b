/*
 * Stand-in for a Kubernetes binary inside a hermetic test node.
 *
 * As a daemon (the default) it sleeps until signalled, so that the kernel
 * shows a process whose comm is the real component name and whose argv is
 * exactly what the node spec asked for.
 *
 * When asked for its version (any argument "--version" or "version") it
 * prints the content of "<its own path>.version", or "<its own path>.version.json"
 * when an argument mentions "json" (kubectl version -o json), and exits 0.
 * Any other invocation of a command-line stand-in (marked by "<its own path>.cli")
 * prints an error and exits 1 instead of sleeping.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void on_term(int sig) {
    (void)sig;
    _exit(0);
}

static int print_file(const char *path) {
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n;
    if (f == NULL) {
        return -1;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv) {
    int want_version = 0, want_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "version") == 0) {
            want_version = 1;
        }
        if (strstr(argv[i], "json") != NULL) {
            want_json = 1;
        }
    }
    if (want_version) {
        char exe[4096];
        char path[4200];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n < 0) {
            return 2;
        }
        exe[n] = '\0';
        snprintf(path, sizeof path, "%s%s", exe, want_json ? ".version.json" : ".version");
        if (print_file(path) == 0) {
            return 0;
        }
        snprintf(path, sizeof path, "%s.version", exe);
        if (print_file(path) == 0) {
            return 0;
        }
        fprintf(stderr, "%s: no version configured for this stand-in\n", argv[0]);
        return 1;
    }
    {
        char exe[4096];
        char path[4200];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n >= 0) {
            exe[n] = '\0';
            snprintf(path, sizeof path, "%s.cli", exe);
            if (access(path, F_OK) == 0) {
                fprintf(stderr, "error: %s stand-in only answers version queries\n", argv[0]);
                return 1;
            }
        }
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    for (;;) {
        pause();
    }
}
