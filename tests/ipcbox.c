/* A container's IPC for the tests: a System V segment (key 0x5EED4242, attached, holding the
   tag given), a message queue holding the tag, /dev/shm/same-name holding the tag and a POSIX
   queue /same-queue holding it; then it waits until stdin ends, and after that forever (until
   the container is removed). */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/msg.h>
#include <mqueue.h>
int main(int argc, char **argv) {
    const char *tag = argc > 1 ? argv[1] : "box";
    int shmid = shmget(0x5EED4242, 4096, IPC_CREAT | IPC_EXCL | 0600);
    if (shmid < 0) { perror("shmget"); return 1; }
    char *p = shmat(shmid, NULL, 0);
    strcpy(p, tag);
    int fd = open("/dev/shm/same-name", O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0) { perror("open"); return 1; }
    write(fd, tag, strlen(tag)); close(fd);
    int msqid = msgget(0x5EED4243, IPC_CREAT | IPC_EXCL | 0600);
    struct { long mtype; char text[64]; } message = { 1, "" };
    strncpy(message.text, tag, sizeof message.text - 1);
    if (msqid < 0 || msgsnd(msqid, &message, strlen(message.text), 0) < 0) {
        perror("msg"); return 1;
    }
    struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 64 };
    mqd_t mq = mq_open("/same-queue", O_CREAT | O_EXCL | O_WRONLY, 0600, &attr);
    if (mq == (mqd_t)-1 || mq_send(mq, tag, strlen(tag), 0) < 0) { perror("mq"); return 1; }
    printf("ready %d\n", shmid); fflush(stdout);
    char c; while (read(0, &c, 1) > 0) {}
    pause();
    return 0;
}
