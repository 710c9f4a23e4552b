// HiTactix tunables (xv6's param.h): every number a user may want to change, in one place.

import { HTX_MAX_STREAMS, HTX_DEFAULT_STREAMS, HTX_RING_SLOTS } from "../common/platform";

/** Period of the distribution thread and of the cyclic disk I/O schedule (paper: 256 ms). */
export const PERIOD_NS: u64 = 256000000;
/** Largest piece a non-real-time request is split into (paper: at most 128 KB). */
export const NRT_SPLIT_BYTES: u32 = 131072;
/** Disks the stream file system spans. */
export const NDISK: u32 = 3;
/** Requests a disk may have outstanding in the RT phase (tagged queueing). */
export const RT_DEPTH: u32 = 2;
/** Requests a disk may have outstanding in the NRT phase: 1, so that "after each
 *  small write completes, the thread checks whether it is time for the next reads". */
export const NRT_DEPTH: u32 = 1;
/** Block requests in the pool (all queues together). */
export const NREQ: u32 = 1024;
export const SECTOR: u32 = 512;
/** Streams the distribution table holds unless the boot parameter BOOT_HTX_NSTREAM
 *  says otherwise, and the most it may say (common/platform.ts says why 512). */
export const NSTREAM_DEFAULT: u32 = HTX_DEFAULT_STREAMS;
export const NSTREAM_MAX: u32 = HTX_MAX_STREAMS;
/** Ring buffer slots per stream, each one chunk (one period) long: one being read,
 *  one being sent, one spare so the disk never overwrites what the NIC still reads. */
export const RING_SLOTS: u32 = HTX_RING_SLOTS;
/** Pacing tick of the sender within a period: frames due are sent every tick. */
export const SEND_TICK_NS: u64 = 1000000;
/** UDP payload bytes of stream data per frame (1500-byte IP packet: 1472 UDP payload,
 *  of which 16 are the stream header). */
export const FRAME_DATA: u32 = 1456;
/** Frame headers (Ethernet 14 + IP 20 + UDP 8 + stream header 16), one per TX slot. */
export const HDR_BYTES: u32 = 58;
export const HDR_SLOTS: u32 = 512;
