/* The auto-vectorised loops of autovec.c, compiled with -O3 -march=x86-64-v3: gcc's AVX2, FMA and BMI2 code
   (256-bit loops, VEX-encoded scalar floating point, SHLX/SARX, ...) run under --cpu v3. */
#include "autovec.c"
