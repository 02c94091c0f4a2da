/* A hot set plus a cold sweep: of every 20 reads, 19 go to random lines of the first HOT bytes and
   one to the next line of a sweep over the remaining cold bytes. 95 % of the region's reads thus
   fall on the hot set (args: BYTES HOT COUNT). */
#include "common.h"

int main(int argc, char **argv)
{
    size_t bytes = (size_t)arg_or(argc, argv, 1, 8 << 20);
    size_t hot = (size_t)arg_or(argc, argv, 2, 256 << 10);
    long count = arg_or(argc, argv, 3, 400000);
    volatile uint8_t *r = map_region(bytes);
    size_t hot_lines = hot / 64, cold_lines = (bytes - hot) / 64, sweep = 0;
    uint64_t sum = 0;
    for (long n = 0; n < count; n++) {
        if (n % 20 == 19) {
            sum += r[hot + (sweep % cold_lines) * 64];
            sweep++;
        } else {
            sum += r[(next_random() % hot_lines) * 64];
        }
    }
    printf("hotcold %zu hot of %zu bytes, %ld reads: %llu\n", hot, bytes, count, (unsigned long long)sum);
    return 0;
}
