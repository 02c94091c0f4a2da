/* Clocks, sleeps and timers on their error paths: bad clock ids, invalid timespecs, EFAULT for bad
   pointers, and itimer/alarm bookkeeping. Times themselves are never printed, only relations. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>
#include "errno_check.h"

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct timespec ts, bad = {0, 1000000000}, neg = {-1, 0}, tiny = {0, 1000};
    T(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));
    T(syscall(SYS_clock_gettime, 12345, &ts));
    T(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD));
    T(syscall(SYS_clock_gettime, CLOCK_REALTIME, RO));
    T(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
    T(syscall(SYS_clock_getres, 12345, &ts));
    T(syscall(SYS_clock_getres, CLOCK_REALTIME, &ts));
    T(ts.tv_sec == 0 && ts.tv_nsec > 0 && ts.tv_nsec <= 1000000);
    T(syscall(SYS_nanosleep, &bad, NULL));
    T(syscall(SYS_nanosleep, &neg, NULL));
    T(syscall(SYS_nanosleep, BAD, NULL));
    T(syscall(SYS_nanosleep, &tiny, NULL));
    T(syscall(SYS_nanosleep, &tiny, BAD));
    T(syscall(SYS_clock_nanosleep, 12345, 0, &tiny, NULL));
    T(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL));
    T(syscall(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, &tiny, NULL));
    T(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, BAD, NULL));
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += 2000000;
    if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
    T(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL));
    T(syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &neg, NULL));
    struct timeval tv;
    T(syscall(SYS_gettimeofday, &tv, NULL));
    T(syscall(SYS_gettimeofday, BAD, NULL));
    T(syscall(SYS_gettimeofday, NULL, NULL));
    T(syscall(SYS_time, BAD) == -1 ? -1 : 0);
    T(time(NULL) > 1600000000);
    struct itimerval it = {{0, 0}, {100, 0}}, old;
    T(setitimer(ITIMER_REAL, &it, NULL));
    T(getitimer(ITIMER_REAL, &old));
    T(old.it_value.tv_sec >= 98 && old.it_value.tv_sec <= 100);
    T(alarm(0) >= 99);
    T(getitimer(ITIMER_REAL, &old));
    T(old.it_value.tv_sec + old.it_value.tv_usec);
    T(setitimer(99, &it, NULL));
    T(getitimer(99, &old));
    T(getitimer(ITIMER_REAL, BAD));
    T(syscall(SYS_setitimer, ITIMER_REAL, BAD, NULL));
    struct itimerval badv = {{0, 0}, {0, 2000000}};
    T(setitimer(ITIMER_REAL, &badv, NULL));
    struct tms t;
    T(times(&t) != (clock_t)-1);
    T(syscall(SYS_times, BAD));
    return 0;
}
