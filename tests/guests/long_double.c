/* long double arithmetic through the x87: results must match the host bit for bit (%La). */
#include <stdio.h>
#include <math.h>
int main(){
  volatile long double a = 1.0L, b = 3.0L, c = 1e-4930L, d = 1e4930L;
  long double x = a/b, y = x*b, z = sqrtl(2.0L), w = a - x*3;
  printf("%.25Lg %.25Lg %.25Lg %La %La\n", x, y, z, w, c*c);
  printf("%Lg %Lg %Lg %La\n", d*d, -d*d, c/3, (a+b)*(a-b)/7);
  for (int i=0;i<20;i++){ long double t=(long double)(i*i+1)/(i+3); printf("%.21Lg ", t*t - sqrtl(t)); } printf("\n");
  long double s=0; for(int i=1;i<=1000;i++) s += 1.0L/i; printf("%.21Lg %ld %d\n", s, (long)(s*1e15L), (int)rintl(s*100));
  return 0;}
