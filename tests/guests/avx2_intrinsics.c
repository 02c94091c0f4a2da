/* AVX2 integer intrinsics (built with -mavx2, so the SSE ones are VEX.128 too): lane-wise compares, min/max,
   add/sub, logic and PSHUFB on 256 and 128 bits, VPMOVMSKB, VPTEST, broadcasts, 128-bit inserts and
   extracts, VMOVD/VMOVQ, unaligned and aligned loads and stores. Seeded random inputs, results in hex. */
#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void){ rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27; return rng * 2685821657736338717ULL; }
static void p256(const char *t, __m256i v){ uint64_t q[4]; memcpy(q,&v,32); printf("%s %016llx%016llx%016llx%016llx\n", t,(unsigned long long)q[3],(unsigned long long)q[2],(unsigned long long)q[1],(unsigned long long)q[0]); }
static void p128(const char *t, __m128i v){ uint64_t q[2]; memcpy(q,&v,16); printf("%s %016llx%016llx\n", t,(unsigned long long)q[1],(unsigned long long)q[0]); }
static uint8_t mem[256] __attribute__((aligned(32)));
int main(void){
  for (int k=0;k<256;k++) mem[k]=(uint8_t)rnd();
  for (int n=0;n<200;n++){
    __m256i a=_mm256_set_epi64x(rnd(),rnd(),rnd(),rnd()), b=_mm256_set_epi64x(rnd(),rnd(),rnd(),rnd());
    if (n%5==0) b=a; if (n%7==0) b=_mm256_xor_si256(a,_mm256_set1_epi8((char)0x80));
    p256("cmpeqb",_mm256_cmpeq_epi8(a,b)); p256("cmpeqd",_mm256_cmpeq_epi32(a,b)); p256("cmpgtb",_mm256_cmpgt_epi8(a,b));
    p256("cmpgtq",_mm256_cmpgt_epi64(a,b)); p256("minub",_mm256_min_epu8(a,b)); p256("minud",_mm256_min_epu32(a,b));
    p256("maxsw",_mm256_max_epi16(a,b)); p256("addb",_mm256_add_epi8(a,b)); p256("subq",_mm256_sub_epi64(a,b));
    p256("and",_mm256_and_si256(a,b)); p256("andn",_mm256_andnot_si256(a,b)); p256("or",_mm256_or_si256(a,b)); p256("xor",_mm256_xor_si256(a,b));
    p256("shufb",_mm256_shuffle_epi8(a,b));
    printf("movemask %08x testz %d testc %d\n", _mm256_movemask_epi8(a), _mm256_testz_si256(a,b), _mm256_testc_si256(a,b));
    __m128i x=_mm256_castsi256_si128(a), y=_mm256_extracti128_si256(b,1);
    p128("cmpeqb128",_mm_cmpeq_epi8(x,y)); p128("minub128",_mm_min_epu8(x,y)); p128("hi",y);
    p256("ins",_mm256_inserti128_si256(a,y,1)); p256("ins0",_mm256_inserti128_si256(a,y,0));
    p256("bcb",_mm256_set1_epi8((char)mem[n])); p256("bcd",_mm256_broadcastd_epi32(x)); p256("bcq",_mm256_broadcastq_epi64(x));
    p128("bcb128",_mm_broadcastb_epi8(y));
    __m256i m=_mm256_loadu_si256((const __m256i*)(mem+(n%200))); p256("loadu",m);
    p256("addm",_mm256_add_epi32(a,_mm256_loadu_si256((const __m256i*)(mem+(n%190)))));
    _mm256_storeu_si256((__m256i*)(mem+(n%220)), _mm256_xor_si256(m,a));
    _mm256_store_si256((__m256i*)(mem+32*(n%7)), b);
    printf("cvt %d %lld\n", _mm_cvtsi128_si32(x), (long long)_mm_cvtsi128_si64(y));
    p128("set", _mm_cvtsi64_si128((long long)rnd())); p128("set32", _mm_cvtsi32_si128((int)rnd()));
  }
  uint64_t h=0; for(int k=0;k<256;k++) h=h*131+mem[k]; printf("mem %llx\n",(unsigned long long)h);
  return 0;
}
