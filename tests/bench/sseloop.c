/* SSE benchmark guest: packed float and integer arithmetic with SSE2 intrinsics. */
#include <emmintrin.h>
#include <stdio.h>
int main(void)
{
    __m128 f = _mm_set_ps(1.0f, 2.0f, 3.0f, 4.0f), g = _mm_set1_ps(1.0000001f);
    __m128i v = _mm_set_epi32(1, 2, 3, 4), w = _mm_set1_epi32(0x01010101);
    for (int i = 0; i < 30000000; i++) {
        f = _mm_add_ps(_mm_mul_ps(f, g), _mm_set1_ps(0.5f));
        f = _mm_min_ps(f, _mm_set1_ps(1e6f));
        v = _mm_add_epi32(_mm_xor_si128(v, w), _mm_srli_epi32(v, 3));
    }
    float out[4];
    int iv[4];
    _mm_storeu_ps(out, f);
    _mm_storeu_si128((__m128i *)iv, v);
    printf("%.3f %.3f %.3f %.3f %d %d %d %d\n", out[0], out[1], out[2], out[3], iv[0], iv[1], iv[2], iv[3]);
    return 0;
}
