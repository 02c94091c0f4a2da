/* Directory notification (fcntl F_NOTIFY, delivered as SIGIO), file leases, F_GETSIG and F_SETOWN_EX/F_GETOWN_EX,
   and pidfd_send_signal to the process itself, whose handler must have run when the call returns. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t io_signals, usr1_signals;
static void on_io(int sig) { (void)sig; io_signals++; }
static void on_usr1(int sig) { (void)sig; usr1_signals++; }

int main(void)
{
    char dir[] = "/tmp/legoemu-dnotify-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    signal(SIGIO, on_io);
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    printf("F_GETSIG=%d\n", fcntl(d, F_GETSIG));
    printf("F_NOTIFY=%d\n", fcntl(d, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    int f = open(path, O_CREAT | O_WRONLY, 0600);
    for (int i = 0; i < 200 && io_signals == 0; i++) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("SIGIO after a create: %d\n", io_signals > 0);
    close(f);

    int r = open(path, O_RDONLY);
    int lease = fcntl(r, F_SETLEASE, F_RDLCK);
    int held = fcntl(r, F_GETLEASE);
    printf("F_SETLEASE read=%d F_GETLEASE=%d\n", lease, held);
    lease = fcntl(r, F_SETLEASE, F_UNLCK);
    held = fcntl(r, F_GETLEASE);
    printf("F_SETLEASE unlock=%d F_GETLEASE=%d\n", lease, held);
    struct f_owner_ex own = {F_OWNER_PID, getpid()}, back = {0, 0};
    int set = fcntl(r, F_SETOWN_EX, &own);
    int get = fcntl(r, F_GETOWN_EX, &back);
    printf("F_SETOWN_EX=%d F_GETOWN_EX=%d type=%d self=%d\n", set, get, back.type, back.pid == getpid());
    close(r);

    signal(SIGUSR1, on_usr1);
    int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
    long sent = syscall(SYS_pidfd_send_signal, self, SIGUSR1, NULL, 0);
    int handled = usr1_signals;
    printf("pidfd_send_signal to itself=%ld, handled on return=%d\n", sent, handled);
    close(self);

    unlink(path);
    close(d);
    rmdir(dir);
    return 0;
}
