/* Kernel-like workloads for validating cost model v2 (host/costs-p6.ts) against a real
 * count: the same source is built to WebAssembly (metered by host/meter.ts with the p6
 * weights) and natively for IA-32 (-m32 -march=pentium3), whose instructions and cache
 * misses valgrind's cachegrind counts with the Coppermine's caches. See run.mjs.
 *
 * Each workload has a device part (what a NIC or disk would have written by DMA) and a
 * kernel part (what the kernel does with it); only the kernel part is measured.
 *   ringwalk   a transmit-completion ring of 512 32-byte descriptors the device wrote:
 *              read each one's status and length, return its buffer, clear it
 *   headers    Ethernet + IPv4 + UDP + stream headers for 256 frames, IPv4 checksum in
 *              software, into 64 header slots (as guest-hitactix/distrib.ts buildHeader)
 *   checksum   the Internet checksum over 32 payloads of 1456 bytes the disk wrote
 *              (the 2002 transmit path's UDP checksum)
 *   tablescan  a pacing tick's walk of a 64-entry stream table (4 KB): what is due
 *   bigscan    the same over 1024 entries (64 KB: past the 16 KB L1, inside the L2)
 * dev_wrote(addr, len) marks what a device wrote (the harness's DMA model);
 * dma_sync_for_cpu(addr, len) is the kernel saying it now reads it (guest-lib/cpu.ts).
 * Natively both do nothing, and where a device wrote (ringwalk, checksum) the caches
 * are swept after it instead, as DMA snooping would leave them (1 MB, four L2s).
 */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(name)))
__attribute__((import_module("env"), import_name("dma_sync_for_cpu"))) void dma_sync_for_cpu(void *addr, u32 len);
__attribute__((import_module("env"), import_name("dev_wrote"))) void dev_wrote(void *addr, u32 len);
#else
#define EXPORT(name)
__attribute__((noinline)) void dma_sync_for_cpu(void *addr, u32 len) { __asm__ volatile("" ::"r"(addr), "r"(len) : "memory"); }
__attribute__((noinline)) void dev_wrote(void *addr, u32 len) { __asm__ volatile("" ::"r"(addr), "r"(len) : "memory"); }
#endif
#define NOINLINE __attribute__((noinline))

static u32 seed = 12345;
static u32 rnd(void) { seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5; return seed; }

/* ---- ringwalk ---- */
#define RING 512
struct desc { u32 addr; u32 len; u32 flags; u32 status; u32 cookie; u32 pad[3]; };
struct desc ring[RING] __attribute__((aligned(32)));
u32 freelist[RING];
u32 nfree, bytesDone, framesDone;

EXPORT("device_ringwalk") NOINLINE void device_ringwalk(void) {
  for (u32 i = 0; i < RING; i++) {
    ring[i].addr = 0x100000 + i * 2048;
    ring[i].len = 60 + (rnd() & 1023);
    ring[i].flags = i;
    ring[i].status = (rnd() & 15) ? 1 : 3; /* done, sometimes with an error bit */
    ring[i].cookie = i * 7;
  }
  dev_wrote(ring, sizeof ring);
}

EXPORT("kernel_ringwalk") NOINLINE void kernel_ringwalk(void) {
  dma_sync_for_cpu(ring, sizeof ring);
  nfree = 0;
  for (u32 i = 0; i < RING; i++) {
    struct desc *d = &ring[i];
    u32 st = d->status;
    if (!(st & 1)) break;
    if (st & 2) framesDone += 0x10000; /* error count in the high half */
    bytesDone += d->len;
    framesDone++;
    freelist[nfree++] = d->cookie;
    d->status = 0;
  }
}

/* ---- headers ---- */
#define HSLOTS 64
u8 hdrpool[HSLOTS * 64] __attribute__((aligned(64)));
u32 hdrNext, ipId, seq;
static inline void be16(u8 *p, u32 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static inline void be32(u8 *p, u32 v) { be16(p, v >> 16); be16(p + 2, v & 0xffff); }

EXPORT("device_headers") NOINLINE void device_headers(void) {}

EXPORT("kernel_headers") NOINLINE void kernel_headers(void) {
  static const u8 dst[6] = {2, 0, 0, 0, 0, 2}, src[6] = {2, 0x48, 0x54, 0x58, 0, 1};
  for (u32 f = 0; f < 256; f++) {
    u8 *h = hdrpool + (hdrNext++ % HSLOTS) * 64;
    for (u32 k = 0; k < 6; k++) { h[k] = dst[k]; h[6 + k] = src[k]; }
    be16(h + 12, 0x0800);
    u8 *ip = h + 14;
    u32 n = 1456, udpLen = 8 + 16 + n;
    ip[0] = 0x45; ip[1] = 0;
    be16(ip + 2, 20 + udpLen);
    be16(ip + 4, ipId++ & 0xffff);
    be16(ip + 6, 0x4000);
    ip[8] = 64; ip[9] = 17;
    be16(ip + 10, 0);
    be32(ip + 12, 0x0a000001);
    be32(ip + 16, 0x0a000002);
    u32 sum = 0;
    for (u32 k = 0; k < 20; k += 2) sum += ((u32)ip[k] << 8) | ip[k + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    be16(ip + 10, ~sum & 0xffff);
    u8 *udp = ip + 20;
    be16(udp, 5000); be16(udp + 2, 6000 + (f & 7)); be16(udp + 4, udpLen); be16(udp + 6, 0);
    u8 *sh = udp + 8;
    be32(sh, f & 7); be32(sh + 4, seq++);
    be32(sh + 8, 0); be32(sh + 12, f * 1456);
  }
}

/* ---- checksum ---- */
#define NPAY 32
#define PAY 1456
u8 payload[NPAY * 1536] __attribute__((aligned(32)));
u32 sums[NPAY];

EXPORT("device_checksum") NOINLINE void device_checksum(void) {
  u32 *w = (u32 *)payload;
  for (u32 i = 0; i < sizeof payload / 4; i++) w[i] = rnd();
  dev_wrote(payload, sizeof payload);
}

/* The sum is taken in the CPU's byte order and swapped once at the end (RFC 1071,
 * 2(B): the one's-complement sum is byte-order independent), as BSD's in_cksum does. */
EXPORT("kernel_checksum") NOINLINE void kernel_checksum(void) {
  for (u32 f = 0; f < NPAY; f++) {
    const u8 *p = payload + f * 1536;
    dma_sync_for_cpu((void *)p, PAY);
    u64 sum = (17 << 8) + (PAY >> 8) + ((PAY & 0xff) << 8); /* protocol, length: swapped */
    const u32 *w = (const u32 *)p;
    for (u32 k = 0; k < PAY / 4; k++) sum += w[k];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
    u32 c = ~(u32)sum & 0xffff;
    sums[f] = ((c >> 8) | (c << 8)) & 0xffff;
  }
}

/* ---- tablescan / bigscan ---- */
struct stream { u32 inUse; u32 sendSlot; u32 sendLen; u32 sendOff; u32 startLo; u32 startHi; u32 due; u32 pad[9]; };
#define BIG 1024
struct stream table[BIG] __attribute__((aligned(64)));
u32 tnow;

EXPORT("device_tablescan") NOINLINE void device_tablescan(void) {
  for (u32 i = 0; i < BIG; i++) {
    table[i].inUse = (rnd() & 7) != 0;
    table[i].sendSlot = rnd() % 3;
    table[i].sendLen = 140800;
    table[i].sendOff = rnd() % 140800;
    table[i].startLo = 0; table[i].startHi = 0;
  }
  tnow = 100000000;
}
EXPORT("device_bigscan") NOINLINE void device_bigscan(void) { device_tablescan(); }

static inline void scan(u32 n) {
  for (u32 r = 0; r < 8; r++) { /* eight pacing ticks */
    tnow += 1000000;
    for (u32 i = 0; i < n; i++) {
      struct stream *s = &table[i];
      if (!s->inUse || s->sendSlot > 2) continue;
      u32 elapsed = tnow - s->startLo;
      u32 due = elapsed >= 256000000 ? s->sendLen : (((s->sendLen >> 8) * (elapsed >> 12)) / 62500) << 8;
      if (due > s->sendOff) { s->due += due - s->sendOff; s->sendOff += (due - s->sendOff) & ~1023u; }
    }
  }
}
EXPORT("kernel_tablescan") NOINLINE void kernel_tablescan(void) { scan(64); }
EXPORT("kernel_bigscan") NOINLINE void kernel_bigscan(void) { scan(BIG); }

#ifndef __wasm__
/* Native: a freestanding IA-32 program (no libc): run one workload ITER times, each
 * device part followed by a cache sweep, as DMA would leave the caches. */
static u8 sweep[1 << 20];
volatile u32 sink; /* keeps the results alive */
NOINLINE void evict(void) {
  for (u32 i = 0; i < sizeof sweep; i += 32) sweep[i]++;
}
#ifndef ITER
#define ITER 50
#endif
int main(void) {
  for (int i = 0; i < ITER; i++) {
    WDEV();
#ifdef EVICT
    evict(); /* the device wrote by DMA: the CPU's copies are gone */
#endif
    WKER();
  }
  sink = bytesDone + sums[3] + hdrpool[17] + table[5].due + freelist[3] + nfree + framesDone;
  return 0;
}
void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
__asm__(".globl _start\n_start:\n call main\n mov %eax, %ebx\n mov $1, %eax\n int $0x80\n");
#endif
