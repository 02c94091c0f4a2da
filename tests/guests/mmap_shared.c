/* A writable MAP_SHARED file mapping: msync and munmap write the bytes through to the file. */
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
int main(){ const char *p="/tmp/legoemu-mmap-shared.dat"; int fd=open(p,O_RDWR|O_CREAT|O_TRUNC,0644); ftruncate(fd,8192);
 char *m=mmap(0,8192,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0); strcpy(m,"written through mmap"); strcpy(m+5000,"second page");
 msync(m,8192,MS_SYNC); char b[32]={0}; pread(fd,b,20,0); printf("after msync: %s\n",b);
 strcpy(m+100,"before munmap"); munmap(m,8192); memset(b,0,32); pread(fd,b,13,100); printf("after munmap: %s\n",b);
 memset(b,0,32); pread(fd,b,11,5000); printf("page2: %s\n",b); close(fd); unlink(p); return 0;}
