/*
 * Native baseline of `npm run bench`: a plain byte loop (gcc -O2) that parses Valgrind lackey
 * text into the same structure-of-arrays batches as faultline (kind, address as a double, size),
 * 65,536 records a batch. Plain files are mmapped; gzip files are inflated with zlib in 1 MiB
 * pieces (unless built with -DNO_ZLIB). Prints {"lines","records","cpu","wall"} (seconds; cpu is this process's CPU time).
 * Built by the bench into a temporary directory when a C compiler is found; never committed
 * as a binary.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifndef NO_ZLIB
#include <zlib.h>
#endif

#define CAP 65536
static uint8_t kinds[CAP];
static double addrs[CAP];
static uint32_t sizes[CAP];
static int8_t hexv[256];
static uint64_t check;

/* The consumer: touches the batch so the compiler cannot drop the parse. */
static void flush(size_t n) {
  for (size_t i = 0; i < n; i += 4099) check += kinds[i] + (uint64_t)addrs[i] + sizes[i];
}

static void bad(uint64_t line) {
  fprintf(stderr, "lackey_parse: bad line %llu\n", (unsigned long long)line);
  exit(2);
}

/* Parses the complete lines of [p, end); returns the start of an unfinished last line. */
static const uint8_t *scan(const uint8_t *p, const uint8_t *end, size_t *len, uint64_t *lines,
                           uint64_t *records) {
  size_t n = *len;
  const uint8_t *last = end;
  while (last > p && last[-1] != '\n') last--;
  while (p < last) {
    int kind;
    (*lines)++;
    if (p[0] == 'I') {
      kind = 0;
      p += 1;
    } else if (p[0] == ' ' && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M')) {
      kind = p[1] == 'L' ? 1 : p[1] == 'S' ? 2 : 3;
      p += 2;
    } else if ((p[0] == '=' || p[0] == '-') && p[1] == p[0]) {
      while (*p != '\n') p++;
      p++;
      continue;
    } else {
      bad(*lines);
    }
    if (*p != ' ') bad(*lines);
    while (*p == ' ') p++;
    uint64_t a = 0;
    int d, digits = 0;
    while ((d = hexv[*p]) >= 0) {
      a = a * 16 + d;
      p++;
      digits++;
    }
    if (digits == 0 || digits > 16 || *p != ',') bad(*lines);
    p++;
    uint32_t s = 0;
    while (*p >= '0' && *p <= '9') s = s * 10 + (*p++ - '0');
    if (s < 1 || s > 4096 || *p != '\n') bad(*lines);
    p++;
    kinds[n] = kind;
    addrs[n] = (double)(int64_t)a;
    sizes[n] = s;
    if (++n == CAP) {
      flush(n);
      n = 0;
    }
    (*records)++;
  }
  *len = n;
  return p;
}

static double seconds(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: lackey_parse FILE\n");
    return 2;
  }
  memset(hexv, -1, sizeof hexv);
  for (int c = 0; c < 10; c++) hexv['0' + c] = c;
  for (int c = 0; c < 6; c++) hexv['a' + c] = hexv['A' + c] = 10 + c;
  double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID), w0 = seconds(CLOCK_MONOTONIC);
  uint64_t lines = 0, records = 0;
  size_t len = 0;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    perror(argv[1]);
    return 2;
  }
  uint8_t magic[2] = {0, 0};
  if (read(fd, magic, 2) < 0) return 2;
  if (magic[0] == 0x1f && magic[1] == 0x8b) {
#ifdef NO_ZLIB
    fprintf(stderr, "lackey_parse: built without zlib\n");
    return 3;
#else
    lseek(fd, 0, SEEK_SET);
    gzFile gz = gzdopen(fd, "rb");
    gzbuffer(gz, 1 << 20);
    static uint8_t buf[(1 << 20) + 8192];
    size_t have = 0;
    for (;;) {
      int r = gzread(gz, buf + have, 1 << 20);
      if (r <= 0) break;
      have += r;
      const uint8_t *q = scan(buf, buf + have, &len, &lines, &records);
      have = buf + have - q;
      memmove(buf, q, have);
    }
    gzclose(gz);
#endif
  } else {
    struct stat st;
    fstat(fd, &st);
    const uint8_t *m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (m == MAP_FAILED) {
      perror("mmap");
      return 2;
    }
    scan(m, m + st.st_size, &len, &lines, &records);
    close(fd);
  }
  flush(len);
  printf("{\"lines\":%llu,\"records\":%llu,\"cpu\":%.6f,\"wall\":%.6f,\"check\":%llu}\n",
         (unsigned long long)lines, (unsigned long long)records,
         seconds(CLOCK_PROCESS_CPUTIME_ID) - c0, seconds(CLOCK_MONOTONIC) - w0,
         (unsigned long long)check);
  return 0;
}
