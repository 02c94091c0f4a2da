/* /proc/self/environ is the environment the image started with, and /proc/self/limits shows the limits set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void show_environ(const char *who)
{
    FILE *f = fopen("/proc/self/environ", "r");
    if (!f) { printf("%s: no environ\n", who); return; }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    printf("%s environ:", who);
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1) printf(" [%s]", buf + i);
    printf("\n");
}

static void show_limits(const char *who)
{
    FILE *f = fopen("/proc/self/limits", "r");
    if (!f) { printf("%s: no limits\n", who); return; }
    char line[256];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Limit ", 6) || !strncmp(line, "Max data size", 13) || !strncmp(line, "Max stack size", 14)
            || !strncmp(line, "Max address space", 17) || !strncmp(line, "Max open files", 14))
            printf("%s| %s", who, line);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        /* A known environment, whatever this run was started with. */
        char *args[] = { argv[0], "again", 0 };
        char *env[] = { "ALPHA=1", "BETA=two words", "EMPTY=", 0 };
        execve("/proc/self/exe", args, env);
        perror("execve");
        return 1;
    }
    setenv("LATER", "not in environ", 1);
    show_environ("main");
    /* Only lowered (raising a hard limit needs privileges), the stack's hard limit kept. */
    struct rlimit as = { 1UL << 30, 2UL << 30 }, data = { 512UL << 20, 1UL << 30 }, stack, files = { 100, 200 };
    getrlimit(RLIMIT_STACK, &stack);
    stack.rlim_cur = 4UL << 20;
    if (setrlimit(RLIMIT_AS, &as) || setrlimit(RLIMIT_DATA, &data) || setrlimit(RLIMIT_STACK, &stack) || setrlimit(RLIMIT_NOFILE, &files))
        perror("setrlimit");
    show_limits("main");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        show_environ("child");
        show_limits("child");
        return 0;
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", WEXITSTATUS(status));
    return 0;
}
