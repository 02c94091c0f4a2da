/* SysV IPC between a parent and its child: a shared memory segment, a semaphore set used as a
   ping-pong and a timed wait, and a message queue with typed messages and a blocking receive. */
#define _GNU_SOURCE
#include "errno_check.h"
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };
struct msg { long type; char text[32]; };

static int sem(int id, int num, int op)
{
    struct sembuf b = { (unsigned short)num, (short)op, 0 };
    return semop(id, &b, 1);
}

int main(void)
{
    /* Shared memory: the child writes through its inherited attachment and through one of its own. */
    int shm = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    T(shm >= 0);
    char *p = shmat(shm, NULL, 0);
    T(p != (void *)-1);
    strcpy(p, "parent");
    struct shmid_ds ds;
    T(shmctl(shm, IPC_STAT, &ds));
    printf("segsz %zu nattch %lu\n", ds.shm_segsz, (unsigned long)ds.shm_nattch);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0)
    {
        struct shmid_ds cds;
        shmctl(shm, IPC_STAT, &cds);
        printf("child sees '%s', nattch %lu\n", p, (unsigned long)cds.shm_nattch);
        char *q = shmat(shm, NULL, SHM_RDONLY);
        strcpy(p + 5000, "child");
        printf("child's own view: '%s'\n", q + 5000);
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("parent sees '%s'\n", p + 5000);
    T(shmget(ftok("/", 'L'), 100, IPC_CREAT | 0600) >= 0 ? 0 : -1);
    T(shmget(ftok("/", 'L'), 100, IPC_CREAT | IPC_EXCL | 0600));
    shmctl(shmget(ftok("/", 'L'), 100, 0), IPC_RMID, NULL);
    T(shmat(-1, NULL, 0) == (void *)-1 ? -1 : 0);
    T(shmat(shm, (void *)12345, 0) == (void *)-1 ? -1 : 0);
    T(shmdt(p + 4096));
    T(shmdt(p));
    T(shmdt(p));
    T(shmctl(shm, IPC_RMID, NULL));
    T(shmctl(shm, IPC_STAT, &ds));

    /* Semaphores: a ping-pong of 200 rounds between the processes, each side blocking on its own. */
    int set = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
    T(set >= 0);
    unsigned short init[2] = { 0, 0 };
    T(semctl(set, 0, SETALL, (union semun){ .array = init }));
    int cseg = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    int *counter = shmat(cseg, NULL, 0);
    shmctl(cseg, IPC_RMID, NULL); /* gone once the last process detaches */
    fflush(stdout);
    c = fork();
    if (c == 0)
    {
        for (int i = 0; i < 200; i++) { sem(set, 0, -1); (*counter)++; sem(set, 1, 1); }
        _exit(0);
    }
    for (int i = 0; i < 200; i++) { sem(set, 0, 1); sem(set, 1, -1); }
    waitpid(c, NULL, 0);
    printf("rounds %d\n", *counter);
    T(semctl(set, 0, SETVAL, (union semun){ .val = 3 }));
    T(semctl(set, 0, GETVAL));
    unsigned short all[2];
    T(semctl(set, 0, GETALL, (union semun){ .array = all }));
    printf("values %d %d\n", all[0], all[1]);
    struct sembuf take = { 1, -1, 0 };
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    T(semtimedop(set, &take, 1, &ts));
    struct sembuf nowait = { 1, -1, IPC_NOWAIT };
    T(semop(set, &nowait, 1));
    T(semop(set, &nowait, 0));
    T(semctl(set, 5, GETVAL));
    T(semctl(set, 0, IPC_RMID));
    T(semctl(set, 0, GETVAL));

    /* A message queue: typed messages, a receive by type, and a receive that waits for the child. */
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    T(q >= 0);
    struct msg m = { 2, "two" };
    T(msgsnd(q, &m, 4, 0));
    m = (struct msg){ 1, "one" };
    T(msgsnd(q, &m, 4, 0));
    struct msqid_ds qs;
    T(msgctl(q, IPC_STAT, &qs));
    printf("qnum %lu\n", (unsigned long)qs.msg_qnum);
    struct msg r = {0};
    T(msgrcv(q, &r, sizeof r.text, 2, 0));
    printf("got %ld '%s'\n", r.type, r.text);
    T(msgrcv(q, &r, 2, 1, 0));
    T(msgrcv(q, &r, sizeof r.text, 1, MSG_NOERROR));
    printf("got %ld '%s'\n", r.type, r.text);
    T(msgrcv(q, &r, sizeof r.text, 0, IPC_NOWAIT));
    fflush(stdout);
    c = fork();
    if (c == 0)
    {
        struct timespec d = { 0, 30 * 1000 * 1000 };
        nanosleep(&d, NULL);
        struct msg late = { 7, "late" };
        msgsnd(q, &late, 5, 0);
        _exit(0);
    }
    T(msgrcv(q, &r, sizeof r.text, 7, 0));
    printf("got %ld '%s'\n", r.type, r.text);
    waitpid(c, NULL, 0);
    T(msgsnd(q, &m, 100000, 0));
    T(msgctl(q, IPC_RMID, NULL));
    T(msgsnd(q, &m, 4, 0));
    return 0;
}
